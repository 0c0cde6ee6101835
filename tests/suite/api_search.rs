//! `/api/v1/search` (contract §3): every example row of Mailpit's
//! `TestAPIv1Search` on the same 100 messages, then each filter keyword.

use crate::api_support;

use api_support::{Api, ids, rich, simple, start};
use mailcatch::store::Selection;
use reqwest::Method;

/// The 100 messages of Mailpit's `insertEmailData`, each tagged
/// `Test tag NNN`.
async fn insert_mailpit_test_data(api: &Api) {
    for i in 0..100 {
        let raw = format!(
            "From: \"From {i}\" <from-{i}@example.com>\r\nTo: \"To {i}\" <to-{i}@example.com>\r\n\
Subject: Subject line {i} end\r\nMessage-ID: <{i}@mailpit.test>\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
This is the email body {i} <jdsauk;dwqmdqw;>.\r\n"
        );
        let message = api.insert(&raw).await;
        api.running
            .store()
            .set_tags(&[message.id().to_string()], &[format!("Test tag {i:03}")])
            .await
            .unwrap();
    }
}

/// `messages_count` of a search, requested with `limit` = the expected
/// count as Mailpit's test does (so `limit=0` is exercised too).
async fn count(api: &Api, query: &str, limit: usize) -> u64 {
    let url = format!("/api/v1/search?query={}&limit={limit}", urlencode(query));
    let result = api.get_json(&url).await;
    let returned = result["messages"].as_array().unwrap().len();
    let matched = result["messages_count"].as_u64().unwrap();
    assert_eq!(returned as u64, matched.min(limit as u64), "{query}");
    assert_eq!(result["total"], 100);
    matched
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn every_example_of_the_contract_table() {
    let api = start().await;
    insert_mailpit_test_data(&api).await;
    let table: [(&str, usize); 14] = [
        ("from-1@example.com", 1),
        ("from:from-1@example.com", 1),
        ("-from:from-1@example.com", 99),
        ("-FROM:FROM-1@EXAMPLE.COM", 99),
        ("to:from-1@example.com", 0),
        ("from:@example.com", 100),
        ("subject:\"Subject line\"", 100),
        ("subject:\"SUBJECT LINE 17 END\"", 1),
        ("!thisdoesnotexist", 100),
        ("-ThisDoesNotExist", 100),
        ("thisdoesnotexist", 0),
        ("tag:\"Test tag 065\"", 1),
        ("tag:\"TEST TAG 065\"", 1),
        ("!tag:\"Test tag 023\"", 99),
    ];
    for (query, expected) in table {
        assert_eq!(
            count(&api, query, expected).await,
            expected as u64,
            "{query}"
        );
    }
    api.shutdown().await;
}

#[tokio::test]
async fn search_envelope_paging_and_errors() {
    let api = start().await;
    insert_mailpit_test_data(&api).await;
    api.running
        .store()
        .set_read(mailcatch::store::Selection::All, true)
        .await
        .unwrap();
    let result = api
        .get_json("/api/v1/search?query=from%3A%40example.com&start=10&limit=5")
        .await;
    assert_eq!(result["messages_count"], 100);
    assert_eq!(result["messages_unread"], 0);
    assert_eq!(result["count"], 5);
    assert_eq!(result["start"], 10);
    assert_eq!(result["messages"][0]["Subject"], "Subject line 89 end");
    assert_eq!(result["tags"].as_array().unwrap().len(), 100);
    let none = api.get_json("/api/v1/search?query=body&limit=0").await;
    assert_eq!(
        none["messages"].as_array().unwrap().len(),
        0,
        "limit=0: counts only"
    );
    assert_eq!(none["messages_count"], 100);
    for path in [
        "/api/v1/search",
        "/api/v1/search?query=",
        "/api/v1/search?query=%20%20",
    ] {
        let (status, body) = api.call(Method::GET, path).await;
        assert_eq!(
            (status, body.as_str()),
            (400, "Error: no search query"),
            "{path}"
        );
        let (status, _) = api.call(Method::DELETE, path).await;
        assert_eq!(status, 400);
    }
    let (status, _) = api
        .call(Method::GET, "/api/v1/search?query=x&start=-2")
        .await;
    assert_eq!(status, 400);
    api.shutdown().await;
}

#[tokio::test]
async fn every_filter_keyword() {
    let api = start().await;
    let rich = api
        .insert_with(&rich(), &["bob@example.com", "hidden@example.com"])
        .await;
    let plain = api
        .insert(&simple(
            "Zoë Ångström <zoe@example.org>",
            "Ünïcode Person <uni@example.org>",
            "Grüße aus Köln",
            "Straße und Bücher",
        ))
        .await;
    api.running
        .store()
        .set_tags(&[plain.id().to_string()], &["Urgent".to_string()])
        .await
        .unwrap();
    api.running
        .store()
        .set_read(Selection::Ids(&[rich.id().to_string()]), true)
        .await
        .unwrap();

    let cases: &[(&str, &[&str])] = &[
        ("cc:dave", &[rich.id()]),
        ("bcc:hidden@example.com", &[rich.id()]),
        ("reply-to:replies@", &[rich.id()]),
        ("addressed:replies@example.com", &[rich.id()]),
        ("addressed:uni@example.org", &[plain.id()]),
        ("to:\"Bob\"", &[rich.id()]),
        ("message-id:rich-1", &[rich.id()]),
        ("is:read", &[rich.id()]),
        ("is:unread", &[plain.id()]),
        ("!is:read", &[plain.id()]),
        ("is:tagged", &[plain.id()]),
        ("-is:tagged", &[rich.id()]),
        ("tag:urgent", &[plain.id()]),
        ("has:attachment", &[rich.id()]),
        ("has:attachments", &[rich.id()]),
        ("has:inline", &[rich.id()]),
        ("-has:inlines", &[plain.id()]),
        ("larger:1k", &[rich.id()]),
        ("smaller:1KB", &[plain.id()]),
        ("larger:0.001MB", &[rich.id()]),
        ("notes.txt", &[rich.id()]),
        ("\"html world\"", &[rich.id()]),
        ("hello world", &[rich.id()]),
        ("world hello", &[rich.id()]),
        ("\"world hello\"", &[]),
        // Unicode case-insensitivity, in free text and in field filters.
        ("GRÜSSE", &[]),
        ("GRÜßE", &[plain.id()]),
        ("straße", &[plain.id()]),
        ("subject:KÖLN", &[plain.id()]),
        ("from:ÅNGSTRÖM", &[plain.id()]),
        ("to:ünïcode", &[plain.id()]),
        // Ignored terms: empty filters and unparseable dates.
        ("from: subject:köln", &[plain.id()]),
        ("after:garbage köln", &[plain.id()]),
        // Unknown keywords are free text.
        ("is:nothing", &[]),
        ("after:2000-01-01", &[plain.id(), rich.id()]),
        ("before:2000-01-01", &[]),
        ("-after:2999-01-01", &[plain.id(), rich.id()]),
        ("before:2999/12/31", &[plain.id(), rich.id()]),
        ("after:01/01/2999", &[]),
    ];
    for (query, expected) in cases {
        let url = format!("/api/v1/search?query={}", urlencode(query));
        let found = ids(&api.get_json(&url).await);
        assert_eq!(found, *expected, "{query}");
    }
    api.shutdown().await;
}

#[tokio::test]
async fn dates_follow_tz_and_before_parameter() {
    let api = start().await;
    let message = api
        .insert(&simple("a@example.com", "b@example.com", "dated", "x"))
        .await;
    // A civil time an hour after receipt in UTC is an hour before it in
    // UTC+2 (Europe/Berlin in July is UTC+2; use a fixed zone instead).
    let received = message.created;
    let in_utc = received
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime()
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let query = |tz: &str| {
        format!(
            "/api/v1/search?query={}&tz={tz}",
            urlencode(&format!("before:{in_utc}"))
        )
    };
    assert_eq!(ids(&api.get_json(&query("UTC")).await), [message.id()]);
    assert!(
        ids(&api.get_json(&query("Etc%2FGMT-3")).await).is_empty(),
        "UTC+3"
    );
    // An unknown zone is ignored rather than refused.
    assert_eq!(api.get(&query("Not%2FAZone")).await.status(), 200);

    let before_now = api
        .get_json("/api/v1/search?query=dated&before=2000-01-01")
        .await;
    assert_eq!(before_now["messages_count"], 0);
    api.shutdown().await;
}

#[tokio::test]
async fn delete_by_search_and_read_status_by_search() {
    let api = start().await;
    insert_mailpit_test_data(&api).await;
    let (status, body) = api
        .call(
            Method::DELETE,
            "/api/v1/search?query=subject%3A%22line%201%22",
        )
        .await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    // "line 1" matches 1, 10-19 and 100 (absent): 11 messages.
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 89);
    let (status, _) = api
        .send_json(
            Method::PUT,
            "/api/v1/messages?tz=UTC",
            r#"{"search": "subject:\"line 2\"", "read": true}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.get_json("/api/v1/messages").await["unread"], 89 - 11);
    // Free text alone: PostgreSQL counts its unread matches as all matches
    // but the read ones, for a page and for a start past the last match.
    let page = api.get_json("/api/v1/search?query=body&limit=5").await;
    assert_eq!(page["messages_count"], 89);
    assert_eq!(page["messages_unread"], 89 - 11);
    assert_eq!(page["messages"].as_array().unwrap().len(), 5);
    let past = api
        .get_json("/api/v1/search?query=%22body%202%22&start=50")
        .await;
    assert_eq!(past["messages_count"], 11);
    assert_eq!(past["messages_unread"], 0);
    api.shutdown().await;
}
