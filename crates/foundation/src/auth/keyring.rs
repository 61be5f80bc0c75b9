//! foundation's signing key: read from `CRM_JWT_KEY_FILE`, or generated once (mode 0600) into the
//! data directory. Retired keys' public halves stay published so their tokens verify until expiry.

use crm_common::auth::{KeySet, Signer};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use std::path::{Path, PathBuf};

pub struct Keyring {
    pub signer: Signer,
    pub keys: KeySet,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read signing key {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("cannot write signing key {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

pub fn load(key_file: &Path, retired: &[PathBuf]) -> Result<Keyring, KeyError> {
    let key = if key_file.exists() { read(key_file)? } else { generate(key_file)? };
    let mut public = vec![key.verifying_key()];
    for path in retired {
        public.push(read(path)?.verifying_key());
    }
    Ok(Keyring { signer: Signer::new(key), keys: KeySet::fixed(public) })
}

fn read(path: &Path) -> Result<SigningKey, KeyError> {
    let err = |reason: String| KeyError::Read { path: path.to_owned(), reason };
    let pem = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| err(e.to_string()))
}

fn generate(path: &Path) -> Result<SigningKey, KeyError> {
    let err = |reason: String| KeyError::Write { path: path.to_owned(), reason };
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| err(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    write_private(path, pem.as_bytes()).map_err(|e| err(e.to_string()))?;
    tracing::info!(path = %path.display(), "generated a new JWT signing key");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
