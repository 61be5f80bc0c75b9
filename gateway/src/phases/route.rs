//! Phase 4 — choose the upstream: `/api/<service>/…` goes to that service unless a path-prefix
//! override names another owner. Nothing outside the table is ever addressed: an unknown service
//! is a 404 and the upstream URL is the configured base plus the (already checked) path.

use crate::upstream::Upstream;
use crm_common::ApiError;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Looked up on every request: a fast hash (the keys are the configured service names).
type Services = HashMap<String, Arc<Upstream>, foldhash::fast::RandomState>;

pub struct RouteTable {
    services: Services,
    /// (prefix, service), longest prefix first.
    overrides: Vec<(String, Arc<Upstream>)>,
    /// (prefix, total timeout), longest prefix first.
    timeouts: Vec<(String, Duration)>,
    default_timeout: Duration,
}

/// Where one request goes.
pub struct Target<'a> {
    pub upstream: &'a Arc<Upstream>,
    pub timeout: Duration,
}

/// The `<service>` of `/api/<service>/…`.
fn service_of(path: &str) -> &str {
    path.strip_prefix("/api/").and_then(|rest| rest.split('/').next()).unwrap_or_default()
}

/// Whether `path` is `prefix` or lies below it (segment-wise, so `/a/bc` is not below `/a/b`).
pub fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl RouteTable {
    pub fn new(
        upstreams: &[Arc<Upstream>],
        overrides: &[(String, String)],
        timeouts: &[(String, Duration)],
        default_timeout: Duration,
    ) -> Self {
        let services: Services = upstreams.iter().map(|u| (u.name.to_string(), u.clone())).collect();
        let mut overrides: Vec<_> = overrides
            .iter()
            .filter_map(|(prefix, name)| services.get(name).map(|u| (prefix.clone(), u.clone())))
            .collect();
        overrides.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut timeouts = timeouts.to_vec();
        timeouts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Self { services, overrides, timeouts, default_timeout }
    }

    pub fn upstreams(&self) -> impl Iterator<Item = &Arc<Upstream>> {
        self.services.values()
    }

    /// The service that owns `path`: a path-prefix override, else the `<service>` of
    /// `/api/<service>/…`.
    pub fn owner(&self, path: &str) -> Option<&Arc<Upstream>> {
        match self.overrides.iter().find(|(prefix, _)| under(path, prefix)) {
            Some((_, upstream)) => Some(upstream),
            None => self.services.get(service_of(path)),
        }
    }

    pub fn choose(&self, path: &str) -> Result<Target<'_>, ApiError> {
        let upstream = self.owner(path).ok_or_else(|| ApiError::NotFound("no such service".into()))?;
        let timeout =
            self.timeouts.iter().find(|(prefix, _)| under(path, prefix)).map_or(self.default_timeout, |(_, t)| *t);
        Ok(Target { upstream, timeout })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_segment_wise() {
        assert!(under("/api/a/b", "/api/a"));
        assert!(under("/api/a", "/api/a"));
        assert!(under("/api/a/", "/api/a/"));
        assert!(!under("/api/ab", "/api/a"));
    }
}
