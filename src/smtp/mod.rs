//! The SMTP side: a sans-IO session state machine and the tokio transport.
pub mod server;
