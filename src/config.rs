//! Every flag and environment variable, in one place.
//!
//! Where mailcatch shares an option with Mailpit it accepts Mailpit's flag
//! name and `MP_*` variable too, so a docker-compose file written for Mailpit
//! works unchanged. Flags override environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[cfg(feature = "cli")]
use clap::builder::BoolishValueParser;
#[cfg(feature = "cli")]
use clap::{Args, Parser, Subcommand};

use crate::listen::Listen;

/// The command line: a subcommand, or the server's options.
#[cfg(feature = "cli")]
#[derive(Debug, Parser)]
#[command(
    name = "mailcatch",
    version,
    about = "An SMTP mail catcher for development and CI, with a Mailpit-compatible API and a live web UI"
)]
pub struct Cli {
    /// A subcommand, or none to run the server.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The server's options.
    #[command(flatten)]
    pub config: Config,
}

/// The binary's subcommands.
#[cfg(feature = "cli")]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// A sendmail stand-in: reads a message on stdin and submits it over SMTP
    /// (`-t` takes recipients from the headers, `-f` sets the sender, `-S` the
    /// server, default 127.0.0.1:1025 or MP_SENDMAIL_SMTP_ADDR). Symlinking the
    /// binary as `sendmail` does the same.
    Sendmail {
        /// sendmail's own arguments, e.g. `-t -i` or recipients.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Writes every message as DIR/ID.eml, from a running instance's API (`--http URL`) or a database file (`--database PATH`).
    Dump {
        /// The directory to write into (created if absent).
        dir: PathBuf,
        /// A running instance's base URL, e.g. `http://127.0.0.1:8025`.
        #[arg(
            long,
            value_name = "URL",
            conflicts_with = "database",
            required_unless_present = "database"
        )]
        http: Option<String>,
        /// A SQLite database file of mailcatch's.
        #[arg(long, value_name = "PATH")]
        database: Option<PathBuf>,
    },
    /// Sends `.eml` files and mbox files (a directory stands for its *.eml and *.mbox files) to a running instance over SMTP; the envelope comes from the From, To, Cc and Bcc headers.
    Load {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The instance's SMTP address.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:1025")]
        smtp: String,
    },
    /// Exits 0 if a running mailcatch answers on its HTTP /readyz (for container health checks).
    Readyz {
        /// The HTTP address to probe.
        #[arg(long, env = "MP_UI_BIND_ADDR", default_value = "127.0.0.1:8025")]
        listen: String,
        /// Keep probing until mailcatch is ready (for CI scripts), at most --timeout seconds.
        #[arg(long)]
        wait: bool,
        /// Seconds to keep probing with --wait.
        #[arg(long, default_value_t = 30, requires = "wait")]
        timeout: u64,
    },
}

/// Every option of a mailcatch server, grouped by the part it configures.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
pub struct Config {
    /// The SMTP listener and sessions.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub smtp: SmtpConfig,
    /// The HTTP API, WebSocket and UI.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub http: HttpConfig,
    /// The POP3 listener (off unless `--pop3` is given).
    #[cfg_attr(feature = "cli", command(flatten))]
    pub pop3: Pop3Config,
    /// Where messages are kept, and the caps on them.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub store: StoreConfig,
    /// Releasing messages to a real SMTP server (off unless configured).
    #[cfg_attr(feature = "cli", command(flatten))]
    pub relay: RelayConfig,
    /// How much is logged.
    #[cfg_attr(feature = "cli", command(flatten))]
    pub log: LogConfig,
}

