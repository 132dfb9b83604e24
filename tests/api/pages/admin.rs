//! The admin console in headless Chromium: the bootstrap admin signs in, creates a client with
//! a policy and a user, deactivates the user (their token stops working), sets a throttle
//! override, runs a bulk revocation through its confirmation step, and rotates the signing
//! keys; then a non-admin who signs in gets the 403 message, and the page itself is a 403 for
//! their cookie.

use super::driver::{self, Browser, choose, click, fill, text_when, wait_for, wait_gone};
use super::http::Api;
use super::{ADMIN, live_for_browser, sign_in, unnamed_controls};
use reqwest::Method;
use std::time::Instant;

/// Ignored by default (it needs Chromium); CI runs it with `--include-ignored`.
#[tokio::test]
#[ignore = "needs Chromium and chromedriver (scripts/install-browser.sh); run with --include-ignored"]
async fn an_admin_runs_tessera_from_the_console_and_others_get_403() {
    driver::require_browser();
    let started = Instant::now();
    let live = live_for_browser("pat").await;
    let api = Api::new(&live.base);
    let (admin, _) = api.token(ADMIN, tests::PASSWORD, "web").await;
    let chromium = Browser::start().await;
    let browser = &chromium.client;

    browser.goto(&format!("{}/admin", live.base)).await.unwrap();
    sign_in(browser, ADMIN, tests::PASSWORD).await;
    wait_for(browser, "#console:not([hidden])").await;
    wait_for(browser, "#users-table tr[data-user-id]").await;
    wait_for(browser, "#clients-table tr[data-client-name=\"browser\"]").await;

    // A client with a policy. A value the API refuses is shown beside its field first.
    fill(browser, "#client-name", "kiosk").await;
    fill(browser, "#client-token-ttl", "3600").await;
    fill(browser, "#client-idle-timeout", "60").await;
    fill(browser, "#client-max-sessions", "2").await;
    click(browser, "#client-submit").await;
    text_when(browser, "#client-idle-timeout-error", |t| t.contains("300")).await;
    fill(browser, "#client-idle-timeout", "").await;
    click(browser, "#client-submit").await;
    wait_for(browser, "#clients-table tr[data-client-name=\"kiosk\"]").await;
    let (status, kiosk) = api
        .call(Method::GET, "/api/admin/clients/kiosk", &admin)
        .await;
    assert_eq!(status, 200, "{kiosk}");
    assert_eq!(kiosk["token_ttl"], 3600);
    assert_eq!(kiosk["max_sessions"], 2);
    assert_eq!(kiosk["idle_timeout"], serde_json::Value::Null);

    // A user, who signs in from an app; deactivating them (with its confirmation) ends that.
    fill(browser, "#new-user-username", "dana").await;
    fill(browser, "#new-user-password", tests::PASSWORD).await;
    click(browser, "#user-create").await;
    text_when(browser, "#users-status", |t| {
        t.contains("Created user dana")
    })
    .await;
    let (status, users) = api
        .call(Method::GET, "/api/admin/users?q=dana", &admin)
        .await;
    assert_eq!(status, 200, "{users}");
    let dana_id = users[0]["id"].as_i64().expect("dana exists");
    let (dana, _) = api.token("dana", tests::PASSWORD, "cli").await;
    assert_eq!(api.me(&dana).await, 200);
    let row = format!("#users-table tr[data-user-id=\"{dana_id}\"]");
    click(browser, &format!("{row} .user-toggle-active")).await;
    click(browser, &format!("{row} .confirm-yes")).await;
    wait_for(browser, &format!("{row}[data-active=\"false\"]")).await;
    assert_eq!(
        api.me(&dana).await,
        401,
        "a deactivated user's token still works"
    );

    // A throttle override for dana on cli.
    click(browser, &format!("{row} .user-manage")).await;
    wait_for(browser, "#user-detail:not([hidden])").await;
    choose(browser, "#throttle-client", "cli").await;
    fill(browser, "#throttle-rate", "5/m").await;
    click(browser, "#throttle-submit").await;
    wait_for(browser, "#throttles-table tr[data-client-name=\"cli\"]").await;
    let path = format!("/api/admin/users/{dana_id}/throttles");
    let (_, throttles) = api.call(Method::GET, &path, &admin).await;
    assert_eq!(
        throttles,
        serde_json::json!([{"client": "cli", "rate": "5/m"}])
    );

    // Bulk revocation of the kiosk client: nothing happens until it is confirmed.
    let (kiosk_a, _) = api.token("pat", tests::PASSWORD, "kiosk").await;
    let (kiosk_b, _) = api.token("pat", tests::PASSWORD, "kiosk").await;
    let (elsewhere, _) = api.token("pat", tests::PASSWORD, "cli").await;
    choose(browser, "#revocation-client", "kiosk").await;
    text_when(browser, "#revocation-summary", |t| t.contains("kiosk")).await;
    click(browser, "#revocation-submit").await;
    text_when(browser, "#revocation-confirm-error", |t| {
        t.contains("confirm")
    })
    .await;
    assert_eq!(api.me(&kiosk_a).await, 200, "revoked without confirmation");
    click(browser, "#revocation-confirm").await;
    click(browser, "#revocation-submit").await;
    text_when(browser, "#revocation-result", |t| {
        t.contains("Ended 2 sessions")
    })
    .await;
    assert_eq!(api.me(&kiosk_a).await, 401);
    assert_eq!(api.me(&kiosk_b).await, 401);
    assert_eq!(
        api.me(&elsewhere).await,
        200,
        "a session on another client ended"
    );

    // Rotating the signing keys retires the current one.
    click(browser, "#keys-rotate").await;
    wait_for(browser, "#keys-table tr[data-state=\"retired\"]").await;
    let (_, keys) = api.call(Method::GET, "/api/admin/keys", &admin).await;
    let states: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"retired") && states.contains(&"current"),
        "{states:?}"
    );

    // The events of all this, filtered by type.
    choose(browser, "#events-type", "revocation.bulk").await;
    click(browser, "#events-filter").await;
    wait_for(
        browser,
        "#admin-events-table tr[data-type=\"revocation.bulk\"]",
    )
    .await;
    wait_gone(
        browser,
        "#admin-events-table tr[data-type=\"keys.rotated\"]",
    )
    .await;

    let unnamed = unnamed_controls(browser).await;
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:#?}");
    assert!(
        driver::fits_a_phone(browser).await,
        "the console scrolls sideways at 375 px"
    );
    click(browser, "#user-detail-close").await;
    let shot = driver::screenshot(browser, "admin").await;

    // A non-admin signing in on the console sees the 403 message…
    click(browser, "#signout").await;
    sign_in(browser, "pat", tests::PASSWORD).await;
    wait_for(browser, "#forbidden:not([hidden])").await;
    text_when(browser, "#forbidden", |t| {
        t.contains("403") && t.contains("pat")
    })
    .await;
    assert_eq!(
        driver::attr(browser, "#console", "hidden").await.as_deref(),
        Some("true")
    );
    // …and with their cookie the page itself is the 403 page.
    assert_eq!(driver::page_status(browser, "/admin").await, 403);
    browser.refresh().await.unwrap();
    text_when(browser, "#forbidden-heading", |t| {
        t.contains("This console is for admins")
    })
    .await;
    assert_eq!(
        browser.title().await.unwrap(),
        "403 · Admins only · Tessera"
    );

    chromium.close().await;
    eprintln!(
        "admin console browser test ran in {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
}
