//! Swagger UI in a real browser (docs/operations.md): headless Chromium, driven through chromedriver,
//! authorizes with a token from login and runs `GET /api/auth/sessions` live from `/docs/`.
//!
//! Skipped (with a note on stderr) where Chromium or chromedriver is not installed;
//! `scripts/install-browser.sh` installs both.

use crate::live::{self, TempDir};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long one step of the UI may take to show its result.
const STEP: Duration = Duration::from_secs(30);

/// chromedriver, and the browser it starts, killed on drop: also when an assertion fails.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Self {
        // A free port: bound, read, released; chromedriver takes it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that drop ends Chromium too, not only chromedriver.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("start chromedriver");
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls `/status` until chromedriver answers ready (bounded).
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + STEP;
        let http = reqwest::Client::new();
        loop {
            let ready = match http.get(format!("{}/status", self.url())).send().await {
                Ok(res) => res.json::<serde_json::Value>().await.ok(),
                Err(_) => None,
            };
            if ready.is_some_and(|v| v["value"]["ready"] == true) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (bounded) for `css` and clicks it.
async fn click(browser: &Client, css: &str) {
    let element = browser
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Polls (bounded) until the text of `css` satisfies `done`; returns that text.
async fn text_when(browser: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + STEP;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if done(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never got there; last text: {last:?}");
}

/// Ignored by default (it needs Chromium); CI installs the browser (`scripts/install-browser.sh`)
/// and runs it with `--include-ignored`, where a missing browser is a failure, not a skip.
#[tokio::test]
#[ignore = "needs Chromium and chromedriver (scripts/install-browser.sh); run with --include-ignored"]
async fn swagger_ui_authorizes_and_lists_sessions_live() {
    assert!(
        Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
        "{CHROMIUM} or {CHROMEDRIVER} is missing: run scripts/install-browser.sh"
    );
    let started = Instant::now();
    let live = live::start("docs").await;
    let base = live.base.clone();
    let mut api = example_client::Client::new(&base);
    let login = api
        .login("docs", tests::PASSWORD, "web", Some("swagger"))
        .await
        .unwrap();

    let profile = TempDir::new("chromium-profile");
    let mut driver = Chromedriver::start();
    driver.wait_ready().await;
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    });
    let caps: fantoccini::wd::Capabilities = serde_json::from_value(caps).unwrap();
    let browser = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .expect("start a Chromium session");

    browser.goto(&format!("{base}/docs/")).await.unwrap();
    click(&browser, "button.btn.authorize").await;
    let field = browser
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(".modal-ux input"))
        .await
        .unwrap();
    field.send_keys(&login.token).await.unwrap();
    click(&browser, ".modal-ux button.modal-btn.auth.authorize").await;
    // Once authorized the dialog offers "Logout"; then close it.
    text_when(&browser, ".modal-ux .auth-container", |t| {
        t.contains("Logout")
    })
    .await;
    click(&browser, ".modal-ux button.btn-done").await;

    let op = "#operations-sessions-list_sessions";
    click(&browser, &format!("{op} .opblock-summary-control")).await;
    click(&browser, &format!("{op} button.try-out__btn")).await;
    click(&browser, &format!("{op} button.execute")).await;
    let table = format!("{op} .live-responses-table tr.response");
    let status = text_when(&browser, &format!("{table} .response-col_status"), |t| {
        !t.trim().is_empty()
    })
    .await;
    assert_eq!(status.trim(), "200");
    let body = text_when(
        &browser,
        &format!("{table} .response-col_description"),
        |t| t.contains(&login.session.id),
    )
    .await;
    assert!(body.contains("\"is_current\": true"), "{body}");
    // The request really carried the token the dialog took.
    let curl = text_when(&browser, &format!("{op} .curl-command"), |t| !t.is_empty()).await;
    assert!(curl.contains(&format!("Bearer {}", login.token)), "{curl}");

    browser.close().await.unwrap();
    eprintln!(
        "browser test ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
