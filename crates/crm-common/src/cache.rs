//! One cache interface: Redis when `REDIS_URL` is set (shared by replicas), in-process otherwise.
//!
//! A Redis failure never fails a request: the operation falls back to the in-process store and a
//! warning is logged (at most every few seconds), so the service degrades to per-replica caching and
//! counting. [`Cache::fallbacks`] counts those fallbacks so a service can export them as a metric.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    health: Fallbacks,
    #[cfg(feature = "cache")]
    redis: Option<deadpool_redis::Pool>,
    /// Where the pool connects; a subscriber needs a connection of its own, outside the pool.
    #[cfg(feature = "cache")]
    redis_url: Option<String>,
}

impl Cache {
    /// An in-process cache; `prefix` namespaces keys (`foundation:`).
    pub fn memory(prefix: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                prefix: prefix.to_owned(),
                memory: MemoryStore::default(),
                health: Fallbacks::default(),
                #[cfg(feature = "cache")]
                redis: None,
                #[cfg(feature = "cache")]
                redis_url: None,
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
            inner: Arc::new(Inner {
                prefix: prefix.to_owned(),
                memory: MemoryStore::default(),
                health: Fallbacks::default(),
                redis: Some(pool),
                redis_url: Some(url.to_owned()),
            }),
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
                Ok(v) => {
                    self.recovered();
                    return v;
                }
                Err(e) => self.fallback("get", &e),
            }
        }
        self.inner.memory.get(&key)
    }

    pub async fn set(&self, key: &str, value: &str, ttl: Duration) {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::set(pool, &key, value, ttl).await {
                Ok(()) => {
                    self.recovered();
                    return;
                }
                Err(e) => self.fallback("set", &e),
            }
        }
        self.inner.memory.set(key, value.to_owned(), ttl);
    }

    /// Stores `value` under `key` for `ttl` unless the key holds a live value already; whether
    /// it stored. Atomic across replicas on Redis (`SET NX`): a short lease that one replica
    /// takes and the others see taken.
    pub async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> bool {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::set_if_absent(pool, &key, value, ttl).await {
                Ok(stored) => {
                    self.recovered();
                    return stored;
                }
                Err(e) => self.fallback("set_if_absent", &e),
            }
        }
        self.inner.memory.set_if_absent(key, value.to_owned(), ttl)
    }

    pub async fn delete(&self, key: &str) {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis
            && let Err(e) = redis_ops::delete(pool, &key).await
        {
            self.fallback("delete", &e);
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
                Ok(n) => {
                    self.recovered();
                    return n;
                }
                Err(e) => self.fallback("incr", &e),
            }
        }
        self.inner.memory.incr(key, window)
    }

    /// Like [`Cache::incr`], and also the time until the counter resets (one Redis round trip).
    pub async fn incr_with_ttl(&self, key: &str, window: Duration) -> (u64, Duration) {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::incr_with_ttl(pool, &key, window).await {
                Ok(v) => {
                    self.recovered();
                    return v;
                }
                Err(e) => self.fallback("incr", &e),
            }
        }
        let n = self.inner.memory.incr(key.clone(), window);
        (n, self.inner.memory.ttl(&key).unwrap_or(window))
    }

    /// How many operations fell back to the in-process store because Redis failed.
    pub fn fallbacks(&self) -> u64 {
        self.inner.health.count.load(Ordering::Relaxed)
    }

    /// Whether the last Redis operation failed (always false without Redis).
    pub fn degraded(&self) -> bool {
        self.inner.health.degraded.load(Ordering::Relaxed)
    }

    #[cfg(feature = "cache")]
    fn fallback(&self, op: &str, error: &str) {
        let health = &self.inner.health;
        health.count.fetch_add(1, Ordering::Relaxed);
        health.degraded.store(true, Ordering::Relaxed);
        // One warning per few seconds is enough to see an outage without flooding the log.
        let now = health.started.elapsed().as_millis() as u64;
        let last = health.last_warning_ms.load(Ordering::Relaxed);
        let first = last == 0;
        if (first || now.saturating_sub(last) >= FALLBACK_WARNING_EVERY_MS)
            && health.last_warning_ms.compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(
                op,
                error,
                fallbacks = health.count.load(Ordering::Relaxed),
                "redis unavailable; using the in-process cache"
            );
        }
    }

    #[cfg(feature = "cache")]
    fn recovered(&self) {
        if self.inner.health.degraded.swap(false, Ordering::Relaxed) {
            tracing::info!("redis reachable again; shared cache restored");
        }
    }

    /// Time until `key` expires, if it exists.
    pub async fn ttl(&self, key: &str) -> Option<Duration> {
        let key = self.key(key);
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            match redis_ops::ttl(pool, &key).await {
                Ok(v) => {
                    self.recovered();
                    return v;
                }
                Err(e) => self.fallback("ttl", &e),
            }
        }
        self.inner.memory.ttl(&key)
    }

    /// Whether replicas share this cache (Redis), and so can reach each other through
    /// [`Cache::publish`] and [`Cache::subscribe`].
    pub fn shared(&self) -> bool {
        self.backend() == "redis"
    }

    /// Publishes `message` on `channel` (namespaced by the prefix) to every replica subscribed,
    /// this one included. An error when there is no Redis or it is unreachable: the caller
    /// decides what local delivery means then.
    pub async fn publish(&self, channel: &str, message: &str) -> Result<(), String> {
        #[cfg(feature = "cache")]
        if let Some(pool) = &self.inner.redis {
            return redis_ops::publish(pool, &self.key(channel), message).await;
        }
        let _ = (channel, message);
        Err("no shared cache".into())
    }

    /// The messages published on `channel` from now on, over a connection of their own (a
    /// subscribed connection can do nothing else). The stream ends when the connection drops;
    /// subscribe again to resume. An error when there is no Redis or it is unreachable.
    pub async fn subscribe(&self, channel: &str) -> Result<futures_util::stream::BoxStream<'static, String>, String> {
        #[cfg(feature = "cache")]
        if let Some(url) = &self.inner.redis_url {
            use futures_util::StreamExt;
            let client = deadpool_redis::redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
            let mut pubsub = client.get_async_pubsub().await.map_err(|e| e.to_string())?;
            pubsub.subscribe(self.key(channel)).await.map_err(|e| e.to_string())?;
            return Ok(pubsub.into_on_message().filter_map(|m| async move { m.get_payload::<String>().ok() }).boxed());
        }
        let _ = channel;
        Err("no shared cache".into())
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
const FALLBACK_WARNING_EVERY_MS: u64 = 10_000;