/// SMTP options.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
#[cfg_attr(feature = "cli", command(next_help_heading = "SMTP"))]
pub struct SmtpConfig {
    /// SMTP listen address: HOST:PORT, or a Unix socket as unix:/path/to.sock:0660.
    #[cfg_attr(
        feature = "cli",
        arg(
            id = "smtp_bind",
            value_name = "ADDR",
            short = 's',
            long = "smtp",
            env = "MP_SMTP_BIND_ADDR",
            default_value = "127.0.0.1:1025"
        )
    )]
    pub bind: Listen,

    /// Also listen for implicit-TLS SMTP (SMTPS) on this address; needs a certificate.
    #[cfg_attr(
        feature = "cli",
        arg(long = "smtps", value_name = "ADDR", env = "MAILCATCH_SMTPS_BIND_ADDR")
    )]
    pub smtps_bind: Option<SocketAddr>,

    /// Host name in the greeting and EHLO reply.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_HOSTNAME", default_value = "mailcatch")
    )]
    pub hostname: String,

    /// A label shown in the SMTP greeting and the UI.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_LABEL", default_value = ""))]
    pub label: String,

    /// PEM certificate for STARTTLS, or `sans:host1,host2` for a self-signed one made at start.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_SMTP_TLS_CERT", alias = "smtp-ssl-cert")
    )]
    pub smtp_tls_cert: Option<String>,

    /// PEM private key for the certificate.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_SMTP_TLS_KEY", alias = "smtp-ssl-key")
    )]
    pub smtp_tls_key: Option<PathBuf>,

    /// Offer STARTTLS with a self-signed certificate generated at start (same as `--smtp-tls-cert sans:localhost`).
    #[cfg_attr(feature = "cli", arg(long, env = "MAILCATCH_SMTP_TLS_SELF_SIGNED", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub smtp_tls_self_signed: bool,

    /// Refuse MAIL, RCPT, DATA and AUTH until the client has issued STARTTLS.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_SMTP_REQUIRE_STARTTLS", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub smtp_require_starttls: bool,

    /// Make the main SMTP listener implicit-TLS only (SMTPS).
    #[cfg_attr(feature = "cli", arg(long, env = "MP_SMTP_REQUIRE_TLS", alias = "smtp-tls-required", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub smtp_require_tls: bool,

    /// Accept any AUTH username and password; AUTH is advertised but not required.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_SMTP_AUTH_ACCEPT_ANY", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub smtp_auth_accept_any: bool,

    /// File of `user:password` lines; AUTH becomes required.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_SMTP_AUTH_FILE"))]
    pub smtp_auth_file: Option<PathBuf>,

    /// Space-separated `user:password` pairs; AUTH becomes required.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_SMTP_AUTH", hide_env_values = true)
    )]
    pub smtp_auth: Option<String>,

    /// Allow AUTH with a credentials list over plaintext (accept-any always works over plaintext).
    #[cfg_attr(feature = "cli", arg(long, env = "MP_SMTP_AUTH_ALLOW_INSECURE", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub smtp_auth_allow_insecure: bool,

    /// Largest message accepted, in MB (advertised in SIZE); 0 means the store's byte cap.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_MAX_MESSAGE_SIZE", default_value_t = 50)
    )]
    pub max_message_size: usize,

    /// Most recipients per message; more get 452.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_SMTP_MAX_RECIPIENTS", default_value_t = 100)
    )]
    pub smtp_max_recipients: usize,

    /// Longest SMTP command line in bytes; longer ones get 500.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_SMTP_MAX_LINE", default_value_t = 4096)
    )]
    pub smtp_max_line: usize,

    /// Most concurrent SMTP connections; more get 421 and are closed.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_SMTP_MAX_CONNECTIONS", default_value_t = 1024)
    )]
    pub smtp_max_connections: usize,

    /// Seconds a client gets to complete each command (or message transfer) before 421 and close.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_SMTP_IDLE_TIMEOUT", default_value_t = 300)
    )]
    pub smtp_idle_timeout: u64,

    /// Bad commands tolerated per connection before 421 and close.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_SMTP_MAX_ERRORS", default_value_t = 20)
    )]
    pub smtp_max_errors: usize,

    /// Seconds in-flight transactions get to finish on shutdown.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_SHUTDOWN_GRACE", default_value_t = 10)
    )]
    pub shutdown_grace: u64,

    /// Accepted for Mailpit compatibility; mailcatch never does reverse DNS.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_SMTP_DISABLE_RDNS", value_parser = BoolishValueParser::new(), default_value_t = false, hide = true))]
    pub smtp_disable_rdns: bool,

    /// Enable chaos (injected SMTP failures, set through the API).
    #[cfg_attr(feature = "cli", arg(long, env = "MP_ENABLE_CHAOS", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub enable_chaos: bool,

    /// Chaos triggers, e.g. `Sender:451:50,Recipient:451:10,Authentication:535:5`; implies --enable-chaos.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_CHAOS_TRIGGERS"))]
    pub chaos_triggers: Option<String>,
}

