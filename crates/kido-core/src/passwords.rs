//! Password hashing: argon2id for everything Kido stores, verification of imported
//! digests (argon2i/d/id, bcrypt, SHA-1, SHA-256, MD5) with a transparent upgrade, all of
//! it on a small pool of its own so the async workers never stall on a hash.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

    /// Whether argon2 accepts this cost; `Err` says what is wrong (e.g. "memory cost is too small").
    pub fn check(&self) -> Result<(), String> {
        self.params().map(|_| ()).map_err(|e| match e {
            PasswordError::InvalidCost(why) => why,
            other => other.to_string(),
        })
    }

    fn params(&self) -> Result<Params, PasswordError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| PasswordError::InvalidCost(e.to_string()))
    }
}

/// The most an imported digest may cost to verify. Above it one sign-in attempt could
/// exhaust memory (argon2 `m`) or pin a hashing thread for hours (argon2 `t`, bcrypt cost).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
pub const MAX_ARGON2_ITERATIONS: u32 = 64;
pub const MAX_ARGON2_PARALLELISM: u32 = 16;
pub const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=17;

/// Jobs that may wait for a hashing thread, per core, unless configured.
pub const DEFAULT_QUEUE_PER_CORE: usize = 32;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("invalid argon2 cost: {0}")]
    InvalidCost(String),
    #[error("the `{0}` digest is malformed")]
    MalformedDigest(&'static str),
    #[error("the `{0}` digest costs more than Kido verifies ({1})")]
    DigestCostOutOfBounds(&'static str, String),
    #[error("the password could not be hashed")]
    Hashing,
    /// The hashing queue is full: the caller answers "busy, retry shortly".
    #[error("too many passwords are waiting to be checked")]
    Busy,
    /// Too many password checks from this client IP or for this identifier.
    #[error("too many password attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
}

impl From<crate::rate_limits::Limited> for PasswordError {
    fn from(l: crate::rate_limits::Limited) -> Self {
        Self::RateLimited { retry_after_secs: l.retry_after_secs }
    }
}

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    pool: Arc<HashPool>,
}

/// A place in the hashing queue, taken before any other work of an attempt (so a full
/// queue costs the attempt nothing) and held until its hash has run.
pub struct HashTicket {
    pool: Arc<HashPool>,
}

impl Drop for HashTicket {
    fn drop(&mut self) {
        self.pool.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// One thread per core, each hashing one password at a time, so memory stays within
/// `cores × m`; at most `capacity` jobs are admitted (running or waiting), so the wait of
/// a real sign-in behind a flood stays bounded and the flood gets "busy" instead. The
/// threads run at a lower CPU priority: when nothing else wants the cores they hash at full
/// speed; when token or API requests do, those go first.
struct HashPool {
    jobs: mpsc::Sender<Job>,
    /// Jobs admitted and not finished (running or queued).
    admitted: AtomicUsize,
    capacity: usize,
    /// Jobs run since start (tests count hash work with it).
    jobs_run: AtomicU64,
}

/// Nice value of the hashing threads (0 is normal, 19 the lowest priority).
const HASHING_NICENESS: i32 = 10;

/// Hashing threads: one per core.
fn hashing_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How many jobs may wait for a hashing thread by default (32 per core).
pub fn default_queue_limit() -> usize {
    DEFAULT_QUEUE_PER_CORE * hashing_threads()
}

impl HashPool {
    fn start(queue_limit: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = hashing_threads();
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
        Self {
            jobs: sender,
            admitted: AtomicUsize::new(0),
            capacity: threads + queue_limit,
            jobs_run: AtomicU64::new(0),
        }
    }

    /// A place in the queue, or `Busy` when `capacity` jobs are already admitted.
    fn admit(self: &Arc<Self>) -> Result<HashTicket, PasswordError> {
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.capacity).then_some(n + 1))
            .map_err(|_| PasswordError::Busy)?;
        Ok(HashTicket { pool: self.clone() })
    }

    /// Runs `work` on the pool under `ticket` (released when the work is done, even if
    /// the caller stopped waiting); `None` if the pool is gone.
    async fn run<T: Send + 'static>(&self, ticket: HashTicket, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            ticket.pool.jobs_run.fetch_add(1, Ordering::Relaxed);
            let result = work();
            // Released before the answer, so the caller's next admission finds it free.
            drop(ticket);
            let _ = done.send(result);
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

/// The stored method name of everything Kido hashes itself.
pub const STORED_METHOD: &str = "Argon2id";

impl Passwords {
    /// `queue_limit`: how many jobs may wait for a hashing thread before `Busy`.
    pub fn new(cost: HashCost, queue_limit: usize) -> Result<Self, PasswordError> {
        let params = cost.params()?;
        Ok(Self { params, pool: Arc::new(HashPool::start(queue_limit)) })
    }

