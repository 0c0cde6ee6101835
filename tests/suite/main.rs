//! mailcatch's integration tests, linked into one binary: real clients over
//! real sockets against a live server (in this process, or the real binary
//! where a test needs to kill or restart it).
//!
//! One binary instead of one per file: each test binary links every
//! dependency, so twenty of them cost twenty links and gigabytes of disk.
//! Run a part with a filter on the module, as `scripts/test.sh` does for the
//! engines: `cargo test --test suite -- api_search:: mailboxes::`.

mod adversarial_api;
mod adversarial_mime;
mod adversarial_smtp;
mod api_extract;
mod api_message;
mod api_messages;
mod api_openapi;
mod api_search;
mod api_security;
mod api_send_tags_chaos;
mod api_support;
mod api_wait;
mod api_ws;
mod cli;
mod common;
mod durability;
mod embed;
mod mailboxes;
mod outbound;
mod outbound_auth;
mod outbound_client;
mod outbound_restart;
mod pop3;
mod pop3_tls;
mod smtp_clients;
mod smtp_protocol;
mod ui_browser;
mod ui_http;
mod unix_sockets;
