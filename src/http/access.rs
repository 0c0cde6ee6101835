//! Who may see what: the `/mailbox/{name}/` roots, the UI accounts and the
//! mailbox tokens, decided once per request as an [`Access`].
//!
//! Each mailbox is a complete Mailpit at `/mailbox/{name}/`. Rather than a
//! second copy of every route, [`strip_mailbox_prefix`] runs before
//! routing, takes the prefix off the path and leaves a [`MailboxPrefix`]
//! behind; [`authorize`] then turns the prefix and the credentials into
//! the [`Scope`] every handler narrows the store to. A request without an
//! `Access` never reaches a handler that reads mail.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;

use super::HttpState;
use super::error::plain;
use crate::credentials::Credentials;
use crate::store::{Event, Mailbox, Scope, Store, canonical_name};

/// The mailbox a request's `/mailbox/{name}` prefix named, as given.
#[derive(Clone, Debug)]
pub struct MailboxPrefix(pub String);

/// What a request may see, decided by [`authorize`].
#[derive(Clone, Debug)]
pub struct Access {
    /// The mailboxes it sees.
    pub scope: Scope,
    /// The mailbox whose root it came through (canonical), if any.
    pub mailbox: Option<Arc<str>>,
    /// Who is asking.
    pub role: Role,
}

/// Who is asking, as far as mailboxes go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A UI account without a mailbox list: sees everything.
    Admin,
    /// A UI account limited to some mailboxes.
    Limited(Vec<String>),
    /// Nobody in particular (no UI accounts are configured): sees every
    /// mailbox but the private ones.
    Anonymous,
    /// Someone holding the token of the mailbox they came through.
    MailboxToken,
}

impl Access {
    /// The path the request's root is at: empty for the server's,
    /// `/mailbox/{name}` inside a mailbox.
    pub fn root(&self) -> String {
        match &self.mailbox {
            Some(name) => format!("/mailbox/{name}"),
            None => String::new(),
        }
    }

    /// Whether the requester may manage every mailbox (create, delete any).
    pub fn may_manage(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Anonymous)
    }

    /// Whether a live-feed client with this access gets `event`. Checked
    /// per event, against the mailboxes as they are now, so a private
    /// mailbox made after the client connected stays hidden from it.
    pub fn sees(&self, store: &Store, event: &Event) -> bool {
        let Some(mailbox) = event.mailbox() else {
            // SMTP diagnostics are for the whole server; refetch hints for all.
            return !matches!(event, Event::SmtpError { .. }) || self.mailbox.is_none();
        };
        if let Some(own) = &self.mailbox {
            return **own == *mailbox;
        }
        match &self.role {
            Role::Admin => true,
            Role::Limited(names) => names.iter().any(|n| n == mailbox),
            Role::Anonymous | Role::MailboxToken => {
                store.mailbox(mailbox).is_none_or(|m| !m.private)
            }
        }
    }

    /// Whether the requester may see mailbox `mailbox` in listings.
    pub fn may_see(&self, mailbox: &Mailbox) -> bool {
        match &self.role {
            Role::Admin => true,
            Role::Limited(names) => names.iter().any(|n| **n == *mailbox.name),
            Role::Anonymous => !mailbox.private,
            Role::MailboxToken => self.mailbox.as_deref() == Some(&*mailbox.name),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Fails closed: a route outside `authorize` reads nothing.
        parts.extensions.get::<Access>().cloned().ok_or_else(|| {
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Access was not decided.\n",
            )
        })
    }
}

/// The name an authenticated request was made under; the send API records
/// it as the message's `Username`.
#[derive(Clone, Debug)]
pub struct AuthUser(pub String);

/// Middleware around the whole router: `/mailbox/{name}/rest` is routed as
/// `/rest` with a [`MailboxPrefix`]; `/mailbox/{name}` redirects to the
/// root with its slash, so the UI's relative paths resolve.
pub async fn strip_mailbox_prefix(mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix("/mailbox/") else {
        return next.run(request).await;
    };
    let (name, tail) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => {
            let target = format!("{path}/");
            return Redirect::permanent(&target).into_response();
        }
    };
    let prefix = MailboxPrefix(name.to_string());
    let tail = match request.uri().query() {
        Some(query) => format!("{tail}?{query}"),
        None => tail.to_string(),
    };
    match tail.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "Invalid path.\n"),
    }
    request.extensions_mut().insert(prefix);
    next.run(request).await
}

