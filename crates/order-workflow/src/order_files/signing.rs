//! Signed links to order files: `file_url` opens a file in a browser without a bearer header
//! (an `<img src>` or a new tab cannot send one). The link names the file and an expiry and
//! carries an HMAC-SHA256 over the file id, its organization and that expiry, so it opens that
//! one file, of that organization, until then — and a changed id, expiry or signature opens
//! nothing.

use crate::config::Config;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::io;
use uuid::Uuid;

/// Where signed links are served.
pub const SIGNED_PATH: &str = "/api/order-workflow/files/signed";

#[derive(Clone)]
pub struct Signer {
    mac: Hmac<Sha256>,
}

impl Signer {
    pub fn new(key: &[u8]) -> io::Result<Self> {
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self { mac })
    }

    /// The configured key, else the key file's, generated (32 random bytes, mode 0600) on first
    /// start.
    pub fn from_config(config: &Config) -> io::Result<Self> {
        if let Some(key) = config.file_url_key.as_deref().filter(|k| !k.trim().is_empty()) {
            return Self::new(key.trim().as_bytes());
        }
        let path = &config.file_url_key_file;
        if let Ok(key) = std::fs::read_to_string(path)
            && key.trim().len() >= 32
        {
            return Self::new(key.trim().as_bytes());
        }
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let key = URL_SAFE_NO_PAD.encode(bytes);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        write_private(path, key.as_bytes())?;
        tracing::info!(path = %path.display(), "generated the order files' link key");
        Self::new(key.as_bytes())
    }

    fn mac(&self, file: Uuid, organization: Uuid, expires: i64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(format!("{file}.{organization}.{expires}").as_bytes());
        mac
    }

    pub fn sign(&self, file: Uuid, organization: Uuid, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(file, organization, expires).finalize().into_bytes())
    }

    /// Whether `sig` is this key's signature of the three (compared in constant time).
    pub fn verify(&self, file: Uuid, organization: Uuid, expires: i64, sig: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(sig) {
            Ok(raw) => self.mac(file, organization, expires).verify_slice(&raw).is_ok(),
            Err(_) => false,
        }
    }

    /// The link, relative to the gateway's origin.
    pub fn url(&self, file: Uuid, organization: Uuid, expires: i64) -> String {
        format!("{SIGNED_PATH}/{file}?expires={expires}&sig={}", self.sign(file, organization, expires))
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_file_organization_and_expiry() {
        let s = Signer::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let (f, o) = (Uuid::now_v7(), Uuid::now_v7());
        let sig = s.sign(f, o, 100);
        assert!(s.verify(f, o, 100, &sig));
        assert!(!s.verify(f, o, 101, &sig));
        assert!(!s.verify(Uuid::now_v7(), o, 100, &sig));
        assert!(!s.verify(f, Uuid::now_v7(), 100, &sig));
        assert!(!s.verify(f, o, 100, "not base64!"));
        assert!(!Signer::new(b"another key").unwrap().verify(f, o, 100, &sig));
        assert!(s.url(f, o, 100).starts_with(&format!("{SIGNED_PATH}/{f}?expires=100&sig=")));
    }
}
