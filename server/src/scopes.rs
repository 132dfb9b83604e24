//! API-key names and scopes (docs/endpoints.md, "API keys"): their rules, how a scope list is
//! stored, and which scopes a credential lacks. Pure: no I/O, no HTTP.

use std::sync::Arc;

/// Most scopes one key may hold.
pub const MAX_SCOPES: usize = 50;
/// Longest scope string.
pub const MAX_SCOPE_LEN: usize = 64;
/// Longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The name the v1 endpoints (`/api/auth/apiaccess`) manage, and that migrated v1 keys carry.
pub const DEFAULT_KEY_NAME: &str = "default";
/// A scope, as a pattern for the OpenAPI document.
pub const SCOPE_PATTERN: &str = "^[a-z0-9:._-]{1,64}$";
/// What a bad scope is told.
pub const SCOPE_MSG: &str = "Enter at most 50 scopes of 1–64 characters: a-z, 0-9 and :._- only.";
/// What a bad key name is told.
pub const NAME_MSG: &str = "Enter 1–100 characters, not all blank, without control characters.";

/// Whether `s` is a scope: 1–64 of `[a-z0-9:._-]`.
pub fn valid_scope(s: &str) -> bool {
    (1..=MAX_SCOPE_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b':' | b'.' | b'_' | b'-'))
}

/// Whether `s` is a key name: 1–100 characters, not all whitespace, no control characters.
pub fn valid_name(s: &str) -> bool {
    let chars = s.chars().count();
    (1..=MAX_NAME_CHARS).contains(&chars)
        && !s.trim().is_empty()
        && !s.chars().any(char::is_control)
}

/// A key's scopes: `None` = unrestricted (holds every scope), as are sessions.
pub type Scopes = Option<Arc<[String]>>;

/// Checks a requested scope list and drops repeats (keeping the first of each); `None` when a
/// scope is malformed or there are too many.
pub fn normalise(requested: &[String]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(requested.len());
    for scope in requested {
        if !valid_scope(scope) {
            return None;
        }
        if !out.contains(scope) {
            out.push(scope.clone());
        }
    }
    (out.len() <= MAX_SCOPES).then_some(out)
}

/// How a scope list is stored: joined by single spaces (`""` for no scope at all).
pub fn to_stored(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// A stored scope list back as a list.
pub fn from_stored(stored: Option<&str>) -> Scopes {
    stored.map(|s| {
        s.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// The scopes of `wanted` that `held` lacks (none when `held` is unrestricted).
pub fn missing<'a>(held: &Scopes, wanted: &'a [&'a str]) -> Vec<&'a str> {
    match held {
        None => Vec::new(),
        Some(held) => wanted
            .iter()
            .copied()
            .filter(|w| !held.iter().any(|h| h == w))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_syntax() {
        assert!(valid_scope("reports:read"));
        assert!(valid_scope("a.b_c-d:9"));
        assert!(!valid_scope(""));
        assert!(!valid_scope("Reports"));
        assert!(!valid_scope("a b"));
        assert!(!valid_scope(&"a".repeat(65)));
        assert!(valid_scope(&"a".repeat(64)));
    }

    #[test]
    fn names() {
        assert!(valid_name("CI deploy"));
        assert!(valid_name(&"é".repeat(100)));
        assert!(!valid_name(&"é".repeat(101)));
        assert!(!valid_name("   "));
        assert!(!valid_name(""));
        assert!(!valid_name("a\nb"));
    }

    #[test]
    fn normalise_drops_repeats_and_refuses_too_many() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(normalise(&s(&["b", "a", "b"])), Some(s(&["b", "a"])));
        assert_eq!(normalise(&s(&["ok", "Not"])), None);
        let many: Vec<String> = (0..51).map(|i| format!("s{i}")).collect();
        assert_eq!(normalise(&many), None);
        assert_eq!(normalise(&many[..50]).map(|v| v.len()), Some(50));
        // Repeats do not count towards the limit.
        let mut repeated = many[..50].to_vec();
        repeated.push("s0".into());
        assert!(normalise(&repeated).is_some());
    }

    #[test]
    fn stored_form_round_trips_including_empty() {
        let list = vec!["a:b".to_string(), "c".to_string()];
        assert_eq!(
            from_stored(Some(&to_stored(&list))).as_deref(),
            Some(&list[..])
        );
        assert_eq!(from_stored(Some("")).as_deref(), Some(&[][..]));
        assert_eq!(from_stored(None), None);
    }

    #[test]
    fn missing_scopes() {
        let held: Scopes = Some(vec!["a".to_string(), "b".to_string()].into());
        assert_eq!(missing(&held, &["a", "c", "d"]), vec!["c", "d"]);
        assert!(missing(&held, &["b"]).is_empty());
        assert!(missing(&None, &["x"]).is_empty());
        assert_eq!(missing(&Some(Vec::new().into()), &["x"]), vec!["x"]);
    }
}
