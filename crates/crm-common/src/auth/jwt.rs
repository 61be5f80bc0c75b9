//! Compact JWS with Ed25519 only. The algorithm is pinned: the header must say `EdDSA`, so `none`,
//! HMAC-with-the-public-key and every other downgrade fail before any key is touched. `jku`, `x5u`
//! and embedded `jwk` headers are never consulted; keys come only from the configured key set.

use super::keys::{KeySet, key_id};
use crate::shard::PerThread;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Utc;
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// Tokens longer than this are refused without parsing.
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
}

/// The claims of an access token. `user_id` and `primary_organization_id` repeat `sub` and
/// `organization_id` under the names the original's clients read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
    pub typ: TokenType,
    pub organization_id: Uuid,
    pub roles: Vec<String>,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub user_id: Option<Uuid>,
    #[serde(default)]
    pub primary_organization_id: Option<Uuid>,
    /// The server-side session the token belongs to; the issuer refuses the token once that
    /// session has ended. Absent from tokens minted before sessions existed (and by tests), which
    /// foundation accepts only while their lifetime is no longer than access tokens used to live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported token algorithm")]
    Algorithm,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("invalid token signature")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token issuer or audience mismatch")]
    Audience,
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct OutHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Signs access tokens with foundation's current Ed25519 key.
pub struct Signer {
    key: SigningKey,
    kid: String,
}

impl Signer {
    pub fn new(key: SigningKey) -> Self {
        let kid = key_id(&key.verifying_key());
        Self { key, kid }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, serde_json::Error> {
        let header = serde_json::to_vec(&OutHeader { alg: "EdDSA", typ: "JWT", kid: &self.kid })?;
        let payload = serde_json::to_vec(claims)?;
        let mut token = String::with_capacity(512);
        token.push_str(&B64.encode(header));
        token.push('.');
        token.push_str(&B64.encode(payload));
        let signature = self.key.sign(token.as_bytes());
        token.push('.');
        token.push_str(&B64.encode(signature.to_bytes()));
        Ok(token)
    }
}

#[derive(Debug, Clone)]
pub struct VerifierSettings {
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_secs: i64,
}

impl Default for VerifierSettings {
    fn default() -> Self {
        Self { issuer: "bantu-crm".into(), audience: "bantu-crm".into(), leeway_secs: 30 }
    }
}

/// Token → (claims, key-set generation they were verified under).
type VerifiedMap = std::collections::HashMap<Box<str>, (Arc<Claims>, u64), foldhash::fast::RandomState>;

/// Tokens whose signature was verified recently, by their exact bytes. A signature check costs
/// tens of microseconds and a client sends the same token for its whole lifetime, so a hit skips
/// it; the time-dependent claims (`exp`, `nbf`) are still checked on every use, and a change of
/// the key set invalidates every entry.
///
/// Split into one shard per thread (see [`crate::shard`]): every request looks here. A token seen
/// on several threads is verified once on each.
struct VerifiedCache {
    shards: PerThread<std::sync::Mutex<VerifiedMap>>,
    /// Per shard.
    capacity: usize,
}

const VERIFIED_CACHE_CAPACITY: usize = 4096;

impl VerifiedCache {
    fn new() -> Self {
        Self { shards: PerThread::new(), capacity: VERIFIED_CACHE_CAPACITY }
    }
}

/// Verifies access tokens against a key set; refreshes the set once when a `kid` is unknown.
pub struct Verifier {
    keys: KeySet,
    settings: VerifierSettings,
    verified: VerifiedCache,
}

impl Verifier {
    pub fn new(keys: KeySet, settings: VerifierSettings) -> Self {
        Self { keys, settings, verified: VerifiedCache::new() }
    }

    /// Number of tokens whose verified claims are remembered.
    pub fn cached_tokens(&self) -> usize {
        self.verified.shards.iter().map(|s| s.lock().map_or(0, |m| m.len())).sum()
    }

    fn remembered(&self, token: &str) -> Option<Arc<Claims>> {
        let entries = self.verified.shards.local().lock().ok()?;
        let (claims, generation) = entries.get(token)?;
        (*generation == self.keys.generation()).then(|| claims.clone())
    }

