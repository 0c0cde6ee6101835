//! Live figures for Prometheus (`--enable-prometheus`, served at `/metrics`).
//!
//! What changes as it happens (ingest latency, SMTP connections and reply
//! classes, WebSocket clients) is recorded in metrics the app owns; what
//! the store and the counters already know (messages, bytes, totals,
//! waiters) is read at scrape time, so nothing is counted twice.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::App;
use crate::store::StoreError;

/// The `class` label of an SMTP reply: `2xx`, `3xx`, `4xx` or `5xx`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplyClass {
    class: String,
}

/// The `outcome` label of a webhook call: `sent`, `failed` or `dropped`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookOutcome {
    outcome: String,
}

/// The `state` label of outbound deliveries.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryState {
    state: &'static str,
}

/// The metrics recorded as things happen.
#[derive(Debug)]
pub struct Metrics {
    webhook_calls: Family<WebhookOutcome, Counter>,
    ingest_seconds: Histogram,
    smtp_connections: Counter,
    smtp_open: Gauge,
    smtp_replies: Family<ReplyClass, Counter>,
    websocket_clients: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            webhook_calls: Family::default(),
            // 50 µs to about 1.6 s.
            ingest_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            smtp_connections: Counter::default(),
            smtp_open: Gauge::default(),
            smtp_replies: Family::default(),
            websocket_clients: Gauge::default(),
        }
    }
}

/// Counts something open (an SMTP connection, a WebSocket client) while it
/// lives.
pub struct OpenGuard(Gauge);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    pub(crate) fn ingest_took(&self, took: Duration) {
        self.ingest_seconds.observe(took.as_secs_f64());
    }

    /// Records an SMTP connection; it counts as open until the guard drops.
    pub(crate) fn smtp_connection(&self) -> OpenGuard {
        self.smtp_connections.inc();
        self.smtp_open.inc();
        OpenGuard(self.smtp_open.clone())
    }

    pub(crate) fn smtp_reply(&self, code: u16) {
        let class = format!("{}xx", code / 100);
        self.smtp_replies.get_or_create(&ReplyClass { class }).inc();
    }

    /// Counts `n` webhook calls that ended as `outcome` (`sent`, `failed`
    /// or `dropped`).
    pub(crate) fn webhook(&self, outcome: &str, n: u64) {
        let outcome = outcome.to_string();
        self.webhook_calls
            .get_or_create(&WebhookOutcome { outcome })
            .inc_by(n);
    }

    /// Records a WebSocket client for as long as the guard lives.
    pub(crate) fn websocket_client(&self) -> OpenGuard {
        self.websocket_clients.inc();
        OpenGuard(self.websocket_clients.clone())
    }
}

impl App {
    /// Every metric in Prometheus's text exposition format.
    pub async fn metrics_text(&self) -> Result<String, StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        let counts = self.store.counts().await?;
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut registry = Registry::with_prefix("mailcatch");
        let gauge = |n: u64| ConstGauge::new(as_i64(n));
        registry.register("messages", "Messages stored", gauge(counts.total as u64));
        registry.register(
            "unread_messages",
            "Unread messages stored",
            gauge(counts.unread as u64),
        );
        registry.register(
            "stored_bytes",
            "Bytes counted against the store's byte cap",
            gauge(counts.bytes),
        );
        registry.register(
            "waiters",
            "Requests waiting for mail",
            gauge(self.waiting() as u64),
        );
        let counters = &self.counters;
        registry.register(
            "messages_accepted",
            "Messages stored since start (SMTP and send API)",
            ConstCounter::new(counters.accepted.load(Relaxed)),
        );
        registry.register(
            "accepted_bytes",
            "Bytes of messages stored since start",
            ConstCounter::new(counters.accepted_bytes.load(Relaxed)),
        );
        registry.register(
            "messages_deleted",
            "Messages deleted since start (by request, cap or age)",
            ConstCounter::new(self.store.deleted()),
        );
        let m = &self.metrics;
        registry.register(
            "ingest_seconds",
            "Time to summarise and store a message",
            m.ingest_seconds.clone(),
        );
        registry.register(
            "smtp_connections",
            "SMTP connections accepted",
            m.smtp_connections.clone(),
        );
        registry.register(
            "smtp_open_connections",
            "SMTP connections open",
            m.smtp_open.clone(),
        );
        registry.register(
            "smtp_replies",
            "SMTP replies sent, by class",
            m.smtp_replies.clone(),
        );
        registry.register(
            "websocket_clients",
            "WebSocket clients connected",
            m.websocket_clients.clone(),
        );
        registry.register(
            "webhook_calls",
            "Webhook calls, by outcome",
            m.webhook_calls.clone(),
        );
        let deliveries = Family::<DeliveryState, Gauge>::default();
        for (state, n) in self.outbound.counts() {
            deliveries
                .get_or_create(&DeliveryState {
                    state: state.name(),
                })
                .set(as_i64(n as u64));
        }
        registry.register(
            "outbound_deliveries",
            "Releases in the outbound queue, by state",
            deliveries,
        );
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry)
            .map_err(|e| StoreError::Unavailable(format!("encoding metrics: {e}")))?;
        Ok(text)
    }
}
