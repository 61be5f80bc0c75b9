//! End to end: every service binary as a real process, each on its own SQLite database, behind
//! the real gateway over HTTPS. A whole sale goes through it across services; tenancy holds in
//! every service; audit events of every service reach foundation; one request's id appears in
//! the log of every process it touched.

use crate::client::Client;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Process, TempDir, free_port, wait_for_health};
use crm_gateway::tls::DEV_CERT_FILE;
use http::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;
use uuid::Uuid;

pub const INGEST_TOKEN: &str = "e2e-ingest-token-0123456789abcdef";
pub const PASSWORD: &str = "Passw0rd99";

/// `binary` (a sibling of this test's executable) with `envs`, its JSON log (stdout, at `info`)
/// in `dir/stdout.log`; `{dir}` in a value is replaced by its data directory.
pub async fn spawn(binary: &str, envs: &[(&str, String)]) -> Process {
    let dir = TempDir::new();
    let port = free_port();
    let log = std::fs::File::create(dir.0.join("stdout.log")).unwrap();
    let mut command = Command::new(crate::helpers::sibling_binary(binary));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CRM_BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("CRM_DATA_DIR", &dir.0)
        .env("CRM_CACHE_PREFIX", format!("e2e-{binary}-{}:", Uuid::now_v7().simple()))
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(log))
        .stderr(Stdio::null());
    for (k, v) in envs {
        command.env(k, v.replace("{dir}", &dir.0.display().to_string()));
    }
    let mut child = command.spawn().unwrap_or_else(|e| panic!("start {binary}: {e}"));
    wait_for_health(port, &mut child, binary).await;
    Process { child, port, dir }
}

pub fn log_of(p: &Process) -> String {
    std::fs::read_to_string(p.dir.0.join("stdout.log")).unwrap_or_default()
}

struct System {
    foundation: Process,
    sm: Process,
    ow: Process,
    gateway: Process,
    https: Client,
}

async fn start() -> System {
    let foundation = spawn(
        "crm-foundation",
        &[
            ("DATABASE_URL", "sqlite://{dir}/foundation.db".into()),
            ("CRM_ADMIN_EMAIL", ADMIN_EMAIL.into()),
            ("CRM_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN.into()),
        ],
    )
    .await;
    let f = format!("http://127.0.0.1:{}", foundation.port);
    let peer = |db: &str| -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", format!("sqlite://{{dir}}/{db}.db")),
            ("CRM_FOUNDATION_URL", f.clone()),
            ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
            ("CRM_AUDIT_INGEST_URL", format!("{f}/api/foundation/audit-logs/ingest")),
            ("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN.into()),
        ]
    };
    let sm = spawn("crm-service-management", &peer("service-management")).await;
    let s = format!("http://127.0.0.1:{}", sm.port);
    let mut ow_env = peer("order-workflow");
    ow_env.push(("CRM_SERVICE_MANAGEMENT_URL", s.clone()));
    let ow = spawn("crm-order-workflow", &ow_env).await;
    let o = format!("http://127.0.0.1:{}", ow.port);
    let tls_port = free_port();
    let gateway = spawn(
        "crm-gateway",
        &[
            ("CRM_TLS_ENABLED", "true".into()),
            ("CRM_TLS_BIND_ADDR", format!("127.0.0.1:{tls_port}")),
            ("CRM_HTTP_REDIRECT", "false".into()),
            ("CRM_RATELIMIT_ENABLED", "false".into()),
            ("CRM_SERVICE_URLS", format!("foundation={f},service-management={s},order-workflow={o}")),
            ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
        ],
    )
    .await;
    let cert = std::fs::read(gateway.dir.0.join(DEV_CERT_FILE)).expect("the development certificate");
    System { foundation, sm, ow, gateway, https: Client::tls(tls_port, &cert) }
}