    fn remember(&self, token: &str, claims: &Arc<Claims>) {
        if let Ok(mut entries) = self.verified.shards.local().lock() {
            // Bounded: when full, start over rather than track recency on the hot path.
            if entries.len() >= self.verified.capacity {
                entries.clear();
            }
            entries.insert(token.into(), (claims.clone(), self.keys.generation()));
        }
    }

    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The token's claims, shared: a remembered token costs no copy of its claims.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, JwtError> {
        if let Some(claims) = self.remembered(token) {
            self.check_claims(&claims, Utc::now().timestamp())?;
            return Ok(claims);
        }
        let parts = split(token)?;
        let header: Header = decode_json(parts.0)?;
        if header.alg != "EdDSA" {
            return Err(JwtError::Algorithm);
        }
        if header.typ.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) || header.crit.is_some() {
            return Err(JwtError::Malformed);
        }
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        // Boxed: the key-set fetch is rare, and inlined it would grow every caller's future.
        let key = Box::pin(self.keys.get_or_refresh(&kid)).await.ok_or(JwtError::UnknownKey)?;
        let sig_bytes = B64.decode(parts.2).map_err(|_| JwtError::Malformed)?;
        let signature = Signature::from_slice(&sig_bytes).map_err(|_| JwtError::Signature)?;
        let signed = &token[..parts.0.len() + 1 + parts.1.len()];
        key.verify_strict(signed.as_bytes(), &signature).map_err(|_| JwtError::Signature)?;
        let claims: Arc<Claims> = Arc::new(decode_json(parts.1)?);
        self.check_claims(&claims, Utc::now().timestamp())?;
        self.remember(token, &claims);
        Ok(claims)
    }

    fn check_claims(&self, claims: &Claims, now: i64) -> Result<(), JwtError> {
        let leeway = self.settings.leeway_secs;
        if now > claims.exp + leeway {
            return Err(JwtError::Expired);
        }
        if now + leeway < claims.nbf {
            return Err(JwtError::NotYetValid);
        }
        if claims.iss != self.settings.issuer || claims.aud != self.settings.audience {
            return Err(JwtError::Audience);
        }
        Ok(())
    }
}

fn split(token: &str) -> Result<(&str, &str, &str), JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => Ok((h, p, s)),
        _ => Err(JwtError::Malformed),
    }
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, JwtError> {
    let bytes = B64.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::KeySet;

    fn claims(exp_offset: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            iss: "bantu-crm".into(),
            aud: "bantu-crm".into(),
            sub: Uuid::now_v7(),
            exp: now + exp_offset,
            nbf: now - 1,
            iat: now,
            jti: Uuid::now_v7(),
            typ: TokenType::Access,
            organization_id: Uuid::now_v7(),
            roles: vec!["ADMIN".into()],
            username: "a".into(),
            email: "a@b.co".into(),
            user_id: None,
            primary_organization_id: None,
            sid: None,
        }
    }

    fn setup() -> (Signer, Verifier) {
        let signer = Signer::new(SigningKey::generate(&mut rand::rngs::OsRng));
        let keys = KeySet::fixed(vec![signer.verifying_key()]);
        (signer, Verifier::new(keys, VerifierSettings::default()))
    }

    #[tokio::test]
    async fn round_trip() {
        let (signer, verifier) = setup();
        let c = claims(60);
        let token = signer.sign(&c).unwrap();
        assert_eq!(*verifier.verify(&token).await.unwrap(), c);
    }

    #[tokio::test]
    async fn rejects_expired_and_tampered() {
        let (signer, verifier) = setup();
        let token = signer.sign(&claims(-120)).unwrap();
        assert_eq!(verifier.verify(&token).await, Err(JwtError::Expired));
        let token = signer.sign(&claims(60)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
        payload["roles"] = serde_json::json!(["ADMIN", "ROOT"]);
        parts[1] = B64.encode(serde_json::to_vec(&payload).unwrap());
        assert_eq!(verifier.verify(&parts.join(".")).await, Err(JwtError::Signature));
    }

    #[tokio::test]
    async fn remembered_tokens_still_expire() {
        let signer = Signer::new(SigningKey::generate(&mut rand::rngs::OsRng));
        let keys = KeySet::fixed(vec![signer.verifying_key()]);
        let verifier = Verifier::new(keys, VerifierSettings { leeway_secs: 0, ..VerifierSettings::default() });
        let token = signer.sign(&claims(1)).unwrap();
        verifier.verify(&token).await.unwrap();
        assert_eq!(verifier.cached_tokens(), 1);
        verifier.verify(&token).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(verifier.verify(&token).await, Err(JwtError::Expired));
        // A forgery of a remembered token is a different string: it is verified from scratch.
        let other = Signer::new(SigningKey::generate(&mut rand::rngs::OsRng));
        assert_eq!(verifier.verify(&other.sign(&claims(60)).unwrap()).await, Err(JwtError::UnknownKey));
    }

    #[tokio::test]
    async fn rejects_other_algorithms() {
        let (_, verifier) = setup();
        let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = B64.encode(serde_json::to_vec(&claims(60)).unwrap());
        assert_eq!(verifier.verify(&format!("{header}.{payload}.x")).await, Err(JwtError::Algorithm));
        assert_eq!(verifier.verify("a.b").await, Err(JwtError::Malformed));
    }
}
