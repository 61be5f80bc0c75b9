//! Customer levels, which service-management owns: a lead's `level` must be one of its codes, and
//! answers carry the level's names. Fetched from service-management's own path (the original's
//! `/api/order-workflow/customer-levels` is routed there by the gateway, not served here) with the
//! caller's token, and reused for a short time since levels change rarely and every write checks one.

use crm_common::http::peer::{Forward, PeerClient};
use crm_common::{ApiError, ApiResult};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PATH: &str = "/api/service-management/customer-levels";

#[derive(Debug, Clone, Deserialize)]
pub struct Level {
    pub code: String,
    pub name_zh: String,
    pub name_id: String,
}

pub type LevelMap = Arc<HashMap<String, Level>>;

pub struct Levels {
    peer: PeerClient,
    ttl: Duration,
    cached: Mutex<Option<(Instant, LevelMap)>>,
}

impl Levels {
    pub fn new(peer: PeerClient, ttl: Duration) -> Self {
        Self { peer, ttl, cached: Mutex::new(None) }
    }

    fn fresh(&self) -> Option<LevelMap> {
        let guard = self.cached.lock().ok()?;
        guard.as_ref().filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, m)| m.clone())
    }

    /// Every level by code; service-management down is a 503 naming it.
    pub async fn all(&self, forward: &Forward) -> ApiResult<LevelMap> {
        if let Some(hit) = self.fresh() {
            return Ok(hit);
        }
        let rows: Vec<Level> = self.peer.get(PATH, forward).await?;
        let map: LevelMap = Arc::new(rows.into_iter().map(|l| (l.code.clone(), l)).collect());
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some((Instant::now(), map.clone()));
        }
        Ok(map)
    }

    /// `code` is a known level (400 naming the field otherwise).
    pub async fn check(&self, forward: &Forward, code: &str) -> ApiResult<()> {
        if self.all(forward).await?.contains_key(code) {
            Ok(())
        } else {
            Err(ApiError::field("level", format!("unknown customer level code {code:?}")))
        }
    }

    /// For answers: the names when service-management answers, none when it does not — a lead
    /// stays readable while the catalogue side is down.
    pub async fn names(&self, forward: &Forward) -> LevelMap {
        match self.all(forward).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "customer levels unavailable; answering without level names");
                LevelMap::default()
            }
        }
    }
}
