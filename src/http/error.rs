//! Error responses with Mailpit's status codes and bodies (contract §0.3):
//! bare `text/plain` messages, except on the send endpoint, which answers
//! `{"Error": "..."}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    /// `400` with the bare message.
    BadRequest(String),
    /// `404 page not found`: an unknown ID or path.
    NotFound,
    /// `404 Message not found`: `latest` found nothing.
    MessageNotFound,
    /// A `404` with a specific message (e.g. a view of a message without HTML).
    NotFoundWith(&'static str),
    /// `400 {"Error": ...}` from `POST /api/v1/send`.
    Send(String),
    /// `413 {"Error": "http: request body too large"}` from the send endpoint.
    SendTooLarge,
    /// `503 {"Error": ...}` with `Retry-After`: too many sends in flight.
    SendBusy,
    /// The store could not do it: `507` when out of space, else `503`.
    Store(StoreError),
    /// A bug on our side; never caused by input.
    Internal,
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Store(error)
    }
}

impl ApiError {
    /// A view's "not found" is Mailpit's `Message not found`; a store
    /// failure stays what it is.
    pub fn or_message_not_found(self) -> ApiError {
        match self {
            ApiError::Store(_) => self,
            _ => ApiError::MessageNotFound,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(message.into())
    }
}

/// A `text/plain` response with Mailpit's content type.
pub fn plain(status: StatusCode, body: impl Into<String>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The `ok` that every successful mutation answers.
pub fn ok() -> Response {
    plain(StatusCode::OK, "ok")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(message) => plain(StatusCode::BAD_REQUEST, message),
            ApiError::NotFound => plain(StatusCode::NOT_FOUND, "404 page not found"),
            ApiError::MessageNotFound => plain(StatusCode::NOT_FOUND, "Message not found"),
            ApiError::NotFoundWith(message) => plain(StatusCode::NOT_FOUND, message),
            ApiError::Send(message) => send_error(StatusCode::BAD_REQUEST, &message),
            ApiError::SendTooLarge => send_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "http: request body too large",
            ),
            ApiError::SendBusy => {
                let mut response = send_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many messages being sent at once, retry later",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            ApiError::Store(error @ StoreError::Full(_)) => {
                plain(StatusCode::INSUFFICIENT_STORAGE, error.to_string())
            }
            ApiError::Store(error) => plain(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
            ApiError::Internal => plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        }
    }
}

fn send_error(status: StatusCode, message: &str) -> Response {
    #[derive(serde::Serialize)]
    struct SendError<'a> {
        #[serde(rename = "Error")]
        error: &'a str,
    }
    let mut response = super::json::GoJson(SendError { error: message }).into_response();
    *response.status_mut() = status;
    response
}
