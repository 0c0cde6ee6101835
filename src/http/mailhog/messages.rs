//! MailHog's message routes: the v2 list and search, and the v1 message,
//! delete, download, part download and release.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::content::{Content, parameter};
use super::json;
use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::body::JsonBody;
use crate::http::error::ApiError;
use crate::http::json::GoJson;
use crate::http::params::Params;
use crate::http::safe_download;
use crate::outbound::{Auth, RelayTarget};
use crate::store::detail::PartContent;
use crate::store::parts::{PartInfo, PartRole};
use crate::store::{Literal, Query as SearchQuery, Selection, StoredMessage};

/// MailHog's default page size, and the most it returns at once.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 250;

/// A page stops growing once its messages hold this many raw bytes (it
/// always has at least one): every item carries its whole message, several
/// times over, so 250 large messages could otherwise take gigabytes.
const PAGE_BYTES: usize = 32 * 1024 * 1024;

/// `start` and `limit` as MailHog reads them: only positive integers count,
/// anything else is the default; `limit` is capped at 250.
fn start_limit(params: &Params) -> (usize, usize) {
    let positive = |name: &str| {
        params
            .get(name)
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    let start = positive("start").unwrap_or(0);
    let limit = positive("limit").unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    (start, limit)
}

/// `GET /api/v2/messages?start&limit`: newest first.
pub async fn list(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let (start, limit) = start_limit(&params);
    let page = state.store(&access).list(start, limit, None).await?;
    let total = state.store(&access).counts().await?.total;
    list_response(&state, total, start, &page.messages).await
}

/// `GET /api/v2/search?kind=from|to|containing&query&start&limit`. The
/// query is plain text, matched case-insensitively: `from` in the From
/// header, `to` in any recipient (To, Cc, Bcc and envelope recipients),
/// `containing` in the headers, decoded body text and file names.
pub async fn search(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let kind = match params.get("kind").map(String::as_str) {
        Some("from") => Literal::From,
        Some("to") => Literal::Recipient,
        Some("containing") => Literal::Text,
        _ => {
            return Err(ApiError::bad_request(
                "kind must be one of from, to, containing",
            ));
        }
    };
    let text = params.get("query").map(String::as_str).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::bad_request("query must not be empty"));
    }
    let (start, limit) = start_limit(&params);
    let Some(query) = SearchQuery::literal(kind, text) else {
        // Nothing searchable (only punctuation): nothing matches.
        return list_response(&state, 0, start, &[]).await;
    };
    let page = state.store(&access).search(&query, start, limit).await?;
    list_response(&state, page.matched, start, &page.messages).await
}

async fn list_response(
    state: &HttpState,
    total: usize,
    start: usize,
    messages: &[Arc<StoredMessage>],
) -> Result<Response, ApiError> {
    let mut items = Vec::with_capacity(messages.len());
    let mut bytes = 0usize;
    for message in messages {
        if !items.is_empty() && bytes.saturating_add(message.size()) > PAGE_BYTES {
            break;
        }
        bytes = bytes.saturating_add(message.size());
        items.push(super::rendered(state, message, false).await?);
    }
    Ok(json_response(json::list(total, start, &items)))
}

