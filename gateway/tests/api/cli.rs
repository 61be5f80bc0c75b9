use crate::helpers::spawn_gateway_process;
use std::process::Command;
use std::time::Duration;

#[test]
fn help_lists_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_crm-gateway")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for var in [
        "CRM_BIND_ADDR",
        "CRM_TLS_BIND_ADDR",
        "CRM_HTTP_REDIRECT",
        "CRM_TLS_CERT",
        "CRM_SERVICE_URLS",
        "CRM_ROUTE_OVERRIDES",
        "CRM_JWKS_URL",
        "CRM_GATEWAY_VERIFY_JWT",
        "CRM_CORS_ORIGINS",
        "CRM_BODY_LIMIT_BYTES",
        "REDIS_URL",
        "CRM_HEALTH_DEADLINE_MS",
        "CRM_UPSTREAM_MAX_PER_CLIENT",
        "CRM_WEBSOCKET_PATHS",
        "CRM_CLIENT_BODY_TIMEOUT_MS",
        "CRM_CLIENT_BODY_MIN_RATE",
        "CRM_CLIENT_BODY_GRACE_MS",
        "CRM_CLIENT_SEND_TIMEOUT_MS",
    ] {
        assert!(text.contains(var), "--help does not mention {var}");
    }
}

#[test]
fn help_into_a_closed_pipe_is_no_failure() {
    // `crm-gateway --help | head -1`: the reader is gone before the text is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_crm-gateway")).arg("--help").stdout(writer).output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn stops_cleanly_on_sigterm_and_refuses_bad_configuration() {
    let mut gateway = spawn_gateway_process(&[("CRM_SERVICE_URLS", "foundation=http://127.0.0.1:1".into())]).await;
    let pid = gateway.pid().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = gateway.child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited.expect("exited within 5 s").success());

    let out = Command::new(env!("CARGO_BIN_EXE_crm-gateway"))
        .env("CRM_SERVICE_URLS", "foundation=https://127.0.0.1:1")
        .env("CRM_TLS_ENABLED", "false")
        .env("CRM_BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CRM_SERVICE_URLS"));

    // The slow-client settings are read, and a bad value is named.
    let dir = crate::helpers::TempDir::new();
    for var in [
        "CRM_UPSTREAM_MAX_PER_CLIENT",
        "CRM_CLIENT_BODY_TIMEOUT_MS",
        "CRM_CLIENT_BODY_MIN_RATE",
        "CRM_CLIENT_BODY_GRACE_MS",
        "CRM_CLIENT_SEND_TIMEOUT_MS",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_crm-gateway"))
            .env(var, "soon")
            .env("CRM_DATA_DIR", &dir.0)
            .env("CRM_TLS_ENABLED", "false")
            .env("CRM_BIND_ADDR", "127.0.0.1:0")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(var), "{var}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
