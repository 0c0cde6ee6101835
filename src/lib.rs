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

mod app;
pub mod chaos;
pub mod config;
pub mod credentials;
mod extract;
mod http;
mod running;
mod sendmail;
mod settings;
mod shutdown;
pub mod smtp;
pub mod store;
mod tls;

pub use app::{App, Counters};
pub use config::Config;
pub use http::probe_readyz;
pub use running::{Running, StartError, start};
pub use sendmail::run as sendmail;
pub use settings::Settings;
