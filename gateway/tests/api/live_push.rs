//! order-workflow's live notifications through the real gateway over HTTPS, every service a real
//! process: a notification reaches every socket of its recipient; the token travels in
//! `Sec-WebSocket-Protocol` (what a browser can send) and appears in no log; a socket without a
//! token or with an expired one is refused; two replicas sharing Redis deliver each other's
//! notifications; a client that stops reading is cut off. And the whole story a new user tries
//! with default settings: an operator told the moment an order is theirs, the task in their
//! list moving the order on, a shared order opening once — with no token in any log.

use crate::client::Client;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TempDir, claims, foundation_signer, free_port, shared_redis_url};
use crate::system::{INGEST_TOKEN, Node, PASSWORD};
use crm_gateway::tls::DEV_CERT_FILE;
use http::Method;
use hyper::body::Bytes;
use rustls::pki_types::ServerName;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use uuid::Uuid;

const WS_PATH: &str = "/api/order-workflow/ws/notifications";
/// Generous: the assertion is that a notification arrives, not how fast.
const ARRIVES: Duration = Duration::from_secs(10);

struct Live {
    foundation: Node,
    _sm: Node,
    replicas: Vec<Node>,
    gateway: Node,
    tls_port: u16,
    cert: Vec<u8>,
    https: Client,
    _db_dir: TempDir,
}

/// foundation, service-management, `replicas` order-workflows on one database (sharing Redis
/// under one prefix when `redis`), and the gateway over HTTPS in front of the first replica.
async fn start(replicas: usize, redis: bool, extra: &[(&str, &str)]) -> Live {
    let foundation = Node::start(
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
    let peer = |db: String| -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", db),
            ("CRM_FOUNDATION_URL", f.clone()),
            ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
            ("CRM_AUDIT_INGEST_URL", format!("{f}/api/foundation/audit-logs/ingest")),
            ("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN.into()),
        ]
    };
    let sm = Node::start("crm-service-management", &peer("sqlite://{dir}/service-management.db".into())).await;
    let db_dir = TempDir::new();
    let mut env = peer(format!("sqlite://{}/order-workflow.db?mode=rwc", db_dir.0.display()));
    env.push(("CRM_SERVICE_MANAGEMENT_URL", format!("http://127.0.0.1:{}", sm.port)));
    env.push(("CRM_FILE_URL_KEY", "live-push-test-file-url-key-0123456789".into()));
    if redis {
        env.push(("REDIS_URL", shared_redis_url()));
        env.push(("CRM_CACHE_PREFIX", format!("live-push-{}:", Uuid::now_v7().simple())));
    }
    for (k, v) in extra {
        env.push((k, (*v).to_owned()));
    }
    let mut ows = Vec::new();
    for _ in 0..replicas {
        ows.push(Node::start("crm-order-workflow", &env).await);
    }
    let tls_port = free_port();
    let gateway = Node::start(
        "crm-gateway",
        &[
            ("CRM_TLS_ENABLED", "true".into()),
            ("CRM_TLS_BIND_ADDR", format!("127.0.0.1:{tls_port}")),
            ("CRM_HTTP_REDIRECT", "false".into()),
            ("CRM_RATELIMIT_ENABLED", "false".into()),
            (
                "CRM_SERVICE_URLS",
                format!(
                    "foundation={f},service-management=http://127.0.0.1:{},order-workflow=http://127.0.0.1:{}",
                    sm.port, ows[0].port
                ),
            ),
            ("CRM_JWKS_URL", format!("{f}/api/foundation/auth/jwks.json")),
        ],
    )
    .await;
    let cert = std::fs::read(gateway.dir.0.join(DEV_CERT_FILE)).expect("the development certificate");
    Live {
        foundation,
        _sm: sm,
        replicas: ows,
        gateway,
        tls_port,
        https: Client::tls(tls_port, &cert),
        cert,
        _db_dir: db_dir,
    }
}

