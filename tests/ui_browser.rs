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

mod common;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::emulation::{
    MediaFeature, SetDeviceMetricsOverrideParams,
};
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::EventResponseReceived;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;
use lettre::AsyncTransport;
use mailcatch::Running;
use parking_lot::Mutex;

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
        ("message tabs show the right content", |ui| {
            Box::pin(message_tabs(ui))
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

// ---- scenarios ----------------------------------------------------------------

async fn page_loads_cleanly(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let page = ui.open(&server, "/").await?;
    page.wait_for(
        "document.querySelector('#live-status').dataset.state === 'live'",
        "live feed connected",
    )
    .await?;
    page.wait_for(
        "document.querySelector('#list-empty').hidden === false",
        "empty-mailbox message",
    )
    .await?;
    // Let late errors (a failed module, a CSP violation) surface.
    tokio::time::sleep(Duration::from_millis(300)).await;
    page.assert_no_errors(true).await?;
    let title: String = page.eval("document.title").await?;
    expect(title == "mailcatch", format!("title {title:?}"))?;
    page.assert_self_contained(&server)?;
    // The theme toggle cycles auto → light → dark, and dark really is dark.
    page.run("document.querySelector('#theme-toggle').click()")
        .await?;
    page.wait_for(
        "document.documentElement.dataset.theme === 'light'",
        "light theme",
    )
    .await?;
    page.run("document.querySelector('#theme-toggle').click()")
        .await?;
    page.wait_for(
        "document.documentElement.dataset.theme === 'dark'",
        "dark theme",
    )
    .await?;
    let background: String = page
        .eval("getComputedStyle(document.body).backgroundColor")
        .await?;
    expect(
        background == "rgb(13, 15, 20)",
        format!("dark background {background}"),
    )?;
    page.run("document.querySelector('#theme-toggle').click()")
        .await?;
    page.wait_for(
        "document.documentElement.dataset.theme === undefined",
        "back to auto",
    )
    .await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn new_mail_appears_live(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let page = ui.open(&server, "/").await?;
    page.wait_for(
        "document.querySelector('#live-status').dataset.state === 'live'",
        "live feed",
    )
    .await?;
    send(
        &server,
        "sender@example.com",
        &["rcpt@example.com"],
        &simple("Arrives live", "Hello there"),
    )
    .await?;
    page.wait_for(&row_with_subject("Arrives live"), "the new row")
        .await?;
    page.wait_for(
        "document.title.startsWith('(1) ')",
        "unread count in the title",
    )
    .await?;
    let unread: bool = page
        .eval("document.querySelector('.row').classList.contains('unread')")
        .await?;
    expect(unread, "the new row is marked unread")?;
    page.assert_no_errors(true).await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn message_tabs(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send(
        &server,
        "bounces@mailer.example",
        &["to@example.com", "hidden@example.com"],
        &rich_message(),
    )
    .await?;
    let id = server
        .store()
        .latest(None)
        .ok_or("no message stored")?
        .id()
        .to_string();
    let page = ui.open(&server, "/").await?;
    page.wait_for(&row_with_subject("Quarterly report ✓"), "the row")
        .await?;
    page.run("document.querySelector('.row .row-link').click()")
        .await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Quarterly report ✓'",
        "message header",
    )
    .await?;
    let path: String = page.eval("location.pathname").await?;
    expect(path == format!("/view/{id}"), format!("URL {path}"))?;
    page.wait_for(
        "!document.querySelector('.row').classList.contains('unread')",
        "row marked read",
    )
    .await?;

    // HTML: a sandboxed frame that allows neither scripts nor same-origin.
    page.wait_for(
        "!!document.querySelector('.preview-frame')",
        "preview frame",
    )
    .await?;
    let sandbox: String = page
        .eval("document.querySelector('.preview-frame').getAttribute('sandbox')")
        .await?;
    expect(
        sandbox == "allow-popups allow-popups-to-escape-sandbox",
        format!("sandbox={sandbox:?}"),
    )?;
    let src: String = page
        .eval("document.querySelector('.preview-frame').getAttribute('src')")
        .await?;
    expect(
        src.starts_with(&format!("/view/{id}.html")),
        format!("frame src {src}"),
    )?;
    // The inline image is fetched, by the sandboxed frame, through the part
    // endpoint (cid: resolved).
    let frame = page.response_status(&format!("/view/{id}.html")).await?;
    expect(frame == 200, format!("preview frame answered {frame}"))?;
    page.run("document.querySelector('[data-width=phone]').click()")
        .await?;
    let width: f64 = page
        .eval("document.querySelector('.preview-frame').getBoundingClientRect().width")
        .await?;
    expect((width - 375.0).abs() < 20.0, format!("phone width {width}"))?;
    page.run("document.querySelector('[data-width=desktop]').click()")
        .await?;

    page.tab("text").await?;
    page.wait_for("document.querySelector('.panel-text .text-body')?.textContent.includes('The plain text version')", "text part").await?;

    page.tab("source").await?;
    page.wait_for("[...document.querySelectorAll('.panel-source .tok-tag')].some(t => t.textContent === 'table')", "highlighted tags").await?;

    page.tab("headers").await?;
    page.wait_for(
        "document.querySelectorAll('.headers-table tr').length > 5",
        "header rows",
    )
    .await?;
    let names: Vec<String> = page
        .eval("[...document.querySelectorAll('.header-name')].map(th => th.textContent)")
        .await?;
    let dups: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| *n == "X-Trace")
        .map(|(i, _)| i)
        .collect();
    expect(
        dups.len() == 2,
        format!("duplicate X-Trace headers kept: {names:?}"),
    )?;
    let subject_row: String = page
        .eval("document.querySelector('tr[data-name=subject]').textContent")
        .await?;
    expect(
        subject_row.contains("Quarterly report ✓") && subject_row.contains("=?utf-8?"),
        format!("decoded and raw subject: {subject_row}"),
    )?;

    page.tab("raw").await?;
    page.wait_for(
        "document.querySelector('.panel-raw pre.raw')?.textContent.includes('multipart/mixed')",
        "raw source",
    )
    .await?;
    let download: String = page
        .eval("document.querySelector('.panel-raw a[download]').getAttribute('href')")
        .await?;
    expect(
        download == format!("/api/v1/message/{id}/raw?dl=1"),
        format!("download link {download}"),
    )?;

    page.tab("envelope").await?;
    page.wait_for("!!document.querySelector('.envelope')", "envelope panel")
        .await?;
    let envelope: String = page
        .eval("document.querySelector('.envelope').textContent")
        .await?;
    for needed in [
        "<bounces@mailer.example>",
        "hidden@example.com",
        "Bcc (envelope only)",
        "Envelope sender differs",
        "ui-test-client",
        "127.0.0.1",
        "EHLO",
        "MAIL FROM",
    ] {
        expect(
            envelope.contains(needed),
            format!("envelope tab lacks {needed:?}: {envelope}"),
        )?;
    }

    page.tab("attachments").await?;
    page.wait_for(
        "!!document.querySelector('.attachment-card')",
        "attachment cards",
    )
    .await?;
    let names: Vec<String> = page
        .eval("[...document.querySelectorAll('.attachment-name')].map(n => n.textContent)")
        .await?;
    expect(
        names.iter().any(|n| n == "report.csv"),
        format!("attachments {names:?}"),
    )?;
    page.wait_for("[...document.querySelectorAll('.attachment-image')].some(img => img.complete && img.naturalWidth > 0)", "image preview loaded").await?;

    // Last, so that the checks above still run while it fails. Every part
    // fetch must succeed: the preview frame's (the cid: image, requested
    // with `Origin: null` from the sandbox) and the attachments tab's.
    let parts = page.statuses(&format!("/api/v1/message/{id}/part/"));
    expect(
        !parts.is_empty() && parts.iter().all(|&status| status == 200),
        format!(
            "part requests answered {parts:?} (the sandboxed frame's cid: image sends Origin: null)"
        ),
    )?;
    page.assert_no_errors(false).await?;
    page.assert_self_contained(&server)?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn email_scripts_never_run(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send(
        &server,
        "evil@example.com",
        &["victim@example.com"],
        &hostile_message(),
    )
    .await?;
    let id = server
        .store()
        .latest(None)
        .ok_or("no message stored")?
        .id()
        .to_string();
    let page = ui.open(&server, &format!("/view/{id}")).await?;
    page.wait_for(
        "!!document.querySelector('.preview-frame')",
        "preview frame",
    )
    .await?;
    let frame = page.response_status(&format!("/view/{id}.html")).await?;
    expect(
        frame == 200,
        format!("the hostile HTML was not served ({frame}), so the test proves nothing"),
    )?;
    // Give the frame time to load and any handler time to fire.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pwned: bool = page
        .eval("window.pwned !== undefined || document.title.includes('pwned') || localStorage.getItem('pwned') !== null")
        .await?;
    expect(!pwned, "a script in the email changed the app page")?;
    let frame_url: String = page.eval("location.pathname").await?;
    expect(
        frame_url == format!("/view/{id}"),
        "the page was navigated away",
    )?;

    // Opened directly (outside our frame) the server's CSP sandbox holds too.
    let direct = ui.open(&server, &format!("/view/{id}.html")).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pwned: bool = direct
        .eval("window.pwned !== undefined || document.title.includes('pwned')")
        .await?;
    expect(
        !pwned,
        "the message's script ran when /view/ID.html was opened directly",
    )?;
    direct.close().await;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn search_filters(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send_subjects(
        &server,
        "billing@example.com",
        "me@example.com",
        &[
            "Invoice 42 is ready",
            "Welcome aboard",
            "Invoice 43 is ready",
        ],
    )
    .await?;
    let page = ui.open(&server, "/").await?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 3",
        "three rows",
    )
    .await?;
    page.press("/").await?;
    page.wait_for(
        "document.activeElement?.id === 'search-input'",
        "/ focuses the search",
    )
    .await?;
    let input = page.page.find_element("#search-input").await.map_err(err)?;
    input.type_str("subject:invoice").await.map_err(err)?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 2",
        "two matches",
    )
    .await?;
    page.wait_for(
        "document.querySelector('#search-count').textContent === '2 matches'",
        "match count",
    )
    .await?;
    let url: String = page.eval("location.pathname + location.search").await?;
    expect(url == "/search?q=subject%3Ainvoice", format!("URL {url}"))?;
    // A matching message that arrives now joins the results live.
    send(
        &server,
        "billing@example.com",
        &["me@example.com"],
        &simple("Invoice 44 is ready", "body"),
    )
    .await?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 3",
        "a live match",
    )
    .await?;
    send(
        &server,
        "billing@example.com",
        &["me@example.com"],
        &simple("Unrelated", "body"),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let rows: u32 = page
        .eval("document.querySelectorAll('.row').length")
        .await?;
    expect(
        rows == 3,
        format!("a non-matching message joined the results ({rows} rows)"),
    )?;
    page.press("Escape").await?;
    page.press("Escape").await?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 5 && location.pathname === '/'",
        "search cleared",
    )
    .await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn deletes_show_live(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send_subjects(
        &server,
        "a@example.com",
        "b@example.com",
        &["First", "Second", "Third", "Fourth"],
    )
    .await?;
    let page = ui.open(&server, "/").await?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 4",
        "four rows",
    )
    .await?;

    // Deleted elsewhere (through the API): gone from the page without reload.
    let second = server
        .store()
        .snapshot()
        .into_iter()
        .find(|m| m.summary.subject == "Second")
        .ok_or("no Second")?;
    let status = reqwest::Client::new()
        .delete(format!("{}/api/v1/messages", common::base_url(&server)))
        .json(&serde_json::json!({"IDs": [second.id()]}))
        .send()
        .await
        .map_err(err)?
        .status();
    expect(status.is_success(), format!("API delete answered {status}"))?;
    page.wait_for(
        &format!("!{}", row_with_subject("Second")),
        "row removed live",
    )
    .await?;
    page.run("window.__stillHere = true").await?;

    // Deleted in the UI: the open message, with the Delete key.
    page.click_in_row("Third", ".row-link").await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Third'",
        "Third open",
    )
    .await?;
    page.press("Delete").await?;
    page.wait_for(&format!("!{}", row_with_subject("Third")), "Third deleted")
        .await?;
    expect(
        server.store().len() == 2,
        format!("store holds {}", server.store().len()),
    )?;

    // Delete the checked ones.
    send(
        &server,
        "a@example.com",
        &["b@example.com"],
        &simple("Fifth", "body"),
    )
    .await?;
    page.wait_for(&row_with_subject("Fifth"), "Fifth").await?;
    page.click_in_row("Fifth", ".row-check").await?;
    page.click_in_row("First", ".row-check").await?;
    page.wait_for(
        "document.querySelector('#search-count').textContent === '2 selected'",
        "two checked",
    )
    .await?;
    page.run("document.querySelector('#delete-selected').click()")
        .await?;
    page.wait_for(
        &format!(
            "!{} && !{}",
            row_with_subject("Fifth"),
            row_with_subject("First")
        ),
        "checked rows deleted",
    )
    .await?;
    expect(
        server.store().len() == 1,
        format!("store holds {}", server.store().len()),
    )?;

    // Delete all, after confirming.
    page.run("document.querySelector('#delete-all').click()")
        .await?;
    page.wait_for(
        "document.querySelector('#confirm-dialog').open",
        "confirmation dialog",
    )
    .await?;
    page.run("document.querySelector('#confirm-ok').click()")
        .await?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 0",
        "list emptied",
    )
    .await?;
    expect(server.store().is_empty(), "store emptied")?;
    let reloaded: bool = page.eval("window.__stillHere !== true").await?;
    expect(!reloaded, "the page reloaded")?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn keyboard_shortcuts(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send_subjects(
        &server,
        "a@example.com",
        "b@example.com",
        &["Oldest", "Middle", "Newest"],
    )
    .await?;
    let page = ui.open(&server, "/").await?;
    page.wait_for("document.querySelectorAll('.row').length === 3", "rows")
        .await?;
    page.run("document.querySelector('#message-list').focus()")
        .await?;
    page.press("j").await?;
    page.press("j").await?;
    page.wait_for(
        &format!("{}.classList.contains('cursor')", row_expr("Middle")),
        "cursor on the 2nd row",
    )
    .await?;
    page.press("k").await?;
    page.press("Enter").await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Newest'",
        "Enter opens",
    )
    .await?;
    page.press("j").await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Middle'",
        "j opens the next",
    )
    .await?;
    page.wait_for(
        &format!("!{}.classList.contains('unread')", row_expr("Middle")),
        "opening marks read",
    )
    .await?;
    page.press("u").await?;
    page.wait_for(
        &format!("{}.classList.contains('unread')", row_expr("Middle")),
        "u marks unread",
    )
    .await?;
    let middle = server
        .store()
        .snapshot()
        .into_iter()
        .find(|m| m.summary.subject == "Middle")
        .ok_or("no Middle")?;
    expect(
        common::eventually(|| !middle.is_read()).await,
        "u reached the server",
    )?;
    page.press("]").await?;
    page.wait_for("document.querySelector('.tab[aria-selected=true]')?.dataset.tab === 'source' || document.querySelector('.tab[aria-selected=true]')?.dataset.tab === 'source' || document.querySelector('.tab[aria-selected=true]')?.dataset.tab === 'headers'", "] changes tab").await?;
    page.press("Escape").await?;
    page.wait_for(
        "location.pathname === '/' && !document.querySelector('.message-subject')",
        "Esc closes",
    )
    .await?;
    page.press("?").await?;
    page.wait_for(
        "document.querySelector('#help-dialog').open",
        "? opens help",
    )
    .await?;
    let help: String = page
        .eval("document.querySelector('#help-dialog').textContent")
        .await?;
    expect(
        help.contains("Search") && help.contains("Delete"),
        "help lists shortcuts",
    )?;
    page.press("Escape").await?;
    page.wait_for(
        "!document.querySelector('#help-dialog').open",
        "Esc closes help",
    )
    .await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn reconnects_after_restart(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send(
        &server,
        "a@example.com",
        &["b@example.com"],
        &simple("Before restart", "x"),
    )
    .await?;
    let http = server.http_addr;
    let page = ui.open(&server, "/").await?;
    page.wait_for(&row_with_subject("Before restart"), "first server's row")
        .await?;
    server.shutdown().await;
    page.wait_for(
        "document.querySelector('#live-status').dataset.state !== 'live'",
        "offline shown",
    )
    .await?;
    // A new process on the same port, with different mail: the page must
    // reconnect by itself and resync its list from the API.
    let restarted = common::start_with(|config| config.http.bind = http).await;
    send(
        &restarted,
        "a@example.com",
        &["b@example.com"],
        &simple("After restart", "x"),
    )
    .await?;
    page.wait_for(
        "document.querySelector('#live-status').dataset.state === 'live'",
        "reconnected",
    )
    .await?;
    page.wait_for(
        &format!(
            "{} && !{}",
            row_with_subject("After restart"),
            row_with_subject("Before restart")
        ),
        "list resynced",
    )
    .await?;
    send(
        &restarted,
        "a@example.com",
        &["b@example.com"],
        &simple("Live again", "x"),
    )
    .await?;
    page.wait_for(&row_with_subject("Live again"), "live after reconnect")
        .await?;
    page.close().await;
    restarted.shutdown().await;
    Ok(())
}

