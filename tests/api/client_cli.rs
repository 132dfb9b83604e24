//! The `tessera-client` binary against a live server over TCP, one config directory per
//! "device": login, listing, revocation with the plain "log in again" answer, revoke-others,
//! the API key, named and scoped API keys (list, roll, delete), renewal, logout, throttling,
//! and the 0600 credentials file.

use crate::cli_device::Device;
use crate::live;

fn relogin_hint(base: &str, client: &str) -> String {
    format!(
        "Your session has ended or was revoked. Log in again with: \
         tessera-client --server {base} login --username dev --client {client}"
    )
}

#[tokio::test]
async fn two_devices_log_in_list_and_one_revokes_the_other() {
    let live = live::start("dev").await;
    let base = live.base.clone();
    let laptop = Device::new("laptop", &base);
    let phone = Device::new("phone", &base);
    assert!(
        laptop
            .login("cli", "laptop")
            .await
            .ok()
            .contains("Logged in")
    );
    laptop.assert_private_credentials();
    assert_eq!(laptop.credentials()["server"], base.as_str());
    // `--password-stdin` works like a pipe.
    let args = [
        "--server",
        &base,
        "login",
        "--username",
        "dev",
        "--client",
        "mobile",
    ];
    let args = [&args[..], &["--device-name", "phone", "--password-stdin"]].concat();
    let pw = format!("{}\n", tests::PASSWORD);
    phone.run_with_stdin(&args, Some(&pw)).await.ok();
    phone.assert_private_credentials();
    let (laptop_id, phone_id) = (laptop.session_id(), phone.session_id());

    let me = laptop.run(&["whoami"]).await;
    assert!(
        me.ok().contains("dev (user ") && me.stdout.contains(&laptop_id),
        "{me:?}"
    );
    let list = laptop.run(&["sessions"]).await;
    let list = list.ok();
    assert!(list.contains(&format!("* {laptop_id}")), "{list}");
    assert!(
        list.contains(&format!("  {phone_id}")) && list.contains("phone"),
        "{list}"
    );

    let own = laptop.run(&["revoke", &laptop_id]).await;
    assert!(own.failed().contains("this device's session"));
    laptop.run(&["revoke", &phone_id]).await.ok();
    let revoked = phone.run(&["whoami"]).await;
    assert!(
        revoked.failed().contains(&relogin_hint(&base, "mobile")),
        "{revoked:?}"
    );
    assert!(
        !phone.credentials_path().exists(),
        "a dead token is not kept"
    );
    assert!(
        phone
            .run(&["sessions"])
            .await
            .failed()
            .contains("Not logged in")
    );
    let list = laptop.run(&["sessions"]).await;
    assert!(!list.ok().contains(&phone_id));
}

#[tokio::test]
async fn revoke_others_the_api_key_and_logout_all() {
    let live = live::start("dev").await;
    let base = live.base.clone();
    let (laptop, phone) = (Device::new("laptop", &base), Device::new("phone", &base));
    laptop.login("cli", "laptop").await.ok();
    phone.login("mobile", "phone").await.ok();
    let out = laptop.run(&["revoke-others"]).await;
    assert!(out.ok().contains("Revoked 1 other session"), "{out:?}");
    assert!(
        phone
            .run(&["sessions"])
            .await
            .failed()
            .contains("Log in again")
    );
    assert!(!phone.credentials_path().exists());

    assert!(
        laptop
            .run(&["apikey", "show"])
            .await
            .failed()
            .contains("no API key")
    );
    let created = laptop.run(&["apikey", "create"]).await;
    let key = created.ok().trim().to_string();
    assert!(key.starts_with("tsk_") && key.len() == 42, "{created:?}");
    assert!(created.stderr.contains("only time"));
    let shown = laptop.run(&["apikey", "show"]).await;
    assert!(shown.ok().contains(&key[..8]) && !shown.stdout.contains(&key));
    assert!(
        laptop
            .run(&["apikey", "create"])
            .await
            .failed()
            .contains("already have")
    );
    let by_key = example_client::Client::new(&base).with_token(key.clone());
    assert_eq!(by_key.me().await.unwrap().user.username, "dev");
    laptop.run(&["apikey", "delete"]).await.ok();
    assert!(
        laptop
            .run(&["apikey", "show"])
            .await
            .failed()
            .contains("no API key")
    );
    assert!(by_key.me().await.unwrap_err().needs_login());

    // logout-all ends the other device, the API key and this device's own token.
    phone.login("mobile", "phone").await.ok();
    let key = laptop
        .run(&["apikey", "create"])
        .await
        .ok()
        .trim()
        .to_string();
    assert!(
        laptop
            .run(&["logout-all"])
            .await
            .ok()
            .contains("every session")
    );
    assert!(!laptop.credentials_path().exists());
    assert!(
        phone
            .run(&["whoami"])
            .await
            .failed()
            .contains("Log in again")
    );
    let by_key = example_client::Client::new(&base).with_token(key);
    assert!(by_key.me().await.unwrap_err().needs_login());
}

