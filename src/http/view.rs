//! `/view/{ID}.html`, `/view/{ID}.txt` and `/view/latest` (contract §2.3),
//! plus the SPA's own `/view/{ID}` page, which shares the path segment.
//!
//! The HTML view is served under a sandboxing Content-Security-Policy with
//! `nosniff`, so a message's scripts never run on our origin, and with its
//! `cid:` references pointing at the part endpoint.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use super::access::Access;
use super::error::{ApiError, plain};
use super::params::Params;
use super::safe_download::add_content_headers;
use crate::store::detail::Detail;

/// One handler for the whole `/view/{segment}` space, since routes cannot
/// match on a suffix.
pub async fn view(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(segment): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    if let Some(id) = segment.strip_suffix(".html") {
        return html(&state, &access, id, &params).await;
    }
    if let Some(id) = segment.strip_suffix(".txt") {
        return text(&state, &access, id, &params).await;
    }
    if segment == "latest" {
        return Ok(latest(&state, &access, &params).await);
    }
    if super::ui::is_spa_view(&segment) {
        return Ok(super::ui::spa_index(&access, &state.app.settings.webroot).await);
    }
    Err(ApiError::NotFound)
}

async fn html(
    state: &HttpState,
    access: &Access,
    id: &str,
    params: &Params,
) -> Result<Response, ApiError> {
    let message = state
        .resolve(access, id, params)
        .await
        .map_err(ApiError::or_message_not_found)?;
    let detail = state.detail(&message).await?;
    if detail.html.is_empty() {
        return Err(ApiError::NotFoundWith(
            "This message does not contain a HTML part",
        ));
    }
    // The page itself is under the webroot: links in it must be too.
    let webroot = state.app.settings.webroot.as_str().trim_end_matches('/');
    let root = format!("{webroot}{}", access.root());
    let mut html = rewrite_cid_references(&detail, &root, message.id());
    if params.get("embed").map(String::as_str) == Some("1") {
        html = open_links_in_new_tab(&html);
    }
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    add_content_headers(headers);
    Ok(response)
}

async fn text(
    state: &HttpState,
    access: &Access,
    id: &str,
    params: &Params,
) -> Result<Response, ApiError> {
    let message = state
        .resolve(access, id, params)
        .await
        .map_err(ApiError::or_message_not_found)?;
    let detail = state.detail(&message).await?;
    let mut response = plain(StatusCode::OK, detail.text.clone());
    add_content_headers(response.headers_mut());
    Ok(response)
}

/// `302` to the newest (matching) message's UI page, or to the mailbox.
/// Inside a mailbox, the location stays under its root.
async fn latest(state: &HttpState, access: &Access, params: &Params) -> Response {
    let location = match state.resolve(access, "latest", params).await {
        Ok(message) => format!("{}/view/{}", access.root(), message.id()),
        Err(_) => format!("{}/", access.root()),
    };
    // IDs and mailbox names are URL-safe, so the location is always a valid
    // header value.
    let location = HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Points `cid:` references at `/api/v1/message/{ID}/part/{PartID}` under
/// `root` (a mailbox's, or the server's: empty); references to unknown
/// Content-IDs are left alone.
pub fn rewrite_cid_references(detail: &Detail, root: &str, id: &str) -> String {
    let html = &detail.html;
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(at) = find_ascii_case_insensitive(rest, "cid:") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let reference = &after[4..];
        let end = reference
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | ')' | '<'))
            .unwrap_or(reference.len());
        let content_id = &reference[..end];
        match detail.part_by_content_id(content_id) {
            Some(part) => {
                let part_id = &part.info.part_id;
                out.push_str(&format!("{root}/api/v1/message/{id}/part/{part_id}"));
            }
            None => {
                out.push_str(&after[..4 + end]);
            }
        }
        rest = &reference[end..];
    }
    out.push_str(rest);
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// `embed=1`: links open in a new tab without a referrer. Mailpit also adds
/// a height-reporting script; our content policy allows no script, so the
/// UI sizes the frame itself.
fn open_links_in_new_tab(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = find_ascii_case_insensitive(rest, "<a ") {
        out.push_str(&rest[..at + 3]);
        out.push_str("target=\"_blank\" rel=\"noreferrer noopener\" ");
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::detail::PartDetail;
    use crate::store::parts::{PartInfo, PartRole};

    fn detail_with_logo(html: &str) -> Detail {
        Detail {
            html: html.into(),
            parts: vec![PartDetail {
                info: PartInfo {
                    part_id: "3".into(),
                    file_name: "logo.png".into(),
                    content_type: "image/png".into(),
                    content_id: "logo@x".into(),
                    size: 1,
                    role: PartRole::Inline,
                },
                md5: String::new(),
                sha1: String::new(),
                sha256: String::new(),
            }],
            ..Detail::default()
        }
    }

    #[test]
    fn rewrites_known_cid_references_only() {
        let detail = detail_with_logo(r#"<img src="CID:logo@x"><img src='cid:other'>"#);
        assert_eq!(
            rewrite_cid_references(&detail, "", "ID"),
            r#"<img src="/api/v1/message/ID/part/3"><img src='cid:other'>"#
        );
    }

    #[test]
    fn embed_targets_links() {
        assert_eq!(
            open_links_in_new_tab(r#"<p><a href="x">x</a></p>"#),
            r#"<p><a target="_blank" rel="noreferrer noopener" href="x">x</a></p>"#
        );
    }
}