async fn deep_links(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send_subjects(
        &server,
        "a@example.com",
        "b@example.com",
        &["Alpha", "Beta"],
    )
    .await?;
    let alpha = server
        .store()
        .snapshot()
        .into_iter()
        .find(|m| m.summary.subject == "Alpha")
        .ok_or("no Alpha")?;
    let page = ui
        .open(&server, &format!("/view/{}#headers", alpha.id()))
        .await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Alpha'",
        "deep link opens Alpha",
    )
    .await?;
    page.wait_for(
        "document.querySelector('.tab[aria-selected=true]')?.dataset.tab === 'headers'",
        "deep-linked tab",
    )
    .await?;
    page.click_in_row("Beta", ".row-link").await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Beta'",
        "Beta open",
    )
    .await?;
    page.run("history.back()").await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Alpha'",
        "back to Alpha",
    )
    .await?;
    page.run("history.forward()").await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Beta'",
        "forward to Beta",
    )
    .await?;
    // /view/latest resolves to the newest message.
    let latest = ui.open(&server, "/view/latest").await?;
    latest
        .wait_for(
            "document.querySelector('.message-subject')?.textContent === 'Beta'",
            "latest",
        )
        .await?;
    latest.close().await;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn ten_thousand_messages(ui: &Ui) -> Outcome {
    const COUNT: usize = 10_000;
    let server = common::start_with(|config| config.store.max_messages = 0).await;
    for i in 0..COUNT {
        server.store().insert(mailcatch::store::Incoming {
            raw: simple(
                &format!("Bulk message {i}"),
                "A body long enough to have a snippet worth showing.",
            )
            .into(),
            ..Default::default()
        });
    }
    let started = Instant::now();
    let page = ui.open(&server, "/").await?;
    page.wait_for(&row_with_subject("Bulk message 9999"), "the newest row")
        .await?;
    let first_paint = started.elapsed();
    page.wait_for(
        "document.querySelector('#search-count').textContent.startsWith('10,000 messages')",
        "the full count",
    )
    .await?;
    page.wait_for(
        "document.querySelector('#list-spacer').offsetHeight >= 10000 * 80",
        "every row loaded",
    )
    .await?;
    let all_loaded = started.elapsed();
    // Only the rows in view are in the DOM, wherever one scrolls.
    let rendered: u32 = page
        .eval("document.querySelectorAll('.row').length")
        .await?;
    expect(
        rendered < 60,
        format!("{rendered} rows rendered for a 800 px viewport"),
    )?;
    page.run(
        "const list = document.querySelector('#message-list'); list.scrollTop = list.scrollHeight",
    )
    .await?;
    page.wait_for(
        &row_with_subject("Bulk message 0"),
        "the oldest row after scrolling",
    )
    .await?;
    // New mail at the top while scrolled to the bottom keeps the view still.
    send(
        &server,
        "a@example.com",
        &["b@example.com"],
        &simple("Newcomer", "x"),
    )
    .await?;
    page.wait_for(
        "document.querySelector('#search-count').textContent.startsWith('10,001 messages')",
        "the live count",
    )
    .await?;
    page.wait_for(
        &row_with_subject("Bulk message 0"),
        "the oldest row still in view",
    )
    .await?;
    println!(
        "     10,000 messages: first rows after {first_paint:?}, all loaded after {all_loaded:?}"
    );
    page.assert_no_errors(false).await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

async fn screenshots(ui: &Ui) -> Outcome {
    let server = common::start().await;
    for (from, to, subject, text, html) in demo_messages() {
        let raw = alternative(from, to, subject, text, html);
        send(&server, "noreply@shop.example", &[to], &raw).await?;
    }
    send(
        &server,
        "bounces@mailer.example",
        &["to@example.com", "hidden@example.com"],
        &rich_message(),
    )
    .await?;
    let id = server
        .store()
        .latest(None)
        .ok_or("no message")?
        .id()
        .to_string();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    std::fs::create_dir_all(&dir).map_err(err)?;
    for theme in ["light", "dark"] {
        let page = ui.open_sized(&server, "/", 1280, 800).await?;
        page.page
            .emulate_media_features(vec![MediaFeature {
                name: "prefers-color-scheme".into(),
                value: theme.into(),
            }])
            .await
            .map_err(err)?;
        page.wait_for("document.querySelectorAll('.row').length >= 6", "rows")
            .await?;
        // Mark a couple read so the list shows both states.
        let ids: Vec<String> = server
            .store()
            .snapshot()
            .iter()
            .skip(3)
            .take(2)
            .map(|m| m.id().to_string())
            .collect();
        server.store().set_read(
            &server
                .store()
                .snapshot()
                .into_iter()
                .filter(|m| ids.contains(&m.id().to_string()))
                .collect::<Vec<_>>(),
            true,
        );
        page.run(&format!(
            "document.querySelector('.row[data-id=\"{}\"] .row-check').click()",
            ids[0]
        ))
        .await?;
        page.run("document.querySelector('#message-list').focus()")
            .await?;
        page.press("j").await?;
        page.press("j").await?;
        tokio::time::sleep(Duration::from_millis(400)).await;
        page.save(&dir.join(format!("screenshot-list-{theme}.png")))
            .await?;
        page.run(&format!(
            "document.querySelector('.row[data-id=\"{}\"] .row-check').click()",
            ids[0]
        ))
        .await?;

        page.run(&format!(
            "document.querySelector('.row[data-id=\"{id}\"] .row-link').click()"
        ))
        .await?;
        page.wait_for("!!document.querySelector('.preview-frame')", "message")
            .await?;
        tokio::time::sleep(Duration::from_millis(800)).await;
        page.save(&dir.join(format!("screenshot-message-{theme}.png")))
            .await?;
        page.tab("envelope").await?;
        page.wait_for("!!document.querySelector('.envelope')", "envelope")
            .await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        page.save(&dir.join(format!("screenshot-envelope-{theme}.png")))
            .await?;
        page.tab("headers").await?;
        page.wait_for("!!document.querySelector('.headers-table')", "headers")
            .await?;
        page.save(&dir.join(format!("screenshot-headers-{theme}.png")))
            .await?;
        page.close().await;
    }
    let phone = ui
        .open_sized(&server, &format!("/view/{id}"), 390, 844)
        .await?;
    phone
        .wait_for(
            "!!document.querySelector('.preview-frame')",
            "phone message",
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    phone
        .save(&dir.join("screenshot-phone-message-light.png"))
        .await?;
    phone.close().await;
    let phone = ui.open_sized(&server, "/", 390, 844).await?;
    phone
        .wait_for(
            "document.querySelectorAll('.row').length >= 6",
            "phone list",
        )
        .await?;
    phone
        .page
        .emulate_media_features(vec![MediaFeature {
            name: "prefers-color-scheme".into(),
            value: "dark".into(),
        }])
        .await
        .map_err(err)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    phone
        .save(&dir.join("screenshot-phone-list-dark.png"))
        .await?;
    phone.close().await;
    server.shutdown().await;
    Ok(())
}

// ---- mail -------------------------------------------------------------------------

/// Sends one plain message per subject, in order, from `from` to `to`.
async fn send_subjects(server: &Running, from: &str, to: &str, subjects: &[&str]) -> Outcome {
    for subject in subjects {
        send(server, from, &[to], &simple(subject, "body")).await?;
    }
    Ok(())
}

async fn send(server: &Running, from: &str, to: &[&str], raw: &str) -> Outcome {
    use lettre::transport::smtp::AsyncSmtpTransport;
    use lettre::transport::smtp::extension::ClientId;
    let transport = AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.smtp_addr.port())
        .hello_name(ClientId::Domain("ui-test-client".into()))
        .timeout(Some(WAIT))
        .build();
    let envelope = lettre::address::Envelope::new(
        Some(from.parse().map_err(err)?),
        to.iter()
            .map(|t| t.parse())
            .collect::<Result<_, _>>()
            .map_err(err)?,
    )
    .map_err(err)?;
    transport
        .send_raw(&envelope, raw.as_bytes())
        .await
        .map_err(err)?;
    Ok(())
}

fn simple(subject: &str, body: &str) -> String {
    format!(
        "From: Sender <sender@example.com>\r\nTo: rcpt@example.com\r\nSubject: {subject}\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <{}@example.com>\r\n\r\n{body}\r\n",
        subject.replace(' ', ".")
    )
}

fn alternative(from: &str, to: &str, subject: &str, text: &str, html: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\
Message-ID: <{}@shop.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--alt\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--alt--\r\n",
        subject.len()
    )
}

