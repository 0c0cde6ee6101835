//! The web UI: a single-page app embedded in the binary from `web/`.
//!
//! `index.html` is served for the SPA routes (`/`, `/search`, and
//! `/view/{ID}` through the API's `/view/{file}` handler, which calls
//! [`spa_index`] for extension-less IDs) with `Cache-Control: no-cache`, and names every other file under
//! `/ui/{version}/`, where the version is a hash of all embedded files. So the
//! static files can be cached forever (`immutable`), a new binary with changed
//! files gets new URLs, and the ES modules' relative imports (`./api.js`)
//! inherit the versioned prefix without a build step rewriting them.
//!
//! Debug builds read `web/` from disk on each request (rust-embed's default),
//! so there the files are served with `no-cache` to make edits show at once.
//!
//! Every UI response carries a strict Content-Security-Policy: scripts only
//! from our own files (no inline script, no eval), no plugins, and the message
//! preview only in frames from our own origin.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::HttpState;
use super::access::Access;
use super::safe_download::add_security_headers;
use super::webroot::Webroot;

/// The UI's files: embedded with the `ui` feature (the default), none
/// without it (an embedder that only wants the API).
#[cfg(feature = "ui")]
mod files {
    use std::borrow::Cow;

    #[derive(rust_embed::RustEmbed)]
    #[folder = "web/"]
    struct WebFiles;

    /// A file's bytes and their SHA-256.
    pub fn get(path: &str) -> Option<(Cow<'static, [u8]>, [u8; 32])> {
        WebFiles::get(path).map(|file| (file.data, file.metadata.sha256_hash()))
    }

    pub fn names() -> Vec<String> {
        WebFiles::iter().map(|name| name.into_owned()).collect()
    }
}

#[cfg(not(feature = "ui"))]
mod files {
    use std::borrow::Cow;

    pub fn get(_path: &str) -> Option<(Cow<'static, [u8]>, [u8; 32])> {
        None
    }

    pub fn names() -> Vec<String> {
        Vec::new()
    }
}

/// The policy for the app itself. `style-src 'self'` holds because the app
/// never writes `style` attributes or `<style>` elements; it sets styles
/// through the CSSOM, which CSP does not restrict.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws: wss:; \
frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const INDEX_TEMPLATE: &str = "index.html";

