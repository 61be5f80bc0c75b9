//! Phase 3 — limit: fixed-window counters per class and caller, in Redis when configured (shared by
//! every replica) and in process otherwise. A request counts against its special class (login,
//! upload, export) and then against the general one; the first exhausted class answers 429.
//!
//! Login has two counters of the login class: one per client address (here) and one per account
//! (the identifier in the JSON body, read by [`crate::phases::login`] once the address counter has
//! let the request through). Either one exhausted refuses the login. foundation additionally
//! throttles failed logins per account itself.

use crate::config::{RateLimits, RateSpec};
use crate::context::{RateState, RequestContext};
use crate::phases::login::Account;
use crm_common::ApiError;
use crm_common::cache::Cache;
use crm_common::http::Metrics;
use http::Method;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub const LOGIN_PATH: &str = "/api/foundation/auth/login";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Login,
    Upload,
    Export,
    General,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Upload => "upload",
            Self::Export => "export",
            Self::General => "general",
        }
    }
}

/// The special class of a request, if any.
pub fn classify(method: &Method, path: &str) -> Option<Class> {
    let path = path.trim_end_matches('/');
    if path == LOGIN_PATH {
        Some(Class::Login)
    } else if path.ends_with("/export") {
        Some(Class::Export)
    } else if *method == Method::POST && (path.contains("/upload") || path.contains("/files")) {
        Some(Class::Upload)
    } else {
        None
    }
}

pub struct Limiter {
    cache: Cache,
    rates: RateLimits,
    metrics: Arc<Metrics>,
    reported_fallbacks: AtomicU64,
}

impl Limiter {
    pub fn new(cache: Cache, rates: RateLimits, metrics: Arc<Metrics>) -> Self {
        Self { cache, rates, metrics, reported_fallbacks: AtomicU64::new(0) }
    }

    pub fn backend(&self) -> &'static str {
        self.cache.backend()
    }

    fn spec(&self, class: Class) -> RateSpec {
        match class {
            Class::Login => self.rates.login,
            Class::Upload => self.rates.upload,
            Class::Export => self.rates.export,
            Class::General => self.rates.general,
        }
    }

    pub fn enabled(&self) -> bool {
        self.rates.enabled
    }

    pub async fn run(&self, ctx: &mut RequestContext) -> Result<(), ApiError> {
        if !self.rates.enabled {
            return Ok(());
        }
        // Login is anonymous by nature; everything else is counted per user once one is known.
        let caller = match ctx.user_id {
            Some(user) => format!("u:{user}"),
            None => format!("ip:{}", ctx.client_ip),
        };
        let special = classify(&ctx.method, &ctx.path);
        for class in special.into_iter().chain([Class::General]) {
            let key = match class {
                Class::Login => format!("rl:login:ip:{}", ctx.client_ip),
                other => format!("rl:{}:{caller}", other.name()),
            };
            // Boxed: the counter's store round trip would otherwise grow every request's future.
            let count = Box::pin(self.count(ctx, class, &key));
            count.await?;
        }
        Ok(())
    }

    /// The login class's second counter: per account, whichever address the attempt comes from.
    /// The key holds the identifier's digest, never the identifier.
    pub async fn run_account(&self, ctx: &mut RequestContext, account: &Account) -> Result<(), ApiError> {
        if !self.rates.enabled {
            return Ok(());
        }
        self.count(ctx, Class::Login, &format!("rl:login:acct:{}", account.digest())).await
    }

    async fn count(&self, ctx: &mut RequestContext, class: Class, key: &str) -> Result<(), ApiError> {
        let spec = self.spec(class);
        let (count, ttl) = self.cache.incr_with_ttl(key, spec.window).await;
        self.report_fallbacks();
        let reset_secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        let state = RateState { limit: spec.limit, remaining: spec.limit.saturating_sub(count), reset_secs };
        let exceeded = count > spec.limit;
        // The special class is the tighter one: report it when the request has one and, of its
        // counters (login has two), the one closest to its limit. A refusal reports its counter.
        let report = match ctx.rate {
            None => true,
            Some(current) => exceeded || (class != Class::General && state.remaining < current.remaining),
        };
        if report {
            ctx.rate = Some(state);
        }
        if exceeded {
            ctx.fail("rate_limited");
            self.metrics.inc(
                "gateway_ratelimit_rejections_total",
                "Requests refused with 429, by limit class.",
                &[("class", class.name())],
                1,
            );
            return Err(ApiError::TooManyRequests {
                message: "too many requests".into(),
                retry_after_secs: reset_secs.max(1),
            });
        }
        Ok(())
    }

    /// Publishes how often the counters fell back to process memory because Redis failed.
    pub fn report_fallbacks(&self) {
        let total = self.cache.fallbacks();
        let before = self.reported_fallbacks.swap(total, Ordering::Relaxed);
        if total > before {
            self.metrics.inc(
                "gateway_ratelimit_backend_fallbacks_total",
                "Rate-limit counter operations served from process memory because Redis failed.",
                &[],
                total - before,
            );
        }
        self.metrics.gauge_set(
            "gateway_ratelimit_backend_degraded",
            "1 while the shared rate-limit store (Redis) is failing and counters are per replica.",
            &[],
            i64::from(self.cache.degraded()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(classify(&Method::POST, LOGIN_PATH), Some(Class::Login));
        assert_eq!(classify(&Method::POST, "/api/order-workflow/orders/1/files"), Some(Class::Upload));
        assert_eq!(classify(&Method::GET, "/api/order-workflow/orders/1/files"), None);
        assert_eq!(classify(&Method::POST, "/api/foundation/upload/avatar"), Some(Class::Upload));
        assert_eq!(classify(&Method::GET, "/api/service-management/customers/export"), Some(Class::Export));
        assert_eq!(classify(&Method::GET, "/api/service-management/customers"), None);
    }
}
