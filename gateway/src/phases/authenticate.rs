//! Phase 2 — authenticate: everything outside the public list needs a valid access token, checked
//! locally against foundation's JWKS. A failure answers 401 before any upstream is contacted; a
//! valid token is forwarded unchanged (the services verify it again and resolve permissions).

use crate::context::RequestContext;
use crm_common::ApiError;
use crm_common::auth::{JwtError, Verifier, bearer_token};
use http::request::Parts;

pub struct Authenticator {
    /// `None` when verification is switched off (benchmarks only).
    verifier: Option<Verifier>,
    public: Vec<String>,
}

impl Authenticator {
    pub fn new(verifier: Option<Verifier>, public: Vec<String>) -> Self {
        Self { verifier, public }
    }

    pub fn is_public(&self, path: &str) -> bool {
        self.public.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == p || path.strip_prefix(p.as_str()) == Some("/"),
        })
    }

    pub async fn run(&self, parts: &Parts, ctx: &mut RequestContext) -> Result<(), ApiError> {
        let Some(verifier) = &self.verifier else {
            return Ok(());
        };
        if self.is_public(&ctx.path) {
            return Ok(());
        }
        let token = bearer_token(&parts.headers)?;
        match verifier.verify(token).await {
            Ok(claims) => {
                ctx.user_id = Some(claims.sub);
                Ok(())
            }
            Err(err) => {
                tracing::info!(request_id = %ctx.request_id, reason = %err, "token refused");
                ctx.fail("unauthenticated");
                Err(ApiError::unauthorized(match err {
                    JwtError::Expired => "token expired",
                    _ => "invalid token",
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_list() {
        let auth = Authenticator::new(None, vec!["/health".into(), "/docs/*".into()]);
        assert!(auth.is_public("/health"));
        assert!(auth.is_public("/health/"));
        assert!(!auth.is_public("/healthz"));
        assert!(!auth.is_public("/health/services"));
        assert!(auth.is_public("/docs/index.html"));
    }
}
