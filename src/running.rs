//! Starting and stopping a whole mailcatch: the store, the SMTP and HTTP
//! listeners, and the background upkeep.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::app::App;
use crate::config::Config;
use crate::listen::Listen;
use crate::settings::Settings;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::{http, pop3, smtp};

/// Why mailcatch could not start. Nothing is listening when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound (address in use, no permission, ...).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// A Unix-domain socket could not be bound (the path is in use by a
    /// live server, is not a socket, or its directory is not writable).
    #[error("cannot listen on the Unix socket {}: {source}", path.display())]
    BindUnix {
        /// The socket path asked for.
        path: std::path::PathBuf,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded or made, or this
    /// build has no TLS.
    #[error("TLS: {0}")]
    Tls(String),
    /// An option is invalid or names a file that cannot be read.
    #[error("configuration: {0}")]
    Config(String),
    /// The store's database could not be opened. The binary exits with
    /// status 1 for this and 2 for the others.
    #[error("{0}")]
    Database(String),
}

/// A running mailcatch: its bound addresses and the means to stop it.
pub struct Running {
    /// Where the SMTP listener is bound (the real port when 0 was asked
    /// for); `0.0.0.0:0` when it listens on a Unix socket instead.
    pub smtp_addr: SocketAddr,
    /// Where the implicit-TLS (SMTPS) listener is bound, if one was asked for.
    pub smtps_addr: Option<SocketAddr>,
    /// Where the HTTP API and web UI are bound; `0.0.0.0:0` when they
    /// listen on a Unix socket instead.
    pub http_addr: SocketAddr,
    /// Where the POP3 listener is bound, if `--pop3` was given.
    pub pop3_addr: Option<SocketAddr>,
    /// Where `/metrics` has a listener of its own, if it has.
    pub metrics_addr: Option<SocketAddr>,
    /// The shared core: settings, store, counters and change feed.
    pub app: Arc<App>,
    shutdown: Shutdown,
    tasks: JoinSet<()>,
}

/// Resolves the settings (so a bad option fails before anything binds),
/// opens the store, binds every listener, then serves in background tasks.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let settings = Settings::resolve(config)?;
    let max_age = settings.limits.max_age;
    let app = Arc::new(App::open(settings).await?);
    let shutdown = Shutdown::new();
    let mut tasks = JoinSet::new();

    let smtp = smtp::server::bind(app.clone()).await?;
    let http = http::bind(app.clone()).await?;
    let pop3 = pop3::server::bind(app.clone()).await?;
    let metrics = http::metrics::bind(&app).await?;
    let no_tcp = SocketAddr::from(([0, 0, 0, 0], 0));
    let (smtp_addr, smtps_addr) = (smtp.addr.unwrap_or(no_tcp), smtp.smtps_addr);
    let http_addr = http.addr.unwrap_or(no_tcp);
    let config = &app.settings.config;
    let (smtp_shown, http_shown) = (
        shown(smtp.addr, &config.smtp.bind),
        shown(http.addr, &config.http.bind),
    );
    // The webhook listens before the first message can arrive.
    if let Some(url) = app.settings.config.http.webhook_url.clone() {
        let events = app.subscribe();
        tasks.spawn(http::webhook::run(
            app.clone(),
            url,
            events,
            shutdown.clone(),
        ));
    }
    let pop3_addr = pop3.as_ref().map(|pop3| pop3.addr);
    let metrics_addr = metrics.as_ref().map(|metrics| metrics.addr);
    if let Some(metrics) = metrics {
        tasks.spawn(metrics.serve(shutdown.clone()));
    }
    tasks.spawn(smtp.serve(shutdown.clone()));
    tasks.spawn(http.serve(shutdown.clone()));
    if let Some(pop3) = pop3 {
        tracing::info!(%pop3.addr, "POP3 is running");
        tasks.spawn(pop3.serve(shutdown.clone()));
    }
    if let Some(age) = max_age {
        tasks.spawn(expire(app.clone(), age, shutdown.clone()));
    }
    tasks.spawn(expire_mailboxes(app.clone(), shutdown.clone()));
    tasks.spawn(app.outbound.clone().run(shutdown.clone()));
    if let Some(spamd) = app.settings.spamd.clone() {
        tasks.spawn(crate::check::spamd::announce(spamd, shutdown.clone()));
    }
    tracing::info!(smtp = %smtp_shown, http = %http_shown, "mailcatch is running");

    Ok(Running {
        smtp_addr,
        smtps_addr,
        http_addr,
        pop3_addr,
        metrics_addr,
        app,
        shutdown,
        tasks,
    })
}

/// A listener's address for the log: the bound port, or the socket path.
fn shown(bound: Option<SocketAddr>, asked: &Listen) -> String {
    bound.map_or_else(|| asked.to_string(), |addr| addr.to_string())
}

/// Deletes messages past `--max-age`, checking a twentieth of the age
/// apart (between 1 s and 1 min), so none outlives it by much.
async fn expire(app: Arc<App>, age: Duration, mut shutdown: Shutdown) {
    let period = (age / 20).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(error) = app.store.evict_expired().await {
                    tracing::warn!(%error, "expiring old messages failed");
                }
            }
            _ = shutdown.wait() => return,
        }
    }
}

/// Deletes mailboxes whose TTL ran out, checking every second (a scan of
/// the mailbox settings in memory; the store is touched only to delete).
async fn expire_mailboxes(app: Arc<App>, mut shutdown: Shutdown) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(error) = app.expire_mailboxes().await {
                    tracing::warn!(%error, "expiring mailboxes failed");
                }
            }
            _ = shutdown.wait() => return,
        }
    }
}

impl Running {
    /// The message store, for reading and changing messages directly.
    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Fires when shutdown starts (for waits that must end with it).
    pub(crate) fn shutdown_signal(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Starts shutting down without waiting (for `Drop`): the listeners
    /// stop and the tasks end on their own.
    pub(crate) fn stop(&self) {
        self.shutdown.trigger();
    }

    /// Stops accepting, lets in-flight SMTP transactions finish within the
    /// grace period, waits for every task, and closes the store (with a
    /// database, after its last commit).
    pub async fn shutdown(mut self) {
        self.shutdown.trigger();
        while self.tasks.join_next().await.is_some() {}
        self.app.store.close().await;
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        crate::shutdown::signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}
