//! Admin API for clients and users (docs/endpoints.md).

use axum::http::{Method, StatusCode};
use serde_json::json;
use tests::TestApp;

#[tokio::test]
async fn non_admins_get_403_without_a_challenge() {
    let app = TestApp::new().await;
    let user = app.user_with_login("sam", "web").await;
    for path in [
        "/api/admin/clients",
        "/api/admin/users",
        "/api/admin/users/1/sessions",
        "/api/admin/users/1/throttles",
    ] {
        let res = app.get(path, &user.token).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::FORBIDDEN, "permission_denied"),
            "{path}"
        );
        assert_eq!(res.header("www-authenticate"), "");
    }
    let res = app
        .post(
            "/api/admin/users",
            Some(&user.token),
            json!({"username": "x", "password": "12345678"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.call(Method::GET, "/api/admin/users", None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "401 comes before 403");
}

#[tokio::test]
async fn clients_crud() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let list = app.get("/api/admin/clients", &admin.token).await;
    let names: Vec<&str> = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "browser", "cli", "mobile", "web"]);
    let api = list
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "api")
        .unwrap();
    assert!(api["token_ttl"].is_null());

    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "ios"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let mut expected = json!({"name": "ios", "description": "", "token_ttl": 86400, "max_lifetime": null,
        "throttle_rate": null, "max_sessions": null, "auto_renew": false, "idle_timeout": null,
        "transport": "bearer", "rotate_on_refresh": false});
    expected["created"] = res.json["created"].clone();
    assert_eq!(res.json, expected);

    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "ios"}),
        )
        .await;
    assert_eq!((res.status, res.code()), (StatusCode::CONFLICT, "conflict"));

    let patch = json!({"description": "iPhone app", "throttle_rate": "100/m", "max_sessions": 3, "token_ttl": null});
    let res = app
        .call(
            Method::PATCH,
            "/api/admin/clients/ios",
            Some(&admin.token),
            Some(patch),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    assert_eq!(res.json["description"], "iPhone app");
    assert_eq!(res.json["throttle_rate"], "100/m");
    assert_eq!(res.json["max_sessions"], 3);
    assert!(res.json["token_ttl"].is_null());
    // Absent fields are unchanged; null sets null.
    let res = app
        .call(
            Method::PATCH,
            "/api/admin/clients/ios",
            Some(&admin.token),
            Some(json!({"max_sessions": null})),
        )
        .await;
    assert_eq!(res.json["throttle_rate"], "100/m");
    assert!(res.json["max_sessions"].is_null());
    let res = app.get("/api/admin/clients/ios", &admin.token).await;
    assert_eq!(res.json["description"], "iPhone app");
    assert_eq!(
        app.get("/api/admin/clients/nope", &admin.token)
            .await
            .code(),
        "not_found"
    );
    let res = app
        .call(
            Method::PATCH,
            "/api/admin/clients/ios",
            Some(&admin.token),
            Some(json!({"name": "android"})),
        )
        .await;
    assert_eq!(res.code(), "validation_error");
}

#[tokio::test]
async fn client_validation_names_each_field() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let bad = json!({"name": "-bad name", "token_ttl": 0, "max_lifetime": -5, "throttle_rate": "5/w", "max_sessions": 0});
    let res = app
        .post("/api/admin/clients", Some(&admin.token), bad)
        .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::BAD_REQUEST, "validation_error")
    );
    let fields = res.json["fields"].as_object().unwrap();
    for f in [
        "name",
        "token_ttl",
        "max_lifetime",
        "throttle_rate",
        "max_sessions",
    ] {
        assert!(fields.contains_key(f), "{f} missing from {fields:?}");
    }
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"description": "x"}),
        )
        .await;
    assert!(res.json["fields"]["name"].is_array());
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "ok", "token_ttl": "1d"}),
        )
        .await;
    assert!(res.json["fields"]["token_ttl"].is_array(), "{:?}", res.json);
    let res = app
        .post(
            "/api/admin/clients",
            Some(&admin.token),
            json!({"name": "x".repeat(65)}),
        )
        .await;
    assert!(res.json["fields"]["name"].is_array());
}

