//! argon2id hashing (m=19456 KiB, t=2, p=1) on the blocking pool, with bounded concurrency so a
//! burst of logins cannot exhaust memory. Verifying against a dummy hash for unknown accounts keeps
//! their failure time close to a wrong password's.
//!
//! Accounts carried over from the original system keep their bcrypt hashes (`$2a$`, `$2b$`,
//! `$2y$`), which verify here too; [`outdated`] tells the login to replace such a hash, or an
//! argon2 one with other parameters, while it holds the password in clear.
//!
//! A bcrypt hash of the original's cost takes far longer than argon2 or the dummy, so a failed
//! verification is held until a "floor" (measured on the blocking thread): the longest bcrypt
//! verification seen (seeded at startup from the legacy hashes still stored), or the recent
//! longest argon2 one, whichever is longer. A wrong password for a legacy account, for a current
//! one, and an unknown account then all fail after the same time, and the failure time tells
//! nothing about which kind an e-mail belongs to. The argon2 part decays, so that one slow moment
//! (a loaded machine) does not slow every later failure. The wait is a timer, not work, and holds
//! no hashing permit.
//!
//! Memory: an argon2id hash works in 19 MiB. Allocated per hash on whichever blocking thread ran
//! it, those blocks stayed in the allocator's per-thread arenas after a login storm (0.75 GiB held
//! afterwards). Here each permitted concurrent hash borrows a buffer from [`WorkingMemory`]: reused
//! while hashes overlap, and freed as soon as none runs. Each buffer is reserved above the size at
//! which glibc always maps an allocation on its own, so freeing it returns it to the system;
//! only the 19 MiB the hash uses is ever touched. Peak RSS under a storm is therefore about
//! idle + permits × 19 MiB, and back to idle after.

