//! Mailboxes end to end, with real clients: lettre delivers with each
//! mailbox's SMTP credentials, reqwest asserts through each mailbox's own
//! root, tokio-tungstenite listens to a mailbox's feed.

use crate::api_support;

use std::time::Duration;

use api_support::common::eventually;
use api_support::{Api, start, start_with};
use futures_util::StreamExt;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reqwest::Method;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Mailer = AsyncSmtpTransport<Tokio1Executor>;

fn mailer(api: &Api, login: Option<(&str, &str)>) -> Mailer {
    let builder = Mailer::builder_dangerous("127.0.0.1").port(api.running.smtp_addr.port());
    match login {
        Some((user, password)) => builder
            .credentials(Credentials::new(user.into(), password.into()))
            .build(),
        None => builder.build(),
    }
}

fn message(subject: &str, mailbox_header: Option<&str>) -> Message {
    let mut builder = Message::builder()
        .from("app@example.com".parse().unwrap())
        .to("user@example.com".parse().unwrap())
        .subject(subject);
    if let Some(name) = mailbox_header {
        builder = builder.raw_header(lettre::message::header::HeaderValue::new(
            lettre::message::header::HeaderName::new_from_ascii_str("X-Mailbox"),
            name.into(),
        ));
    }
    builder.body(String::from("hello")).unwrap()
}