fn json_response(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn find(
    state: &HttpState,
    access: &Access,
    id: &str,
) -> Result<Arc<StoredMessage>, ApiError> {
    state.store(access).get(id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/v1/messages/{id}`: one message. An unknown ID is a 404 (MailHog
/// answers `null` or an error, depending on its storage).
pub async fn message(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let message = find(&state, &access, &id).await?;
    Ok(json_response(
        super::rendered(&state, &message, false).await?,
    ))
}

/// `DELETE /api/v1/messages/{id}`: `200` with an empty body, as MailHog
/// answers (its npm client parses any non-empty body as JSON).
pub async fn delete(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let message = find(&state, &access, &id).await?;
    let ids = [message.id().to_string()];
    state.store(&access).delete(Selection::Ids(&ids)).await?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /api/v1/messages/{id}/download`: the message as received, as an
/// `.eml` attachment (MailHog rebuilds it from its parsed headers; the
/// original bytes are what that approximates).
pub async fn download(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let message = find(&state, &access, &id).await?;
    let raw = state.app.store.raw(&message).await?;
    let mut response = Body::from(raw).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("message/rfc822"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        safe_download::content_disposition("attachment", &format!("{}.eml", message.id())),
    );
    safe_download::add_content_headers(headers);
    Ok(response)
}

/// `GET /api/v1/messages/{id}/mime/part/{index}/download`: entry `index`
/// of the message's top-level `MIME.Parts`, decoded from base64 or
/// quoted-printable, served as an attachment like every part mailcatch
/// serves (so it can never run script on this origin).
pub async fn part(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path((id, index)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let index: usize = index.parse().map_err(|_| ApiError::NotFound)?;
    let message = find(&state, &access, &id).await?;
    let content = state
        .read_raw(&message, move |message, raw| {
            let data = String::from_utf8_lossy(json::data(&raw));
            part_content(message.id(), &data, index)
        })
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(safe_download::part_response(content))
}

fn part_content(id: &str, data: &str, index: usize) -> Option<PartContent> {
    let content = Content::parse(data);
    let part = content.mime?.parts.into_iter().nth(index)?;
    let content_type = part.header("Content-Type").unwrap_or("text/plain");
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let file_name = part
        .header("Content-Disposition")
        .and_then(|d| parameter(d, "filename"))
        .or_else(|| parameter(content_type, "name"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{id}-part-{index}"));
    let encoding = part
        .header("Content-Transfer-Encoding")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let body = part.body.as_bytes();
    let data = match encoding.as_str() {
        "base64" => mail_parser::decoders::base64::base64_decode(body),
        "quoted-printable" => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
        }
        _ => None,
    }
    .unwrap_or_else(|| body.to_vec());
    Some(PartContent {
        info: PartInfo {
            part_id: index.to_string(),
            file_name,
            content_type: if media_type.is_empty() {
                "application/octet-stream".into()
            } else {
                media_type.to_string()
            },
            content_id: String::new(),
            size: data.len(),
            role: PartRole::Attachment,
        },
        data,
    })
}

/// `POST /api/v1/messages/{id}/release`: MailHog's release, to one address
/// through the server the body names (`Host`, `Port`, optional `Username`,
/// `Password`, `Mechanism` PLAIN, LOGIN or CRAM-MD5). It goes through the outbound
/// queue like Mailpit's, so it needs a relay configured
/// (`--smtp-relay-config`): an API must not open SMTP connections to
/// arbitrary hosts on a server that never asked for relaying. Answers at
/// once with an empty `200`; errors are `{"Error": ...}` (the npm client
/// parses any body as JSON).
pub async fn release(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Response {
    match queue_release(&state, &access, &id, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err((status, error)) => {
            #[derive(serde::Serialize)]
            struct Refusal {
                #[serde(rename = "Error")]
                error: String,
            }
            let mut response = GoJson(Refusal { error }).into_response();
            *response.status_mut() = status;
            response
        }
    }
}

#[derive(serde::Deserialize)]
struct ReleaseConfig {
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: serde_json::Value,
    #[serde(default)]
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    mechanism: String,
}

async fn queue_release(
    state: &HttpState,
    access: &Access,
    id: &str,
    body: &[u8],
) -> Result<(), (StatusCode, String)> {
    let bad = |e: String| (StatusCode::BAD_REQUEST, e);
    let message = find(state, access, id)
        .await
        .map_err(|_| (StatusCode::NOT_FOUND, "message not found".to_string()))?;
    let config: ReleaseConfig = crate::http::body::decode(body, &[]).map_err(bad)?;
    let port = match &config.port {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .and_then(|p| u16::try_from(p).ok())
    .filter(|p| *p > 0)
    .ok_or_else(|| bad("Port must be a port number".into()))?;
    if config.host.trim().is_empty() {
        return Err(bad("Host is required".into()));
    }
    let login = match config.mechanism.to_ascii_uppercase().as_str() {
        _ if config.username.is_empty() => Auth::None,
        "" | "PLAIN" => Auth::Plain {
            username: config.username,
            password: config.password,
        },
        "LOGIN" => Auth::Login {
            username: config.username,
            password: config.password,
        },
        "CRAM-MD5" => Auth::CramMd5 {
            username: config.username,
            secret: config.password,
        },
        other => {
            return Err(bad(format!(
                "unsupported Mechanism {other:?}: use PLAIN, LOGIN or CRAM-MD5"
            )));
        }
    };
    let target = RelayTarget::adhoc(config.host.trim().to_string(), port, login);
    let raw = state
        .app
        .store
        .raw(&message)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    state
        .app
        .outbound
        .release_to(&message, raw, config.email, target)
        .await
        .map_err(|e| match e {
            crate::outbound::ReleaseError::Store(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            e => bad(e.to_string()),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_and_limit_like_mailhog() {
        let params = |pairs: &[(&str, &str)]| -> Params {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(start_limit(&params(&[])), (0, 50));
        assert_eq!(
            start_limit(&params(&[("start", "-3"), ("limit", "0")])),
            (0, 50)
        );
        assert_eq!(
            start_limit(&params(&[("start", "2"), ("limit", "9999")])),
            (2, 250)
        );
        assert_eq!(start_limit(&params(&[("limit", "x")])), (0, 50));
    }

    #[test]
    fn parts_decode_and_are_named() {
        let data = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";
        let first = part_content("ID", data, 0).unwrap();
        assert_eq!(first.data, b"hi");
        assert_eq!(first.info.file_name, "ID-part-0");
        let second = part_content("ID", data, 1).unwrap();
        assert_eq!(second.data, b"hello");
        assert_eq!(second.info.file_name, "r.pdf");
        assert_eq!(second.info.content_type, "application/pdf");
        assert!(part_content("ID", data, 3).is_none());
        assert!(part_content("ID", "Subject: x\r\n\r\nbody", 0).is_none());
    }
}
