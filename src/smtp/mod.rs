//! The SMTP side: a sans-IO session state machine and the tokio transport.
pub mod auth;
pub mod command;
pub mod data;
pub mod reply;
pub mod server;
pub mod session;
mod transcript;

pub use session::{Peer, Session, SessionConfig, Step};