/// The rows of `apikey list` (header checked and dropped), split on whitespace: ID, NAME,
/// SCOPES, EXPIRES, LAST USED, HINT.
#[track_caller]
fn key_rows(table: &str) -> Vec<Vec<String>> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    for column in ["ID", "NAME", "SCOPES", "EXPIRES", "LAST USED", "HINT"] {
        assert!(header.contains(column), "{table}");
    }
    lines
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The row of the key named `name`.
#[track_caller]
fn key_row(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let row = rows
        .iter()
        .find(|r| r.get(1).map(String::as_str) == Some(name));
    let row = row.unwrap_or_else(|| panic!("no key {name} in {rows:?}"));
    assert_eq!(row.len(), 6, "{row:?}");
    row.clone()
}

#[tokio::test]
async fn named_scoped_api_keys_list_roll_and_delete() {
    let live = live::start("dev").await;
    let base = live.base.clone();
    let laptop = Device::new("laptop", &base);
    laptop.login("cli", "laptop").await.ok();
    let empty = laptop.run(&["apikey", "list"]).await;
    assert!(
        empty.ok().is_empty() && empty.stderr.contains("no API keys"),
        "{empty:?}"
    );

    // A scoped key for 30 days; the repeated scope is dropped, the order kept.
    let args = [
        "apikey",
        "create",
        "--name",
        "ci",
        "--scope",
        "reports:read",
    ];
    let more = [
        "--scope",
        "reports:write,reports:read",
        "--expires-in",
        "30d",
    ];
    let created = laptop.run(&[&args[..], &more[..]].concat()).await;
    let old = created.ok().trim().to_string();
    assert!(old.starts_with("tsk_") && old.len() == 42, "{created:?}");
    assert!(created.stderr.contains("only time"), "{created:?}");
    // The v1 key beside it: `apikey create` without --name makes the unrestricted `default`.
    let default = laptop.run(&["apikey", "create"]).await;
    let default = default.ok().trim().to_string();
    assert!(default.starts_with("tsk_"));
    let short = [
        "apikey",
        "create",
        "--name",
        "short",
        "--expires-in",
        "3600",
    ];
    laptop.run(&short).await.ok();

    let listed = laptop.run(&["apikey", "list"]).await;
    let rows = key_rows(listed.ok());
    assert_eq!(rows.len(), 3, "{listed:?}");
    let ci = key_row(&rows, "ci");
    let id = ci[0].clone();
    assert_eq!(ci[2], "reports:read,reports:write");
    assert_eq!(ci[5], old[..8]);
    let now = chrono::Utc::now();
    let expires: chrono::DateTime<chrono::Utc> = ci[3].parse().unwrap();
    let off = expires - (now + chrono::Duration::days(30));
    assert!(off.num_seconds().abs() < 120, "{ci:?}");
    let expires: chrono::DateTime<chrono::Utc> = key_row(&rows, "short")[3].parse().unwrap();
    let off = expires - (now + chrono::Duration::hours(1));
    assert!(off.num_seconds().abs() < 120, "{rows:?}");
    let v1 = key_row(&rows, "default");
    assert_eq!((v1[2].as_str(), v1[3].as_str()), ("*", "never"));
    assert_eq!(v1[5], default[..8]);
    assert!(!listed.stdout.contains(&old) && !listed.stdout.contains(&default));

    // The scoped key authenticates (also as X-Api-Key) and is what `me` shows, but may not
    // manage sessions.
    let by_key = example_client::Client::new(&base).with_token(old.clone());
    let me = by_key.me().await.unwrap();
    assert_eq!(me.session.id, id);
    assert_eq!(me.session.kind, "api_key");
    assert_eq!(me.session.name.as_deref(), Some("ci"));
    let scopes = me.session.scopes.unwrap_or_default();
    assert_eq!(scopes, ["reports:read", "reports:write"]);
    let refused = by_key.sessions().await.unwrap_err();
    assert_eq!(refused.code(), Some("permission_denied"), "{refused}");
    let verify = reqwest::Client::new()
        .get(format!("{base}/api/auth/verify?scope=reports:read"))
        .header("X-Api-Key", &old)
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 200);

    // Roll with no grace: a new secret for the same key, the old one refused at once.
    let rolled = laptop.run(&["apikey", "roll", &id, "--grace", "0"]).await;
    let new = rolled.ok().trim().to_string();
    assert!(
        new.starts_with("tsk_") && new.len() == 42 && new != old,
        "{rolled:?}"
    );
    assert!(rolled.stderr.contains("no longer works"), "{rolled:?}");
    let err = by_key.me().await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_token"), "{err}");
    let by_new = example_client::Client::new(&base).with_token(new.clone());
    assert_eq!(by_new.me().await.unwrap().session.id, id);
    let listed = laptop.run(&["apikey", "list"]).await;
    let after = key_row(&key_rows(listed.ok()), "ci");
    assert_eq!(after[..4], ci[..4], "same id, name, scopes and expiry");
    assert_eq!(after[5], new[..8]);

    // Delete by id: the key ends; the others stay.
    let deleted = laptop.run(&["apikey", "delete", &id]).await;
    assert!(deleted.ok().contains(&id), "{deleted:?}");
    assert!(by_new.me().await.unwrap_err().needs_login());
    let listed = laptop.run(&["apikey", "list"]).await;
    assert_eq!(key_rows(listed.ok()).len(), 2, "{listed:?}");
    assert!(!listed.stdout.contains(&id));
    for action in ["delete", "roll"] {
        let gone = laptop.run(&["apikey", action, &id]).await;
        assert!(gone.failed().contains("no API key with id"), "{gone:?}");
    }
    assert!(laptop.credentials_path().exists(), "a 404 keeps the login");

    // Bad flags are refused before anything is sent; bad values by the server, naming the field.
    let five_weeks = ["apikey", "create", "--name", "x", "--expires-in", "5w"];
    let bad = laptop.run(&five_weeks).await;
    assert!(bad.failed().contains("invalid duration"), "{bad:?}");
    let bad = laptop.run(&["apikey", "create", "--scope", "a"]).await;
    assert!(bad.failed().contains("--name"), "{bad:?}");
    let upper = ["apikey", "create", "--name", "x", "--scope", "Reports"];
    let bad = laptop.run(&upper).await;
    let msg = bad.failed();
    assert!(
        msg.contains("validation_error") && msg.contains("scopes"),
        "{bad:?}"
    );
    let taken = laptop.run(&["apikey", "create", "--name", "short"]).await;
    assert!(taken.failed().contains("conflict"), "{taken:?}");
    let listed = laptop.run(&["apikey", "list"]).await;
    assert_eq!(key_rows(listed.ok()).len(), 2, "{listed:?}");

    // The v1 actions still work, on the key named `default`.
    let shown = laptop.run(&["apikey", "show"]).await;
    assert!(shown.ok().contains(&default[..8]), "{shown:?}");
    let again = laptop.run(&["apikey", "create"]).await;
    assert!(again.failed().contains("already have"), "{again:?}");
    laptop.run(&["apikey", "delete"]).await.ok();
    let listed = laptop.run(&["apikey", "list"]).await;
    let rows = key_rows(listed.ok());
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][1], "short");
}

