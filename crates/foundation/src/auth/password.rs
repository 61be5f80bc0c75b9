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

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use crm_common::ApiError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
/// The floor never exceeds this, whatever one slow verification took.
const MAX_FLOOR: Duration = Duration::from_secs(1);

fn argon2() -> Argon2<'static> {
    // The parameters are constants known to be valid; fall back to the crate's defaults (also
    // argon2id) rather than fail.
    let params = Params::new(M_COST, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
    /// The longest bcrypt verification seen, in microseconds.
    bcrypt_micros: Arc<AtomicU64>,
    /// The recent longest argon2 verification, in microseconds (decaying).
    argon2_micros: Arc<AtomicU64>,
}

impl Passwords {
    pub fn new() -> Result<Self, ApiError> {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_blocking("not-a-real-password-0")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(workers * 2)),
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

    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(ApiError::internal)?
    }

    /// `true` when `password` matches `hash`; with no hash (unknown account) it spends the same
    /// work on a dummy and answers `false`.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool, ApiError> {
        let permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let bcrypt = is_bcrypt(&hash);
        let password = password.to_owned();
        let (matched, took) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            (verify_blocking(&hash, &password), started.elapsed())
        })
        .await
        .map_err(ApiError::internal)?;
        drop(permit);
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

/// Verifies on the calling thread; async callers use [`Passwords::verify`].
pub fn verify_blocking(hash: &str, password: &str) -> bool {
    if is_bcrypt(hash) {
        // Errors (a malformed hash, a password over bcrypt's 72 bytes) are a mismatch.
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    PasswordHash::new(hash).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
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
    fn policy() {
        assert!(check_policy("p", "short1").is_err());
        assert!(check_policy("p", "onlyletters").is_err());
        assert!(check_policy("p", "letters123").is_ok());
        assert!(check_policy("p", &generate()).is_ok());
    }
}
