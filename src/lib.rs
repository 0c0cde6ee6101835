//! mailcatch: an SMTP mail catcher for development and CI, with a
//! Mailpit-compatible HTTP API, a WebSocket feed and a web UI.
//!
//! [`start`] runs the whole server in-process, on the addresses in the
//! [`Config`] (port 0 picks a free one), which is how the tests use it:
//!
//! ```no_run
//! # async fn demo() -> Result<(), mailcatch::StartError> {
//! let running = mailcatch::start(mailcatch::Config::ephemeral()).await?;
//! println!("SMTP on {}, HTTP on {}", running.smtp_addr, running.http_addr);
//! running.shutdown().await;
//! # Ok(()) }
//! ```

pub mod chaos;
pub mod config;
pub mod credentials;
pub mod http;
pub mod sendmail;
pub mod settings;
pub mod shutdown;
pub mod smtp;
pub mod store;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

pub use config::Config;
pub use settings::Settings;
use shutdown::Shutdown;
use store::Store;

/// Shared state of a running mailcatch, handed to the SMTP and HTTP sides.
pub struct App {
    /// The configuration and what was resolved from it (the certificate,
    /// credentials, chaos), checked before anything bound.
    pub settings: Settings,
    pub store: Arc<Store>,
    pub started: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("configuration: {0}")]
    Config(String),
}

/// A running mailcatch: its bound addresses and the means to stop it.
pub struct Running {
    pub smtp_addr: SocketAddr,
    pub smtps_addr: Option<SocketAddr>,
    pub http_addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: Shutdown,
    tasks: JoinSet<()>,
}

/// Resolves the settings (so a bad option fails before anything binds),
/// binds every listener, then serves in background tasks.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let settings = Settings::resolve(config)?;
    let app = Arc::new(App {
        store: Store::new(settings.config.store_limits()),
        started: Instant::now(),
        settings,
    });
    let shutdown = Shutdown::new();
    let mut tasks = JoinSet::new();

    let smtp = smtp::server::bind(app.clone()).await?;
    let http = http::bind(app.clone()).await?;
    let (smtp_addr, smtps_addr, http_addr) = (smtp.addr, smtp.smtps_addr, http.addr);
    tasks.spawn(smtp.serve(shutdown.clone()));
    tasks.spawn(http.serve(shutdown.clone()));
    tracing::info!(%smtp_addr, %http_addr, "mailcatch is running");

    Ok(Running {
        smtp_addr,
        smtps_addr,
        http_addr,
        app,
        shutdown,
        tasks,
    })
}

impl Running {
    pub fn store(&self) -> &Arc<Store> {
        &self.app.store
    }

    /// Stops accepting, lets in-flight SMTP transactions finish within the
    /// grace period, and waits for every task.
    pub async fn shutdown(mut self) {
        self.shutdown.trigger();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        shutdown::signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}
