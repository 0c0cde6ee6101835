//! Shared test harness: a real mailcatch on ephemeral loopback ports.
#![allow(dead_code)]

use mailcatch::{Config, Running};

/// Starts mailcatch with the default configuration on free ports.
pub async fn start() -> Running {
    start_with(|_| {}).await
}

/// Starts mailcatch after `adjust` has tweaked the configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config::ephemeral();
    adjust(&mut config);
    mailcatch::start(config).await.expect("mailcatch starts")
}

/// The base URL of the running server's HTTP side.
pub fn base_url(running: &Running) -> String {
    format!("http://{}", running.http_addr)
}

/// Polls `check` every 10 ms for up to five seconds.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if check() {
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
