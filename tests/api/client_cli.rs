//! The `tessera-client` binary against a live server over TCP, one config directory per
//! "device": login, listing, revocation with the plain "log in again" answer, revoke-others,
//! the API key, renewal, logout, throttling, and the 0600 credentials file.

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