/// Redis failures seen by one cache.
struct Fallbacks {
    count: AtomicU64,
    degraded: AtomicBool,
    #[cfg(feature = "cache")]
    started: Instant,
    #[cfg(feature = "cache")]
    last_warning_ms: AtomicU64,
}

impl Default for Fallbacks {
    fn default() -> Self {
        Self {
            count: AtomicU64::new(0),
            degraded: AtomicBool::new(false),
            #[cfg(feature = "cache")]
            started: Instant::now(),
            #[cfg(feature = "cache")]
            last_warning_ms: AtomicU64::new(0),
        }
    }
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

    pub async fn set_if_absent(pool: &Pool, key: &str, value: &str, ttl: Duration) -> Result<bool, String> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let stored: Option<String> = cmd("SET")
            .arg(key)
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .query_async(&mut conn(pool).await?)
            .await
            .map_err(|e| e.to_string())?;
        Ok(stored.is_some())
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

    pub async fn incr_with_ttl(pool: &Pool, key: &str, window: Duration) -> Result<(u64, Duration), String> {
        let mut c = conn(pool).await?;
        let (n, _, ms): (u64, i64, i64) = deadpool_redis::redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(key)
            .cmd("EXPIRE")
            .arg(key)
            .arg(window.as_secs().max(1))
            .arg("NX")
            .cmd("PTTL")
            .arg(key)
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        Ok((n, u64::try_from(ms).map(Duration::from_millis).unwrap_or(window)))
    }

    pub async fn ttl(pool: &Pool, key: &str) -> Result<Option<Duration>, String> {
        let secs: i64 = conn(pool).await?.ttl(key).await.map_err(|e| e.to_string())?;
        Ok(u64::try_from(secs).ok().map(Duration::from_secs))
    }

    pub async fn publish(pool: &Pool, channel: &str, message: &str) -> Result<(), String> {
        let mut c = conn(pool).await?;
        cmd("PUBLISH").arg(channel).arg(message).query_async::<i64>(&mut c).await.map(|_| ()).map_err(|e| e.to_string())
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

    fn set_if_absent(&self, key: String, value: String, ttl: Duration) -> bool {
        let Ok(mut map) = self.entries.lock() else {
            return false;
        };
        let now = Instant::now();
        if map.get(&key).is_some_and(|(_, exp)| *exp > now) {
            return false;
        }
        make_room(&mut map);
        map.insert(key, (value, now + ttl));
        true
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

    #[tokio::test]
    async fn a_lease_is_taken_once_until_it_expires_or_is_released() {
        let cache = Cache::memory("t:");
        let lease = Duration::from_millis(30);
        assert!(cache.set_if_absent("l", "1", lease).await);
        assert!(!cache.set_if_absent("l", "2", lease).await, "taken");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(cache.set_if_absent("l", "3", lease).await, "expired");
        cache.delete("l").await;
        assert!(cache.set_if_absent("l", "4", lease).await, "released");
        assert_eq!(cache.get("l").await.as_deref(), Some("4"));
    }
}
