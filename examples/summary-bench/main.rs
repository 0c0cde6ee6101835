//! How long summarising one message takes: the parse, HTML-to-text, snippet
//! and search text that ingest does before each 250 reply. Runs in-process
//! on the load generator's messages, without sockets, so a profiler sees
//! only the summariser (`perf record ./target/release/examples/summary-bench`).
//!
//! ```text
//! cargo run --release --example summary-bench -- --size 2k --iterations 200000
//! ```

#[path = "../support/mod.rs"]
mod support;

use std::time::Instant;

use clap::Parser;
use mailcatch::store::{Envelope, summary};
use support::mime::MessageFactory;

/// The binary's allocator, so the figures match the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
struct Args {
    /// Message size, headers included: bytes, or with a k or m suffix.
    #[arg(long, default_value = "2k", value_parser = support::parse_size)]
    size: usize,
    /// Messages to summarise (cycling over 100 distinct ones).
    #[arg(long, default_value_t = 200_000)]
    iterations: usize,
}

fn main() {
    let args = Args::parse();
    let factory = MessageFactory::new(args.size);
    let messages: Vec<Vec<u8>> = (0..100).map(|n| factory.message(n)).collect();
    let envelope = Envelope {
        mail_from: "sender@example.com".into(),
        rcpt_to: vec!["rcpt@example.com".into()],
        ..Envelope::default()
    };
    let mut search_bytes = 0;
    let started = Instant::now();
    for raw in messages.iter().cycle().take(args.iterations) {
        search_bytes += summary::summarize(raw, &envelope).search_text.len();
    }
    let per_message = started.elapsed() / args.iterations.max(1) as u32;
    println!(
        "{} messages of {} B: {per_message:?} per summary, {} B of search text each",
        args.iterations,
        messages[0].len(),
        search_bytes / args.iterations.max(1)
    );
}
