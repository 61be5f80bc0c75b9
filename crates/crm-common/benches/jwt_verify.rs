//! Access-token verifications per second on one core (signature + claim checks), the work every
//! authenticated request does before touching a handler. Run: `cargo bench -p crm-common --bench jwt_verify`.

use crm_common::auth::{Claims, KeySet, Signer, TokenType, Verifier, VerifierSettings};
use ed25519_dalek::SigningKey;
use std::time::Instant;

fn main() {
    let signer = Signer::new(SigningKey::generate(&mut rand::rngs::OsRng));
    let verifier = Verifier::new(KeySet::fixed(vec![signer.verifying_key()]), VerifierSettings::default());
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        iss: "bantu-crm".into(),
        aud: "bantu-crm".into(),
        sub: uuid::Uuid::now_v7(),
        exp: now + 900,
        nbf: now,
        iat: now,
        jti: uuid::Uuid::now_v7(),
        typ: TokenType::Access,
        organization_id: uuid::Uuid::now_v7(),
        roles: vec!["ADMIN".into(), "SALES".into()],
        username: "admin".into(),
        email: "admin@bantu.local".into(),
        user_id: None,
        primary_organization_id: None,
        sid: None,
    };
    let Ok(token) = signer.sign(&claims) else { return };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else { return };
    let iterations = 20_000u32;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        rt.block_on(async {
            for _ in 0..iterations {
                let ok = verifier.verify(std::hint::black_box(&token)).await.is_ok();
                assert!(ok);
            }
        });
        rates.push(f64::from(iterations) / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let remembered = rates.clone();
    // Every token new to the verifier: the signature is checked each time.
    let mut rates = Vec::new();
    for _ in 0..5 {
        let tokens: Vec<String> = (0..2_000)
            .filter_map(|_| signer.sign(&Claims { jti: uuid::Uuid::now_v7(), ..claims.clone() }).ok())
            .collect();
        let start = Instant::now();
        rt.block_on(async {
            for token in &tokens {
                let ok = verifier.verify(std::hint::black_box(token)).await.is_ok();
                assert!(ok);
            }
        });
        rates.push(tokens.len() as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "jwt_verify (new tokens): median {:.0} verifications/s on one core (min {:.0}, max {:.0})",
        rates[2], rates[0], rates[4]
    );
    let rates = remembered;
    println!(
        "jwt_verify: median {:.0} verifications/s on one core (min {:.0}, max {:.0}, {} runs of {iterations})",
        rates[2],
        rates[0],
        rates[4],
        rates.len()
    );
}
