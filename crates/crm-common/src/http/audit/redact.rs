//! Request parameters as the audit log keeps them: query and body as JSON, bounded in size, with
//! every value under a secret-looking key replaced by `[REDACTED]` at any depth.

use serde_json::{Map, Value};

pub const REDACTED: &str = "[REDACTED]";

/// A key containing any of these (case-insensitive, `-` read as `_`) holds a secret.
const SECRET_MARKERS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "refresh",
    "cookie",
    "credential",
    "private_key",
    "signature",
];

/// Keys that hold a secret only when they are the whole key (`sig`, the signature of an order
/// file's link, would otherwise match `assigned_to`).
const SECRET_KEYS: &[&str] = &["sig"];

pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_MARKERS.iter().any(|m| key.contains(m)) || SECRET_KEYS.contains(&key.as_str())
}

/// Replaces secrets in place, recursively through objects and arrays.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// `a=1&a=2&b=x` → `{"a": ["1", "2"], "b": "x"}`.
fn form_to_json(raw: &[u8]) -> Value {
    let mut map = Map::new();
    for (k, v) in form_urlencoded::parse(raw) {
        let v = Value::String(v.into_owned());
        match map.get_mut(k.as_ref()) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                map.insert(k.into_owned(), v);
            }
        }
    }
    Value::Object(map)
}

/// What the middleware saw of the request body.
pub struct BodySeen<'a> {
    pub content_type: Option<&'a str>,
    /// The first bytes of the body (at most the capture limit).
    pub prefix: &'a [u8],
    /// The body's full length.
    pub total: usize,
}

fn body_json(body: &BodySeen<'_>) -> Option<Value> {
    if body.total == 0 {
        return None;
    }
    let ct = body.content_type.unwrap_or_default().to_ascii_lowercase();
    let truncated = body.total > body.prefix.len();
    let is_json = ct.starts_with("application/json") || ct.contains("+json");
    let is_form = ct.starts_with("application/x-www-form-urlencoded");
    if truncated && (is_json || is_form) {
        return Some(serde_json::json!({ "_truncated": true, "_bytes": body.total }));
    }
    if is_json {
        return Some(
            serde_json::from_slice(body.prefix)
                .unwrap_or_else(|_| serde_json::json!({ "_unparsable": true, "_bytes": body.total })),
        );
    }
    if is_form {
        return Some(form_to_json(body.prefix));
    }
    let kind = ct.split(';').next().unwrap_or_default().trim().to_owned();
    Some(serde_json::json!({ "_omitted": kind, "_bytes": body.total }))
}

/// `{"query": {...}, "body": ...}` with secrets redacted; `None` when the request had neither.
pub fn request_params(query: Option<&str>, body: &BodySeen<'_>, max_query: usize) -> Option<Value> {
    let mut out = Map::new();
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        let q = if q.len() > max_query { &q.as_bytes()[..max_query] } else { q.as_bytes() };
        out.insert("query".into(), form_to_json(q));
    }
    if let Some(b) = body_json(body) {
        out.insert("body".into(), b);
    }
    if out.is_empty() {
        return None;
    }
    let mut value = Value::Object(out);
    redact(&mut value);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seen(ct: &str, body: &[u8]) -> BodySeen<'static> {
        let leaked: &'static [u8] = Box::leak(body.to_vec().into_boxed_slice());
        let ct: &'static str = Box::leak(ct.to_owned().into_boxed_str());
        BodySeen { content_type: Some(ct), prefix: leaked, total: body.len() }
    }

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let body = json!({
            "email": "a@b.co",
            "password": "Hunter22",
            "nested": {"old_password": "x", "New-Password": "y", "list": [{"refresh_token": "rt_1"}]},
            "api_key": "k", "clientSecret": "s", "Authorization": "Bearer t", "name": "kept"
        });
        let params = request_params(
            Some("token=abc&page=2&page=3&sig=s1&assigned_to=u"),
            &seen("application/json", body.to_string().as_bytes()),
            4096,
        )
        .unwrap();
        let text = params.to_string();
        for secret in ["Hunter22", "\"x\"", "\"y\"", "rt_1", "\"k\"", "\"s\"", "Bearer t", "abc"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(params["body"]["name"], "kept");
        assert_eq!(params["body"]["nested"]["list"][0]["refresh_token"], REDACTED);
        assert_eq!(params["query"]["page"], json!(["2", "3"]));
        assert_eq!(params["query"]["sig"], REDACTED);
        assert_eq!(params["query"]["assigned_to"], "u");
    }

    #[test]
    fn forms_truncation_and_binary_bodies() {
        let p = request_params(None, &seen("application/x-www-form-urlencoded", b"user=a&pwd=b"), 10).unwrap();
        assert_eq!(p["body"], json!({"user": "a", "pwd": REDACTED}));
        let big = BodySeen { content_type: Some("application/json"), prefix: b"{\"password\":\"abc", total: 99_999 };
        let p = request_params(None, &big, 10).unwrap();
        assert_eq!(p["body"]["_truncated"], true);
        assert!(!p.to_string().contains("abc"));
        let p = request_params(None, &seen("multipart/form-data; boundary=x", b"--x..."), 10).unwrap();
        assert_eq!(p["body"]["_omitted"], "multipart/form-data");
        assert!(request_params(None, &seen("application/json", b""), 10).is_none());
    }
}
