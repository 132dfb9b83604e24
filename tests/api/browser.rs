//! Tessera in a real browser: headless Chromium, driven through chromedriver, against a live
//! server ([`crate::live`]).
//!
//! - Swagger UI (docs/operations.md) authorizes with a token from login and runs
//!   `GET /api/auth/sessions` live from `/docs/`.
//! - A page of the server's own origin signs in on the cookie client `browser` with `fetch`, as
//!   a single-page app would (README "Browser apps"): the token lives only in an HttpOnly cookie,
//!   unsafe requests need the `X-CSRF-Token`, and Chromium's own `Origin` header must match
//!   `TESSERA_PUBLIC_URL`.
//!
//! Both are ignored by default; run with `--include-ignored`, where a missing Chromium or
//! chromedriver fails the run (`scripts/install-browser.sh` installs both).

use crate::live;
use crate::pages::driver::{Browser, STEP, click, require_browser, text_when};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::Instant;

/// What a `fetch` made by the page got: the status, and the body parsed as JSON (`null` when
/// empty, as for a 204).
struct Answer {
    status: u16,
    body: Value,
}

/// Runs `fetch(path, init)` in the page, as the page's own script would: the browser adds the
/// cookies (`credentials` defaults to same-origin) and, on unsafe methods, its `Origin` header,
/// by itself. `init` is the fetch options object (`{"method": "DELETE", "headers": {…}}`).
async fn fetch(browser: &Client, path: &str, init: Value) -> Answer {
    // execute_async hands the script a callback as its last argument; the script's own
    // failures come back as `error` rather than as a WebDriver timeout.
    const JS: &str = r#"
        const [path, init, done] = arguments;
        fetch(path, init)
            .then(async (res) => done({ status: res.status, text: await res.text() }))
            .catch((err) => done({ error: String(err) }));
    "#;
    let out = browser
        .execute_async(JS, vec![json!(path), init])
        .await
        .unwrap_or_else(|e| panic!("fetch {path}: {e}"));
    if let Some(error) = out.get("error") {
        panic!("fetch {path} failed in the page: {error}");
    }
    let status = out["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("fetch {path}: no status in {out}"));
    let text = out["text"].as_str().unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("fetch {path}: {e}: {text}"))
    };
    Answer { status, body }
}