#[tokio::test]
async fn relogin_refresh_renewal_near_expiry_and_logout() {
    let live = live::start("dev").await;
    let base = live.base.clone();
    let laptop = Device::new("laptop", &base);
    laptop.login("cli", "laptop").await.ok();
    // Logging in again replaces the stored login and ends its session: no orphan is left.
    let first = laptop.session_id();
    laptop.login("cli", "laptop").await.ok();
    let list = laptop.run(&["sessions"]).await;
    assert!(!list.ok().contains(&first), "{list:?}");
    assert!(list.stdout.contains(&format!("* {}", laptop.session_id())));
    let expiry = |d: &Device| -> chrono::DateTime<chrono::Utc> {
        d.credentials()["expiry"].as_str().unwrap().parse().unwrap()
    };
    let at_login = expiry(&laptop);
    assert!(laptop.run(&["refresh"]).await.ok().contains("Renewed"));
    assert!(expiry(&laptop) >= at_login);
    laptop.assert_private_credentials();

    // Pretend the stored token expires in 5 minutes: the next command renews it first and
    // stores the server's new expiry (the `cli` client's 90 days).
    let now = chrono::Utc::now();
    let mut creds = laptop.credentials();
    creds["expiry"] = (now + chrono::Duration::minutes(5)).to_rfc3339().into();
    creds["renewed_at"] = (now - chrono::Duration::days(1)).to_rfc3339().into();
    std::fs::write(laptop.credentials_path(), creds.to_string()).unwrap();
    laptop.run(&["whoami"]).await.ok();
    let renewed = expiry(&laptop);
    assert!(renewed > now + chrono::Duration::days(89), "{renewed}");
    laptop.assert_private_credentials();

    assert!(laptop.run(&["logout"]).await.ok().contains("Logged out"));
    assert!(!laptop.credentials_path().exists());
    assert!(
        laptop
            .run(&["whoami"])
            .await
            .failed()
            .contains("Not logged in")
    );
    assert!(
        laptop
            .run(&["logout"])
            .await
            .failed()
            .contains("Not logged in")
    );
}

#[tokio::test]
async fn throttling_wrong_password_and_another_server() {
    let live = live::start("dev").await;
    live::throttled_client(&live, "slow", "1/h").await;
    let base = live.base.clone();
    let laptop = Device::new("laptop", &base);
    laptop.login("slow", "laptop").await.ok();
    laptop.run(&["whoami"]).await.ok();
    let throttled = laptop.run(&["whoami"]).await;
    let msg = throttled.failed();
    let seconds: u64 = msg
        .split("wait ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no wait time in {msg:?}"));
    assert!((3000..=3600).contains(&seconds), "{msg}");
    assert!(laptop.credentials_path().exists(), "a 429 keeps the token");

    let elsewhere = laptop
        .run(&["--server", "http://127.0.0.1:9", "whoami"])
        .await;
    assert!(elsewhere.failed().contains("You are logged in to"));

    let stranger = Device::new("stranger", &base);
    let args = ["--server", &base, "login", "--username", "dev"];
    let wrong = stranger
        .run_with_stdin(&args, Some("wrong password\n"))
        .await;
    assert!(wrong.failed().contains("Unable to log in"), "{wrong:?}");
    assert!(!stranger.credentials_path().exists());
}
