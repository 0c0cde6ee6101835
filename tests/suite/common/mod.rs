//! Shared test harness: a real mailcatch on ephemeral loopback ports.
#![allow(dead_code)]

use mailcatch::{Config, Running};

/// Starts mailcatch with the default configuration on free ports.
pub async fn start() -> Running {
    start_with(|_| {}).await
}

/// Starts mailcatch after `adjust` has tweaked the configuration, on the
/// engine `MAILCATCH_TEST_ENGINE` names (`memory`, the default; `sqlite`,
/// which gives each server a fresh database file; or `postgres`, which
/// gives each a fresh database on the `MAILCATCH_TEST_POSTGRES` server),
/// so the same tests check every engine.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config::ephemeral();
    match engine_under_test().as_str() {
        "sqlite" => config.store.database = Some(fresh_database().display().to_string()),
        "postgres" => {
            let url = postgres_server().expect("MAILCATCH_TEST_POSTGRES names a server");
            config.store.database = Some(fresh_postgres(&url).await);
        }
        _ => {}
    }
    adjust(&mut config);
    mailcatch::start(config).await.expect("mailcatch starts")
}

/// The engine these tests run on.
pub fn engine_under_test() -> String {
    std::env::var("MAILCATCH_TEST_ENGINE").unwrap_or_else(|_| "memory".into())
}

/// A path for a new database file, in a directory of this test process
/// under cargo's scratch directory for tests (inside `target/`).
pub fn fresh_database() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let scratch = option_env!("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = scratch.join(format!("mailcatch-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir.join(format!("{}.db", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// The PostgreSQL server tests may use (`MAILCATCH_TEST_POSTGRES`, a
/// `postgres://` URL of a user who may create databases), if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("MAILCATCH_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The PostgreSQL server for a test, or `None` after a `SKIP` line when
/// there is none (a failure when clients are required, as in CI).
pub fn postgres_or_skip(test: &str) -> Option<String> {
    let url = postgres_server();
    if url.is_none() {
        assert!(
            !require_clients(),
            "MAILCATCH_TEST_POSTGRES is unset but MAILCATCH_REQUIRE_CLIENTS=1"
        );
        eprintln!("SKIP {test}: MAILCATCH_TEST_POSTGRES names no PostgreSQL server");
    }
    url
}

/// A new, empty database on the server `url` names; returns its URL. The
/// databases are left for the throwaway test cluster to take with it.
pub async fn fresh_postgres(url: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "mc_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to MAILCATCH_TEST_POSTGRES");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("CREATE DATABASE");
    drop(client);
    let _ = driver.await;
    with_database(url, &name)
}

/// `url` with its database replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The base URL of the running server's HTTP side.
pub fn base_url(running: &Running) -> String {
    format!("http://{}", running.http_addr)
}

/// Polls `check` every 10 ms for up to five seconds.
pub async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..500 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

pub mod smtp;
pub mod tls;

/// Whether a test needing an external program should fail (CI) or skip.
pub fn require_clients() -> bool {
    std::env::var("MAILCATCH_REQUIRE_CLIENTS").is_ok_and(|v| v == "1")
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// Runs a Python script (`python3 -c SCRIPT ARGS…`) that prints one JSON
/// value, and returns it; None (with a SKIP line) when python3 is missing
/// here, a failure when CI requires it. A script that fails fails the test
/// with its stderr.
pub async fn python_json(script: &str, args: &[&str]) -> Option<serde_json::Value> {
    let Some(python) = which("python3") else {
        assert!(!require_clients(), "python3 is required in CI");
        eprintln!("SKIP: python3 not found");
        return None;
    };
    let output = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("run python3");
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("the script prints JSON"))
}
