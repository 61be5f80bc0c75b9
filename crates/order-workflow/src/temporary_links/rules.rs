//! Share links' pure rules: the token, the request's checks, and why a link no longer opens.

use super::dto::CreateLink;
use super::model::Model as Link;
use base64::Engine;
use chrono::{DateTime, Utc};
use crm_common::ApiError;
use crm_common::api::validate::Validator;
use rand::RngCore;

pub const RESOURCE_TYPES: &[&str] = &["order", "customer", "service_account"];

/// The most opens one link may allow.
pub const MAX_ACCESS_COUNT: i32 = 10_000;

/// 32 random bytes, URL-safe base64 without padding (43 characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A checked request: the type, the budget (default 1).
pub fn check(body: &CreateLink, now: DateTime<Utc>) -> Result<(String, i32), ApiError> {
    let kind = body.resource_type.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let max = body.max_access_count.unwrap_or(1);
    let mut v = Validator::new();
    v.check(!kind.is_empty(), "resource_type", "is required")
        .check(body.resource_id.is_some(), "resource_id", "is required")
        .check((1..=i64::from(MAX_ACCESS_COUNT)).contains(&max), "max_access_count", "must be between 1 and 10000")
        .check(body.expires_at.is_none_or(|e| e > now), "expires_at", "must be in the future");
    if !kind.is_empty() {
        v.one_of("resource_type", Some(&kind), RESOURCE_TYPES);
    }
    v.finish()?;
    Ok((kind, i32::try_from(max).unwrap_or(1)))
}

/// Why `link` does not open now, if it does not: 404 unknown or disabled, 410 expired or used up.
pub fn refusal(link: Option<&Link>, now: DateTime<Utc>) -> Option<ApiError> {
    let Some(link) = link.filter(|l| l.is_active) else {
        return Some(ApiError::not_found("temporary link"));
    };
    if link.expires_at.is_some_and(|e| e <= now) {
        return Some(ApiError::Gone("this link has expired".into()));
    }
    if link.current_access_count >= link.max_access_count {
        return Some(ApiError::Gone("this link has reached its access limit".into()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn link() -> Link {
        Link {
            id: Uuid::nil(),
            organization_id: Uuid::nil(),
            link_token: new_token(),
            resource_type: "order".into(),
            resource_id: Uuid::nil(),
            expires_at: None,
            max_access_count: 2,
            current_access_count: 0,
            is_active: true,
            created_by: Uuid::nil(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn why_a_link_does_not_open() {
        let now = Utc::now();
        assert!(refusal(Some(&link()), now).is_none());
        let status = |l: Option<&Link>| refusal(l, now).map(|e| e.status().as_u16());
        assert_eq!(status(None), Some(404));
        assert_eq!(status(Some(&Link { is_active: false, ..link() })), Some(404));
        assert_eq!(status(Some(&Link { expires_at: Some(now), ..link() })), Some(410));
        assert_eq!(status(Some(&Link { current_access_count: 2, ..link() })), Some(410));
    }

    #[test]
    fn requests_are_checked() {
        let now = Utc::now();
        let ok =
            CreateLink { resource_type: Some("order".into()), resource_id: Some(Uuid::nil()), ..Default::default() };
        assert_eq!(check(&ok, now).unwrap(), ("order".into(), 1));
        for bad in [
            CreateLink { resource_type: Some("invoice".into()), ..ok.clone() },
            CreateLink { resource_id: None, ..ok.clone() },
            CreateLink { max_access_count: Some(0), ..ok.clone() },
            CreateLink { expires_at: Some(now - chrono::Duration::seconds(1)), ..ok.clone() },
        ] {
            assert!(check(&bad, now).is_err(), "{bad:?}");
        }
    }
}
