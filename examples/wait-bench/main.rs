//! The wait endpoint of a running mailcatch, over loopback:
//!
//! * the delay from an SMTP 250 reply to the answer of a wait that was
//!   already open for that message (median and p99);
//! * mailcatch's CPU time while 1,000 waiters sit idle (read from
//!   `/proc/PID/stat`, so run it on Linux against a local process).
//!
//! ```text
//! cargo run --release --example wait-bench -- --http 127.0.0.1:8025 --smtp 127.0.0.1:1025 --pid 1234
//! ```
//!
//! Prints a `RESULT key=value ...` line. Every loop is bounded by its count
//! and by per-request time-outs.

#[path = "../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use support::smtp::SmtpConn;
use support::stats::{Samples, ms};

#[derive(Debug, Parser)]
#[command(about = "mailcatch wait latency and idle-waiter cost (loopback only)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:8025", value_parser = support::loopback_addr)]
    http: SocketAddr,
    #[arg(long, default_value = "127.0.0.1:1025", value_parser = support::loopback_addr)]
    smtp: SocketAddr,
    /// mailcatch's process ID, for its CPU time.
    #[arg(long)]
    pid: u32,
    /// Messages sent to time the 250-to-answer delay.
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Idle waiters held open while CPU is measured.
    #[arg(long, default_value_t = 1000)]
    idle_waiters: usize,
    /// Seconds over which the idle waiters' CPU is measured.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
}

/// The process's user plus system CPU time, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .ok_or("unreadable stat")?
        .1
        .split_whitespace()
        .collect();
    let (user, system): (u64, u64) = (
        fields[11].parse().map_err(|_| "utime")?,
        fields[12].parse().map_err(|_| "stime")?,
    );
    Ok(user + system)
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: bench@example.com\r\nTo: waiter@example.com\r\nSubject: wait-bench {n}\r\n\r\nhello\r\n"
    )
    .into_bytes()
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(args.idle_waiters + 8)
        .build()
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", args.http);

    // 1. Delay from the 250 to the wait's answer.
    let mut smtp = SmtpConn::open(args.smtp, Duration::from_secs(30)).await?;
    let mut delays = Samples::default();
    for n in 0..args.messages {
        let url = format!(
            "{base}/api/mailcatch/v1/wait?query=subject:%22wait-bench%20{n}%22&after=now&timeout=20"
        );
        let waiter = tokio::spawn(client.get(url).send());
        // Let the wait reach the server before the mail does.
        tokio::time::sleep(Duration::from_millis(5)).await;
        smtp.send_message("waiter@example.com", &message(n)).await?;
        let acked = Instant::now();
        let response = waiter
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        delays.push(acked.elapsed());
        if response.status() != 200 {
            return Err(format!("wait {n} answered {}", response.status()));
        }
    }
    smtp.quit().await;

    // 2. CPU while idle waiters wait.
    let idle: Vec<_> = (0..args.idle_waiters)
        .map(|n| {
            let url = format!(
                "{base}/api/mailcatch/v1/wait?query=subject:never-{n}&after=now&timeout=60"
            );
            tokio::spawn(client.get(url).send())
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await; // let them all connect
    let before = cpu_ticks(args.pid)?;
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let idle_ticks = cpu_ticks(args.pid)? - before;
    for waiter in &idle {
        waiter.abort();
    }
    let cpu_percent = idle_ticks as f64 / args.idle_seconds as f64; // ticks are 1/100 s
    println!(
        "RESULT wait_median_ms={} wait_p99_ms={} idle_waiters={} idle_cpu_percent={:.2}",
        ms(delays.median()),
        ms(delays.percentile(99.0)),
        args.idle_waiters,
        cpu_percent
    );
    Ok(())
}
