//! Failed-login counting per account and per client address. Unknown accounts are counted like
//! real ones, so the refusal reveals nothing about which e-mails exist.

use crm_common::ApiError;
use crm_common::cache::Cache;
use std::net::IpAddr;
use std::time::Duration;

pub struct LoginThrottle {
    pub cache: Cache,
    pub max_per_account: u64,
    pub max_per_ip: u64,
    pub window: Duration,
}

fn account_key(identifier: &str) -> String {
    format!("login:fail:acct:{}", identifier.trim().to_lowercase())
}

fn ip_key(ip: IpAddr) -> String {
    format!("login:fail:ip:{ip}")
}

impl LoginThrottle {
    async fn count(&self, key: &str) -> u64 {
        self.cache.get(key).await.and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Refuses with 429 while the account or the address has used up its failures.
    pub async fn check(&self, identifier: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let account = account_key(identifier);
        let mut blocked = None;
        if self.count(&account).await >= self.max_per_account {
            blocked = Some(account);
        } else if let Some(ip) = ip {
            let key = ip_key(ip);
            if self.count(&key).await >= self.max_per_ip {
                blocked = Some(key);
            }
        }
        match blocked {
            None => Ok(()),
            Some(key) => {
                let retry = self.cache.ttl(&key).await.unwrap_or(self.window).as_secs().max(1);
                Err(ApiError::TooManyRequests {
                    message: "too many failed login attempts; try again later".into(),
                    retry_after_secs: retry,
                })
            }
        }
    }

    pub async fn record_failure(&self, identifier: &str, ip: Option<IpAddr>) {
        self.cache.incr(&account_key(identifier), self.window).await;
        if let Some(ip) = ip {
            self.cache.incr(&ip_key(ip), self.window).await;
        }
    }

    pub async fn clear(&self, identifier: &str) {
        self.cache.delete(&account_key(identifier)).await;
    }
}
