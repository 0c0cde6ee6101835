//! Request bodies: size-capped, and JSON decoded the way Go's `json.Decode`
//! does it, so that `{"IDs": ..}`, `{"ids": ..}` and `{"Ids": ..}` all work
//! (contract §0.2). Unknown keys are ignored.
//!
//! Request structs declare their fields in lower case
//! (`#[serde(rename_all = "lowercase")]`); [`decode`] lower-cases the object
//! keys of the parsed document before deserializing into them. Objects that
//! are maps of user data (the send API's `Headers`) keep their keys.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::ApiError;

/// A request body within the JSON cap (`--max-json-body`, set on the API
/// router with `DefaultBodyLimit`). Over the cap: `400 http: request body
/// too large`, as Mailpit answers.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(JsonBody)
            .map_err(|_| ApiError::bad_request("http: request body too large"))
    }
}

/// A send-API body within the message size cap. Over it: `413` with JSON.
pub struct SendBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for SendBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(SendBody)
            .map_err(|_| ApiError::SendTooLarge)
    }
}

/// Decodes a JSON body with case-insensitive keys. `verbatim` names (in
/// lower case) the keys whose object values are user maps, not structs.
/// An empty body fails with `EOF`, as Go's decoder does.
pub fn decode<T: DeserializeOwned>(body: &[u8], verbatim: &[&str]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("EOF".into());
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => form_as_json(body).ok_or_else(|| error.to_string())?,
    };
    serde_json::from_value(lowercase_keys(value, verbatim)).map_err(|e| e.to_string())
}

/// Reads a form-encoded body (`ids=a&ids=b&Read=True`, as the PyPI
/// `mailpit-api-client` sends) as the equivalent JSON object. Mailpit fails
/// such a PUT and deletes *everything* on such a DELETE; taking the client
/// at its word is the cleaner superset.
fn form_as_json(body: &[u8]) -> Option<Value> {
    if !body.contains(&b'=') || body.first() == Some(&b'{') {
        return None;
    }
    let mut map = Map::new();
    for (key, value) in form_urlencoded::parse(body) {
        let key = key.to_lowercase();
        let value = match value.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(value.into_owned()),
        };
        if matches!(key.as_str(), "ids" | "tags") {
            let list = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = list {
                items.push(value);
            }
        } else {
            map.insert(key, value);
        }
    }
    Some(Value::Object(map))
}

fn lowercase_keys(value: Value, verbatim: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let key = key.to_lowercase();
                    let value = if verbatim.contains(&key.as_str()) {
                        value
                    } else {
                        lowercase_keys(value, verbatim)
                    };
                    (key, value)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| lowercase_keys(item, verbatim))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    struct Request {
        ids: Option<Vec<String>>,
        read: Option<bool>,
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
    }

    #[test]
    fn keys_match_case_insensitively_and_unknown_keys_are_ignored() {
        let parsed: Request = decode(
            br#"{"IDs": ["a"], "READ": true, "Other": 1, "Headers": {"X-Foo": "1"}}"#,
            &["headers"],
        )
        .unwrap();
        assert_eq!(parsed.ids, Some(vec!["a".to_string()]));
        assert_eq!(parsed.read, Some(true));
        assert!(parsed.headers.contains_key("X-Foo"));
    }

    #[test]
    fn form_bodies_read_as_json() {
        let parsed: Request = decode(b"ids=a%20b&ids=c&Read=True", &[]).unwrap();
        assert_eq!(parsed.ids, Some(vec!["a b".to_string(), "c".to_string()]));
        assert_eq!(parsed.read, Some(true));
    }

    #[test]
    fn bad_bodies_are_errors_not_panics() {
        assert_eq!(decode::<Request>(b"", &[]).unwrap_err(), "EOF");
        assert!(decode::<Request>(b"not json", &[]).is_err());
        assert!(decode::<Request>(br#"{"read": "yes"}"#, &[]).is_err());
        assert!(decode::<Request>(b"[1,2]", &[]).is_err());
    }
}
