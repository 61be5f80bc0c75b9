//! One cache interface: Redis when `REDIS_URL` is set (shared by replicas), in-process otherwise.
//!
//! A Redis failure never fails a request: the operation falls back to the in-process store and a
//! warning is logged, so the service degrades to per-replica caching and counting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entries kept in process before expired ones are purged and, failing that, some are dropped.
const MEMORY_CAPACITY: usize = 100_000;

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    prefix: String,
    memory: MemoryStore,
    #[cfg(feature = "cache")]
    redis: Option<deadpool_redis::Pool>,
}

impl Cache {
    /// An in-process cache; `prefix` namespaces keys (`foundation:`).
    pub fn memory(prefix: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                prefix: prefix.to_owned(),
                memory: MemoryStore::default(),
                #[cfg(feature = "cache")]
                redis: None,
            }),
        }
    }

    /// Redis at `url` with the in-process store as fallback.
    #[cfg(feature = "cache")]
    pub fn redis(prefix: &str, url: &str) -> Result<Self, String> {
        use deadpool_redis::{Config, PoolConfig, Runtime, Timeouts};
        let mut cfg = Config::from_url(url);
        let timeout = Some(Duration::from_millis(500));
        cfg.pool = Some(PoolConfig {
            max_size: 32,
            timeouts: Timeouts { wait: timeout, create: timeout, recycle: timeout },
            ..PoolConfig::default()
        });
        let pool = cfg.create_pool(Some(Runtime::Tokio1)).map_err(|e| e.to_string())?;
        Ok(Self {
            inner: Arc::new(Inner { prefix: prefix.to_owned(), memory: MemoryStore::default(), redis: Some(pool) }),
        })
    }

    /// Redis when a URL is given (and the `cache` feature is on), in-process otherwise.
    pub fn from_url(prefix: &str, url: Option<&str>) -> Result<Self, String> {
        match url {
            #[cfg(feature = "cache")]
            Some(url) => Self::redis(prefix, url),
            #[cfg(not(feature = "cache"))]
            Some(_) => Err("this binary was built without Redis support".into()),
            None => Ok(Self::memory(prefix)),
        }
    }

    pub fn backend(&self) -> &'static str {
        #[cfg(feature = "cache")]
        if self.inner.redis.is_some() {
            return "redis";
        }
        "memory"
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.inner.prefix, key)
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::get(pool, &key).await {
                Ok(v) => return v,
                Err(e) => fallback_warning("get", &e),
            }
        }
        self.inner.memory.get(&key)
    }

    pub async fn set(&self, key: &str, value: &str, ttl: Duration) {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::set(pool, &key, value, ttl).await {
                Ok(()) => return,
                Err(e) => fallback_warning("set", &e),
            }
        }
        self.inner.memory.set(key, value.to_owned(), ttl);
    }

    pub async fn delete(&self, key: &str) {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis
            && let Err(e) = redis_ops::delete(pool, &key).await
        {
            fallback_warning("delete", &e);
        }
        // Always clear the local copy too: it may hold a value written while Redis was away.
        self.inner.memory.delete(&key);
    }

    /// Increments a counter that expires `window` after its first increment; returns the new value.
    pub async fn incr(&self, key: &str, window: Duration) -> u64 {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::incr(pool, &key, window).await {
                Ok(n) => return n,
                Err(e) => fallback_warning("incr", &e),
            }
        }
        self.inner.memory.incr(key, window)
    }

    /// Time until `key` expires, if it exists.
    pub async fn ttl(&self, key: &str) -> Option<Duration> {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::ttl(pool, &key).await {
                Ok(v) => return v,
                Err(e) => fallback_warning("ttl", &e),
            }
        }
        self.inner.memory.ttl(&key)
    }

    /// Readiness: Redis answers PING (the in-process store always does).
    pub async fn ping(&self) -> Result<(), String> {
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            return redis_ops::ping(pool).await;
        }
        Ok(())
    }
}

#[cfg(feature = "cache")]
fn fallback_warning(op: &str, error: &str) {
    tracing::warn!(op, error, "redis unavailable; using the in-process cache");
}

