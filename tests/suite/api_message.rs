//! `/api/v1/message/{ID}` and its sub-resources, and the `/view` routes.

use crate::api_support;

use api_support::{rich, simple, start};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn full_message_shape_and_mark_read() {
    let api = start().await;
    let m = api
        .insert_with(&rich(), &["bob@example.com", "secret@example.com"])
        .await;
    let message = api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    let keys: Vec<&str> = message
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "ID",
        "MessageID",
        "Read",
        "From",
        "To",
        "Cc",
        "Bcc",
        "ReplyTo",
        "ReturnPath",
        "Subject",
        "ListUnsubscribe",
        "Date",
        "Tags",
        "Username",
        "Text",
        "HTML",
        "Size",
        "Inline",
        "Attachments",
    ];
    expected.sort_unstable();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected, "every key, and nothing else");
    assert_eq!(message["Read"], true, "viewing marks it read");
    assert_eq!(message["ID"], m.id());
    assert_eq!(message["MessageID"], "rich-1@example.com");
    assert_eq!(
        message["From"],
        json!({"Name": "Alice Example", "Address": "alice@example.com"})
    );
    assert_eq!(message["To"].as_array().unwrap().len(), 2);
    assert_eq!(message["Cc"][0]["Address"], "dave@example.com");
    assert_eq!(
        message["Bcc"],
        json!([{"Name": "", "Address": "secret@example.com"}])
    );
    assert_eq!(message["ReplyTo"][0]["Address"], "replies@example.com");
    // No Return-Path header: the envelope sender (Mailpit writes MAIL FROM
    // into Return-Path at ingest), never the header From.
    assert_eq!(message["ReturnPath"], "sender@example.com");
    assert_eq!(message["Subject"], "Rich message");
    assert_eq!(message["Date"], "2025-07-01T10:00:00+02:00");
    assert_eq!(
        message["Text"].as_str().unwrap().trim(),
        "Hello plain world"
    );
    assert!(message["HTML"].as_str().unwrap().contains("<b>HTML</b>"));
    assert_eq!(
        message["ListUnsubscribe"],
        json!({"Header": "<mailto:unsub@example.com>", "Links": ["mailto:unsub@example.com"], "Errors": "", "HeaderPost": ""})
    );
    let inline = message["Inline"].as_array().unwrap();
    assert_eq!(inline.len(), 1);
    assert_eq!(inline[0]["ContentID"], "logo@example.com");
    assert_eq!(inline[0]["FileName"], "logo.png");
    assert_eq!(inline[0]["ContentType"], "image/png");
    let attachments = message["Attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    let notes = &attachments[0];
    assert_eq!(notes["FileName"], "notes.txt");
    assert_eq!(notes["Size"], 14);
    use sha2::Digest;
    assert_eq!(
        notes["Checksums"]["SHA256"],
        hex::encode(sha2::Sha256::digest(b"attached notes"))
    );
    assert_eq!(
        notes["Checksums"]["MD5"],
        hex::encode(md5::Md5::digest(b"attached notes"))
    );
    assert_eq!(notes["Checksums"]["SHA1"].as_str().unwrap().len(), 40);

    // Reading marked it read.
    let list = api.get_json("/api/v1/messages").await;
    assert_eq!(list["messages"][0]["Read"], true);
    assert_eq!(list["unread"], 0);
    api.shutdown().await;
}

#[tokio::test]
async fn latest_with_and_without_query() {
    let api = start().await;
    let (status, body) = api.call(Method::GET, "/api/v1/message/latest").await;
    assert_eq!((status, body.as_str()), (404, "Message not found"));
    let older = api
        .insert(&simple(
            "a@example.com",
            "b@example.com",
            "needle here",
            "x",
        ))
        .await;
    let newer = api
        .insert(&simple("c@example.com", "d@example.com", "other", "y"))
        .await;
    assert_eq!(
        api.get_json("/api/v1/message/latest").await["ID"],
        newer.id()
    );
    let matched = api
        .get_json("/api/v1/message/latest?query=subject%3Aneedle")
        .await;
    assert_eq!(matched["ID"], older.id());
    let (status, body) = api
        .call(Method::GET, "/api/v1/message/latest?query=nomatchanywhere")
        .await;
    assert_eq!((status, body.as_str()), (404, "Message not found"));
    for path in ["headers", "raw"] {
        let response = api
            .get(&format!("/api/v1/message/latest/{path}?query=needle"))
            .await;
        assert_eq!(response.status(), 200, "{path}");
    }
    api.shutdown().await;
}