/// Creates a mailbox through the API; the 201 body.
async fn create(api: &Api, body: &str) -> Value {
    let (status, text) = api
        .send_json(Method::POST, "/api/mailcatch/v1/mailboxes", body)
        .await;
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn subjects(list: &Value) -> Vec<String> {
    let mut all: Vec<String> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Subject"].as_str().unwrap().to_string())
        .collect();
    all.sort();
    all
}

async fn get_with(api: &Api, path: &str, auth: Option<&str>) -> (u16, String) {
    let mut request = api.client.get(api.url(path));
    if let Some(value) = auth {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn routes_by_login_then_header_then_default() {
    let api = start().await;
    let ci = create(&api, r#"{"Name": "CI-7"}"#).await;
    assert_eq!(ci["Name"], "ci-7");
    assert_eq!(ci["URL"], "/mailbox/ci-7/");
    let login = (
        ci["SMTPUsername"].as_str().unwrap(),
        ci["SMTPPassword"].as_str().unwrap(),
    );
    let with_login = mailer(&api, Some(login));
    with_login
        .send(message("by login", Some("elsewhere")))
        .await
        .unwrap();
    let plain = mailer(&api, None);
    plain
        .send(message("by header", Some("Team.A")))
        .await
        .unwrap();
    plain
        .send(message("bad header", Some("no way!")))
        .await
        .unwrap();
    plain.send(message("no header", None)).await.unwrap();
    let wrong = mailer(&api, Some(("ci-7", "not-its-password")));
    assert!(wrong.send(message("refused", None)).await.is_err());

    let inbox = |name: &str| format!("/mailbox/{name}/api/v1/messages");
    assert_eq!(subjects(&api.get_json(&inbox("ci-7")).await), ["by login"]);
    assert_eq!(
        subjects(&api.get_json(&inbox("team.a")).await),
        ["by header"]
    );
    let default = api.get_json(&inbox("default")).await;
    assert_eq!(subjects(&default), ["bad header", "no header"]);
    let root = api.get_json("/api/v1/messages").await;
    assert_eq!(root["total"], 4, "the root shows every public mailbox");
    let bad = root["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Subject"] == "bad header")
        .unwrap();
    assert_eq!(bad["Mailbox"], "default");
    let id = bad["ID"].as_str().unwrap();
    let envelope = api
        .get_json(&format!("/api/mailcatch/v1/message/{id}/envelope"))
        .await;
    let warnings = envelope["ContentWarnings"].to_string();
    assert!(warnings.contains("invalid mailbox name"), "{warnings}");

    let listed = api.get_json("/api/mailcatch/v1/mailboxes").await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci-7", "default", "team.a"]);
    let ci7 = &listed[0];
    assert_eq!(
        (ci7["Total"].as_u64(), ci7["Unread"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(ci7["Size"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn eight_parallel_tests_never_see_each_others_mail() {
    let api = std::sync::Arc::new(start().await);
    let mut jobs = Vec::new();
    for job in 0..8 {
        let api = api.clone();
        jobs.push(tokio::spawn(async move {
            let mailbox = create(&api, "{}").await;
            let name = mailbox["Name"].as_str().unwrap().to_string();
            let login = (
                mailbox["SMTPUsername"].as_str().unwrap(),
                mailbox["SMTPPassword"].as_str().unwrap(),
            );
            let smtp = mailer(&api, Some(login));
            for n in 0..3 {
                smtp.send(message(&format!("job {job} mail {n}"), None))
                    .await
                    .unwrap();
            }
            let root = format!("/mailbox/{name}/api/v1");
            let list = api.get_json(&format!("{root}/messages")).await;
            assert_eq!(list["total"], 3, "job {job}");
            let found = api.get_json(&format!("{root}/search?query=mail")).await;
            assert_eq!(found["messages_count"], 3, "search stays inside");
            let latest = api.get_json(&format!("{root}/message/latest")).await;
            assert_eq!(latest["Subject"], format!("job {job} mail 2"));
            // "Delete all" in one job's mailbox...
            let (status, _) = api.call(Method::DELETE, &format!("{root}/messages")).await;
            assert_eq!(status, 200);
            assert_eq!(api.get_json(&format!("{root}/messages")).await["total"], 0);
            name
        }));
    }
    let mut names = Vec::new();
    for job in jobs {
        names.push(job.await.unwrap());
    }
    // ...took only its own mail, and nothing is left in any.
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 0);
    for name in names {
        let path = format!("/api/mailcatch/v1/mailboxes/{name}");
        assert_eq!(api.call(Method::DELETE, &path).await.0, 200);
        assert_eq!(api.call(Method::DELETE, &path).await.0, 404);
        let gone = api.get(&format!("/mailbox/{name}/api/v1/messages")).await;
        assert_eq!(gone.status(), 404);
    }
}

#[tokio::test]
async fn private_mailboxes_need_their_token() {
    let api = start().await;
    let secret = create(&api, r#"{"Name": "vault", "Private": true}"#).await;
    let token = secret["Token"].as_str().unwrap();
    let login = ("vault", secret["SMTPPassword"].as_str().unwrap());
    mailer(&api, Some(login))
        .send(message("for the vault", None))
        .await
        .unwrap();
    // The header alone cannot put mail into a private mailbox.
    mailer(&api, None)
        .send(message("sneaking in", Some("vault")))
        .await
        .unwrap();

    let list = "/mailbox/vault/api/v1/messages";
    let (status, _) = get_with(&api, list, None).await;
    assert_eq!(status, 401);
    let (status, _) = get_with(&api, list, Some("Bearer wrong")).await;
    assert_eq!(status, 401);
    let (status, body) = get_with(&api, list, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(subjects(&body), ["for the vault"]);
    let basic = api
        .client
        .get(api.url(list))
        .basic_auth("vault", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let (status, html) = get_with(&api, "/mailbox/vault/", Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("/mailbox/vault/ui/"),
        "assets under the mailbox"
    );

    // The root never shows it; its mailbox listing leaves it out.
    let root = api.get_json("/api/v1/messages").await;
    assert_eq!(subjects(&root), ["sneaking in"]);
    let id = body["messages"][0]["ID"].as_str().unwrap();
    let (status, _) = get_with(&api, &format!("/api/v1/message/{id}"), None).await;
    assert_eq!(status, 404, "not by ID at the root either");
    let listed = api.get_json("/api/mailcatch/v1/mailboxes").await;
    assert!(!listed.to_string().contains("vault"));

    // The feed: refused without the token, only its own mail with it.
    let ws_url = format!("ws://{}/mailbox/vault/api/events", api.running.http_addr);
    match tokio_tungstenite::connect_async(ws_url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let mut request = ws_url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    mailer(&api, None)
        .send(message("not for the vault", None))
        .await
        .unwrap();
    mailer(&api, Some(login))
        .send(message("second for the vault", None))
        .await
        .unwrap();
    let first_new = next_new(&mut socket).await;
    assert_eq!(first_new["Subject"], "second for the vault");
    assert_eq!(first_new["Mailbox"], "vault");

    // Deleting it needs the token too.
    let path = "/api/mailcatch/v1/mailboxes/vault";
    assert_eq!(api.call(Method::DELETE, path).await.0, 401);
    let deleted = api
        .client
        .delete(api.url(&format!("/mailbox/vault{path}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
}

/// The next `new` frame's data, within five seconds.
async fn next_new<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("valid");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["Type"] == "new" {
                return frame["Data"].clone();
            }
        }
    }
}

#[tokio::test]
async fn a_mailbox_past_its_ttl_is_deleted_with_its_mail() {
    let api = start().await;
    let short = create(&api, r#"{"Name": "brief", "TTL": 1}"#).await;
    assert!(short["Expires"].is_string());
    let (status, _) = api
        .send_json(
            Method::POST,
            "/mailbox/brief/api/v1/send",
            r#"{"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": "brief"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 1);
    let expired =
        eventually(async || api.get("/mailbox/brief/api/v1/messages").await.status() == 404);
    assert!(expired.await, "gone within five seconds");
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 0);
    for bad in [
        r#"{"TTL": 0}"#,
        r#"{"TTL": -5}"#,
        r#"{"TTL": 99999999999}"#,
        r#"{"TTL": "soon"}"#,
    ] {
        let (status, _) = api
            .send_json(Method::POST, "/api/mailcatch/v1/mailboxes", bad)
            .await;
        assert_eq!(status, 400, "{bad}");
    }
    for bad in [r#"{"Name": "-x"}"#, r#"{"Name": "a b"}"#] {
        let (status, _) = api
            .send_json(Method::POST, "/api/mailcatch/v1/mailboxes", bad)
            .await;
        assert_eq!(status, 400, "{bad}");
    }
    create(&api, r#"{"Name": "taken"}"#).await;
    let (status, _) = api
        .send_json(
            Method::POST,
            "/api/mailcatch/v1/mailboxes",
            r#"{"Name": "TAKEN"}"#,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(api.get("/mailbox/Bad!/api/v1/messages").await.status(), 400);
    let redirect = api.get("/mailbox/taken").await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/mailbox/taken/");
}

#[tokio::test]
async fn sending_through_a_mailbox_root_creates_it() {
    let api = start().await;
    let (status, body) = api
        .send_json(
            Method::POST,
            "/mailbox/fresh/api/v1/send",
            r#"{"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": "hi"}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let list = api.get_json("/mailbox/fresh/api/v1/messages").await;
    assert_eq!(subjects(&list), ["hi"]);
    let tags = api.get_json("/mailbox/fresh/api/v1/tags").await;
    assert_eq!(tags, serde_json::json!([]));
}

#[tokio::test]
async fn ui_accounts_see_only_their_mailboxes() {
    let dir = std::env::temp_dir().join(format!("mailcatch-mbx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ui_file = dir.join("ui-auth");
    std::fs::write(&ui_file, "admin:adminpw\nalice:alicepw:team-a,shared\n").unwrap();
    let smtp_file = dir.join("smtp-auth");
    std::fs::write(&smtp_file, "app-a:apppw:team-a\napp-b:apppw\n").unwrap();
    let api = start_with(|c| {
        c.http.ui_auth_file = Some(ui_file.clone());
        c.smtp.smtp_auth_file = Some(smtp_file.clone());
        c.smtp.smtp_auth_allow_insecure = true;
    })
    .await;
    mailer(&api, Some(("app-a", "apppw")))
        .send(message("for team a", None))
        .await
        .unwrap();
    mailer(&api, Some(("app-b", "apppw")))
        .send(message("for app b", None))
        .await
        .unwrap();
    let as_user = |user: &'static str, password: &'static str, path: &str| {
        api.client
            .get(api.url(path))
            .basic_auth(user, Some(password))
            .send()
    };
    let admin: Value = as_user("admin", "adminpw", "/api/v1/messages")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subjects(&admin), ["for app b", "for team a"]);
    let alice: Value = as_user("alice", "alicepw", "/api/v1/messages")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subjects(&alice), ["for team a"]);
    let listed: Value = as_user("alice", "alicepw", "/api/mailcatch/v1/mailboxes")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let other = as_user("alice", "alicepw", "/mailbox/app-b/api/v1/messages")
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    let own = as_user("alice", "alicepw", "/mailbox/team-a/api/v1/messages")
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(api.get("/api/v1/messages").await.status(), 401);
    let (status, _) = api
        .send_json(Method::POST, "/api/mailcatch/v1/mailboxes", "{}")
        .await;
    assert_eq!(status, 401);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn many_mailboxes_list_with_their_counts() {
    let api = std::sync::Arc::new(start().await);
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..1250 {
                let body = format!(r#"{{"Name": "box-{worker}-{n}"}}"#);
                let (status, text) = api
                    .send_json(Method::POST, "/api/mailcatch/v1/mailboxes", &body)
                    .await;
                assert_eq!(status, 201, "{text}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    mailer(&api, None)
        .send(message("one", Some("box-3-7")))
        .await
        .unwrap();
    let listed = api.get_json("/api/mailcatch/v1/mailboxes").await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 10_001, "ten thousand and default");
    let with_mail = listed.iter().find(|m| m["Name"] == "box-3-7").unwrap();
    assert_eq!(with_mail["Total"], 1);
}
