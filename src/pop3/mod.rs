//! The POP3 side (`--pop3`): a sans-IO session state machine and the tokio
//! transport, serving the stored messages to mail clients as Mailpit does.
/// RETR and TOP replies.
pub(crate) mod render;
pub(crate) mod server;
pub mod session;
