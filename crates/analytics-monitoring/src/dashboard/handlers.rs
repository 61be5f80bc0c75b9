//! The page and its two assets, each with the security headers every dashboard answer carries.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use crm_common::api::{ApiError, Path};

pub const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");

/// Only this origin, for everything; no inline script or style, no plugins, no framing; `fetch`
/// only back to this origin (the gateway, which routes the API and foundation's login). Forms are
/// never submitted by the browser (the script sends them), so that a password can never end up in
/// a URL even when the script has not loaded.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn respond(content_type: &'static str, body: &'static str, cache: &'static str) -> Response {
    let headers: [(HeaderName, HeaderValue); 7] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ];
    (headers, body).into_response()
}

/// The monitoring dashboard
///
/// An HTML page (not in the envelope) with a login form; once logged in it shows the services'
/// health and latency, system and database metrics, active alerts and a log search, refreshed
/// every 5 seconds (`?refresh=` milliseconds overrides, 1–60 s). Public: the page holds no data.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
pub async fn page() -> Response {
    // Revalidated every time so that a new release's page and script are picked up together.
    respond("text/html; charset=utf-8", INDEX, "no-cache")
}

/// An asset of the dashboard
///
/// `dashboard.js` or `dashboard.css`, compiled into the binary.
#[utoipa::path(get, path = "/dashboard/{asset}", tag = "dashboard",
    params(("asset" = String, Path, description = "`dashboard.js` or `dashboard.css`")),
    responses((status = 200, description = "The script or style sheet", content_type = "text/plain", body = String),
        (status = 404, description = "No such asset")))]
pub async fn asset(Path(asset): Path<String>) -> Response {
    match asset.as_str() {
        "dashboard.js" => respond("text/javascript; charset=utf-8", SCRIPT, "no-cache"),
        "dashboard.css" => respond("text/css; charset=utf-8", STYLE, "no-cache"),
        _ => ApiError::NotFound("no such dashboard asset".into()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_its_assets_and_nothing_outside() {
        assert!(INDEX.contains(r#"src="/dashboard/dashboard.js""#));
        assert!(INDEX.contains(r#"href="/dashboard/dashboard.css""#));
        for text in [INDEX, SCRIPT, STYLE] {
            // The SVG namespace is a name, not a resource.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
                "no external resource"
            );
        }
        // The CSP forbids inline script and style: the page may carry none.
        assert!(!INDEX.contains("<script>") && !INDEX.contains("style="), "nothing inline");
        assert!(!SCRIPT.contains("innerHTML"), "text only through textContent");
    }
}