/// HTTP options.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
#[cfg_attr(feature = "cli", command(next_help_heading = "HTTP"))]
pub struct HttpConfig {
    /// HTTP listen address for the API and web UI: HOST:PORT, or unix:/path/to.sock:0660.
    #[cfg_attr(
        feature = "cli",
        arg(
            id = "http_bind",
            value_name = "ADDR",
            short = 'l',
            long = "listen",
            env = "MP_UI_BIND_ADDR",
            default_value = "127.0.0.1:8025"
        )
    )]
    pub bind: Listen,

    /// htpasswd-style file of `user:password` lines guarding the UI and API (plain passwords).
    #[cfg_attr(feature = "cli", arg(long, env = "MP_UI_AUTH_FILE"))]
    pub ui_auth_file: Option<PathBuf>,

    /// Space-separated `user:password` pairs guarding the UI and API.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_UI_AUTH", hide_env_values = true))]
    pub ui_auth: Option<String>,

    /// Comma-separated origins (host:port, or `*`) allowed to call the API and open the WebSocket cross-origin.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_API_CORS"))]
    pub api_cors: Option<String>,

    /// Most `POST /api/v1/send` requests handled at once; more get 503 with Retry-After.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_SEND_MAX_CONCURRENT", default_value_t = 16)
    )]
    pub send_max_concurrent: usize,

    /// Comma-separated host names (optionally `host:port`) the Host header must name; others get 403. Guards against DNS rebinding. Any host if unset.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_ALLOWED_HOSTS", value_name = "HOSTS")
    )]
    pub allowed_hosts: Option<String>,

    /// Serve the UI and API under this path prefix, e.g. `/mail/` [chars: a-z A-Z 0-9 _ . - / @].
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_WEBROOT", value_name = "PATH", default_value = "/")
    )]
    pub webroot: String,

    /// Largest JSON request body in bytes.
    #[cfg_attr(feature = "cli", arg(long, env = "MAILCATCH_MAX_JSON_BODY", default_value_t = 5 * 1024 * 1024))]
    pub max_json_body: usize,

    /// Parsed messages kept for detail views.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_DETAIL_CACHE", default_value_t = 64)
    )]
    pub detail_cache: usize,

    /// Messages a WebSocket client may fall behind before it is dropped.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_WS_BUFFER", default_value_t = 256)
    )]
    pub ws_buffer: usize,

    /// Longest time, in seconds, a request to the wait endpoint may wait.
    #[cfg_attr(
        feature = "cli",
        arg(long = "wait-max", env = "MAILCATCH_WAIT_MAX", default_value_t = 300)
    )]
    pub wait_max: u64,

    /// Most requests waiting for mail at once; more get 503.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_WAIT_MAX_WAITERS", default_value_t = 10_000)
    )]
    pub wait_max_waiters: usize,

    /// POST each new message's summary to this URL (Mailpit's webhook).
    #[cfg_attr(feature = "cli", arg(long, env = "MP_WEBHOOK_URL", value_name = "URL"))]
    pub webhook_url: Option<String>,

    /// Most webhook calls per second; 0 means no limit.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_WEBHOOK_LIMIT", default_value_t = 1)
    )]
    pub webhook_limit: u32,

    /// New messages waiting for the webhook; more are dropped (and counted).
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MAILCATCH_WEBHOOK_QUEUE", default_value_t = 1000)
    )]
    pub webhook_queue: usize,

    /// Prometheus metrics at /metrics: `true` on the HTTP listener (behind its auth), or an address such as 0.0.0.0:9090 for a listener of its own.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_ENABLE_PROMETHEUS", value_name = "true|ADDR")
    )]
    pub enable_prometheus: Option<String>,

    /// Hide the "delete all" button in the UI.
    #[cfg_attr(feature = "cli", arg(long, env = "MP_HIDE_DELETE_ALL_BUTTON", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub hide_delete_all_button: bool,

    /// Let the link check reach loopback, private, link-local and other internal addresses (refused by default).
    #[cfg_attr(feature = "cli", arg(long, env = "MP_ALLOW_INTERNAL_HTTP_REQUESTS", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub allow_internal_http_requests: bool,

    /// Check messages with SpamAssassin: spamd's HOST:PORT (e.g. 127.0.0.1:783) or unix:PATH.
    #[cfg_attr(
        feature = "cli",
        arg(long, env = "MP_ENABLE_SPAMASSASSIN", value_name = "HOST:PORT")
    )]
    pub enable_spamassassin: Option<String>,
}

