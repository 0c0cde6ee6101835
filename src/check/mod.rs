//! Checks that look outside mailcatch: the HTTP status of a message's links
//! ([`linkcheck`], guarded by [`netguard`]) and SpamAssassin's verdict
//! ([`spamd`]). Each is bounded in time and size, and reports a failure in
//! its answer rather than as an error.

pub mod linkcheck;
pub mod netguard;
pub mod spamd;
