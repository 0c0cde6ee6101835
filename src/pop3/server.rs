//! The POP3 transport: accept loop, connection cap, bounded lines and
//! time-outs. It moves bytes between sockets and the sans-IO [`Session`],
//! and does the store work the session asks for.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::render;
use super::session::{self, Action, Entry, MAX_LINE, Session, SessionConfig};
use crate::app::App;
use crate::listen::bind_tcp;
use crate::running::StartError;
use crate::shutdown::Shutdown;
use crate::store::Selection;
use crate::store::mailbox::{Scope, canonical_name};
use crate::tls;

/// How long a failed PASS is answered late, so passwords cannot be tried
/// quickly.
const LOGIN_FAILURE_DELAY: Duration = Duration::from_secs(1);

/// A bound POP3 listener, ready to serve.
pub(crate) struct Pop3Server {
    /// Where it is bound (the real port when 0 was asked for).
    pub addr: SocketAddr,
    listener: TcpListener,
    shared: Arc<Shared>,
}

/// What every connection task needs.
struct Shared {
    session: Arc<SessionConfig>,
    app: Arc<App>,
    idle_timeout: Duration,
    grace: Duration,
    connections: Arc<Semaphore>,
    /// The certificate: implicit TLS, or STLS when `session.stls`.
    tls: Option<tls::Acceptor>,
}

/// Binds the POP3 listener if `--pop3` was given. The credentials were
/// loaded, and their presence checked, by
/// [`crate::settings::Settings::resolve`].
pub(crate) async fn bind(app: Arc<App>) -> Result<Option<Pop3Server>, StartError> {
    let config = &app.settings.config;
    let (Some(addr), Some(credentials)) = (config.pop3.bind, &app.settings.pop3_credentials) else {
        return Ok(None);
    };
    let (listener, bound) = bind_tcp(addr).await?;
    Ok(Some(Pop3Server {
        addr: bound,
        listener,
        shared: Arc::new(Shared {
            session: Arc::new(SessionConfig {
                credentials: credentials.clone(),
                keys: app.mailbox_keys.clone(),
                stls: config.pop3.stls && app.settings.pop3_tls.is_some(),
            }),
            tls: app.settings.pop3_tls.clone(),
            app: app.clone(),
            idle_timeout: Duration::from_secs(config.pop3.idle_timeout.max(1)),
            grace: Duration::from_secs(config.smtp.shutdown_grace),
            connections: Arc::new(Semaphore::new(config.pop3.max_connections.max(1))),
        }),
    }))
}

impl Pop3Server {
    /// Accepts connections until shutdown; sessions then end at their next
    /// read (without applying their deletions), within the grace period.
    pub async fn serve(self, mut shutdown: Shutdown) {
        let mut tasks = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                _ = shutdown.wait() => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            let Ok((stream, peer)) = accepted else {
                continue;
            };
            let shared = self.shared.clone();
            match shared.connections.clone().try_acquire_owned() {
                Ok(permit) => {
                    let shutdown = shutdown.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        if let Err(error) = connection(&shared, stream, shutdown).await {
                            tracing::debug!(%peer, %error, "POP3 connection ended with an error");
                        }
                    });
                }
                Err(_) => {
                    tasks.spawn(async move {
                        let mut stream = stream;
                        let _ = tokio::time::timeout(
                            Duration::from_secs(2),
                            stream.write_all(session::TOO_MANY_CONNECTIONS.as_bytes()),
                        )
                        .await;
                    });
                }
            }
        }
        let drained = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.shared.grace, drained)
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; closing remaining POP3 sessions");
        }
    }
}

/// What reading one command line gave.
enum Read {
    Line(Vec<u8>),
    TooLong,
    /// End of input, a time-out or shutdown: the reply to send, if any.
    End(Option<&'static str>),
}

/// How a conversation over one stream ended.
enum Ended<S> {
    /// The session is over.
    Closed,
    /// STLS was accepted: TLS is negotiated over this stream next.
    StartTls(BufReader<S>),
}

/// The reply to input sent after STLS but before the TLS handshake: it
/// could be a command injected in plaintext (RFC 2595's warning), so the
/// connection is closed.
const INPUT_BEFORE_TLS: &str = "-ERR data after STLS before the TLS handshake\r\n";

async fn connection(shared: &Shared, stream: TcpStream, shutdown: Shutdown) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut session = Session::new(shared.session.clone());
    if let (Some(acceptor), false) = (&shared.tls, shared.session.stls) {
        let tls = handshake(shared, acceptor, stream).await?;
        session.tls_started();
        converse(shared, BufReader::new(tls), &mut session, shutdown, true).await?;
        return Ok(());
    }
    let plain = BufReader::with_capacity(4096, stream);
    let Ended::StartTls(mut plain) =
        converse(shared, plain, &mut session, shutdown.clone(), true).await?
    else {
        return Ok(());
    };
    let Some(acceptor) = &shared.tls else {
        return Ok(());
    };
    if !plain.buffer().is_empty() {
        let _ = write_within(shared, &mut plain, INPUT_BEFORE_TLS.as_bytes()).await;
        return Ok(());
    }
    let tls = handshake(shared, acceptor, plain.into_inner()).await?;
    session.tls_started();
    converse(shared, BufReader::new(tls), &mut session, shutdown, false).await?;
    Ok(())
}

