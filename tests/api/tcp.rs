//! Over real TCP, started as the binary starts it: queued uses written on shutdown.

use serde_json::{Value, json};
use server::clock::ManualClock;
use std::sync::Arc;

#[tokio::test]
async fn serves_over_tcp_and_writes_queued_uses_on_shutdown() {
    let clock = ManualClock::new();
    let mut live = crate::live::start_on(
        "tcp",
        &["--purge-interval", "3600"],
        Arc::new(clock.clone()),
    )
    .await;
    let http = reqwest::Client::new();
    let base = live.base.clone();
    let login: Value = http
        .post(format!("{base}/api/auth/login/"))
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        )
        .json(&json!({"username": "tcp", "password": tests::PASSWORD, "client": "web"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["session"]["device_name"], "Firefox 132 on Linux");
    assert_eq!(login["session"]["ip"], "127.0.0.1");
    let token = login["token"].as_str().unwrap();
    let session_id = login["session"]["id"].as_str().unwrap().to_string();
    // A minute later, a use is due to be recorded: it is queued, not written on the request.
    clock.advance_secs(61.0);
    let me = http
        .get(format!("{base}//api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    assert!(me.headers().contains_key("x-request-id"));
    let used_at = live.state.now();
    live.stop().await.unwrap();
    assert_eq!(
        live.stored_last_used(&session_id).await,
        used_at,
        "the queued use was written at shutdown"
    );
}

#[tokio::test]
async fn the_example_client_drives_a_device_lifecycle() {
    let live = crate::live::start("lib").await;
    let base = live.base.clone();
    let mut laptop = example_client::Client::new(&base);
    let mut phone = example_client::Client::new(&base);
    laptop
        .login("lib", tests::PASSWORD, "cli", Some("laptop"))
        .await
        .unwrap();
    let phone_login = phone
        .login("lib", tests::PASSWORD, "mobile", Some("phone"))
        .await
        .unwrap();
    assert_eq!(laptop.me().await.unwrap().session.device_name, "laptop");
    let sessions = laptop.sessions().await.unwrap();
    assert_eq!(sessions.len(), 2);
    laptop.revoke(&phone_login.session.id).await.unwrap();
    let err = phone.me().await.unwrap_err();
    assert!(err.needs_login(), "{err}");
    assert!(matches!(&err, example_client::Error::Api { code, .. } if code == "invalid_token"));
    assert!(laptop.refresh().await.unwrap().is_some());
    laptop.logout().await.unwrap();
    assert!(laptop.token().is_none());
    let err = example_client::Client::new(&base)
        .with_token("tss_bogus")
        .me()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        example_client::Error::Api { status: 401, .. }
    ));
}
