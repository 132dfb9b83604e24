//! Talking to the person: the password prompt, the device's default name, how sessions, API
//! keys and times are shown, and how durations are read.

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

/// Prints API keys as a table whose columns fit their contents. SCOPES is `*` for an
/// unrestricted key, `-` for one that holds no scope, else the scopes joined by commas.
pub fn print_api_keys(keys: &[example_client::ApiKey]) {
    const HEADER: [&str; 6] = ["ID", "NAME", "SCOPES", "EXPIRES", "LAST USED", "HINT"];
    let rows: Vec<[String; 6]> = keys
        .iter()
        .map(|k| {
            [
                k.id.clone(),
                k.name.clone(),
                scopes(k.scopes.as_deref()),
                k.expiry.map_or_else(|| "never".to_string(), time),
                time(k.last_used),
                k.token_hint.clone(),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(HEADER);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
}

/// A key's scopes for display: `*` unrestricted, `-` none, else joined by commas.
pub fn scopes(scopes: Option<&[String]>) -> String {
    match scopes {
        None => "*".to_string(),
        Some([]) => "-".to_string(),
        Some(list) => list.join(","),
    }
}

/// A duration flag: whole seconds (`3600`), or a number with a unit as the server's command
/// line takes them: `30s`, `15m`, `12h`, `30d`. Whether it is in range is the server's call.
pub fn parse_seconds(s: &str) -> Result<u64, String> {
    let err = || format!("invalid duration {s:?}: use seconds (3600) or 30s, 15m, 12h, 30d");
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        Some((i, 'd')) => (&s[..i], 86_400),
        _ => (s, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("duration {s:?} is too long"))
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
