//! Part of phase 3 (limit) — the login body, the one request body the gateway reads.
//!
//! `POST /api/foundation/auth/login` is limited per client address and per account, and the
//! account is only in the JSON body. So that body is read whole — at most [`LOGIN_BODY_LIMIT`]
//! bytes, within [`LOGIN_BODY_TIMEOUT`] — its `email` (else `username`) is taken the way
//! foundation takes it, counted, and the very same bytes go upstream with their length declared.
//! Every other request body keeps streaming untouched.
//!
//! Neither the body nor the identifier is logged or put in an error message; the counter key
//! holds a SHA-256 digest of the normalised identifier, never the identifier itself.

use crate::body::BoxError;
use crate::context::RequestContext;
use crate::phases::limit::{Class, Limiter, classify};
use crm_common::ApiError;
use http::request::Parts;
use http::{HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The largest login body read; a login is an identifier and a password.
pub const LOGIN_BODY_LIMIT: usize = 8 * 1024;
/// How long a client has to send its whole login body.
pub const LOGIN_BODY_TIMEOUT: Duration = Duration::from_secs(10);

const MALFORMED: &str = "a login body is a JSON object with an email or username and a password";

/// Whether the request is a login whose body is read (only `POST`; the path as the limit classes
/// see it, trailing slash included).
pub fn applies(method: &Method, path: &str) -> bool {
    *method == Method::POST && classify(method, path) == Some(Class::Login)
}

/// A login's account as its counter knows it: the SHA-256 (hex) of the identifier, trimmed and
/// lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account(String);

impl Account {
    /// `None` for an identifier that is empty once trimmed.
    pub fn from_identifier(identifier: &str) -> Option<Self> {
        let normalised = identifier.trim().to_lowercase();
        if normalised.is_empty() {
            return None;
        }
        let digest = Sha256::digest(normalised.as_bytes());
        Some(Self(digest.iter().map(|b| format!("{b:02x}")).collect()))
    }

    pub fn digest(&self) -> &str {
        &self.0
    }
}

/// The fields foundation identifies the account by; everything else (the password) is skipped
/// unread. Duplicate fields and non-string values fail here as they fail in foundation.
#[derive(Deserialize)]
struct Identity {
    email: Option<String>,
    username: Option<String>,
}

/// The account a login body names, or `None` when it names none (foundation refuses such a body
/// before it looks at any password). Anything but a JSON object is refused with 400.
pub fn account(body: &[u8]) -> Result<Option<Account>, ApiError> {
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::bad_request(MALFORMED));
    }
    let identity: Identity = serde_json::from_slice(body).map_err(|_| ApiError::bad_request(MALFORMED))?;
    // As foundation reads it: `email` when present (even if empty), else `username`.
    Ok(identity.email.or(identity.username).as_deref().and_then(Account::from_identifier))
}

/// Reads a whole body of at most `limit` bytes: 413 when `Content-Length` says more (without
/// reading) or more arrives; 400 when the client breaks off or takes longer than
/// [`LOGIN_BODY_TIMEOUT`].
pub async fn read<B>(parts: &Parts, body: B, limit: usize) -> Result<Bytes, (&'static str, ApiError)>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(("body_too_large", ApiError::payload_too_large()));
    }
    match tokio::time::timeout(LOGIN_BODY_TIMEOUT, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(("body_too_large", ApiError::payload_too_large()))
        }
        Ok(Err(_)) => Err(("client_body", ApiError::bad_request("request body incomplete"))),
        Err(_) => Err(("client_body", ApiError::bad_request("request body not received in time"))),
    }
}

/// The login's part of the limit phase, after the address counter: reads the body, counts its
/// account, and returns the request to forward — the same bytes, `Content-Length` set to them.
pub async fn run<B>(
    limiter: &Limiter,
    mut parts: Parts,
    body: B,
    body_limit: usize,
    ctx: &mut RequestContext,
) -> Result<Request<Full<Bytes>>, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let bytes = match read(&parts, body, body_limit.min(LOGIN_BODY_LIMIT)).await {
        Ok(bytes) => bytes,
        Err((kind, error)) => {
            ctx.fail(kind);
            return Err(error);
        }
    };
    let account = account(&bytes).inspect_err(|_| ctx.fail("bad_login_body"))?;
    if let Some(account) = account {
        limiter.run_account(ctx, &account).await?;
    }
    // A chunked upload becomes one of declared length; a declared length stays what it was.
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Ok(Request::from_parts(parts, Full::new(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut builder = Request::builder().method(Method::POST).uri("/api/foundation/auth/login");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn identifiers_are_normalised_and_hashed() {
        let a = account(br#"{"email":"  Alice@Bantu.Test ","password":"x"}"#).unwrap().unwrap();
        let b = account(br#"{"username":"alice@bantu.test","password":"y"}"#).unwrap().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.digest().len(), 64);
        assert!(!a.digest().contains("alice"));
        let c = account(br#"{"email":"bob@bantu.test","password":"x"}"#).unwrap().unwrap();
        assert_ne!(a, c);
        // email wins over username, as in foundation.
        let d = account(br#"{"email":"bob@bantu.test","username":"alice@bantu.test"}"#).unwrap().unwrap();
        assert_eq!(d, c);
    }

    #[test]
    fn bodies_without_an_account() {
        assert_eq!(account(br#"{"password":"x"}"#).unwrap(), None);
        assert_eq!(account(br#"{"email":"   ","password":"x"}"#).unwrap(), None);
        assert_eq!(account(br#"{"email":null,"password":"x"}"#).unwrap(), None);
        // An empty email is what foundation reads (and refuses), even with a username.
        assert_eq!(account(br#"{"email":"","username":"alice"}"#).unwrap(), None);
    }

    #[test]
    fn malformed_bodies_are_refused_without_echoing_them() {
        for bad in [
            &b""[..],
            b"email=a&password=secret",
            br#"["alice","secret"]"#,
            br#"{"email":5,"password":"secret"}"#,
            br#"{"email":"a","email":"b","password":"secret"}"#,
            br#"{"email":"a","password":"secret""#,
        ] {
            let error = account(bad).unwrap_err();
            assert!(matches!(error, ApiError::BadRequest(_)), "{error:?}");
            assert!(!error.to_string().contains("secret"));
        }
    }

    #[tokio::test]
    async fn read_is_bounded() {
        let small = Full::new(Bytes::from_static(b"{}"));
        assert_eq!(read(&parts(&[]), small, 8).await.unwrap(), Bytes::from_static(b"{}"));
        let large = Full::new(Bytes::from(vec![b' '; 9]));
        assert!(matches!(read(&parts(&[]), large, 8).await, Err((_, ApiError::PayloadTooLarge(_)))));
        // The declared length alone is enough to refuse.
        let declared = parts(&[("content-length", "9000")]);
        let empty = Full::new(Bytes::new());
        assert!(matches!(read(&declared, empty, 8192).await, Err((_, ApiError::PayloadTooLarge(_)))));
    }
}
