//! The SMTP transport: accept loop, TLS, time-outs and connection limits.
//! It only moves bytes between sockets and the sans-IO [`Session`].

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::reply::Reply;
use super::session::{Peer, Session, SessionConfig, Step};
use crate::app::App;
use crate::listen::{Bound, Listen, bind_tcp};
use crate::running::StartError;
use crate::shutdown::Shutdown;
use crate::store::StoreError;
use crate::tls;

/// How much is read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Bound SMTP listeners, ready to serve.
pub struct SmtpServer {
    /// The main listener's TCP address; None on a Unix socket.
    pub addr: Option<SocketAddr>,
    pub smtps_addr: Option<SocketAddr>,
    main: Bound,
    smtps: Option<TcpListener>,
    shared: Arc<Shared>,
}

/// The next connection of the main listener, and the client's address
/// when it has one (a Unix-socket client has none, and no TLS: it is local).
async fn accept(main: &Bound) -> std::io::Result<(Conn, Option<SocketAddr>)> {
    match main {
        Bound::Tcp(listener) => {
            let (stream, peer) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            Ok((Conn::Plain(stream), Some(peer)))
        }
        Bound::Unix(bound) => {
            let (stream, _) = bound.listener.accept().await?;
            Ok((Conn::Unix(stream), None))
        }
    }
}

/// What every connection task needs.
struct Shared {
    session: Arc<SessionConfig>,
    tls: Option<tls::Acceptor>,
    /// The main listener speaks implicit TLS (`--smtp-require-tls`).
    main_is_implicit_tls: bool,
    app: Arc<App>,
    idle_timeout: Duration,
    grace: Duration,
    connections: Arc<Semaphore>,
}

/// Binds the SMTP listeners. Every option was checked, and the certificate
/// and credentials loaded, by [`crate::settings::Settings::resolve`].
pub async fn bind(app: Arc<App>) -> Result<SmtpServer, StartError> {
    let settings = &app.settings;
    let config = &settings.config.smtp;
    let tls = settings.smtp_tls.clone();
    let banner = match config.label.as_str() {
        "" => "mailcatch".to_string(),
        label => format!("mailcatch ({label})"),
    };
    let on_unix_socket = matches!(config.bind, Listen::Unix(_));
    let session = SessionConfig {
        hostname: config.hostname.clone(),
        banner,
        max_message_bytes: config.max_message_bytes(app.store.limits().max_bytes),
        max_recipients: config.smtp_max_recipients.max(1),
        max_line: config.smtp_max_line.max(512),
        max_errors: config.smtp_max_errors.max(1),
        auth: settings.smtp_auth.clone(),
        // A Unix socket never leaves the machine, so passwords may cross
        // it in the clear, as over TLS; it offers no STARTTLS.
        auth_allow_insecure: config.smtp_auth_allow_insecure || on_unix_socket,
        mailbox_keys: app.mailbox_keys.clone(),
        starttls_available: tls.is_some() && !config.smtp_require_tls && !on_unix_socket,
        require_starttls: config.smtp_require_starttls,
        chaos: settings.chaos.clone(),
    };
    let (main, addr) = config.bind.bind().await?;
    let (smtps, smtps_addr) = match config.smtps_bind {
        Some(addr) => {
            let (listener, bound) = bind_tcp(addr).await?;
            (Some(listener), Some(bound))
        }
        None => (None, None),
    };
    Ok(SmtpServer {
        addr,
        smtps_addr,
        main,
        smtps,
        shared: Arc::new(Shared {
            session: Arc::new(session),
            tls,
            main_is_implicit_tls: config.smtp_require_tls,
            app: app.clone(),
            idle_timeout: Duration::from_secs(config.smtp_idle_timeout.max(1)),
            grace: Duration::from_secs(config.shutdown_grace),
            connections: Arc::new(Semaphore::new(config.smtp_max_connections.max(1))),
        }),
    })
}

impl SmtpServer {
    /// Accepts connections until shutdown, then gives sessions in the middle
    /// of a transaction the grace period to finish.
    pub async fn serve(self, mut shutdown: Shutdown) {
        let mut tasks = JoinSet::new();
        loop {
            let (accepted, implicit_tls) = tokio::select! {
                accepted = accept(&self.main) => (accepted, self.shared.main_is_implicit_tls),
                accepted = accept_smtps(self.smtps.as_ref()) => (accepted, true),
                _ = shutdown.wait() => break,
                // Reap finished connection tasks so the set stays small.
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            let Ok((stream, peer)) = accepted else {
                continue;
            };
            let shared = self.shared.clone();
            let shutdown = shutdown.clone();
            match shared.connections.clone().try_acquire_owned() {
                Ok(permit) => {
                    tasks.spawn(async move {
                        let _permit = permit;
                        connection(shared, stream, peer, implicit_tls, shutdown).await;
                    });
                }
                Err(_) => {
                    tasks.spawn(refuse(stream, peer, shared.app.clone()));
                }
            }
        }
        let drained = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.shared.grace, drained)
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; closing remaining SMTP sessions");
        }
    }
}

async fn accept_smtps(
    listener: Option<&TcpListener>,
) -> std::io::Result<(Conn, Option<SocketAddr>)> {
    match listener {
        Some(listener) => {
            let (stream, peer) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            Ok((Conn::Plain(stream), Some(peer)))
        }
        None => std::future::pending().await,
    }
}

/// How a client is named in logs and the refusal feed: its IP address, or
/// `unix` for a Unix-socket client (which has none).
fn client_name(peer: Option<SocketAddr>) -> String {
    peer.map_or_else(|| "unix".to_string(), |peer| peer.ip().to_string())
}

