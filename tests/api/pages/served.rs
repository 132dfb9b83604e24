//! The pages as served, without a browser: headers, content types, the HTML's own rules, the
//! account client filled in, unknown assets, and the 403 page for a non-admin's cookie.

use super::{ASSETS, CSP, HTML, PAGES, html};
use crate::cookies::{COOKIE, set_cookie};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use server::Settings;
use tests::{PASSWORD, TestApp, TestResponse};

/// `GET path`, with the session cookie holding `token` if given.
async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> TestResponse {
    let mut req = Request::get(path);
    if let Some(token) = token {
        req = req.header("cookie", format!("{COOKIE}={token}"));
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

fn text(res: &TestResponse) -> &str {
    std::str::from_utf8(&res.body).expect("UTF-8")
}

/// The session cookie of `username` signed in on the account client, as a browser holds it.
async fn cookie_of(app: &TestApp, username: &str) -> String {
    let body = json!({"username": username, "password": PASSWORD, "client": "browser"});
    let req = Request::post("/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.json);
    set_cookie(&res, COOKIE).expect("the session cookie").value
}

#[tokio::test]
async fn every_page_and_asset_answers_with_the_csp_and_its_content_type() {
    let app = TestApp::new().await;
    for (path, content_type) in PAGES.iter().chain(ASSETS) {
        let res = fetch(&app, path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert_eq!(res.header("content-security-policy"), CSP, "{path}");
        assert_eq!(res.header("content-type"), *content_type, "{path}");
        assert_eq!(res.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(res.header("referrer-policy"), "same-origin", "{path}");
        assert!(!res.body.is_empty(), "{path}");
        let cache = res.header("cache-control");
        if *content_type == HTML {
            assert_eq!(cache, "no-store", "{path}");
        } else {
            assert!(cache.starts_with("public"), "{path}: {cache}");
        }
    }
    // HEAD answers like GET (a checker or proxy may ask it), and a trailing slash is the page.
    let head = Request::head("/account").body(Body::empty()).unwrap();
    let res = app.send(head).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-security-policy"), CSP);
    assert_eq!(fetch(&app, "/admin/", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_html_keeps_the_rules_of_the_csp_and_labels_every_control() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    let alice = cookie_of(&app, "alice").await;
    let forbidden = fetch(&app, "/admin", Some(alice.as_str())).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let mut pages = vec![("/admin as a non-admin", text(&forbidden).to_string())];
    for (path, _) in PAGES {
        pages.push((*path, text(&fetch(&app, path, None).await).to_string()));
    }
    for (path, body) in &pages {
        let problems = html::problems(body);
        assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
        // Only the server's own stylesheet and modules: no CDN, no other origin.
        for tag in html::tags(body) {
            for attr in ["src", "href"] {
                if let Some(url) = tag.attr(attr) {
                    assert!(
                        url.starts_with('/') || url.starts_with('#'),
                        "{path}: <{} {attr}={url}>",
                        tag.name
                    );
                }
            }
        }
    }
    // The pages are meant to be used: each has its forms and tables with the ids scripts and
    // tests rely on.
    let account = &pages[1].1;
    for id in [
        "signin-form",
        "sessions-table",
        "signout-others",
        "apikey-token",
        "events-table",
    ] {
        assert!(
            account.contains(&format!("id=\"{id}\"")),
            "/account lacks #{id}"
        );
    }
    let admin = &pages[2].1;
    for id in [
        "signin-form",
        "users-table",
        "clients-table",
        "revocation-form",
        "keys-table",
        "forbidden",
    ] {
        assert!(
            admin.contains(&format!("id=\"{id}\"")),
            "/admin lacks #{id}"
        );
    }
}

#[tokio::test]
async fn the_scripts_build_the_page_without_markup_strings_or_eval() {
    let app = TestApp::new().await;
    for (path, content_type) in ASSETS {
        let body = text(&fetch(&app, path, None).await).to_string();
        for banned in ["http://", "https://", "@import"] {
            assert!(!body.contains(banned), "{path} refers to {banned}");
        }
        if *content_type == super::JS {
            // Text from the API (device names, usernames, key names) never becomes markup.
            for banned in [
                "innerHTML",
                "outerHTML =",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!body.contains(banned), "{path} uses {banned}");
            }
        }
    }
}

#[tokio::test]
async fn the_pages_carry_the_account_client_escaped() {
    let app = TestApp::new().await;
    for (path, _) in PAGES {
        let body = text(&fetch(&app, path, None).await).to_string();
        assert!(body.contains(r#"<body data-client="browser""#), "{path}");
        assert!(!body.contains("{{"), "{path}: a placeholder is left");
    }
    let odd = Settings {
        account_client: r#"kiosk"><script>"#.into(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(odd).await;
    let body = text(&fetch(&app, "/account", None).await).to_string();
    assert!(
        body.contains(r#"data-client="kiosk&quot;&gt;&lt;script&gt;""#),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_assets_are_the_json_404() {
    let app = TestApp::new().await;
    for path in [
        "/assets/unknown.js",
        "/assets/account.html",
        "/assets/forbidden.html",
        "/assets/API.JS",
        "/assets/..%2FCargo.toml",
        "/assets",
    ] {
        let res = fetch(&app, path, None).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.code(), "not_found", "{path}");
    }
}

#[tokio::test]
async fn the_console_is_a_403_page_for_a_non_admins_cookie() {
    let app = TestApp::new().await;
    app.create_user("alice", false).await;
    app.create_user("root", true).await;
    let alice = cookie_of(&app, "alice").await;
    let root = cookie_of(&app, "root").await;

    let res = fetch(&app, "/admin", Some(alice.as_str())).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.header("content-type"), HTML);
    assert_eq!(res.header("content-security-policy"), CSP);
    assert_eq!(res.header("cache-control"), "no-store");
    let page = text(&res);
    assert!(page.contains("403"), "{page}");
    assert!(page.contains("This console is for admins"), "{page}");
    assert!(
        page.contains(">alice<"),
        "the page names who is signed in: {page}"
    );
    assert!(
        !page.contains("admin.js"),
        "the 403 page loads no console script"
    );

    // An admin's cookie, no cookie, or a cookie that no longer works: the console (its script
    // shows the sign-in form when the API answers 401).
    let ended = cookie_of(&app, "alice").await;
    let logout = Request::post("/api/auth/logoutall")
        .header(
            "authorization",
            format!("Bearer {}", app.login("alice", "web").await.token),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(logout).await.status, StatusCode::NO_CONTENT);
    for (who, token) in [
        ("root", Some(root.as_str())),
        ("nobody", None),
        ("ended", Some(ended.as_str())),
    ] {
        let res = fetch(&app, "/admin", token).await;
        assert_eq!(res.status, StatusCode::OK, "{who}");
        assert!(text(&res).contains("id=\"users-table\""), "{who}");
    }
    // The account page is for everyone.
    assert_eq!(
        fetch(&app, "/account", Some(alice.as_str())).await.status,
        StatusCode::OK
    );
}
