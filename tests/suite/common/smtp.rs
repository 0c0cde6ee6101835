//! A raw SMTP client for scripted sessions: bytes out, replies in.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct RawClient {
    stream: BufReader<TcpStream>,
}

/// A reply: its code and its lines' text (after the code and separator).
#[derive(Debug)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl RawClient {
    /// Connects and reads the greeting.
    pub async fn connect(addr: SocketAddr) -> RawClient {
        let mut client = RawClient::connect_quiet(addr).await;
        assert_eq!(client.reply().await.code, 220);
        client
    }

    pub async fn connect_quiet(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).await.expect("connect");
        RawClient {
            stream: BufReader::new(stream),
        }
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .get_mut()
            .write_all(bytes.as_ref())
            .await
            .expect("write");
    }

    /// Writes bytes, reporting a failure instead of panicking (for clients
    /// that expect the server to go away).
    pub async fn stream_write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.get_mut().write_all(bytes).await
    }

    /// Reads one (possibly multi-line) reply, waiting at most ten seconds.
    pub async fn reply(&mut self) -> Reply {
        tokio::time::timeout(Duration::from_secs(10), self.read_reply())
            .await
            .expect("reply within 10 s")
            .expect("a reply before EOF")
    }

    /// Reads a reply, or None at EOF.
    pub async fn read_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            let line = line.trim_end();
            let code = line.get(..3)?.parse().ok()?;
            lines.push(line.get(4..).unwrap_or("").to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Some(Reply { code, lines });
            }
        }
    }

    /// Sends `line` + CRLF and returns the reply code.
    pub async fn command(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n")).await;
        self.reply().await.code
    }

    /// Reads `n` replies, returning their codes.
    pub async fn codes(&mut self, n: usize) -> Vec<u16> {
        let mut codes = Vec::new();
        for _ in 0..n {
            codes.push(self.reply().await.code);
        }
        codes
    }

    /// True if the server closed the connection (EOF within five seconds).
    pub async fn closed(&mut self) -> bool {
        let mut rest = String::new();
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.stream.read_line(&mut rest)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    pub fn into_inner(self) -> TcpStream {
        self.stream.into_inner()
    }
}
