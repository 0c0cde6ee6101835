//! SMTP and HTTP on Unix-domain sockets (`unix:/path:MODE`), with the real
//! binary and real clients: Python's smtplib and http.client (given a Unix
//! socket, nothing else changed), and swaks and curl where installed.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_mailcatch");

/// Python's own SMTP and HTTP clients, each told to connect to a socket
/// path instead of a host: sends one message, then prints the API's list.
const PYTHON_CLIENTS: &str = r#"
import http.client, smtplib, socket, sys
smtp_path, http_path = sys.argv[1:3]

def unix(path, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s

class UnixSMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return unix(smtp_path)

class UnixHTTP(http.client.HTTPConnection):
    def connect(self):
        self.sock = unix(http_path)

with UnixSMTP("localhost") as client:
    client.sendmail("py@example.com", ["bob@example.com"],
                    "From: py@example.com\r\nTo: bob@example.com\r\nSubject: from smtplib\r\n\r\nhi\r\n")
api = UnixHTTP("localhost")
api.request("GET", "/api/v1/messages")
response = api.getresponse()
print(response.status)
print(response.read().decode())
"#;

struct Sockets {
    dir: PathBuf,
    smtp: PathBuf,
    http: PathBuf,
}

impl Sockets {
    fn new() -> Sockets {
        let dir = common::fresh_database().with_extension("sockets");
        std::fs::create_dir_all(&dir).unwrap();
        Sockets {
            smtp: dir.join("smtp.sock"),
            http: dir.join("http.sock"),
            dir,
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command.args([
            "--smtp",
            &format!("unix:{}:0660", self.smtp.display()),
            "--listen",
            &format!("unix:{}:0600", self.http.display()),
        ]);
        command
    }

    /// Starts the binary and waits until both sockets answer.
    async fn spawn(&self) -> Child {
        let child = self
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if answers(&self.smtp).await && answers(&self.http).await {
                return child;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "mailcatch did not start listening on {}",
            self.dir.display()
        );
    }
}

async fn answers(path: &Path) -> bool {
    tokio::net::UnixStream::connect(path).await.is_ok()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn signal(child: &Child, signal: &str) {
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Runs an optional client program: None (with a SKIP line) when it is
/// missing here, a failure when CI requires it.
fn optional_client(program: &str) -> Option<PathBuf> {
    let found = common::which(program);
    if found.is_none() {
        assert!(
            !common::require_clients(),
            "{program} is required (MAILCATCH_REQUIRE_CLIENTS=1)"
        );
        println!("SKIP: {program} not found, its Unix-socket check not run");
    }
    found
}

#[tokio::test]
async fn smtp_and_http_listen_on_unix_sockets_with_their_modes() {
    let sockets = Sockets::new();
    let mut child = sockets.spawn().await;
    assert_eq!(mode(&sockets.smtp), 0o660);
    assert_eq!(mode(&sockets.http), 0o600);

    let Some(python) = common::which("python3") else {
        panic!("python3 is needed for this test");
    };
    let output = std::process::Command::new(python)
        .args(["-c", PYTHON_CLIENTS])
        .arg(&sockets.smtp)
        .arg(&sockets.http)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("200\n"), "{stdout}");
    assert!(stdout.contains("from smtplib"), "{stdout}");
    let mut expected = 1;

    if let Some(swaks) = optional_client("swaks") {
        let sent = std::process::Command::new(swaks)
            .args(["--socket"])
            .arg(&sockets.smtp)
            .args(["--from", "swaks@example.com", "--to", "bob@example.com"])
            .args(["--header", "Subject: from swaks"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(sent.success());
        expected += 1;
    }
    if let Some(curl) = optional_client("curl") {
        let sent = std::process::Command::new(&curl)
            .args(["-sf", "--unix-socket"])
            .arg(&sockets.http)
            .args(["-H", "Content-Type: application/json", "--data"])
            .arg(r#"{"From":{"Email":"curl@example.com"},"To":[{"Email":"bob@example.com"}],"Subject":"from curl"}"#)
            .arg("http://localhost/api/v1/send")
            .output()
            .unwrap();
        assert!(sent.status.success(), "{sent:?}");
        expected += 1;
        let listed = std::process::Command::new(&curl)
            .args(["-sf", "--unix-socket"])
            .arg(&sockets.http)
            .arg("http://localhost/api/v1/messages")
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        assert_eq!(list["total"], expected, "{list}");
    }

    // The health probe a container runs, pointed at the socket.
    let probe = Command::new(BIN)
        .args(["readyz", "--listen"])
        .arg(format!("unix:{}", sockets.http.display()))
        .status()
        .await
        .unwrap();
    assert!(probe.success(), "readyz over the Unix socket");

    signal(&child, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        !sockets.smtp.exists() && !sockets.http.exists(),
        "removed at exit"
    );
    std::fs::remove_dir_all(&sockets.dir).unwrap();
}

/// A crashed server's socket files are replaced at the next start; a live
/// server's are not taken over: the second start fails with a clear error.
#[tokio::test]
async fn stale_sockets_are_replaced_and_live_ones_refused() {
    let sockets = Sockets::new();
    let mut crashed = sockets.spawn().await;
    signal(&crashed, "-KILL");
    crashed.wait().await.unwrap();
    assert!(sockets.smtp.exists(), "kill -9 leaves the socket file");

    let mut running = sockets.spawn().await;
    let second = sockets.command().output().await.unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("another process is listening"), "{stderr}");
    assert!(
        answers(&sockets.smtp).await,
        "the first server keeps its socket"
    );

    running.kill().await.unwrap();
    std::fs::remove_dir_all(&sockets.dir).unwrap();
}