impl System {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let (status, v) = self.try_call(method.clone(), path, token, body, &[]).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {v}");
        v["data"].clone()
    }

    async fn try_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        let bytes = match &body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let r = self.https.request(method, path, &headers, bytes).await;
        let v = if r.body.is_empty() { Value::Null } else { r.json() };
        (r.status.as_u16(), v)
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let d = self
            .call(Method::POST, "/api/foundation/auth/login", None, Some(json!({"email": email, "password": password})))
            .await;
        d["token"].as_str().unwrap().to_owned()
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_sale_across_services_through_the_gateway_over_https() {
    let sys = start().await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let a = Some(admin.as_str());

    // The administrator: a seller, and a product in the catalogue.
    let roles = sys.call(Method::GET, "/api/foundation/roles", a, None).await;
    let sales_role = roles.as_array().unwrap().iter().find(|r| r["code"] == "SALES").map(id).unwrap();
    let bantu = "00000000-0000-0000-0000-000000000001";
    let seller = sys
        .call(
            Method::POST,
            "/api/foundation/users",
            a,
            Some(json!({"organization_id": bantu, "email": "sales@e2e.test", "password": PASSWORD, "role_ids": [sales_role]})),
        )
        .await;
    let seller_id = id(&seller);
    let product = sys
        .call(
            Method::POST,
            "/api/service-management/products",
            a,
            Some(json!({"name": "KITAS work visa", "code": "KITAS", "price_direct_cny": 5000})),
        )
        .await;
    let product_id = id(&product);
    let sales = sys.login("sales@e2e.test", PASSWORD).await;
    let s = Some(sales.as_str());

    // The seller: a lead, called twice, converted into a customer (in service-management) and an
    // opportunity (here in order-workflow).
    let lead = sys
        .call(
            Method::POST,
            "/api/order-workflow/leads",
            s,
            Some(json!({"name": "Budi", "company_name": "PT Maju Jaya"})),
        )
        .await;
    let lead_id = id(&lead);
    for (status, day) in [("contacted", "2026-12-01"), ("qualified", "2026-12-03")] {
        sys.call(
            Method::POST,
            &format!("/api/order-workflow/leads/{lead_id}/follow-ups"),
            s,
            Some(json!({"follow_up_type": "call", "content": "call", "follow_up_date": format!("{day}T03:00:00Z"), "status_after": status})),
        )
        .await;
    }
    let converted = sys
        .call(
            Method::POST,
            &format!("/api/order-workflow/leads/{lead_id}/convert-to-opportunity"),
            s,
            Some(json!({"opportunity_name": "KITAS for PT Maju Jaya", "amount": 10000})),
        )
        .await;
    let opportunity_id = converted["opportunity_id"].as_str().expect("an opportunity").to_owned();
    let customer_id = converted["opportunity"]["customer_id"].as_str().expect("a customer").to_owned();
    let customer = sys.call(Method::GET, &format!("/api/service-management/customers/{customer_id}"), s, None).await;
    assert_eq!(customer["name"], "PT Maju Jaya");
    let lead = sys.call(Method::GET, &format!("/api/order-workflow/leads/{lead_id}"), s, None).await;
    assert_eq!(lead["status"], "converted");

    // The opportunity: a product, along the board, converted into an order.
    let opp = sys
        .call(
            Method::PUT,
            &format!("/api/order-workflow/opportunities/{opportunity_id}"),
            s,
            Some(json!({"products": [{"product_id": product_id, "quantity": 2, "unit_price": 5000}]})),
        )
        .await;
    assert_eq!(opp["products"].as_array().map(Vec::len), Some(1), "{opp}");
    for stage in ["needs_analysis", "proposal", "negotiation"] {
        sys.call(
            Method::POST,
            &format!("/api/order-workflow/opportunities/{opportunity_id}/update-stage"),
            s,
            Some(json!({"stage": stage})),
        )
        .await;
    }
    let order = sys
        .call(
            Method::POST,
            &format!("/api/order-workflow/opportunities/{opportunity_id}/convert"),
            s,
            Some(json!({"order_title": "KITAS for two directors"})),
        )
        .await;
    let order_id = id(&order);
    assert_eq!(order["opportunity_id"], opportunity_id.as_str());
    assert_eq!(order["customer_id"], customer_id.as_str());
    assert_eq!(order["order_items"][0]["product_name"], "KITAS work visa");
    assert_eq!(order["total_amount"], 10000);
    let opp = sys.call(Method::GET, &format!("/api/order-workflow/opportunities/{opportunity_id}"), s, None).await;
    assert_eq!((opp["status"].as_str(), opp["stage"].as_str()), (Some("won"), Some("closed_won")));
    // A manager approves it.
    let approved = sys
        .call(
            Method::PUT,
            &format!("/api/order-workflow/orders/{order_id}"),
            a,
            Some(json!({"status_code": "approved"})),
        )
        .await;
    assert_eq!(approved["status_code"], "approved");

    // Another organization's administrator reaches none of it, in any service.
    let org = sys
        .call(
            Method::POST,
            "/api/foundation/organizations",
            a,
            Some(json!({"name": "PT Lain", "organization_type": "internal", "admin_password": PASSWORD})),
        )
        .await;
    let stranger = sys.login(org["admin_user"]["email"].as_str().unwrap(), PASSWORD).await;
    let t = Some(stranger.as_str());
    for path in [
        format!("/api/order-workflow/leads/{lead_id}"),
        format!("/api/order-workflow/opportunities/{opportunity_id}"),
        format!("/api/order-workflow/orders/{order_id}"),
        format!("/api/service-management/customers/{customer_id}"),
        format!("/api/foundation/users/{seller_id}"),
    ] {
        let (status, v) = sys.try_call(Method::GET, &path, t, None, &[]).await;
        assert!(status == 404 || status == 403, "{path}: {status} {v}");
    }
    for path in ["/api/order-workflow/leads", "/api/order-workflow/orders", "/api/order-workflow/opportunities"] {
        let d = sys.call(Method::GET, path, t, None).await;
        assert_eq!(d["total"], 0, "{path}: {d}");
    }

    // One request's id in every process it touched: a new token makes order-workflow and
    // service-management ask foundation who the caller is; creating an order makes order-workflow
    // ask service-management for the customer.
    let fresh = sys.login("sales@e2e.test", PASSWORD).await;
    let rid = format!("e2e-{}", Uuid::now_v7().simple());
    let (status, v) = sys
        .try_call(
            Method::POST,
            "/api/order-workflow/orders",
            Some(&fresh),
            Some(json!({"title": "Traced", "customer_id": customer_id})),
            &[("x-request-id", &rid)],
        )
        .await;
    assert_eq!(status, 200, "{v}");
    for (name, p) in [
        ("gateway", &sys.gateway),
        ("order-workflow", &sys.ow),
        ("service-management", &sys.sm),
        ("foundation", &sys.foundation),
    ] {
        let mut seen = false;
        for _ in 0..50 {
            if log_of(p).contains(&rid) {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(seen, "{name} logged nothing with the request id {rid}");
    }

    // Audit events of every service reach foundation.
    let mut types = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let d = sys.call(Method::GET, "/api/foundation/audit-logs?size=100", a, None).await;
        types = d["records"]
            .as_array()
            .or_else(|| d["items"].as_array())
            .map(|rows| rows.iter().filter_map(|r| r["resource_type"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if ["product", "lead", "order", "user"].iter().all(|t| types.contains(*t)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for t in ["product", "lead", "order", "user"] {
        assert!(types.contains(t), "no {t} event reached foundation: {types:?}");
    }
}
