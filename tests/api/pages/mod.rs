//! The account page and the admin console (SPEC §4.7; README "For people", "Admin console").
//!
//! - `served`: in process, no browser: each page and asset answers with the CSP and its content
//!   type, the HTML keeps the rules of [`html`] (no inline script or style, labelled controls,
//!   captioned tables), unknown assets are the JSON 404, a non-admin's cookie gets the 403 page.
//! - `account` and `admin`: headless Chromium through chromedriver against a live server, as
//!   `crate::browser` runs Swagger UI; ignored by default, run with `--include-ignored`, where a
//!   missing Chromium fails the run. They keep the screenshots README shows
//!   (`docs/screenshots/account.png`, `docs/screenshots/admin.png`).

mod account;
mod admin;
pub(crate) mod driver;
mod html;
mod http;
mod served;

use crate::live::{self, Live};

/// The policy every page and asset carries.
const CSP: &str = "default-src 'self'; frame-ancestors 'none'";
const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The pages and the content type each answers with.
const PAGES: &[(&str, &str)] = &[("/account", HTML), ("/admin", HTML)];
/// Every asset the pages load.
const ASSETS: &[(&str, &str)] = &[
    ("/assets/tessera.css", CSS),
    ("/assets/api.js", JS),
    ("/assets/account.js", JS),
    ("/assets/admin.js", JS),
];

/// The bootstrap admin of the live servers.
const ADMIN: &str = "root";

/// A live server for a browser: on a port chosen first, with `TESSERA_PUBLIC_URL` equal to the
/// origin Chromium will send (a cookie request from any other origin is refused), plain HTTP (so
/// the cookie is `tessera`, without `Secure`), the bootstrap admin `root`, and the user
/// `username`; everyone's password is [`tests::PASSWORD`].
async fn live_for_browser(username: &str) -> Live {
    let port = live::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let bootstrap = format!("{ADMIN}:{}", tests::PASSWORD);
    let live = live::start_with(
        username,
        &[
            "--bind",
            &bind,
            "--public-url",
            &origin,
            "--cookie-secure",
            "false",
            "--bootstrap-admin",
            &bootstrap,
        ],
    )
    .await;
    assert_eq!(live.base, origin);
    live
}

/// Signs in on the page's form (the page must be showing it).
async fn sign_in(browser: &fantoccini::Client, username: &str, password: &str) {
    driver::wait_for(browser, "#signin:not([hidden])").await;
    driver::fill(browser, "#signin-username", username).await;
    driver::fill(browser, "#signin-password", password).await;
    driver::click(browser, "#signin-submit").await;
}

/// Form controls and buttons of the rendered page (the rows the scripts built included) that a
/// screen reader could not name: no `<label>`, no `aria-label`, no text.
async fn unnamed_controls(browser: &fantoccini::Client) -> Vec<String> {
    const SCRIPT: &str = r#"
        return [...document.querySelectorAll('input, select, textarea, button')]
            .filter((e) => e.type !== 'hidden')
            .filter((e) => e.tagName === 'BUTTON'
                ? !(e.textContent.trim() || e.getAttribute('aria-label'))
                : !((e.labels && e.labels.length) || e.getAttribute('aria-label')))
            .map((e) => e.outerHTML.slice(0, 160));
    "#;
    let found = browser.execute(SCRIPT, vec![]).await.unwrap();
    serde_json::from_value(found).unwrap()
}
