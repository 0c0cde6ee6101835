//! The requests of the OpenAPI check, and what they need on the server:
//! a message with parts, links and a code, a tag, and a delivery waiting
//! to be retried (its relay refuses connections).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::api_support::{self, Api, common, start_with};

/// One request of the run: `template` is the documented path it exercises.
pub struct Call {
    pub method: Method,
    pub template: &'static str,
    pub path: String,
    pub body: Option<String>,
    pub status: u16,
}

fn call(method: Method, template: &'static str, path: String, status: u16) -> Call {
    Call {
        method,
        template,
        path,
        body: None,
        status,
    }
}

fn with_body(
    method: Method,
    template: &'static str,
    path: String,
    body: Value,
    status: u16,
) -> Call {
    Call {
        body: Some(body.to_string()),
        ..call(method, template, path, status)
    }
}

/// What the calls refer to.
pub struct Fixtures {
    id: String,
    /// A second message, for MailHog's delete.
    other: String,
    part: String,
    inline_part: String,
    delivery: String,
    /// A loopback port nothing listens on: the relay, and the links.
    closed_port: u16,
}

/// A rich message whose links point at a closed loopback port and whose
/// text holds a one-time code.
fn fixture_message(closed_port: u16) -> String {
    api_support::rich()
        .replace(
            "https://example.com",
            &format!("http://127.0.0.1:{closed_port}/html"),
        )
        .replace(
            "Hello plain world",
            &format!("Hello plain world, your code is 482913: http://127.0.0.1:{closed_port}/text"),
        )
}

pub async fn server(closed_port: u16) -> Api {
    let relay = common::fresh_database().with_extension("yaml");
    std::fs::write(&relay, format!("host: 127.0.0.1\nport: {closed_port}\n")).unwrap();
    // sa-check is only routed with a spamd named (here one that is down).
    let spamd = format!("127.0.0.1:{}", common::free_port());
    start_with(move |c| {
        c.smtp.enable_chaos = true;
        c.http.enable_spamassassin = Some(spamd);
        c.http.enable_prometheus = Some("true".into());
        c.relay.config_file = Some(relay);
        c.relay.retry = "1h".into();
        c.relay.give_up = Duration::from_secs(7200);
        c.relay.timeout = 5;
    })
    .await
}