/// Answers a connection over the cap with 421 and closes it.
async fn refuse(mut stream: Conn, peer: Option<SocketAddr>, app: Arc<App>) {
    let reply = Reply::new(421, "4.7.0 Too many connections, try again later");
    let mut out = Vec::new();
    reply.write_to(&mut out);
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&out)).await;
    app.smtp_refused(client_name(peer), reply.summary());
}

async fn connection(
    shared: Arc<Shared>,
    stream: Conn,
    peer: Option<SocketAddr>,
    implicit_tls: bool,
    shutdown: Shutdown,
) {
    let _open = shared.app.metrics.smtp_connection();
    let (stream, tls) = if implicit_tls {
        let Some(acceptor) = &shared.tls else { return };
        let Conn::Plain(stream) = stream else { return };
        match tokio::time::timeout(shared.idle_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                let info = tls::info(&tls);
                (Conn::Tls(Box::new(tls)), Some(info))
            }
            Ok(Err(error)) => {
                tracing::debug!(?peer, %error, "implicit TLS handshake failed");
                return;
            }
            Err(_) => return,
        }
    } else {
        (stream, None)
    };
    tracing::debug!(?peer, "SMTP connection");
    let session = Session::new(
        shared.session.clone(),
        Peer {
            addr: peer,
            tls,
            nonce: nonce(),
        },
    );
    let mut driver = Driver {
        deadline: tokio::time::Instant::now() + shared.idle_timeout,
        shared,
        session,
        conn: stream,
        peer,
        out: Vec::new(),
        shutdown,
    };
    if let Err(error) = driver.run().await {
        tracing::debug!(?peer, %error, "SMTP connection ended with an error");
    }
}

/// Runs one connection's session until it closes.
struct Driver {
    shared: Arc<Shared>,
    session: Session,
    conn: Conn,
    peer: Option<SocketAddr>,
    out: Vec<u8>,
    shutdown: Shutdown,
    /// When the client must have completed its current command or message.
    /// It moves only when the server replies, so a client trickling a byte
    /// at a time (slowloris) cannot hold its connection slot for ever.
    deadline: tokio::time::Instant,
}

impl Driver {
    async fn run(&mut self) -> std::io::Result<()> {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match self.session.next_step() {
                Step::Reply(reply) => self.queue(reply),
                Step::Deliver(incoming) => match self.shared.app.ingest(*incoming).await {
                    Ok(message) => self.session.delivered(message.id()),
                    Err(error) => {
                        tracing::warn!(%error, "message not stored; client told to retry");
                        self.session
                            .delivery_failed(matches!(error, StoreError::Full(_)));
                    }
                },
                Step::StartTls => self.start_tls().await?,
                Step::Close => {
                    self.flush().await?;
                    let _ = self.conn.shutdown().await;
                    return Ok(());
                }
                Step::NeedInput => {
                    self.flush().await?;
                    if !self.read_into(&mut buf).await? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Reads more input; false when the connection is over (EOF, time-out
    /// or shutdown while idle, each answered as RFC 5321 asks).
    async fn read_into(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        let busy = self.session.is_busy();
        let mut shutdown = self.shutdown.clone();
        let read = tokio::select! {
            read = tokio::time::timeout_at(self.deadline, self.conn.read(buf)) => read,
            _ = shutdown.wait(), if !busy => {
                let reply = self.session.shutting_down();
                self.queue(reply);
                self.flush().await?;
                return Ok(false);
            }
        };
        match read {
            Err(_) => {
                let reply = self.session.timeout();
                self.queue(reply);
                self.flush().await?;
                Ok(false)
            }
            Ok(Ok(0)) => Ok(false),
            Ok(Ok(n)) => {
                self.session.receive(&buf[..n]);
                Ok(true)
            }
            Ok(Err(error)) => Err(error),
        }
    }

    fn queue(&mut self, reply: Reply) {
        self.deadline = tokio::time::Instant::now() + self.shared.idle_timeout;
        self.shared.app.metrics.smtp_reply(reply.code);
        if reply.is_error() {
            self.shared
                .app
                .smtp_refused(client_name(self.peer), reply.summary());
        }
        reply.write_to(&mut self.out);
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.conn.write_all(&self.out).await?;
            self.conn.flush().await
        };
        match tokio::time::timeout(self.shared.idle_timeout, write).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "write timed out",
                ));
            }
        }
        self.out.clear();
        Ok(())
    }

    async fn start_tls(&mut self) -> std::io::Result<()> {
        self.flush().await?;
        let Some(acceptor) = self.shared.tls.clone() else {
            return Err(std::io::Error::other("STARTTLS without a certificate"));
        };
        let Conn::Plain(stream) = std::mem::replace(&mut self.conn, Conn::Closed) else {
            return Err(std::io::Error::other("STARTTLS on a TLS connection"));
        };
        let tls = tokio::time::timeout(self.shared.idle_timeout, acceptor.accept(stream))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")
            })??;
        self.session.tls_established(tls::info(&tls));
        self.conn = Conn::Tls(Box::new(tls));
        Ok(())
    }
}

fn nonce() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    format!(
        "{}.{}",
        u64::from_le_bytes(bytes),
        jiff::Timestamp::now().as_second()
    )
}

/// A client connection, plain or TLS (STARTTLS turns one into the other),
/// or over a Unix socket.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tls::Stream>),
    Unix(UnixStream),
    Closed,
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Closed => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Closed => Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s).poll_flush(cx),
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
            Conn::Closed => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Closed => Poll::Ready(Ok(())),
        }
    }
}
