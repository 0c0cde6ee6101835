//! mailcatch: an SMTP mail catcher for development and CI, with a
//! Mailpit-compatible HTTP API, a WebSocket feed and a web UI.
//!
//! As a library it puts a whole mailcatch inside your tests: [`Server`]
//! listens on free loopback ports, your code sends mail to
//! [`Server::smtp_addr`], and the test waits for the mail and reads it.
//!
//! ```
//! # async fn demo() -> Result<(), mailcatch::Error> {
//! use std::time::Duration;
//!
//! let server = mailcatch::Server::builder().start().await?;
//! // The code under test sends here; this example plays it by hand.
//! # use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let mut app = tokio::net::TcpStream::connect(server.smtp_addr()).await.unwrap();
//! app.write_all(b"EHLO app\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\n\
//!     DATA\r\nSubject: Welcome\r\nTo: bob@example.com\r\n\r\nhttps://example.com/confirm/42\r\n.\r\nQUIT\r\n").await.unwrap();
//! # let mut rest = Vec::new(); app.read_to_end(&mut rest).await.unwrap();
//!
//! let mail = server.wait_for("to:bob@example.com", Duration::from_secs(5)).await?;
//! assert_eq!(mail.subject(), "Welcome");
//! assert!(mail.text().unwrap().contains("/confirm/42"));
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
//!
//! Synchronous tests use [`blocking::Server`], the same calls without
//! `.await`. The binary's own entry point is [`start`], which runs the
//! server from a [`Config`] (the command line's options).

#![warn(missing_docs)]

mod app;
pub mod chaos;
mod check;
mod cli;
pub mod config;
pub mod credentials;
mod embed;
mod extract;
mod htmlcheck;
mod http;
pub mod listen;
mod outbound;
pub mod pop3;
mod running;
mod sendmail;
mod settings;
mod shutdown;
pub mod smtp;
pub mod store;
mod thumbnail;
mod tls;

pub use app::{App, Counters};
pub use cli::{Source as DumpSource, dump, load};
pub use config::Config;
pub use embed::{Attachment, Error, Mail, Server, ServerBuilder, blocking};
pub use extract::links::Part as LinkPart;
pub use extract::{Code, Link};
#[doc(hidden)]
pub use http::mailhog::render_standalone as mailhog_view;
pub use http::probe_readyz;
pub use running::{Running, StartError, start};
pub use sendmail::run as sendmail;
pub use settings::Settings;
