//! API and live-feed latency of a running mailcatch, over loopback:
//!
//! * `GET /api/v1/messages?limit=50` (the newest page),
//! * `GET /api/v1/search` with a free-text term, with a term no message
//!   contains (so every message is scanned; the run fails if one matches)
//!   and with a `subject:` term,
//! * the delay from an SMTP 250 reply to the WebSocket `new` frame for the
//!   same message.
//!
//! ```text
//! cargo run --release --example api-bench -- --http 127.0.0.1:8025 --smtp 127.0.0.1:1025 --runs 20 --ws-messages 200
//! ```
//!
//! Fill the store first (with `smtp-load`); with `--expect-total N` the run
//! fails unless the API reports exactly N messages before timing starts.
//! Prints medians (and p90) in milliseconds and a `RESULT key=value ...`
//! line. Every loop is bounded by its count and by per-request time-outs.

#[path = "../support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use support::mime::{MessageFactory, recipient};
use support::smtp::{SmtpConn, queued_id};
use support::stats::{Samples, ms};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(about = "mailcatch API and WebSocket latency (loopback only)")]
struct Args {
    /// mailcatch's HTTP address; must be loopback.
    #[arg(long, default_value = "127.0.0.1:8025", value_parser = support::loopback_addr)]
    http: SocketAddr,
    /// mailcatch's SMTP address (for the WebSocket delay); must be loopback.
    #[arg(long, default_value = "127.0.0.1:1025", value_parser = support::loopback_addr)]
    smtp: SocketAddr,
    /// Timed requests per endpoint (after one warm-up request).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Messages sent to measure the 250-to-frame delay; 0 skips it.
    #[arg(long, default_value_t = 200)]
    ws_messages: u64,
    /// Fail unless the store holds exactly this many messages at the start.
    #[arg(long)]
    expect_total: Option<u64>,
    /// The free-text search term.
    #[arg(long, default_value = "invoice")]
    text_query: String,
    /// A free-text term no message contains: the search scans everything.
    #[arg(long, default_value = "zqxjvkw")]
    absent_query: String,
    /// The `subject:` search term.
    #[arg(long, default_value = "subject:\"order 1234\"")]
    subject_query: String,
    /// The `from:` search term (smtp-load's mail comes from seven senders).
    #[arg(long, default_value = "from:sender3@load.example")]
    from_query: String,
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("api-bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", args.http);
    let total = stored_total(&http, &base).await?;
    if let Some(expected) = args.expect_total.filter(|e| *e != total) {
        return Err(format!(
            "the store holds {total} messages, expected {expected}"
        ));
    }
    let list = time_get(
        &http,
        &format!("{base}/api/v1/messages?limit=50"),
        args.runs,
    )
    .await?;
    let text = time_search(&http, &base, &args.text_query, args.runs).await?;
    let absent_matches = search_matches(&http, &base, &args.absent_query).await?;
    if absent_matches != 0 {
        return Err(format!(
            "{:?} matched {absent_matches} messages; it must match none",
            args.absent_query
        ));
    }
    let absent = time_search(&http, &base, &args.absent_query, args.runs).await?;
    let subject = time_search(&http, &base, &args.subject_query, args.runs).await?;
    let from = time_search(&http, &base, &args.from_query, args.runs).await?;
    let ws = match args.ws_messages {
        0 => None,
        count => Some(websocket_delay(args, count).await?),
    };
    print_report(
        total,
        [
            ("list newest 50", list),
            ("search free text", text),
            ("search absent term", absent),
            ("search subject:", subject),
            ("search from:", from),
        ],
        ws,
    );
    Ok(())
}

/// What `GET /api/v1/messages?limit=1` reports as `total`.
async fn stored_total(http: &reqwest::Client, base: &str) -> Result<u64, String> {
    let body: serde_json::Value = http
        .get(format!("{base}/api/v1/messages?limit=1"))
        .send()
        .await
        .map_err(|e| format!("list: {e}"))?
        .json()
        .await
        .map_err(|e| format!("list: {e}"))?;
    body["total"]
        .as_u64()
        .ok_or_else(|| format!("no total in {body}"))
}

/// Latencies of `runs` sequential GETs of `url` on a kept-alive connection,
/// after one warm-up; each must answer 200.
async fn time_get(http: &reqwest::Client, url: &str, runs: usize) -> Result<Samples, String> {
    let mut samples = Samples::default();
    for run in 0..=runs {
        let started = Instant::now();
        let response = http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: HTTP {status}"));
        }
        if run > 0 {
            samples.push(started.elapsed());
        }
    }
    Ok(samples)
}

