//! [`ServerBuilder`]: every option of the command line as a method.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Error, Server};
use crate::config::Config;

/// Sets up a [`Server`]: every option of the command line is here, with
/// the command line's defaults, except that both listeners bind to
/// `127.0.0.1` on ports the system picks.
pub struct ServerBuilder {
    config: Config,
}

/// Generates a setter per option: `name(value)` sets `section.field`.
macro_rules! options {
    ($($(#[$doc:meta])* $name:ident: $($field:ident).+ = $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.config.$($field).+ = value.into();
                self
            }
        )*
    };
}

impl ServerBuilder {
    pub(super) fn new(config: Config) -> ServerBuilder {
        ServerBuilder { config }
    }

    options! {
        /// Also listen for implicit-TLS SMTP (SMTPS) here; needs a certificate.
        smtps_addr: smtp.smtps_bind = Option<SocketAddr>;
        /// Host name in the greeting and EHLO reply.
        hostname: smtp.hostname = String;
        /// A label shown in the SMTP greeting and the UI.
        label: smtp.label = String;
        /// PEM certificate for STARTTLS, or `sans:host1,host2` for a self-signed one.
        smtp_tls_cert: smtp.smtp_tls_cert = Option<String>;
        /// PEM private key for the certificate.
        smtp_tls_key: smtp.smtp_tls_key = Option<PathBuf>;
        /// Refuse MAIL, RCPT, DATA and AUTH until the client has issued STARTTLS.
        smtp_require_starttls: smtp.smtp_require_starttls = bool;
        /// Make the main SMTP listener implicit-TLS only.
        smtp_require_tls: smtp.smtp_require_tls = bool;
        /// A file of `user:password` lines; AUTH becomes required.
        smtp_auth_file: smtp.smtp_auth_file = Option<PathBuf>;
        /// Space-separated `user:password` pairs; AUTH becomes required.
        smtp_auth: smtp.smtp_auth = Option<String>;
        /// Allow AUTH with credentials over plaintext.
        smtp_auth_allow_insecure: smtp.smtp_auth_allow_insecure = bool;
        /// Most recipients per message; more get 452.
        smtp_max_recipients: smtp.smtp_max_recipients = usize;
        /// Longest SMTP command line in bytes.
        smtp_max_line: smtp.smtp_max_line = usize;
        /// Most concurrent SMTP connections.
        smtp_max_connections: smtp.smtp_max_connections = usize;
        /// Seconds a client gets for each command or message transfer.
        smtp_idle_timeout_secs: smtp.smtp_idle_timeout = u64;
        /// Bad commands tolerated per connection.
        smtp_max_errors: smtp.smtp_max_errors = usize;
        /// Seconds in-flight transactions get to finish on shutdown.
        shutdown_grace_secs: smtp.shutdown_grace = u64;
        /// Enable chaos (injected SMTP failures, set through the API).
        enable_chaos: smtp.enable_chaos = bool;
        /// Chaos triggers, e.g. `Sender:451:50`; implies chaos.
        chaos_triggers: smtp.chaos_triggers = Option<String>;
        /// A file of `user:password` lines guarding the UI and API.
        ui_auth_file: http.ui_auth_file = Option<PathBuf>;
        /// Space-separated `user:password` pairs guarding the UI and API.
        ui_auth: http.ui_auth = Option<String>;
        /// Origins allowed to call the API and open the WebSocket cross-origin.
        api_cors: http.api_cors = Option<String>;
        /// Most send-API requests handled at once; more get 503.
        send_max_concurrent: http.send_max_concurrent = usize;
        /// Host names the Host header must name (comma-separated); others get 403.
        allowed_hosts: http.allowed_hosts = Option<String>;
        /// Serve the UI and API under this path prefix.
        webroot: http.webroot = String;
        /// Largest JSON request body in bytes.
        max_json_body: http.max_json_body = usize;
        /// Parsed messages kept for detail views.
        detail_cache: http.detail_cache = usize;
        /// Frames a WebSocket client may lag before it is dropped.
        ws_buffer: http.ws_buffer = usize;
        /// Longest time, in seconds, a wait request may wait.
        wait_max_secs: http.wait_max = u64;
        /// Most requests waiting for mail at once.
        wait_max_waiters: http.wait_max_waiters = usize;
        /// POST each new message's summary to this URL.
        webhook_url: http.webhook_url = Option<String>;
        /// Most webhook calls per second; 0 for no limit.
        webhook_limit: http.webhook_limit = u32;
        /// New messages waiting for the webhook before more are dropped.
        webhook_queue: http.webhook_queue = usize;
        /// Serve Prometheus metrics at `/metrics`.
        enable_prometheus: http.enable_prometheus = Option<String>;
        /// Hide the UI's "delete all" button.
        hide_delete_all_button: http.hide_delete_all_button = bool;
        /// Let the link check reach loopback, private and other internal addresses.
        allow_internal_http_requests: http.allow_internal_http_requests = bool;
        /// Check messages with SpamAssassin: spamd's `HOST:PORT` or `unix:PATH`.
        enable_spamassassin: http.enable_spamassassin = Option<String>;
        /// Delete messages older than this.
        max_age: store.max_age = Option<Duration>;
        /// Also serve POP3 here; needs [`ServerBuilder::pop3_auth_file`].
        pop3_addr: pop3.bind = Option<SocketAddr>;
        /// A file of `user:password` lines allowed to log in to POP3.
        pop3_auth_file: pop3.auth_file = Option<PathBuf>;
        /// Most concurrent POP3 connections.
        pop3_max_connections: pop3.max_connections = usize;
        /// Seconds a POP3 client may stay silent before it is disconnected.
        pop3_idle_timeout_secs: pop3.idle_timeout = u64;
        /// A YAML file naming the SMTP relay released messages go to.
        smtp_relay_config: relay.config_file = Option<PathBuf>;
        /// Relay every incoming message to its envelope recipients.
        smtp_relay_all: relay.relay_all = bool;
        /// Relay incoming messages to the recipients matching this regex.
        smtp_relay_matching: relay.relay_matching = Option<String>;
        /// Give up on a delivery this long after it was queued.
        smtp_relay_give_up: relay.give_up = Duration;
        /// Waits between attempts, e.g. `30s,1m,5m` (the last repeats).
        smtp_relay_retry: relay.retry = String;
        /// Most deliveries kept in the outbound queue.
        smtp_relay_queue: relay.queue = usize;
        /// Most deliveries sent at once.
        smtp_relay_concurrency: relay.concurrency = usize;
        /// Seconds the relay may take to answer any one command.
        smtp_relay_timeout_secs: relay.timeout = u64;
    }

