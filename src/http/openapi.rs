//! The OpenAPI 3 description of what this server answers (Mailpit's,
//! mailcatch's and MailHog's APIs), at `/api/v1/openapi.json` and, under
//! Mailpit's name, `/api/v1/swagger.json`. A unit test checks it against the
//! route lists the routers are built from, and an integration test
//! (`api_openapi`) calls every operation it lists and checks the JSON
//! answers against its schemas.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{HttpState, Route, routed};

/// The document, kept as JSON so it reads like what clients fetch.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn routes() -> Router<Arc<HttpState>> {
    routed(table())
}

pub fn table() -> Vec<Route> {
    vec![
        ("/api/v1/openapi.json", Method::GET, get(document)),
        ("/api/v1/swagger.json", Method::GET, get(document)),
    ]
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
    use super::super::{api, deliveries, envelope, extract, mailboxes, mailhog, metrics, wait};
    use super::*;

    /// A path with its parameters' names left out: the router names them
    /// for handlers (`{id}`), the document for readers (`{ID}`).
    fn shape(path: &str) -> String {
        let mut shaped = String::new();
        let mut in_parameter = false;
        for c in path.chars() {
            match c {
                '{' => in_parameter = true,
                '}' => {
                    in_parameter = false;
                    shaped.push_str("{}");
                }
                _ if !in_parameter => shaped.push(c),
                _ => {}
            }
        }
        shaped
    }

    /// Every `(path shape, METHOD)` of every router built from a route
    /// list: Mailpit's, MailHog's and mailcatch's own APIs.
    fn served() -> Vec<(String, String)> {
        [
            api::table(1, 1),
            mailhog::table(1),
            mailboxes::table(),
            deliveries::table(),
            extract::table(),
            envelope::table(),
            wait::table(),
            metrics::table(),
            table(),
        ]
        .into_iter()
        .flatten()
        .map(|(path, method, _)| (shape(path), method.to_string()))
        .collect()
    }

    fn documented() -> Vec<(String, String)> {
        operations()
            .into_iter()
            .map(|(path, method)| (shape(&path), method))
            .collect()
    }

    #[test]
    fn document_is_valid_json_with_version() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert!(!operations().is_empty());
    }

    #[test]
    fn every_route_is_documented() {
        let documented = documented();
        for (path, method) in served() {
            assert!(
                documented.contains(&(path.clone(), method.clone())),
                "{method} {path} is served but not in openapi.json"
            );
        }
    }

    /// The other way round for the route lists; `/api/events`, `/view/*`
    /// and the probes are routed directly (the integration test calls them).
    #[test]
    fn every_documented_api_operation_is_routed() {
        let served = served();
        for (path, method) in documented() {
            let listed = path.starts_with("/api/") || path == "/metrics";
            if listed && path != "/api/events" {
                assert!(
                    served.contains(&(path.clone(), method.clone())),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }

    /// Every `$ref` names a schema the document has.
    #[test]
    fn every_reference_resolves() {
        fn walk(value: &serde_json::Value, doc: &serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                        let pointer = target.trim_start_matches('#');
                        assert!(doc.pointer(pointer).is_some(), "{target} is missing");
                    }
                    map.values().for_each(|v| walk(v, doc));
                }
                serde_json::Value::Array(list) => list.iter().for_each(|v| walk(v, doc)),
                _ => {}
            }
        }
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        walk(&doc, &doc);
    }
}