#[tokio::test]
async fn unknown_and_hostile_ids_are_404() {
    let api = start().await;
    let m = api.insert(&rich()).await;
    let id = m.id();
    for path in [
        "/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA".to_string(),
        "/api/v1/message/nope".into(),
        "/api/v1/message/..%2F..%2Fetc%2Fpasswd".into(),
        "/api/v1/message/%00".into(),
        "/api/v1/message/zzzzzzzzzzzzzzzzzzzzzz/raw".into(),
        "/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA/headers".into(),
        format!("/api/v1/message/{id}/part/999"),
        format!("/api/v1/message/{id}/part/..%2F1"),
        format!("/api/v1/message/{id}/part/-1"),
        format!("/api/v1/message/{id}/part/0"),
        format!("/api/v1/message/{id}/part/99999999999999999999999"),
    ] {
        let (status, body) = api.call(Method::GET, &path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, "404 page not found", "{path}");
    }
    let (status, _) = api
        .call(Method::POST, &format!("/api/v1/message/{id}"))
        .await;
    assert_eq!(status, 405, "wrong method on a known path");
    api.shutdown().await;
}

#[tokio::test]
async fn headers_are_canonical_sorted_and_multi_valued() {
    let api = start().await;
    let m = api.insert(&rich()).await;
    let response = api
        .get(&format!("/api/v1/message/{}/headers", m.id()))
        .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let headers: Value = serde_json::from_str(&text).unwrap();
    let object = headers.as_object().unwrap();
    assert!(object.contains_key("Message-Id"), "{text}");
    assert!(object.contains_key("Mime-Version"));
    assert_eq!(headers["X-Mailer"], json!(["test"]));
    assert_eq!(headers["Received"].as_array().unwrap().len(), 2);
    assert_eq!(
        headers["Received"][0],
        "from a by b; Tue, 1 Jul 2025 10:00:00 +0200"
    );
    // Alphabetical in the body itself, as Go writes map keys.
    let order: Vec<usize> = [
        "\"Cc\"",
        "\"From\"",
        "\"Received\"",
        "\"Subject\"",
        "\"To\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]));
    api.shutdown().await;
}

#[tokio::test]
async fn raw_and_download() {
    let api = start().await;
    let raw = rich();
    let m = api.insert(&raw).await;
    let response = api.get(&format!("/api/v1/message/{}/raw", m.id())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert!(response.headers().get("content-disposition").is_none());
    assert_eq!(response.text().await.unwrap(), raw);
    let response = api
        .get(&format!("/api/v1/message/{}/raw?dl=1", m.id()))
        .await;
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{}.eml\"", m.id()).as_str()
    );
    api.shutdown().await;
}

/// A large text message is kept compressed and read off the async threads;
/// every endpoint that reads its raw bytes still sees them exactly.
#[tokio::test]
async fn large_compressed_message_reads_back_exactly() {
    let api = start().await;
    let line = "The same quarterly numbers, line after line, compress very well.\r\n";
    let raw = simple(
        "alice@example.com",
        "bob@example.com",
        "Large",
        &line.repeat(20_000),
    );
    assert!(raw.len() > 1024 * 1024);
    let m = api.insert(&raw).await;
    assert!(
        m.raw_footprint() < raw.len() / 8,
        "kept compressed: {} of {} B",
        m.raw_footprint(),
        raw.len()
    );
    let response = api.get(&format!("/api/v1/message/{}/raw", m.id())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), raw);
    let headers = api
        .get_json(&format!("/api/mailcatch/v1/message/{}/headers", m.id()))
        .await;
    assert!(headers.to_string().contains("Large"), "{headers}");
    let envelope = api
        .get_json(&format!("/api/mailcatch/v1/message/{}/envelope", m.id()))
        .await;
    assert_eq!(envelope["HeaderFrom"]["Address"], "alice@example.com");
    let message = api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    assert_eq!(message["Size"], raw.len());
    assert!(
        message["Text"]
            .as_str()
            .unwrap()
            .starts_with("The same quarterly")
    );
    api.shutdown().await;
}

