//! The served OpenAPI document against the server: every operation it
//! lists is called with real IDs (a message, its parts, a created mailbox,
//! a delivery to a relay that refuses connections), every status the server
//! answers must be documented, and every JSON answer must match the
//! document's schema for it ([`schema`]). A unit test in src/http/openapi.rs
//! checks the other way: every route the routers are built from is
//! documented.

mod calls;
mod schema;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::api_support::{Api, common};
use calls::{Call, fixtures, server};

/// Every `(METHOD, path)` the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method != "parameters" {
                operations.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    operations
}

/// Sends one call; returns what went wrong, if anything.
async fn run(api: &Api, doc: &Value, c: &Call) -> Vec<String> {
    let name = format!("{} {}", c.method, c.path);
    let mut request = api.client.request(c.method.clone(), api.url(&c.path));
    if c.status == 101 {
        request = request
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    }
    if let Some(body) = &c.body {
        request = request
            .header("content-type", "application/json")
            .body(body.clone());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let media_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_string())
        .unwrap_or_default();
    let operation = &doc["paths"][c.template][c.method.as_str().to_ascii_lowercase()];
    let documented = &operation["responses"][status.to_string()];
    if status != c.status {
        let body = response.text().await.unwrap_or_default();
        return vec![format!("{name}: {status} (wanted {}): {body}", c.status)];
    }
    if documented.is_null() {
        return vec![format!("{name}: status {status} is not documented")];
    }
    let schema = &documented["content"]["application/json"]["schema"];
    match (schema.is_null(), media_type == "application/json") {
        (true, false) => Vec::new(),
        (true, true) => vec![format!(
            "{name}: answers JSON, documented as {}",
            documented["content"]
        )],
        (false, false) => vec![format!(
            "{name}: answers {media_type:?}, documented as JSON"
        )],
        (false, true) => {
            let body: Value = response.json().await.unwrap();
            schema::violations(doc, schema, &body)
                .into_iter()
                .map(|v| format!("{name}: {v}"))
                .collect()
        }
    }
}

#[tokio::test]
async fn openapi_document_matches_the_server() {
    let closed_port = common::free_port();
    let api = server(closed_port).await;
    let f = fixtures(&api, closed_port).await;
    let doc = api.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc, api.get_json("/api/v1/swagger.json").await);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let calls = calls::calls(&f);
    let called: BTreeSet<_> = calls
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_string()))
        .collect();
    let documented = operations(&doc);
    let uncalled: Vec<_> = documented.difference(&called).collect();
    let undocumented: Vec<_> = called.difference(&documented).collect();
    assert!(
        uncalled.is_empty(),
        "documented but not called here: {uncalled:?}"
    );
    assert!(
        undocumented.is_empty(),
        "called but not documented: {undocumented:?}"
    );

    let mut problems = Vec::new();
    for c in &calls {
        problems.extend(run(&api, &doc, c).await);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    api.shutdown().await;
}
