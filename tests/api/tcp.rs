//! Over real TCP: the server as a process would run it, with graceful shutdown.

use serde_json::{Value, json};
use std::net::SocketAddr;

#[tokio::test]
async fn serves_over_tcp_and_drains_on_shutdown() {
    let state = crate::live::state_with_user("tcp").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let app = server::app(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .await
    });
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
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
    let me = http
        .get(format!("{base}/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_example_client_drives_a_device_lifecycle() {
    let state = crate::live::state_with_user("lib").await;
    let base = crate::live::serve(state).await;
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
