//! Nobody can lock a person out of login by guessing their password (docs/concepts.md,
//! "Budgets"): only failures spend the username's budget, and a device that logged in before
//! proves it and spends a budget of its own.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tests::{TestApp, TestResponse};

fn login_request(username: &str, password: &str, proof: Option<&str>) -> Request<Body> {
    let mut body = json!({"username": username, "password": password, "client": "web"});
    if let Some(proof) = proof {
        body["device_proof"] = Value::from(proof);
    }
    Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn login_from(
    app: &TestApp,
    peer: &str,
    username: &str,
    password: &str,
    proof: Option<&str>,
) -> TestResponse {
    let peer: SocketAddr = peer.parse().unwrap();
    app.send_from(login_request(username, password, proof), peer)
        .await
}

#[tokio::test]
async fn guessing_elsewhere_cannot_lock_out_a_known_device() {
    let app = TestApp::new().await;
    app.create_user("alice", true).await;
    app.create_user("bob", false).await;
    let home = "192.0.2.10:5000";
    // Alice's laptop logged in once and kept its proof.
    let first = login_from(&app, home, "alice", tests::PASSWORD, None).await;
    assert_eq!(first.status, StatusCode::OK);
    let proof = first.json["device_proof"].as_str().unwrap().to_string();
    let bob_proof = login_from(&app, home, "bob", tests::PASSWORD, None)
        .await
        .json["device_proof"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone guesses alice's password from elsewhere until her username is refused.
    let attacker = "198.51.100.7:6000";
    for _ in 0..10 {
        let res = login_from(&app, attacker, "alice", "guess guess", None).await;
        assert_eq!(res.code(), "invalid_credentials");
    }
    let res = login_from(&app, attacker, "alice", "guess guess", None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);

    // Her laptop, with its proof, still gets in, from another address.
    let res = login_from(&app, home, "alice", tests::PASSWORD, Some(&proof)).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    // Without a proof, or with a forged one, or with bob's, the username's budget applies.
    let res = login_from(&app, home, "alice", tests::PASSWORD, None).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let forged = format!("{}x", &proof[..proof.len() - 1]);
    let res = login_from(&app, home, "alice", tests::PASSWORD, Some(&forged)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let res = login_from(&app, home, "alice", tests::PASSWORD, Some(&bob_proof)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let res = login_from(&app, home, "alice", tests::PASSWORD, Some("not a proof")).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);

    // The attacker holding no proof of hers cannot use the laptop's budget either, and wrong
    // passwords with her proof spend the proof's own budget only.
    for _ in 0..10 {
        let res = login_from(&app, home, "alice", "guess guess", Some(&proof)).await;
        assert_eq!(res.code(), "invalid_credentials");
    }
    let res = login_from(&app, home, "alice", tests::PASSWORD, Some(&proof)).await;
    assert_eq!(
        res.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the proof's budget is spent too"
    );
}
