//! With `--database`, a 250 means committed: the real binary is killed with
//! SIGKILL in the middle of a load and restarted on the same file; a full
//! disk refuses mail cleanly and recovers; and everything a user changed
//! (read state, tags, deletions, order) survives a restart, with the
//! WebSocket and the UI working afterwards. On PostgreSQL, two nodes on
//! one database are one catcher, and a killed node loses nothing it
//! acknowledged.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::free_port;
use common::smtp::RawClient;
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_mailcatch");

/// The binary on a database file, with its SMTP and HTTP ports.
struct Server {
    child: Child,
    smtp: std::net::SocketAddr,
    http: String,
}

impl Server {
    async fn start(database: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_on(database.to_str().unwrap(), env).await
    }

    /// The binary on `database`: a file path or a `postgres://` URL.
    async fn start_on(database: &str, env: &[(&str, &str)]) -> Server {
        Server::start_capped(database, env, 0).await
    }

    /// The binary on `database`, keeping at most `max` messages (0: all).
    async fn start_capped(database: &str, env: &[(&str, &str)], max: usize) -> Server {
        let (smtp_port, http_port) = (free_port(), free_port());
        let mut command = Command::new(BIN);
        command
            .args(["--database", database])
            .args(["--smtp", &format!("127.0.0.1:{smtp_port}")])
            .args(["--listen", &format!("127.0.0.1:{http_port}")])
            .args([
                "--max",
                &max.to_string(),
                "--max-message-size",
                "1",
                "--quiet",
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let child = command.spawn().unwrap();
        let server = Server {
            child,
            smtp: format!("127.0.0.1:{smtp_port}").parse().unwrap(),
            http: format!("http://127.0.0.1:{http_port}"),
        };
        for _ in 0..400 {
            if reqwest::get(format!("{}/readyz", server.http))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mailcatch did not start on its database");
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.http)).await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    async fn kill(mut self) {
        self.child.start_kill().unwrap(); // SIGKILL: no shutdown, no flush
        self.child.wait().await.unwrap();
    }
}

fn message(connection: usize, n: usize) -> String {
    format!(
        "From: load@example.com\r\nTo: sink@example.com\r\nSubject: load {connection}-{n}\r\n\
Message-ID: <{connection}.{n}@durability>\r\n\r\n{}\r\n",
        format!("line {n} of connection {connection}\r\n").repeat(40)
    )
}

/// Sends messages on one connection until the server goes away, recording
/// each acknowledged ID with the bytes it acknowledged.
async fn load(
    addr: std::net::SocketAddr,
    connection: usize,
    acked: Arc<Mutex<HashMap<String, String>>>,
) {
    let Ok(mut client) =
        tokio::time::timeout(Duration::from_secs(5), RawClient::connect(addr)).await
    else {
        return;
    };
    client.send("EHLO load\r\n").await;
    if client.read_reply().await.is_none() {
        return;
    }
    for n in 0..5_000 {
        let body = message(connection, n);
        let transaction = format!(
            "MAIL FROM:<load@example.com>\r\nRCPT TO:<sink@example.com>\r\nDATA\r\n{body}.\r\n"
        );
        if client.stream_write(transaction.as_bytes()).await.is_err() {
            return;
        }
        let mut last = None;
        for _ in 0..4 {
            match client.read_reply().await {
                Some(reply) => last = Some(reply),
                None => return,
            }
        }
        let reply = last.unwrap();
        assert_eq!(reply.code, 250, "{:?}", reply.lines);
        let id = reply.lines[0].rsplit(' ').next().unwrap().to_string();
        acked.lock().insert(id, body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_load_loses_no_acknowledged_message() {
    let database = common::fresh_database();
    let server = Server::start(&database, &[]).await;

    // A refused message (over the 1 MB limit) must never appear.
    let mut client = RawClient::connect(server.smtp).await;
    assert_eq!(client.command("EHLO refused").await, 250);
    client
        .send(format!(
            "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: refused-big\r\n\r\n{}\r\n.\r\n",
            "x".repeat(2 * 1024 * 1024)
        ))
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 552]);

    let acked = Arc::new(Mutex::new(HashMap::new()));
    let loads: Vec<_> = (0..6)
        .map(|c| tokio::spawn(load(server.smtp, c, acked.clone())))
        .collect();
    // Kill once a fair number are acknowledged, mid-stream.
    for _ in 0..600 {
        if acked.lock().len() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().await;
    for load in loads {
        load.await.unwrap();
    }
    let acked = acked.lock().clone();
    assert!(acked.len() >= 300, "only {} acknowledged", acked.len());

    let server = Server::start(&database, &[]).await;
    let list = server.json("/api/v1/messages?limit=0").await;
    let total = list["total"].as_u64().unwrap() as usize;
    assert!(
        total >= acked.len(),
        "{total} stored, {} acknowledged",
        acked.len()
    );
    for (id, body) in &acked {
        let raw = server.get(&format!("/api/v1/message/{id}/raw")).await;
        assert_eq!(raw.status(), 200, "acknowledged {id} is missing");
        assert_eq!(&raw.text().await.unwrap(), body, "{id} is not byte-exact");
    }
    // Whatever else is there is whole: it parses, and is one that was sent.
    for summary in list["messages"].as_array().unwrap() {
        let subject = summary["Subject"].as_str().unwrap();
        assert!(subject.starts_with("load "), "unexpected {subject:?}");
    }
    let search = server.json("/api/v1/search?query=refused-big").await;
    assert_eq!(search["messages_count"], 0, "a refused message was stored");
    server.kill().await;
}

#[tokio::test]
async fn a_full_disk_refuses_cleanly_and_recovers() {
    let database = common::fresh_database();
    // Small enough to fill with a few dozen messages.
    let server = Server::start(&database, &[("MAILCATCH_SQLITE_MAX_PAGES", "120")]).await;
    let mut client = RawClient::connect(server.smtp).await;
    assert_eq!(client.command("EHLO full").await, 250);
    let mut refused = None;
    for n in 0..500 {
        client
            .send(format!(
                "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: fill {n}\r\n\r\n{}\r\n.\r\n",
                format!("{n} incompressible? no, but big enough\r\n").repeat(100)
            ))
            .await;
        let codes = client.codes(4).await;
        if codes[3] != 250 {
            refused = Some((n, codes[3]));
            break;
        }
    }
    let (n, code) = refused.expect("the disk never filled");
    assert_eq!(code, 452, "a full disk is a temporary failure");
    assert!(n > 0);
    let before = server.json("/api/v1/messages?limit=0").await["total"].clone();
    assert_eq!(before, n as u64, "the refused message was not half-stored");

    // The send API says 507.
    let http = reqwest::Client::new();
    let send = http
        .post(format!("{}/api/v1/send", server.http))
        .json(&serde_json::json!({
            "From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}],
            "Subject": "via api", "Text": "x".repeat(20_000)
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(send.status(), 507);

    // Space comes back when mail is deleted; mail flows again.
    let deleted = http
        .delete(format!("{}/api/v1/messages", server.http))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    client
        .send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: again\r\n\r\nback\r\n.\r\n")
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    server.kill().await;
}

#[tokio::test]
async fn read_state_tags_deletions_and_order_survive_a_restart() {
    let database = common::fresh_database();
    let start = || {
        let path = database.display().to_string();
        common::start_with(move |c| c.store.database = Some(path))
    };
    let running = start().await;
    let base = common::base_url(&running);
    let http = reqwest::Client::new();
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO restart").await, 250);
    for subject in ["first", "second", "third", "fourth"] {
        client
            .send(format!(
                "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n.\r\n"
            ))
            .await;
        assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    }
    let list: Value = http
        .get(format!("{base}/api/v1/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ID"].as_str().unwrap().to_string())
        .collect();
    // ids: fourth, third, second, first
    let put = |path: &str, body: Value| http.put(format!("{base}{path}")).json(&body).send();
    assert_eq!(
        put(
            "/api/v1/messages",
            serde_json::json!({"IDs": [ids[1]], "Read": true})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        put(
            "/api/v1/tags",
            serde_json::json!({"IDs": [ids[2]], "Tags": ["Keep", "ci"]})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let deleted = http
        .delete(format!("{base}/api/v1/messages"))
        .json(&serde_json::json!({"IDs": [ids[0]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    running.shutdown().await;

    let running = start().await;
    let base = common::base_url(&running);
    let list: Value = http
        .get(format!("{base}/api/v1/messages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let subjects: Vec<&str> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["third", "second", "first"]);
    assert_eq!(list["total"], 3);
    assert_eq!(list["unread"], 2);
    assert_eq!(list["messages"][0]["Read"], true);
    assert_eq!(
        list["messages"][1]["Tags"],
        serde_json::json!(["ci", "Keep"])
    );
    assert_eq!(list["tags"], serde_json::json!(["ci", "Keep"]));
    let tagged: Value = http
        .get(format!("{base}/api/v1/search?query=tag:keep"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tagged["messages_count"], 1);

    // The UI is served and the WebSocket announces new mail after the restart.
    let ui = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("<html"));
    let ws_url = format!("ws://{}/api/events", running.http_addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO again").await, 250);
    client
        .send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: fifth\r\n\r\nafter restart\r\n.\r\n")
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    let new_frame = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(frame)) = socket.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["Type"] == "new" {
                    return frame;
                }
            }
        }
        panic!("the WebSocket closed");
    })
    .await
    .expect("a new frame");
    assert_eq!(new_frame["Data"]["Subject"], "fifth");
    running.shutdown().await;
}

/// Waits up to `within` for a frame of type `kind` on `socket`.
async fn frame_within(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    kind: &str,
    within: Duration,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message = tokio::time::timeout(left, socket.next())
            .await
            .ok()??
            .ok()?;
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["Type"] == kind {
                return Some(frame);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_nodes_are_one_catcher() {
    let Some(server) = common::postgres_or_skip("two_postgres_nodes_are_one_catcher") else {
        return;
    };
    let database = common::fresh_postgres(&server).await;
    let a = Server::start_on(&database, &[]).await;
    let b = Server::start_on(&database, &[]).await;
    let (mut b_socket, _) =
        tokio_tungstenite::connect_async(format!("{}/api/events", b.http.replace("http", "ws")))
            .await
            .unwrap();
    let (mut a_socket, _) =
        tokio_tungstenite::connect_async(format!("{}/api/events", a.http.replace("http", "ws")))
            .await
            .unwrap();

    // Accepted by A: announced on B's WebSocket within a second, listed by B.
    let mut client = RawClient::connect(a.smtp).await;
    assert_eq!(client.command("EHLO node").await, 250);
    client
        .send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: via-a\r\n\r\nhello\r\n.\r\n")
        .await;
    let sent = std::time::Instant::now();
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    let frame = frame_within(&mut b_socket, "new", Duration::from_secs(1))
        .await
        .expect("a `new` frame on node B within 1 s");
    assert!(sent.elapsed() < Duration::from_millis(1500));
    assert_eq!(frame["Data"]["Subject"], "via-a");
    let id = frame["Data"]["ID"].as_str().unwrap().to_string();
    let listed = b.json("/api/v1/messages").await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["messages"][0]["ID"], id.as_str());

    // IDs are unique across nodes, and both list in the same order.
    let mut client = RawClient::connect(b.smtp).await;
    assert_eq!(client.command("EHLO node").await, 250);
    client
        .send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: via-b\r\n\r\nhello\r\n.\r\n")
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    let subjects = |list: &Value| -> Vec<String> {
        list["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Subject"].as_str().unwrap().to_string())
            .collect()
    };
    let on_a = a.json("/api/v1/messages").await;
    let on_b = b.json("/api/v1/messages").await;
    assert_eq!(subjects(&on_a), ["via-b", "via-a"]);
    assert_eq!(subjects(&on_a), subjects(&on_b));
    assert_eq!(on_a["unread"], 2);
    assert_eq!(
        b.json("/api/v1/search?query=subject:via-a").await["messages_count"],
        1
    );

    // Deleted through B: gone on A, with a `delete` frame on A's socket.
    let deleted = reqwest::Client::new()
        .delete(format!("{}/api/v1/messages", b.http))
        .json(&serde_json::json!({ "IDs": [id] }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert!(
        frame_within(&mut a_socket, "delete", Duration::from_secs(1))
            .await
            .is_some(),
        "a `delete` frame on node A"
    );
    assert_eq!(a.get(&format!("/api/v1/message/{id}")).await.status(), 404);
    assert_eq!(a.json("/api/v1/messages").await["total"], 1);

    // A mailbox created on A is known to B within a second.
    let created = reqwest::Client::new()
        .post(format!("{}/api/mailcatch/v1/mailboxes", a.http))
        .body(r#"{"Name": "shared-box"}"#)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut known = false;
    for _ in 0..100 {
        let boxes = b.json("/api/mailcatch/v1/mailboxes").await;
        if boxes.to_string().contains("shared-box") {
            known = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(known, "node B does not know the mailbox node A created");
    a.kill().await;
    b.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_postgres_node_loses_nothing_acknowledged() {
    let Some(server) =
        common::postgres_or_skip("kill_9_of_a_postgres_node_loses_nothing_acknowledged")
    else {
        return;
    };
    let database = common::fresh_postgres(&server).await;
    let a = Server::start_on(&database, &[]).await;
    let b = Server::start_on(&database, &[]).await;
    let acked = Arc::new(Mutex::new(HashMap::new()));
    let loads: Vec<_> = (0..4)
        .map(|c| tokio::spawn(load(a.smtp, c, acked.clone())))
        .collect();
    for _ in 0..1000 {
        if acked.lock().len() >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.kill().await;
    for load in loads {
        load.await.unwrap();
    }
    let acked = acked.lock().clone();
    assert!(acked.len() >= 200, "only {} acknowledged", acked.len());
    let list = b.json("/api/v1/messages?limit=1").await;
    assert!(list["total"].as_u64().unwrap() as usize >= acked.len());
    for (id, body) in &acked {
        let raw = b.get(&format!("/api/v1/message/{id}/raw")).await;
        assert_eq!(raw.status(), 200, "acknowledged {id} is missing on node B");
        assert_eq!(&raw.text().await.unwrap(), body, "{id} is not byte-exact");
    }
    b.kill().await;
}

#[tokio::test]
async fn a_postgres_password_never_shows_in_errors() {
    let Some(server) = common::postgres_or_skip("a_postgres_password_never_shows_in_errors") else {
        return;
    };
    let (userinfo, rest) = server.split_once("://").unwrap().1.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    let wrong = format!("postgres://{user}:Wrong-Secret-42@{rest}");
    let mut config = mailcatch::Config::ephemeral();
    config.store.database = Some(wrong);
    let error = match mailcatch::start(config).await {
        Ok(_) => panic!("started with a wrong password"),
        Err(e) => e.to_string(),
    };
    assert!(!error.contains("Wrong-Secret-42"), "{error}");
    assert!(error.contains("postgres://"), "names the database: {error}");
    // The real password of a working URL is not shown either.
    let real = userinfo.split_once(':').unwrap().1;
    let mut config = mailcatch::Config::ephemeral();
    let fresh = common::fresh_postgres(&server).await;
    let base = fresh.split('?').next().unwrap();
    config.store.database = Some(format!("{base}?sslmode=require"));
    let error = match mailcatch::start(config).await {
        Ok(_) => panic!("sslmode=require accepted without TLS"),
        Err(e) => e.to_string(),
    };
    assert!(!error.contains(real), "{error}");
}

/// A PostgreSQL cluster of the test's own (scripts/postgres.sh), which it
/// may stop and start; removed on drop.
struct OwnCluster {
    dir: std::path::PathBuf,
    url: String,
}

impl OwnCluster {
    fn script(action: &str, dir: &Path) -> std::process::Output {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres.sh");
        std::process::Command::new("bash")
            .args([script, action, dir.to_str().unwrap()])
            .output()
            .unwrap()
    }

    fn start() -> OwnCluster {
        let dir = common::fresh_database().with_extension("pg");
        let output = OwnCluster::script("start", &dir);
        assert!(output.status.success(), "{output:?}");
        let url = String::from_utf8(output.stdout).unwrap().trim().to_string();
        OwnCluster { dir, url }
    }

    fn pause(&self) {
        assert!(OwnCluster::script("pause", &self.dir).status.success());
    }

    fn resume(&self) {
        assert!(OwnCluster::script("resume", &self.dir).status.success());
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        OwnCluster::script("stop", &self.dir);
    }
}

/// One SMTP transaction; the code of the reply to its data.
async fn transaction(addr: std::net::SocketAddr, subject: String) -> u16 {
    let mut client = RawClient::connect(addr).await;
    assert_eq!(client.command("EHLO outage").await, 250);
    client
        .send(format!(
            "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: {subject}\r\n\r\nhello\r\n.\r\n"
        ))
        .await;
    client.codes(4).await[3]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_refuses_for_now_and_recovers_without_restart() {
    // Its own cluster, as it stops the server: needs the binaries CI installs.
    if common::postgres_or_skip("a_postgres_outage_refuses_for_now_and_recovers_without_restart")
        .is_none()
    {
        return;
    }
    let cluster = OwnCluster::start();
    let node = Server::start_on(&cluster.url, &[]).await;
    assert_eq!(transaction(node.smtp, "before".into()).await, 250);

    cluster.pause();
    // A temporary failure: the sender's queue retries later.
    assert_eq!(transaction(node.smtp, "during".into()).await, 451);
    let listing = node.get("/api/v1/messages").await;
    assert_eq!(listing.status(), 503);
    assert!(listing.text().await.unwrap().contains("unavailable"));
    assert_eq!(node.get("/livez").await.status(), 200);
    let ready = node.get("/readyz").await;
    assert_eq!(ready.status(), 503, "not ready while the database is down");
    assert!(
        !ready.text().await.unwrap().contains("mc-test-"),
        "no password"
    );

    cluster.resume();
    let mut delivered = false;
    for _ in 0..100 {
        if transaction(node.smtp, "after".into()).await == 250 {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "mail flows again once the database is back");
    assert_eq!(node.get("/readyz").await.status(), 200);
    let list = node.json("/api/v1/messages").await;
    let subjects: Vec<&str> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.first(), Some(&"after"));
    assert_eq!(subjects.last(), Some(&"before"));
    assert!(
        !subjects.contains(&"during"),
        "a refused message was stored"
    );
    node.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_cap_holds_for_the_whole_cluster() {
    let Some(server) = common::postgres_or_skip("the_message_cap_holds_for_the_whole_cluster")
    else {
        return;
    };
    let database = common::fresh_postgres(&server).await;
    let a = Server::start_capped(&database, &[], 5).await;
    let b = Server::start_capped(&database, &[], 5).await;
    // Both nodes at once, so their evictions race.
    let sends = (0..6).flat_map(|n| {
        [
            tokio::spawn(transaction(a.smtp, format!("a{n}"))),
            tokio::spawn(transaction(b.smtp, format!("b{n}"))),
        ]
    });
    for send in sends.collect::<Vec<_>>() {
        assert_eq!(send.await.unwrap(), 250);
    }
    for node in [&a, &b] {
        let list = node.json("/api/v1/messages").await;
        assert_eq!(list["total"], 5, "{list}");
        assert_eq!(list["messages"].as_array().unwrap().len(), 5);
    }
    a.kill().await;
    b.kill().await;
}