impl Live {
    async fn call(&self, client: &Client, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        let bytes = match &body {
            Some(b) => {
                headers.push(("content-type", "application/json"));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let r = client.request(method.clone(), path, &headers, bytes).await;
        let v: Value = r.json();
        assert!(r.status.is_success(), "{method} {path}: {} {v}", r.status);
        v["data"].clone()
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let body = Bytes::from(json!({"email": email, "password": password}).to_string());
        let r = self
            .https
            .request(Method::POST, "/api/foundation/auth/login", &[("content-type", "application/json")], body)
            .await;
        r.json()["data"]["token"].as_str().expect("a token").to_owned()
    }

    /// A user of the BANTU organization with `role`, and their token.
    async fn user(&self, admin: &str, email: &str, role: &str) -> (String, String) {
        let roles = self.call(&self.https, Method::GET, "/api/foundation/roles", admin, None).await;
        let role_id = roles.as_array().unwrap().iter().find(|r| r["code"] == role).unwrap()["id"].clone();
        let body = json!({"organization_id": "00000000-0000-0000-0000-000000000001", "email": email,
            "password": PASSWORD, "role_ids": [role_id]});
        let user = self.call(&self.https, Method::POST, "/api/foundation/users", admin, Some(body)).await;
        (user["id"].as_str().unwrap().to_owned(), self.login(email, PASSWORD).await)
    }

    /// A lead the administrator creates and assigns to `owner` through `client`: the owner is
    /// notified. Returns the lead's name.
    async fn assign_lead(&self, client: &Client, admin: &str, owner: &str, name: &str) {
        let lead =
            self.call(client, Method::POST, "/api/order-workflow/leads", admin, Some(json!({"name": name}))).await;
        let path = format!("/api/order-workflow/leads/{}/assign", lead["id"].as_str().unwrap());
        self.call(client, Method::POST, &path, admin, Some(json!({"owner_user_id": owner}))).await;
    }

    async fn socket(&self, query: &str, protocols: Option<&str>) -> Result<Ws, String> {
        Ws::connect(self.tls_port, &self.cert, &format!("{WS_PATH}{query}"), protocols).await
    }
}

/// A WebSocket client over TLS, written out so a test can also stop reading.
struct Ws {
    tls: TlsStream<TcpStream>,
    buf: Vec<u8>,
}

enum Frame {
    Text(String),
    Close(u16),
    /// The connection ended without a close frame.
    Gone,
}

impl Ws {
    async fn connect(port: u16, ca_pem: &[u8], path: &str, protocols: Option<&str>) -> Result<Self, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("TLS handshake");
        let protocol = protocols.map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n")).unwrap_or_default();
        let handshake = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{protocol}\r\n"
        );
        tls.write_all(handshake.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = tls.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                return Err(String::from_utf8_lossy(&buf).into_owned());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 101") {
            return Err(head + &String::from_utf8_lossy(&buf[end..]));
        }
        assert!(head.contains("sec-websocket-protocol: bearer"), "the subprotocol is selected: {head}");
        buf.drain(..end);
        Ok(Self { tls, buf })
    }

