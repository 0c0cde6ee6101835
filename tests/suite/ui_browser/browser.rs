//! Browser plumbing: one headless Chromium, pages with bounded waits, and
//! the errors each page collected.

use std::path::PathBuf;
use std::sync::Arc;

use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::EventResponseReceived;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;
use mailcatch::Running;
use parking_lot::Mutex;

use super::*;

pub struct Ui {
    browser: tokio::sync::Mutex<Browser>,
    handler: tokio::task::JoinHandle<()>,
    profile: PathBuf,
}

impl Ui {
    pub async fn launch() -> Ui {
        let profile = std::env::temp_dir().join(format!(
            "mailcatch-ui-test-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .no_sandbox()
            .user_data_dir(&profile)
            .viewport(None)
            .window_size(1280, 800)
            .launch_timeout(Duration::from_secs(30))
            .request_timeout(WAIT)
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                // Keeps the sandboxed preview frame in the page's process, so
                // its network events reach this page's CDP session.
                "--disable-features=IsolateSandboxedIframes",
            ])
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        // The handler drives the CDP connection; some events from a newer
        // Chromium fail to decode, which is harmless, so errors are skipped.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ui {
            browser: tokio::sync::Mutex::new(browser),
            handler,
            profile,
        }
    }

    pub async fn open(&self, server: &Running, path: &str) -> Result<TestPage, String> {
        self.open_sized(server, path, 1280, 800).await
    }

    pub async fn open_sized(
        &self,
        server: &Running,
        path: &str,
        width: i64,
        height: i64,
    ) -> Result<TestPage, String> {
        self.open_page(server, path, (width, height), "").await
    }

    /// Opens a page with `init` run before any of the page's own scripts,
    /// e.g. to stand in for a browser API that headless Chromium lacks.
    pub async fn open_with_init(
        &self,
        server: &Running,
        path: &str,
        init: &str,
    ) -> Result<TestPage, String> {
        self.open_page(server, path, (1280, 800), init).await
    }

    async fn open_page(
        &self,
        server: &Running,
        path: &str,
        (width, height): (i64, i64),
        init: &str,
    ) -> Result<TestPage, String> {
        let page = self
            .browser
            .lock()
            .await
            .new_page("about:blank")
            .await
            .map_err(err)?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let load_errors = Arc::new(Mutex::new(Vec::new()));
        page.enable_log().await.map_err(err)?;
        let mut exceptions = page
            .event_listener::<EventExceptionThrown>()
            .await
            .map_err(err)?;
        let mut console = page
            .event_listener::<EventConsoleApiCalled>()
            .await
            .map_err(err)?;
        let mut log = page
            .event_listener::<EventEntryAdded>()
            .await
            .map_err(err)?;
        let mut responses_seen = page
            .event_listener::<EventResponseReceived>()
            .await
            .map_err(err)?;
        let responses = Arc::new(Mutex::new(Vec::new()));
        let sink = responses.clone();
        tokio::spawn(async move {
            while let Some(event) = responses_seen.next().await {
                sink.lock()
                    .push((event.response.url.clone(), event.response.status));
            }
        });
        let sink = errors.clone();
        tokio::spawn(async move {
            while let Some(event) = exceptions.next().await {
                sink.lock().push(format!(
                    "exception: {:?}",
                    event
                        .exception_details
                        .exception
                        .as_ref()
                        .and_then(|e| e.description.clone())
                        .unwrap_or(event.exception_details.text.clone())
                ));
            }
        });
        let sink = errors.clone();
        tokio::spawn(async move {
            while let Some(event) = console.next().await {
                if format!("{:?}", event.r#type).contains("Error") {
                    sink.lock().push(format!(
                        "console.error: {:?}",
                        event
                            .args
                            .iter()
                            .map(|a| a.value.clone())
                            .collect::<Vec<_>>()
                    ));
                }
            }
        });
        let sink = load_errors.clone();
        tokio::spawn(async move {
            while let Some(event) = log.next().await {
                if format!("{:?}", event.entry.level).contains("Error") {
                    sink.lock().push(format!(
                        "{}: {}",
                        event.entry.url.clone().unwrap_or_default(),
                        event.entry.text
                    ));
                }
            }
        });
        // Records CSP violations of our own page (injected by CDP, so it is
        // not subject to the page's script-src).
        page.evaluate_on_new_document(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
        )
        .await
        .map_err(err)?;
        if !init.is_empty() {
            page.evaluate_on_new_document(init).await.map_err(err)?;
        }
        page.execute(SetDeviceMetricsOverrideParams::new(
            width,
            height,
            1.0,
            width < 600,
        ))
        .await
        .map_err(err)?;
        let url = format!("{}{path}", common::base_url(server));
        tokio::time::timeout(WAIT, page.goto(url.as_str()))
            .await
            .map_err(|_| format!("loading {url} timed out"))?
            .map_err(err)?;
        Ok(TestPage {
            page,
            errors,
            load_errors,
            responses,
        })
    }

    pub async fn close(self) {
        let mut browser = self.browser.into_inner();
        let _ = tokio::time::timeout(Duration::from_secs(5), browser.close()).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), browser.wait()).await;
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

pub struct TestPage {
    pub page: Page,
    errors: Arc<Mutex<Vec<String>>>,
    /// Console messages logged by the browser itself (failed loads, CSP).
    load_errors: Arc<Mutex<Vec<String>>>,
    /// Every HTTP response the page and its frames received: (URL, status).
    responses: Arc<Mutex<Vec<(String, i64)>>>,
}