async fn handshake(
    shared: &Shared,
    acceptor: &tls::Acceptor,
    stream: TcpStream,
) -> std::io::Result<tls::Stream> {
    tokio::time::timeout(shared.idle_timeout, acceptor.accept(stream))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

async fn write_within<S: AsyncWrite + Unpin>(
    shared: &Shared,
    stream: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    match tokio::time::timeout(shared.idle_timeout, stream.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// Runs the session over `stream` (greeting first if `greet`) until it
/// ends or asks for TLS.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    mut stream: BufReader<S>,
    session: &mut Session,
    mut shutdown: Shutdown,
    greet: bool,
) -> std::io::Result<Ended<S>> {
    if greet {
        write_within(shared, &mut stream, session.greeting().as_bytes()).await?;
    }
    loop {
        let read = tokio::select! {
            read = tokio::time::timeout(shared.idle_timeout, read_line(&mut stream)) => match read {
                Ok(read) => read?,
                Err(_) => Read::End(Some(session::IDLE_TIMEOUT)),
            },
            _ = shutdown.wait() => Read::End(Some(session::SHUTTING_DOWN)),
        };
        let line = match read {
            Read::Line(line) => line,
            Read::TooLong => {
                write_within(shared, &mut stream, session::LINE_TOO_LONG.as_bytes()).await?;
                break;
            }
            Read::End(reply) => {
                if let Some(reply) = reply {
                    write_within(shared, &mut stream, reply.as_bytes()).await?;
                }
                break;
            }
        };
        let reply = match session.line(&line) {
            Action::Reply(reply) => reply,
            Action::RejectLogin(reply) => {
                tokio::time::sleep(LOGIN_FAILURE_DELAY).await;
                reply
            }
            Action::OpenMaildrop { user, mailboxes } => {
                match maildrop(&shared.app, &user, mailboxes).await {
                    Ok(maildrop) => session.opened(maildrop),
                    Err(error) => {
                        tracing::warn!(%error, "POP3 maildrop not loaded");
                        let reply = session.open_failed();
                        write_within(shared, &mut stream, reply.as_bytes()).await?;
                        break;
                    }
                }
            }
            Action::Send { id, top } => {
                let store = &shared.app.store;
                let raw = match store.get(&id).await {
                    Ok(Some(message)) => store.raw(&message).await.ok(),
                    _ => None,
                };
                let bytes = match raw {
                    Some(raw) => render::render(&raw, top),
                    None => session::NO_LONGER_STORED.as_bytes().to_vec(),
                };
                write_within(shared, &mut stream, &bytes).await?;
                continue;
            }
            Action::Update(ids) => {
                let success = ids.is_empty()
                    || match shared.app.store.delete(Selection::Ids(&ids)).await {
                        Ok(_) => true,
                        Err(error) => {
                            tracing::warn!(%error, "POP3 deletions not applied");
                            false
                        }
                    };
                write_within(shared, &mut stream, session.updated(success).as_bytes()).await?;
                break;
            }
            Action::Close(reply) => {
                write_within(shared, &mut stream, reply.as_bytes()).await?;
                break;
            }
            Action::StartTls(reply) => {
                write_within(shared, &mut stream, reply.as_bytes()).await?;
                stream.flush().await?;
                return Ok(Ended::StartTls(stream));
            }
        };
        write_within(shared, &mut stream, reply.as_bytes()).await?;
    }
    let _ = stream.shutdown().await;
    Ok(Ended::Closed)
}

/// Reads one line of at most [`MAX_LINE`] bytes, its `\n` included.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Read> {
    let mut line = Vec::new();
    let n = reader
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await?;
    Ok(match line.last() {
        _ if n == 0 => Read::End(None),
        Some(b'\n') => Read::Line(line),
        // MAX_LINE bytes without a line end: too long.
        _ if line.len() >= MAX_LINE => Read::TooLong,
        // The connection ended in the middle of a line.
        _ => Read::End(None),
    })
}

/// The stored messages of the user's mailboxes, oldest first: the
/// session's maildrop. The mailboxes are those the login names; else the
/// mailbox named as the user, if there is one; else every mailbox but the
/// private ones (as the web UI's root shows them).
async fn maildrop(
    app: &App,
    user: &str,
    mailboxes: Vec<String>,
) -> Result<Vec<Entry>, crate::store::StoreError> {
    let store = &app.store;
    let own = canonical_name(user).filter(|name| store.mailbox(name).is_some());
    let scope = match (mailboxes.is_empty(), own) {
        (false, _) => Scope::Only(mailboxes.into_iter().map(Arc::from).collect()),
        (true, Some(name)) => Scope::one(Arc::from(name)),
        (true, None) => store.public_scope(),
    };
    let page = store.scoped(&scope).list(0, 0, None).await?;
    Ok(page
        .messages
        .iter()
        .rev()
        .map(|message| Entry {
            id: message.id().to_string(),
            size: message.size(),
        })
        .collect())
}
