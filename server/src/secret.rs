//! The server's secret key and what is signed with it (docs/concepts.md, "Budgets"). Pure: the
//! key is loaded (or made once and shared through the database) by `crate::startup`.
//!
//! Each use gets its own key, derived as HMAC-SHA256(master, label), so that a value signed for
//! one purpose can never pass for another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// How long a device proof is accepted, in seconds (90 days).
pub const DEVICE_PROOF_TTL: i64 = 90 * 86_400;

/// Keys derived from the server's secret.
#[derive(Clone)]
pub struct ServerSecret {
    device: [u8; 32],
    csrf: [u8; 32],
    seal: [u8; 32],
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

impl ServerSecret {
    /// Derives the keys from a master secret (`TESSERA_SECRET_KEY`, or the stored one).
    pub fn from_master(master: &[u8]) -> Self {
        Self {
            device: mac(master, &[b"tessera device proof v1"]),
            csrf: mac(master, &[b"tessera csrf v1"]),
            seal: mac(master, &[b"tessera seal v1"]),
        }
    }

    /// A fresh random secret (for tests and embedders that do not share one).
    pub fn random() -> Self {
        Self::from_master(&random_bytes::<32>())
    }

    /// The CSRF token of a cookie session (docs/tokens.md, "Browser apps"): HMAC-SHA256 of its
    /// id, base64url without padding. Stateless: every instance sharing the secret computes
    /// the same one, and it needs no storage.
    pub fn csrf_token(&self, session_id: &str) -> String {
        B64.encode(mac(&self.csrf, &[session_id.as_bytes()]))
    }

    /// Whether `presented` is the CSRF token of `session_id` (compared in constant time).
    pub fn check_csrf(&self, session_id: &str, presented: &[u8]) -> bool {
        let expected = self.csrf_token(session_id);
        bool::from(expected.as_bytes().ct_eq(presented))
    }

    /// Encrypts `plain` (ChaCha20-Poly1305, a random nonce) bound to `context`, so that the
    /// sealed value only opens for that context (a session id): `base64url(nonce ‖ ciphertext)`.
    pub fn seal(&self, context: &str, plain: &str) -> String {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let cipher = chacha20poly1305::ChaCha20Poly1305::new((&self.seal).into());
        let nonce = random_bytes::<12>();
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and nonce only fails for messages of gigabytes.
        let sealed = cipher
            .encrypt((&nonce).into(), payload)
            .expect("ChaCha20-Poly1305 encrypts short messages");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }

    /// Opens a value made by [`ServerSecret::seal`] for the same `context`; `None` when it was
    /// sealed under another secret or context, or tampered with.
    pub fn unseal(&self, context: &str, sealed: &str) -> Option<String> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let raw = B64.decode(sealed).ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let cipher = chacha20poly1305::ChaCha20Poly1305::new((&self.seal).into());
        let payload = Payload {
            msg: body,
            aad: context.as_bytes(),
        };
        let plain = cipher.decrypt(nonce.into(), payload).ok()?;
        String::from_utf8(plain).ok()
    }

    /// A new proof that this device logged in as `username` at `now_secs`:
    /// `v1.<username>.<issued>.<nonce>.<mac>`, the username base64url-encoded.
    pub fn issue_device_proof(&self, username: &str, now_secs: i64) -> String {
        let nonce = hex(&random_bytes::<12>());
        let body = format!("v1.{}.{now_secs}.{nonce}", B64.encode(username));
        let sig = B64.encode(mac(&self.device, &[body.as_bytes()]));
        format!("{body}.{sig}")
    }

    /// The nonce of a proof that is genuine, names `username` and is at most 90 days old; `None`
    /// for anything else (which is then simply ignored).
    pub fn check_device_proof(&self, proof: &str, username: &str, now_secs: i64) -> Option<String> {
        if proof.len() > 512 {
            return None;
        }
        let (body, sig) = proof.rsplit_once('.')?;
        let expected = mac(&self.device, &[body.as_bytes()]);
        let sig = B64.decode(sig).ok()?;
        if !bool::from(sig.ct_eq(&expected)) {
            return None;
        }
        let mut fields = body.split('.');
        let (Some("v1"), Some(name), Some(issued), Some(nonce), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return None;
        };
        let issued: i64 = issued.parse().ok()?;
        let fresh = (0..=DEVICE_PROOF_TTL).contains(&(now_secs - issued));
        (B64.decode(name).ok()? == username.as_bytes() && fresh).then(|| nonce.to_string())
    }
}

