//! SMTP load generator: N persistent connections send realistic MIME
//! messages as fast as the server accepts them, checking every reply.
//!
//! ```text
//! cargo run --release --example smtp-load -- --conns 10 --messages 20000 --size 2k --pipelining
//! ```
//!
//! Without `--pipelining` each command waits for its reply (four round
//! trips per message, like postfix's `smtp-source`). With it, MAIL, RCPT
//! and DATA go out together and the next message's envelope rides along
//! with the previous message's content (RFC 2920), one round trip each.
//!
//! Prints a human summary and a `RESULT key=value ...` line for scripts;
//! exits 1 unless every message got its 250. Bounded by `--messages` and
//! by `--timeout` (no new message starts after it; every reply has its own
//! `--reply-timeout`). Sends to loopback addresses only.

#[path = "../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use support::mime::{MessageFactory, recipient};
use support::smtp::{SmtpConn, push_envelope};
use support::stats::{Samples, ms};

#[derive(Debug, Parser)]
#[command(about = "SMTP load generator (loopback only)")]
struct Args {
    /// SMTP server to load; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:1025", value_parser = support::loopback_addr)]
    addr: SocketAddr,
    /// Concurrent persistent connections.
    #[arg(long, default_value_t = 10)]
    conns: usize,
    /// Messages to send in total.
    #[arg(long, default_value_t = 20_000)]
    messages: u64,
    /// Message size, headers included: bytes, or with a k or m suffix.
    #[arg(long, default_value = "2k", value_parser = support::parse_size)]
    size: usize,
    /// Pipeline commands (RFC 2920) instead of waiting for each reply.
    #[arg(long)]
    pipelining: bool,
    /// Seconds after which no new message is started.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Seconds to wait for any single reply.
    #[arg(long, default_value_t = 30)]
    reply_timeout: u64,
    /// Runtime threads for the generator (1 keeps it to one core, as smtp-source is).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// What one connection achieved.
#[derive(Default)]
struct ConnReport {
    accepted: u64,
    bytes: u64,
    latencies: Samples,
    error: Option<String>,
}

/// Hands out message numbers until the run's count or deadline is reached.
struct Work {
    next: AtomicU64,
    total: u64,
    deadline: Instant,
}

impl Work {
    fn claim(&self) -> Option<u64> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (n < self.total).then_some(n)
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match args.threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    }
    .expect("tokio runtime");
    runtime.block_on(run(args))
}

async fn run(args: Args) -> std::process::ExitCode {
    let factory = Arc::new(MessageFactory::new(args.size));
    let work = Arc::new(Work {
        next: AtomicU64::new(0),
        total: args.messages,
        deadline: Instant::now() + Duration::from_secs(args.timeout),
    });
    let reply_timeout = Duration::from_secs(args.reply_timeout.max(1));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.conns.max(1))
        .map(|_| {
            let (factory, work) = (factory.clone(), work.clone());
            let (addr, pipelining) = (args.addr, args.pipelining);
            tokio::spawn(async move {
                let mut report = ConnReport::default();
                let outcome = match SmtpConn::open(addr, reply_timeout).await {
                    Ok(conn) if pipelining => pipelined(conn, &factory, &work, &mut report).await,
                    Ok(conn) => lockstep(conn, &factory, &work, &mut report).await,
                    Err(error) => Err(error),
                };
                report.error = outcome.err();
                report
            })
        })
        .collect();
    let mut total = ConnReport::default();
    let mut errors = Vec::new();
    for task in tasks {
        let report = task.await.expect("connection task");
        total.accepted += report.accepted;
        total.bytes += report.bytes;
        total.latencies.extend(report.latencies);
        errors.extend(report.error);
    }
    let secs = started.elapsed().as_secs_f64();
    print_report(&args, &mut total, &errors, secs);
    if total.accepted == args.messages && errors.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// One round trip per command, as `smtp-source` does.
async fn lockstep(
    mut conn: SmtpConn,
    factory: &MessageFactory,
    work: &Work,
    report: &mut ConnReport,
) -> Result<(), String> {
    let mut message = Vec::new();
    while let Some(n) = work.claim() {
        message.clear();
        factory.write(n, &mut message);
        let sent_at = Instant::now();
        conn.send_message(&recipient(n), &message).await?;
        report.latencies.push(sent_at.elapsed());
        report.accepted += 1;
        report.bytes += message.len() as u64;
    }
    conn.quit().await;
    Ok(())
}

/// One round trip per message: the content of message `k`, its `.` and
/// the envelope of message `k + 1` go out in one write (RFC 2920 allows
/// the content to start a command group; DATA must end one).
async fn pipelined(
    mut conn: SmtpConn,
    factory: &MessageFactory,
    work: &Work,
    report: &mut ConnReport,
) -> Result<(), String> {
    let Some(mut current) = work.claim() else {
        conn.quit().await;
        return Ok(());
    };
    let mut out = Vec::new();
    push_envelope(&mut out, &recipient(current));
    conn.send(&out).await?;
    let mut envelope_sent_at = Instant::now();
    loop {
        conn.expect(250, "MAIL").await?;
        conn.expect(250, "RCPT").await?;
        conn.expect(354, "DATA").await?;
        out.clear();
        factory.write(current, &mut out);
        let message_len = out.len();
        out.extend_from_slice(b".\r\n");
        let next = work.claim();
        if let Some(next) = next {
            push_envelope(&mut out, &recipient(next));
        }
        conn.send(&out).await?;
        let next_sent_at = Instant::now();
        conn.expect(250, "end of data").await?;
        report.latencies.push(envelope_sent_at.elapsed());
        report.accepted += 1;
        report.bytes += message_len as u64;
        match next {
            Some(next) => (current, envelope_sent_at) = (next, next_sent_at),
            None => break,
        }
    }
    conn.quit().await;
    Ok(())
}

fn print_report(args: &Args, total: &mut ConnReport, errors: &[String], secs: f64) {
    let msgs_per_s = total.accepted as f64 / secs;
    let mb_per_s = total.bytes as f64 / 1e6 / secs;
    let average = total.bytes.checked_div(total.accepted).unwrap_or(0);
    let (p50, p99, max) = (
        total.latencies.percentile(50.0),
        total.latencies.percentile(99.0),
        total.latencies.percentile(100.0),
    );
    println!(
        "smtp-load: {} x ~{} B over {} connection(s){} to {}",
        args.messages,
        average,
        args.conns,
        if args.pipelining {
            " with pipelining"
        } else {
            ""
        },
        args.addr
    );
    println!(
        "  accepted {} of {} in {secs:.3} s: {msgs_per_s:.0} msgs/s, {mb_per_s:.1} MB/s, latency p50 {} ms, p99 {} ms",
        total.accepted,
        args.messages,
        ms(p50),
        ms(p99)
    );
    for error in errors.iter().take(5) {
        println!("  error: {error}");
    }
    println!(
        "RESULT sent={} accepted={} failed={} bytes={} secs={secs:.4} msgs_per_s={msgs_per_s:.1} \
         mb_per_s={mb_per_s:.2} p50_ms={} p99_ms={} max_ms={} errors={}",
        args.messages,
        total.accepted,
        args.messages - total.accepted,
        total.bytes,
        ms(p50),
        ms(p99),
        ms(max),
        errors.len()
    );
}