/// Middleware: decides the request's [`Access`], or answers 400 (invalid
/// mailbox name), 401 (credentials needed), 403 (an account not allowed
/// that mailbox) or 404 (no such mailbox).
pub async fn authorize(
    State(state): State<Arc<HttpState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let settings = &state.app.settings;
    if request.method() == Method::OPTIONS && settings.cors.is_enabled() {
        return next.run(request).await;
    }
    let account = settings
        .http_credentials
        .as_ref()
        .and_then(|credentials| account(credentials, request.headers()));
    let prefix = request.extensions().get::<MailboxPrefix>().cloned();
    let decided = match prefix {
        None => root_access(&state, account.as_ref()),
        Some(MailboxPrefix(name)) => mailbox_access(&state, &request, account.as_ref(), &name),
    };
    match decided {
        Ok(access) => {
            if let Some((user, _)) = account {
                request.extensions_mut().insert(AuthUser(user));
            }
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Why a request is turned away before any handler runs.
#[derive(Debug)]
enum Refusal {
    /// `400`: the mailbox name in the path is not one.
    InvalidName(String),
    /// `401`: credentials for this realm are needed.
    Unauthorized(String),
    /// `403`: an account not allowed this mailbox.
    Forbidden(String),
    /// `404`: no such mailbox.
    NoMailbox(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::InvalidName(given) => plain(
                StatusCode::BAD_REQUEST,
                format!("Invalid mailbox name {given:?}.\n"),
            ),
            Refusal::Unauthorized(realm) => unauthorized(&realm),
            Refusal::Forbidden(name) => plain(
                StatusCode::FORBIDDEN,
                format!("This account may not see mailbox {name}.\n"),
            ),
            Refusal::NoMailbox(name) => plain(
                StatusCode::NOT_FOUND,
                format!("Mailbox {name} not found.\n"),
            ),
        }
    }
}

/// A UI account from basic auth: its name and its mailbox list (empty for
/// an administrator).
fn account(credentials: &Credentials, headers: &HeaderMap) -> Option<(String, Vec<String>)> {
    let (user, password) = basic_credentials(headers)?;
    let mailboxes = credentials.mailboxes_of(&user, &password)?.to_vec();
    Some((user, mailboxes))
}

fn role_of(account: Option<&(String, Vec<String>)>) -> Role {
    match account {
        Some((_, list)) if list.is_empty() => Role::Admin,
        Some((_, list)) => Role::Limited(list.clone()),
        None => Role::Anonymous,
    }
}

fn root_access(
    state: &HttpState,
    account: Option<&(String, Vec<String>)>,
) -> Result<Access, Refusal> {
    let store = &state.app.store;
    let role = role_of(account);
    let scope = match &role {
        Role::Admin => Scope::All,
        Role::Limited(names) => Scope::Only(names.iter().map(|n| Arc::from(&**n)).collect()),
        _ if state.app.settings.http_credentials.is_some() => {
            return Err(Refusal::Unauthorized("Login".into()));
        }
        _ => store.public_scope(),
    };
    Ok(Access {
        scope,
        mailbox: None,
        role,
    })
}

fn mailbox_access(
    state: &HttpState,
    request: &Request,
    account: Option<&(String, Vec<String>)>,
    given: &str,
) -> Result<Access, Refusal> {
    let Some(name) = canonical_name(given) else {
        return Err(Refusal::InvalidName(given.to_string()));
    };
    let mailbox = state.app.store.mailbox(&name);
    let has_token = mailbox
        .as_ref()
        .is_some_and(|m| presents_token(request.headers(), m));
    let mut role = role_of(account);
    if has_token && role != Role::Admin {
        role = Role::MailboxToken;
    }
    let private = mailbox.as_ref().is_some_and(|m| m.private);
    let allowed = match &role {
        Role::Admin | Role::MailboxToken => true,
        Role::Limited(names) if names.contains(&name) => true,
        Role::Limited(_) => return Err(Refusal::Forbidden(name)),
        Role::Anonymous => state.app.settings.http_credentials.is_none() && !private,
    };
    if !allowed {
        return Err(Refusal::Unauthorized(format!("mailbox {name}")));
    }
    // Sending to a mailbox that does not exist yet makes it, as SMTP does.
    let sends = request.method() == Method::POST && request.uri().path() == "/api/v1/send";
    if mailbox.is_none() && !sends {
        return Err(Refusal::NoMailbox(name));
    }
    let name: Arc<str> = Arc::from(name);
    Ok(Access {
        scope: Scope::one(name.clone()),
        mailbox: Some(name),
        role,
    })
}

/// Whether the request carries `mailbox`'s token: `Authorization: Bearer
/// TOKEN`, or basic auth with the mailbox's name and the token.
fn presents_token(headers: &HeaderMap, mailbox: &Mailbox) -> bool {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(token) = value.and_then(|v| v.strip_prefix("Bearer ")) {
        return mailbox.token_matches(token.trim());
    }
    basic_credentials(headers)
        .is_some_and(|(user, token)| user == *mailbox.name && mailbox.token_matches(&token))
}

/// The user and password of a basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn unauthorized(realm: &str) -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, "Unauthorized.\n");
    if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> HeaderMap {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_pass);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        headers
    }

    #[test]
    fn accounts_and_their_mailboxes() {
        let credentials = Credentials::parse("alice:secret bob:pa:ci-1,ci-2");
        let check = |user_pass: &str| account(&credentials, &basic(user_pass));
        assert_eq!(check("alice:secret"), Some(("alice".into(), vec![])));
        assert_eq!(
            check("bob:pa"),
            Some(("bob".into(), vec!["ci-1".into(), "ci-2".into()]))
        );
        assert_eq!(check("alice:wrong"), None);
        assert_eq!(check("alice"), None);
        assert_eq!(account(&credentials, &HeaderMap::new()), None);
    }

    #[test]
    fn tokens_by_bearer_or_basic() {
        let mut mailbox = Mailbox::plain("ci-1");
        mailbox.token_digest = Some(crate::store::mailbox::token_digest("tok"));
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tok"),
        );
        assert!(presents_token(&bearer, &mailbox));
        assert!(presents_token(&basic("ci-1:tok"), &mailbox));
        assert!(!presents_token(&basic("ci-2:tok"), &mailbox));
        assert!(!presents_token(&basic("ci-1:nope"), &mailbox));
        assert!(!presents_token(&HeaderMap::new(), &mailbox));
    }
}