impl TestPage {
    pub async fn eval<T: serde::de::DeserializeOwned>(
        &self,
        expression: &str,
    ) -> Result<T, String> {
        let result = tokio::time::timeout(WAIT, self.page.evaluate(expression))
            .await
            .map_err(|_| format!("evaluating {expression} timed out"))?
            .map_err(|e| format!("evaluating {expression}: {e}"))?;
        result
            .into_value::<T>()
            .map_err(|e| format!("result of {expression}: {e}"))
    }

    pub async fn run(&self, statement: &str) -> Outcome {
        self.eval::<bool>(&format!("(() => {{ {statement}; return true; }})()"))
            .await
            .map(drop)
    }

    /// Polls `condition` (a JS expression) until it is true, for at most WAIT.
    pub async fn wait_for(&self, condition: &str, what: &str) -> Outcome {
        let deadline = Instant::now() + WAIT;
        let expression = format!(
            "(() => {{ try {{ return Boolean({condition}); }} catch (_) {{ return false; }} }})()"
        );
        loop {
            if self.eval::<bool>(&expression).await.unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let body: String = self
                    .eval("document.body?.innerText.slice(0, 600) ?? ''")
                    .await
                    .unwrap_or_default();
                return Err(format!(
                    "waited {WAIT:?} for {what} ({condition}); page shows: {body:?}; errors: {:?}",
                    self.errors.lock()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `selector` inside the list row titled `subject`, once that row
    /// is on the page: the list and an opened message load independently, so a
    /// row may appear after the view does.
    pub async fn click_in_row(&self, subject: &str, selector: &str) -> Outcome {
        self.wait_for(&row_with_subject(subject), &format!("row {subject:?}"))
            .await?;
        self.run(&format!(
            "{}.querySelector('{selector}').click()",
            row_expr(subject)
        ))
        .await
    }

    /// Presses a key as a user would, on whatever has focus.
    pub async fn press(&self, key: &str) -> Outcome {
        let body = self.page.find_element("body").await.map_err(err)?;
        body.press_key(key).await.map_err(err)?;
        tokio::time::sleep(Duration::from_millis(60)).await;
        Ok(())
    }

    pub async fn tab(&self, name: &str) -> Outcome {
        self.wait_for(
            &format!("!!document.querySelector('#tab-{name}')"),
            &format!("tab {name}"),
        )
        .await?;
        self.run(&format!("document.querySelector('#tab-{name}').click()"))
            .await?;
        self.wait_for(
            &format!(
                "document.querySelector('#tab-{name}').getAttribute('aria-selected') === 'true'"
            ),
            &format!("tab {name} selected"),
        )
        .await
    }

    /// No script errors, no CSP violations on our page, and (optionally)
    /// nothing the browser itself logged as an error (failed loads).
    pub async fn assert_no_errors(&self, including_browser_log: bool) -> Outcome {
        let mut all = self.errors.lock().clone();
        if including_browser_log {
            all.extend(self.load_errors.lock().iter().cloned());
        }
        let csp: Vec<String> = self.eval("window.__csp ?? []").await?;
        all.extend(csp.into_iter().map(|v| format!("CSP violation: {v}")));
        expect(all.is_empty(), format!("console errors: {all:?}"))
    }

    /// Nothing was fetched from anywhere but our own server.
    pub fn assert_self_contained(&self, server: &Running) -> Outcome {
        let base = common::base_url(server);
        let foreign: Vec<String> = self
            .responses
            .lock()
            .iter()
            .map(|(url, _)| url.clone())
            .filter(|url| {
                !url.starts_with(&base) && !url.starts_with("data:") && url != "about:blank"
            })
            .collect();
        expect(
            foreign.is_empty(),
            format!("requests left the server: {foreign:?}"),
        )
    }

    /// The statuses of every response so far whose URL contains `fragment`.
    pub fn statuses(&self, fragment: &str) -> Vec<i64> {
        self.responses
            .lock()
            .iter()
            .filter(|(url, _)| url.contains(fragment))
            .map(|(_, status)| *status)
            .collect()
    }

    /// Waits until a response whose URL contains `fragment` arrives; returns its status.
    pub async fn response_status(&self, fragment: &str) -> Result<i64, String> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some((_, status)) = self
                .responses
                .lock()
                .iter()
                .find(|(url, _)| url.contains(fragment))
            {
                return Ok(*status);
            }
            if Instant::now() > deadline {
                return Err(format!("no response for {fragment} within {WAIT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn save(&self, path: &Path) -> Outcome {
        let png = self
            .page
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .map_err(err)?;
        std::fs::write(path, png).map_err(err)
    }

    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.page.close()).await;
    }
}

pub fn row_expr(subject: &str) -> String {
    format!(
        "[...document.querySelectorAll('.row')].find(r => r.querySelector('.row-subject')?.textContent === {})",
        serde_json::to_string(subject).unwrap()
    )
}

pub fn row_with_subject(subject: &str) -> String {
    format!("!!{}", row_expr(subject))
}

pub fn expect(condition: bool, message: impl Into<String>) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message.into())
    }
}

pub fn err(error: impl std::fmt::Display) -> String {
    error.to_string()
}
