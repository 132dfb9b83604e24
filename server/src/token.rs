//! Token format (docs/tokens.md): `tss_`/`tsk_`, 32 random base62 characters, then a 6-character base62
//! CRC32 of the first 36 characters. Only the SHA-256 digest is ever stored.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// Total length of a token string.
pub const TOKEN_LEN: usize = 4 + RANDOM_LEN + CHECKSUM_LEN;
/// Characters of the token kept for display.
pub const HINT_LEN: usize = 8;

/// What a token authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A login on one device (`tss_`).
    Session,
    /// A user's API key (`tsk_`).
    ApiKey,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "tss_",
            TokenKind::ApiKey => "tsk_",
        }
    }

    /// The value stored in `sessions.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::ApiKey => "api_key",
        }
    }

    /// The kind stored as `s`.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "session" => Some(TokenKind::Session),
            "api_key" => Some(TokenKind::ApiKey),
            _ => None,
        }
    }
}

/// Hex SHA-256 of a token string: the only form in which a token reaches the database.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(String);

impl TokenDigest {
    /// The hex digest, for queries.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// A freshly minted token: the secret (shown once), its digest and its display hint.
pub struct NewToken {
    /// The token string; only exposed in the issuing response.
    pub secret: SecretString,
    pub digest: TokenDigest,
    pub hint: String,
}

/// Mints a token of `kind` from the OS CSPRNG.
pub fn generate(kind: TokenKind) -> NewToken {
    let mut body = String::with_capacity(TOKEN_LEN);
    body.push_str(kind.prefix());
    let mut filled = 0;
    let mut buf = [0u8; 64];
    while filled < RANDOM_LEN {
        getrandom::fill(&mut buf).expect("the OS random number generator failed");
        // Rejection sampling keeps every character equally likely: 248 = 4 * 62.
        for &b in buf.iter().filter(|&&b| b < 248) {
            if filled == RANDOM_LEN {
                break;
            }
            body.push(ALPHABET[(b % 62) as usize] as char);
            filled += 1;
        }
    }
    let sum = checksum(body.as_bytes());
    body.extend(sum.iter().map(|&c| char::from(c)));
    NewToken {
        digest: digest(&body),
        hint: body[..HINT_LEN].to_string(),
        secret: SecretString::from(body),
    }
}

fn checksum(head: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(head);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn digest(token: &str) -> TokenDigest {
    // By hand rather than through a hex crate: one table lookup per nibble, and the digest is
    // on the path of every request.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = Sha256::digest(token.as_bytes());
    let mut hex = [0u8; 64];
    for (pair, b) in hex.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
    }
    // ASCII throughout, so the check cannot fail (and costs less than pushing `char`s).
    TokenDigest(String::from_utf8(hex.to_vec()).unwrap_or_default())
}

/// Checks a presented token's shape and checksum without touching the database and returns
/// its kind and digest, or `None` when it cannot be a Tessera token.
pub fn parse(presented: &str) -> Option<(TokenKind, TokenDigest)> {
    if presented.len() != TOKEN_LEN {
        return None;
    }
    let kind = if presented.starts_with("tss_") {
        TokenKind::Session
    } else if presented.starts_with("tsk_") {
        TokenKind::ApiKey
    } else {
        return None;
    };
    let (head, sum) = presented.as_bytes().split_at(TOKEN_LEN - CHECKSUM_LEN);
    if !presented.as_bytes()[4..]
        .iter()
        .all(u8::is_ascii_alphanumeric)
        || checksum(head) != sum
    {
        return None;
    }
    Some((kind, digest(presented)))
}

/// The token string of a [`NewToken`], for the one response that shows it.
pub fn reveal(token: &NewToken) -> String {
    token.secret.expose_secret().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_lowercase_hex_sha256() {
        // Python: hashlib.sha256(b"abc").hexdigest()
        assert_eq!(
            digest("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = generate(TokenKind::Session);
        let b = generate(TokenKind::ApiKey);
        let (sa, sb) = (reveal(&a), reveal(&b));
        assert_eq!(sa.len(), TOKEN_LEN);
        assert!(sa.starts_with("tss_") && sb.starts_with("tsk_"));
        assert_eq!(parse(&sa), Some((TokenKind::Session, a.digest.clone())));
        assert_eq!(parse(&sb).map(|p| p.0), Some(TokenKind::ApiKey));
        assert_ne!(sa[4..36], sb[4..36]);
        assert_eq!(a.hint, sa[..8]);
    }

    #[test]
    fn checksum_matches_zlib_crc32_in_base62() {
        // Python: zlib.crc32(b"tss_" + b"0" * 32) == 4004978698, which is "4N2Tuc" in base62.
        let head = format!("tss_{}", "0".repeat(32));
        assert_eq!(&checksum(head.as_bytes()), b"4N2Tuc");
        assert!(parse(&format!("{head}4N2Tuc")).is_some());
        assert!(parse(&format!("{head}4N2Tud")).is_none());
    }

    #[test]
    fn tampering_is_rejected() {
        let t = reveal(&generate(TokenKind::Session));
        let mut flipped = t.clone().into_bytes();
        flipped[10] = if flipped[10] == b'a' { b'b' } else { b'a' };
        assert!(parse(std::str::from_utf8(&flipped).unwrap()).is_none());
        assert!(parse(&t.replacen("tss_", "tsx_", 1)).is_none());
        assert!(parse(&t[..41]).is_none());
        assert!(parse(&format!("{}é", &t[..40])).is_none());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let t = generate(TokenKind::Session);
        assert!(!format!("{:?} {:?}", t.secret, t.digest).contains(&reveal(&t)[4..]));
    }
}
