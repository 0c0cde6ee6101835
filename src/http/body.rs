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
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    serde_json::from_value(lowercase_keys(value, verbatim)).map_err(|e| e.to_string())
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
    fn bad_bodies_are_errors_not_panics() {
        assert_eq!(decode::<Request>(b"", &[]).unwrap_err(), "EOF");
        assert!(decode::<Request>(b"ids=1&ids=2", &[]).is_err());
        assert!(decode::<Request>(br#"{"read": "yes"}"#, &[]).is_err());
        assert!(decode::<Request>(b"[1,2]", &[]).is_err());
    }
}