#[tokio::test]
async fn deleting_a_client_ends_its_sessions() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let cli = app.user_with_login("tom", "cli").await;
    let web = app.login("tom", "web").await;
    let res = app.delete("/api/admin/clients/cli", &admin.token).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/auth/me", &cli.token).await.code(),
        "invalid_token"
    );
    assert_eq!(
        app.get("/api/auth/me", &web.token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.delete("/api/admin/clients/cli", &admin.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn users_crud_and_validation() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "uma", "password": "long enough"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.json);
    assert_eq!(res.json["username"], "uma");
    assert_eq!(res.json["is_active"], true);
    assert_eq!(res.json["is_admin"], false);
    assert!(res.json["last_login"].is_null());
    assert!(res.json.get("password").is_none() && res.json.get("password_hash").is_none());
    let id = res.json["id"].as_i64().unwrap();
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "uma", "password": "long enough"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "has space", "password": "short"}),
        )
        .await;
    assert_eq!(res.code(), "validation_error");
    assert!(res.json["fields"]["username"].is_array() && res.json["fields"]["password"].is_array());
    assert_eq!(
        app.get(&format!("/api/admin/users/{id}"), &admin.token)
            .await
            .json["username"],
        "uma"
    );
    assert_eq!(
        app.get("/api/admin/users", &admin.token)
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for bad in [
        "/api/admin/users/999",
        "/api/admin/users/abc",
        "/api/admin/users/1.5",
    ] {
        assert_eq!(
            app.get(bad, &admin.token).await.code(),
            "not_found",
            "{bad}"
        );
    }
    assert_eq!(
        app.delete(&format!("/api/admin/users/{id}"), &admin.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/admin/users/{id}"), &admin.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deactivation_ends_sessions_and_keys_and_reactivation_restores_none() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let user = app.user_with_login("vic", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&user.token), json!({}))
        .await;
    let key = key.json["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/auth/me", &key).await.status, StatusCode::OK);
    let path = format!("/api/admin/users/{}", user.user_id);
    let res = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(res.json["is_active"], false);
    for token in [&user.token, &key] {
        let res = app.get("/api/auth/me", token).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNAUTHORIZED, "invalid_token")
        );
    }
    let listed = app.get(&format!("{path}/sessions"), &admin.token).await;
    assert_eq!(listed.json, json!([]));
    // An inactive user cannot log in either.
    let res = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "vic", "password": tests::PASSWORD, "client": "web"}),
        )
        .await;
    assert_eq!(res.code(), "invalid_credentials");
    app.call(
        Method::PATCH,
        &path,
        Some(&admin.token),
        Some(json!({"is_active": true})),
    )
    .await;
    for token in [&user.token, &key] {
        let res = app.get("/api/auth/me", token).await;
        assert_eq!(res.code(), "invalid_token", "reactivation restores nothing");
    }
    app.login("vic", "web").await;
}

#[tokio::test]
async fn password_change_ends_sessions_but_keeps_the_api_key() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let user = app.user_with_login("wes", "web").await;
    let key = app
        .post("/api/auth/apiaccess", Some(&user.token), json!({}))
        .await
        .json["token"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/admin/users/{}", user.user_id);
    let res = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(json!({"password": "a brand new one"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", &user.token).await.code(),
        "invalid_token"
    );
    assert_eq!(app.get("/api/auth/me", &key).await.status, StatusCode::OK);
    let res = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "wes", "password": "a brand new one", "client": "web"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(json!({"password": "short"})),
        )
        .await;
    assert!(res.json["fields"]["password"].is_array());
}

#[tokio::test]
async fn the_last_active_admin_is_protected() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let path = format!("/api/admin/users/{}", admin.user_id);
    for body in [json!({"is_active": false}), json!({"is_admin": false})] {
        let res = app
            .call(Method::PATCH, &path, Some(&admin.token), Some(body))
            .await;
        assert_eq!((res.status, res.code()), (StatusCode::CONFLICT, "conflict"));
    }
    assert_eq!(
        app.delete(&path, &admin.token).await.status,
        StatusCode::CONFLICT
    );
    // With a second admin, the first may step down.
    let res = app
        .post(
            "/api/admin/users",
            Some(&admin.token),
            json!({"username": "xena", "password": "long enough", "is_admin": true}),
        )
        .await;
    assert_eq!(res.json["is_admin"], true);
    let res = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin.token),
            Some(json!({"is_admin": false})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/admin/users", &admin.token).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let user = app.user_with_login("yuri", "web").await;
    app.delete(&format!("/api/admin/users/{}", user.user_id), &admin.token)
        .await;
    assert_eq!(
        app.get("/api/auth/me", &user.token).await.code(),
        "invalid_token"
    );
    use sea_orm::{EntityTrait, PaginatorTrait};
    let left = entity::session::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(left, 1, "only the admin's session is left");
}
