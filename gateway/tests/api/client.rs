//! A test client on hyper's connection API: one fresh connection per request, plain or TLS, with
//! streaming bodies when a test needs them. Also raw TCP for request targets no client library
//! would send.

use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Incoming};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::Value;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[derive(Clone)]
pub struct Client {
    pub port: u16,
    tls: Option<TlsConnector>,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and the envelope shape (`code` equal to the status, `request_id` set).
    pub fn expect_envelope(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", String::from_utf8_lossy(&self.body));
        let v = self.json();
        assert_eq!(v["code"], status, "envelope: {v}");
        assert!(v["message"].is_string(), "envelope: {v}");
        assert!(v["timestamp"].is_string(), "envelope: {v}");
        assert_eq!(v["request_id"].as_str(), self.header("x-request-id"), "envelope: {v}");
        v
    }

    /// The echo an upstream returned (asserting 200).
    pub fn echo(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", String::from_utf8_lossy(&self.body));
        self.json()
    }
}

impl Client {
    pub fn plain(port: u16) -> Self {
        Self { port, tls: None }
    }

    /// HTTPS, trusting only the certificate in `ca_pem`.
    pub fn tls(port: u16, ca_pem: &[u8]) -> Self {
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
        Self { port, tls: Some(TlsConnector::from(Arc::new(config))) }
    }

    /// Sends one request on a new connection and returns the streaming response.
    pub async fn send<B>(&self, mut request: Request<B>) -> Response<Incoming>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !request.headers().contains_key("host") {
            request.headers_mut().insert("host", format!("127.0.0.1:{}", self.port).parse().unwrap());
        }
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        match &self.tls {
            None => exchange(TokioIo::new(tcp), request).await,
            Some(connector) => {
                let name = ServerName::try_from("127.0.0.1").unwrap();
                let tls = connector.connect(name, tcp).await.expect("TLS handshake");
                exchange(TokioIo::new(tls), request).await
            }
        }
    }

    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Bytes) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = self.send(builder.body(Full::new(body)).unwrap()).await;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        TestResponse { status: parts.status, headers: parts.headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request(Method::GET, path, &headers, Bytes::new()).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        self.request(Method::GET, path, headers, Bytes::new()).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        self.request(Method::POST, path, &headers, Bytes::from(body.to_string())).await
    }
}

async fn exchange<I, B>(io: I, request: Request<B>) -> Response<Incoming>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    sender.send_request(request).await.expect("response from the gateway")
}

/// Writes `raw` on a plain connection and returns everything the server sent until it closed or
/// `Connection: close` made it stop (the first response is enough for these tests).
pub async fn raw(port: u16, raw: &str) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(raw.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && response_complete(&out) {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn response_complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
        .and_then(Result::ok);
    length.is_some_and(|n| body.len() >= n)
}

/// The status code of a raw HTTP response.
pub fn raw_status(response: &str) -> u16 {
    response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
