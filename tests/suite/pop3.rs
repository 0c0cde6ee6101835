//! POP3: Python's poplib against a real mailcatch, and raw-socket checks of
//! the things a well-behaved client never does.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use mailcatch::Running;
use mailcatch::store::{Envelope, Incoming};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The messages delivered, oldest first. The second has lines starting
/// with dots (dot-stuffed on the wire) and no trailing spaces trimmed.
pub(crate) const MESSAGES: [&str; 3] = [
    "From: a@example.com\r\nTo: x@example.com\r\nSubject: first\r\n\r\nOne.\r\n",
    "From: b@example.com\r\nTo: x@example.com\r\nSubject: second\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nline  with  spaces  \r\nlast\r\n",
    "From: c@example.com\r\nTo: x@example.com\r\nSubject: third\r\n\r\nThree.\r\n",
];

/// An auth file in cargo's scratch directory, removed when dropped.
pub(crate) struct AuthFile(pub(crate) PathBuf);

impl AuthFile {
    pub(crate) fn new(text: &str) -> AuthFile {
        let path = common::fresh_database().with_extension("users");
        std::fs::write(&path, text).unwrap();
        AuthFile(path)
    }
}

impl Drop for AuthFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A mailcatch with POP3 on a free port, alice:secret allowed, and
/// [`MESSAGES`] delivered; returns it with the messages' IDs, oldest first.
async fn start(auth: &AuthFile) -> (Running, Vec<String>) {
    start_with(auth, |_| {}).await
}

pub(crate) async fn start_with(
    auth: &AuthFile,
    adjust: impl FnOnce(&mut mailcatch::Config),
) -> (Running, Vec<String>) {
    let path = auth.0.clone();
    let running = common::start_with(|c| {
        c.pop3.bind = Some("127.0.0.1:0".parse().unwrap());
        c.pop3.auth_file = Some(path);
        adjust(c);
    })
    .await;
    let mut ids = Vec::new();
    for raw in MESSAGES {
        let message = running
            .app
            .ingest(Incoming {
                raw: raw.to_string().into(),
                envelope: Envelope {
                    mail_from: "sender@example.com".into(),
                    rcpt_to: vec!["x@example.com".into()],
                    ..Envelope::default()
                },
                ..Default::default()
            })
            .await
            .expect("stored");
        ids.push(message.id().to_string());
    }
    (running, ids)
}

const POPLIB_SCRIPT: &str = r#"
import json, poplib, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
p = poplib.POP3("127.0.0.1", port, timeout=10)
seen = {"capa": sorted(p.capa().keys())}
p.user(user)
p.pass_(password)
seen["stat"] = list(p.stat())
seen["list"] = [line.decode() for line in p.list()[1]]
seen["uidl"] = [line.decode() for line in p.uidl()[1]]
seen["retr"] = (b"\r\n".join(p.retr(2)[1]) + b"\r\n").hex()
seen["top"] = [line.decode() for line in p.top(2, 1)[1]]
p.dele(2)
seen["stat_after_dele"] = list(p.stat())
seen["quit"] = p.quit().decode()
print(json.dumps(seen))
"#;