#[tokio::test]
async fn parts_are_served_safely() {
    let api = start().await;
    let m = api.insert(&rich()).await;
    let message = api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    let part_url = |p: &Value| {
        format!(
            "/api/v1/message/{}/part/{}",
            m.id(),
            p["PartID"].as_str().unwrap()
        )
    };

    let notes = api.get(&part_url(&message["Attachments"][0])).await;
    assert_eq!(notes.status(), 200);
    assert_eq!(notes.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        notes.headers()["content-disposition"],
        "inline; filename=\"notes.txt\""
    );
    assert_eq!(notes.headers()["x-content-type-options"], "nosniff");
    assert_eq!(notes.text().await.unwrap(), "attached notes");

    let logo = api.get(&part_url(&message["Inline"][0])).await;
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");

    // An HTML attachment with a hostile file name: never inline, never a
    // header break-out, never a path.
    let evil = api.get(&part_url(&message["Attachments"][1])).await;
    assert_eq!(evil.status(), 200);
    let disposition = evil.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        !disposition.contains('/') && !disposition.contains('\\'),
        "{disposition}"
    );
    assert_eq!(disposition.matches('"').count(), 2, "{disposition}");
    let csp = evil.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert!(!csp.contains("script-src"), "no script allowed: {csp}");
    assert_eq!(evil.headers()["x-content-type-options"], "nosniff");
    api.shutdown().await;
}

