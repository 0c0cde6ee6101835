//! Where a stored message's memory goes: starts mailcatch in-process on
//! loopback, sends messages of a given size over SMTP, and breaks the
//! store's heap use down by component, next to the process's RSS growth.
//!
//! ```text
//! cargo run --release --example store-footprint -- --messages 20000 --size 2k
//! ```

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use clap::Parser;
use support::mime::{MessageFactory, recipient};
use support::smtp::SmtpConn;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    messages: u64,
    #[arg(long, default_value = "2k", value_parser = support::parse_size)]
    size: usize,
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Heap bytes of a string: its capacity, plus a malloc header if allocated.
fn heap(capacity: usize) -> usize {
    if capacity == 0 { 0 } else { capacity + 16 }
}

fn strings<'a>(list: impl IntoIterator<Item = &'a String>) -> usize {
    list.into_iter().map(|s| heap(s.capacity()) + 24).sum()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut config = mailcatch::Config::ephemeral();
    config.store.max_messages = 0;
    config.store.max_store_mb = 8192;
    let running = mailcatch::start(config).await.expect("start");
    let factory = MessageFactory::new(args.size);
    let before = rss_kb();
    let mut conn = SmtpConn::open(running.smtp_addr, Duration::from_secs(30))
        .await
        .expect("connect");
    for n in 0..args.messages {
        conn.send_message(&recipient(n), &factory.message(n))
            .await
            .expect("send");
    }
    conn.quit().await;
    let grown = (rss_kb() - before) * 1024;
    let messages = running
        .store()
        .list(0, 0, None)
        .await
        .expect("list")
        .messages;
    let count = messages.len().max(1);
    let mut parts: Vec<(&str, usize)> = vec![
        (
            "raw (as kept: LZ4 where it pays)",
            messages.iter().map(|m| m.raw_footprint()).sum(),
        ),
        (
            "search_text",
            messages
                .iter()
                .map(|m| heap(m.summary.search_text.capacity()))
                .sum(),
        ),
        (
            "snippet + subject + ids",
            messages
                .iter()
                .map(|m| {
                    let s = &m.summary;
                    heap(s.snippet.capacity())
                        + heap(s.subject.capacity())
                        + heap(s.message_id.capacity())
                        + m.id.text.len()
                        + 16
                })
                .sum(),
        ),
        (
            "addresses",
            messages
                .iter()
                .map(|m| {
                    let s = &m.summary;
                    std::iter::once(&s.from)
                        .chain(&s.to)
                        .chain(&s.cc)
                        .chain(&s.bcc)
                        .chain(&s.reply_to)
                        .map(|a| heap(a.name.capacity()) + heap(a.address.capacity()) + 48)
                        .sum::<usize>()
                })
                .sum(),
        ),
        (
            "transcript",
            messages
                .iter()
                // The shared part is counted once per distinct allocation.
                .map(|m| heap(m.transcript.own.len()))
                .sum::<usize>()
                + {
                    let mut seen = std::collections::HashSet::new();
                    messages
                        .iter()
                        .filter(|m| {
                            seen.insert(
                                std::sync::Arc::as_ptr(&m.transcript.shared) as *const u8 as usize
                            )
                        })
                        .map(|m| heap(m.transcript.shared.len()) + 16)
                        .sum::<usize>()
                },
        ),
        (
            "envelope + warnings",
            messages
                .iter()
                .map(|m| {
                    strings(&m.envelope.rcpt_to)
                        + heap(m.envelope.mail_from.capacity())
                        + heap(m.envelope.helo.capacity())
                        + strings(&m.envelope.mail_params)
                        + strings(&m.warnings)
                        + strings(&m.summary.content_warnings)
                })
                .sum(),
        ),
        (
            "StoredMessage struct",
            count * (std::mem::size_of::<mailcatch::store::StoredMessage>() + 16),
        ),
    ];
    let accounted: usize = parts.iter().map(|(_, b)| b).sum();
    parts.push((
        "unaccounted (RSS growth minus the above)",
        (grown as usize).saturating_sub(accounted),
    ));
    let received: usize = messages.iter().map(|m| m.size()).sum();
    println!(
        "{} messages of ~{} B; RSS grew {:.1} MB ({:.2}x the bytes received)",
        count,
        received / count,
        grown as f64 / 1e6,
        grown as f64 / received.max(1) as f64
    );
    for (name, bytes) in parts {
        println!(
            "  {name:<44} {:>8} B/msg  {:>6.1} MB",
            bytes / count,
            bytes as f64 / 1e6
        );
    }
    if let Some(m) = messages.first() {
        println!(
            "  transcript of one message: {} entries",
            m.transcript.lines().count()
        );
    }
    running.shutdown().await;
}
