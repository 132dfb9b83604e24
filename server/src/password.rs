//! Argon2id password hashing (m = 19 MiB, t = 2, p = 1), always off the async workers.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// At most one Argon2 computation per core: each takes 19 MiB, and an unbounded burst of logins
/// would otherwise grow the blocking pool (and memory) without making anything faster.
static PERMITS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = PERMITS.acquire().await?;
    Ok(tokio::task::spawn_blocking(work).await?)
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody knows, verified when the username is unknown so that the
/// response takes as long as for a real user.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_blocking("tessera dummy password"));

fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing with valid parameters cannot fail")
        .to_string()
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashes `password` on the blocking pool and returns its PHC string.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    off_the_runtime(move || hash_blocking(password.expose_secret())).await
}

/// Verifies `password` against `phc` on the blocking pool; with `None` (unknown user) it
/// verifies against a dummy hash and returns false, taking the same time.
pub async fn verify(password: SecretString, phc: Option<String>) -> anyhow::Result<bool> {
    off_the_runtime(move || match phc {
        Some(phc) => verify_blocking(password.expose_secret(), &phc),
        None => {
            verify_blocking(password.expose_secret(), &DUMMY_HASH);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hash_then_verify() {
        let phc = super::hash("correct horse".to_string().into())
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            super::verify("correct horse".to_string().into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !super::verify("wrong horse".to_string().into(), Some(phc))
                .await
                .unwrap()
        );
        assert!(!super::verify("x".to_string().into(), None).await.unwrap());
    }
}
