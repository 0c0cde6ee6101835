//! POP3 over TLS and with Debian's POP3 client: Python's poplib upgrades
//! with STLS (`--pop3-stls`) or connects with implicit TLS (Mailpit's
//! `--pop3-tls-cert` alone), getmail6 fetches every message byte for byte,
//! and a command sent in plaintext behind STLS is refused.

use crate::common;
use crate::pop3::{AuthFile, MESSAGES, start_with};

use mailcatch::Running;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A mailcatch with a self-signed POP3 certificate: STLS on a plaintext
/// listener when `stls`, implicit TLS otherwise.
async fn start_tls(auth: &AuthFile, stls: bool) -> (Running, Vec<String>) {
    start_with(auth, |c| {
        c.pop3.tls_cert = Some("sans:localhost".into());
        c.pop3.stls = stls;
    })
    .await
}

const POPLIB_TLS_SCRIPT: &str = r#"
import json, poplib, ssl, sys
port, mode = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
if mode == "stls":
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    before = sorted(p.capa().keys())
    p.stls(context=context)
else:
    p = poplib.POP3_SSL("127.0.0.1", port, context=context, timeout=10)
    before = None
seen = {"before": before, "after": sorted(p.capa().keys()), "version": p.sock.version()}
p.user("alice")
p.pass_("secret")
seen["retr"] = (b"\r\n".join(p.retr(2)[1]) + b"\r\n").hex()
seen["quit"] = p.quit().decode()
print(json.dumps(seen))
"#;

async fn poplib(running: &Running, mode: &str) -> Option<serde_json::Value> {
    let port = running.pop3_addr.expect("POP3 is bound").port().to_string();
    common::python_json(POPLIB_TLS_SCRIPT, &[&port, mode]).await
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn poplib_upgrades_with_stls_and_retrieves_byte_exact() {
    let auth = AuthFile::new("alice:secret\n");
    let (running, _) = start_tls(&auth, true).await;
    let Some(seen) = poplib(&running, "stls").await else {
        return;
    };
    assert_eq!(
        seen["before"],
        serde_json::json!(["IMPLEMENTATION", "STLS", "TOP", "UIDL", "USER"])
    );
    assert_eq!(
        seen["after"],
        serde_json::json!(["IMPLEMENTATION", "TOP", "UIDL", "USER"]),
        "STLS is not offered again over TLS"
    );
    assert!(seen["version"].as_str().unwrap().starts_with("TLSv1."));
    assert_eq!(seen["retr"], serde_json::json!(hex(MESSAGES[1])));
    assert!(seen["quit"].as_str().unwrap().starts_with("+OK"));
    running.shutdown().await;
}

#[tokio::test]
async fn mailpits_tls_flags_alone_give_implicit_tls() {
    let auth = AuthFile::new("alice:secret\n");
    let (running, _) = start_tls(&auth, false).await;
    let Some(seen) = poplib(&running, "implicit").await else {
        return;
    };
    assert_eq!(
        seen["after"],
        serde_json::json!(["IMPLEMENTATION", "TOP", "UIDL", "USER"])
    );
    assert_eq!(seen["retr"], serde_json::json!(hex(MESSAGES[1])));
    running.shutdown().await;
}

#[tokio::test]
async fn a_command_pipelined_behind_stls_is_refused() {
    let auth = AuthFile::new("alice:secret\n");
    let (running, _) = start_tls(&auth, true).await;
    let stream = TcpStream::connect(running.pop3_addr.unwrap())
        .await
        .unwrap();
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    stream.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("+OK"), "{line}");
    // One write: the USER line is read before any handshake.
    stream
        .get_mut()
        .write_all(b"STLS\r\nUSER injected\r\n")
        .await
        .unwrap();
    let mut replies = String::new();
    while stream.read_line(&mut replies).await.unwrap() > 0 {}
    assert_eq!(
        replies,
        "+OK begin TLS negotiation\r\n-ERR data after STLS before the TLS handshake\r\n"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn stls_needs_a_certificate() {
    let auth = AuthFile::new("alice:secret\n");
    let error = mailcatch::start({
        let mut config = mailcatch::Config::ephemeral();
        config.pop3.bind = Some("127.0.0.1:0".parse().unwrap());
        config.pop3.auth_file = Some(auth.0.clone());
        config.pop3.stls = true;
        config
    })
    .await
    .err()
    .expect("refused");
    assert!(error.to_string().contains("--pop3-stls needs"), "{error}");
}

/// getmail6 (Debian's `getmail6`) fetches every message over implicit TLS
/// into a Maildir, leaving them on the server; each file holds the
/// message as sent, after the `Return-Path` getmail always writes (with
/// LF line ends, as Maildir files have; told so, it adds no other header).
#[tokio::test]
async fn getmail_fetches_every_message_byte_exact() {
    let Some(getmail) = common::which("getmail") else {
        assert!(
            !common::require_clients(),
            "getmail (getmail6) is required in CI"
        );
        eprintln!("SKIP getmail_fetches_every_message_byte_exact: getmail not found");
        return;
    };
    let auth = AuthFile::new("alice:secret\n");
    let (running, ids) = start_tls(&auth, false).await;
    // getmail refuses to deliver as root; as root (CI) it delivers as
    // `nobody`, so the Maildir is in /tmp and writable by all.
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let dir = std::env::temp_dir().join(format!(
        "mailcatch-getmail-{}-{}",
        std::process::id(),
        running.pop3_addr.unwrap().port()
    ));
    let maildir = dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
        let everyone = std::os::unix::fs::PermissionsExt::from_mode(0o777);
        std::fs::set_permissions(maildir.join(sub), everyone).unwrap();
    }
    let user = if as_root { "user = nobody\n" } else { "" };
    let port = running.pop3_addr.unwrap().port();
    std::fs::write(
        dir.join("getmailrc"),
        format!(
            "[retriever]\ntype = SimplePOP3SSLRetriever\nserver = 127.0.0.1\nport = {port}\n\
             username = alice\npassword = secret\n\n\
             [destination]\ntype = Maildir\npath = {}/\n{user}\n\
             [options]\nread_all = true\ndelete = false\ndelivered_to = false\n\
             received = false\nverbose = 0\nmessage_log_syslog = false\n",
            maildir.display()
        ),
    )
    .unwrap();
    let output = tokio::process::Command::new(getmail)
        .arg(format!("--getmaildir={}", dir.display()))
        .arg("--rcfile=getmailrc")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "getmail failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut fetched: Vec<String> = std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .map(|file| {
            // getmail records the envelope sender, which POP3 does not carry.
            file.strip_prefix("Return-Path: <unknown>\n")
                .expect("getmail's Return-Path first")
                .to_string()
        })
        .collect();
    fetched.sort();
    let mut sent: Vec<String> = MESSAGES.iter().map(|m| m.replace("\r\n", "\n")).collect();
    sent.sort();
    assert_eq!(fetched, sent);
    // `delete = false`: all still stored.
    for id in &ids {
        assert!(running.store().get(id).await.unwrap().is_some());
    }
    let _ = std::fs::remove_dir_all(&dir);
    running.shutdown().await;
}
