//! The real binary: flags, Mailpit's environment variables, the readyz
//! probe and a clean exit on SIGTERM.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::free_port;
use common::smtp::RawClient;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_mailcatch");

/// Starts the binary and waits until its SMTP port answers.
async fn spawn(command: &mut Command, smtp_port: u16) -> Child {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", smtp_port))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("mailcatch did not start listening on {smtp_port}");
}

#[test]
fn help_explains_every_option() {
    let output = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--smtp ",
        "--listen",
        "--smtp-auth-accept-any",
        "--smtp-auth-file",
        "--smtp-tls-cert",
        "--smtp-require-starttls",
        "--smtp-require-tls",
        "--smtps",
        "--max-message-size",
        "--smtp-max-recipients",
        "--smtp-max-line",
        "--smtp-max-connections",
        "--smtp-idle-timeout",
        "--smtp-max-errors",
        "--pop3 ",
        "--pop3-auth-file",
        "--pop3-max-connections",
        "--pop3-idle-timeout",
        "MP_POP3_BIND_ADDR",
        "MP_POP3_AUTH_FILE",
        "--max ",
        "--max-store-size",
        "--verbose",
        "--quiet",
        "MP_SMTP_BIND_ADDR",
        "MP_MAX_MESSAGES",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
}

#[test]
fn bad_configuration_exits_with_a_clear_error() {
    let output = std::process::Command::new(BIN)
        .args([
            "--smtp-require-starttls",
            "--smtp",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("certificate"));

    let output = std::process::Command::new(BIN)
        .args([
            "--pop3",
            "127.0.0.1:0",
            "--smtp",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("MP_POP3_AUTH_FILE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--pop3 needs --pop3-auth-file"), "{stderr}");
}

#[test]
fn an_unusable_database_stops_start_up_with_status_1() {
    let dir = common::fresh_database().with_extension("dir");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |database: &str| {
        std::process::Command::new(BIN)
            .args([
                "--database",
                database,
                "--smtp",
                "127.0.0.1:0",
                "--listen",
                "127.0.0.1:0",
            ])
            .output()
            .unwrap()
    };
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "not a database").unwrap();
    let missing = dir.join("no/such/dir/mail.db");
    for (path, says) in [
        (notes.to_str().unwrap(), "not a mailcatch database"),
        (missing.to_str().unwrap(), "does not exist"),
        // Nothing listens on port 1: refused at once, named without the password.
        (
            "postgres://u:secret@127.0.0.1:1/mail",
            "database postgres://u@127.0.0.1:1/mail: cannot connect",
        ),
    ] {
        let output = run(path);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{path}: {stderr}");
        assert!(!stderr.contains("secret"), "the password is never shown");
        assert_eq!(output.status.code(), Some(1), "{path}: {stderr}");
    }
    assert_eq!(
        std::fs::read(&notes).unwrap(),
        b"not a database",
        "never overwritten"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn readyz_wait_waits_for_a_server_that_is_still_starting() {
    let (smtp, http) = (free_port(), free_port());
    let listen = format!("127.0.0.1:{http}");
    // Nothing listens: without --wait it fails at once, with it at the time-out.
    let alone = Command::new(BIN)
        .args(["readyz", "--listen", &listen, "--wait", "--timeout", "1"])
        .status();
    let started = std::time::Instant::now();
    assert!(!alone.await.unwrap().success());
    assert!(started.elapsed() >= Duration::from_millis(900));

    let waiting = Command::new(BIN)
        .args(["readyz", "--listen", &listen, "--wait", "--timeout", "20"])
        .status();
    let waiting = tokio::spawn(waiting);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "it waits");
    let mut server = spawn(
        Command::new(BIN).args(["--smtp", &format!("127.0.0.1:{smtp}"), "--listen", &listen]),
        smtp,
    )
    .await;
    assert!(waiting.await.unwrap().unwrap().success());
    server.kill().await.unwrap();
}

#[tokio::test]
async fn mailpit_environment_variables_configure_the_server() {
    let (smtp, http) = (free_port(), free_port());
    let mut child = spawn(
        Command::new(BIN)
            .env("MP_SMTP_BIND_ADDR", format!("127.0.0.1:{smtp}"))
            .env("MP_UI_BIND_ADDR", format!("127.0.0.1:{http}"))
            .env("MP_SMTP_AUTH_ACCEPT_ANY", "true")
            .env("MP_SMTP_MAX_RECIPIENTS", "1")
            .env("MP_MAX_MESSAGE_SIZE", "1"),
        smtp,
    )
    .await;
    let mut client = RawClient::connect(format!("127.0.0.1:{smtp}").parse().unwrap()).await;
    client.send("EHLO env\r\n").await;
    let ehlo = client.reply().await;
    assert!(
        ehlo.lines.iter().any(|l| l.starts_with("AUTH ")),
        "{:?}",
        ehlo.lines
    );
    assert!(
        ehlo.lines.iter().any(|l| l == "SIZE 1048576"),
        "{:?}",
        ehlo.lines
    );
    client
        .send("MAIL FROM:<a@x>\r\nRCPT TO:<1@y>\r\nRCPT TO:<2@y>\r\n")
        .await;
    assert_eq!(client.codes(3).await, [250, 250, 452]);

    // The readyz subcommand probes the HTTP side, as the Docker HEALTHCHECK does.
    let ready = Command::new(BIN)
        .env("MP_UI_BIND_ADDR", format!("127.0.0.1:{http}"))
        .arg("readyz")
        .status()
        .await
        .unwrap();
    assert!(ready.success());
    let not_ready = Command::new(BIN)
        .args(["readyz", "--listen", &format!("127.0.0.1:{}", free_port())])
        .status()
        .await
        .unwrap();
    assert!(!not_ready.success());
    child.kill().await.unwrap();
}

#[tokio::test]
async fn sigterm_finishes_the_transaction_in_flight_and_exits_0() {
    let (smtp, http) = (free_port(), free_port());
    let mut child = spawn(
        Command::new(BIN).args([
            "--smtp",
            &format!("127.0.0.1:{smtp}"),
            "--listen",
            &format!("127.0.0.1:{http}"),
        ]),
        smtp,
    )
    .await;
    let mut busy = RawClient::connect(format!("127.0.0.1:{smtp}").parse().unwrap()).await;
    busy.send("EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: late\r\n\r\n")
        .await;
    assert_eq!(busy.codes(4).await, [250, 250, 250, 354]);
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    busy.send("body\r\n.\r\n").await;
    assert_eq!(
        busy.reply().await.code,
        250,
        "the transaction in flight completes"
    );
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn sendmail_subcommand_delivers_lf_only_input_like_php_mail() {
    use tokio::io::AsyncWriteExt;
    let running = common::start().await;
    let mut child = Command::new(BIN)
        .args([
            "sendmail",
            "-t",
            "-i",
            "-S",
            &running.smtp_addr.to_string(),
            "-fphp@example.com",
            "extra@example.com",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let message = "To: Someone <someone@example.com>\nBcc: secret@example.com\nSubject: from PHP mail()\n\nline\n.leading dot\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .await
        .unwrap();
    assert!(child.wait().await.unwrap().success());
    let stored = running.store().latest(None).await.unwrap().expect("stored");
    assert_eq!(stored.summary.subject, "from PHP mail()");
    assert_eq!(stored.envelope.mail_from, "php@example.com");
    assert_eq!(
        stored.envelope.rcpt_to,
        [
            "extra@example.com",
            "someone@example.com",
            "secret@example.com"
        ]
    );
    assert!(
        String::from_utf8_lossy(&running.store().raw(&stored).await.unwrap())
            .ends_with("line\r\n.leading dot\r\n")
    );
    assert!(stored.warnings.is_empty(), "{:?}", stored.warnings);
    running.shutdown().await;
}

const ALPHA: &str =
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: alpha\r\n\r\n.leading dot\r\nbody\r\n";
const BETA: &str = "From: \"Beta\" <c@example.com>\r\nTo: d@example.com\r\nCc: e@example.com\r\nSubject: beta\r\n\r\nbody\r\n";

async fn ingest(running: &mailcatch::Running, raw: &str) -> String {
    let message = running
        .app
        .ingest(mailcatch::store::Incoming {
            raw: raw.as_bytes().to_vec().into(),
            ..Default::default()
        })
        .await
        .unwrap();
    message.id().to_string()
}

async fn run(args: &[&str]) -> std::process::Output {
    let output = Command::new(BIN).args(args).output().await.unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = common::fresh_database().with_extension(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `dump --http` writes every message as `ID.eml`, byte for byte; `load`
/// sends a directory of them (and an mbox) to another instance over SMTP,
/// with the envelope from the headers.
#[tokio::test]
async fn dump_over_http_then_load_over_smtp() {
    let source = common::start().await;
    let alpha = ingest(&source, ALPHA).await;
    let beta = ingest(&source, BETA).await;
    let dir = scratch("dump");
    run(&[
        "dump",
        dir.to_str().unwrap(),
        "--http",
        &common::base_url(&source),
    ])
    .await;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want = vec![format!("{alpha}.eml"), format!("{beta}.eml")];
    want.sort();
    assert_eq!(names, want);
    assert_eq!(
        std::fs::read(dir.join(format!("{alpha}.eml"))).unwrap(),
        ALPHA.as_bytes()
    );
    assert_eq!(
        std::fs::read(dir.join(format!("{beta}.eml"))).unwrap(),
        BETA.as_bytes()
    );
    source.shutdown().await;

    let mbox = dir.with_extension("mbox");
    std::fs::write(
        &mbox,
        "From x@example.com Mon Jan  1 00:00:00 2024\nFrom: x@example.com\nTo: y@example.com\nSubject: boxed one\n\n>From the box\n\nFrom x@example.com Mon Jan  1 00:00:01 2024\nFrom: x@example.com\nBcc: z@example.com\nSubject: boxed two\n\nhi\n",
    )
    .unwrap();
    let target = common::start().await;
    let smtp = target.smtp_addr.to_string();
    run(&[
        "load",
        dir.to_str().unwrap(),
        mbox.to_str().unwrap(),
        "--smtp",
        &smtp,
    ])
    .await;
    let messages = target.store().list(0, 0, None).await.unwrap().messages;
    assert_eq!(messages.len(), 4);
    let by_subject = |s: &str| {
        messages
            .iter()
            .find(|m| m.summary.subject == s)
            .unwrap_or_else(|| panic!("{s} not loaded"))
            .clone()
    };
    let beta = by_subject("beta");
    assert_eq!(beta.envelope.mail_from, "c@example.com");
    assert_eq!(beta.envelope.rcpt_to, ["d@example.com", "e@example.com"]);
    let raw = target.store().raw(&by_subject("alpha")).await.unwrap();
    assert_eq!(&raw[..], ALPHA.as_bytes(), "loaded byte for byte");
    let boxed = target.store().raw(&by_subject("boxed one")).await.unwrap();
    assert!(String::from_utf8_lossy(&boxed).contains("\r\nFrom the box\r\n"));
    assert_eq!(by_subject("boxed two").envelope.rcpt_to, ["z@example.com"]);

    // A file without recipients is reported, and the exit status says so.
    let lonely = dir.join("lonely.eml");
    std::fs::write(
        &lonely,
        "From: a@example.com\r\nSubject: nobody\r\n\r\nx\r\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["load", lonely.to_str().unwrap(), "--smtp", &smtp])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no recipients"), "{stderr}");
    target.shutdown().await;
}

/// `dump --database` reads a database file directly, the server stopped.
#[tokio::test]
async fn dump_from_a_database_file() {
    let database = common::fresh_database();
    let server =
        common::start_with(|c| c.store.database = Some(database.display().to_string())).await;
    let alpha = ingest(&server, ALPHA).await;
    server.shutdown().await;
    let dir = scratch("dbdump");
    run(&[
        "dump",
        dir.to_str().unwrap(),
        "--database",
        database.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        std::fs::read(dir.join(format!("{alpha}.eml"))).unwrap(),
        ALPHA.as_bytes()
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let output = Command::new(BIN)
        .args(["dump", dir.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a source is required");
}