/// POP3 options: a POP3 server over the stored messages, as Mailpit has.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
#[cfg_attr(feature = "cli", command(next_help_heading = "POP3"))]
pub struct Pop3Config {
    /// POP3 listen address; POP3 is off unless this is given, and it needs --pop3-auth-file.
    #[cfg_attr(
        feature = "cli",
        arg(
            id = "pop3_bind",
            value_name = "ADDR",
            long = "pop3",
            env = "MP_POP3_BIND_ADDR"
        )
    )]
    pub bind: Option<SocketAddr>,

    /// File of `user:password` lines allowed to log in to POP3 (plain passwords).
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "pop3-auth-file",
            value_name = "PATH",
            env = "MP_POP3_AUTH_FILE"
        )
    )]
    pub auth_file: Option<PathBuf>,

    /// PEM certificate for POP3 TLS (or `sans:host1,host2` for a self-signed one); as in Mailpit the listener then speaks TLS from the first byte, unless --pop3-stls.
    #[cfg_attr(
        feature = "cli",
        arg(long = "pop3-tls-cert", value_name = "PATH", env = "MP_POP3_TLS_CERT")
    )]
    pub tls_cert: Option<String>,

    /// PEM private key for the POP3 certificate.
    #[cfg_attr(
        feature = "cli",
        arg(long = "pop3-tls-key", value_name = "PATH", env = "MP_POP3_TLS_KEY")
    )]
    pub tls_key: Option<PathBuf>,

    /// With --pop3-tls-cert: a plaintext listener offering STLS (RFC 2595) instead of implicit TLS.
    #[cfg_attr(feature = "cli", arg(long = "pop3-stls", env = "MAILCATCH_POP3_STLS", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub stls: bool,

    /// Most concurrent POP3 connections; more get -ERR and are closed.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "pop3-max-connections",
            env = "MAILCATCH_POP3_MAX_CONNECTIONS",
            default_value_t = 64
        )
    )]
    pub max_connections: usize,

    /// Seconds a POP3 client may stay silent before it is disconnected.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "pop3-idle-timeout",
            env = "MAILCATCH_POP3_IDLE_TIMEOUT",
            default_value_t = 300
        )
    )]
    pub idle_timeout: u64,
}