/// `N` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new master secret, as stored: 32 random bytes, base64url.
pub fn new_master() -> String {
    B64.encode(random_bytes::<32>())
}

/// The bytes of a stored or configured master secret (base64url, or taken as it is).
pub fn master_bytes(value: &str) -> Vec<u8> {
    B64.decode(value.trim())
        .unwrap_or_else(|_| value.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_context_and_secret() {
        let key = ServerSecret::from_master(b"one");
        let sealed = key.seal("s1", "tss_secret");
        assert!(!sealed.contains("tss_secret"));
        assert_ne!(
            sealed,
            key.seal("s1", "tss_secret"),
            "a fresh nonce each time"
        );
        assert_eq!(key.unseal("s1", &sealed).as_deref(), Some("tss_secret"));
        assert_eq!(key.unseal("s2", &sealed), None);
        assert_eq!(
            ServerSecret::from_master(b"two").unseal("s1", &sealed),
            None
        );
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.unseal("s1", &String::from_utf8(tampered).unwrap()),
            None
        );
        assert_eq!(key.unseal("s1", "short"), None);
    }

    #[test]
    fn csrf_tokens_belong_to_one_session_and_one_secret() {
        let key = ServerSecret::from_master(b"one");
        let token = key.csrf_token("s1");
        assert_eq!(token, ServerSecret::from_master(b"one").csrf_token("s1"));
        assert!(key.check_csrf("s1", token.as_bytes()));
        assert!(!key.check_csrf("s2", token.as_bytes()));
        assert!(!ServerSecret::from_master(b"two").check_csrf("s1", token.as_bytes()));
        assert!(!key.check_csrf("s1", b""));
        // Separate derived keys: a CSRF token is not a device proof signature.
        assert_ne!(key.csrf, key.device);
    }

    #[test]
    fn proofs_name_their_user_and_expire() {
        let key = ServerSecret::random();
        let proof = key.issue_device_proof("alice", 1_000);
        assert!(key.check_device_proof(&proof, "alice", 1_000).is_some());
        assert!(
            key.check_device_proof(&proof, "alice", 1_000 + DEVICE_PROOF_TTL)
                .is_some()
        );
        assert!(
            key.check_device_proof(&proof, "alice", 1_001 + DEVICE_PROOF_TTL)
                .is_none()
        );
        assert!(
            key.check_device_proof(&proof, "bob", 1_000).is_none(),
            "another user's"
        );
        assert!(
            ServerSecret::random()
                .check_device_proof(&proof, "alice", 1_000)
                .is_none()
        );
        // Another user's name under alice's signature.
        let (_, rest) = proof.split_at(3);
        let forged = format!("v1.Ym9i{}", &rest[rest.find('.').unwrap()..]);
        assert!(key.check_device_proof(&forged, "alice", 1_000).is_none());
        assert!(key.check_device_proof("garbage", "alice", 1_000).is_none());
        // Two proofs of one user are two devices: two budgets.
        let other = key.issue_device_proof("alice", 1_000);
        assert_ne!(
            key.check_device_proof(&proof, "alice", 1_000),
            key.check_device_proof(&other, "alice", 1_000)
        );
    }

    #[test]
    fn derived_keys_follow_the_master() {
        let a = ServerSecret::from_master(b"one");
        let proof = a.issue_device_proof("x", 5);
        assert!(
            ServerSecret::from_master(b"one")
                .check_device_proof(&proof, "x", 5)
                .is_some()
        );
        assert!(
            ServerSecret::from_master(b"two")
                .check_device_proof(&proof, "x", 5)
                .is_none()
        );
        assert_eq!(master_bytes(&new_master()).len(), 32);
    }
}
