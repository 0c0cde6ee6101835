//! The same server for synchronous tests: each call blocks until done. It
//! runs its own small tokio runtime, so the test needs none.
//!
//! ```
//! use std::time::Duration;
//!
//! let server = mailcatch::blocking::Server::builder().start().unwrap();
//! # use std::io::{Read, Write};
//! # let mut smtp = std::net::TcpStream::connect(server.smtp_addr()).unwrap();
//! # smtp.write_all(b"EHLO t\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n\
//! # Subject: Reset your password\r\n\r\nYour code is 493021\r\n.\r\nQUIT\r\n").unwrap();
//! # let mut sink = Vec::new(); smtp.read_to_end(&mut sink).unwrap();
//! let mail = server.wait_for("subject:reset", Duration::from_secs(5)).unwrap();
//! assert!(mail.text().unwrap().contains("493021"));
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use super::{Error, Mail};

/// Builds a blocking [`Server`]; the options are those of
/// [`crate::ServerBuilder`].
pub struct ServerBuilder(super::ServerBuilder);

impl ServerBuilder {
    /// Changes the options with the async builder's methods, e.g.
    /// `.with(|b| b.max_messages(10))`.
    pub fn with(self, adjust: impl FnOnce(super::ServerBuilder) -> super::ServerBuilder) -> Self {
        ServerBuilder(adjust(self.0))
    }

    /// Starts the server on its own runtime and returns once every
    /// listener is bound.
    pub fn start(self) -> Result<Server, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mailcatch")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Start(crate::running::StartError::Config(format!("runtime: {e}")))
            })?;
        let server = runtime.block_on(self.0.start())?;
        Ok(Server {
            server: Some(server),
            runtime,
        })
    }
}

/// A running mailcatch for synchronous tests. Dropping it stops it.
pub struct Server {
    server: Option<super::Server>,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    /// The command line's defaults, on free loopback ports, as
    /// [`crate::Server::builder`].
    pub fn builder() -> ServerBuilder {
        ServerBuilder(super::Server::builder())
    }

    fn inner(&self) -> &super::Server {
        self.server.as_ref().expect("running until dropped")
    }

    /// Where the code under test should send mail.
    pub fn smtp_addr(&self) -> SocketAddr {
        self.inner().smtp_addr()
    }

    /// The base URL of the API and UI, e.g. `http://127.0.0.1:40123`.
    pub fn http_url(&self) -> String {
        self.inner().http_url()
    }

    /// Where POP3 listens, if the builder's `pop3_addr` turned it on.
    pub fn pop3_addr(&self) -> Option<SocketAddr> {
        self.inner().pop3_addr()
    }

    /// Every stored message, newest first.
    pub fn messages(&self) -> Result<Vec<Mail>, Error> {
        self.runtime.block_on(self.inner().messages())
    }

    /// The messages matching a search (Mailpit's syntax), newest first.
    pub fn search(&self, query: &str) -> Result<Vec<Mail>, Error> {
        self.runtime.block_on(self.inner().search(query))
    }

    /// The first message matching `query` (any message when empty), waiting
    /// for it to arrive if it has not yet.
    pub fn wait_for(&self, query: &str, timeout: Duration) -> Result<Mail, Error> {
        self.runtime.block_on(self.inner().wait_for(query, timeout))
    }

    /// The first `count` messages matching `query`, oldest first, waiting
    /// for them to arrive.
    pub fn wait_for_count(
        &self,
        query: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Mail>, Error> {
        self.runtime
            .block_on(self.inner().wait_for_count(query, count, timeout))
    }

    /// Deletes every message.
    pub fn clear(&self) -> Result<(), Error> {
        self.runtime.block_on(self.inner().clear())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}
