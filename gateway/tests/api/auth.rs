use crate::helpers::{TestGateway, claims, foundation_signer, new_signer, spawn_foundation};
use crate::upstream::{TestUpstream, hanging};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use crm_common::auth::{Signer, key_id};
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn encode(header: &serde_json::Value, payload: &serde_json::Value) -> String {
    format!("{}.{}", B64.encode(header.to_string()), B64.encode(payload.to_string()))
}

/// A token with an arbitrary header, signed with `key` (Ed25519) over the exact bytes.
fn sign_raw(key: &ed25519_dalek::SigningKey, header: &serde_json::Value, payload: &serde_json::Value) -> String {
    let signing_input = encode(header, payload);
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(sig.to_bytes()))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new().chain_update(&ipad).chain_update(message).finalize();
    Sha256::new().chain_update(&opad).chain_update(inner).finalize().to_vec()
}

#[tokio::test]
async fn missing_or_malformed_tokens_are_refused_before_any_upstream() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |_| {}).await;
    let path = "/api/order-workflow/orders";
    let r = gw.client.get(path, None).await;
    let body = r.expect_envelope(401);
    assert!(body["data"].is_null());
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token abc", "Bearer a.b", "Bearer a.b.c.d"] {
        gw.client.get_with(path, &[("authorization", header)]).await.expect_envelope(401);
    }
    // Even unknown services answer 401 first: the route table is not revealed anonymously.
    gw.client.get("/api/nope/x", None).await.expect_envelope(401);
    assert_eq!(up.hits(), 0, "no refused request reached the upstream");
    // And a good token does get through.
    assert_eq!(gw.client.get(path, Some(&gw.token())).await.status.as_u16(), 200);
    assert_eq!(up.hits(), 1);
}

/// Order files' signed links are the one order-workflow path a browser opens without a token
/// (order-workflow checks their signature); every other order-workflow path still needs one.
#[tokio::test]
async fn only_signed_file_links_of_order_workflow_pass_without_a_token() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |_| {}).await;
    let signed = "/api/order-workflow/files/signed/0190e4c2-7a51-7cc3-9b1e-2f7a0c3d4e5f?expires=1&sig=abc";
    assert_eq!(gw.client.get(signed, None).await.status.as_u16(), 200, "passed through without a token");
    assert_eq!(up.hits(), 1);
    for path in [
        "/api/order-workflow/files/0190e4c2-7a51-7cc3-9b1e-2f7a0c3d4e5f",
        "/api/order-workflow/files/signed",
        "/api/order-workflow/files/signedx/1",
        "/api/order-workflow/orders/1/files/2/download",
        "/api/order-workflow/order-files/1/url",
        "/api/order-workflow/files/signed/../../orders",
    ] {
        let r = gw.client.get(path, None).await;
        assert!(matches!(r.status.as_u16(), 400 | 401), "{path}: {}", r.status);
    }
    assert_eq!(up.hits(), 1, "nothing else reached the upstream");
}

