//! The README screenshots (`MAILCATCH_SCREENSHOTS=1`), light and dark.

use chromiumoxide::cdp::browser_protocol::emulation::MediaFeature;

use super::*;

pub async fn screenshots(ui: &Ui) -> Outcome {
    let server = common::start().await;
    for (from, to, subject, text, html) in demo_messages() {
        let raw = alternative(from, to, subject, text, html);
        send(&server, "noreply@shop.example", &[to], &raw).await?;
    }
    let id = send(
        &server,
        "bounces@mailer.example",
        &["to@example.com", "hidden@example.com"],
        &rich_message(),
    )
    .await?;
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
            .list(0, 0, None)
            .await
            .unwrap()
            .messages
            .iter()
            .skip(3)
            .take(2)
            .map(|m| m.id().to_string())
            .collect();
        server
            .store()
            .set_read(mailcatch::store::Selection::Ids(&ids), true)
            .await
            .map_err(|e| e.to_string())?;
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
