//! Password hashing: argon2id for everything Kido stores, verification of imported
//! digests (argon2i/d/id, bcrypt, SHA-1, SHA-256, MD5) with a transparent upgrade, all of
//! it on a small pool of its own so the async workers never stall on a hash.

use std::sync::{Arc, Mutex, mpsc};

use std::cell::RefCell;

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use kido_proto::users::PasswordAlgorithm;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// argon2id cost. The defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl HashCost {
    /// The cheapest cost argon2 allows; for tests only.
    pub const MINIMAL: HashCost = HashCost { memory_kib: 8, iterations: 1, parallelism: 1 };
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("invalid argon2 cost: {0}")]
    InvalidCost(String),
    #[error("the `{0}` digest is malformed")]
    MalformedDigest(&'static str),
    #[error("the password could not be hashed")]
    Hashing,
}

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    pool: Arc<HashPool>,
}

type Job = Box<dyn FnOnce() + Send>;

/// One thread per core, each hashing one password at a time, so memory stays within
/// `cores × m` however many sign-ins arrive (they queue). The threads run at a lower CPU
/// priority: when nothing else wants the cores they hash at full speed; when token or API
/// requests do, those go first, so a burst of sign-ins does not stretch their latency.
struct HashPool {
    jobs: mpsc::Sender<Job>,
}

/// Nice value of the hashing threads (0 is normal, 19 the lowest priority).
const HASHING_NICENESS: i32 = 10;

impl HashPool {
    fn start() -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("kido-hash-{i}")).spawn(move || {
                // On Linux the nice value is per thread: this one only. Failure is harmless.
                let _ = rustix::process::setpriority_process(None, HASHING_NICENESS);
                loop {
                    // The lock is held only while waiting; the job runs without it.
                    let job = match receiver.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                }
            });
            if spawned.is_err() {
                tracing::warn!("could not start password hashing thread {i}");
            }
        }
        Self { jobs: sender }
    }

    /// Runs `work` on the pool; `None` if the pool is gone.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

/// The stored method name of everything Kido hashes itself.
pub const STORED_METHOD: &str = "Argon2id";

impl Passwords {
    pub fn new(cost: HashCost) -> Result<Self, PasswordError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| PasswordError::InvalidCost(e.to_string()))?;
        Ok(Self { params, pool: Arc::new(HashPool::start()) })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// argon2id PHC string of `password`, computed on the hashing pool.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let argon2 = self.argon2();
        self.pool.run(move || hash_argon2id(&argon2, &password)).await.unwrap_or(Err(PasswordError::Hashing))
    }

    /// Whether `password` matches `digest` made by `method`; constant-time where the
    /// comparison is ours. Runs on the hashing pool.
    pub async fn verify(&self, password: String, digest: String, method: String) -> bool {
        let kept = self.params.block_count();
        self.pool.run(move || verify_digest(&password, &digest, &method, kept)).await.unwrap_or(false)
    }

    /// Whether a stored hash should be replaced by a fresh argon2id one after a successful
    /// verification (imported algorithms, or argon2id with other parameters).
    pub fn needs_upgrade(&self, digest: &str, method: &str) -> bool {
        if method != STORED_METHOD {
            return true;
        }
        let expected =
            format!("$argon2id$v=19$m={},t={},p={}$", self.params.m_cost(), self.params.t_cost(), self.params.p_cost());
        !digest.starts_with(&expected)
    }
}

/// Checks that an imported digest is well-formed for its algorithm before storing it.
pub fn check_imported_digest(algorithm: PasswordAlgorithm, digest: &str) -> Result<(), PasswordError> {
    let hex_len = |n: usize| digest.len() == n && digest.bytes().all(|b| b.is_ascii_hexdigit());
    let ok = match algorithm {
        PasswordAlgorithm::Argon2i => digest.starts_with("$argon2i$") && argon2::PasswordHash::new(digest).is_ok(),
        PasswordAlgorithm::Argon2d => digest.starts_with("$argon2d$") && argon2::PasswordHash::new(digest).is_ok(),
        PasswordAlgorithm::Argon2id => digest.starts_with("$argon2id$") && argon2::PasswordHash::new(digest).is_ok(),
        PasswordAlgorithm::Bcrypt => {
            ["$2a$", "$2b$", "$2y$", "$2x$"].iter().any(|p| digest.starts_with(p)) && digest.len() == 60
        }
        PasswordAlgorithm::Sha1 => hex_len(40),
        PasswordAlgorithm::Sha256 => hex_len(64),
        PasswordAlgorithm::Md5 => hex_len(32),
    };
    if ok { Ok(()) } else { Err(PasswordError::MalformedDigest(algorithm.as_str())) }
}

