//! Faults across real processes on loopback: a service killed, foundation restarted under
//! writes, Redis gone, PostgreSQL restarted, and a rolling restart of one service under load.
//! Every wait has a deadline (see [`eventually`] and [`crate::system::REQUEST_DEADLINE`]); no
//! assertion is about how fast anything is. Those that need PostgreSQL or Redis binaries fail
//! when they are missing.

use crate::client::Client;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TempDir, free_port, spawn_redis};
use crate::system::{Options, System, eventually, id, start, start_with};
use http::Method;
use hyper::body::Bytes;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PRODUCTS: &str = "/api/service-management/products";
const LEADS: &str = "/api/order-workflow/leads";
const USERS: &str = "/api/foundation/users";

/// `name`'s status in `GET /health/services`, and the overall status.
async fn health_of(sys: &System, name: &str) -> (String, String) {
    let (_, v) = sys.try_call(Method::GET, "/health/services", None, None, &[]).await;
    let services = v["data"]["services"].as_array().cloned().unwrap_or_default();
    let status = services.iter().find(|s| s["name"] == name).map_or("absent", |s| s["status"].as_str().unwrap_or(""));
    (status.to_owned(), v["data"]["overall_status"].as_str().unwrap_or("").to_owned())
}

async fn create_product(sys: &System, token: &str, n: usize) -> (u16, Value) {
    let body = json!({"name": format!("Fault product {n}"), "code": format!("FAULT-{n:03}"), "price_direct_cny": 100});
    sys.try_call(Method::POST, PRODUCTS, Some(token), Some(body), &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_service_answers_503_and_shows_unhealthy_while_the_others_answer_and_it_comes_back() {
    let mut sys = start_with(Options {
        gateway_env: vec![("CRM_HEALTH_PROBE_INTERVAL_MS", "200".into()), ("CRM_CIRCUIT_OPEN_MS", "1000".into())],
        ..Options::default()
    })
    .await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let a = Some(admin.as_str());
    sys.call(Method::GET, PRODUCTS, a, None).await;
    assert_eq!(health_of(&sys, "service-management").await, ("healthy".into(), "healthy".into()));

    sys.sm.kill();
    for _ in 0..3 {
        sys.call(Method::GET, USERS, a, None).await;
        sys.call(Method::GET, LEADS, a, None).await;
        let r = sys.https.get(PRODUCTS, a).await;
        r.expect_envelope(503);
    }
    // The health fan-out answers within its deadline (2 s) and names the dead service.
    let (status, overall) =
        eventually("service-management unhealthy in /health/services", Duration::from_secs(10), || {
            let sys = &sys;
            async move {
                let (status, overall) = health_of(sys, "service-management").await;
                if status == "healthy" { Err(status) } else { Ok((status, overall)) }
            }
        })
        .await;
    assert_eq!((status.as_str(), overall.as_str()), ("unreachable", "degraded"));
    assert_eq!(health_of(&sys, "foundation").await.0, "healthy");
    assert_eq!(health_of(&sys, "order-workflow").await.0, "healthy");

    // Started again on the same port and data: healthy, and answering through the gateway.
    sys.sm.start_again().await;
    eventually("service-management healthy again", Duration::from_secs(20), || {
        let sys = &sys;
        async move {
            let (status, _) = health_of(sys, "service-management").await;
            if status == "healthy" { Ok(()) } else { Err(status) }
        }
    })
    .await;
    eventually("service-management answers again", Duration::from_secs(20), || {
        let sys = &sys;
        async move {
            match sys.try_call(Method::GET, PRODUCTS, a, None, &[]).await {
                (200, _) => Ok(()),
                (status, v) => Err(format!("{status} {v}")),
            }
        }
    })
    .await;
    let (status, v) = create_product(&sys, &admin, 1).await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_audit_event_is_lost_while_foundation_restarts_under_writes() {
    let mut sys = start().await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut created = Vec::new();
    // Ten products before, ten while foundation is down (the caller's identity is cached by
    // service-management, the events wait in its outbox), ten after it is back.
    for n in 0..30 {
        if n == 10 {
            sys.foundation.kill();
        }
        if n == 20 {
            sys.foundation.start_again().await;
        }
        let (status, v) = create_product(&sys, &admin, n).await;
        assert_eq!(status, 200, "product {n}: {v}");
        created.push(id(&v["data"]));
    }
    let seen = eventually("every product's audit event in foundation", Duration::from_secs(60), || {
        let (sys, created, admin) = (&sys, &created, &admin);
        async move {
            let path = "/api/foundation/audit-logs?resource_type=product&action=CREATE&size=100";
            let (status, v) = sys.try_call(Method::GET, path, Some(admin), None, &[]).await;
            if status != 200 {
                return Err(format!("{status} {v}"));
            }
            let data = &v["data"];
            let rows = data["records"].as_array().or_else(|| data["items"].as_array()).cloned().unwrap_or_default();
            let ids: Vec<String> = rows.iter().filter_map(|r| r["resource_id"].as_str().map(str::to_owned)).collect();
            let missing = created.iter().filter(|id| !ids.contains(id)).count();
            if missing == 0 { Ok(ids) } else { Err(format!("{missing} of {} missing", created.len())) }
        }
    })
    .await;
    // Delivered at least once, recorded once.
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "an event recorded twice: {seen:?}");
    assert_eq!(seen.len(), created.len());
}

/// Keys in the Redis on `port` (`DBSIZE`), over a plain connection.
async fn redis_keys(port: u16) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.unwrap().unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
    reply.trim().trim_start_matches(':').parse().unwrap_or_else(|_| panic!("DBSIZE answered {reply:?}"))
}

/// Reads and writes in every service as `token`, each answering 200.
async fn every_service_answers(sys: &System, token: &str, n: usize) {
    let t = Some(token);
    sys.call(Method::GET, USERS, t, None).await;
    sys.call(Method::GET, "/api/foundation/roles", t, None).await;
    let (status, v) = create_product(sys, token, n).await;
    assert_eq!(status, 200, "{v}");
    let product = id(&v["data"]);
    sys.call(Method::GET, &format!("{PRODUCTS}/{product}"), t, None).await;
    sys.call(Method::GET, PRODUCTS, t, None).await;
    let lead = sys.call(Method::POST, LEADS, t, Some(json!({"name": format!("Lead {n}")}))).await;
    sys.call(Method::GET, &format!("{LEADS}/{}", id(&lead)), t, None).await;
    sys.call(Method::GET, LEADS, t, None).await;
    // analytics-monitoring's own database (alerts), and a composed figure through its peers.
    sys.call(Method::GET, "/api/analytics-monitoring/monitoring/alerts/active", t, None).await;
    sys.call(Method::GET, "/api/analytics-monitoring/analytics/customers/summary", t, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_gone_every_process_falls_back_in_process_and_never_answers_500() {
    let redis = spawn_redis().await;
    let redis_port = redis.port;
    let sys = start_with(Options {
        redis_url: Some(format!("redis://127.0.0.1:{redis_port}")),
        gateway_env: vec![
            ("CRM_RATELIMIT_ENABLED", "true".into()),
            ("CRM_RATELIMIT_GENERAL", "100000/min".into()),
            ("CRM_RATELIMIT_LOGIN", "5/min".into()),
        ],
        ..Options::default()
    })
    .await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    every_service_answers(&sys, &admin, 1).await;
    assert!(redis_keys(redis_port).await > 0, "the processes use this Redis");

    drop(redis);
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", redis_port)).await.is_err(), "Redis is gone");
    // The same token (cached identities), then a new one (identities looked up again, with no
    // cache to keep them in).
    every_service_answers(&sys, &admin, 2).await;
    let fresh = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    every_service_answers(&sys, &fresh, 3).await;
    // The gateway's login limit still holds, counted in process: the fresh login above was
    // this address's first since Redis went; the fifth after it is refused.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let body = json!({"email": "nobody@fault.test", "password": "Wrong12345"});
        let (status, v) = sys.try_call(Method::POST, "/api/foundation/auth/login", None, Some(body), &[]).await;
        assert!(status < 500, "login without Redis: {status} {v}");
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "no limit without Redis: {statuses:?}");
    assert!(statuses.len() >= 2 && statuses[..statuses.len() - 1].iter().all(|s| *s == 401), "{statuses:?}");
    // Every process is still up and healthy.
    for node in [&sys.foundation, &sys.sm, &sys.ow[0], &sys.gateway] {
        let r = Client::plain(node.port).get("/health", None).await;
        assert_eq!(r.status.as_u16(), 200, "{}", node.binary);
    }
}

/// A PostgreSQL cluster of this test's own: a temporary directory, a free port, trust auth, its
/// socket in the directory. Run as the `postgres` user when the test runs as root (PostgreSQL
/// refuses root). Stopped when dropped.
struct Postgres {
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    fn start(databases: &[&str]) -> Self {
        let dir = TempDir::new();
        let port = free_port();
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if as_postgres {
            let chown = Command::new("chown").args(["-R", "postgres"]).arg(&dir.0).status().unwrap();
            assert!(chown.success(), "chown the cluster directory to postgres");
        }
        let pg = Self { dir, port, as_postgres };
        pg.run("initdb", &["-D", &pg.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
        pg.pg_ctl("start");
        for db in databases {
            let out = Command::new("psql")
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
                .arg(format!("CREATE DATABASE {db}"))
                .output()
                .expect("psql (is PostgreSQL installed?)");
            assert!(out.status.success(), "create {db}: {}", String::from_utf8_lossy(&out.stderr));
        }
        pg
    }

    fn data(&self) -> String {
        self.dir.0.join("data").display().to_string()
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// `program` (initdb, pg_ctl), as the `postgres` user when needed; panics unless it succeeds.
    fn run(&self, program: &str, args: &[&str]) {
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        let out = command
            .args(args)
            .current_dir(&self.dir.0)
            .output()
            .unwrap_or_else(|e| panic!("{program} (is PostgreSQL installed?): {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl <action>` with the cluster's options, waiting (bounded) until it is done.
    fn pg_ctl(&self, action: &str) {
        let log: PathBuf = self.dir.0.join("postgres.log");
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.0.display());
        let log = log.display().to_string();
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "-m", "fast", "-o", &options, action]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "pg_ctl"]);
            c
        } else {
            Command::new("pg_ctl")
        };
        let _ = command.args(["-D", &data, "-m", "immediate", "-w", "stop"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_recovers_from_a_postgresql_restart_without_being_restarted() {
    let pg = Arc::new(Postgres::start(&["foundation", "service_management", "order_workflow", "analytics_monitoring"]));
    let urls = pg.clone();
    let sys = start_with(Options {
        database: Some(Box::new(move |name: &str| urls.url(&name.replace('-', "_")))),
        ..Options::default()
    })
    .await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    every_service_answers(&sys, &admin, 1).await;

    // Clients keep reading every service while PostgreSQL restarts.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(String, u16, String)>>> = Arc::default();
    let load = {
        let (client, token, stop, seen) = (sys.https.clone(), admin.clone(), stop.clone(), seen.clone());
        tokio::spawn(async move {
            let auth = format!("Bearer {token}");
            while !stop.load(Ordering::Relaxed) {
                for path in [USERS, PRODUCTS, LEADS] {
                    let headers = [("authorization", auth.as_str())];
                    let call = client.request(Method::GET, path, &headers, Bytes::new());
                    let r = tokio::time::timeout(crate::system::REQUEST_DEADLINE, call).await.expect("an answer");
                    let body = String::from_utf8_lossy(&r.body).chars().take(300).collect();
                    seen.lock().unwrap().push((path.to_owned(), r.status.as_u16(), body));
                }
            }
        })
    };
    eventually("a few reads before the restart", Duration::from_secs(30), || {
        let seen = seen.clone();
        async move { if seen.lock().unwrap().len() >= 6 { Ok(()) } else { Err("too few".to_owned()) } }
    })
    .await;
    let restarting = pg.clone();
    tokio::task::spawn_blocking(move || restarting.pg_ctl("restart")).await.unwrap();

    // Back: every service reads and writes again, none of them restarted.
    eventually("every service answers after PostgreSQL is back", Duration::from_secs(60), || {
        let (sys, admin) = (&sys, &admin);
        async move {
            for path in [USERS, PRODUCTS, LEADS] {
                let (status, v) = sys.try_call(Method::GET, path, Some(admin), None, &[]).await;
                if status != 200 {
                    return Err(format!("{path}: {status} {v}"));
                }
            }
            Ok(())
        }
    })
    .await;
    every_service_answers(&sys, &admin, 2).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let bad: Vec<_> = seen.iter().filter(|(_, status, _)| *status != 200 && *status != 503).collect();
    let errors = |node: &crate::system::Node| -> Vec<String> {
        node.log().lines().filter(|l| l.contains("ERROR") || l.contains("\"status\":500")).map(str::to_owned).collect()
    };
    assert!(
        bad.is_empty(),
        "only 200 or 503 while PostgreSQL restarts: {bad:?}\nfoundation: {:?}\nservice-management: {:?}\norder-workflow: {:?}\nanalytics-monitoring: {:?}",
        errors(&sys.foundation),
        errors(&sys.sm),
        errors(&sys.ow[0]),
        errors(&sys.am)
    );
    for node in [&sys.foundation, &sys.sm, &sys.ow[0], &sys.am] {
        assert!(node.log().matches("listening").count() == 1, "{} was not restarted", node.binary);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_two_order_workflow_replicas_under_load_fails_no_request() {
    let mut sys = start_with(Options {
        order_workflow_replicas: 2,
        // A replica that refused a connection is tried again soon after.
        gateway_env: vec![("CRM_UPSTREAM_ENDPOINT_SKIP_MS", "300".into())],
        ..Options::default()
    })
    .await;
    let admin = sys.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    sys.call(Method::GET, LEADS, Some(&admin), None).await;

    // Two clients: reads, and every fifth request a write.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(Method, u16, String)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..2 {
        let (client, token, stop, seen) = (sys.https.clone(), admin.clone(), stop.clone(), seen.clone());
        clients.push(tokio::spawn(async move {
            let auth = format!("Bearer {token}");
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (method, body) = if n.is_multiple_of(5) {
                    (Method::POST, Bytes::from(json!({"name": format!("Rolling {c}-{n}")}).to_string()))
                } else {
                    (Method::GET, Bytes::new())
                };
                let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
                let call = client.request(method.clone(), LEADS, &headers, body);
                let r = tokio::time::timeout(crate::system::REQUEST_DEADLINE, call).await.expect("an answer");
                let text = String::from_utf8_lossy(&r.body).chars().take(300).collect();
                seen.lock().unwrap().push((method, r.status.as_u16(), text));
            }
        }));
    }
    let served = |at_least: usize| {
        let seen = seen.clone();
        eventually("requests served", Duration::from_secs(60), move || {
            let seen = seen.clone();
            async move {
                let n = seen.lock().unwrap().len();
                if n >= at_least { Ok(n) } else { Err(format!("{n} of {at_least}")) }
            }
        })
    };
    let mut total = served(20).await;
    for replica in 0..2 {
        // Drained on SIGTERM, started again on its port; the other replica carries the load.
        let before = sys.ow[replica].log().len();
        let status = sys.ow[replica].terminate(Duration::from_secs(30)).await;
        assert!(status.success(), "replica {replica} stopped cleanly on SIGTERM: {status}");
        total = served(total + 20).await;
        sys.ow[replica].start_again().await;
        let node = &sys.ow[replica];
        eventually("the new replica takes requests too", Duration::from_secs(30), || async move {
            let after = node.log().get(before..).unwrap_or_default().to_owned();
            if after.contains("/api/order-workflow/leads") { Ok(()) } else { Err(format!("replica {replica}")) }
        })
        .await;
        total = served(total + 20).await;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    let failed: Vec<_> = seen.iter().filter(|(_, status, _)| *status != 200).collect();
    assert!(failed.is_empty(), "{} of {} requests failed: {failed:?}", failed.len(), seen.len());
    assert!(seen.iter().any(|(m, _, _)| *m == Method::POST), "writes were part of the load");
}