#[tokio::test]
async fn html_and_text_views() {
    let api = start().await;
    let m = api.insert(&rich()).await;
    let response = api.get(&format!("/view/{}.html", m.id())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    let message = api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    let logo = format!(
        "/api/v1/message/{}/part/{}",
        m.id(),
        message["Inline"][0]["PartID"].as_str().unwrap()
    );
    assert!(html.contains(&format!("src=\"{logo}\"")), "{html}");
    assert!(!html.contains("cid:"));
    let embedded = api
        .get(&format!("/view/{}.html?embed=1", m.id()))
        .await
        .text()
        .await
        .unwrap();
    assert!(embedded.contains("target=\"_blank\""));

    let text = api.get(&format!("/view/{}.txt", m.id())).await;
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(text.text().await.unwrap().trim(), "Hello plain world");
    assert_eq!(
        api.get("/view/latest.txt")
            .await
            .text()
            .await
            .unwrap()
            .trim(),
        "Hello plain world"
    );

    let plain_only = api
        .insert(&simple(
            "a@example.com",
            "b@example.com",
            "plain",
            "just text",
        ))
        .await;
    let (status, body) = api
        .call(Method::GET, &format!("/view/{}.html", plain_only.id()))
        .await;
    assert_eq!(
        (status, body.as_str()),
        (404, "This message does not contain a HTML part")
    );
    for path in ["/view/AAAAAAAAAAAAAAAAAAAAAA.html", "/view/nope.txt"] {
        let (status, body) = api.call(Method::GET, path).await;
        assert_eq!(
            (status, body.as_str()),
            (404, "Message not found"),
            "{path}"
        );
    }

    let redirect = api.get("/view/latest?query=subject%3ARich").await;
    assert_eq!(redirect.status(), 302);
    assert_eq!(
        redirect.headers()["location"],
        format!("/view/{}", m.id()).as_str()
    );
    let redirect = api.get("/view/latest").await;
    assert_eq!(
        redirect.headers()["location"],
        format!("/view/{}", plain_only.id()).as_str()
    );
    api.shutdown().await;
    let empty = start().await;
    let redirect = empty.get("/view/latest").await;
    assert_eq!(redirect.status(), 302);
    assert_eq!(redirect.headers()["location"], "/");
    empty.shutdown().await;
}

#[tokio::test]
async fn a_message_without_message_id_gets_one_clients_can_find_it_by() {
    let api = start().await;
    let m = api
        .insert("From: a@example.com\r\nTo: b@example.com\r\nSubject: no id\r\n\r\nx\r\n")
        .await;
    let message = api
        .get_json(&format!("/api/v1/message/{}?peek=1", m.id()))
        .await;
    let generated = message["MessageID"].as_str().unwrap().to_string();
    assert_eq!(generated, format!("{}@mailcatch", m.id()));
    let found = api
        .get_json(&format!("/api/v1/search?query=message-id:{generated}"))
        .await;
    assert_eq!(found["messages_count"], 1);
    let raw = api.get(&format!("/api/v1/message/{}/raw", m.id())).await;
    assert!(
        !raw.text().await.unwrap().contains("Message-ID"),
        "the raw bytes are untouched"
    );
    api.shutdown().await;
}

/// An HTML message styled with a flexbox row and a background image, which
/// many email clients do not support.
fn styled_html() -> String {
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: Styled\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<html><head><style>.row{display:flex;gap:8px}.hero{background-image:url(https://img.example/h.png)}\
.cta:hover{color:red}</style></head><body><div class=row><div class=hero>Hi</div>\
<p style=\"display:flex\">x</p></div></body></html>\r\n"
        .to_string()
}

#[tokio::test]
async fn html_check_scores_features_from_caniemail() {
    let api = start().await;
    let m = api.insert(&styled_html()).await;
    let response = api
        .get(&format!("/api/v1/message/{}/html-check", m.id()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let check: Value = response.json().await.unwrap();
    let keys: Vec<&str> = check
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["Platforms", "Total", "Warnings"]);
    let total = &check["Total"];
    assert_eq!(total["Nodes"], 5, "style, body, two divs, p: {total}");
    let supported = total["Supported"].as_f64().unwrap();
    assert!((0.0..100.0).contains(&supported), "{total}");
    let sum =
        supported + total["Partial"].as_f64().unwrap() + total["Unsupported"].as_f64().unwrap();
    assert!((sum - 100.0).abs() < 0.01, "{total}");
    assert!(total["Tests"].as_u64().unwrap() > 150);

    let warnings = check["Warnings"].as_array().unwrap();
    let find = |slug: &str| {
        warnings
            .iter()
            .find(|w| w["Slug"] == slug)
            .unwrap_or_else(|| panic!("{slug}"))
    };
    let flex = find("css-display-flex");
    assert_eq!(
        flex["Score"]["Found"], 2,
        "the rule and the style attribute"
    );
    assert_eq!(flex["Category"], "css");
    assert_eq!(
        flex["URL"],
        "https://www.caniemail.com/features/css-display-flex/"
    );
    let mut fields: Vec<&str> = flex
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "Category",
            "Description",
            "Keywords",
            "NotesByNumber",
            "Results",
            "Score",
            "Slug",
            "Tags",
            "Title",
            "URL"
        ]
    );
    let results = flex["Results"].as_array().unwrap();
    assert!(results.len() > 20);
    assert!(
        results
            .iter()
            .all(|r| ["yes", "no", "partial"].contains(&r["Support"].as_str().unwrap()))
    );
    let outlook = results
        .iter()
        .find(|r| r["Family"] == "outlook" && r["Platform"] == "windows")
        .expect("Outlook on Windows is tested");
    assert!(
        outlook["Name"]
            .as_str()
            .unwrap()
            .starts_with("Outlook Windows ("),
        "{outlook}"
    );
    let unsupported = flex["Score"]["Unsupported"].as_f64().unwrap();
    let share = 100.0 * results.iter().filter(|r| r["Support"] == "no").count() as f64
        / results.len() as f64;
    assert!(
        (unsupported - share).abs() < 0.01,
        "{unsupported} vs {share}"
    );
    assert_eq!(find("css-background-image")["Score"]["Found"], 1);
    assert_eq!(find("css-pseudo-class-hover")["Score"]["Found"], 1);
    assert_eq!(find("html-style")["Score"]["Found"], 1);
    assert_eq!(find("html-body")["Score"]["Found"], 1);
    assert!(
        check["Platforms"]["ios"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "Apple Mail")
    );

    // `latest` works; a message without HTML and an unknown ID are errors.
    let latest = api.get_json("/api/v1/message/latest/html-check").await;
    assert_eq!(latest["Total"], check["Total"]);
    api.insert(&simple(
        "a@example.com",
        "b@example.com",
        "Plain",
        "no html",
    ))
    .await;
    let (status, body) = api
        .call(Method::GET, "/api/v1/message/latest/html-check")
        .await;
    assert_eq!(
        (status, body.as_str()),
        (400, "message does not contain HTML")
    );
    let (status, body) = api
        .call(Method::GET, "/api/v1/message/nOsUcHmEsSaGe/html-check")
        .await;
    assert_eq!((status, body.as_str()), (404, "404 page not found"));
    api.shutdown().await;
}

/// A PNG of `width`×`height` red pixels.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([220, 20, 20]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A valid PNG header declaring 60000×60000 RGBA pixels (14 GB decoded)
/// with almost no data: a decompression bomb's shape.
fn bomb_png() -> Vec<u8> {
    let mut small = png(1, 1);
    // IHDR's width and height live at bytes 16..24; its CRC at 29..33.
    small[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    small[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&small[12..29]);
    small[29..33].copy_from_slice(&crc.to_be_bytes());
    small
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn with_attachments(parts: &[(&str, &str, &[u8])]) -> String {
    use base64::Engine;
    let mut raw = String::from(
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: Pictures\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n",
    );
    for (name, content_type, data) in parts {
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        raw.push_str(&format!(
            "--b\r\nContent-Type: {content_type}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        ));
    }
    raw.push_str("--b--\r\n");
    raw
}

#[tokio::test]
async fn thumbnails_are_180x120_jpegs_even_for_bombs() {
    let api = start().await;
    let m = api
        .insert(&with_attachments(&[
            ("photo.png", "image/png", &png(400, 300)),
            ("tiny.png", "image/png", &png(8, 8)),
            ("notes.txt", "text/plain", b"not an image"),
            ("bomb.png", "image/png", &bomb_png()),
        ]))
        .await;
    let message = api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    let attachments = message["Attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 4);
    let mut thumbs = Vec::new();
    for attachment in attachments {
        let path = format!(
            "/api/v1/message/{}/part/{}/thumb",
            m.id(),
            attachment["PartID"].as_str().unwrap()
        );
        let started = std::time::Instant::now();
        let response = api.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.contains(attachment["FileName"].as_str().unwrap()),
            "{disposition}"
        );
        let jpeg = response.bytes().await.unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
        let decoded = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("a JPEG")
            .to_rgb8();
        assert_eq!(decoded.dimensions(), (180, 120), "{path}");
        thumbs.push(decoded);
    }
    let white = |p: &image::Rgb<u8>| p.0.iter().all(|&c| c > 240);
    let red = |p: &image::Rgb<u8>| p.0[0] > 180 && p.0[1] < 80 && p.0[2] < 80;
    assert!(
        red(thumbs[0].get_pixel(0, 0)) && red(thumbs[0].get_pixel(179, 119)),
        "cropped to cover"
    );
    assert!(
        red(thumbs[1].get_pixel(90, 60)) && white(thumbs[1].get_pixel(0, 0)),
        "small: centred on white"
    );
    assert!(thumbs[2].pixels().all(white), "not an image: blank");
    assert!(thumbs[3].pixels().all(white), "a bomb: blank, not decoded");

    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/v1/message/{}/part/99/thumb", m.id()),
        )
        .await;
    assert_eq!((status, body.as_str()), (400, "attachment not found"));
    let (status, body) = api
        .call(Method::GET, "/api/v1/message/nOsUcHmEsSaGe/part/1/thumb")
        .await;
    assert_eq!((status, body.as_str()), (400, "message not found"));
    api.shutdown().await;
}

/// A small HTTP server on loopback standing in for the sites a message links
/// to, counting the connections it accepts: `/ok` 200, `/missing` 404,
/// `/moved` 302 to `/ok`, `/loop` 302 to itself, `/no-head` 405 to `HEAD`
/// and 200 to `GET`.
struct LinkTarget {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl LinkTarget {
    async fn start() -> LinkTarget {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(LinkTarget::answer(stream));
            }
        });
        LinkTarget {
            addr,
            connections,
            task,
        }
    }

    /// Answers one request and closes (bounded: 8 KiB of head, 5 s).
    async fn answer(mut stream: tokio::net::TcpStream) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        let read = async {
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), read).await;
        let head = String::from_utf8_lossy(&head);
        let mut words = head.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let (status, location) = match (method, path) {
            (_, "/ok") => ("200 OK", None),
            (_, "/moved") => ("302 Found", Some("/ok")),
            (_, "/loop") => ("302 Found", Some("/loop")),
            ("HEAD", "/no-head") => ("405 Method Not Allowed", None),
            ("GET", "/no-head") => ("200 OK", None),
            _ => ("404 Not Found", None),
        };
        let location = location.map_or(String::new(), |l| format!("Location: {l}\r\n"));
        let answer = format!(
            "HTTP/1.1 {status}\r\n{location}Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for LinkTarget {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A message linking to `urls` from its HTML, and to the last from its text.
fn linking(urls: &[String]) -> String {
    let anchors: String = urls
        .iter()
        .map(|url| format!("<a href=\"{url}\">link</a> "))
        .collect();
    simple("a@example.com", "b@example.com", "links", "").replace(
        "\r\n\r\n",
        &format!(
            "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nAlso {}\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<p>{anchors}</p>\r\n--b--\r\n",
            urls.last().cloned().unwrap_or_default()
        ),
    )
}

/// `(StatusCode, Status)` of each link, in order.
fn statuses(report: &Value) -> Vec<(u64, String)> {
    report["Links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["StatusCode"].as_u64().unwrap(),
                l["Status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn link_check_reports_each_links_status() {
    let target = LinkTarget::start().await;
    let api = api_support::start_with(|c| c.http.allow_internal_http_requests = true).await;
    let urls: Vec<String> = ["/ok", "/missing", "/moved", "/no-head", "/loop"]
        .iter()
        .map(|path| target.url(path))
        .collect();
    let m = api.insert(&linking(&urls)).await;

    let report = api
        .get_json(&format!("/api/v1/message/{}/link-check", m.id()))
        .await;
    let keys: Vec<&String> = report.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["Errors", "Links"]);
    assert_eq!(report["Links"][0]["URL"], urls[0]);
    let found = |code: u64, status: &str| (code, status.to_string());
    assert_eq!(
        statuses(&report),
        [
            found(200, "OK"),
            found(404, "Not Found"),
            found(302, "Found"),
            found(200, "OK"),
            found(302, "Found"),
        ],
        "each link once, redirects reported, GET when HEAD is refused"
    );
    assert_eq!(report["Errors"], 1);

    // `latest` and `follow=true` (the npm client always sends `follow`).
    let followed = api
        .get_json("/api/v1/message/latest/link-check?follow=true")
        .await;
    assert_eq!(
        statuses(&followed),
        [
            found(200, "OK"),
            found(404, "Not Found"),
            found(200, "OK"),
            found(200, "OK"),
            found(0, "too many redirects"),
        ]
    );
    assert_eq!(followed["Errors"], 2);
    let not_followed = api
        .get_json("/api/v1/message/latest/link-check?follow=false")
        .await;
    assert_eq!(not_followed["Links"][2]["StatusCode"], 302);

    let (status, _) = api
        .call(
            Method::GET,
            "/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA/link-check",
        )
        .await;
    assert_eq!(status, 404);
    api.shutdown().await;
}

#[tokio::test]
async fn link_check_refuses_internal_addresses_without_connecting() {
    let target = LinkTarget::start().await;
    let api = start().await;
    let port = target.addr.port();
    let urls = vec![
        target.url("/ok"),
        format!("http://[::1]:{port}/ok"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://localhost:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
    ];
    let m = api.insert(&linking(&urls)).await;
    for query in ["", "?follow=true"] {
        let report = api
            .get_json(&format!("/api/v1/message/{}/link-check{query}", m.id()))
            .await;
        let blocked = (451, "Blocked private/reserved address".to_string());
        assert_eq!(statuses(&report), vec![blocked; urls.len()], "{query}");
        assert_eq!(report["Errors"], urls.len());
    }
    assert_eq!(target.connections(), 0, "no request reached the target");
    api.shutdown().await;
}

#[tokio::test]
async fn sa_check_is_absent_unless_enabled_and_reports_a_down_spamd() {
    let api = start().await;
    let m = api
        .insert(&simple("a@example.com", "b@example.com", "hi", "hello"))
        .await;
    let (status, body) = api
        .call(Method::GET, &format!("/api/v1/message/{}/sa-check", m.id()))
        .await;
    assert_eq!((status, body.as_str()), (404, "404 page not found"));
    assert_eq!(api.get_json("/api/v1/webui").await["SpamAssassin"], false);
    api.shutdown().await;

    // Nothing listens on a port that was free a moment ago.
    let down = format!("127.0.0.1:{}", api_support::common::free_port());
    let api = api_support::start_with(|c| c.http.enable_spamassassin = Some(down)).await;
    assert_eq!(api.get_json("/api/v1/webui").await["SpamAssassin"], true);
    let m = api
        .insert(&simple("a@example.com", "b@example.com", "hi", "hello"))
        .await;
    let report = api
        .get_json(&format!("/api/v1/message/{}/sa-check", m.id()))
        .await;
    assert_eq!(report["IsSpam"], false);
    assert_eq!(report["Score"], 0);
    assert_eq!(report["Rules"], Value::Null);
    assert!(
        report["Error"].as_str().unwrap().contains("connect"),
        "{report}"
    );
    api.shutdown().await;
}

/// Against a real spamd, at `MAILCATCH_SPAMD` (HOST:PORT; .ci/run starts one).
#[tokio::test]
async fn sa_check_asks_a_real_spamd() {
    let Ok(spamd) = std::env::var("MAILCATCH_SPAMD") else {
        assert!(
            !api_support::common::require_clients(),
            "MAILCATCH_SPAMD must name a running spamd in CI"
        );
        println!("SKIP: MAILCATCH_SPAMD is not set; no SpamAssassin check against spamd");
        return;
    };
    let api = api_support::start_with(|c| c.http.enable_spamassassin = Some(spamd)).await;
    let gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    let spam = api
        .insert(&simple("a@example.com", "b@example.com", "test", gtube))
        .await;
    let report = api
        .get_json(&format!("/api/v1/message/{}/sa-check", spam.id()))
        .await;
    assert_eq!(report["Error"], "", "{report}");
    assert_eq!(report["IsSpam"], true);
    assert!(report["Score"].as_f64().unwrap() >= 1000.0, "{report}");
    let rules = report["Rules"].as_array().unwrap();
    let gtube_rule = rules
        .iter()
        .find(|r| r["Name"] == "GTUBE")
        .expect("GTUBE hit");
    assert_eq!(gtube_rule["Score"], 1000);
    assert!(
        gtube_rule["Description"]
            .as_str()
            .unwrap()
            .contains("Unsolicited Bulk Email"),
        "{gtube_rule}"
    );

    let ham = api
        .insert(&simple(
            "a@example.com",
            "b@example.com",
            "Lunch",
            "See you at noon.",
        ))
        .await;
    let report = api.get_json("/api/v1/message/latest/sa-check").await;
    assert_eq!(report["Error"], "", "{report}");
    assert_eq!(report["IsSpam"], false, "{} is ham", ham.id());
    assert!(report["Score"].as_f64().unwrap() < 5.0);
    assert!(report["Rules"].is_array());
    api.shutdown().await;
}
