//! The verification keys: a fixed set (the issuer itself) or a JWKS fetched over HTTP, refetched
//! when a token names an unknown `kid`, at most once per `min_refresh` so that forged `kid`s cannot
//! turn verifiers into a request amplifier against the issuer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// One public key in JWKS form (RFC 8037: `kty` OKP, `crv` Ed25519).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub crv: String,
    #[serde(default)]
    pub x: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    pub fn from_key(key: &VerifyingKey) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64.encode(key.as_bytes()),
            kid: Some(key_id(key)),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
        }
    }

    fn to_key(&self) -> Option<VerifyingKey> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return None;
        }
        let bytes: [u8; 32] = B64.decode(&self.x).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// RFC 7638 thumbprint of an Ed25519 key, used as its `kid`.
pub fn key_id(key: &VerifyingKey) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, B64.encode(key.as_bytes()));
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

pub enum KeySource {
    Fixed,
    Remote { url: String, client: reqwest::Client },
}

pub struct KeySet {
    keys: RwLock<HashMap<String, VerifyingKey>>,
    /// Bumped whenever the keys are replaced, so verifiers drop what they remembered.
    generation: std::sync::atomic::AtomicU64,
    source: KeySource,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_refresh: Duration,
}

impl KeySet {
    pub fn fixed(keys: Vec<VerifyingKey>) -> Self {
        let map = keys.into_iter().map(|k| (key_id(&k), k)).collect();
        Self {
            keys: RwLock::new(map),
            generation: Default::default(),
            source: KeySource::Fixed,
            last_fetch: tokio::sync::Mutex::new(None),
            min_refresh: Duration::from_secs(10),
        }
    }

    /// Keys fetched from `url`; the first fetch happens on the first token seen.
    pub fn remote(url: impl Into<String>, min_refresh: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            keys: RwLock::new(HashMap::new()),
            generation: Default::default(),
            source: KeySource::Remote { url: url.into(), client },
            last_fetch: tokio::sync::Mutex::new(None),
            min_refresh,
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn jwks(&self) -> Jwks {
        let keys = self.keys.read().map(|m| m.values().map(Jwk::from_key).collect()).unwrap_or_default();
        Jwks { keys }
    }

    fn lookup(&self, kid: &str) -> Option<VerifyingKey> {
        self.keys.read().ok()?.get(kid).copied()
    }

    pub async fn get_or_refresh(&self, kid: &str) -> Option<VerifyingKey> {
        if let Some(key) = self.lookup(kid) {
            return Some(key);
        }
        let KeySource::Remote { url, client } = &self.source else {
            return None;
        };
        let mut last = self.last_fetch.lock().await;
        // Another task may have refreshed while this one waited for the lock.
        if let Some(key) = self.lookup(kid) {
            return Some(key);
        }
        if last.is_some_and(|t| t.elapsed() < self.min_refresh) {
            return None;
        }
        *last = Some(Instant::now());
        match fetch(client, url).await {
            Ok(jwks) => {
                let map: HashMap<_, _> = jwks.keys.iter().filter_map(|j| j.to_key()).map(|k| (key_id(&k), k)).collect();
                tracing::info!(keys = map.len(), "refreshed JWKS");
                if let Ok(mut guard) = self.keys.write() {
                    *guard = map;
                    self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                }
            }
            Err(err) => tracing::warn!(error = %err, "JWKS fetch failed"),
        }
        self.lookup(kid)
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Jwks, String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let value: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    // foundation serves the JWKS bare; accept it inside the envelope too.
    let body = if value.get("keys").is_some() { value } else { value["data"].clone() };
    serde_json::from_value(body).map_err(|e| e.to_string())
}
