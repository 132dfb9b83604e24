//! JWT access tokens (RFC 9068) signed with Ed25519 (docs/tokens.md, "JWT access tokens"): key
//! pairs, their JWK form, the claims, and signing. Pure: no I/O. Signing and the JWS encoding
//! are `jsonwebtoken`'s; the keys are `ed25519-dalek`'s.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A fresh key pair: its 32-byte seed (kept sealed) and public key, with a random key id.
pub struct NewKeyPair {
    pub kid: String,
    /// The seed, base64url; only ever stored sealed.
    pub seed: String,
    /// The raw public key, base64url (the JWK's `x`).
    pub public: String,
}

impl std::fmt::Debug for NewKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes
}

/// Generates a key pair from the OS CSPRNG.
pub fn generate() -> NewKeyPair {
    let seed = random::<32>();
    let key = SigningKey::from_bytes(&seed);
    NewKeyPair {
        kid: B64.encode(random::<12>()),
        seed: B64.encode(seed),
        public: B64.encode(key.verifying_key().to_bytes()),
    }
}

/// A key that signs: its id and the encoding key built from its seed.
#[derive(Clone)]
pub struct Signer {
    pub kid: String,
    key: EncodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer of a stored key; `None` when the seed is not 32 base64url bytes.
    pub fn from_seed(kid: &str, seed: &str) -> Option<Self> {
        let seed: [u8; 32] = B64.decode(seed).ok()?.try_into().ok()?;
        let der = SigningKey::from_bytes(&seed).to_pkcs8_der().ok()?;
        Some(Self {
            kid: kid.to_string(),
            key: EncodingKey::from_ed_der(der.as_bytes()),
        })
    }

    /// Signs `claims` as an `at+jwt` with this key.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

/// The claims of an access token (RFC 9068 §2.2 and SPEC §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The user id, as a string.
    pub sub: String,
    pub aud: String,
    /// Unix seconds.
    pub exp: i64,
    pub iat: i64,
    /// Unique per token.
    pub jti: String,
    /// The client's name.
    pub client_id: String,
    /// The session (or API key) id.
    pub sid: String,
    pub username: String,
    /// When the user last proved their password for the session, unix seconds.
    pub auth_time: i64,
    /// A scoped API key's scopes, space-separated; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A public key as RFC 7517/8037 publish it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    #[schema(example = "OKP")]
    pub kty: &'static str,
    /// Always `Ed25519`.
    #[schema(example = "Ed25519")]
    pub crv: &'static str,
    /// The raw public key, base64url without padding.
    #[schema(example = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")]
    pub x: String,
    #[schema(example = "kZbV3lq2Jb0k8bXo")]
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: &'static str,
    /// Always `EdDSA`.
    #[schema(example = "EdDSA")]
    pub alg: &'static str,
}

impl Jwk {
    /// The JWK of a public key (base64url raw bytes).
    pub fn ed25519(kid: &str, public: &str) -> Self {
        Self {
            kty: "OKP",
            crv: "Ed25519",
            x: public.to_string(),
            kid: kid.to_string(),
            use_: "sig",
            alg: "EdDSA",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    fn claims() -> Claims {
        Claims {
            iss: "https://auth.example.com".into(),
            sub: "7".into(),
            aud: "https://auth.example.com".into(),
            exp: 4_000_000_000,
            iat: 3_999_999_700,
            jti: "j".into(),
            client_id: "web".into(),
            sid: "s".into(),
            username: "alice".into(),
            auth_time: 3_999_999_000,
            scope: None,
        }
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_key_only() {
        let pair = generate();
        let signer = Signer::from_seed(&pair.kid, &pair.seed).unwrap();
        let token = signer.sign(&claims()).unwrap();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(pair.kid.as_str()));
        assert_eq!(header.alg, Algorithm::EdDSA);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["https://auth.example.com"]);
        validation.validate_exp = false;
        let key = DecodingKey::from_ed_components(&pair.public).unwrap();
        let decoded = decode::<Claims>(&token, &key, &validation).unwrap();
        assert_eq!(decoded.claims, claims());
        // Another key's public half does not verify it.
        let other = generate();
        let key = DecodingKey::from_ed_components(&other.public).unwrap();
        assert!(decode::<Claims>(&token, &key, &validation).is_err());
    }

    #[test]
    fn scope_is_present_only_when_set() {
        let pair = generate();
        let signer = Signer::from_seed(&pair.kid, &pair.seed).unwrap();
        let body = |c: &Claims| {
            let token = signer.sign(c).unwrap();
            let payload = token.split('.').nth(1).unwrap().to_string();
            String::from_utf8(B64.decode(payload).unwrap()).unwrap()
        };
        assert!(!body(&claims()).contains("scope"));
        let scoped = Claims {
            scope: Some("reports:read".into()),
            ..claims()
        };
        assert!(body(&scoped).contains(r#""scope":"reports:read""#));
    }

    #[test]
    fn a_bad_seed_is_refused_and_debug_hides_the_seed() {
        assert!(Signer::from_seed("k", "short").is_none());
        let pair = generate();
        assert!(!format!("{pair:?}").contains(&pair.seed));
        assert_eq!(pair.kid.len(), 16);
    }
}
