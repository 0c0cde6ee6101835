//! `mailcatch sendmail`: a sendmail stand-in, so programs that deliver mail
//! by running `/usr/sbin/sendmail` (PHP's `mail()`, cron, git send-email…)
//! can be pointed at mailcatch. It reads a message on standard input and
//! submits it over SMTP. Symlinking the binary as `sendmail` works too.
//!
//! Sendmail's command line predates getopt conventions (`-oi`, `-fuser@x`
//! glued to its value), so it is parsed by hand rather than with clap.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub server: String,
    pub from: Option<String>,
    /// `-t`: also take recipients from the To, Cc and Bcc headers.
    pub recipients_from_headers: bool,
    pub recipients: Vec<String>,
}

/// Parses sendmail's arguments (without the program name and any
/// `sendmail` subcommand word); unknown flags are ignored, as sendmail
/// front-ends commonly pass `-oi`, `-odi`, `-B8BITMIME` and the like.
pub fn parse_args(args: &[String]) -> Options {
    let mut options = Options {
        server: std::env::var("MP_SENDMAIL_SMTP_ADDR").unwrap_or_else(|_| "127.0.0.1:1025".into()),
        from: std::env::var("MP_SENDMAIL_FROM")
            .ok()
            .filter(|f| !f.is_empty()),
        ..Options::default()
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-t" => options.recipients_from_headers = true,
            "-f" | "-r" => options.from = args.next().cloned(),
            "-S" | "--smtp-addr" => options.server = args.next().cloned().unwrap_or(options.server),
            // Flags that take a separate value which mailcatch ignores.
            "-F" | "-B" | "-O" | "-o" | "-X" | "-N" | "-R" | "-V" | "-L" => {
                args.next();
            }
            "--" => options.recipients.extend(args.by_ref().cloned()),
            flag if flag.starts_with("-f") || flag.starts_with("-r") => {
                options.from = Some(flag[2..].to_string())
            }
            flag if flag.starts_with("-S") => options.server = flag[2..].to_string(),
            flag if flag.starts_with('-') => {}
            recipient => options
                .recipients
                .extend(recipient.split(',').map(|r| r.trim().to_string())),
        }
    }
    options
}

/// Runs the sendmail stand-in; returns sendmail's exit codes (0, or 75
/// EX_TEMPFAIL / 65 EX_DATAERR / 64 EX_USAGE).
pub async fn run(args: &[String]) -> std::process::ExitCode {
    let options = parse_args(args);
    let mut raw = Vec::new();
    if let Err(error) = tokio::io::stdin().read_to_end(&mut raw).await {
        eprintln!("sendmail: reading standard input: {error}");
        return std::process::ExitCode::from(74);
    }
    let message = normalize_line_endings(&raw);
    let (from, recipients) = envelope(&options, &message);
    if recipients.is_empty() {
        eprintln!("sendmail: no recipients (give them as arguments, or use -t)");
        return std::process::ExitCode::from(64);
    }
    match tokio::time::timeout(
        Duration::from_secs(60),
        submit(&options.server, &from, &recipients, &message),
    )
    .await
    {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("sendmail: {error}");
            std::process::ExitCode::from(75)
        }
        Err(_) => {
            eprintln!("sendmail: timed out talking to {}", options.server);
            std::process::ExitCode::from(75)
        }
    }
}

/// Submits one message with the envelope its headers give (From as the
/// sender, To, Cc and Bcc as recipients), for `mailcatch load`.
pub(crate) async fn submit_from_headers(server: &str, raw: &[u8]) -> Result<(), String> {
    let message = normalize_line_endings(raw);
    let options = Options {
        recipients_from_headers: true,
        ..Options::default()
    };
    let (from, recipients) = envelope(&options, &message);
    if recipients.is_empty() {
        return Err("no recipients in To, Cc or Bcc".into());
    }
    tokio::time::timeout(
        Duration::from_secs(60),
        submit(server, &from, &recipients, &message),
    )
    .await
    .map_err(|_| format!("timed out talking to {server}"))?
}