    /// SMTP listen address (default `127.0.0.1:0`, a free port).
    pub fn smtp_addr(mut self, addr: SocketAddr) -> Self {
        self.config.smtp.bind = addr.into();
        self
    }

    /// HTTP listen address for the API and UI (default `127.0.0.1:0`).
    pub fn http_addr(mut self, addr: SocketAddr) -> Self {
        self.config.http.bind = addr.into();
        self
    }

    /// Most messages kept, oldest evicted first; 0 for no cap.
    pub fn max_messages(mut self, count: usize) -> Self {
        self.config.store.max_messages = count;
        self
    }

    /// Most megabytes of messages kept; 0 for no cap.
    pub fn max_store_size_mb(mut self, megabytes: usize) -> Self {
        self.config.store.max_store_mb = megabytes;
        self
    }

    /// Largest message accepted, in megabytes.
    pub fn max_message_size_mb(mut self, megabytes: usize) -> Self {
        self.config.smtp.max_message_size = megabytes;
        self
    }

    /// Most messages kept in any one mailbox; 0 for no cap.
    pub fn mailbox_max(mut self, count: usize) -> Self {
        self.config.store.max_per_mailbox = count;
        self
    }

    /// Keep messages in this SQLite file instead of memory.
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.store.database = Some(path.into().display().to_string());
        self
    }

    /// Advertise AUTH and accept any credentials.
    pub fn smtp_auth_accept_any(mut self) -> Self {
        self.config.smtp.smtp_auth_accept_any = true;
        self
    }

    /// Offer STARTTLS with a self-signed certificate made at start.
    pub fn smtp_tls_self_signed(mut self) -> Self {
        self.config.smtp.smtp_tls_self_signed = true;
        self
    }

    /// Any other option, on the same [`Config`] the command line fills.
    pub fn configure(mut self, adjust: impl FnOnce(&mut Config)) -> Self {
        adjust(&mut self.config);
        self
    }

    /// Starts the server; it is listening when this returns.
    pub async fn start(self) -> Result<Server, Error> {
        let running = crate::running::start(self.config).await?;
        Ok(Server::from_running(running))
    }
}
