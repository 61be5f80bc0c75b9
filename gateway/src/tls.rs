//! TLS material: the operator's PEM files, or a development certificate for localhost and
//! 127.0.0.1 generated once into `CRM_DATA_DIR` (so it stays the same across restarts and can be
//! trusted once). rustls with the ring provider; HTTP/1.1 is offered via ALPN.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const DEV_CERT_FILE: &str = "gateway-dev-cert.pem";
pub const DEV_KEY_FILE: &str = "gateway-dev-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("CRM_TLS_CERT and CRM_TLS_KEY must be set together")]
    HalfConfigured,
    #[error("reading {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("writing {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("generating the development certificate: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

pub fn server_config(cert: Option<&Path>, key: Option<&Path>, data_dir: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf()),
        (None, None) => dev_certificate(data_dir)?,
        _ => return Err(TlsError::HalfConfigured),
    };
    let read = |path: &Path, reason: String| TlsError::Read { path: path.to_path_buf(), reason };
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| read(&cert_path, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read(&cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(read(&cert_path, "no certificate in file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| read(&key_path, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The development certificate's files, generated when missing.
pub fn dev_certificate(data_dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_path = data_dir.join(DEV_CERT_FILE);
    let key_path = data_dir.join(DEV_KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    let write_err =
        |path: &Path, e: std::io::Error| TlsError::Write { path: path.to_path_buf(), reason: e.to_string() };
    std::fs::create_dir_all(data_dir).map_err(|e| write_err(data_dir, e))?;
    write_private(&key_path, generated.signing_key.serialize_pem().as_bytes()).map_err(|e| write_err(&key_path, e))?;
    std::fs::write(&cert_path, generated.cert.pem()).map_err(|e| write_err(&cert_path, e))?;
    tracing::info!(cert = %cert_path.display(), "generated a development TLS certificate for localhost");
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
