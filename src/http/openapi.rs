//! The OpenAPI 3 description of what this server answers, at
//! `/api/v1/openapi.json` and, under Mailpit's name, `/api/v1/swagger.json`.
//! A unit test checks it against the router's route table, and an
//! integration test calls every operation it lists.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::HttpState;

/// The document, kept as JSON so it reads like what clients fetch.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn routes() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/api/v1/openapi.json", get(document))
        .route("/api/v1/swagger.json", get(document))
}

async fn document() -> Response {
    let mut response = DOCUMENT.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Every `(path, METHOD)` operation the document lists (the tests hold the
/// router to it).
#[cfg(test)]
fn operations() -> Vec<(String, String)> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(DOCUMENT) else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "options"] {
                if item.get(method).is_some() {
                    operations.push((path.clone(), method.to_ascii_uppercase()));
                }
            }
        }
    }
    operations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_valid_json_with_version() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert!(!operations().is_empty());
    }

    #[test]
    fn every_api_route_is_documented() {
        let documented = operations();
        for (path, method, _) in super::super::api::table(1, 1) {
            assert!(
                documented.contains(&(path.to_string(), method.to_string())),
                "{method} {path} is served but not in openapi.json"
            );
        }
        for (path, method) in &documented {
            if path.starts_with("/api/v1/") && !path.ends_with(".json") {
                assert!(
                    super::super::api::table(1, 1)
                        .iter()
                        .any(|(p, m, _)| p == path && m.as_str() == method),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
}