/// Every classic forgery, verified against the real foundation's JWKS.
#[tokio::test]
async fn forged_tokens_are_refused() {
    let foundation = spawn_foundation().await;
    let jwks = format!("http://127.0.0.1:{}/api/foundation/auth/jwks.json", foundation.port);
    let up = TestUpstream::start("order-workflow").await;
    let trap = hanging().await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |c| c.common.jwks_url = jwks).await;
    let real = foundation_signer(&foundation.dir.0);
    let real_key = {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string(foundation.dir.0.join("jwt-ed25519.pem")).unwrap();
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap()
    };
    let kid = real.kid().to_owned();
    let path = "/api/order-workflow/orders";

    // The genuine article passes, so the refusals below are about the forgery only.
    assert_eq!(gw.client.get(path, Some(&real.sign(&claims(300)).unwrap())).await.status.as_u16(), 200);
    let hits_before = up.hits();

    let payload = serde_json::to_value(claims(300)).unwrap();
    let attacker = new_signer();
    let attacker_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let public_x = B64.encode(real.verifying_key().as_bytes());
    let hs_input = encode(&serde_json::json!({"alg":"HS256","typ":"JWT","kid": kid}), &payload);
    let hs_sig = B64.encode(hmac_sha256(public_x.as_bytes(), hs_input.as_bytes()));
    let hs_raw_sig = B64.encode(hmac_sha256(real.verifying_key().as_bytes(), hs_input.as_bytes()));
    let genuine = real.sign(&claims(300)).unwrap();
    let mut tampered_claims = claims(300);
    tampered_claims.roles = vec!["ADMIN".into(), "ROOT".into()];
    let (h, _, s) = {
        let mut it = genuine.split('.');
        (it.next().unwrap().to_owned(), it.next().unwrap().to_owned(), it.next().unwrap().to_owned())
    };
    let with = |f: &dyn Fn(&mut crm_common::auth::Claims)| {
        let mut c = claims(300);
        f(&mut c);
        real.sign(&c).unwrap()
    };
    let forgeries: Vec<(&str, String)> = vec![
        ("alg none", format!("{}.", encode(&serde_json::json!({"alg":"none","typ":"JWT"}), &payload))),
        ("alg none with sig", format!("{}.AAAA", encode(&serde_json::json!({"alg":"none","kid": kid}), &payload))),
        ("HS256 keyed with the public key (b64)", format!("{hs_input}.{hs_sig}")),
        ("HS256 keyed with the public key (raw)", format!("{hs_input}.{hs_raw_sig}")),
        ("unknown kid", attacker.sign(&claims(300)).unwrap()),
        (
            "real kid, wrong key",
            sign_raw(&attacker_key, &serde_json::json!({"alg":"EdDSA","typ":"JWT","kid": kid}), &payload),
        ),
        ("no kid", sign_raw(&real_key, &serde_json::json!({"alg":"EdDSA","typ":"JWT"}), &payload)),
        ("expired", with(&|c| c.exp = c.iat - 3600)),
        ("not yet valid", with(&|c| c.nbf = c.iat + 3600)),
        ("wrong issuer", with(&|c| c.iss = "someone-else".into())),
        ("wrong audience", with(&|c| c.aud = "other-app".into())),
        ("tampered payload", format!("{h}.{}.{s}", B64.encode(serde_json::to_vec(&tampered_claims).unwrap()))),
        ("truncated", genuine[..genuine.len() - 10].to_owned()),
        ("signature stripped", format!("{h}.{}.", genuine.split('.').nth(1).unwrap())),
        (
            "jku to an attacker's keys",
            sign_raw(
                &attacker_key,
                &serde_json::json!({
                    "alg": "EdDSA", "typ": "JWT",
                    "kid": key_id(&attacker_key.verifying_key()),
                    "jku": format!("http://127.0.0.1:{}/jwks.json", trap.port),
                    "x5u": format!("http://127.0.0.1:{}/cert.pem", trap.port),
                }),
                &payload,
            ),
        ),
        (
            "embedded jwk",
            sign_raw(
                &attacker_key,
                &serde_json::json!({
                    "alg": "EdDSA", "kid": key_id(&attacker_key.verifying_key()),
                    "jwk": {"kty": "OKP", "crv": "Ed25519", "x": B64.encode(attacker_key.verifying_key().as_bytes())},
                }),
                &payload,
            ),
        ),
    ];
    for (name, token) in &forgeries {
        let r = gw.client.get(path, Some(token)).await;
        assert_eq!(r.status.as_u16(), 401, "{name} must be refused");
        r.expect_envelope(401);
    }
    assert_eq!(up.hits(), hits_before, "no forged request reached the upstream");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(trap.connections.load(Ordering::SeqCst), 0, "the jku/x5u URLs were never contacted");
}

/// Keys rotate at the issuer; the gateway picks the new key up on its own and drops the old one.
#[tokio::test]
async fn jwks_rotation_without_restart() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |_| {}).await;
    let path = "/api/order-workflow/orders";
    let old_token = gw.token();
    assert_eq!(gw.client.get(path, Some(&old_token)).await.status.as_u16(), 200);

    let next: Signer = new_signer();
    gw.jwks.set(&[&next]);
    // Unknown kids trigger at most one JWKS fetch per min-refresh interval (1 s in tests).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let new_token = next.sign(&claims(300)).unwrap();
    assert_eq!(gw.client.get(path, Some(&new_token)).await.status.as_u16(), 200, "new key accepted");
    assert_eq!(gw.client.get(path, Some(&old_token)).await.status.as_u16(), 401, "retired key refused");

    // A storm of unknown kids does not turn into a storm of JWKS fetches.
    let fetches = gw.jwks.fetches.load(Ordering::SeqCst);
    for _ in 0..20 {
        let forged = new_signer().sign(&claims(300)).unwrap();
        assert_eq!(gw.client.get(path, Some(&forged)).await.status.as_u16(), 401);
    }
    assert!(gw.jwks.fetches.load(Ordering::SeqCst) - fetches <= 2, "JWKS refetches are rate limited");
}

#[tokio::test]
async fn verification_can_be_switched_off_for_benchmarks() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |c| c.verify_jwt = false).await;
    assert_eq!(gw.client.get("/api/order-workflow/orders", None).await.status.as_u16(), 200);
}