/// Release and relay options: where released messages go, and the
/// outbound queue's bounds and retry schedule.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
#[cfg_attr(feature = "cli", command(next_help_heading = "Relay"))]
pub struct RelayConfig {
    /// YAML file naming the SMTP server released messages go to (Mailpit's keys: host, port, starttls, tls, allow-insecure, auth, username, password, return-path, override-from, allowed-recipients, blocked-recipients, preserve-message-ids).
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "smtp-relay-config",
            env = "MP_SMTP_RELAY_CONFIG",
            value_name = "FILE"
        )
    )]
    pub config_file: Option<PathBuf>,

    /// Relay every incoming message to its envelope recipients.
    #[cfg_attr(feature = "cli", arg(long = "smtp-relay-all", env = "MP_SMTP_RELAY_ALL", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub relay_all: bool,

    /// Relay incoming messages to the envelope recipients matching this regex.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "smtp-relay-matching",
            env = "MP_SMTP_RELAY_MATCHING",
            value_name = "REGEX"
        )
    )]
    pub relay_matching: Option<String>,

    /// Mailpit's env-only relay settings (`MP_SMTP_RELAY_HOST`, `_PORT`,
    /// ...), used when no config file is given. The binary fills this from
    /// its environment; an embedder sets it, or not, itself.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub env: Vec<(String, String)>,

    /// Give up on a delivery this long after it was queued (s, m, h or d).
    #[cfg_attr(feature = "cli", arg(long = "smtp-relay-give-up", env = "MAILCATCH_SMTP_RELAY_GIVE_UP", value_parser = parse_age, default_value = "1h"))]
    pub give_up: std::time::Duration,

    /// Waits between attempts after a temporary failure, comma-separated (s, m, h or d); the last repeats.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "smtp-relay-retry",
            env = "MAILCATCH_SMTP_RELAY_RETRY",
            default_value = "30s,1m,2m,5m,10m"
        )
    )]
    pub retry: String,

    /// Deliveries kept (pending and finished); when full, finished ones go first, then new releases are refused.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "smtp-relay-queue",
            env = "MAILCATCH_SMTP_RELAY_QUEUE",
            default_value_t = 1000
        )
    )]
    pub queue: usize,

    /// Deliveries sent at once.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "smtp-relay-concurrency",
            env = "MAILCATCH_SMTP_RELAY_CONCURRENCY",
            default_value_t = 4
        )
    )]
    pub concurrency: usize,

    /// Seconds an SMTP connection to the relay may wait for any one reply.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "smtp-relay-timeout",
            env = "MAILCATCH_SMTP_RELAY_TIMEOUT",
            default_value_t = 60
        )
    )]
    pub timeout: u64,
}

/// Storage options.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
#[cfg_attr(feature = "cli", command(next_help_heading = "Storage"))]
pub struct StoreConfig {
    /// Most messages kept; the oldest are evicted first. 0 means no count cap.
    #[cfg_attr(
        feature = "cli",
        arg(
            short = 'm',
            long = "max",
            env = "MP_MAX_MESSAGES",
            default_value_t = 1000
        )
    )]
    pub max_messages: usize,

    /// Most memory for stored messages, in MB; the oldest are evicted first. 0 means no byte cap.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "max-store-size",
            env = "MAILCATCH_MAX_STORE_SIZE",
            default_value_t = 512
        )
    )]
    pub max_store_mb: usize,

    /// Delete messages older than this: a number and a unit, s, m, h or d (e.g. `1h`, `7d`).
    #[cfg_attr(feature = "cli", arg(long = "max-age", env = "MP_MAX_AGE", value_parser = parse_age))]
    pub max_age: Option<std::time::Duration>,

    /// Most messages kept in any one mailbox; the mailbox's oldest are evicted first. 0 means no cap.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "mailbox-max",
            env = "MAILCATCH_MAILBOX_MAX",
            default_value_t = 0
        )
    )]
    pub max_per_mailbox: usize,

    /// Most mailboxes; creating more is refused, and mail routed to a new one goes to `default`. 0 means no cap.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "max-mailboxes",
            env = "MAILCATCH_MAX_MAILBOXES",
            default_value_t = crate::store::DEFAULT_MAX_MAILBOXES
        )
    )]
    pub max_mailboxes: usize,

    /// Keep messages in this SQLite database file (created if absent), or in the PostgreSQL database a postgres:// URL names (several nodes may share it); in memory if unset.
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "database",
            short = 'd',
            env = "MP_DATABASE",
            value_name = "PATH"
        )
    )]
    pub database: Option<String>,
}

/// `--max-age`: `90s`, `30m`, `1h`, `7d` (Mailpit's `h` and `d`, plus `s` and `m`).
pub(crate) fn parse_age(value: &str) -> Result<std::time::Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{value:?} needs a unit: s, m, h or d (e.g. 7d)"))?;
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a number followed by s, m, h or d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!(
                "{value:?}: unknown unit {unit:?}; use s, m, h or d"
            ));
        }
    };
    if number == 0 {
        return Err("the age must be more than 0".into());
    }
    Ok(std::time::Duration::from_secs(
        number.saturating_mul(seconds),
    ))
}

/// Logging options.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "cli", derive(Args))]
#[cfg_attr(feature = "cli", command(next_help_heading = "Logging"))]
pub struct LogConfig {
    /// More log output (-v debug, -vv trace).
    #[cfg_attr(feature = "cli", arg(short = 'v', long = "verbose", action = clap::ArgAction::Count))]
    pub verbose: u8,

