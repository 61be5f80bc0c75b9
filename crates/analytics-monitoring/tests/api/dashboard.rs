//! The monitoring dashboard: its page and assets with their security headers, and the page in a
//! real headless Chromium (Debian's, installed by `scripts/ensure-chromium.sh`) behind a real
//! gateway process: it loads, logs in, shows the services, shows one going down within its
//! refresh interval, acknowledges an alert and searches the logs.

use crate::helpers::*;
use crate::webdriver::Driver;
use crm_common::db_test;
use crm_common::testing::{Backend, Process, free_port, sibling_binary};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Query};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// How often the page under test refreshes (`?refresh=`), and how long a change may take to show:
/// two refreshes plus the fan-out's health timeout.
const REFRESH_MS: u64 = 2000;
const WITHIN: Duration = Duration::from_secs(2 * 2 + 2 + 4);

const SECURITY_HEADERS: [(&str, &str); 3] =
    [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"), ("referrer-policy", "no-referrer")];

db_test!(
    async fn the_page_and_its_assets_are_public_with_a_self_only_policy(backend) {
        let app = TestApp::spawn(backend).await;
        for (path, kind) in [
            ("/dashboard", "text/html"),
            ("/dashboard/dashboard.js", "text/javascript"),
            ("/dashboard/dashboard.css", "text/css"),
        ] {
            let r = app.client.get(path, None).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
            assert!(r.header("content-type").unwrap_or_default().starts_with(kind), "{path}");
            let csp = r.header("content-security-policy").unwrap_or_default();
            assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline") && !csp.contains("http"), "{path}: {csp}");
            for (name, value) in SECURITY_HEADERS {
                assert_eq!(r.header(name), Some(value), "{path}: {name}");
            }
        }
        let page = app.client.get("/dashboard", None).await;
        assert!(page.text.contains("id=\"login-form\"") && page.text.contains("/dashboard/dashboard.js"));
        let r = app.client.get("/dashboard/secrets.txt", None).await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.body["code"], 404, "the standard envelope");
        let r = app.client.get("/dashboard/..%2Fconfig.rs", None).await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
);

/// The gateway as a real process in front of the in-process services, plain HTTP, with its
/// default public paths and route overrides (which send `/dashboard` to analytics-monitoring).
async fn gateway(app: &TestApp) -> Process {
    let port = free_port();
    let dir = app.db.data_dir().join(format!("gateway-{port}"));
    let f = app.foundation.url();
    let services = format!(
        "foundation={f},service-management={},order-workflow={},analytics-monitoring=http://127.0.0.1:{}",
        app.sm.url(),
        app.ow.url(),
        app.port
    );
    Process::start(
        &sibling_binary("crm-gateway"),
        port,
        &dir,
        &[
            ("CRM_DATA_DIR", dir.display().to_string()),
            ("CRM_TLS_ENABLED", "false".into()),
            ("CRM_HTTP_REDIRECT", "false".into()),
            ("CRM_RATELIMIT_ENABLED", "false".into()),
            ("CRM_CACHE_PREFIX", format!("dashboard-gw-{}:", Uuid::now_v7().simple())),
            ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
            ("CRM_SERVICE_URLS", services),
        ],
    )
    .healthy()
    .await
}

/// An active alert in analytics-monitoring's own table, as the rules would raise it.
async fn raise_alert(app: &TestApp, alert_type: &str, message: &str) -> Uuid {
    let id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let insert = Query::insert()
        .into_table(Alias::new("alerts"))
        .columns(
            [
                "id",
                "alert_type",
                "subject",
                "severity",
                "title",
                "message",
                "value",
                "threshold",
                "status",
                "occurrences",
                "created_at",
                "last_seen_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            id.into(),
            alert_type.into(),
            "host".into(),
            "warning".into(),
            "CPU usage high".into(),
            message.into(),
            91.5f64.into(),
            70.0f64.into(),
            "active".into(),
            1i32.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    app.state.db.execute(&insert).await.expect("insert an alert");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_chromium_through_the_gateway_an_operator_logs_in_sees_an_outage_and_acknowledges_an_alert() {
    let mut app = TestApp::spawn(Backend::Sqlite).await;
    let alert = raise_alert(&app, "cpu_high", "CPU above 70% on the test host").await;
    let gw = gateway(&app).await;
    let base = gw.url();

    // The page comes through the gateway without a token, with its policy intact; the API
    // behind it still needs one.
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let r = http.get(format!("{base}/api/analytics-monitoring/monitoring/health/services")).send().await.unwrap();
    assert_eq!(r.status(), 401, "the API is not public");

    let driver = Driver::start().await;
    let page = driver.session().await;
    page.goto(&format!("{base}/dashboard?refresh={REFRESH_MS}")).await;
    page.wait_for("the login form", WITHIN, "return document.getElementById('login-form') !== null", json!([])).await;

    // A wrong password is refused on the page.
    page.type_into("#login-email", ADMIN_EMAIL).await;
    page.type_into("#login-password", "not-the-password").await;
    page.click("#login-submit").await;
    page.wait_for("the login error", WITHIN, "return document.getElementById('login-error').textContent", json!([]))
        .await;
    assert_eq!(page.eval("return document.getElementById('app').hidden", json!([])).await, json!(true));

    // The right one shows the dashboard, every monitored service healthy.
    page.eval("document.getElementById('login-password').value = ''", json!([])).await;
    page.type_into("#login-password", ADMIN_PASSWORD).await;
    page.click("#login-submit").await;
    let healthy =
        "const n = document.querySelectorAll('#services tbody tr[data-status=\"healthy\"]').length; return n >= 3 && n";
    let n = page.wait_for("three healthy services", WITHIN, healthy, json!([])).await;
    assert_eq!(n, json!(3), "foundation, service-management and order-workflow");
    let overall = "return document.getElementById('overall-status').dataset.status";
    assert_eq!(page.eval(overall, json!([])).await, json!("healthy"));
    // Each service's latency, as the fan-out measured it, in milliseconds.
    let r = app.get("/monitoring/health/services", app.admin()).await;
    r.expect(200);
    let measured = r.data()["services"][0].get("response_time_ms").is_some_and(|v| v.is_number());
    let latency = page
        .eval(
            "return document.querySelector('#services tr[data-service=\"foundation-service\"] .latency').textContent",
            json!([]),
        )
        .await;
    if measured {
        assert!(latency.as_str().is_some_and(|l| l.ends_with(" ms")), "a latency: {latency}");
    }

    // The charts fill as samples arrive.
    page.wait_for(
        "two CPU samples on the chart",
        WITHIN,
        "const s = document.querySelector('#chart-cpu svg'); return s && Number(s.dataset.points) >= 2",
        json!([]),
    )
    .await;

    // service-management goes down: within the refresh interval its row turns unhealthy and the
    // overall status degrades.
    app.sm.stop().await;
    let row =
        "return document.querySelector('#services tr[data-service=\"service-management-service\"]').dataset.status";
    let status = page
        .wait_for(
            "service-management to turn unhealthy",
            WITHIN,
            &format!("const s = (function(){{ {row} }})(); return s !== 'healthy' && s"),
            json!([]),
        )
        .await;
    assert_eq!(status, json!("unhealthy"));
    let overall_now = page
        .wait_for(
            "the overall status to degrade",
            WITHIN,
            &format!("const s = (function(){{ {overall} }})(); return s !== 'healthy' && s"),
            json!([]),
        )
        .await;
    assert_eq!(overall_now, json!("degraded"), "one of three down");

    // The alert is listed; acknowledging it from the page is recorded by the service.
    let button = format!("#alerts button.ack[data-alert-id=\"{alert}\"]");
    page.wait_for(
        "the alert's button",
        WITHIN,
        &format!("return document.querySelector('{button}') !== null"),
        json!([]),
    )
    .await;
    page.click(&button).await;
    page.wait_for(
        "the alert to show as acknowledged",
        WITHIN,
        &format!("return document.querySelector('{button}') === null"),
        json!([]),
    )
    .await;
    let r = app.get("/monitoring/alerts/active", app.admin()).await;
    r.expect(200);
    let listed = r.data()["alerts"].as_array().unwrap().iter().find(|a| a["id"] == alert.to_string()).cloned();
    assert!(listed.as_ref().is_none_or(|a| a["acknowledged"] == true), "acknowledged: {listed:?}");

    // A log search answers on the page.
    page.type_into("#log-keyword", "login").await;
    page.eval("document.getElementById('log-level').value = 'ERROR'", json!([])).await;
    page.click("#log-submit").await;
    page.wait_for(
        "the log search's total",
        WITHIN,
        "return document.getElementById('log-summary').dataset.total !== undefined",
        json!([]),
    )
    .await;

    page.close().await;
    drop(gw);
}
