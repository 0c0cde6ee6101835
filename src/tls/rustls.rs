//! TLS with rustls (the `tls` feature): the server configuration from PEM
//! files or a self-signed certificate, and the stream it produces.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, pki_types::CertificateDer, pki_types::PrivateKeyDer};

use super::CertSource;
use crate::running::StartError;
use crate::store::TlsInfo;

pub(crate) type Acceptor = tokio_rustls::TlsAcceptor;
pub(crate) type Stream = tokio_rustls::server::TlsStream<TcpStream>;

/// The acceptor for a certificate source.
pub(crate) fn acceptor(source: &CertSource) -> Result<Acceptor, StartError> {
    Ok(Acceptor::from(server_config(source)?))
}

/// The negotiated version and cipher, as the envelope records them.
pub(crate) fn info(tls: &Stream) -> TlsInfo {
    let (_, connection) = tls.get_ref();
    TlsInfo {
        version: connection
            .protocol_version()
            .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."))
            .unwrap_or_default(),
        cipher: connection
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
    }
}

fn server_config(source: &CertSource) -> Result<Arc<rustls::ServerConfig>, StartError> {
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