    /// Only log errors.
    #[cfg_attr(feature = "cli", arg(short = 'q', long = "quiet", env = "MP_QUIET", value_parser = BoolishValueParser::new(), default_value_t = false))]
    pub quiet: bool,
}

const MB: usize = 1024 * 1024;

impl Config {
    /// The command line's defaults, ignoring the environment (an embedded
    /// server must not change with the `MP_*` variables of whoever runs
    /// the tests). Written out rather than asked of clap, so the library
    /// has them without the `cli` feature; a test holds them equal to the
    /// command line's.
    pub fn defaults() -> Config {
        let any_port = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        Config {
            smtp: SmtpConfig {
                bind: any_port(1025).into(),
                smtps_bind: None,
                hostname: "mailcatch".into(),
                label: String::new(),
                smtp_tls_cert: None,
                smtp_tls_key: None,
                smtp_tls_self_signed: false,
                smtp_require_starttls: false,
                smtp_require_tls: false,
                smtp_auth_accept_any: false,
                smtp_auth_file: None,
                smtp_auth: None,
                smtp_auth_allow_insecure: false,
                max_message_size: 50,
                smtp_max_recipients: 100,
                smtp_max_line: 4096,
                smtp_max_connections: 1024,
                smtp_idle_timeout: 300,
                smtp_max_errors: 20,
                shutdown_grace: 10,
                smtp_disable_rdns: false,
                enable_chaos: false,
                chaos_triggers: None,
            },
            http: HttpConfig {
                bind: any_port(8025).into(),
                ui_auth_file: None,
                ui_auth: None,
                api_cors: None,
                send_max_concurrent: 16,
                allowed_hosts: None,
                webroot: "/".into(),
                max_json_body: 5 * 1024 * 1024,
                detail_cache: 64,
                ws_buffer: 256,
                wait_max: 300,
                wait_max_waiters: 10_000,
                enable_prometheus: None,
                webhook_url: None,
                webhook_limit: 1,
                webhook_queue: 1000,
                hide_delete_all_button: false,
                allow_internal_http_requests: false,
                enable_spamassassin: None,
            },
            pop3: Pop3Config {
                bind: None,
                auth_file: None,
                tls_cert: None,
                tls_key: None,
                stls: false,
                max_connections: 64,
                idle_timeout: 300,
            },
            store: StoreConfig {
                max_messages: 1000,
                max_store_mb: 512,
                max_age: None,
                max_per_mailbox: 0,
                max_mailboxes: crate::store::DEFAULT_MAX_MAILBOXES,
                database: None,
            },
            relay: RelayConfig {
                config_file: None,
                relay_all: false,
                relay_matching: None,
                env: Vec::new(),
                give_up: std::time::Duration::from_secs(3600),
                retry: "30s,1m,2m,5m,10m".into(),
                queue: 1000,
                concurrency: 4,
                timeout: 60,
            },
            log: LogConfig {
                verbose: 0,
                quiet: false,
            },
        }
    }

    /// The defaults, bound to ephemeral loopback ports: for tests and embedding.
    pub fn ephemeral() -> Config {
        let mut config = Config::defaults();
        config.smtp.bind = "127.0.0.1:0".parse().expect("valid address");
        config.http.bind = "127.0.0.1:0".parse().expect("valid address");
        config
    }

    /// The store's caps, from the storage options.
    pub fn store_limits(&self) -> crate::store::StoreLimits {
        crate::store::StoreLimits {
            max_messages: self.store.max_messages,
            max_bytes: self.store.max_store_mb.saturating_mul(MB),
            max_age: self.store.max_age,
            max_per_mailbox: self.store.max_per_mailbox,
            max_mailboxes: self.store.max_mailboxes,
        }
    }

    /// The storage engine `--database` selects.
    pub fn engine(&self) -> Result<crate::store::Engine, String> {
        match self.store.database.as_deref().map(str::trim) {
            None | Some("") => Ok(crate::store::Engine::Memory),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                crate::store::PostgresUrl::parse(url).map(crate::store::Engine::Postgres)
            }
            Some(path) => Ok(crate::store::Engine::Sqlite(path.into())),
        }
    }
}

