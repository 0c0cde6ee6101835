//! Serving content from messages without letting it attack the UI origin.
//!
//! Mail is attacker-controlled. A part served as `text/html`, SVG, XML or
//! JavaScript from our origin could run script with access to the API, so:
//! - only types a browser renders inertly (raster images, plain text, audio,
//!   video, PDF) are served `inline`; everything else is an `attachment`;
//! - every part carries `X-Content-Type-Options: nosniff` and a sandboxing
//!   Content-Security-Policy, so even a mislabelled part cannot script;
//! - the file name is reduced to characters that cannot break out of the
//!   header (no quotes, CR/LF, or path separators).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::store::detail::PartContent;

/// The policy for message content we serve: no script, no plugins, no
/// forms, nothing loaded from elsewhere except our own part URLs and inline
/// data, and styles only from the document itself.
pub const CONTENT_POLICY: &str = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src 'self' data:; \
style-src 'unsafe-inline'; font-src data:; media-src 'self' data:; form-action 'none'; \
frame-ancestors 'self'; base-uri 'none'";

/// Adds the headers every piece of message content gets.
pub fn add_content_headers(headers: &mut HeaderMap) {
    add_security_headers(headers, CONTENT_POLICY);
}

/// The headers every page and piece of content gets: its Content-Security-
/// Policy, no MIME sniffing, and no Referer leaking message URLs.
pub fn add_security_headers(headers: &mut HeaderMap, policy: &'static str) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

pub fn part_response(content: PartContent) -> Response {
    let media_type = content.info.content_type.to_ascii_lowercase();
    let content_type = if media_type.starts_with("text/") {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.clone()
    };
    let disposition_type = if renders_inertly(&media_type) {
        "inline"
    } else {
        "attachment"
    };
    let fallback_name = format!("part-{}", content.info.part_id);
    let name = if content.info.file_name.is_empty() {
        &fallback_name
    } else {
        &content.info.file_name
    };
    let mut response = Body::from(content.data).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(disposition_type, name),
    );
    add_content_headers(headers);
    response
}

/// Types a browser displays without running anything embedded in them.
fn renders_inertly(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/png"
            | "image/jpeg"
            | "image/jpg"
            | "image/gif"
            | "image/webp"
            | "image/bmp"
            | "image/avif"
            | "image/x-icon"
            | "image/vnd.microsoft.icon"
            | "text/plain"
            | "application/pdf"
    ) || media_type.starts_with("audio/")
        || media_type.starts_with("video/")
}

/// `inline; filename="safe"; filename*=UTF-8''percent-encoded`.
pub fn content_disposition(disposition_type: &str, name: &str) -> HeaderValue {
    let cleaned = clean_file_name(name);
    let ascii: String = cleaned
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let mut value = format!("{disposition_type}; filename=\"{ascii}\"");
    if ascii != cleaned {
        value.push_str("; filename*=UTF-8''");
        value.push_str(&percent_encode(&cleaned));
    }
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

/// Drops everything that could escape the quoted string or name a path:
/// quotes, backslashes, slashes, control characters (CR, LF, NUL...).
pub fn clean_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/' | ':' | '*' | '?' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_inject_headers_or_paths() {
        let value = content_disposition("inline", "../../etc/passwd\"\r\nSet-Cookie: x=1");
        let text = value.to_str().unwrap();
        assert!(!text.contains('\r') && !text.contains('\n'));
        assert!(!text.contains("../"));
        assert_eq!(text.matches('"').count(), 2, "{text}");
    }

    #[test]
    fn unicode_names_get_an_extended_parameter() {
        let value = content_disposition("attachment", "résumé.pdf");
        let text = value.to_str().unwrap();
        assert!(text.contains("filename=\"r_sum_.pdf\""), "{text}");
        assert!(
            text.contains("filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
            "{text}"
        );
    }

    #[test]
    fn scriptable_types_are_attachments() {
        assert!(!renders_inertly("text/html"));
        assert!(!renders_inertly("image/svg+xml"));
        assert!(!renders_inertly("application/javascript"));
        assert!(renders_inertly("image/png"));
    }
}