pub fn router() -> Router<Arc<HttpState>> {
    Router::new()
        .route("/", get(index_route))
        .route("/search", get(index_route))
        .route("/ui/{version}/{*path}", get(static_file))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

/// Whether `/view/{segment}` is an SPA route (a message ID or `latest`
/// without extension) rather than one of the API's `.html` / `.txt` views.
pub fn is_spa_view(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `index.html`, answering `304 Not Modified` when the browser's copy is current.
async fn index_route(
    State(state): State<Arc<HttpState>>,
    access: Access,
    request_headers: HeaderMap,
) -> Response {
    let (_, etag) = index();
    let etag = &scoped_etag(etag, &access);
    let current = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    if current {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(etag) = HeaderValue::from_str(etag) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        return response;
    }
    spa_index(&access, &state.app.settings.webroot).await
}

/// The index's ETag inside a mailbox differs from the root's (its asset
/// URLs do).
fn scoped_etag(etag: &str, access: &Access) -> String {
    match &access.mailbox {
        Some(name) => format!("\"{}-{name}\"", etag.trim_matches('"')),
        None => etag.to_string(),
    }
}

/// The app's `index.html`, for every SPA route. Its asset URLs are under
/// the webroot and, inside a mailbox, under the mailbox's root, so that a
/// mailbox's token is all a browser needs to load the app there. The app
/// finds both prefixes again from its own module URL (web/base.js).
pub async fn spa_index(access: &Access, webroot: &Webroot) -> Response {
    let (body, etag) = index();
    let etag = &scoped_etag(etag, access);
    let prefix = format!(
        "{}{}",
        webroot.as_str().trim_end_matches('/'),
        access.root()
    );
    let body = if prefix.is_empty() {
        body.clone()
    } else {
        body.replace("\"/ui/", &format!("\"{prefix}/ui/"))
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response();
    if let Ok(etag) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    add_security_headers(response.headers_mut(), CONTENT_SECURITY_POLICY);
    response
}

/// The index with asset URLs filled in, and its ETag (the assets version).
fn index() -> &'static (String, String) {
    static INDEX: OnceLock<(String, String)> = OnceLock::new();
    INDEX.get_or_init(|| {
        let version = assets_version();
        let template = files::get(INDEX_TEMPLATE)
            .map(|(data, _)| String::from_utf8_lossy(&data).into_owned())
            .unwrap_or_else(|| "<!doctype html><title>mailcatch</title>UI not built in".into());
        let base = format!("/ui/{version}");
        // Preload every module so the browser fetches them in parallel
        // instead of discovering imports one level at a time.
        let preloads: String = module_paths()
            .map(|path| format!("<link rel=\"modulepreload\" href=\"{base}/{path}\">\n"))
            .collect();
        let body = template
            .replace("{{PRELOADS}}", &preloads)
            .replace("{{ASSETS}}", &base);
        (body, format!("\"{version}\""))
    })
}

fn module_paths() -> impl Iterator<Item = String> {
    let mut paths: Vec<String> = files::names()
        .into_iter()
        .filter(|p| p.ends_with(".js") && !p.contains('/') && p != "theme-init.js")
        .collect();
    paths.sort();
    paths.into_iter()
}

/// A short hash over every embedded file's name and content.
fn assets_version() -> String {
    let mut names = files::names();
    names.sort();
    let mut hasher = Sha256::new();
    for name in names {
        if let Some((_, sha256)) = files::get(&name) {
            hasher.update(name.as_bytes());
            hasher.update(sha256);
        }
    }
    hex::encode(&hasher.finalize()[..6])
}

async fn static_file(Path((_version, path)): Path<(String, String)>) -> Response {
    serve_file(&path)
}

async fn favicon() -> Response {
    serve_file("favicon.svg")
}

fn serve_file(path: &str) -> Response {
    if path == INDEX_TEMPLATE {
        return not_found();
    }
    let Some((data, _)) = files::get(path) else {
        return not_found();
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT | mime_guess::mime::APPLICATION
            if mime.get_param("charset").is_none() && is_textual(path) =>
        {
            format!("{mime}; charset=utf-8")
        }
        _ => mime.to_string(),
    };
    // Debug builds serve web/ from disk, so edits must not be cached.
    let cache = if cfg!(debug_assertions) {
        "no-cache"
    } else {
        IMMUTABLE
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache.to_string()),
        ],
        data.into_owned(),
    )
        .into_response();
    add_security_headers(response.headers_mut(), CONTENT_SECURITY_POLICY);
    response
}

fn is_textual(path: &str) -> bool {
    [".js", ".css", ".svg", ".html", ".json", ".md"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_links_versioned_assets_and_has_no_inline_script() {
        let (body, etag) = index();
        let version = etag.trim_matches('"');
        assert!(body.contains(&format!("/ui/{version}/app.js")));
        assert!(!body.contains("{{"));
        // Every <script> must have a src: the CSP forbids inline script.
        for chunk in body.split("<script").skip(1) {
            let tag = &chunk[..chunk.find('>').unwrap()];
            assert!(tag.contains("src="), "inline script in index.html: {tag}");
        }
    }

    #[test]
    fn spa_view_segments() {
        assert!(is_spa_view("latest"));
        assert!(is_spa_view("0Abc123xyz0Abc123xyz01"));
        assert!(!is_spa_view("0Abc123xyz0Abc123xyz01.html"));
        assert!(!is_spa_view(""));
    }
}
