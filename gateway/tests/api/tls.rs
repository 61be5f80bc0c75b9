use crate::client::{Client, raw, raw_status};
use crate::helpers::TestGateway;
use crate::upstream::TestUpstream;
use crm_gateway::Application;
use crm_gateway::tls::DEV_CERT_FILE;

#[tokio::test]
async fn https_with_the_generated_certificate_and_redirect_from_http() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |c| {
        c.tls_enabled = true;
        c.http_redirect = true;
    })
    .await;
    let tls_port = gw.tls_port.expect("HTTPS listener");
    let cert = std::fs::read(gw.dir.0.join(DEV_CERT_FILE)).expect("certificate saved in the data dir");

    // The certificate verifies for 127.0.0.1 against itself as the only root.
    let https = Client::tls(tls_port, &cert);
    let r = https.get("/health", None).await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.json()["service"], "gateway");
    assert!(r.header("strict-transport-security").unwrap().contains("max-age="));
    let r = https.get("/api/order-workflow/orders?x=1", Some(&gw.token())).await;
    assert_eq!(r.echo()["headers"]["x-forwarded-proto"], "https");

    // Plain HTTP answers 308 to the same target on HTTPS, before anything else happens.
    let r = gw.client.get("/api/order-workflow/orders?x=1", None).await;
    assert_eq!(r.status.as_u16(), 308);
    assert_eq!(
        r.header("location"),
        Some(format!("https://127.0.0.1:{tls_port}/api/order-workflow/orders?x=1").as_str())
    );
    assert!(r.header("strict-transport-security").is_none(), "HSTS only over HTTPS");
    // An invalid Host is refused before anything is built from it (RFC 9112 §3.2).
    let hostile = raw(gw.port, "GET /x HTTP/1.1\r\nHost: evil\"\r\nConnection: close\r\n\r\n").await;
    assert_eq!(raw_status(&hostile), 400, "{hostile}");
    assert!(!hostile.contains("location:"), "{hostile}");
    // Liveness probes may stay on plain HTTP.
    assert_eq!(gw.client.get("/health", None).await.status.as_u16(), 200);
    assert_eq!(up.hits(), 1);

    // A restart on the same data directory keeps the certificate.
    let mut config = crm_gateway::config::Config::local(vec![], String::new(), gw.dir.0.clone());
    config.tls_enabled = true;
    let again = Application::build(config).await.unwrap();
    let port = again.tls_port().unwrap();
    tokio::spawn(again.run_until(std::future::pending()));
    assert_eq!(std::fs::read(gw.dir.0.join(DEV_CERT_FILE)).unwrap(), cert);
    assert_eq!(Client::tls(port, &cert).get("/health", None).await.status.as_u16(), 200);
}
