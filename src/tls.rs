//! TLS server configuration: from PEM files, or a self-signed certificate
//! generated at start (Mailpit's `sans:host1,host2` form).

use std::sync::Arc;

use tokio_rustls::rustls::{self, pki_types::CertificateDer, pki_types::PrivateKeyDer};

use crate::StartError;

/// Where the certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertSource {
    Files { cert: String, key: String },
    SelfSigned { names: Vec<String> },
}

impl CertSource {
    /// Interprets the `--smtp-tls-cert` / `--smtp-tls-key` / self-signed options.
    pub fn from_options(
        cert: Option<&str>,
        key: Option<&std::path::Path>,
        self_signed: bool,
    ) -> Result<Option<CertSource>, StartError> {
        match (cert, key) {
            (Some(cert), _) if cert.starts_with("sans:") => Ok(Some(CertSource::SelfSigned {
                names: cert["sans:".len()..]
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            })),
            (Some(cert), Some(key)) => Ok(Some(CertSource::Files {
                cert: cert.to_string(),
                key: key.display().to_string(),
            })),
            (Some(_), None) => Err(StartError::Config(
                "a TLS certificate needs its key (--smtp-tls-key)".into(),
            )),
            (None, Some(_)) => Err(StartError::Config(
                "a TLS key needs its certificate (--smtp-tls-cert)".into(),
            )),
            (None, None) if self_signed => Ok(Some(CertSource::SelfSigned { names: Vec::new() })),
            (None, None) => Ok(None),
        }
    }
}

pub fn server_config(source: &CertSource) -> Result<Arc<rustls::ServerConfig>, StartError> {
    let (certs, key) = match source {
        CertSource::Files { cert, key } => (load_certs(cert)?, load_key(key)?),
        CertSource::SelfSigned { names } => self_signed(names)?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| StartError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, StartError> {
    let pem = std::fs::read(path).map_err(|e| StartError::Tls(format!("{path}: {e}")))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StartError::Tls(format!("{path}: {e}")))?;
    if certs.is_empty() {
        return Err(StartError::Tls(format!("{path}: no certificate found")));
    }
    Ok(certs)
}

fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, StartError> {
    let pem = std::fs::read(path).map_err(|e| StartError::Tls(format!("{path}: {e}")))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| StartError::Tls(format!("{path}: {e}")))?
        .ok_or_else(|| StartError::Tls(format!("{path}: no private key found")))
}

fn self_signed(
    names: &[String],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), StartError> {
    let mut names = names.to_vec();
    if names.is_empty() {
        names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    }
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| StartError::Tls(format!("generating a self-signed certificate: {e}")))?;
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .map_err(|e| StartError::Tls(e.to_string()))?;
    Ok((vec![certified.cert.der().clone()], key))
}
