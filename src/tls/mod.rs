//! TLS for SMTP: where the certificate comes from (PEM files, or one
//! generated at start in Mailpit's `sans:host1,host2` form), the acceptor
//! and stream types, and the outbound client's handshake (`connect`). With
//! the `tls` feature they are rustls's; without it they are empty types no
//! value can have, so the server code is the same either way and asking
//! for TLS is a start-up error.

#[cfg(feature = "tls")]
mod client;
#[cfg(feature = "tls")]
mod rustls;
#[cfg(not(feature = "tls"))]
mod without;

#[cfg(feature = "tls")]
pub(crate) use client::{ClientStream, connect};
#[cfg(feature = "tls")]
pub(crate) use rustls::{Acceptor, Stream, acceptor, info};
#[cfg(not(feature = "tls"))]
pub(crate) use without::{Acceptor, ClientStream, Stream, acceptor, connect, info};

use crate::running::StartError;

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
