//! One message: every tab shows the right content, and email scripts never run.

use super::*;

pub async fn message_tabs(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let id = send(
        &server,
        "bounces@mailer.example",
        &["to@example.com", "hidden@example.com"],
        &rich_message(),
    )
    .await?;
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

pub async fn email_scripts_never_run(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let id = send(
        &server,
        "evil@example.com",
        &["victim@example.com"],
        &hostile_message(),
    )
    .await?;
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

pub async fn html_check_tab(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let html = "<html><head><style>.row{display:flex}.hero{background-image:url(https://img.example/a.png)}</style></head>\
                <body><div class=row><div class=hero>Hello</div></div></body></html>";
    let id = send(
        &server,
        "news@shop.example",
        &["to@example.com"],
        &alternative(
            "news@shop.example",
            "to@example.com",
            "Styled news",
            "Hello",
            html,
        ),
    )
    .await?;
    // Straight to the tab, so the preview (whose frame logs the blocked
    // remote image) never loads.
    let page = ui.open(&server, &format!("/view/{id}#html-check")).await?;
    page.tab("html-check").await?;
    page.wait_for(
        "!!document.querySelector('.panel-html-check .check-score-value')",
        "the overall score",
    )
    .await?;
    let score: String = page
        .eval("document.querySelector('.check-score-value').textContent")
        .await?;
    let value: f64 = score.trim_end_matches('%').parse().map_err(err)?;
    expect(
        (0.0..100.0).contains(&value),
        format!("score {score:?} should be below 100%"),
    )?;
    let slugs: Vec<String> = page
        .eval("[...document.querySelectorAll('.check-item')].map(li => li.dataset.slug)")
        .await?;
    for slug in ["css-display-flex", "css-background-image"] {
        expect(
            slugs.iter().any(|s| s == slug),
            format!("{slug} in {slugs:?}"),
        )?;
    }
    // Opening a warning shows its support per client, with the bar drawn
    // (its widths set without breaking the page's style policy).
    page.run(
        "document.querySelector('.check-item[data-slug=\"css-display-flex\"] summary').click()",
    )
    .await?;
    page.wait_for(
        "document.querySelectorAll('.check-item[data-slug=\"css-display-flex\"] .check-support').length > 10",
        "client support badges",
    )
    .await?;
    let bar: f64 = page
        .eval("document.querySelector('.check-bar-yes').getBoundingClientRect().width")
        .await?;
    expect(bar > 0.0, format!("the score bar has width {bar}"))?;
    let path: String = page.eval("location.hash").await?;
    expect(path == "#html-check", format!("hash {path}"))?;
    page.assert_no_errors(false).await?;
    page.assert_self_contained(&server)?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}

/// The link check runs only when asked, and lists each link with its status
/// (here a loopback link, which the server refuses to request).
pub async fn link_check_on_demand(ui: &Ui) -> Outcome {
    let server = common::start().await;
    let raw = "From: a@example.com\r\nTo: b@example.com\r\nSubject: Links to check\r\n\
MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n\
<p><a href=\"http://127.0.0.1:9/private\">internal</a></p>\r\n";
    let id = send(&server, "a@example.com", &["b@example.com"], raw).await?;
    let page = ui.open(&server, &format!("/view/{id}")).await?;
    page.wait_for(
        "document.querySelector('.message-subject')?.textContent === 'Links to check'",
        "message header",
    )
    .await?;
    page.tab("links").await?;
    page.wait_for(
        "!!document.querySelector('.panel-links .button.primary')",
        "check button",
    )
    .await?;
    expect(
        page.statuses("/link-check").is_empty(),
        "the check ran before it was asked for",
    )?;
    page.run("document.querySelector('.panel-links .button.primary').click()")
        .await?;
    page.wait_for(
        "document.querySelector('.panel-links .check-table tr')?.dataset.status === '451'",
        "the link's status",
    )
    .await?;
    let row: String = page
        .eval("document.querySelector('.panel-links .check-table tr').textContent")
        .await?;
    expect(
        row.contains("Blocked private/reserved address")
            && row.contains("http://127.0.0.1:9/private"),
        format!("row {row:?}"),
    )?;
    expect(
        page.statuses("/link-check") == [200],
        format!("link-check requests: {:?}", page.statuses("/link-check")),
    )?;
    page.assert_no_errors(false).await?;
    page.close().await;
    server.shutdown().await;
    Ok(())
}