use argon2::password_hash::{
    Output, ParamsString, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use crm_common::ApiError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// The floor never exceeds this, whatever one slow verification took.
const MAX_FLOOR: Duration = Duration::from_secs(1);

fn params() -> Params {
    // The parameters are constants known to be valid; fall back to the crate's defaults (also
    // argon2id) rather than fail.
    Params::new(M_COST, T_COST, P_COST, None).unwrap_or_default()
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Blocks reserved per buffer: 33 MiB, above glibc's largest dynamic mmap threshold (32 MiB on
/// 64-bit), so every buffer is a mapping of its own and freeing it unmaps it. Pages beyond the
/// [`M_COST`] blocks in use are reserved, never touched, and cost no RSS.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// [`M_COST`] blocks in a mapping of their own.
fn new_buffer() -> Vec<Block> {
    let mut blocks = Vec::with_capacity(RESERVED_BLOCKS);
    blocks.resize(M_COST as usize, Block::default());
    blocks
}

/// argon2's working memory: at most one buffer per hashing permit, kept only while hashes overlap.
pub struct WorkingMemory {
    free: Mutex<Vec<Vec<Block>>>,
    permits: usize,
}

impl WorkingMemory {
    fn new(permits: usize) -> Self {
        Self { free: Mutex::new(Vec::with_capacity(permits)), permits }
    }

    /// A buffer of [`M_COST`] blocks: a free one, or a new one. Called with a permit held, so
    /// buffers in use plus free ones never outnumber the permits.
    fn take(&self) -> Vec<Block> {
        self.free.lock().ok().and_then(|mut free| free.pop()).unwrap_or_else(new_buffer)
    }

    /// Returns a buffer, before its permit is released. When no other hash holds a permit the
    /// storm, if any, is over: this buffer and every free one are released.
    fn give_back(&self, blocks: Vec<Block>, semaphore: &Semaphore) {
        let Ok(mut free) = self.free.lock() else { return };
        if semaphore.available_permits() + 1 >= self.permits {
            free.clear();
            free.shrink_to_fit();
        } else {
            free.push(blocks);
        }
    }

    /// Buffers kept for the next hash (tests and diagnostics).
    pub fn kept(&self) -> usize {
        self.free.lock().map_or(0, |free| free.len())
    }
}

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    memory: Arc<WorkingMemory>,
    dummy_hash: Arc<String>,
    /// The longest bcrypt verification seen, in microseconds.
    bcrypt_micros: Arc<AtomicU64>,
    /// The recent longest argon2 verification, in microseconds (decaying).
    argon2_micros: Arc<AtomicU64>,
}

impl Passwords {
    pub fn new() -> Result<Self, ApiError> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let permits = workers * 2;
        // In a buffer of our own kind, so that even this first hash leaves nothing in an arena.
        let dummy = hash_with("not-a-real-password-0", &mut new_buffer())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits)),
            memory: Arc::new(WorkingMemory::new(permits)),
            dummy_hash: Arc::new(dummy),
            bcrypt_micros: Arc::new(AtomicU64::new(0)),
            argon2_micros: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How long every failed verification takes at least.
    pub fn floor(&self) -> Duration {
        let micros = self.bcrypt_micros.load(Ordering::Relaxed).max(self.argon2_micros.load(Ordering::Relaxed));
        Duration::from_micros(micros)
    }

    /// Records how long a verification of a `bcrypt` (or argon2) hash took; returns the floor.
    fn observe(&self, bcrypt: bool, took: Duration) -> Duration {
        let micros = u64::try_from(took.min(MAX_FLOOR).as_micros()).unwrap_or(u64::MAX);
        if bcrypt {
            self.bcrypt_micros.fetch_max(micros, Ordering::Relaxed);
        } else {
            // Each observation lets the old maximum fall by 1/64: a spike is forgotten within a
            // few hundred verifications.
            let _ = self
                .argon2_micros
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| Some(micros.max(old - old / 64)));
        }
        self.floor()
    }

    /// Raises the floor to what a legacy bcrypt hash of `cost` takes, so that the first failures
    /// after a start are held as long as later ones.
    pub async fn calibrate_bcrypt(&self, cost: u32) -> Result<(), ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let took = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            // Hashing does the same work as verifying at that cost.
            bcrypt::hash("not-a-real-password-0", cost).map(|_| started.elapsed())
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        self.observe(true, took);
        Ok(())
    }

    /// How many hashes may run at once (each holding one working-memory buffer).
    pub fn permits(&self) -> usize {
        self.memory.permits
    }

    pub fn memory(&self) -> &WorkingMemory {
        &self.memory
    }

    /// Runs `work` on the blocking pool with a permit and a working-memory buffer.
    async fn with_memory<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(ApiError::internal)?;
        let (memory, semaphore) = (self.memory.clone(), self.permits.clone());
        // The permit and the buffer go with the work, so that a request abandoned while its hash
        // runs still holds them until the hash is done: the bound holds whatever clients do.
        tokio::task::spawn_blocking(move || {
            let mut blocks = memory.take();
            let out = work(&mut blocks);
            memory.give_back(blocks, &semaphore);
            drop(permit);
            out
        })
        .await
        .map_err(ApiError::internal)
    }

    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let password = password.to_owned();
        self.with_memory(move |memory| hash_with(&password, memory)).await?
    }

    /// `true` when `password` matches `hash`; with no hash (unknown account) it spends the same
    /// work on a dummy and answers `false`.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let bcrypt = is_bcrypt(&hash);
        let password = password.to_owned();
        let (matched, took) = self
            .with_memory(move |memory| {
                let started = Instant::now();
                (verify_with(&hash, &password, memory), started.elapsed())
            })
            .await?;
        let floor = self.observe(bcrypt, took);
        let ok = known && matched;
        if !ok && let Some(rest) = floor.checked_sub(took) {
            tokio::time::sleep(rest).await;
        }
        Ok(ok)
    }
}

/// Seeds the failure floor from the costliest legacy bcrypt hash still stored, if any.
pub async fn calibrate(db: &impl sea_orm::ConnectionTrait, passwords: &Passwords) -> Result<(), ApiError> {
    use crate::users::model::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let hashes: Vec<String> = user::Entity::find()
        .select_only()
        .column(user::Column::PasswordHash)
        .filter(user::Column::PasswordHash.like("$2%"))
        .limit(1000)
        .into_tuple()
        .all(db)
        .await?;
    match hashes.iter().filter_map(|h| bcrypt_cost(h)).max() {
        Some(cost) => passwords.calibrate_bcrypt(cost).await,
        None => Ok(()),
    }
}