/// Sendmail accepts LF-only input (PHP writes it); SMTP needs CRLF.
pub fn normalize_line_endings(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut previous = 0u8;
    for &byte in raw {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn envelope(options: &Options, message: &[u8]) -> (String, Vec<String>) {
    let parsed = mail_parser::MessageParser::default().parse_headers(message);
    let mut recipients = options.recipients.clone();
    if options.recipients_from_headers
        && let Some(parsed) = &parsed
    {
        for list in [parsed.to(), parsed.cc(), parsed.bcc()]
            .into_iter()
            .flatten()
        {
            recipients.extend(list.iter().filter_map(|a| a.address()).map(str::to_string));
        }
    }
    recipients.retain(|r| !r.is_empty());
    let from = options
        .from
        .clone()
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|p| p.from())
                .and_then(|f| f.first())
                .and_then(|a| a.address())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            format!(
                "{}@localhost",
                std::env::var("USER").unwrap_or_else(|_| "nobody".into())
            )
        });
    (from, recipients)
}

async fn submit(
    server: &str,
    from: &str,
    recipients: &[String],
    message: &[u8],
) -> Result<(), String> {
    let stream = TcpStream::connect(server)
        .await
        .map_err(|e| format!("connecting to {server}: {e}"))?;
    let mut smtp = Client {
        stream: BufReader::new(stream),
    };
    smtp.expect(220).await?;
    smtp.command("EHLO localhost", 250).await?;
    let utf8 = if from.is_ascii() && recipients.iter().all(|r| r.is_ascii()) {
        ""
    } else {
        " SMTPUTF8"
    };
    smtp.command(&format!("MAIL FROM:<{from}> BODY=8BITMIME{utf8}"), 250)
        .await?;
    for recipient in recipients {
        smtp.command(&format!("RCPT TO:<{recipient}>"), 250).await?;
    }
    smtp.command("DATA", 354).await?;
    smtp.send(&dot_stuff(message)).await?;
    smtp.command(".", 250).await?;
    smtp.command("QUIT", 221).await
}

/// Doubles a leading dot on every line (RFC 5321 §4.5.2).
fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    crate::smtp::data::dot_stuff_into(&mut out, message);
    out
}

struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .get_mut()
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }

    async fn command(&mut self, line: &str, expected: u16) -> Result<(), String> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.expect(expected).await
    }

    /// Reads a whole (possibly multi-line) reply and checks its code.
    async fn expect(&mut self, expected: u16) -> Result<(), String> {
        loop {
            let mut line = String::new();
            if self
                .stream
                .read_line(&mut line)
                .await
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("the server closed the connection".into());
            }
            if line.as_bytes().get(3) == Some(&b'-') {
                continue;
            }
            return match line.get(..3).and_then(|c| c.parse::<u16>().ok()) {
                Some(code) if code == expected => Ok(()),
                _ => Err(format!("server replied: {}", line.trim_end())),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_the_flags_php_and_cron_pass() {
        let o = parse_args(&args(&[
            "-t",
            "-i",
            "-oi",
            "-fme@example.com",
            "-S",
            "127.0.0.1:2525",
            "a@x,b@y",
            "c@z",
        ]));
        assert!(o.recipients_from_headers);
        assert_eq!(o.from.as_deref(), Some("me@example.com"));
        assert_eq!(o.server, "127.0.0.1:2525");
        assert_eq!(o.recipients, ["a@x", "b@y", "c@z"]);
        let o = parse_args(&args(&[
            "-f",
            "x@y",
            "-F",
            "Full Name",
            "-odi",
            "--",
            "-weird@x",
        ]));
        assert_eq!(o.from.as_deref(), Some("x@y"));
        assert_eq!(o.recipients, ["-weird@x"]);
    }

    #[test]
    fn normalizes_and_stuffs() {
        assert_eq!(normalize_line_endings(b"a\nb\r\nc"), b"a\r\nb\r\nc\r\n");
        assert_eq!(dot_stuff(b".a\r\nb.\r\n.\r\n"), b"..a\r\nb.\r\n..\r\n");
    }
}
