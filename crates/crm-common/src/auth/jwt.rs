//! Access tokens: compact JWS signed and verified with `jsonwebtoken`, Ed25519 only.
//!
//! The algorithm is pinned three times over: the header must say `EdDSA` before any key is looked
//! up (so `none`, HMAC keyed with the public key and every other downgrade fail first), the
//! crate's validation accepts `EdDSA` alone, and the only crypto provider installed in the crate
//! ([`super::eddsa`]) can do nothing else. `jku`, `x5u` and embedded `jwk` headers are never
//! consulted; keys come only from the configured [`KeySet`]. `kid` is required.

use super::eddsa;
use super::keys::{KeySet, key_id};
use crate::shard::PerThread;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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

impl From<jsonwebtoken::errors::Error> for JwtError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        match err.kind() {
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::MissingAlgorithm
            | ErrorKind::UnsupportedAlgorithm => Self::Algorithm,
            ErrorKind::InvalidSignature | ErrorKind::InvalidEddsaKey | ErrorKind::InvalidKeyFormat => Self::Signature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" || claim == "aud" => Self::Audience,
            _ => Self::Malformed,
        }
    }
}

/// Signs access tokens with foundation's current Ed25519 key.
pub struct Signer {
    key: SigningKey,
    kid: String,
    encoding: EncodingKey,
}

impl Signer {
    pub fn new(key: SigningKey) -> Self {
        eddsa::install();
        let kid = key_id(&key.verifying_key());
        let encoding = eddsa::encoding_key(&key);
        Self { key, kid, encoding }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, serde_json::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|err| match err.into_kind() {
            ErrorKind::Json(json) => Arc::try_unwrap(json).unwrap_or_else(serde::ser::Error::custom),
            other => serde::ser::Error::custom(format!("{other:?}")),
        })
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
    /// What `jsonwebtoken` checks after the signature: `EdDSA` only; `exp`, `nbf`, `iss` and
    /// `aud` present and valid, with the settings' leeway.
    validation: Validation,
}

impl Verifier {
    pub fn new(keys: KeySet, settings: VerifierSettings) -> Self {
        eddsa::install();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = u64::try_from(settings.leeway_secs).unwrap_or(0);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
        Self { keys, settings, verified: VerifiedCache::new(), validation }
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
        let header_part = split(token)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| header_error(header_part))?;
        if header.alg != Algorithm::EdDSA {
            return Err(JwtError::Algorithm);
        }
        if header.typ.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) || header.crit.is_some() {
            return Err(JwtError::Malformed);
        }
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        // Boxed: the key-set fetch is rare, and inlined it would grow every caller's future.
        let key = Box::pin(self.keys.get_or_refresh(&kid)).await.ok_or(JwtError::UnknownKey)?;
        let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_ed_der(key.as_bytes()), &self.validation)?;
        let claims = Arc::new(data.claims);
        self.check_claims(&claims, Utc::now().timestamp())?;
        self.remember(token, &claims);
        Ok(claims)
    }

    /// The claims a remembered token is checked against again on every use (and once more after
    /// `jsonwebtoken`'s validation, which is the same rule).
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

/// The header part of a token of exactly three non-empty parts, within the size limit.
fn split(token: &str) -> Result<&str, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed);
    }
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() && !s.is_empty() => Ok(h),
        _ => Err(JwtError::Malformed),
    }
}

/// Why a header `jsonwebtoken` could not read was refused: an `alg` it does not know (`none`
/// among them) is an algorithm refusal like any other; anything else is malformed.
fn header_error(part: &str) -> JwtError {
    #[derive(Deserialize)]
    struct Alg {
        alg: String,
    }
    let alg = B64.decode(part).ok().and_then(|bytes| serde_json::from_slice::<Alg>(&bytes).ok());
    match alg {
        Some(Alg { alg }) if alg != "EdDSA" => JwtError::Algorithm,
        _ => JwtError::Malformed,
    }
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

    #[tokio::test]
    async fn downgrades_and_foreign_keys_are_refused() {
        let (signer, verifier) = setup();
        let payload = B64.encode(serde_json::to_vec(&claims(60)).unwrap());
        let kid = signer.kid().to_owned();
        // HS256 keyed with the public key: refused on the header, whatever the signature.
        let header = B64.encode(serde_json::to_vec(&serde_json::json!({"alg": "HS256", "kid": kid})).unwrap());
        assert_eq!(verifier.verify(&format!("{header}.{payload}.AAAA")).await, Err(JwtError::Algorithm));
        // No kid: no key is guessed.
        let header = B64.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
        assert_eq!(verifier.verify(&format!("{header}.{payload}.AAAA")).await, Err(JwtError::UnknownKey));
        // An embedded key or a key URL changes nothing: the kid must be in the key set.
        let attacker = SigningKey::generate(&mut rand::rngs::OsRng);
        let jwk = crate::auth::Jwk::from_key(&attacker.verifying_key());
        let header =
            serde_json::json!({"alg": "EdDSA", "kid": jwk.kid, "jwk": jwk, "jku": "http://127.0.0.1:9/jwks.json"});
        let signing_input = format!("{}.{payload}", B64.encode(serde_json::to_vec(&header).unwrap()));
        let signature = B64.encode(ed25519_dalek::Signer::sign(&attacker, signing_input.as_bytes()).to_bytes());
        assert_eq!(verifier.verify(&format!("{signing_input}.{signature}")).await, Err(JwtError::UnknownKey));
        // The real kid with the attacker's signature.
        let header = B64.encode(serde_json::to_vec(&serde_json::json!({"alg": "EdDSA", "kid": kid})).unwrap());
        let signing_input = format!("{header}.{payload}");
        let signature = B64.encode(ed25519_dalek::Signer::sign(&attacker, signing_input.as_bytes()).to_bytes());
        assert_eq!(verifier.verify(&format!("{signing_input}.{signature}")).await, Err(JwtError::Signature));
        // Issuer and audience come from the settings.
        let mut other = claims(60);
        other.aud = "elsewhere".into();
        assert_eq!(verifier.verify(&signer.sign(&other).unwrap()).await, Err(JwtError::Audience));
        let mut early = claims(60);
        early.nbf += 3600;
        assert_eq!(verifier.verify(&signer.sign(&early).unwrap()).await, Err(JwtError::NotYetValid));
    }
}