pub async fn fixtures(api: &Api, closed_port: u16) -> Fixtures {
    let m = api.insert(&fixture_message(closed_port)).await;
    let other = api
        .insert(&api_support::simple(
            "a@example.com",
            "b@example.com",
            "other",
            "x",
        ))
        .await;
    let message = api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    let part_id = |list: &str| message[list][0]["PartID"].as_str().unwrap().to_string();
    api.running
        .store()
        .set_tags(&[m.id().to_string()], &["Docs".to_string()])
        .await
        .unwrap();
    // A delivery that waits for its next attempt (in an hour).
    let path = format!("/api/v1/message/{}/release", m.id());
    let (status, text) = api
        .send_json(Method::POST, &path, r#"{"To": ["x@example.net"]}"#)
        .await;
    assert_eq!(status, 200, "{text}");
    let mut delivery = String::new();
    let deferred = common::eventually(async || {
        let list = api.get_json("/api/mailcatch/v1/deliveries").await;
        delivery = list["Deliveries"][0]["ID"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        list["Deliveries"][0]["State"] == "deferred"
    })
    .await;
    assert!(deferred, "the delivery to a closed port is deferred");
    Fixtures {
        id: m.id().to_string(),
        other: other.id().to_string(),
        part: part_id("Attachments"),
        inline_part: part_id("Inline"),
        delivery,
        closed_port,
    }
}

/// Every request, in an order where each finds what it needs (the mailbox
/// is created before it is listed and deleted, chaos is set before Jim is
/// let in, deletions come last).
pub fn calls(f: &Fixtures) -> Vec<Call> {
    use Method as M;
    let id = &f.id;
    let msg = |tail: &str| format!("/api/v1/message/{id}{tail}");
    let own = |tail: &str| format!("/api/mailcatch/v1/message/{id}{tail}");
    let delivery = format!("/api/mailcatch/v1/deliveries/{}", f.delivery);
    let send = json!({"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}],
        "Subject": "sent", "Text": "hi"});
    let hog_release =
        |host: &str| json!({"Host": host, "Port": f.closed_port, "Email": "x@example.net"});
    vec![
        // Mailpit
        call(M::GET, "/api/v1/info", "/api/v1/info".into(), 200),
        call(M::GET, "/api/v1/webui", "/api/v1/webui".into(), 200),
        call(M::GET, "/api/v1/messages", "/api/v1/messages".into(), 200),
        call(
            M::GET,
            "/api/v1/search",
            "/api/v1/search?query=subject%3ARich".into(),
            200,
        ),
        call(M::GET, "/api/v1/message/{ID}", msg(""), 200),
        call(M::GET, "/api/v1/message/{ID}/headers", msg("/headers"), 200),
        call(M::GET, "/api/v1/message/{ID}/raw", msg("/raw"), 200),
        call(
            M::GET,
            "/api/v1/message/{ID}/link-check",
            msg("/link-check"),
            200,
        ),
        call(
            M::GET,
            "/api/v1/message/{ID}/sa-check",
            msg("/sa-check"),
            200,
        ),
        call(
            M::GET,
            "/api/v1/message/{ID}/part/{PartID}",
            msg(&format!("/part/{}", f.part)),
            200,
        ),
        call(
            M::GET,
            "/api/v1/message/{ID}/part/{PartID}/thumb",
            msg(&format!("/part/{}/thumb", f.inline_part)),
            200,
        ),
        call(
            M::GET,
            "/api/v1/message/{ID}/html-check",
            msg("/html-check"),
            200,
        ),
        with_body(
            M::POST,
            "/api/v1/message/{ID}/release",
            msg("/release"),
            json!({"To": ["y@example.net"]}),
            200,
        ),
        with_body(M::POST, "/api/v1/send", "/api/v1/send".into(), send, 200),
        with_body(
            M::POST,
            "/api/v1/send",
            "/api/v1/send".into(),
            json!({"From": {"Email": "bad"}}),
            400,
        ),
        call(M::GET, "/api/v1/tags", "/api/v1/tags".into(), 200),
        with_body(
            M::PUT,
            "/api/v1/tags",
            "/api/v1/tags".into(),
            json!({"IDs": [f.other], "Tags": ["Other"]}),
            200,
        ),
        with_body(
            M::PUT,
            "/api/v1/tags/{Tag}",
            "/api/v1/tags/Docs".into(),
            json!({"Name": "Docs2"}),
            200,
        ),
        call(
            M::DELETE,
            "/api/v1/tags/{Tag}",
            "/api/v1/tags/Docs2".into(),
            200,
        ),
        call(M::GET, "/api/v1/chaos", "/api/v1/chaos".into(), 200),
        with_body(
            M::PUT,
            "/api/v1/chaos",
            "/api/v1/chaos".into(),
            json!({"Sender": {"ErrorCode": 451, "Probability": 0}}),
            200,
        ),
        with_body(
            M::PUT,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"IDs": [id], "Read": false}),
            200,
        ),
        call(
            M::GET,
            "/api/v1/openapi.json",
            "/api/v1/openapi.json".into(),
            200,
        ),
        call(
            M::GET,
            "/api/v1/swagger.json",
            "/api/v1/swagger.json".into(),
            200,
        ),
        call(M::GET, "/api/events", "/api/events".into(), 101),
        call(M::GET, "/view/{ID}.html", format!("/view/{id}.html"), 200),
        call(M::GET, "/view/{ID}.txt", format!("/view/{id}.txt"), 200),
        call(M::GET, "/view/latest", "/view/latest".into(), 302),
        call(M::GET, "/livez", "/livez".into(), 200),
        call(M::GET, "/readyz", "/readyz".into(), 200),
        // mailcatch
        call(
            M::GET,
            "/api/mailcatch/v1/message/{ID}/links",
            own("/links"),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/message/{ID}/codes",
            own("/codes"),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/message/{ID}/envelope",
            own("/envelope"),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/message/{ID}/headers",
            own("/headers"),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/wait",
            "/api/mailcatch/v1/wait?query=subject%3ARich&timeout=0".into(),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/wait",
            "/api/mailcatch/v1/wait?query=subject%3Anone&timeout=0".into(),
            408,
        ),
        with_body(
            M::POST,
            "/api/mailcatch/v1/mailboxes",
            "/api/mailcatch/v1/mailboxes".into(),
            json!({"Name": "docs", "TTL": 3600}),
            201,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/mailboxes",
            "/api/mailcatch/v1/mailboxes".into(),
            200,
        ),
        // Every path is served under a mailbox's prefix too.
        call(
            M::GET,
            "/api/v1/messages",
            "/mailbox/docs/api/v1/messages".into(),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/deliveries",
            "/api/mailcatch/v1/deliveries".into(),
            200,
        ),
        call(
            M::GET,
            "/api/mailcatch/v1/deliveries/{id}",
            delivery.clone(),
            200,
        ),
        call(
            M::POST,
            "/api/mailcatch/v1/deliveries/{id}/retry",
            format!("{delivery}/retry"),
            200,
        ),
        call(M::GET, "/metrics", "/metrics".into(), 200),
        // MailHog
        call(M::GET, "/api/v2/messages", "/api/v2/messages".into(), 200),
        call(
            M::GET,
            "/api/v2/search",
            "/api/v2/search?kind=containing&query=plain".into(),
            200,
        ),
        call(
            M::GET,
            "/api/v1/messages/{ID}",
            format!("/api/v1/messages/{id}"),
            200,
        ),
        call(
            M::GET,
            "/api/v1/messages/{ID}/download",
            format!("/api/v1/messages/{id}/download"),
            200,
        ),
        call(
            M::GET,
            "/api/v1/messages/{ID}/mime/part/{index}/download",
            format!("/api/v1/messages/{id}/mime/part/1/download"),
            200,
        ),
        with_body(
            M::POST,
            "/api/v1/messages/{ID}/release",
            format!("/api/v1/messages/{id}/release"),
            hog_release("127.0.0.1"),
            200,
        ),
        with_body(
            M::POST,
            "/api/v1/messages/{ID}/release",
            format!("/api/v1/messages/{id}/release"),
            hog_release(""),
            400,
        ),
        with_body(
            M::POST,
            "/api/v2/jim",
            "/api/v2/jim".into(),
            json!({"RejectSenderChance": 0.1}),
            201,
        ),
        with_body(
            M::PUT,
            "/api/v2/jim",
            "/api/v2/jim".into(),
            json!({"RejectSenderChance": 0.2}),
            200,
        ),
        call(M::GET, "/api/v2/jim", "/api/v2/jim".into(), 200),
        call(M::DELETE, "/api/v2/jim", "/api/v2/jim".into(), 200),
        call(
            M::GET,
            "/api/v2/outgoing-smtp",
            "/api/v2/outgoing-smtp".into(),
            200,
        ),
        call(M::GET, "/api/v1/events", "/api/v1/events".into(), 200),
        call(M::GET, "/api/v2/websocket", "/api/v2/websocket".into(), 101),
        // Deletions last.
        call(
            M::DELETE,
            "/api/mailcatch/v1/deliveries/{id}",
            delivery.clone(),
            200,
        ),
        call(
            M::DELETE,
            "/api/mailcatch/v1/mailboxes/{name}",
            "/api/mailcatch/v1/mailboxes/docs".into(),
            200,
        ),
        call(
            M::DELETE,
            "/api/v1/messages/{ID}",
            format!("/api/v1/messages/{}", f.other),
            200,
        ),
        call(
            M::DELETE,
            "/api/v1/search",
            "/api/v1/search?query=subject%3Anone".into(),
            200,
        ),
        with_body(
            M::DELETE,
            "/api/v1/messages",
            "/api/v1/messages".into(),
            json!({"IDs": ["nonexistent"]}),
            200,
        ),
    ]
}
