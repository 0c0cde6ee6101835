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