impl SmtpConfig {
    /// The message size limit in bytes; never unlimited, so memory stays bounded.
    pub fn max_message_bytes(&self, store_max_bytes: usize) -> usize {
        match self.max_message_size {
            0 if store_max_bytes > 0 => store_max_bytes,
            0 => 1024 * MB,
            mb => mb.saturating_mul(MB),
        }
    }
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;

    #[test]
    fn the_written_defaults_are_the_command_lines() {
        use clap::{CommandFactory, FromArgMatches};
        // The command line's defaults with the environment ignored.
        let command = Cli::command().mut_args(|arg| arg.env(None::<&str>));
        let matches = command.try_get_matches_from(["mailcatch"]).unwrap();
        let parsed = Cli::from_arg_matches(&matches).unwrap().config;
        assert_eq!(parsed, Config::defaults());
    }

    #[test]
    fn defaults_match_the_documentation() {
        let cli = Cli::parse_from(["mailcatch"]);
        let c = cli.config;
        assert_eq!(c.smtp.bind.to_string(), "127.0.0.1:1025");
        assert_eq!(c.http.bind.to_string(), "127.0.0.1:8025");
        assert_eq!(c.store.max_messages, 1000);
        assert_eq!(
            c.smtp.max_message_bytes(c.store_limits().max_bytes),
            50 * MB
        );
    }

    #[test]
    fn accepts_mailpit_flag_names() {
        let cli = Cli::parse_from([
            "mailcatch",
            "--smtp",
            "0.0.0.0:2525",
            "--listen",
            "0.0.0.0:8080",
            "--max",
            "5",
            "--smtp-auth-accept-any",
            "--smtp-max-recipients",
            "3",
        ]);
        assert_eq!(cli.config.smtp.bind.tcp().unwrap().port(), 2525);
        assert_eq!(cli.config.http.bind.tcp().unwrap().port(), 8080);
        assert_eq!(cli.config.store.max_messages, 5);
        assert!(cli.config.smtp.smtp_auth_accept_any);
        assert_eq!(cli.config.smtp.smtp_max_recipients, 3);
    }

    #[test]
    fn relay_is_off_by_default_and_takes_mailpits_flags() {
        assert_eq!(Config::defaults().relay.config_file, None);
        let cli = Cli::parse_from([
            "mailcatch",
            "--smtp-relay-config",
            "/tmp/relay.yaml",
            "--smtp-relay-matching",
            "@example\\.com$",
            "--smtp-relay-give-up",
            "10m",
            "--smtp-relay-retry",
            "1s,2s",
        ]);
        let relay = cli.config.relay;
        assert_eq!(
            relay.config_file.as_deref(),
            Some(std::path::Path::new("/tmp/relay.yaml"))
        );
        assert_eq!(relay.relay_matching.as_deref(), Some("@example\\.com$"));
        assert_eq!(relay.give_up, std::time::Duration::from_secs(600));
        assert_eq!(relay.retry, "1s,2s");
        assert!(!relay.relay_all);
    }

    #[test]
    fn pop3_is_off_by_default_and_takes_mailpits_flags() {
        assert_eq!(Config::defaults().pop3.bind, None);
        let cli = Cli::parse_from([
            "mailcatch",
            "--pop3",
            "127.0.0.1:1110",
            "--pop3-auth-file",
            "/tmp/users",
            "--pop3-max-connections",
            "5",
            "--pop3-tls-cert",
            "cert.pem",
            "--pop3-tls-key",
            "key.pem",
            "--pop3-stls",
        ]);
        assert_eq!(cli.config.pop3.bind.unwrap().port(), 1110);
        assert_eq!(cli.config.pop3.tls_cert.as_deref(), Some("cert.pem"));
        assert!(cli.config.pop3.tls_key.is_some() && cli.config.pop3.stls);
        assert_eq!(
            cli.config.pop3.auth_file.as_deref(),
            Some(std::path::Path::new("/tmp/users"))
        );
        assert_eq!(cli.config.pop3.max_connections, 5);
        assert_eq!(cli.config.pop3.idle_timeout, 300);
    }
}
