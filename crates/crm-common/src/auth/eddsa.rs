//! The crypto provider `jsonwebtoken` signs and verifies with here: EdDSA over the workspace's
//! `ed25519-dalek`, and nothing else.
//!
//! The crate's own backends are not built. `rust_crypto` would link RSA, ECDSA and HMAC code that
//! no token here uses; `aws_lc_rs` a second Ed25519 implementation, in C. This provider refuses
//! every algorithm but `EdDSA`, whatever a caller asks for, and verifies with `verify_strict`
//! (small-order keys and non-canonical signatures refused).

use ed25519_dalek::ed25519::signature::{Error, Signer, Verifier};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

static PROVIDER: CryptoProvider =
    CryptoProvider { signer_factory, verifier_factory, key_utils: KeyUtils::new_unimplemented() };

/// Makes this the process's provider; later calls do nothing. Called before any token is signed or
/// verified (by `Signer::new` and `Verifier::new`): the crate would otherwise settle on its
/// built-in default, which without a backend feature refuses everything.
pub(super) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if PROVIDER.install_default().is_err() {
            tracing::error!("another JWT crypto provider was installed first; tokens will use it");
        }
    });
}

/// The signing key as the provider reads it: its 32-byte seed.
pub(super) fn encoding_key(key: &SigningKey) -> EncodingKey {
    EncodingKey::from_ed_der(key.as_bytes())
}

struct EdDsaSigner(SigningKey);

impl Signer<Vec<u8>> for EdDsaSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.0.sign(message).to_bytes().to_vec())
    }
}

impl JwtSigner for EdDsaSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct EdDsaVerifier(VerifyingKey);

impl Verifier<Vec<u8>> for EdDsaVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), Error> {
        self.0.verify_strict(message, &Signature::from_slice(signature)?)
    }
}

impl JwtVerifier for EdDsaVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::EdDSA {
        return Err(JwtError::from(ErrorKind::InvalidAlgorithm));
    }
    let seed: &[u8; 32] = key.as_bytes().try_into().map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(EdDsaSigner(SigningKey::from_bytes(seed))))
}

/// The key is the raw 32-byte public key, as `DecodingKey::from_ed_der` takes it.
fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::EdDSA {
        return Err(JwtError::from(ErrorKind::InvalidAlgorithm));
    }
    let bytes: &[u8; 32] = key.try_get_as_bytes()?.try_into().map_err(|_| ErrorKind::InvalidEddsaKey)?;
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(EdDsaVerifier(key)))
}
