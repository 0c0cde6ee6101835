//! No TLS (built without the `tls` feature): types with no values, so code
//! that would use a TLS stream compiles but can never run.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::CertSource;
use crate::running::StartError;
use crate::store::TlsInfo;

#[derive(Clone)]
pub(crate) enum Acceptor {}

pub(crate) enum Stream {}

impl Acceptor {
    pub(crate) async fn accept(&self, _stream: TcpStream) -> std::io::Result<Stream> {
        match *self {}
    }
}

pub(crate) fn acceptor(_source: &CertSource) -> Result<Acceptor, StartError> {
    Err(StartError::Tls(
        "this mailcatch was built without TLS (the `tls` feature)".into(),
    ))
}

/// The outbound client's TLS stream: as the server's, it cannot exist.
pub(crate) type ClientStream = Stream;

/// The relay file refuses `tls`/`starttls` in this build, so this is
/// never reached; it answers as a TLS failure all the same.
pub(crate) async fn connect(
    _stream: TcpStream,
    _host: &str,
    _allow_insecure: bool,
) -> Result<ClientStream, String> {
    Err("TLS: this mailcatch was built without TLS (the `tls` feature)".into())
}

pub(crate) fn info(stream: &Stream) -> TlsInfo {
    match *stream {}
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match *self.get_mut() {}
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match *self.get_mut() {}
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match *self.get_mut() {}
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match *self.get_mut() {}
    }
}
