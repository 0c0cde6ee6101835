//! `mailcatch dump DIR`: every message as `DIR/ID.eml`, raw bytes as stored.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{MAX_FILE_BYTES, safe_file_stem};
use crate::store::{Engine, Store, StoreLimits};

/// Where the messages come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A running instance's API, e.g. `http://127.0.0.1:8025` (with any
    /// `--webroot` or `/mailbox/NAME` prefix).
    Http(String),
    /// A SQLite database file, read directly (the server may be stopped).
    Database(PathBuf),
}

/// Messages listed per API request.
const PAGE: usize = 500;

/// Writes every message into `dir` (created if absent) and reports how many.
pub async fn dump(source: Source, dir: &Path) -> ExitCode {
    if let Err(error) = std::fs::create_dir_all(dir) {
        eprintln!("mailcatch dump: creating {}: {error}", dir.display());
        return ExitCode::from(1);
    }
    let result = match source {
        Source::Http(url) => from_http(url.trim_end_matches('/'), dir).await,
        Source::Database(path) => from_database(&path, dir).await,
    };
    match result {
        Ok(count) => {
            eprintln!(
                "mailcatch dump: {count} messages written to {}",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mailcatch dump: {error}");
            ExitCode::from(1)
        }
    }
}

fn write(dir: &Path, id: &str, raw: &[u8]) -> Result<(), String> {
    let stem = safe_file_stem(id).ok_or_else(|| format!("unexpected message ID {id:?}"))?;
    let path = dir.join(format!("{stem}.eml"));
    std::fs::write(&path, raw).map_err(|e| format!("writing {}: {e}", path.display()))
}

async fn from_database(path: &Path, dir: &Path) -> Result<usize, String> {
    if !path.is_file() {
        return Err(format!("no database file at {}", path.display()));
    }
    // No caps: opening must never evict what is being dumped.
    let limits = StoreLimits {
        max_messages: 0,
        max_bytes: 0,
        max_age: None,
        max_per_mailbox: 0,
        max_mailboxes: 0,
    };
    let (events, _) = tokio::sync::broadcast::channel(1);
    let store = Store::open(&Engine::Sqlite(path.into()), limits, events)
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    let page = store.list(0, 0, None).await.map_err(|e| e.to_string())?;
    for message in &page.messages {
        let raw = store.raw(message).await.map_err(|e| e.to_string())?;
        write(dir, message.id(), &raw)?;
    }
    Ok(page.messages.len())
}

async fn from_http(base: &str, dir: &Path) -> Result<usize, String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()
        .map_err(|e| e.to_string())?;
    let get = async |path: String| -> Result<bytes::Bytes, String> {
        let url = format!("{base}{path}");
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()));
        }
        if response.content_length().unwrap_or(0) > MAX_FILE_BYTES {
            return Err(format!("GET {url}: too large"));
        }
        response
            .bytes()
            .await
            .map_err(|e| format!("GET {url}: {e}"))
    };
    // IDs first, then the bodies: paging while writing could skip messages
    // if mail arrives meanwhile (new ones shift the pages).
    let mut ids = Vec::new();
    let mut total = usize::MAX;
    while ids.len() < total {
        let body = get(format!("/api/v1/messages?start={}&limit={PAGE}", ids.len())).await?;
        let page: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("not a Mailpit API: {e}"))?;
        total = page["total"].as_u64().unwrap_or(0) as usize;
        let listed = page["messages"].as_array().cloned().unwrap_or_default();
        if listed.is_empty() {
            break;
        }
        let before = ids.len();
        ids.extend(
            listed
                .iter()
                .filter_map(|m| m["ID"].as_str().map(str::to_string)),
        );
        if ids.len() == before {
            break;
        }
    }
    ids.dedup();
    for id in &ids {
        let stem = safe_file_stem(id).ok_or_else(|| format!("unexpected message ID {id:?}"))?;
        let raw = get(format!("/api/v1/message/{stem}/raw")).await?;
        write(dir, id, &raw)?;
    }
    Ok(ids.len())
}
