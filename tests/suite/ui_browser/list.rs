//! The message list: first load, live arrivals, search, deletes, and a
//! 10,000-message mailbox.

use super::*;

pub async fn page_loads_cleanly(ui: &Ui) -> Outcome {
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

pub async fn new_mail_appears_live(ui: &Ui) -> Outcome {
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

/// Headless Chromium shows no desktop notifications, so the page gets a
/// stand-in `Notification` that records what it is asked to show (and
/// grants permission), and a `document.hidden` the test controls. The UI's
/// own logic runs unchanged: the toggle, the permission request, "only
/// while in the background", and opening the message from a click.
const FAKE_NOTIFICATIONS: &str = r#"
window.__notes = [];
window.__hidden = false;
window.Notification = class {
  static permission = "default";
  static async requestPermission() { this.permission = "granted"; return "granted"; }
  constructor(title, options) { this.title = title; this.body = options.body; window.__notes.push(this); }
  close() {}
};
Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden, configurable: true });
"#;

pub async fn desktop_notifications(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let page = ui.open_with_init(&server, "/", FAKE_NOTIFICATIONS).await?;
    page.wait_for(
        "document.querySelector('#live-status').dataset.state === 'live'",
        "live feed",
    )
    .await?;
    page.run("document.querySelector('#notify-toggle').click()")
        .await?;
    page.wait_for(
        "document.querySelector('#notify-toggle').getAttribute('aria-pressed') === 'true'",
        "notifications switched on",
    )
    .await?;
    // In front, the list shows new mail; no popup.
    send_subjects(
        &server,
        "shop@example.com",
        "me@example.com",
        &["Seen in the list"],
    )
    .await?;
    page.wait_for(&row_with_subject("Seen in the list"), "the row")
        .await?;
    // In the background, a popup names the subject and the header sender.
    page.run("window.__hidden = true").await?;
    send_subjects(
        &server,
        "shop@example.com",
        "me@example.com",
        &["Order shipped"],
    )
    .await?;
    page.wait_for("window.__notes.length === 1", "one notification")
        .await?;
    let (title, body): (String, String) = page
        .eval("[window.__notes[0].title, window.__notes[0].body]")
        .await?;
    expect(
        title == "Order shipped" && body == "From Sender",
        format!("notification {title:?} / {body:?}"),
    )?;
    // Clicking it opens that message.
    page.run("window.__hidden = false; window.__notes[0].onclick()")
        .await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Order shipped'",
        "the notified message open",
    )
    .await?;
    let count: usize = page.eval("window.__notes.length").await?;
    expect(
        count == 1,
        format!("{count} notifications for two messages"),
    )?;
    page.assert_no_errors(true).await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

pub async fn search_filters(ui: &Ui) -> Outcome {
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

pub async fn deletes_show_live(ui: &Ui) -> Outcome {
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
        .list(0, 0, None)
        .await
        .unwrap()
        .messages
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
        server.store().counts().await.unwrap().total == 2,
        format!(
            "store holds {}",
            server.store().counts().await.unwrap().total
        ),
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
        server.store().counts().await.unwrap().total == 1,
        format!(
            "store holds {}",
            server.store().counts().await.unwrap().total
        ),
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
    expect(
        server.store().counts().await.unwrap().total == 0,
        "store emptied",
    )?;
    let reloaded: bool = page.eval("window.__stillHere !== true").await?;
    expect(!reloaded, "the page reloaded")?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

pub async fn ten_thousand_messages(ui: &Ui) -> Outcome {
    const COUNT: usize = 10_000;
    let server = common::start_with(|config| config.store.max_messages = 0).await;
    for i in 0..COUNT {
        server
            .app
            .ingest(mailcatch::store::Incoming {
                raw: simple(
                    &format!("Bulk message {i}"),
                    "A body long enough to have a snippet worth showing.",
                )
                .into(),
                ..Default::default()
            })
            .await
            .unwrap();
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