#[tokio::test]
async fn python_poplib_lists_retrieves_and_deletes() {
    let auth = AuthFile::new("# POP3 users\nalice:secret\n");
    let (running, ids) = start(&auth).await;
    let port = running.pop3_addr.expect("POP3 is bound").port().to_string();
    let Some(seen) = common::python_json(POPLIB_SCRIPT, &[&port, "alice", "secret"]).await else {
        return;
    };

    assert_eq!(
        seen["capa"],
        serde_json::json!(["IMPLEMENTATION", "TOP", "UIDL", "USER"])
    );
    let sizes: Vec<usize> = MESSAGES.iter().map(|m| m.len()).collect();
    let total: usize = sizes.iter().sum();
    assert_eq!(seen["stat"], serde_json::json!([3, total]));
    let list: Vec<String> = (0..3).map(|i| format!("{} {}", i + 1, sizes[i])).collect();
    assert_eq!(seen["list"], serde_json::json!(list));
    let uidl: Vec<String> = (0..3).map(|i| format!("{} {}", i + 1, ids[i])).collect();
    assert_eq!(seen["uidl"], serde_json::json!(uidl));
    // Byte for byte what was sent, once poplib has undone the dot-stuffing.
    let hex: String = MESSAGES[1].bytes().map(|b| format!("{b:02x}")).collect();
    assert_eq!(seen["retr"], serde_json::json!(hex));
    assert_eq!(
        seen["top"],
        serde_json::json!([
            "From: b@example.com",
            "To: x@example.com",
            "Subject: second",
            "",
            ".starts with a dot"
        ])
    );
    assert_eq!(
        seen["stat_after_dele"],
        serde_json::json!([2, total - sizes[1]])
    );
    assert!(seen["quit"].as_str().unwrap().starts_with("+OK"));

    // Exactly the deleted message is gone.
    let store = running.store();
    assert!(store.get(&ids[1]).await.unwrap().is_none());
    assert!(store.get(&ids[0]).await.unwrap().is_some());
    assert!(store.get(&ids[2]).await.unwrap().is_some());
    assert_eq!(store.list(0, 0, None).await.unwrap().messages.len(), 2);
    running.shutdown().await;
}

/// Prints the UIDLs each `user:password` argument's login lists.
const POPLIB_UIDLS: &str = r#"
import json, poplib, sys
port, seen = int(sys.argv[1]), {}
for login in sys.argv[2:]:
    user, password = login.split(":", 1)
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    p.user(user)
    p.pass_(password)
    seen[user] = sorted(line.decode().split()[1] for line in p.uidl()[1])
    p.quit()
print(json.dumps(seen))
"#;

/// With mailboxes, a POP3 login reads the mailboxes its auth-file line
/// names, a mailbox's own credentials (from the mailbox API) read that
/// mailbox, and anyone else reads what the UI's root shows: every
/// mailbox but the private ones.
#[tokio::test]
async fn each_login_reads_its_own_mailboxes() {
    let auth = AuthFile::new("alice:secret\ncarol:pw:team-a\n");
    let (running, default_ids) = start(&auth).await;
    let http = reqwest::Client::new();
    let base = common::base_url(&running);
    let mut created = Vec::new();
    for body in [
        r#"{"Name": "team-a"}"#,
        r#"{"Name": "secret-x", "Private": true}"#,
    ] {
        let response = http
            .post(format!("{base}/api/mailcatch/v1/mailboxes"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        created.push(response.json::<serde_json::Value>().await.unwrap());
    }
    let mut ids = std::collections::HashMap::new();
    for mailbox in ["team-a", "secret-x"] {
        // As if sent with the mailbox's SMTP login (a private mailbox
        // takes mail no other way).
        let raw = format!("Subject: for {mailbox}\r\n\r\nhi\r\n");
        let message = running
            .app
            .ingest(Incoming {
                raw: raw.into(),
                envelope: Envelope {
                    mail_from: "sender@example.com".into(),
                    rcpt_to: vec!["x@example.com".into()],
                    mailbox: Some(mailbox.into()),
                    ..Envelope::default()
                },
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(&*message.mailbox, mailbox);
        ids.insert(mailbox, message.id().to_string());
    }

    let team_key = format!("team-a:{}", created[0]["SMTPPassword"].as_str().unwrap());
    let port = running.pop3_addr.unwrap().port().to_string();
    let logins = [port.as_str(), "carol:pw", &team_key, "alice:secret"];
    let Some(seen) = common::python_json(POPLIB_UIDLS, &logins).await else {
        return;
    };
    assert_eq!(seen["carol"], serde_json::json!([ids["team-a"]]));
    assert_eq!(seen["team-a"], serde_json::json!([ids["team-a"]]));
    let mut public = default_ids.clone();
    public.push(ids["team-a"].clone());
    public.sort();
    assert_eq!(
        seen["alice"],
        serde_json::json!(public),
        "all but the private mailbox"
    );
    running.shutdown().await;
}

/// A raw POP3 connection.
struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    async fn connect(running: &Running) -> Client {
        let stream = TcpStream::connect(running.pop3_addr.unwrap())
            .await
            .unwrap();
        let mut client = Client {
            stream: BufReader::new(stream),
        };
        assert!(client.line().await.starts_with("+OK"), "greeting");
        client
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), self.stream.read_line(&mut line))
            .await
            .expect("a reply in time")
            .unwrap();
        line
    }

    async fn command(&mut self, command: &str) -> String {
        self.send(format!("{command}\r\n").as_bytes()).await;
        self.line().await
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
    }

    /// Whether the server closed the connection (after any unread bytes).
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.stream.read_to_end(&mut rest)).await,
            Ok(Ok(_))
        )
    }
}

