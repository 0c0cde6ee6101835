//! Parsing SMTP command lines (RFC 5321 §4.1) into [`Command`]s.
//!
//! Written by hand rather than with `smtp-proto`: the session needs precise
//! control over every error reply (codes, enhanced codes, wording), lenient
//! handling of the address forms real clients send (`MAIL FROM: <a@b>`), and
//! rejection of control characters in addresses; the grammar is small.

use super::address;
use super::reply::Reply;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    Mail {
        from: String,
        params: MailParams,
    },
    Rcpt {
        to: String,
    },
    Data,
    Bdat {
        size: usize,
        last: bool,
    },
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
}

/// The body type declared with `BODY=` (RFC 6152, RFC 3030).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BodyType {
    #[default]
    SevenBit,
    EightBitMime,
    BinaryMime,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailParams {
    pub size: Option<usize>,
    pub body: BodyType,
    pub smtputf8: bool,
    /// Every parameter as sent, for the stored envelope.
    pub raw: Vec<String>,
}

impl Command {
    /// Parses one command line (without its line ending).
    pub fn parse(line: &str) -> Result<Command, Reply> {
        let (verb, args) = match line.split_once(' ') {
            Some((verb, args)) => (verb, args.trim()),
            None => (line, ""),
        };
        let no_args = |command: Command| {
            if args.is_empty() {
                Ok(command)
            } else {
                Err(Reply::syntax("Syntax error, no parameters allowed"))
            }
        };
        match verb.to_ascii_uppercase().as_str() {
            "HELO" => domain(args).map(Command::Helo),
            "EHLO" => domain(args).map(Command::Ehlo),
            "MAIL" => parse_mail(args),
            "RCPT" => parse_rcpt(args),
            "DATA" => no_args(Command::Data),
            "BDAT" => parse_bdat(args),
            "RSET" => no_args(Command::Rset),
            "NOOP" => Ok(Command::Noop),
            "QUIT" => no_args(Command::Quit),
            "VRFY" => Ok(Command::Vrfy),
            "EXPN" => Ok(Command::Expn),
            "HELP" => Ok(Command::Help),
            "STARTTLS" => no_args(Command::StartTls),
            "AUTH" => parse_auth(args),
            _ => Err(Reply::unrecognized()),
        }
    }
}

fn domain(args: &str) -> Result<String, Reply> {
    match args.split_whitespace().next() {
        Some(name) if !has_control(name) => Ok(name.to_string()),
        Some(_) => Err(Reply::syntax("Invalid domain")),
        None => Err(Reply::syntax("Syntax: EHLO hostname")),
    }
}

fn parse_mail(args: &str) -> Result<Command, Reply> {
    let rest =
        strip_keyword(args, "FROM:").ok_or_else(|| Reply::syntax("Syntax: MAIL FROM:<address>"))?;
    let (from, params) =
        split_path(rest).ok_or_else(|| Reply::new(501, "5.1.7 Bad sender address syntax"))?;
    let params = parse_mail_params(params)?;
    Ok(Command::Mail { from, params })
}

fn parse_rcpt(args: &str) -> Result<Command, Reply> {
    let rest =
        strip_keyword(args, "TO:").ok_or_else(|| Reply::syntax("Syntax: RCPT TO:<address>"))?;
    match split_path(rest) {
        Some((to, _params)) if !to.is_empty() => Ok(Command::Rcpt { to }),
        _ => Err(Reply::new(501, "5.1.3 Bad recipient address syntax")),
    }
}

/// Case-insensitively strips `FROM:`/`TO:` and any spaces after it, which
/// some clients send (`MAIL FROM: <a@b>`).
fn strip_keyword<'a>(args: &'a str, keyword: &str) -> Option<&'a str> {
    let head = args.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| args[keyword.len()..].trim_start())
}

/// Splits `<path> params` (or a bare `path params`) into the address without
/// brackets and the parameter text. A quoted local part (`"odd user"@x`) may
/// hold spaces and `>`; it is kept quoted, as sent. Rejects control
/// characters, so CR, LF and NUL can never reach a stored envelope
/// (header-injection class).
fn split_path(rest: &str) -> Option<(String, &str)> {
    let (address, params) = if let Some(inner) = rest.strip_prefix('<') {
        let end = path_end(inner, |c| c == '>')?;
        (&inner[..end], &inner[end + 1..])
    } else {
        let end = path_end(rest, |c| c == ' ').unwrap_or(rest.len());
        (&rest[..end], &rest[end..])
    };
    // Drop an obsolete source route (`<@a,@b:user@c>`), keeping the mailbox.
    let address = match address.strip_prefix('@') {
        Some(route) => route
            .split_once(':')
            .map_or(address, |(_, mailbox)| mailbox),
        None => address,
    };
    let unquoted = match address::quoted_len(address) {
        Some(len) => &address[len..],
        None if address.starts_with('"') => return None,
        None => address,
    };
    if has_control(address) || unquoted.contains(' ') || address.len() > 1024 {
        return None;
    }
    Some((address.to_string(), params.trim()))
}

