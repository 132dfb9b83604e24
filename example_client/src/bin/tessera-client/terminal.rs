//! Talking to the person: the password prompt, the device's default name, and how sessions
//! and times are shown.

use chrono::{DateTime, SecondsFormat, Utc};

/// Prints sessions as a table; `*` marks the current one.
pub fn print_sessions(sessions: &[example_client::Session]) {
    println!(
        "  {:<36}  {:<8}  {:<28}  {:<15}  {:<20}  EXPIRES",
        "ID", "CLIENT", "DEVICE", "IP", "LAST USED"
    );
    for s in sessions {
        let mark = if s.is_current { "*" } else { " " };
        let device: String = s.device_name.chars().take(28).collect();
        println!(
            "{mark} {:<36}  {:<8}  {device:<28}  {:<15}  {:<20}  {}",
            s.id,
            s.client,
            s.ip.as_deref().unwrap_or("-"),
            time(s.last_used),
            s.expiry.map_or_else(|| "never".to_string(), time)
        );
    }
}

/// A time as RFC 3339 to the second.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// "expires at …" or "never expires".
pub fn expires(expiry: Option<DateTime<Utc>>) -> String {
    match expiry {
        Some(t) => format!("expires at {}", time(t)),
        None => "never expires".to_string(),
    }
}

/// `http://host:8080/` and `http://host:8080` are the same server.
pub fn normalize(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// "tessera-client on <host name>", so that session lists tell devices apart.
pub fn default_device_name() -> String {
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    match host {
        // The server keeps at most 100 characters.
        Some(h) => format!("tessera-client on {h}").chars().take(100).collect(),
        None => "tessera-client".to_string(),
    }
}

/// The password: prompted for without echo on a terminal, else the first line of stdin.
pub fn read_password(username: &str, from_stdin: bool) -> Result<String, String> {
    use std::io::IsTerminal;
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| format!("Could not read the password from stdin: {e}"))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| format!("Could not read the password: {e}"))?
    };
    if password.is_empty() {
        return Err("No password given.".into());
    }
    Ok(password)
}