/// The cost of a bcrypt hash (`$2b$12$…` → 12), within what bcrypt accepts.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let cost: u32 = hash.get(4..6)?.parse().ok()?;
    (is_bcrypt(hash) && (4..=31).contains(&cost)).then_some(cost)
}

/// Hashes on the calling thread; async callers use [`Passwords::hash`].
pub fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(ApiError::internal)
}

/// Hashes in `memory` (at least [`M_COST`] blocks): the same PHC string as [`hash_blocking`]
/// without allocating argon2's working memory.
pub fn hash_with(password: &str, memory: &mut [Block]) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(ApiError::internal)?;
    let argon2 = argon2();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
        .map_err(ApiError::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13 as u32),
        params: ParamsString::try_from(&params()).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(ApiError::internal)?),
    };
    Ok(phc.to_string())
}

/// Verifies on the calling thread; async callers use [`Passwords::verify`].
pub fn verify_blocking(hash: &str, password: &str) -> bool {
    if is_bcrypt(hash) {
        // Errors (a malformed hash, a password over bcrypt's 72 bytes) are a mismatch.
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    PasswordHash::new(hash).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// [`verify_blocking`] in `memory`. An argon2 hash needing more memory than given (stored with
/// other costs) is verified the allocating way.
pub fn verify_with(hash: &str, password: &str, memory: &mut [Block]) -> bool {
    if is_bcrypt(hash) {
        return verify_blocking(hash, password);
    }
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    if params.block_count() > memory.len() {
        return verify_blocking(hash, password);
    }
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return false };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let Ok(version) = version else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else { return false };
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(password.as_bytes(), salt, out, memory).is_ok()
        // `Output`'s comparison is constant-time.
        && Output::new(out).is_ok_and(|computed| computed == expected)
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| hash.starts_with(prefix))
}

/// Whether a hash that just verified should be replaced by one made with [`hash_blocking`]: it is
/// bcrypt, or argon2 of another variant or with other costs.
pub fn outdated(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let current = parsed.algorithm == Algorithm::Argon2id.ident()
        && parsed.version == Some(Version::V0x13 as u32)
        && Params::try_from(&parsed).is_ok_and(|p| (p.m_cost(), p.t_cost(), p.p_cost()) == (M_COST, T_COST, P_COST));
    !current
}

/// The password policy: 8–72 bytes (bcrypt-compatible ceiling), at least one letter and one digit.
pub fn check_policy(field: &str, password: &str) -> Result<(), ApiError> {
    let message = if password.len() < 8 {
        "must be at least 8 characters"
    } else if password.len() > 72 {
        "must be at most 72 bytes"
    } else if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        "must contain a letter and a digit"
    } else {
        return Ok(());
    };
    Err(ApiError::field(field, message))
}

