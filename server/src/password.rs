//! Argon2id password hashing (m = 19 MiB, t = 2, p = 1), on a fixed pool of worker threads.
//!
//! One thread per core, each reusing one 19 MiB block buffer for every verification. An
//! unbounded blocking pool would run no faster (Argon2 is CPU-bound), and freeing a fresh
//! 19 MiB buffer per login on many threads left glibc holding hundreds of MB (measured 428 MB
//! peak RSS under a login flood, against ~60 MB with this pool).
//!
//! The workers run at a lower priority ([`WORKER_NICE`]): under a login flood they still use
//! every idle cycle, but when verification wants a core too the kernel gives the async workers
//! about nine times their weight, so a flood of logins cannot starve token verification
//! (`scripts/bench.sh --flood`).

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};
use subtle::ConstantTimeEq;

const M_COST: u32 = 19 * 1024;

fn params() -> Params {
    Params::new(M_COST, 2, 1, None).expect("valid Argon2 parameters")
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The nice value of the Argon2 workers (the async runtime's threads stay at the process's).
/// CFS weighs nice 10 at about a tenth of nice 0.
pub const WORKER_NICE: i32 = 10;

/// Lowers the calling thread's priority to [`WORKER_NICE`] (never raises it: a process that
/// already runs nicer keeps its value). On Linux the nice value is per thread, so this leaves
/// the rest of the process alone.
fn lower_priority() {
    let tid = rustix::thread::gettid();
    let current = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
    if let Err(err) = rustix::process::setpriority_process(Some(tid), current.max(WORKER_NICE)) {
        tracing::warn!(error = %err, "cannot lower the priority of an Argon2 worker");
    }
}

/// The worker threads' queue.
static POOL: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..workers {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                lower_priority();
                let mut blocks = vec![Block::default(); params().block_count()];
                loop {
                    let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    };
                    job(&mut blocks);
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "cannot start an Argon2 worker");
        }
    }
    tx
});

/// Runs `work` on an Argon2 worker with its block buffer, never on an async worker thread.
async fn on_worker<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    POOL.send(Box::new(move |blocks| {
        let _ = tx.send(work(blocks));
    }))
    .map_err(|_| anyhow::anyhow!("the Argon2 workers are gone"))?;
    Ok(rx.await?)
}

/// A hash of a password nobody knows, verified when the username is unknown so that the
/// response takes as long as for a real user.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_blocking("tessera dummy password"));

fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Verifies `password` against a PHC string, computing into `blocks` (grown if a stored hash
/// used a larger memory cost than today's).
fn verify_with(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let Ok(version) = version else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let count = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..count])
        .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
}

/// Hashes `password` on an Argon2 worker and returns its PHC string.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    on_worker(move |_| hash_blocking(password.expose_secret())).await
}

/// The stored "hash" of a user who has no usable password (created by remote-user login):
/// `!` and random hex, as Django marks unusable passwords. No password verifies against it.
pub fn unusable() -> String {
    format!(
        "!{}",
        crate::secret::hex(&crate::secret::random_bytes::<16>())
    )
}

/// Whether a stored hash is a real one (see [`unusable`]).
pub fn is_usable(phc: &str) -> bool {
    !phc.starts_with('!')
}

/// Verifies `password` against `phc` on an Argon2 worker; with `None` (unknown user) or an
/// unusable hash it verifies against a dummy hash and returns false, taking the same time.
pub async fn verify(password: SecretString, phc: Option<String>) -> anyhow::Result<bool> {
    let phc = phc.filter(|p| is_usable(p));
    on_worker(move |blocks| match phc {
        Some(phc) => verify_with(password.expose_secret(), &phc, blocks),
        None => {
            verify_with(password.expose_secret(), &DUMMY_HASH, blocks);
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
        assert!(
            !super::verify("x".to_string().into(), Some("not a phc".into()))
                .await
                .unwrap()
        );
        let unusable = super::unusable();
        assert!(!super::is_usable(&unusable));
        assert!(
            !super::verify(unusable.clone().into(), Some(unusable))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn workers_run_nicer_than_the_async_threads() {
        let worker = super::on_worker(|_| {
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
        })
        .await
        .unwrap();
        let here = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        assert!(worker >= super::WORKER_NICE, "worker nice {worker}");
        assert!(
            worker > here || here >= super::WORKER_NICE,
            "worker {worker}, async {here}"
        );
    }

    #[tokio::test]
    async fn verifies_hashes_made_with_other_parameters() {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let params = argon2::Params::new(32 * 1024, 3, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let phc = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"older hash", &salt)
            .unwrap()
            .to_string();
        assert!(
            super::verify("older hash".to_string().into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !super::verify("other".to_string().into(), Some(phc))
                .await
                .unwrap()
        );
    }
}