    async fn fill(&mut self, want: usize) -> bool {
        while self.buf.len() < want {
            let mut chunk = [0u8; 4096];
            match self.tls.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
        true
    }

    /// Sends a masked client frame.
    async fn send(&mut self, opcode: u8, payload: &[u8]) {
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        let mut frame = vec![0x80 | opcode, 0x80 | u8::try_from(payload.len()).unwrap()];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        let _ = self.tls.write_all(&frame).await;
    }

    /// The next text or close frame (answering pings on the way).
    async fn next(&mut self) -> Frame {
        loop {
            if !self.fill(2).await {
                return Frame::Gone;
            }
            let opcode = self.buf[0] & 0x0f;
            let (len, header) = match self.buf[1] & 0x7f {
                126 => {
                    if !self.fill(4).await {
                        return Frame::Gone;
                    }
                    (usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])), 4)
                }
                127 => {
                    if !self.fill(10).await {
                        return Frame::Gone;
                    }
                    (usize::try_from(u64::from_be_bytes(self.buf[2..10].try_into().unwrap())).unwrap(), 10)
                }
                n => (usize::from(n), 2),
            };
            if !self.fill(header + len).await {
                return Frame::Gone;
            }
            let payload: Vec<u8> = self.buf.drain(..header + len).skip(header).collect();
            match opcode {
                1 => return Frame::Text(String::from_utf8(payload).unwrap()),
                8 => return Frame::Close(payload.get(..2).map_or(1005, |c| u16::from_be_bytes([c[0], c[1]]))),
                9 => self.send(0xA, &payload).await,
                _ => {}
            }
        }
    }

    /// The next notification, within a generous time.
    async fn notification(&mut self) -> Value {
        match tokio::time::timeout(ARRIVES, self.next()).await {
            Ok(Frame::Text(t)) => serde_json::from_str(&t).unwrap(),
            Ok(Frame::Close(code)) => panic!("closed ({code}) instead of a notification"),
            Ok(Frame::Gone) => panic!("the connection ended instead of a notification"),
            Err(_) => panic!("no notification arrived"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_reaches_every_socket_of_its_recipient_through_the_gateway_over_tls() {
    let live = start(1, false, &[]).await;
    let admin = live.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (ops_id, ops) = live.user(&admin, "ops@live.test", "OPERATION").await;

    // Two sockets of the operator (as a browser opens them) and one in Indonesian.
    let bearer = format!("bearer, {ops}");
    let mut first = live.socket("", Some(&bearer)).await.expect("the first socket opens");
    let mut second = live.socket("", Some(&bearer)).await.expect("the second socket opens");
    let mut indonesian = live.socket("?lang=id", Some(&bearer)).await.expect("the third socket opens");

    live.assign_lead(&live.https, &admin, &ops_id, "Budi").await;
    for socket in [&mut first, &mut second] {
        let n = socket.notification().await;
        assert_eq!(n["type"], "notification", "{n}");
        let d = &n["data"];
        assert_eq!(d["category"], "lead_assigned", "{n}");
        assert!(d["title"].as_str().unwrap().contains("Budi"), "{n}");
        assert_eq!(d["read"], false);
        assert!(d["id"].as_str().and_then(|i| Uuid::parse_str(i).ok()).is_some(), "{n}");
        assert!(d["timestamp"].as_str().unwrap().ends_with('Z'), "{n}");
        assert!(d.get("message").is_some(), "{n}");
    }
    let n = indonesian.notification().await;
    assert!(n["data"]["title"].as_str().unwrap().starts_with("Prospek Budi"), "{n}");
    // The same notification is in the operator's list.
    let list = live.call(&live.https, Method::GET, "/api/order-workflow/notifications", &ops, None).await;
    assert_eq!(list["items"][0]["category"], "lead_assigned");

    // Refused: no token, a forged one, an expired one (signed by foundation's own key).
    for protocols in [None, Some("bearer".to_owned()), Some("bearer, not-a-token".to_owned())] {
        let refused = live.socket("", protocols.as_deref()).await.err().expect("refused");
        assert!(refused.starts_with("http/1.1 401"), "{refused}");
    }
    let expired = foundation_signer(&live.foundation.dir.0).sign(&claims(-60)).unwrap();
    let refused = live.socket("", Some(&format!("bearer, {expired}"))).await.err().expect("refused");
    assert!(refused.starts_with("http/1.1 401"), "{refused}");
    assert!(refused.contains("expired"), "{refused}");
    // A plain GET is not a socket.
    let r = live.https.get(WS_PATH, Some(&ops)).await;
    assert_eq!(r.status.as_u16(), 400);

    // The token is in neither access log.
    let ow_log = live.replicas[0].log();
    assert!(ow_log.contains("/ws/notifications"), "the service logged the socket requests");
    for log in [live.gateway.log(), ow_log] {
        assert!(!log.contains(&ops), "a token in a log");
        assert!(!log.contains(&expired), "a token in a log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_deliver_each_others_notifications() {
    let live = start(2, true, &[]).await;
    let admin = live.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (ops_id, ops) = live.user(&admin, "ops@replicas.test", "OPERATION").await;
    // The socket is held by the first replica (the gateway's); the lead is assigned on the second.
    let mut socket = live.socket("", Some(&format!("bearer, {ops}"))).await.expect("the socket opens");
    let second = Client::plain(live.replicas[1].port);
    live.assign_lead(&second, &admin, &ops_id, "Sari").await;
    let n = socket.notification().await;
    assert_eq!(n["data"]["category"], "lead_assigned", "{n}");
    assert!(n["data"]["title"].as_str().unwrap().contains("Sari"), "{n}");
    // And the other way round is as good: made on the first, held by the first.
    live.assign_lead(&live.https, &admin, &ops_id, "Wati").await;
    let n = socket.notification().await;
    assert!(n["data"]["title"].as_str().unwrap().contains("Wati"), "{n}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_a_reading_one_is_kept() {
    let limits = [("CRM_WS_PING_SECS", "1"), ("CRM_WS_IDLE_SECS", "3"), ("CRM_WS_QUEUE", "4")];
    let live = start(1, false, &limits).await;
    let admin = live.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (ops_id, ops) = live.user(&admin, "ops@slow.test", "OPERATION").await;
    let bearer = format!("bearer, {ops}");
    let mut stalled = live.socket("", Some(&bearer)).await.expect("the socket opens");
    let mut reader = live.socket("", Some(&bearer)).await.expect("the socket opens");

    // The reader keeps reading (answering pings); the stalled one reads nothing while
    // notifications keep coming, for longer than the idle limit.
    let reading = tokio::spawn(async move {
        let mut got = 0;
        while got < 6 {
            match reader.next().await {
                Frame::Text(_) => got += 1,
                _ => panic!("the reading socket was closed"),
            }
        }
        reader
    });
    for i in 0..6 {
        live.assign_lead(&live.https, &admin, &ops_id, &format!("Lead {i}")).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let mut reader = tokio::time::timeout(Duration::from_secs(30), reading).await.expect("the reader got all").unwrap();

    // The stalled socket, read at last: whatever was buffered, then the server's close.
    let mut texts = 0;
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(30), stalled.next()).await.expect("the socket ends") {
            Frame::Text(_) => texts += 1,
            other => break other,
        }
    };
    assert!(matches!(end, Frame::Close(1001 | 1008) | Frame::Gone), "cut off");
    assert!(texts <= 6, "{texts}");
    // The reader is still served.
    live.assign_lead(&live.https, &admin, &ops_id, "After").await;
    let n = reader.notification().await;
    assert!(n["data"]["title"].as_str().unwrap().contains("After"), "{n}");
}

/// Reads notifications from `socket` until one whose title contains `wanted`; panics after ten
/// others or when none comes.
async fn until_titled(socket: &mut Ws, wanted: &str) -> Value {
    for _ in 0..10 {
        let n = socket.notification().await;
        if n["data"]["title"].as_str().is_some_and(|t| t.contains(wanted)) {
            return n;
        }
    }
    panic!("no notification titled {wanted:?} among the next ten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_is_told_the_moment_an_order_is_theirs_and_a_shared_order_opens_once() {
    // Default settings: nothing about workflows is switched on by hand.
    let live = start(1, false, &[]).await;
    let admin = live.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (ops_id, ops) = live.user(&admin, "ops@done.test", "OPERATION").await;
    let (_, seller) = live.user(&admin, "sales@done.test", "SALES").await;
    let https = &live.https;
    let mut socket = live.socket("", Some(&format!("bearer, {ops}"))).await.expect("the operator's socket opens");

    // A seller's order, approved by a manager with the detail page's button.
    let sources = live.call(https, Method::GET, "/api/service-management/customer-sources", &seller, None).await;
    let body = json!({"name": "PT Selesai", "source_id": sources[0]["id"]});
    let customer = live.call(https, Method::POST, "/api/service-management/customers", &seller, Some(body)).await;
    let body = json!({"title": "KITAS", "customer_id": customer["id"],
        "order_items": [{"product_name": "KITAS", "unit_price": 100}]});
    let order = live.call(https, Method::POST, "/api/order-workflow/orders", &seller, Some(body)).await;
    let order_path = format!("/api/order-workflow/orders/{}", order["id"].as_str().unwrap());
    let approved = live.call(https, Method::PUT, &order_path, &admin, Some(json!({"status_code": "approved"}))).await;
    assert_eq!(approved["status_code"], "approved");
    // Operations are told there is an order to allocate.
    until_titled(&mut socket, "分配订单").await;

    // The manager assigns it to the operator, who is told at once.
    let assigned_at = std::time::Instant::now();
    let assign = format!("{order_path}/assign");
    live.call(https, Method::POST, &assign, &admin, Some(json!({"assigned_to_user_id": ops_id}))).await;
    let n = until_titled(&mut socket, "开始办理").await;
    let waited = assigned_at.elapsed();
    assert!(waited < Duration::from_secs(3), "the task's notification took {waited:?}");
    assert_eq!(n["data"]["category"], "workflow_task", "{n}");

    // The task is in the operator's list; completing it moves the order to processing.
    let tasks = live.call(https, Method::GET, "/api/order-workflow/tasks?assignee=me&status=open", &ops, None).await;
    let task = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["business_id"] == order["id"] && t["task_code"] == "process")
        .cloned()
        .unwrap_or_else(|| panic!("the task is in the operator's list: {tasks}"));
    let complete = format!("/api/order-workflow/tasks/{}/complete", task["id"].as_str().unwrap());
    live.call(https, Method::POST, &complete, &ops, Some(json!({}))).await;
    let now = live.call(https, Method::GET, &order_path, &admin, None).await;
    assert_eq!(now["status_code"], "processing");

    // A link to the order opens once without signing in, then answers 410.
    let body = json!({"resource_type": "order", "resource_id": order["id"]});
    let link = live.call(https, Method::POST, "/api/order-workflow/temporary-links", &admin, Some(body)).await;
    let token = link["link_token"].as_str().unwrap().to_owned();
    let open = format!("/api/order-workflow/temporary-links/{token}");
    let r = https.get(&open, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json());
    assert_eq!(r.json()["data"]["resource_data"]["id"], order["id"]);
    let r = https.get(&open, None).await;
    assert_eq!(r.status.as_u16(), 410, "{}", r.json());

    // The link's token is in no log line, of the gateway or of the service; the requests are.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (name, log) in [("gateway", live.gateway.log()), ("order-workflow", live.replicas[0].log())] {
        assert!(log.contains("/temporary-links/<redacted>"), "{name} logged the link's opening, redacted");
        assert!(!log.contains(&token), "{name} logged a temporary link's token");
    }
}