/// Where the path ends: the first `stop` character after any quoted local
/// part (after a source route, if any).
fn path_end(text: &str, stop: impl Fn(char) -> bool) -> Option<usize> {
    let start = if text.starts_with('@') {
        text.find(':').map_or(0, |colon| colon + 1)
    } else {
        0
    };
    let skip = address::quoted_len(&text[start..]).map_or(0, |len| start + len);
    text[skip..].find(stop).map(|i| skip + i)
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn parse_mail_params(text: &str) -> Result<MailParams, Reply> {
    let mut params = MailParams::default();
    for param in text.split_whitespace() {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Reply::syntax("Bad SIZE parameter"));
                }
                // A size too large for usize is simply too large (552 later).
                params.size = Some(value.parse().unwrap_or(usize::MAX));
            }
            "BODY" => {
                params.body = match value.to_ascii_uppercase().as_str() {
                    "7BIT" => BodyType::SevenBit,
                    "8BITMIME" => BodyType::EightBitMime,
                    "BINARYMIME" => BodyType::BinaryMime,
                    _ => return Err(Reply::syntax("Unsupported BODY type")),
                }
            }
            "SMTPUTF8" if value.is_empty() => params.smtputf8 = true,
            // AUTH= (RFC 4954) is accepted and recorded; it means nothing to a catcher.
            "AUTH" => {}
            _ => {
                return Err(Reply::new(
                    555,
                    format!("5.5.4 Unsupported parameter {key}"),
                ));
            }
        }
        if has_control(param) {
            return Err(Reply::syntax("Invalid parameter"));
        }
        params.raw.push(param.to_string());
    }
    Ok(params)
}

fn parse_bdat(args: &str) -> Result<Command, Reply> {
    let mut words = args.split_whitespace();
    let size = words
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Reply::syntax("Syntax: BDAT size [LAST]"))?;
    let last = match words.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(Reply::syntax("Syntax: BDAT size [LAST]")),
    };
    if words.next().is_some() {
        return Err(Reply::syntax("Syntax: BDAT size [LAST]"));
    }
    Ok(Command::Bdat { size, last })
}

fn parse_auth(args: &str) -> Result<Command, Reply> {
    let mut words = args.split_whitespace();
    let mechanism = words
        .next()
        .ok_or_else(|| Reply::syntax("Syntax: AUTH mechanism [initial-response]"))?
        .to_ascii_uppercase();
    let initial = words.next().map(str::to_string);
    Ok(Command::Auth { mechanism, initial })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(from: &str) -> Command {
        Command::Mail {
            from: from.into(),
            params: MailParams::default(),
        }
    }

    #[test]
    fn parses_the_forms_clients_send() {
        let cases: &[(&str, Command)] = &[
            (
                "EHLO client.example",
                Command::Ehlo("client.example".into()),
            ),
            ("helo x", Command::Helo("x".into())),
            ("MAIL FROM:<a@b>", mail("a@b")),
            ("mail from: <a@b>", mail("a@b")),
            ("MAIL FROM:<>", mail("")),
            ("MAIL FROM:a@b", mail("a@b")),
            ("MAIL FROM:<@route,@x:a@b>", mail("a@b")),
            ("MAIL FROM:<\"odd user\"@b>", mail("\"odd user\"@b")),
            (
                "MAIL FROM:<\"odd sender\"@example.com>",
                mail("\"odd sender\"@example.com"),
            ),
            ("MAIL FROM:<\"a>b\"@c>", mail("\"a>b\"@c")),
            (
                "RCPT TO:<\"odd user\"@example.com>",
                Command::Rcpt {
                    to: "\"odd user\"@example.com".into(),
                },
            ),
            ("RCPT TO:<c@d>", Command::Rcpt { to: "c@d".into() }),
            (
                "RCPT TO:<Postmaster>",
                Command::Rcpt {
                    to: "Postmaster".into(),
                },
            ),
            (
                "BDAT 10 LAST",
                Command::Bdat {
                    size: 10,
                    last: true,
                },
            ),
            (
                "BDAT 0",
                Command::Bdat {
                    size: 0,
                    last: false,
                },
            ),
            (
                "AUTH plain dGVzdA==",
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial: Some("dGVzdA==".into()),
                },
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(&Command::parse(line).unwrap(), expected, "{line}");
        }
    }

    #[test]
    fn parses_mail_parameters() {
        let Command::Mail { params, .. } =
            Command::parse("MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME SMTPUTF8").unwrap()
        else {
            panic!("not MAIL")
        };
        assert_eq!(params.size, Some(1000));
        assert_eq!(params.body, BodyType::EightBitMime);
        assert!(params.smtputf8);
        assert_eq!(params.raw, ["SIZE=1000", "BODY=8BITMIME", "SMTPUTF8"]);
    }

    #[test]
    fn rejects_bad_input_with_the_right_code() {
        let cases: &[(&str, u16)] = &[
            ("FROB", 500),
            ("EHLO", 501),
            ("MAIL TO:<a@b>", 501),
            ("MAIL FROM:<a\rb@c>", 501),
            ("MAIL FROM:<a@b> SIZE=x", 501),
            ("MAIL FROM:<a@b> BODY=9BIT", 501),
            ("MAIL FROM:<a@b> RET=FULL", 555),
            ("RCPT TO:<>", 501),
            ("RCPT TO:<odd user@example.com>", 501),
            ("RCPT TO:<\"open@example.com>", 501),
            ("RCPT TO:<a\0b>", 501),
            ("DATA now", 501),
            ("BDAT x", 501),
            ("BDAT 1 FIRST", 501),
            ("AUTH", 501),
        ];
        for (line, code) in cases {
            assert_eq!(Command::parse(line).unwrap_err().code, *code, "{line:?}");
        }
    }
}