/// Ignored by default (it needs Chromium); CI installs the browser (`scripts/install-browser.sh`)
/// and runs it with `--include-ignored`, where a missing browser is a failure, not a skip.
#[tokio::test]
#[ignore = "needs Chromium and chromedriver (scripts/install-browser.sh); run with --include-ignored"]
async fn swagger_ui_authorizes_and_lists_sessions_live() {
    require_browser();
    let started = Instant::now();
    let live = live::start("docs").await;
    let base = live.base.clone();
    let mut api = example_client::Client::new(&base);
    let login = api
        .login("docs", tests::PASSWORD, "web", Some("swagger"))
        .await
        .unwrap();

    let chromium = Browser::start().await;
    let browser = &chromium.client;

    browser.goto(&format!("{base}/docs/")).await.unwrap();
    click(browser, "button.btn.authorize").await;
    let field = browser
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(".modal-ux input"))
        .await
        .unwrap();
    field.send_keys(&login.token).await.unwrap();
    click(browser, ".modal-ux button.modal-btn.auth.authorize").await;
    // Once authorized the dialog offers "Logout"; then close it.
    text_when(browser, ".modal-ux .auth-container", |t| {
        t.contains("Logout")
    })
    .await;
    click(browser, ".modal-ux button.btn-done").await;

    let op = "#operations-sessions-list_sessions";
    click(browser, &format!("{op} .opblock-summary-control")).await;
    click(browser, &format!("{op} button.try-out__btn")).await;
    click(browser, &format!("{op} button.execute")).await;
    let table = format!("{op} .live-responses-table tr.response");
    let status = text_when(browser, &format!("{table} .response-col_status"), |t| {
        !t.trim().is_empty()
    })
    .await;
    assert_eq!(status.trim(), "200");
    let body = text_when(
        browser,
        &format!("{table} .response-col_description"),
        |t| t.contains(&login.session.id),
    )
    .await;
    assert!(body.contains("\"is_current\": true"), "{body}");
    // The request really carried the token the dialog took.
    let curl = text_when(browser, &format!("{op} .curl-command"), |t| !t.is_empty()).await;
    assert!(curl.contains(&format!("Bearer {}", login.token)), "{curl}");

    chromium.close().await;
    eprintln!(
        "browser test ran in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The single-page-app flow of the README's "Browser apps", run by Chromium itself, so the
/// browser's own rules are under test: it stores the HttpOnly cookie, hides it from scripts,
/// sends it back on same-origin requests, and adds `Origin` to unsafe ones.
#[tokio::test]
#[ignore = "needs Chromium and chromedriver (scripts/install-browser.sh); run with --include-ignored"]
async fn a_same_origin_page_signs_in_with_the_cookie_and_csrf_token() {
    require_browser();
    // Chromium sends `Origin: http://127.0.0.1:<port>` on POST and DELETE, and Tessera refuses
    // a cookie request whose Origin is not TESSERA_PUBLIC_URL: so the port is chosen first and
    // the URL configured to match it exactly. Plain HTTP: no `Secure`, so the cookie is
    // `tessera`, not `__Host-tessera`.
    let port = live::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let live = live::start_with(
        "pat",
        &[
            "--bind",
            &bind,
            "--public-url",
            &origin,
            "--cookie-secure",
            "false",
        ],
    )
    .await;
    assert_eq!(live.base, origin);
    // Pat's phone, on a bearer token: the other device "sign out all other devices" must end,
    // and must not end while the CSRF token is missing.
    let mut phone = example_client::Client::new(&live.base);
    phone
        .login("pat", tests::PASSWORD, "mobile", Some("phone"))
        .await
        .unwrap();

    let chromium = Browser::start().await;
    let browser = &chromium.client;
    // Any page of the server's own origin will do; Swagger UI is one Tessera serves itself.
    browser.goto(&format!("{origin}/docs/")).await.unwrap();

    let credentials = json!({"username": "pat", "password": tests::PASSWORD, "client": "browser"});
    let login = fetch(
        browser,
        "/api/auth/login",
        json!({
            "method": "POST",
            "headers": {"content-type": "application/json"},
            "body": credentials.to_string(),
        }),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let csrf = login.body["csrf_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no csrf_token: {}", login.body))
        .to_string();
    // The token is never handed to scripts: not in the body…
    assert!(login.body.get("token").is_none(), "{}", login.body);
    assert!(login.body.get("device_proof").is_none(), "{}", login.body);
    assert_eq!(login.body["session"]["client"], "browser");
    assert_eq!(login.body["user"]["username"], "pat");
    // …and not in document.cookie, although the browser holds it (WebDriver sees HttpOnly
    // cookies; scripts do not).
    let visible = browser
        .execute("return document.cookie;", vec![])
        .await
        .unwrap();
    let visible = visible.as_str().unwrap_or_default();
    assert!(!visible.contains("tessera="), "{visible}");
    let cookie = browser
        .get_named_cookie("tessera")
        .await
        .expect("the session cookie is set");
    assert!(cookie.value().starts_with("tss_"), "{}", cookie.value());
    assert!(!login.body.to_string().contains(cookie.value()));
    assert_eq!(cookie.http_only(), Some(true));
    assert_ne!(
        cookie.secure(),
        Some(true),
        "--cookie-secure false drops Secure"
    );
    assert_eq!(
        cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Lax")
    );

    // Safe methods need only the cookie.
    let me = fetch(browser, "/api/auth/me", json!({})).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["user"]["username"], "pat");
    assert_eq!(me.body["session"]["id"], login.body["session"]["id"]);

    // An unsafe method without the CSRF token is what a forged cross-site request looks like:
    // refused, and nothing ended.
    let forged = fetch(browser, "/api/auth/sessions", json!({"method": "DELETE"})).await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(forged.body["code"], "csrf_failed");
    phone.me().await.expect("a refused request ended nothing");

    // With the token (and the Origin Chromium adds, equal to TESSERA_PUBLIC_URL) it goes
    // through: the phone is signed out.
    let signed_out = fetch(
        browser,
        "/api/auth/sessions",
        json!({"method": "DELETE", "headers": {"X-CSRF-Token": csrf}}),
    )
    .await;
    assert_eq!(signed_out.status, 200, "{}", signed_out.body);
    assert_eq!(signed_out.body["revoked"], 1);
    let ended = phone.me().await.unwrap_err();
    assert_eq!(ended.code(), Some("invalid_token"), "{ended:?}");

    // A reload loses the page's variables but not the cookie: GET /api/auth/csrf gives the
    // same token back (it is derived from the session, not stored).
    browser.refresh().await.unwrap();
    let reread = fetch(browser, "/api/auth/csrf", json!({})).await;
    assert_eq!(reread.status, 200, "{}", reread.body);
    assert_eq!(reread.body["csrf_token"], csrf.as_str());

    // Logout is unsafe too; it ends the session and clears the cookie, so the next request
    // carries no credential at all.
    let logout = fetch(
        browser,
        "/api/auth/logout",
        json!({"method": "POST", "headers": {"X-CSRF-Token": csrf}}),
    )
    .await;
    assert_eq!(logout.status, 204, "{}", logout.body);
    assert!(
        browser.get_named_cookie("tessera").await.is_err(),
        "logout clears the cookie"
    );
    let after = fetch(browser, "/api/auth/me", json!({})).await;
    assert_eq!(after.status, 401, "{}", after.body);
    assert_eq!(after.body["code"], "not_authenticated");

    chromium.close().await;
}
