//! `GET /api/v1/info` and `GET /api/v1/webui`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Serialize;

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::error::ApiError;
use crate::http::json::GoJson;

/// The version the API reports (`/info`, the WebSocket `stats` frame).
pub fn version() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AppInformation {
    version: String,
    /// mailcatch never phones home for updates: Mailpit's literal for a
    /// disabled version check.
    latest_version: &'static str,
    /// The database file; empty in memory.
    database: String,
    database_size: u64,
    messages: usize,
    unread: usize,
    tags: BTreeMap<String, usize>,
    runtime_stats: RuntimeStats,
}

#[derive(Serialize)]
struct RuntimeStats {
    #[serde(rename = "Uptime")]
    uptime: u64,
    #[serde(rename = "Memory")]
    memory: u64,
    #[serde(rename = "MessagesDeleted")]
    messages_deleted: u64,
    #[serde(rename = "SMTPAccepted")]
    smtp_accepted: u64,
    #[serde(rename = "SMTPAcceptedSize")]
    smtp_accepted_size: u64,
    #[serde(rename = "SMTPRejected")]
    smtp_rejected: u64,
    #[serde(rename = "SMTPIgnored")]
    smtp_ignored: u64,
}

pub async fn info(
    State(state): State<Arc<HttpState>>,
    access: Access,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let store = &app.store;
    let scoped = state.store(&access);
    let counters = &app.counters;
    let counts = scoped.counts().await?;
    let (_, file) = store.describe();
    Ok(GoJson(AppInformation {
        version: version(),
        latest_version: "disabled",
        database: file.map(|f| f.display().to_string()).unwrap_or_default(),
        database_size: file
            .and_then(|f| std::fs::metadata(f).ok())
            .map_or(0, |m| m.len()),
        messages: counts.total,
        unread: counts.unread,
        tags: scoped.tag_counts().await?.into_iter().collect(),
        runtime_stats: RuntimeStats {
            uptime: app.started.elapsed().as_secs(),
            memory: resident_memory().unwrap_or(store.counts().await?.bytes),
            messages_deleted: store.deleted(),
            smtp_accepted: counters.accepted.load(Ordering::Relaxed),
            smtp_accepted_size: counters.accepted_bytes.load(Ordering::Relaxed),
            smtp_rejected: counters.rejected.load(Ordering::Relaxed),
            smtp_ignored: 0,
        },
    })
    .into_response())
}

/// The process's resident memory in bytes, where the OS tells (Linux).
fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WebUiConfiguration {
    label: String,
    message_relay: MessageRelay,
    spam_assassin: bool,
    chaos_enabled: bool,
    duplicates_ignored: bool,
    hide_delete_all_button: bool,
}

/// The relay as `--smtp-relay-config` set it; Mailpit's "relay off" shape
/// (all empty) when it is not configured.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct MessageRelay {
    enabled: bool,
    #[serde(rename = "SMTPServer")]
    smtp_server: String,
    return_path: String,
    allowed_recipients: String,
    blocked_recipients: String,
    override_from: String,
    #[serde(rename = "PreserveMessageIDs")]
    preserve_message_ids: bool,
    recipient_allowlist: String,
}

fn message_relay(state: &HttpState) -> MessageRelay {
    let Some(target) = state.app.outbound.target() else {
        return MessageRelay::default();
    };
    let pattern = |re: &Option<regex::Regex>| re.as_ref().map(|re| re.as_str().to_string());
    let allowed = pattern(&target.allowed).unwrap_or_default();
    MessageRelay {
        enabled: true,
        smtp_server: target.server(),
        return_path: target.return_path.clone().unwrap_or_default(),
        recipient_allowlist: allowed.clone(),
        allowed_recipients: allowed,
        blocked_recipients: pattern(&target.blocked).unwrap_or_default(),
        override_from: target.override_from.clone().unwrap_or_default(),
        preserve_message_ids: true,
    }
}

pub async fn webui(State(state): State<Arc<HttpState>>) -> Response {
    let config = &state.app.settings.config;
    GoJson(WebUiConfiguration {
        label: config.smtp.label.clone(),
        message_relay: message_relay(&state),
        spam_assassin: state.app.settings.spamd.is_some(),
        chaos_enabled: state.app.settings.chaos.is_enabled(),
        duplicates_ignored: false,
        hide_delete_all_button: config.http.hide_delete_all_button,
    })
    .into_response()
}