/// Text, HTML with a cid: image, a CSV attachment, an encoded subject, a
/// duplicated header; sent with a Bcc-only recipient and a different
/// envelope sender.
fn rich_message() -> String {
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAKElEQVR42mNk+M9Qz0AEYBxVSF+FjP8Z/hOlkHFUIX0VMo4qpK9CAKqCEhGq3lRyAAAAAElFTkSuQmCC";
    format!(
        "Return-Path: <bounces@mailer.example>\r\nX-Trace: first hop\r\n\
From: Report Bot <reports@example.com>\r\nTo: Team <to@example.com>\r\n\
Subject: =?utf-8?q?Quarterly_report_=E2=9C=93?=\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\
Message-ID: <report-1@example.com>\r\nX-Trace: second hop\r\nX-Tags: reports\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n\
--mixed\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
--rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe plain text version of the report.\r\nSee https://example.com/report\r\n\
--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<!DOCTYPE html><html><head><style>body {{ margin: 0; background: #f3f4f6; font-family: Helvetica, Arial, sans-serif; color: #1f2937; }} .card {{ max-width: 560px; margin: 32px auto; background: #fff; border-radius: 12px; padding: 32px; }} h1 {{ margin: 12px 0 8px; font-size: 24px; }} .kpi {{ color: #059669; }} table {{ width: 100%; border-collapse: collapse; margin: 20px 0; }} td {{ padding: 10px 0; border-bottom: 1px solid #e5e7eb; }} .button {{ display: inline-block; background: #4f46e5; color: #fff; padding: 12px 20px; border-radius: 8px; text-decoration: none; font-weight: bold; }}</style></head>\
<body><div class=\"card\"><img src=\"cid:chart@example\" alt=\"chart\" width=\"48\" height=\"48\"><h1>Quarterly report</h1>\
<p>Revenue is <b class=\"kpi\">up 12%</b> on last quarter.</p><table><tr><td>Q1</td><td align=\"right\">$100k</td></tr>\
<tr><td>Q2</td><td align=\"right\">$112k</td></tr></table><a class=\"button\" href=\"https://example.com/report\">Open the full report</a></div></body></html>\r\n\
--alt--\r\n--rel\r\nContent-Type: image/png\r\nContent-ID: <chart@example>\r\n\
Content-Disposition: inline; filename=\"chart.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PNG}\r\n--rel--\r\n\
--mixed\r\nContent-Type: text/csv; name=\"report.csv\"\r\nContent-Disposition: attachment; filename=\"report.csv\"\r\n\r\n\
quarter,revenue\r\nQ1,100\r\n--mixed\r\nContent-Type: image/png; name=\"logo.png\"\r\n\
Content-Disposition: attachment; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PNG}\r\n--mixed--\r\n"
    )
}

/// Every classic way for HTML to run script or reach its parent.
fn hostile_message() -> String {
    let html = r#"<html><head><meta http-equiv="refresh" content="0;url=javascript:window.top.pwned=1"></head>
<body onload="window.top.pwned=1;parent.document.title='pwned'">
<script>window.top.pwned=1; parent.document.title='pwned'; localStorage.setItem('pwned','1');</script>
<img src="x" onerror="window.top.pwned=1;parent.document.title='pwned'">
<svg onload="window.top.pwned=1"></svg>
<iframe srcdoc="<script>parent.parent.pwned=1</script>"></iframe>
<a id="l" href="javascript:window.top.pwned=1">click</a>
<object data="javascript:window.top.pwned=1"></object>
<form action="javascript:window.top.pwned=1"><input autofocus onfocus="window.top.pwned=1"></form>
<base href="http://evil.example/">
</body></html>"#;
    format!(
        "From: evil@example.com\r\nTo: victim@example.com\r\nSubject: Totally harmless\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <evil@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    )
}

type Demo = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn demo_messages() -> Vec<Demo> {
    vec![
        (
            "Acme Billing <billing@acme.example>",
            "dana@example.com",
            "Your invoice INV-2041 is ready",
            "Hi Dana, your invoice for June is attached. Total due: $249.00 by July 15.",
            "<p>Hi Dana,</p><p>Your invoice for June is ready. <b>Total due: $249.00</b> by July 15.</p>",
        ),
        (
            "GitHub <noreply@github.example>",
            "dev+ci@example.com",
            "[mailcatch] CI passed on main",
            "All checks have passed: build, clippy, tests (312 passed).",
            "<p>All checks have passed: build, clippy, tests (312 passed).</p>",
        ),
        (
            "Shop <orders@shop.example>",
            "dana@example.com",
            "Order #88213 has shipped",
            "Good news! Your order is on its way and should arrive on Thursday.",
            "<h2>Good news!</h2><p>Your order is on its way and should arrive on Thursday.</p>",
        ),
        (
            "Security <security@accounts.example>",
            "dana@example.com",
            "New sign-in from Firefox on Linux",
            "We noticed a new sign-in to your account. If this was you, you can ignore this email.",
            "<p>We noticed a new sign-in to your account.</p>",
        ),
        (
            "Newsletter <hello@weekly.example>",
            "team@example.com",
            "This week: faster builds and smaller binaries",
            "In this issue: link-time optimisation, cargo features, and a look at embedded assets.",
            "<h1>This week</h1><p>Link-time optimisation, cargo features, and embedded assets.</p>",
        ),
        (
            "Password Reset <no-reply@app.example>",
            "sam@example.com",
            "Reset your password",
            "Use this link to reset your password: https://app.example/reset?token=abc123. It expires in 1 hour.",
            "<p><a href=\"https://app.example/reset?token=abc123\">Reset your password</a>. It expires in 1 hour.</p>",
        ),
    ]
}

// ---- browser plumbing ----------------------------------------------------------

struct Ui {
    browser: tokio::sync::Mutex<Browser>,
    handler: tokio::task::JoinHandle<()>,
    profile: PathBuf,
}

impl Ui {
    async fn launch() -> Ui {
        let profile = std::env::temp_dir().join(format!(
            "mailcatch-ui-test-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .no_sandbox()
            .user_data_dir(&profile)
            .viewport(None)
            .window_size(1280, 800)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(WAIT)
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // Keeps the sandboxed preview frame in the page's process, so
                // its network events reach this page's CDP session.
                "--disable-features=IsolateSandboxedIframes",
            ])
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        // The handler drives the CDP connection; some events from a newer
        // Chromium fail to decode, which is harmless, so errors are skipped.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ui {
            browser: tokio::sync::Mutex::new(browser),
            handler,
            profile,
        }
    }

    async fn open(&self, server: &Running, path: &str) -> Result<TestPage, String> {
        self.open_sized(server, path, 1280, 800).await
    }

    async fn open_sized(
        &self,
        server: &Running,
        path: &str,
        width: i64,
        height: i64,
    ) -> Result<TestPage, String> {
        let page = self
            .browser
            .lock()
            .await
            .new_page("about:blank")
            .await
            .map_err(err)?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let load_errors = Arc::new(Mutex::new(Vec::new()));
        page.enable_log().await.map_err(err)?;
        let mut exceptions = page
            .event_listener::<EventExceptionThrown>()
            .await
            .map_err(err)?;
        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .map_err(err)?;
        let mut log = page
            .event_listener::<EventEntryAdded>()
            .await
            .map_err(err)?;
        let mut responses_seen = page
            .event_listener::<EventResponseReceived>()
            .await
            .map_err(err)?;
        let responses = Arc::new(Mutex::new(Vec::new()));
        let sink = responses.clone();
        tokio::spawn(async move {
            while let Some(event) = responses_seen.next().await {
                sink.lock()
                    .push((event.response.url.clone(), event.response.status));
            }
        });
        let sink = errors.clone();
        tokio::spawn(async move {
            while let Some(event) = exceptions.next().await {
                sink.lock().push(format!(
                    "exception: {:?}",
                    event
                        .exception_details
                        .exception
                        .as_ref()
                        .and_then(|e| e.description.clone())
                        .unwrap_or(event.exception_details.text.clone())
                ));
            }
        });
        let sink = errors.clone();
        tokio::spawn(async move {
            while let Some(event) = console.next().await {
                if format!("{:?}", event.r#type).contains("Error") {
                    sink.lock().push(format!(
                        "console.error: {:?}",
                        event
                            .args
                            .iter()
                            .map(|a| a.value.clone())
                            .collect::<Vec<_>>()
                    ));
                }
            }
        });
        let sink = load_errors.clone();
        tokio::spawn(async move {
            while let Some(event) = log.next().await {
                if format!("{:?}", event.entry.level).contains("Error") {
                    sink.lock().push(format!(
                        "{}: {}",
                        event.entry.url.clone().unwrap_or_default(),
                        event.entry.text
                    ));
                }
            }
        });
        // Records CSP violations of our own page (injected by CDP, so it is
        // not subject to the page's script-src).
        page.evaluate_on_new_document(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
        )
        .await
        .map_err(err)?;
        page.execute(SetDeviceMetricsOverrideParams::new(
            width,
            height,
            1.0,
            width < 600,
        ))
        .await
        .map_err(err)?;
        let url = format!("{}{path}", common::base_url(server));
        tokio::time::timeout(WAIT, page.goto(url.as_str()))
            .await
            .map_err(|_| format!("loading {url} timed out"))?
            .map_err(err)?;
        Ok(TestPage {
            page,
            errors,
            load_errors,
            responses,
        })
    }

    async fn close(self) {
        let mut browser = self.browser.into_inner();
        let _ = tokio::time::timeout(Duration::from_secs(5), browser.close()).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), browser.wait()).await;
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

struct TestPage {
    page: Page,
    errors: Arc<Mutex<Vec<String>>>,
    /// Console messages logged by the browser itself (failed loads, CSP).
    load_errors: Arc<Mutex<Vec<String>>>,
    /// Every HTTP response the page and its frames received: (URL, status).
    responses: Arc<Mutex<Vec<(String, i64)>>>,
}

impl TestPage {
    async fn eval<T: serde::de::DeserializeOwned>(&self, expression: &str) -> Result<T, String> {
        let result = tokio::time::timeout(WAIT, self.page.evaluate(expression))
            .await
            .map_err(|_| format!("evaluating {expression} timed out"))?
            .map_err(|e| format!("evaluating {expression}: {e}"))?;
        result
            .into_value::<T>()
            .map_err(|e| format!("result of {expression}: {e}"))
    }

    async fn run(&self, statement: &str) -> Outcome {
        self.eval::<bool>(&format!("(() => {{ {statement}; return true; }})()"))
            .await
            .map(drop)
    }

    /// Polls `condition` (a JS expression) until it is true, for at most WAIT.
    async fn wait_for(&self, condition: &str, what: &str) -> Outcome {
        let deadline = Instant::now() + WAIT;
        let expression = format!(
            "(() => {{ try {{ return Boolean({condition}); }} catch (_) {{ return false; }} }})()"
        );
        loop {
            if self.eval::<bool>(&expression).await.unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let body: String = self
                    .eval("document.body?.innerText.slice(0, 600) ?? ''")
                    .await
                    .unwrap_or_default();
                return Err(format!(
                    "waited {WAIT:?} for {what} ({condition}); page shows: {body:?}; errors: {:?}",
                    self.errors.lock()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `selector` inside the list row titled `subject`, once that row
    /// is on the page: the list and an opened message load independently, so a
    /// row may appear after the view does.
    async fn click_in_row(&self, subject: &str, selector: &str) -> Outcome {
        self.wait_for(&row_with_subject(subject), &format!("row {subject:?}"))
            .await?;
        self.run(&format!(
            "{}.querySelector('{selector}').click()",
            row_expr(subject)
        ))
        .await
    }

    /// Presses a key as a user would, on whatever has focus.
    async fn press(&self, key: &str) -> Outcome {
        let body = self.page.find_element("body").await.map_err(err)?;
        body.press_key(key).await.map_err(err)?;
        tokio::time::sleep(Duration::from_millis(60)).await;
        Ok(())
    }

    async fn tab(&self, name: &str) -> Outcome {
        self.wait_for(
            &format!("!!document.querySelector('#tab-{name}')"),
            &format!("tab {name}"),
        )
        .await?;
        self.run(&format!("document.querySelector('#tab-{name}').click()"))
            .await?;
        self.wait_for(
            &format!(
                "document.querySelector('#tab-{name}').getAttribute('aria-selected') === 'true'"
            ),
            &format!("tab {name} selected"),
        )
        .await
    }

    /// No script errors, no CSP violations on our page, and (optionally)
    /// nothing the browser itself logged as an error (failed loads).
    async fn assert_no_errors(&self, including_browser_log: bool) -> Outcome {
        let mut all = self.errors.lock().clone();
        if including_browser_log {
            all.extend(self.load_errors.lock().iter().cloned());
        }
        let csp: Vec<String> = self.eval("window.__csp ?? []").await?;
        all.extend(csp.into_iter().map(|v| format!("CSP violation: {v}")));
        expect(all.is_empty(), format!("console errors: {all:?}"))
    }

    /// Nothing was fetched from anywhere but our own server.
    fn assert_self_contained(&self, server: &Running) -> Outcome {
        let base = common::base_url(server);
        let foreign: Vec<String> = self
            .responses
            .lock()
            .iter()
            .map(|(url, _)| url.clone())
            .filter(|url| {
                !url.starts_with(&base) && !url.starts_with("data:") && url != "about:blank"
            })
            .collect();
        expect(
            foreign.is_empty(),
            format!("requests left the server: {foreign:?}"),
        )
    }

    /// The statuses of every response so far whose URL contains `fragment`.
    fn statuses(&self, fragment: &str) -> Vec<i64> {
        self.responses
            .lock()
            .iter()
            .filter(|(url, _)| url.contains(fragment))
            .map(|(_, status)| *status)
            .collect()
    }

    /// Waits until a response whose URL contains `fragment` arrives; returns its status.
    async fn response_status(&self, fragment: &str) -> Result<i64, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some((_, status)) = self
                .responses
                .lock()
                .iter()
                .find(|(url, _)| url.contains(fragment))
            {
                return Ok(*status);
            }
            if Instant::now() > deadline {
                return Err(format!("no response for {fragment} within {WAIT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn save(&self, path: &Path) -> Outcome {
        let png = self
            .page
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .map_err(err)?;
        std::fs::write(path, png).map_err(err)
    }

    async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.page.close()).await;
    }
}

fn row_expr(subject: &str) -> String {
    format!(
        "[...document.querySelectorAll('.row')].find(r => r.querySelector('.row-subject')?.textContent === {})",
        serde_json::to_string(subject).unwrap()
    )
}

fn row_with_subject(subject: &str) -> String {
    format!("!!{}", row_expr(subject))
}

fn expect(condition: bool, message: impl Into<String>) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message.into())
    }
}

fn err(error: impl std::fmt::Display) -> String {
    error.to_string()
}