#[cfg(feature = "cache")]
mod redis_ops {
    use deadpool_redis::Pool;
    use deadpool_redis::redis::{AsyncCommands, cmd};
    use std::time::Duration;

    async fn conn(pool: &Pool) -> Result<deadpool_redis::Connection, String> {
        pool.get().await.map_err(|e| e.to_string())
    }

    pub async fn get(pool: &Pool, key: &str) -> Result<Option<String>, String> {
        conn(pool).await?.get(key).await.map_err(|e| e.to_string())
    }

    pub async fn set(pool: &Pool, key: &str, value: &str, ttl: Duration) -> Result<(), String> {
        let secs = ttl.as_secs().max(1);
        conn(pool).await?.set_ex(key, value, secs).await.map_err(|e| e.to_string())
    }

    pub async fn delete(pool: &Pool, key: &str) -> Result<(), String> {
        conn(pool).await?.del::<_, ()>(key).await.map_err(|e| e.to_string())
    }

    pub async fn incr(pool: &Pool, key: &str, window: Duration) -> Result<u64, String> {
        let mut c = conn(pool).await?;
        let (n, _): (u64, i64) = deadpool_redis::redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(key)
            .cmd("EXPIRE")
            .arg(key)
            .arg(window.as_secs().max(1))
            .arg("NX")
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        Ok(n)
    }

    pub async fn ttl(pool: &Pool, key: &str) -> Result<Option<Duration>, String> {
        let secs: i64 = conn(pool).await?.ttl(key).await.map_err(|e| e.to_string())?;
        Ok(u64::try_from(secs).ok().map(Duration::from_secs))
    }

    pub async fn ping(pool: &Pool) -> Result<(), String> {
        let mut c = conn(pool).await?;
        cmd("PING").query_async::<String>(&mut c).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

#[derive(Default)]
struct MemoryStore {
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryStore {
    fn get(&self, key: &str) -> Option<String> {
        let map = self.entries.lock().ok()?;
        map.get(key).filter(|(_, exp)| *exp > Instant::now()).map(|(v, _)| v.clone())
    }

    fn set(&self, key: String, value: String, ttl: Duration) {
        if let Ok(mut map) = self.entries.lock() {
            make_room(&mut map);
            map.insert(key, (value, Instant::now() + ttl));
        }
    }

    fn delete(&self, key: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(key);
        }
    }

    fn incr(&self, key: String, window: Duration) -> u64 {
        let Ok(mut map) = self.entries.lock() else {
            return u64::MAX;
        };
        let now = Instant::now();
        make_room(&mut map);
        let entry = map.entry(key).or_insert_with(|| ("0".into(), now + window));
        if entry.1 <= now {
            *entry = ("0".into(), now + window);
        }
        let n = entry.0.parse::<u64>().unwrap_or(0).saturating_add(1);
        entry.0 = n.to_string();
        n
    }

    fn ttl(&self, key: &str) -> Option<Duration> {
        let map = self.entries.lock().ok()?;
        let (_, exp) = map.get(key)?;
        exp.checked_duration_since(Instant::now())
    }
}

fn make_room(map: &mut HashMap<String, (String, Instant)>) {
    if map.len() < MEMORY_CAPACITY {
        return;
    }
    let now = Instant::now();
    map.retain(|_, (_, exp)| *exp > now);
    if map.len() >= MEMORY_CAPACITY {
        let drop: Vec<String> = map.keys().take(MEMORY_CAPACITY / 10).cloned().collect();
        for k in drop {
            map.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_counter_and_expiry() {
        let cache = Cache::memory("t:");
        assert_eq!(cache.incr("a", Duration::from_secs(60)).await, 1);
        assert_eq!(cache.incr("a", Duration::from_secs(60)).await, 2);
        cache.set("k", "v", Duration::from_millis(30)).await;
        assert_eq!(cache.get("k").await.as_deref(), Some("v"));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(cache.get("k").await, None);
    }
}
