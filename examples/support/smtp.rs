//! A minimal SMTP client over one persistent connection, checking every
//! reply. Enough for load generation; not a general-purpose client.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The sender every generated message uses.
pub const MAIL_FROM: &str = "loadgen@load.example";

pub struct SmtpConn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    line: String,
    /// The longest wait for any one reply.
    reply_timeout: Duration,
}

/// One reply: its code and the text of its last line.
#[derive(Debug)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl SmtpConn {
    /// Connects, reads the 220 greeting and says EHLO.
    pub async fn open(addr: SocketAddr, reply_timeout: Duration) -> Result<SmtpConn, String> {
        let stream = tokio::time::timeout(reply_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| format!("connect to {addr} timed out"))?
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (read, write) = stream.into_split();
        let mut conn = SmtpConn {
            reader: BufReader::with_capacity(16 * 1024, read),
            writer: write,
            line: String::new(),
            reply_timeout,
        };
        conn.expect(220, "greeting").await?;
        conn.send(b"EHLO loadgen.example\r\n").await?;
        conn.expect(250, "EHLO").await?;
        Ok(conn)
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        tokio::time::timeout(self.reply_timeout, self.writer.write_all(bytes))
            .await
            .map_err(|_| "write timed out".to_string())?
            .map_err(|e| format!("write: {e}"))
    }

    /// Reads one (possibly multi-line) reply.
    pub async fn reply(&mut self) -> Result<Reply, String> {
        loop {
            self.line.clear();
            let read =
                tokio::time::timeout(self.reply_timeout, self.reader.read_line(&mut self.line))
                    .await
                    .map_err(|_| format!("no reply within {:?}", self.reply_timeout))?
                    .map_err(|e| format!("read: {e}"))?;
            if read == 0 {
                return Err("connection closed by the server".into());
            }
            let line = self.line.trim_end();
            let code = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| format!("malformed reply line {line:?}"))?;
            if line.as_bytes().get(3) != Some(&b'-') {
                let text = line.get(4..).unwrap_or_default().to_string();
                return Ok(Reply { code, text });
            }
        }
    }

    /// Reads one reply and fails unless it has the expected code.
    pub async fn expect(&mut self, code: u16, what: &str) -> Result<Reply, String> {
        let reply = self.reply().await?;
        if reply.code != code {
            return Err(format!(
                "{what}: expected {code}, got {} {}",
                reply.code, reply.text
            ));
        }
        Ok(reply)
    }

    /// Sends one message in lock-step (a round trip per command) and
    /// returns the text of the final 250 reply.
    pub async fn send_message(&mut self, rcpt: &str, message: &[u8]) -> Result<String, String> {
        self.send(format!("MAIL FROM:<{MAIL_FROM}>\r\n").as_bytes())
            .await?;
        self.expect(250, "MAIL").await?;
        self.send(format!("RCPT TO:<{rcpt}>\r\n").as_bytes())
            .await?;
        self.expect(250, "RCPT").await?;
        self.send(b"DATA\r\n").await?;
        self.expect(354, "DATA").await?;
        let mut data = Vec::with_capacity(message.len() + 3);
        data.extend_from_slice(message);
        data.extend_from_slice(b".\r\n");
        self.send(&data).await?;
        Ok(self.expect(250, "end of data").await?.text)
    }

    /// Says QUIT and waits (briefly) for the 221.
    pub async fn quit(mut self) {
        if self.send(b"QUIT\r\n").await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), self.reply()).await;
        }
    }
}

/// Appends the command group that opens a transaction: MAIL, RCPT, DATA.
/// With PIPELINING (RFC 2920) the three go out together and the client
/// waits for the 354 before sending content.
pub fn push_envelope(out: &mut Vec<u8>, rcpt: &str) {
    out.extend_from_slice(
        format!("MAIL FROM:<{MAIL_FROM}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes(),
    );
}

/// The message ID in mailcatch's `250 2.0.0 Ok: queued as ID` reply.
pub fn queued_id(reply_text: &str) -> Option<&str> {
    reply_text
        .rsplit_once("queued as ")
        .map(|(_, id)| id.trim())
}
