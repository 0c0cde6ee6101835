//! The SMTP side: a sans-IO session state machine and the tokio transport.
pub(crate) mod address;
pub mod auth;
pub(crate) mod command;
pub(crate) mod data;
pub(crate) mod reply;
pub(crate) mod server;
pub mod session;
mod transcript;

pub use session::{Peer, Session, SessionConfig, Step};
