//! Paths as logs may keep them. A temporary link's public address carries its token in the path
//! (`/api/order-workflow/temporary-links/{token}`): whoever reads the access log, the request
//! log, a trace or an audit event could otherwise open the shared resource themselves. Every
//! place that writes a request's path writes [`loggable`] instead.

use std::borrow::Cow;

/// What stands in the log for a secret path segment.
pub const REDACTED_SEGMENT: &str = "<redacted>";

/// Path segments whose next segment is a bearer secret, unless it is an id (a link's own
/// `/temporary-links/{link_id}/disable` names the link, not its token).
const SECRET_AFTER: &[&str] = &["temporary-links"];

/// `path` with every secret segment replaced by [`REDACTED_SEGMENT`]; borrowed when there is none.
pub fn loggable(path: &str) -> Cow<'_, str> {
    if !SECRET_AFTER.iter().any(|s| path.contains(s)) {
        return Cow::Borrowed(path);
    }
    let mut out = Vec::new();
    let mut secret_next = false;
    let mut changed = false;
    for segment in path.split('/') {
        if secret_next && !segment.is_empty() && uuid::Uuid::parse_str(segment).is_err() {
            out.push(REDACTED_SEGMENT);
            changed = true;
        } else {
            out.push(segment);
        }
        secret_next = SECRET_AFTER.contains(&segment);
    }
    if changed { Cow::Owned(out.join("/")) } else { Cow::Borrowed(path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_redacted_and_ids_kept() {
        let token = "q3V9sX0b2Jk7_wR-PpLm4aZyT8uN1cDeFgHiJkLmNoP";
        let table = [
            (format!("/api/order-workflow/temporary-links/{token}"), "/api/order-workflow/temporary-links/<redacted>"),
            (format!("/temporary-links/{token}/"), "/temporary-links/<redacted>/"),
            ("/api/order-workflow/temporary-links".to_owned(), "/api/order-workflow/temporary-links"),
            ("/api/order-workflow/temporary-links/".to_owned(), "/api/order-workflow/temporary-links/"),
            (
                "/api/order-workflow/temporary-links/0190a1b2-0000-7000-8000-000000000001/disable".to_owned(),
                "/api/order-workflow/temporary-links/0190a1b2-0000-7000-8000-000000000001/disable",
            ),
            ("/api/order-workflow/orders/abc".to_owned(), "/api/order-workflow/orders/abc"),
        ];
        for (path, logged) in table {
            assert_eq!(loggable(&path), logged, "{path}");
            assert!(!loggable(&path).contains(token));
        }
        assert!(matches!(loggable("/api/foundation/users"), Cow::Borrowed(_)));
    }
}
