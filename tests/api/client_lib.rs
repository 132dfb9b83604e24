//! The `example_client` library against a live server over TCP: the calls the device
//! lifecycle test in `tcp.rs` does not make (revoke-others, the API keys, logout-all), and the
//! typed errors apps branch on.

use crate::live;
use example_client::{Client, Error, NewApiKeyRequest};

/// The documented code of an error, or a panic showing what came instead.
#[track_caller]
fn code(result: Result<impl std::fmt::Debug, Error>) -> (u16, String) {
    match result {
        Err(Error::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn revoke_others_api_key_and_logout_all() {
    let live = live::start("lib").await;
    let base = live.base.clone();
    let mut laptop = Client::new(&base);
    let login = laptop
        .login("lib", tests::PASSWORD, "cli", Some("laptop"))
        .await
        .unwrap();
    assert!(
        !format!("{login:?}{laptop:?}").contains(&login.token),
        "Debug hides tokens"
    );
    let mut phones = Vec::new();
    for name in ["phone", "tablet"] {
        let mut c = Client::new(&base);
        c.login("lib", tests::PASSWORD, "mobile", Some(name))
            .await
            .unwrap();
        phones.push(c);
    }

    assert_eq!(code(laptop.api_key().await), (404, "not_found".into()));
    assert_eq!(
        code(laptop.delete_api_key().await),
        (404, "not_found".into())
    );
    let key = laptop.create_api_key().await.unwrap();
    assert!(key.token.starts_with("tsk_"));
    assert_eq!(key.key.client, "api");
    assert_eq!(key.key.expiry, None, "the api client's keys never expire");
    assert_eq!(
        code(laptop.create_api_key().await),
        (409, "conflict".into())
    );
    let shown = laptop.api_key().await.unwrap();
    assert_eq!(shown.token_hint, key.token[..8]);
    let by_key = Client::new(&base).with_token(key.token.clone());
    assert_eq!(by_key.me().await.unwrap().session.kind, "api_key");

    // Revoking the others leaves this session and the API key.
    assert_eq!(laptop.revoke_others().await.unwrap(), 2);
    for phone in &phones {
        let err = phone.me().await.unwrap_err();
        assert!(
            err.needs_login() && err.code() == Some("invalid_token"),
            "{err}"
        );
    }
    let sessions = laptop.sessions().await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].is_current && sessions[0].id == login.session.id);
    by_key.me().await.unwrap();
    assert_eq!(laptop.revoke_others().await.unwrap(), 0);

    let current = code(laptop.revoke(&login.session.id).await);
    assert_eq!(current, (400, "cannot_revoke_current".into()));
    let unknown = code(laptop.revoke(&uuid::Uuid::new_v4().to_string()).await);
    assert_eq!(unknown, (404, "not_found".into()));
    // An id that could turn into another path is refused before anything is sent.
    for bad in ["", "../me", "a?b"] {
        let err = laptop.revoke(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    }
    assert_eq!(laptop.sessions().await.unwrap().len(), 1);

    laptop.delete_api_key().await.unwrap();
    assert!(by_key.me().await.unwrap_err().needs_login());
    let key = laptop.create_api_key().await.unwrap();
    let token = laptop.token().unwrap().to_string();
    laptop.logout_all().await.unwrap();
    assert!(laptop.token().is_none());
    for t in [token, key.token] {
        let err = Client::new(&base).with_token(t).me().await.unwrap_err();
        assert!(err.needs_login(), "{err}");
    }
}

#[tokio::test]
async fn named_api_keys_create_list_roll_with_grace_and_delete() {
    let live = live::start("lib").await;
    let base = live.base.clone();
    let mut laptop = Client::new(&base);
    laptop
        .login("lib", tests::PASSWORD, "cli", None)
        .await
        .unwrap();
    assert!(laptop.api_keys().await.unwrap().is_empty());
    let req = NewApiKeyRequest {
        name: "reports".into(),
        scopes: Some(vec!["reports:read".into()]),
        expires_in: Some(3600),
    };
    let key = laptop.create_named_api_key(&req).await.unwrap();
    assert!(
        !format!("{key:?}").contains(&key.token),
        "Debug hides the key"
    );
    assert!(key.token.starts_with("tsk_"));
    assert_eq!(key.key.name, "reports");
    assert_eq!(key.key.scopes, Some(vec!["reports:read".to_string()]));
    assert_eq!(key.key.token_hint, key.token[..8]);
    let left = key.key.expiry.expect("it expires") - chrono::Utc::now();
    assert!((3500..=3600).contains(&left.num_seconds()), "{left}");
    let taken = code(laptop.create_named_api_key(&req).await);
    assert_eq!(taken, (409, "conflict".into()));
    // The v1 key is the unrestricted one named `default`, listed beside the others.
    let v1 = laptop.create_api_key().await.unwrap();
    assert_eq!(v1.key.name, "default");
    assert_eq!(v1.key.scopes, None);
    assert_eq!(laptop.api_key().await.unwrap().id, v1.key.id);
    let mut listed: Vec<String> = laptop
        .api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    listed.sort();
    let mut expected = vec![key.key.id.clone(), v1.key.id.clone()];
    expected.sort();
    assert_eq!(listed, expected);

    // Roll with a grace window: the same key (id, name, scopes, expiry) with a new secret, and
    // both secrets work for now.
    let rolled = laptop.roll_api_key(&key.key.id, Some(60)).await.unwrap();
    assert!(!format!("{rolled:?}").contains(&rolled.token));
    assert_ne!(rolled.token, key.token);
    assert_eq!(rolled.key.id, key.key.id);
    assert_eq!(rolled.key.name, key.key.name);
    assert_eq!(rolled.key.scopes, key.key.scopes);
    assert_eq!(rolled.key.expiry, key.key.expiry);
    assert_eq!(rolled.key.created, key.key.created);
    assert_eq!(rolled.key.token_hint, rolled.token[..8]);
    let first = Client::new(&base).with_token(key.token.clone());
    let second = Client::new(&base).with_token(rolled.token.clone());
    assert_eq!(first.me().await.unwrap().session.id, key.key.id);
    assert_eq!(second.me().await.unwrap().session.id, key.key.id);
    // A second roll (no grace) inside the first one's window ends both earlier secrets at once.
    let third = laptop.roll_api_key(&key.key.id, None).await.unwrap();
    assert_eq!(code(first.me().await), (401, "invalid_token".into()));
    assert_eq!(code(second.me().await), (401, "invalid_token".into()));
    let third = Client::new(&base).with_token(third.token);
    let me = third.me().await.unwrap();
    assert_eq!(me.session.scopes, Some(vec!["reports:read".to_string()]));
    // The scoped key holds reports:read and nothing else.
    let verify = |scope: &'static str| {
        reqwest::Client::new()
            .get(format!("{base}/api/auth/verify?scope={scope}"))
            .header("X-Api-Key", third.token().unwrap())
            .send()
    };
    assert_eq!(verify("reports:read").await.unwrap().status(), 200);
    let refused = verify("reports:write").await.unwrap();
    assert_eq!(refused.status(), 403);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );

    // A grace out of range names the field.
    match laptop.roll_api_key(&key.key.id, Some(86_401)).await {
        Err(Error::Api { status, fields, .. }) => {
            assert_eq!(status, 400);
            assert!(fields.contains_key("grace"), "{fields:?}");
        }
        other => panic!("expected a validation_error, got {other:?}"),
    }
    // Ids that could become another path are refused before anything is sent; unknown ids 404.
    for bad in ["", "../apiaccess", "a?b"] {
        let err = laptop.delete_api_key_by_id(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        let err = laptop.roll_api_key(bad, None).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    let gone = code(laptop.delete_api_key_by_id(&unknown).await);
    assert_eq!(gone, (404, "not_found".into()));
    assert_eq!(code(laptop.roll_api_key(&unknown, None).await).0, 404);

    laptop.delete_api_key_by_id(&key.key.id).await.unwrap();
    assert!(third.me().await.unwrap_err().needs_login());
    let left: Vec<String> = laptop
        .api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(left, ["default"]);
    let again = code(laptop.delete_api_key_by_id(&key.key.id).await);
    assert_eq!(again, (404, "not_found".into()));
}

#[tokio::test]
async fn typed_errors_carry_the_spec_code_and_retry_after() {
    let live = live::start("lib").await;
    live::throttled_client(&live, "slow", "1/m").await;
    let base = live.base.clone();
    let mut c = Client::new(&base);
    let wrong = code(c.login("lib", "not the password", "cli", None).await);
    assert_eq!(wrong, (400, "invalid_credentials".into()));
    let unknown = code(c.login("lib", tests::PASSWORD, "nope", None).await);
    assert_eq!(unknown, (400, "unknown_client".into()));
    assert!(c.token().is_none(), "a failed login keeps no token");
    let anonymous = code(c.me().await);
    assert_eq!(anonymous, (401, "not_authenticated".into()));

    c.login("lib", tests::PASSWORD, "slow", None).await.unwrap();
    c.me().await.unwrap();
    let err = c.me().await.unwrap_err();
    assert_eq!(err.code(), Some("throttled"));
    let wait = err.retry_after().unwrap();
    assert!((1..=60).contains(&wait), "{err}");
    assert!(!err.needs_login());

    let nowhere = Client::new("http://127.0.0.1:9").me().await.unwrap_err();
    assert!(matches!(nowhere, Error::Transport(_)), "{nowhere}");
}

/// The example client keeps the device proof of its login and sends it with the next one, so
/// password guessing elsewhere cannot lock that device out.
#[tokio::test]
async fn the_example_client_keeps_its_device_proof_through_a_lock_out() {
    let live = live::start("lib").await;
    let base = live.base.clone();
    let mut laptop = Client::new(&base);
    laptop
        .login("lib", tests::PASSWORD, "cli", None)
        .await
        .unwrap();
    let proof = laptop.device_proof().expect("a proof is kept").to_string();
    laptop.logout().await.unwrap();
    assert_eq!(
        laptop.device_proof(),
        Some(proof.as_str()),
        "it outlives the logout"
    );
    // Someone guesses the password until the username is refused.
    let mut guesser = Client::new(&base);
    for _ in 0..10 {
        let err = guesser
            .login("lib", "a wrong guess", "cli", None)
            .await
            .unwrap_err();
        assert_eq!(code(Err::<(), _>(err)), (400, "invalid_credentials".into()));
    }
    let refused = Client::new(&base)
        .login("lib", tests::PASSWORD, "cli", None)
        .await;
    assert_eq!(code(refused).0, 429);
    // The laptop, sending its proof, gets in; a new client built from the stored proof too.
    laptop
        .login("lib", tests::PASSWORD, "cli", None)
        .await
        .unwrap();
    let mut restored = Client::new(&base).with_device_proof(proof);
    restored
        .login("lib", tests::PASSWORD, "cli", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_example_client_follows_a_rotated_token() {
    let live = live::start("rot").await;
    let policy = server::policy::ClientPolicy {
        rotate_on_refresh: true,
        ..Default::default()
    };
    server::service::clients::create(&live.state, "ios", &policy)
        .await
        .unwrap();
    let mut phone = Client::new(&live.base);
    let login = phone
        .login("rot", tests::PASSWORD, "ios", Some("phone"))
        .await
        .unwrap();
    phone.refresh().await.unwrap();
    let rotated = phone.token().expect("a token").to_string();
    assert_ne!(rotated, login.token, "the client took the rotated token");
    assert_eq!(phone.me().await.unwrap().session.id, login.session.id);
    // The old token still works inside the grace window, and a client holding it gets the
    // same new token from its own refresh.
    let mut stale = Client::new(&live.base).with_token(login.token.clone());
    stale.refresh().await.unwrap();
    assert_eq!(stale.token(), Some(rotated.as_str()));
}
