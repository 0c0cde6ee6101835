//! The web UI in a real browser: headless Chromium driven over CDP.
//!
//! One browser serves every scenario (it takes seconds to start), and the
//! scenarios run in sequence inside one test, each against its own fresh
//! mailcatch, so one failure does not hide the others: all are reported.
//! Every wait is bounded.
//!
//! Without `/usr/bin/chromium` the test prints SKIP and passes, unless
//! `MAILCATCH_REQUIRE_BROWSER=1` (CI), where it fails. With
//! `MAILCATCH_SCREENSHOTS=1` it also writes the README screenshots to
//! `assets/`.

use crate::common;

mod browser;
mod list;
mod mail;
mod message;
mod navigation;
mod screenshots;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use browser::*;
use list::*;
use mail::*;
use message::*;
use navigation::*;
use screenshots::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(10);

type Outcome = Result<(), String>;
type Scenario = for<'a> fn(&'a Ui) -> Pin<Box<dyn Future<Output = Outcome> + 'a>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_ui_in_a_real_browser() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("MAILCATCH_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "MAILCATCH_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)"
            );
        }
        println!("SKIP web_ui_in_a_real_browser: {CHROMIUM} not found (apt-get install chromium)");
        return;
    }
    let ui = Ui::launch().await;
    let scenarios: Vec<(&str, Scenario)> = vec![
        ("page loads with no console errors", |ui| {
            Box::pin(page_loads_cleanly(ui))
        }),
        ("new mail appears live", |ui| {
            Box::pin(new_mail_appears_live(ui))
        }),
        ("desktop notifications in the background", |ui| {
            Box::pin(desktop_notifications(ui))
        }),
        ("message tabs show the right content", |ui| {
            Box::pin(message_tabs(ui))
        }),
        ("HTML check tab scores the message", |ui| {
            Box::pin(html_check_tab(ui))
        }),
        ("link check runs on demand", |ui| {
            Box::pin(link_check_on_demand(ui))
        }),
        ("email scripts never run", |ui| {
            Box::pin(email_scripts_never_run(ui))
        }),
        ("search filters the list", |ui| Box::pin(search_filters(ui))),
        ("deletes show live", |ui| Box::pin(deletes_show_live(ui))),
        ("keyboard shortcuts", |ui| Box::pin(keyboard_shortcuts(ui))),
        ("reconnects and resyncs after a restart", |ui| {
            Box::pin(reconnects_after_restart(ui))
        }),
        ("deep links and history", |ui| Box::pin(deep_links(ui))),
        ("mailbox switcher", |ui| Box::pin(mailbox_switcher(ui))),
        ("ten thousand messages", |ui| {
            Box::pin(ten_thousand_messages(ui))
        }),
    ];
    let mut failures = Vec::new();
    for (name, scenario) in scenarios {
        let started = Instant::now();
        // A scenario that hangs past every bounded wait still ends here.
        let outcome = match tokio::time::timeout(Duration::from_secs(60), scenario(&ui)).await {
            Ok(outcome) => outcome,
            Err(_) => Err("timed out after 60 s".into()),
        };
        match outcome {
            Ok(()) => println!("ok   {name} ({} ms)", started.elapsed().as_millis()),
            Err(error) => {
                println!("FAIL {name}: {error}");
                failures.push(format!("{name}: {error}"));
            }
        }
    }
    if std::env::var("MAILCATCH_SCREENSHOTS").as_deref() == Ok("1")
        && let Err(error) = screenshots(&ui).await
    {
        failures.push(format!("screenshots: {error}"));
    }
    ui.close().await;
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
