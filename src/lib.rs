//! mailcatch: an SMTP mail catcher with a Mailpit-compatible API.
pub mod store;
