//! Getting around: keyboard shortcuts, deep links and history, and
//! reconnecting after the server restarts.

use super::*;

pub async fn keyboard_shortcuts(ui: &Ui) -> Outcome {
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
        .list(0, 0, None)
        .await
        .unwrap()
        .messages
        .into_iter()
        .find(|m| m.summary.subject == "Middle")
        .ok_or("no Middle")?;
    expect(
        common::eventually(async || {
            let now = server.store().get(middle.id()).await.unwrap();
            now.is_some_and(|m| !m.is_read())
        })
        .await,
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

pub async fn reconnects_after_restart(ui: &Ui) -> Outcome {
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
    let restarted = common::start_with(|config| config.http.bind = http.into()).await;
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

pub async fn deep_links(ui: &Ui) -> Outcome {
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
        .list(0, 0, None)
        .await
        .unwrap()
        .messages
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

/// A message routed to `mailbox` by its `X-Mailbox` header.
fn in_mailbox(mailbox: &str, subject: &str) -> String {
    format!("X-Mailbox: {mailbox}\r\n{}", simple(subject, "body"))
}

pub async fn mailbox_switcher(ui: &Ui) -> Outcome {
    let server = common::start().await;
    send(
        &server,
        "a@example.com",
        &["b@example.com"],
        &simple("Root mail", "body"),
    )
    .await?;
    let team = in_mailbox("team-a", "Team mail");
    send(&server, "a@example.com", &["b@example.com"], &team).await?;
    let page = ui.open(&server, "/").await?;
    page.wait_for(
        "[...document.querySelectorAll('#mailbox-switcher option')].some(o => o.textContent === 'team-a (1)')",
        "switcher lists team-a with its unread count",
    )
    .await?;
    page.wait_for(
        "document.querySelectorAll('.row').length === 2",
        "the root lists both mailboxes' mail",
    )
    .await?;
    page.run(
        "const s = document.querySelector('#mailbox-switcher'); s.value = 'team-a'; \
         s.dispatchEvent(new Event('change'))",
    )
    .await?;
    page.wait_for(
        "location.pathname === '/mailbox/team-a/' && document.querySelectorAll('.row').length === 1 \
         && document.querySelector('.row')?.textContent.includes('Team mail')",
        "team-a lists only its own mail",
    )
    .await?;
    page.wait_for(
        "document.querySelector('#mailbox-switcher').value === 'team-a' \
         && !document.querySelector('#mailbox-delete').hidden",
        "the switcher shows where we are",
    )
    .await?;
    // Live: mail for another mailbox never shows here; its own does.
    send(
        &server,
        "a@example.com",
        &["b@example.com"],
        &simple("Elsewhere", "body"),
    )
    .await?;
    let more = in_mailbox("team-a", "More team mail");
    send(&server, "a@example.com", &["b@example.com"], &more).await?;
    page.wait_for(&row_expr("More team mail"), "team-a's new mail, live")
        .await?;
    let elsewhere: bool = page
        .eval(&format!("Boolean({})", row_expr("Elsewhere")))
        .await?;
    expect(!elsewhere, "another mailbox's mail stays out")?;
    page.click_in_row("Team mail", ".row-link").await?;
    page.wait_for(
        "location.pathname.startsWith('/mailbox/team-a/view/') \
         && document.querySelector('.message-subject')?.textContent === 'Team mail'",
        "a message opens under the mailbox's root",
    )
    .await?;
    page.assert_no_errors(false).await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}
