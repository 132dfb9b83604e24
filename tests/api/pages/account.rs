//! The account page in headless Chromium: a person signs in, sees a session made elsewhere and
//! signs it out, signs out every other device, creates an API key (its token shown once) and
//! deletes it, changes the password, reads the activity, and lands back on the sign-in form with
//! a sentence when the session is ended elsewhere.

use super::driver::{self, Browser, click, fill, text_when, value, wait_for, wait_gone};
use super::http::Api;
use super::{live_for_browser, sign_in, unnamed_controls};
use std::time::Instant;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Ignored by default (it needs Chromium); CI runs it with `--include-ignored`.
#[tokio::test]
#[ignore = "needs Chromium and chromedriver (scripts/install-browser.sh); run with --include-ignored"]
async fn a_person_manages_sessions_keys_and_password_on_the_account_page() {
    driver::require_browser();
    let started = Instant::now();
    let live = live_for_browser("pat").await;
    let api = Api::new(&live.base);
    let chromium = Browser::start().await;
    let browser = &chromium.client;

    // No cookie yet: the page answers with its sign-in form.
    browser
        .goto(&format!("{}/account", live.base))
        .await
        .unwrap();
    sign_in(browser, "pat", tests::PASSWORD).await;
    wait_for(browser, "#account-view:not([hidden])").await;
    wait_for(browser, "#sessions-table tr.current[data-session-id]").await;
    text_when(browser, "#identity-username", |t| t == "pat").await;
    let this_device = text_when(browser, "#sessions-table tr.current", |t| {
        t.contains("This device")
    })
    .await;
    assert!(this_device.contains("browser"), "{this_device}");

    // A session made by an app (the API, on `cli`) is listed after a reload…
    let (phone, phone_id) = api.token("pat", tests::PASSWORD, "cli").await;
    browser.refresh().await.unwrap();
    let row = format!("#sessions-table tr[data-session-id=\"{phone_id}\"]");
    let listed = text_when(browser, &row, |t| t.contains("cli")).await;
    assert!(!listed.contains("This device"), "{listed}");
    // …and "Sign out" on it ends it: its next request is refused.
    click(browser, &format!("{row} .session-signout")).await;
    wait_gone(browser, &row).await;
    assert_eq!(
        api.me(&phone).await,
        401,
        "the signed-out session still works"
    );

    // "Sign out all other devices" ends the others, not this one.
    let (tablet, _) = api.token("pat", tests::PASSWORD, "cli").await;
    let (laptop, _) = api.token("pat", tests::PASSWORD, "web").await;
    click(browser, "#signout-others").await;
    text_when(browser, "#sessions-status", |t| {
        t.contains("Signed out 2 other devices")
    })
    .await;
    assert_eq!(api.me(&tablet).await, 401);
    assert_eq!(api.me(&laptop).await, 401);
    wait_for(browser, "#sessions-table tr.current").await;

    // An API key with a name and a scope: its token is shown once, and works.
    fill(browser, "#apikey-name", "nightly-report").await;
    fill(browser, "#apikey-scopes", "reports:read").await;
    driver::choose(browser, "#apikey-expiry", "2592000").await;
    click(browser, "#apikey-create").await;
    wait_for(browser, "#apikey-new:not([hidden])").await;
    let token = value(browser, "#apikey-token").await;
    assert!(token.starts_with("tsk_") && token.len() == 42, "{token:?}");
    assert_eq!(
        driver::attr(browser, "#apikey-token", "readonly")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(api.me(&token).await, 200, "the new key does not work");
    let key_row = text_when(browser, "#apikeys-table tr[data-key-id]", |t| {
        t.contains("nightly-report")
    })
    .await;
    assert!(key_row.contains("reports:read"), "{key_row}");
    assert!(!key_row.contains(&token), "the list shows the token");
    click(browser, "#apikey-copy").await;
    text_when(browser, "#apikey-copy-status", |t| !t.is_empty()).await;
    let key_id = driver::attr(browser, "#apikeys-table tr[data-key-id]", "data-key-id")
        .await
        .unwrap();
    // Shown once: a reload no longer has it anywhere.
    browser.refresh().await.unwrap();
    wait_for(
        browser,
        &format!("#apikeys-table tr[data-key-id=\"{key_id}\"]"),
    )
    .await;
    assert_eq!(value(browser, "#apikey-token").await, "");
    assert!(!browser.source().await.unwrap().contains(&token));

    // Deleting it takes a confirmation, then the key stops working.
    let key_row = format!("#apikeys-table tr[data-key-id=\"{key_id}\"]");
    click(browser, &format!("{key_row} .apikey-delete")).await;
    assert_eq!(api.me(&token).await, 200, "deleted before it was confirmed");
    click(browser, &format!("{key_row} .confirm-yes")).await;
    wait_gone(browser, &key_row).await;
    assert_eq!(api.me(&token).await, 401);

    // A wrong current password is shown beside that field; then the change goes through.
    fill(browser, "#password-current", "not my password").await;
    fill(browser, "#password-new", NEW_PASSWORD).await;
    fill(browser, "#password-confirm", NEW_PASSWORD).await;
    click(browser, "#password-submit").await;
    text_when(browser, "#password-current-error", |t| t.contains("wrong")).await;
    fill(browser, "#password-current", tests::PASSWORD).await;
    fill(browser, "#password-new", NEW_PASSWORD).await;
    fill(browser, "#password-confirm", NEW_PASSWORD).await;
    click(browser, "#password-submit").await;
    text_when(browser, "#password-status", |t| {
        t.contains("Password changed")
    })
    .await;
    let (status, body) = api.login("pat", tests::PASSWORD, "cli").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_credentials")),
        "{body}"
    );
    let (new_login, _) = api.token("pat", NEW_PASSWORD, "cli").await;

    // The activity list shows what happened.
    for kind in [
        "session.revoked",
        "apikey.created",
        "apikey.deleted",
        "password.changed",
    ] {
        wait_for(browser, &format!("#events-table tr[data-type=\"{kind}\"]")).await;
    }
    let unnamed = unnamed_controls(browser).await;
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:#?}");
    assert!(
        driver::fits_a_phone(browser).await,
        "the page scrolls sideways at 375 px"
    );
    click(browser, "#sessions-refresh").await;
    wait_for(browser, "#sessions-table tr.current").await;
    let shot = driver::screenshot(browser, "account").await;

    // Ended elsewhere ("log out everywhere" from the app): the next action of the page lands on
    // the sign-in form, which says why.
    let (status, _) = api
        .call(reqwest::Method::POST, "/api/auth/logoutall", &new_login)
        .await;
    assert_eq!(status, 204);
    click(browser, "#sessions-refresh").await;
    wait_for(browser, "#signin:not([hidden])").await;
    text_when(browser, "#signin-reason", |t| {
        t.contains("Your session has ended")
    })
    .await;
    assert_eq!(
        driver::attr(browser, "#account-view", "hidden")
            .await
            .as_deref(),
        Some("true")
    );

    chromium.close().await;
    eprintln!(
        "account page browser test ran in {:.1} s; screenshot {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
}