#[tokio::test]
async fn wrong_passwords_get_err_and_the_third_closes() {
    let auth = AuthFile::new("alice:secret\n");
    let (running, _) = start(&auth).await;
    let mut client = Client::connect(&running).await;
    assert!(
        client.command("STAT").await.starts_with("-ERR"),
        "not logged in"
    );
    for _ in 0..2 {
        assert!(client.command("USER alice").await.starts_with("+OK"));
        assert!(client.command("PASS wrong").await.starts_with("-ERR"));
    }
    assert!(client.command("USER alice").await.starts_with("+OK"));
    assert!(client.command("PASS secret2").await.starts_with("-ERR"));
    assert!(client.closed().await, "closed after the third failure");

    // The right password still works on a new connection.
    let mut client = Client::connect(&running).await;
    client.command("USER alice").await;
    assert_eq!(
        client.command("PASS secret").await,
        "+OK maildrop has 3 messages (".to_string()
            + &MESSAGES.iter().map(|m| m.len()).sum::<usize>().to_string()
            + " octets)\r\n"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn over_long_lines_are_refused_and_unquit_deletions_are_not_applied() {
    let auth = AuthFile::new("alice:secret\n");
    let (running, ids) = start(&auth).await;

    // 600 bytes and no line end: refused before the line is complete.
    let mut client = Client::connect(&running).await;
    client.send(&[b'A'; 600]).await;
    assert_eq!(client.line().await, "-ERR line too long\r\n");
    assert!(client.closed().await);

    // A session that deletes and then disconnects without QUIT changes nothing.
    let mut client = Client::connect(&running).await;
    client.command("USER alice").await;
    assert!(client.command("PASS secret").await.starts_with("+OK"));
    assert!(client.command("DELE 1").await.starts_with("+OK"));
    drop(client);
    // A QUIT in the next session finds the message still there.
    let mut client = Client::connect(&running).await;
    client.command("USER alice").await;
    client.command("PASS secret").await;
    assert!(client.command("UIDL 1").await.contains(&ids[0]));
    assert!(client.command("QUIT").await.starts_with("+OK"));
    assert!(client.closed().await);
    assert_eq!(
        running
            .store()
            .list(0, 0, None)
            .await
            .unwrap()
            .messages
            .len(),
        3
    );
    running.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_are_refused() {
    let auth = AuthFile::new("alice:secret\n");
    let (running, _) = start_with(&auth, |c| c.pop3.max_connections = 1).await;
    let mut first = Client::connect(&running).await;
    let second = TcpStream::connect(running.pop3_addr.unwrap())
        .await
        .unwrap();
    let mut second = BufReader::new(second);
    let mut line = String::new();
    second.read_line(&mut line).await.unwrap();
    assert!(
        line.starts_with("-ERR [SYS/TEMP] too many connections"),
        "{line}"
    );
    assert!(first.command("QUIT").await.starts_with("+OK"));
    running.shutdown().await;
}

#[tokio::test]
async fn pop3_is_off_unless_asked_for() {
    let running = common::start().await;
    assert!(running.pop3_addr.is_none());
    running.shutdown().await;
    let error = mailcatch::start({
        let mut config = mailcatch::Config::ephemeral();
        config.pop3.bind = Some("127.0.0.1:0".parse().unwrap());
        config
    })
    .await
    .err()
    .expect("refused");
    assert!(
        error.to_string().contains("--pop3 needs --pop3-auth-file"),
        "{error}"
    );
}
