//! Headless Chromium for every browser test (the pages here, and `crate::browser`): chromedriver
//! in its own process group, a fresh profile, fixed launch flags; plus the steps the pages need: wait
//! for an element, type into a field, wait for one to go, run `fetch` in the page, and keep a
//! screenshot. Every wait polls with a deadline; none sleeps for a fixed time.

use crate::live::{self, TempDir};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long one step of a page may take to show its result.
pub(crate) const STEP: Duration = Duration::from_secs(30);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);

/// Fails, rather than skips, when the browser is missing: these tests run only when asked for
/// (`--include-ignored`), and then a missing browser must not pass unnoticed.
pub(crate) fn require_browser() {
    assert!(
        Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
        "{CHROMIUM} or {CHROMEDRIVER} is missing: run scripts/install-browser.sh"
    );
}

/// chromedriver, and the browser it starts, killed on drop: also when an assertion fails.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Self {
        let port = live::free_port();
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
                Ok(res) => res.json::<Value>().await.ok(),
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
            tokio::time::sleep(POLL).await;
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

/// A headless Chromium session with its chromedriver and profile directory (dropped in that
/// order: the session, the processes, then the profile they wrote to).
pub(crate) struct Browser {
    pub(crate) client: Client,
    _driver: Chromedriver,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and a session on a fresh profile, 1280 × 1600.
    pub(crate) async fn start() -> Self {
        let profile = TempDir::new("chromium-pages");
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
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let caps: fantoccini::wd::Capabilities = serde_json::from_value(caps).unwrap();
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&driver.url())
            .await
            .expect("start a Chromium session");
        Self {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Ends the session; the processes and the profile go when the rest is dropped.
    pub(crate) async fn close(self) {
        self.client.close().await.unwrap();
    }
}

/// Waits (bounded) until `css` matches an element, and returns it.
pub(crate) async fn wait_for(browser: &Client, css: &str) -> Element {
    browser
        .wait()
        .at_most(STEP)
        .every(POLL)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} within {STEP:?}: {e}"))
}

/// Waits (bounded) until `css` matches nothing.
pub(super) async fn wait_gone(browser: &Client, css: &str) {
    let deadline = Instant::now() + STEP;
    while browser
        .find_all(Locator::Css(css))
        .await
        .is_ok_and(|found| !found.is_empty())
    {
        assert!(Instant::now() < deadline, "{css} is still there");
        tokio::time::sleep(POLL).await;
    }
}

/// Waits (bounded) until the text of `css` satisfies `done`; returns that text.
pub(crate) async fn text_when(browser: &Client, css: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + STEP;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if done(&last) {
                return last;
            }
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("{css} never got there; last text: {last:?}");
}

/// Waits for `css` and clicks it.
pub(crate) async fn click(browser: &Client, css: &str) {
    wait_for(browser, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Waits for the field `css`, empties it and types `text`.
pub(super) async fn fill(browser: &Client, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field
        .clear()
        .await
        .unwrap_or_else(|e| panic!("clear {css}: {e}"));
    if !text.is_empty() {
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }
}

/// Chooses the option `value` of the select `css` (waiting for the option to exist).
pub(super) async fn choose(browser: &Client, css: &str, value: &str) {
    wait_for(browser, &format!("{css} option[value=\"{value}\"]")).await;
    wait_for(browser, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
}

/// The current value of the form field `css`.
pub(super) async fn value(browser: &Client, css: &str) -> String {
    wait_for(browser, css)
        .await
        .prop("value")
        .await
        .unwrap_or_else(|e| panic!("value of {css}: {e}"))
        .unwrap_or_default()
}

/// An attribute of the element `css`.
pub(super) async fn attr(browser: &Client, css: &str, name: &str) -> Option<String> {
    wait_for(browser, css)
        .await
        .attr(name)
        .await
        .unwrap_or_else(|e| panic!("{name} of {css}: {e}"))
}

/// The status of `fetch(path)` made by the page itself (with its cookies), for what the
/// browser cannot show: the status of a page.
pub(super) async fn page_status(browser: &Client, path: &str) -> u64 {
    const JS: &str = r#"
        const [path, done] = arguments;
        fetch(path).then((res) => done(res.status)).catch((err) => done(String(err)));
    "#;
    let out = browser
        .execute_async(JS, vec![json!(path)])
        .await
        .unwrap_or_else(|e| panic!("fetch {path}: {e}"));
    out.as_u64()
        .unwrap_or_else(|| panic!("fetch {path} failed in the page: {out}"))
}

/// Whether the page, at a phone-width window (375 px), lays out without sideways scrolling.
/// Restores the window afterwards.
pub(super) async fn fits_a_phone(browser: &Client) -> bool {
    browser.set_window_size(375, 900).await.unwrap();
    // A layout read forces the new width to apply before measuring.
    let widths = browser
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    browser.set_window_size(1280, 1600).await.unwrap();
    let inner = widths[0].as_u64().unwrap_or(0);
    let scroll = widths[1].as_u64().unwrap_or(u64::MAX);
    eprintln!("phone-width check: window {inner} px, content {scroll} px");
    scroll <= inner
}

/// Where the screenshots for README live: `docs/screenshots/` of the repository.
fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}

/// Scrolls to the top, takes a screenshot, checks it is not blank, and keeps it as
/// `docs/screenshots/<name>.png`.
pub(super) async fn screenshot(browser: &Client, name: &str) -> PathBuf {
    browser
        .execute(
            "window.scrollTo(0, 0); if (document.activeElement) document.activeElement.blur();",
            vec![],
        )
        .await
        .unwrap();
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank 1280 × 1600 page compresses to about 10 KB, and its compressed bytes take few
    // values; a page with text and tables is well over 40 KB of bytes of every value.
    assert!(png.len() > 40_000, "{name}: only {} bytes", png.len());
    let mut seen = [false; 256];
    for b in &png {
        seen[*b as usize] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    assert!(
        distinct > 200,
        "{name}: only {distinct} distinct byte values"
    );
    let dir = screenshots_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, &png).unwrap();
    path
}