thread_local! {
    /// argon2's working memory, kept by each hashing thread from one hash to the next: a
    /// fresh multi-MiB allocation per hash leaves the allocator's arenas holding hundreds of
    /// MiB under sign-in load; reusing it keeps the pool at `threads × m`.
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 of `password` into `out`, in this thread's kept memory when the cost is at most
/// `kept` blocks (Kido's own); a larger imported cost gets memory of its own, freed after.
fn argon2_into(argon2: &Argon2<'_>, kept: usize, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let needed = argon2.params().block_count();
    if needed > kept {
        let mut memory = vec![Block::new(); needed];
        return argon2.hash_password_into_with_memory(password, salt, out, &mut memory).is_ok();
    }
    WORKING_MEMORY.with_borrow_mut(|memory| {
        if memory.len() < needed {
            memory.resize(needed, Block::new());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..needed]).is_ok()
    })
}

/// A new argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, unpadded base64).
fn hash_argon2id(argon2: &Argon2<'_>, password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| PasswordError::Hashing)?;
    let mut out = [0u8; 32];
    let params = argon2.params();
    if !argon2_into(argon2, params.block_count(), password.as_bytes(), &salt, &mut out) {
        return Err(PasswordError::Hashing);
    }
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

/// Checks `password` against an argon2i/d/id PHC string, whose parameters it follows.
fn verify_argon2(password: &str, digest: &str, kept: usize) -> bool {
    let Ok(hash) = PasswordHash::new(digest) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return false };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else { return false };
    let mut out = vec![0u8; expected.len()];
    argon2_into(&Argon2::new(algorithm, version, params), kept, password.as_bytes(), salt, &mut out)
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

fn verify_digest(password: &str, digest: &str, method: &str, kept: usize) -> bool {
    let hex_equals = |computed: &[u8]| {
        let hex: String = computed.iter().map(|b| format!("{b:02x}")).collect();
        bool::from(hex.as_bytes().ct_eq(digest.to_ascii_lowercase().as_bytes()))
    };
    match PasswordAlgorithm::parse(method) {
        Some(PasswordAlgorithm::Argon2i | PasswordAlgorithm::Argon2d | PasswordAlgorithm::Argon2id) => {
            // The PHC string carries algorithm and parameters.
            verify_argon2(password, digest, kept)
        }
        Some(PasswordAlgorithm::Bcrypt) => bcrypt::verify(password, digest).unwrap_or(false),
        Some(PasswordAlgorithm::Sha1) => hex_equals(&Sha1::digest(password.as_bytes())),
        Some(PasswordAlgorithm::Sha256) => hex_equals(&Sha256::digest(password.as_bytes())),
        Some(PasswordAlgorithm::Md5) => hex_equals(&Md5::digest(password.as_bytes())),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_imports() {
        let p = Passwords::new(HashCost::MINIMAL).unwrap();
        let h = p.hash("s3cret-pass".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(p.verify("s3cret-pass".into(), h.clone(), STORED_METHOD.into()).await);
        assert!(!p.verify("wrong".into(), h.clone(), STORED_METHOD.into()).await);
        assert!(!p.needs_upgrade(&h, STORED_METHOD));
        assert!(Passwords::new(HashCost::default()).unwrap().needs_upgrade(&h, STORED_METHOD));

        let sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"; // "password"
        assert!(verify_digest("password", sha256, "SHA256", 0));
        assert!(!verify_digest("Password", sha256, "SHA256", 0));
        assert!(verify_digest("password", "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "SHA1", 0));
        assert!(verify_digest("password", "5f4dcc3b5aa765d61d8327deb882cf99", "MD5", 0));
        let bcrypt = bcrypt::hash("password", 4).unwrap();
        assert!(verify_digest("password", &bcrypt, "Bcrypt", 0));
        assert!(check_imported_digest(PasswordAlgorithm::Bcrypt, &bcrypt).is_ok());
        assert!(check_imported_digest(PasswordAlgorithm::Sha256, "xyz").is_err());
        assert!(check_imported_digest(PasswordAlgorithm::Md5, "5f4dcc3b5aa765d61d8327deb882cf99").is_ok());
        assert!(!verify_digest("password", sha256, "Unknown", 0));
        // Imported argon2 hashes of every variant, with costs other than Kido's own.
        for (variant, phc, method) in [
            (Algorithm::Argon2i, "$argon2i$", "Argon2i"),
            (Algorithm::Argon2d, "$argon2d$", "Argon2d"),
            (Algorithm::Argon2id, "$argon2id$", "Argon2id"),
        ] {
            use argon2::PasswordHasher;
            let digest = Argon2::new(variant, Version::V0x13, Params::new(64, 3, 2, None).unwrap())
                .hash_password(b"imported")
                .unwrap()
                .to_string();
            assert!(digest.starts_with(phc));
            // Larger than the kept memory (8 blocks) and within it (64).
            for kept in [8, 64] {
                assert!(verify_digest("imported", &digest, method, kept), "{digest}");
                assert!(!verify_digest("imposter", &digest, method, kept), "{digest}");
            }
        }
    }
}