    /// A place in the hashing queue; `Busy` when it is full.
    pub fn admit(&self) -> Result<HashTicket, PasswordError> {
        self.pool.admit()
    }

    /// Hashing jobs run since start.
    pub fn jobs_run(&self) -> u64 {
        self.pool.jobs_run.load(Ordering::Relaxed)
    }

    /// Jobs admitted and not finished (running or waiting), and how many may be at once.
    pub fn queue(&self) -> (usize, usize) {
        (self.pool.admitted.load(Ordering::Relaxed), self.pool.capacity)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// argon2id PHC string of `password`, computed on the hashing pool (`Busy` when full).
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let ticket = self.admit()?;
        let argon2 = self.argon2();
        self.pool.run(ticket, move || hash_argon2id(&argon2, &password)).await.unwrap_or(Err(PasswordError::Hashing))
    }

    /// Whether `password` matches the stored `(digest, method)`; constant-time where the
    /// comparison is ours. Runs on the hashing pool. A failure always costs at least one
    /// argon2id at Kido's cost, whatever the reason (no such user, no password, a digest
    /// beyond the bounds or cheaper than Kido's), so timing tells nothing of the account.
    pub async fn verify(&self, ticket: HashTicket, password: String, stored: Option<(String, String)>) -> bool {
        let kept = self.params.block_count();
        let own = self.argon2();
        let ours = stored.as_ref().is_some_and(|(digest, method)| !self.needs_upgrade(digest, method));
        self.pool
            .run(ticket, move || {
                let verdict = stored.as_ref().and_then(|(digest, method)| {
                    let algorithm = PasswordAlgorithm::parse(method)?;
                    check_digest_cost(algorithm, digest).ok()?;
                    Some(verify_digest(password.as_bytes(), digest, algorithm, kept))
                });
                match verdict {
                    Some(true) => true,
                    Some(false) if ours => false,
                    _ => {
                        equal_cost_work(&own, kept, password.as_bytes());
                        false
                    }
                }
            })
            .await
            .unwrap_or(false)
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
    if !ok {
        return Err(PasswordError::MalformedDigest(algorithm.as_str()));
    }
    check_digest_cost(algorithm, digest)
}

/// The one rule of what a stored digest may cost to verify (checked at import and again
/// before every verification, for rows stored before the rule): argon2 m, t and p within
/// `MAX_ARGON2_*`, bcrypt cost within `BCRYPT_COSTS`. The hex digests cost nothing.
pub fn check_digest_cost(algorithm: PasswordAlgorithm, digest: &str) -> Result<(), PasswordError> {
    let out_of_bounds = |why: String| Err(PasswordError::DigestCostOutOfBounds(algorithm.as_str(), why));
    match algorithm {
        PasswordAlgorithm::Argon2i | PasswordAlgorithm::Argon2d | PasswordAlgorithm::Argon2id => {
            let Ok(hash) = PasswordHash::new(digest) else {
                return Err(PasswordError::MalformedDigest(algorithm.as_str()));
            };
            let param = |name: &str| hash.params.get_decimal(name);
            let (Some(m), Some(t), Some(p)) = (param("m"), param("t"), param("p")) else {
                return Err(PasswordError::MalformedDigest(algorithm.as_str()));
            };
            if m > MAX_ARGON2_MEMORY_KIB || t > MAX_ARGON2_ITERATIONS || p > MAX_ARGON2_PARALLELISM {
                return out_of_bounds(format!(
                    "m={m}, t={t}, p={p}; at most m={MAX_ARGON2_MEMORY_KIB}, t={MAX_ARGON2_ITERATIONS}, p={MAX_ARGON2_PARALLELISM}"
                ));
            }
            // What argon2 itself refuses (t = 0, m < 8p…) is malformed, not merely costly.
            if Params::try_from(&hash).is_err() {
                return Err(PasswordError::MalformedDigest(algorithm.as_str()));
            }
            Ok(())
        }
        PasswordAlgorithm::Bcrypt => {
            let cost = digest.get(4..6).and_then(|c| c.parse::<u32>().ok());
            match cost {
                Some(cost) if BCRYPT_COSTS.contains(&cost) => Ok(()),
                Some(cost) => {
                    out_of_bounds(format!("cost {cost}; from {} to {}", BCRYPT_COSTS.start(), BCRYPT_COSTS.end()))
                }
                None => Err(PasswordError::MalformedDigest(algorithm.as_str())),
            }
        }
        PasswordAlgorithm::Sha1 | PasswordAlgorithm::Sha256 | PasswordAlgorithm::Md5 => Ok(()),
    }
}

/// The work of one failed verification at Kido's cost: argon2id of the given password
/// under a fixed salt, the result thrown away.
fn equal_cost_work(own: &Argon2<'_>, kept: usize, password: &[u8]) {
    let mut out = [0u8; 32];
    let _ = argon2_into(own, kept, password, b"kido-equal-cost-salt", &mut out);
    std::hint::black_box(&out);
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
fn verify_argon2(password: &[u8], digest: &str, kept: usize) -> bool {
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
    argon2_into(&Argon2::new(algorithm, version, params), kept, password, salt, &mut out)
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// Checks `password` against `digest` (its cost already checked by `check_digest_cost`).
fn verify_digest(password: &[u8], digest: &str, algorithm: PasswordAlgorithm, kept: usize) -> bool {
    let hex_equals = |computed: &[u8]| {
        let hex: String = computed.iter().map(|b| format!("{b:02x}")).collect();
        bool::from(hex.as_bytes().ct_eq(digest.to_ascii_lowercase().as_bytes()))
    };
    match algorithm {
        PasswordAlgorithm::Argon2i | PasswordAlgorithm::Argon2d | PasswordAlgorithm::Argon2id => {
            // The PHC string carries algorithm and parameters.
            verify_argon2(password, digest, kept)
        }
        PasswordAlgorithm::Bcrypt => bcrypt::verify(password, digest).unwrap_or(false),
        PasswordAlgorithm::Sha1 => hex_equals(&Sha1::digest(password)),
        PasswordAlgorithm::Sha256 => hex_equals(&Sha256::digest(password)),
        PasswordAlgorithm::Md5 => hex_equals(&Md5::digest(password)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify_digest(password: &str, digest: &str, method: &str, kept: usize) -> bool {
        PasswordAlgorithm::parse(method)
            .is_some_and(|algorithm| super::verify_digest(password.as_bytes(), digest, algorithm, kept))
    }

    #[tokio::test]
    async fn hash_verify_and_imports() {
        let p = Passwords::new(HashCost::MINIMAL, 8).unwrap();
        let h = p.hash("s3cret-pass".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        let stored = Some((h.clone(), STORED_METHOD.to_owned()));
        assert!(p.verify(p.admit().unwrap(), "s3cret-pass".into(), stored.clone()).await);
        assert!(!p.verify(p.admit().unwrap(), "wrong".into(), stored).await);
        assert!(!p.needs_upgrade(&h, STORED_METHOD));
        assert!(Passwords::new(HashCost::default(), 8).unwrap().needs_upgrade(&h, STORED_METHOD));

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

    #[test]
    fn digest_cost_is_bounded() {
        let argon2 =
            |m: u64, t: u64, p: u64| format!("$argon2id$v=19$m={m},t={t},p={p}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
        assert!(check_imported_digest(PasswordAlgorithm::Argon2id, &argon2(262_144, 64, 16)).is_ok());
        for (m, t, p) in [(4_294_967_295, 1, 1), (64, 4_294_967_295, 1), (262_145, 1, 1), (64, 65, 1), (256, 1, 17)] {
            let digest = argon2(m, t, p);
            let err = check_imported_digest(PasswordAlgorithm::Argon2id, &digest).unwrap_err();
            assert!(
                matches!(err, PasswordError::DigestCostOutOfBounds(..) | PasswordError::MalformedDigest(_)),
                "{digest}: {err}"
            );
        }
        let bcrypt31 = format!("$2b$31${}", "a".repeat(53));
        assert!(matches!(
            check_imported_digest(PasswordAlgorithm::Bcrypt, &bcrypt31),
            Err(PasswordError::DigestCostOutOfBounds(..))
        ));
        let bcrypt3 = format!("$2b$03${}", "a".repeat(53));
        assert!(check_imported_digest(PasswordAlgorithm::Bcrypt, &bcrypt3).is_err());
        let bcrypt17 = format!("$2b$17${}", "a".repeat(53));
        assert!(check_imported_digest(PasswordAlgorithm::Bcrypt, &bcrypt17).is_ok());
    }

    #[tokio::test]
    async fn every_failure_costs_one_job_and_the_queue_is_bounded() {
        let p = Passwords::new(HashCost::MINIMAL, 0).unwrap();
        let huge = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned();
        for stored in [None, Some((huge, "Argon2id".to_owned())), Some(("x".into(), "Unknown".into()))] {
            let before = p.jobs_run();
            assert!(!p.verify(p.admit().unwrap(), "guess".into(), stored).await);
            assert_eq!(p.jobs_run(), before + 1);
        }
        // With no queue, the pool admits one job per thread and no more.
        let tickets: Vec<_> = (0..hashing_threads()).map(|_| p.admit().unwrap()).collect();
        assert_eq!(p.admit().err(), Some(PasswordError::Busy));
        assert_eq!(p.hash("x".into()).await, Err(PasswordError::Busy));
        drop(tickets);
        assert!(p.admit().is_ok());
    }
}
