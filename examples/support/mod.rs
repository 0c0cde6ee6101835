//! Code shared by the benchmark examples (`smtp-load`, `api-bench`).
//!
//! Each example includes this directory with `#[path]`, so it is compiled
//! into each of them rather than built as an example of its own.
#![allow(dead_code)]

pub mod mime;
pub mod smtp;
pub mod stats;

use std::net::SocketAddr;

/// Parses an address and refuses anything but loopback: the benchmarks
/// generate load, and load only ever goes to this machine.
pub fn loopback_addr(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|e| format!("{text}: not an IP:port address ({e})"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr}: only loopback addresses are allowed"));
    }
    Ok(addr)
}

/// Parses a byte size such as `2048`, `2k`, `200K` or `1m` (binary units).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, unit) = match lower.strip_suffix(['k', 'm']) {
        Some(digits) if lower.ends_with('k') => (digits, 1024),
        Some(digits) => (digits, 1024 * 1024),
        None => (lower.as_str(), 1),
    };
    digits
        .parse::<usize>()
        .map(|n| n * unit)
        .map_err(|_| format!("{text}: not a size like 2048, 2k or 1m"))
}