fn search_url(base: &str, query: &str) -> Result<reqwest::Url, String> {
    reqwest::Url::parse_with_params(&format!("{base}/api/v1/search"), [("query", query)])
        .map_err(|e| e.to_string())
}

/// How many messages `query` matches (the search's `messages_count`).
async fn search_matches(http: &reqwest::Client, base: &str, query: &str) -> Result<u64, String> {
    let body: serde_json::Value = http
        .get(search_url(base, query)?)
        .send()
        .await
        .map_err(|e| format!("search: {e}"))?
        .json()
        .await
        .map_err(|e| format!("search: {e}"))?;
    body["messages_count"]
        .as_u64()
        .ok_or_else(|| format!("no messages_count in the search reply {body}"))
}

async fn time_search(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    runs: usize,
) -> Result<Samples, String> {
    time_get(http, search_url(base, query)?.as_str(), runs).await
}

/// Median delay between reading a message's 250 reply and receiving its
/// `new` frame: sends `count` messages one by one on one connection while a
/// WebSocket client listens. Negative values mean the frame came first.
async fn websocket_delay(args: &Args, count: u64) -> Result<Vec<f64>, String> {
    let url = format!("ws://{}/api/events", args.http);
    let (socket, _) = tokio::time::timeout(REQUEST_TIMEOUT, tokio_tungstenite::connect_async(url))
        .await
        .map_err(|_| "WebSocket connect timed out".to_string())?
        .map_err(|e| format!("WebSocket connect: {e}"))?;
    let (_, mut frames) = socket.split();
    let listener = tokio::spawn(async move {
        let mut arrivals: HashMap<String, Instant> = HashMap::new();
        while arrivals.len() < count as usize {
            let Ok(Some(Ok(frame))) = tokio::time::timeout(REQUEST_TIMEOUT, frames.next()).await
            else {
                break;
            };
            let Message::Text(text) = frame else { continue };
            let at = Instant::now();
            let Ok(value) = serde_json::from_str::<serde_json::Value>(text.as_str()) else {
                continue;
            };
            if value["Type"] == "new"
                && let Some(id) = value["Data"]["ID"].as_str()
            {
                arrivals.insert(id.to_string(), at);
            }
        }
        arrivals
    });
    // Give the subscription a moment to be registered before sending.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let factory = MessageFactory::new(2048);
    let mut conn = SmtpConn::open(args.smtp, REQUEST_TIMEOUT).await?;
    let mut replies = Vec::new();
    for n in 0..count {
        let reply = conn
            .send_message(&recipient(n), &factory.message(1_000_000 + n))
            .await?;
        let at = Instant::now();
        let id = queued_id(&reply).ok_or_else(|| format!("no ID in the 250 reply {reply:?}"))?;
        replies.push((id.to_string(), at));
        // Space the messages out a little, as separate test e-mails would be.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    conn.quit().await;
    let arrivals = listener.await.map_err(|e| e.to_string())?;
    let mut delays = Vec::new();
    for (id, replied_at) in replies {
        let arrived = arrivals
            .get(&id)
            .ok_or_else(|| format!("no `new` frame for message {id}"))?;
        let delay = if *arrived >= replied_at {
            arrived.duration_since(replied_at).as_secs_f64()
        } else {
            -replied_at.duration_since(*arrived).as_secs_f64()
        };
        delays.push(delay * 1000.0);
    }
    delays.sort_by(f64::total_cmp);
    Ok(delays)
}

fn print_report(total: u64, timings: [(&str, Samples); 5], ws: Option<Vec<f64>>) {
    println!("api-bench: {total} messages stored");
    let mut result = format!("RESULT total={total}");
    for (name, mut samples) in timings {
        let (median, p90) = (samples.median(), samples.percentile(90.0));
        println!(
            "  {name:<18} median {} ms, p90 {} ms ({} runs)",
            ms(median),
            ms(p90),
            samples.len()
        );
        let key = name.replace([' ', ':'], "_").replace("__", "_");
        result.push_str(&format!(" {}_ms={}", key.trim_end_matches('_'), ms(median)));
    }
    if let Some(delays) = ws {
        let median = delays[delays.len() / 2];
        let p99 = delays[(delays.len() * 99 / 100).min(delays.len() - 1)];
        println!(
            "  250 -> WebSocket new frame: median {median:.3} ms, p99 {p99:.3} ms ({} messages; negative: frame first)",
            delays.len()
        );
        result.push_str(&format!(" ws_new_ms={median:.3} ws_new_p99_ms={p99:.3}"));
    }
    println!("{result}");
}