/// A random password that satisfies the policy, for generated first-admin and organization-admin
/// accounts.
pub fn generate() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let body: String = (0..18).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect();
    format!("{body}a7")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let p = Passwords::new().unwrap();
        let h = p.hash("Secret123").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(p.verify(Some(&h), "Secret123").await.unwrap());
        assert!(!p.verify(Some(&h), "Secret124").await.unwrap());
        assert!(!p.verify(None, "Secret123").await.unwrap());
    }

    #[tokio::test]
    async fn bcrypt_hashes_of_the_original_verify_and_are_outdated() {
        let p = Passwords::new().unwrap();
        let old = bcrypt::hash("Secret123", 4).unwrap();
        assert!(old.starts_with("$2b$04$"));
        assert!(p.verify(Some(&old), "Secret123").await.unwrap());
        assert!(!p.verify(Some(&old), "Secret124").await.unwrap());
        // The original's other spellings of the same hash.
        assert!(verify_blocking(&old.replacen("$2b$", "$2y$", 1), "Secret123"));
        assert!(!verify_blocking("$2b$04$not-a-hash", "Secret123"));
        assert!(outdated(&old));
        assert!(!outdated(&p.hash("Secret123").await.unwrap()));
        let weaker = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap())
            .hash_password(b"Secret123", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_blocking(&weaker, "Secret123"));
        assert!(outdated(&weaker));
        assert!(outdated("garbage"));
        assert_eq!(bcrypt_cost(&old), Some(4));
        assert_eq!(bcrypt_cost("$2y$12$abc"), Some(12));
        assert_eq!(bcrypt_cost("$2b$xx$abc"), None);
        assert_eq!(bcrypt_cost("$argon2id$v=19"), None);
    }

    #[tokio::test]
    async fn every_failure_takes_as_long_as_the_slowest_verification() {
        let p = Passwords::new().unwrap();
        let legacy = bcrypt::hash("Secret123", 11).unwrap();
        let current = p.hash("Secret123").await.unwrap();
        assert!(!p.verify(Some(&legacy), "Secret124").await.unwrap());
        let floor = p.floor();
        assert!(floor > Duration::ZERO);
        for hash in [None, Some(current.as_str())] {
            let started = Instant::now();
            assert!(!p.verify(hash, "Secret124").await.unwrap());
            assert!(started.elapsed() >= floor, "a failure answered before the floor");
        }
        // A start with legacy hashes stored sets the floor before any of them is tried.
        let fresh = Passwords::new().unwrap();
        fresh.calibrate_bcrypt(11).await.unwrap();
        assert!(fresh.floor() > Duration::ZERO);
        let started = Instant::now();
        assert!(!fresh.verify(None, "Secret124").await.unwrap());
        assert!(started.elapsed() >= fresh.floor());
    }

    #[test]
    fn a_slow_argon2_moment_is_forgotten_but_bcrypt_is_not() {
        let p = Passwords::new().unwrap();
        p.observe(true, Duration::from_millis(200));
        p.observe(false, Duration::from_millis(900));
        assert_eq!(p.floor(), Duration::from_millis(900));
        for _ in 0..500 {
            p.observe(false, Duration::from_millis(20));
        }
        assert_eq!(p.floor(), Duration::from_millis(200), "the spike decays, the bcrypt cost stays");
        p.observe(false, Duration::from_secs(5));
        assert_eq!(p.floor(), MAX_FLOOR);
    }

    #[test]
    fn hashing_in_reused_memory_agrees_with_the_allocating_way() {
        let mut memory = vec![Block::default(); M_COST as usize];
        let made = hash_with("Secret123", &mut memory).unwrap();
        assert!(made.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking(&made, "Secret123"));
        assert!(!verify_blocking(&made, "Secret124"));
        let standard = hash_blocking("Secret123").unwrap();
        assert!(verify_with(&standard, "Secret123", &mut memory));
        assert!(!verify_with(&standard, "Secret124", &mut memory));
        // Other costs, a larger memory than given, bcrypt, garbage.
        let weaker = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap())
            .hash_password(b"Secret123", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify_with(&weaker, "Secret123", &mut memory));
        assert!(!verify_with(&weaker, "Secret12", &mut memory));
        let mut small = vec![Block::default(); 8];
        assert!(verify_with(&standard, "Secret123", &mut small));
        assert!(verify_with(&bcrypt::hash("Secret123", 4).unwrap(), "Secret123", &mut small));
        assert!(!verify_with("garbage", "Secret123", &mut small));
        assert!(!verify_with(&made.replace("$argon2id$", "$argon2i$"), "Secret123", &mut memory));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn working_memory_is_one_buffer_per_permit_and_freed_when_no_hash_runs() {
        let p = Passwords::new().unwrap();
        let hash = p.hash("Secret123").await.unwrap();
        assert_eq!(p.memory().kept(), 0, "a lone hash keeps nothing");
        let storm = (0..p.permits() * 4).map(|_| {
            let p = p.clone();
            let hash = hash.clone();
            tokio::spawn(async move {
                let ok = p.verify(Some(&hash), "Secret123").await.unwrap();
                (ok, p.memory().kept())
            })
        });
        let mut most = 0;
        for done in futures_util::future::join_all(storm).await {
            let (ok, kept) = done.unwrap();
            assert!(ok);
            most = most.max(kept);
        }
        assert!(most >= 1, "overlapping hashes reuse buffers");
        assert!(most <= p.permits(), "never more buffers than permits: {most}");
        assert_eq!(p.memory().kept(), 0, "the storm over, everything is freed");
    }

    #[test]
    fn policy() {
        assert!(check_policy("p", "short1").is_err());
        assert!(check_policy("p", "onlyletters").is_err());
        assert!(check_policy("p", "letters123").is_ok());
        assert!(check_policy("p", &generate()).is_ok());
    }
}
