//! Bad input on every new endpoint: a 4xx JSON error, never a 500.

use super::*;

// --- Bad input on every new endpoint ----------------------------------------------------------

/// A path, its extra headers, a body with a wrong type, and the fields that must be named.
type WrongType<'a> = (&'a str, Vec<(&'a str, &'a str)>, Value, &'a [&'a str]);

#[tokio::test]
async fn bad_bodies_on_the_new_endpoints_are_400_never_500() {
    let settings = Settings {
        signup_open: true,
        remote_user_header: Some("x-remote-user".into()),
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        // Enough budget that no 429 hides an answer.
        login_rate_per_ip: "1000/m".parse().unwrap(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let alice = app.user_with_login("alice", "web").await;
    let bearer = format!("Bearer {}", alice.token);
    let basic_auth = basic(&format!("alice:{PASSWORD}"));
    let endpoints: [(&str, Vec<(&str, &str)>); 5] = [
        (SIGNUP, vec![]),
        (REMOTE, vec![("x-remote-user", "alice")]),
        (
            "/api/auth/login",
            vec![("authorization", basic_auth.as_str())],
        ),
        (REAUTH, vec![("authorization", bearer.as_str())]),
        (PASSWORD_PATH, vec![("authorization", bearer.as_str())]),
    ];
    for (path, headers) in &endpoints {
        for body in ["[]", "[1, 2]", "\"x\"", "3", "null", "true"] {
            let res = app
                .send(post_request(path, "application/json", body, headers))
                .await;
            assert_eq!(
                res.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {:?}",
                res.json
            );
            assert_eq!(
                res.code(),
                "validation_error",
                "{path} {body}: {:?}",
                res.json
            );
            assert!(
                res.json["fields"]["non_field_errors"].is_array(),
                "{path} {body}: {:?}",
                res.json
            );
        }
        for body in ["{\"client\": ", "", "{]"] {
            let res = app
                .send(post_request(path, "application/json", body, headers))
                .await;
            assert_eq!(
                res.status,
                StatusCode::BAD_REQUEST,
                "{path} {body:?}: {:?}",
                res.json
            );
            assert_eq!(
                res.code(),
                "invalid_json",
                "{path} {body:?}: {:?}",
                res.json
            );
        }
    }

    let wrong_types: [WrongType; 8] = [
        (
            SIGNUP,
            vec![],
            json!({"username": 5, "password": PASSWORD}),
            &["username"],
        ),
        (
            SIGNUP,
            vec![],
            json!({"username": "a\u{0}b", "password": PASSWORD}),
            &["username"],
        ),
        (
            REMOTE,
            vec![("x-remote-user", "alice")],
            json!({"client": 5}),
            &["client"],
        ),
        (
            REMOTE,
            vec![("x-remote-user", "alice")],
            json!({"client": "cli", "device_name": 7}),
            &["device_name"],
        ),
        (
            "/api/auth/login",
            vec![("authorization", basic_auth.as_str())],
            json!({"client": 5}),
            &["client"],
        ),
        (
            REAUTH,
            vec![("authorization", bearer.as_str())],
            json!({"password": 5}),
            &["password"],
        ),
        (
            REAUTH,
            vec![("authorization", bearer.as_str())],
            json!({"password": null}),
            &["password"],
        ),
        (
            PASSWORD_PATH,
            vec![("authorization", bearer.as_str())],
            json!({"current_password": PASSWORD, "new_password": false}),
            &["new_password"],
        ),
    ];
    for (path, headers, body, fields) in &wrong_types {
        let res = app.send(json_request(path, body, headers)).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {:?}",
            res.json
        );
        assert_validation(&res, fields);
    }
    // Nothing of that changed alice's password or session.
    assert_eq!(app.get(ME, &alice.token).await.status, StatusCode::OK);
    let res = login_with_password(&app, "alice", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
}
