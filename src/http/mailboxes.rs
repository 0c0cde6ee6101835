//! Managing mailboxes: `GET`/`POST /api/mailcatch/v1/mailboxes` and
//! `DELETE /api/mailcatch/v1/mailboxes/{name}`.
//!
//! A listing shows only what the requester may see; creating needs an
//! administrator (or no UI accounts at all); deleting a mailbox needs the
//! right to see it, and its token when it is private and no account
//! covers it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use super::access::{Access, Role};
use super::body::{JsonBody, decode};
use super::error::{ApiError, ok, plain};
use super::json::{GoJson, timestamp};
use super::{HttpState, Route, routed};
use crate::app::{CreateError, NewMailbox};
use crate::store::{Counts, canonical_name};

pub fn router() -> Router<Arc<HttpState>> {
    routed(table())
}

pub fn table() -> Vec<Route> {
    vec![
        ("/api/mailcatch/v1/mailboxes", Method::GET, get(list)),
        ("/api/mailcatch/v1/mailboxes", Method::POST, post(create)),
        (
            "/api/mailcatch/v1/mailboxes/{name}",
            Method::DELETE,
            delete(remove),
        ),
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MailboxView {
    name: String,
    total: usize,
    unread: usize,
    /// Bytes held, as counted against the store's byte cap.
    size: u64,
    private: bool,
    expires: Option<String>,
}

/// `GET /api/mailcatch/v1/mailboxes`: every mailbox the requester may see,
/// by name, with its totals.
async fn list(State(state): State<Arc<HttpState>>, access: Access) -> Result<Response, ApiError> {
    let store = &state.app.store;
    let counts = store.mailbox_counts().await?;
    let views: Vec<MailboxView> = store
        .mailboxes()
        .into_iter()
        .filter(|mailbox| access.may_see(mailbox))
        .map(|mailbox| {
            let totals = counts
                .get(&mailbox.name)
                .copied()
                .unwrap_or(Counts::default());
            MailboxView {
                name: mailbox.name.to_string(),
                total: totals.total,
                unread: totals.unread,
                size: totals.bytes,
                private: mailbox.private,
                expires: mailbox.expires.map(timestamp),
            }
        })
        .collect();
    Ok(GoJson(views).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "lowercase")]
struct CreateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    ttl: Option<serde_json::Value>,
    #[serde(default)]
    private: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatedView {
    name: String,
    #[serde(rename = "URL")]
    url: String,
    #[serde(rename = "SMTPUsername")]
    smtp_username: String,
    #[serde(rename = "SMTPPassword")]
    smtp_password: String,
    token: String,
    expires: Option<String>,
}

/// `POST /api/mailcatch/v1/mailboxes {Name?, TTL?, Private?}`: `201` with
/// the mailbox's URL, SMTP credentials and API token.
async fn create(
    State(state): State<Arc<HttpState>>,
    access: Access,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    if !access.may_manage() {
        return Ok(plain(
            StatusCode::FORBIDDEN,
            "This account may not create mailboxes.\n",
        ));
    }
    let request: CreateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateRequest::default()
    } else {
        decode(&body, &[]).map_err(ApiError::BadRequest)?
    };
    let ttl = match request.ttl {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(Duration::from_secs(value.as_u64().ok_or_else(|| {
            ApiError::bad_request("TTL must be a whole number of seconds")
        })?)),
    };
    let new = NewMailbox {
        name: request.name.filter(|n| !n.trim().is_empty()),
        ttl,
        private: request.private,
    };
    let created = match state.app.create_mailbox(new).await {
        Ok(created) => created,
        Err(CreateError::Exists(name)) => {
            let text = format!("mailbox {name} already exists");
            return Ok(plain(StatusCode::CONFLICT, text));
        }
        Err(CreateError::TooMany(limit)) => {
            let text = format!("too many mailboxes (--max-mailboxes {limit})");
            return Ok(plain(StatusCode::INSUFFICIENT_STORAGE, text));
        }
        Err(CreateError::Store(error)) => return Err(error.into()),
        Err(invalid) => return Err(ApiError::BadRequest(invalid.to_string())),
    };
    let name = created.mailbox.name.to_string();
    let view = CreatedView {
        url: format!(
            "{}/mailbox/{name}/",
            state.app.settings.webroot.as_str().trim_end_matches('/')
        ),
        smtp_username: name.clone(),
        smtp_password: created.smtp_password,
        token: created.token,
        expires: created.mailbox.expires.map(timestamp),
        name,
    };
    let mut response = GoJson(view).into_response();
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `DELETE /api/mailcatch/v1/mailboxes/{name}`: the mailbox and its mail.
async fn remove(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || plain(StatusCode::NOT_FOUND, "mailbox not found");
    let Some(name) = canonical_name(&name) else {
        return Ok(not_found());
    };
    let Some(mailbox) = state.app.store.mailbox(&name) else {
        return Ok(not_found());
    };
    if !access.may_see(&mailbox) {
        // A private mailbox's token holder came through its own root.
        return Ok(match access.role {
            Role::Limited(_) => plain(StatusCode::FORBIDDEN, "This account may not see it.\n"),
            _ if mailbox.private => plain(StatusCode::UNAUTHORIZED, "Unauthorized.\n"),
            _ => not_found(),
        });
    }
    if !state.app.delete_mailbox(&name).await? {
        return Ok(not_found());
    }
    Ok(ok())
}
