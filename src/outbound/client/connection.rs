//! The client's transport: a TCP stream to the relay, upgraded to TLS
//! from the first byte or after STARTTLS, with every read and write bounded
//! by the per-command timeout and the read buffer bounded by the reply
//! parser's limits. Failures are plain text: the caller turns them into a
//! code-0 reply, which defers the delivery.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{Parsed, ServerReply, parse_reply};
use crate::tls;

/// Bytes written at a time, each write with its own timeout, so a large
/// message on a slow link is not cut off by the per-command limit.
const WRITE_CHUNK: usize = 64 * 1024;

enum Wire {
    Plain(TcpStream),
    Tls(Box<tls::ClientStream>),
    /// After a failed TLS handshake: nothing more can be sent.
    Broken,
}

pub(super) struct Connection {
    wire: Wire,
    /// Bytes received and not yet parsed (at most one reply's worth: the
    /// parser refuses longer lines and more lines than it allows).
    buffer: Vec<u8>,
    timeout: Duration,
    /// Set once a read or write failed: QUIT is then not attempted.
    failed: bool,
}

impl Connection {
    pub async fn open(host: &str, port: u16, timeout: Duration) -> Result<Connection, String> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| format!("no connection in {}s", timeout.as_secs()))?
            .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            wire: Wire::Plain(stream),
            buffer: Vec::with_capacity(1024),
            timeout,
            failed: false,
        })
    }

    /// Whether the connection is still in step with the server.
    pub fn usable(&self) -> bool {
        !self.failed && !matches!(self.wire, Wire::Broken)
    }

    /// Wraps the stream in TLS (implicit TLS at once, or after a 220 to
    /// STARTTLS). Bytes the server sent before the handshake would have
    /// been sent in the clear, and are refused rather than trusted.
    pub async fn start_tls(&mut self, host: &str, allow_insecure: bool) -> Result<(), String> {
        if !self.buffer.is_empty() {
            self.failed = true;
            return Err("TLS: the server sent data before the TLS handshake".into());
        }
        let Wire::Plain(stream) = std::mem::replace(&mut self.wire, Wire::Broken) else {
            return Err("TLS: the connection is not plain TCP".into());
        };
        let tls = tokio::time::timeout(self.timeout, tls::connect(stream, host, allow_insecure))
            .await
            .map_err(|_| format!("TLS: no handshake in {}s", self.timeout.as_secs()))??;
        self.wire = Wire::Tls(Box::new(tls));
        Ok(())
    }

    /// Reads one reply.
    pub async fn reply(&mut self) -> Result<ServerReply, String> {
        let result = self.read_reply().await;
        self.failed |= result.is_err();
        result
    }

    async fn read_reply(&mut self) -> Result<ServerReply, String> {
        loop {
            match parse_reply(&self.buffer) {
                Parsed::Reply(reply, used) => {
                    self.buffer.drain(..used);
                    return Ok(reply);
                }
                Parsed::Invalid(why) => return Err(format!("the server's reply: {why}")),
                Parsed::Incomplete => {}
            }
            let mut chunk = [0u8; 4096];
            let read = tokio::time::timeout(self.timeout, self.read(&mut chunk))
                .await
                .map_err(|_| format!("no reply in {}s", self.timeout.as_secs()))?
                .map_err(|e| format!("reading the reply: {e}"))?;
            if read == 0 {
                return Err("the server closed the connection".into());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    /// Writes `bytes` (one command, a pipelined group, or the message).
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        for chunk in bytes.chunks(WRITE_CHUNK) {
            let written = tokio::time::timeout(self.timeout, self.write(chunk)).await;
            let error = match written {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => format!("sending: {e}"),
                Err(_) => format!("sending timed out after {}s", self.timeout.as_secs()),
            };
            self.failed = true;
            return Err(error);
        }
        Ok(())
    }

    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.wire {
            Wire::Plain(stream) => stream.read(buf).await,
            Wire::Tls(stream) => stream.read(buf).await,
            Wire::Broken => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.wire {
            Wire::Plain(stream) => stream.write_all(bytes).await,
            Wire::Tls(stream) => {
                stream.write_all(bytes).await?;
                stream.flush().await
            }
            Wire::Broken => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
}
