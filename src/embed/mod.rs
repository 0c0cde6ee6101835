//! mailcatch inside `cargo test`: a whole server on loopback ports chosen
//! by the system, and the calls a test makes on it.
//!
//! ```
//! # async fn demo() -> Result<(), mailcatch::Error> {
//! use std::time::Duration;
//!
//! let server = mailcatch::Server::builder().start().await?;
//! // Point the code under test at server.smtp_addr(); here, send by hand:
//! # let mut smtp = tokio::net::TcpStream::connect(server.smtp_addr()).await.unwrap();
//! # use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! # smtp.write_all(b"EHLO t\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n\
//! # Subject: Welcome\r\nTo: bob@example.com\r\n\r\nConfirm: https://example.com/confirm/42\r\n.\r\nQUIT\r\n").await.unwrap();
//! # let mut sink = Vec::new(); smtp.read_to_end(&mut sink).await.unwrap();
//! let mail = server.wait_for("to:bob@example.com", Duration::from_secs(5)).await?;
//! assert_eq!(mail.subject(), "Welcome");
//! assert!(mail.text().unwrap_or_default().contains("/confirm/42"));
//! server.shutdown().await;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! The builder reads no environment variables, installs no logger or
//! allocator and needs no files; dropping the server stops it.

pub mod blocking;
mod builder;
mod mail;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use builder::ServerBuilder;
pub use mail::{Attachment, Mail};

use crate::app::{Cursor, Outcome, WaitError, WaitRequest};
use crate::config::Config;
use crate::running::{Running, StartError};
use crate::store::{Query, Selection, StoreError, StoredMessage};

/// What can go wrong when a test talks to its server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not start (a port in use, a bad option...).
    #[error(transparent)]
    Start(#[from] StartError),
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Fewer messages than waited for arrived in time.
    #[error(
        "timed out after {timeout:?} waiting for {wanted} message(s) matching {query:?}; {found} arrived"
    )]
    Timeout {
        /// The search waited on, as given.
        query: String,
        /// How many matches were waited for.
        wanted: usize,
        /// How many matches there were when time ran out.
        found: usize,
        /// How long the wait lasted.
        timeout: Duration,
    },
    /// The server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// A running mailcatch for tests. Dropping it stops it.
pub struct Server {
    running: Option<Running>,
}

impl Server {
    /// The command line's defaults, on free loopback ports.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new(Config::ephemeral())
    }

    fn from_running(running: Running) -> Server {
        Server {
            running: Some(running),
        }
    }

    fn running(&self) -> &Running {
        self.running
            .as_ref()
            .expect("a server is running until shutdown")
    }

    /// Where the code under test should send mail.
    pub fn smtp_addr(&self) -> SocketAddr {
        self.running().smtp_addr
    }

    /// The base URL of the API and UI, e.g. `http://127.0.0.1:40123`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.running().http_addr)
    }

    /// Where POP3 listens, if [`ServerBuilder::pop3_addr`] turned it on.
    pub fn pop3_addr(&self) -> Option<SocketAddr> {
        self.running().pop3_addr
    }

    /// Every stored message, newest first.
    pub async fn messages(&self) -> Result<Vec<Mail>, Error> {
        let page = self.running().store().list(0, 0, None).await?;
        self.open_all(page.messages).await
    }

    /// The messages matching a search (Mailpit's syntax), newest first.
    pub async fn search(&self, query: &str) -> Result<Vec<Mail>, Error> {
        let query = Query::parse(query, None);
        let page = self.running().store().search(&query, 0, usize::MAX).await?;
        self.open_all(page.messages).await
    }

    /// The first message matching `query` (any message when empty), waiting
    /// for it to arrive if it has not yet.
    pub async fn wait_for(&self, query: &str, timeout: Duration) -> Result<Mail, Error> {
        let mut found = self.wait_for_count(query, 1, timeout).await?;
        Ok(found.remove(0))
    }

    /// The first `count` messages matching `query`, oldest first, waiting
    /// for them to arrive.
    pub async fn wait_for_count(
        &self,
        query: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Mail>, Error> {
        let running = self.running();
        let request = WaitRequest {
            query: Query::parse(query, None),
            count: count.max(1),
            after: Cursor::Start,
            timeout,
        };
        let waited = match running.app.wait(request, running.shutdown_signal()).await {
            Ok(waited) => waited,
            Err(WaitError::Store(error)) => return Err(error.into()),
            Err(WaitError::TooManyWaiters(_)) => return Err(Error::ShuttingDown),
        };
        match waited.outcome {
            Outcome::Found => self.open_all(waited.messages).await,
            Outcome::TimedOut => Err(Error::Timeout {
                query: query.to_string(),
                wanted: count.max(1),
                found: waited.messages.len(),
                timeout,
            }),
            Outcome::ShuttingDown => Err(Error::ShuttingDown),
        }
    }

    /// Deletes every message.
    pub async fn clear(&self) -> Result<(), Error> {
        self.running().store().delete(Selection::All).await?;
        Ok(())
    }

    /// Stops the server, letting transactions in flight finish.
    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    async fn open_all(&self, messages: Vec<Arc<StoredMessage>>) -> Result<Vec<Mail>, Error> {
        let store = self.running().store();
        let mut mails = Vec::with_capacity(messages.len());
        for message in messages {
            let raw = store.raw(&message).await?;
            mails.push(Mail::new(message, raw));
        }
        Ok(mails)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.stop();
        }
    }
}
