//! SMTP AUTH (RFC 4954): the PLAIN, LOGIN and CRAM-MD5 exchanges, as a small
//! state machine the session drives one client line at a time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};

use subtle::ConstantTimeEq;

use crate::credentials::Credentials;
pub use crate::store::mailbox::MailboxKeys;

/// How the server treats AUTH.
#[derive(Clone, Debug, Default)]
pub enum AuthMode {
    /// AUTH is not offered.
    #[default]
    Off,
    /// Any username and password are accepted; AUTH is optional.
    AcceptAny,
    /// Only these pairs; AUTH is required before MAIL.
    Credentials(Credentials),
}

/// Decides logins: the configured [`AuthMode`], plus each mailbox's own
/// password (a user named after a mailbox with a password logs in only
/// with that password, whatever the mode; accept-any does not apply).
pub struct Verifier<'a> {
    /// How the server treats AUTH.
    pub mode: &'a AuthMode,
    /// The mailboxes' passwords.
    pub keys: &'a MailboxKeys,
}

impl Verifier<'_> {
    /// The mailbox the login routes to, or `None` when it is refused.
    fn check(&self, user: &str, password: &str) -> Option<String> {
        self.decide(
            user,
            |secret| secret.as_bytes() == password.as_bytes(),
            |c| c.mailboxes_of(user, password),
        )
    }

    fn check_cram_md5(&self, user: &str, challenge: &str, digest: &str) -> Option<String> {
        // The client sends the digest in hex, of either case; compared as
        // bytes, in constant time.
        let digest = hex::decode(digest).ok()?;
        let expected = |password: &str| hmac_md5(password, challenge);
        self.decide(
            user,
            |secret| bool::from(expected(secret).as_slice().ct_eq(&digest)),
            |c| {
                c.check_response(user, &digest, expected)
                    .then(|| c.mailboxes_of_user(user))
                    .flatten()
            },
        )
    }

    /// `key_matches` tests a mailbox's password, `listed` the credentials
    /// list (returning the mailboxes the entry names).
    fn decide<'c>(
        &'c self,
        user: &str,
        key_matches: impl Fn(&str) -> bool,
        listed: impl Fn(&'c Credentials) -> Option<&'c [String]>,
    ) -> Option<String> {
        let key = self.keys.password(user);
        if key.as_deref().is_some_and(&key_matches) {
            return Some(user.to_string());
        }
        match self.mode {
            AuthMode::Off => None,
            AuthMode::AcceptAny => key.is_none().then(|| user.to_string()),
            AuthMode::Credentials(credentials) => listed(credentials).map(|mailboxes| {
                mailboxes
                    .first()
                    .cloned()
                    .unwrap_or_else(|| user.to_string())
            }),
        }
    }
}

/// CRAM-MD5's digest (RFC 2195): HMAC-MD5 of the challenge, keyed with
/// the password. The relay client computes it too.
pub(crate) fn hmac_md5(key: &str, message: &str) -> [u8; 16] {
    let mut mac =
        Hmac::<md5::Md5>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The mechanisms supported, as the EHLO reply's `AUTH` line lists them.
pub const MECHANISMS: &str = "PLAIN LOGIN CRAM-MD5";

/// Where an exchange stands after a step.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthStep {
    /// Send `334 <base64 challenge>` and feed the next line.
    Challenge(String),
    /// The credentials were accepted.
    Success {
        /// The authenticated user name, recorded in the envelope.
        user: String,
        /// The mailbox the login routes mail to.
        mailbox: String,
    },
    /// The credentials were refused (the session replies 535).
    Failure,
    /// Malformed input (bad base64, wrong field count) or `*` cancel.
    Malformed(&'static str),
}

/// An exchange in progress.
#[derive(Debug)]
pub enum Exchange {
    /// PLAIN, waiting for the response the AUTH command did not carry.
    Plain,
    /// LOGIN, waiting for the user name.
    LoginUser,
    /// LOGIN, waiting for the password.
    LoginPassword {
        /// The user name already given.
        user: String,
    },
    /// CRAM-MD5, waiting for `user digest`.
    CramMd5 {
        /// The challenge sent (before base64), which the digest is of.
        challenge: String,
    },
}

impl Exchange {
    /// Begins an exchange. `nonce` makes the CRAM-MD5 challenge unique; it
    /// comes from outside so the session stays free of clocks and randomness.
    pub fn start(
        mechanism: &str,
        initial: Option<&str>,
        mode: &Verifier<'_>,
        nonce: &str,
        hostname: &str,
    ) -> Result<(Option<Exchange>, AuthStep), &'static str> {
        match mechanism {
            "PLAIN" => match initial {
                Some(response) => Ok((None, Exchange::Plain.step(response, mode))),
                None => Ok((Some(Exchange::Plain), AuthStep::Challenge(String::new()))),
            },
            "LOGIN" => match initial {
                Some(user) => {
                    let mut exchange = Exchange::LoginUser;
                    let step = exchange.advance(user, mode);
                    Ok((Some(exchange), step))
                }
                None => Ok((
                    Some(Exchange::LoginUser),
                    AuthStep::Challenge(BASE64.encode("Username:")),
                )),
            },
            "CRAM-MD5" if initial.is_none() => {
                let challenge = format!("<{nonce}@{hostname}>");
                let encoded = BASE64.encode(&challenge);
                Ok((
                    Some(Exchange::CramMd5 { challenge }),
                    AuthStep::Challenge(encoded),
                ))
            }
            "CRAM-MD5" => Err("CRAM-MD5 takes no initial response"),
            _ => Err("Unsupported authentication mechanism"),
        }
    }

    /// Feeds one client line; a `Challenge` result means the exchange goes on
    /// (in `self`, mutated), anything else ends it.
    pub fn advance(&mut self, line: &str, mode: &Verifier<'_>) -> AuthStep {
        match std::mem::replace(self, Exchange::Plain) {
            Exchange::Plain => Exchange::Plain.step(line, mode),
            Exchange::LoginUser => match decode(line) {
                Ok(user) => {
                    *self = Exchange::LoginPassword { user };
                    AuthStep::Challenge(BASE64.encode("Password:"))
                }
                Err(step) => step,
            },
            Exchange::LoginPassword { user } => match decode(line) {
                Ok(password) => match mode.check(&user, &password) {
                    Some(mailbox) => AuthStep::Success { user, mailbox },
                    None => AuthStep::Failure,
                },
                Err(step) => step,
            },
            Exchange::CramMd5 { challenge } => match decode(line) {
                Ok(response) => match response.rsplit_once(' ') {
                    Some((user, digest)) => match mode.check_cram_md5(user, &challenge, digest) {
                        Some(mailbox) => AuthStep::Success {
                            user: user.to_string(),
                            mailbox,
                        },
                        None => AuthStep::Failure,
                    },
                    None => AuthStep::Malformed("CRAM-MD5 response must be 'user digest'"),
                },
                Err(step) => step,
            },
        }
    }

    /// PLAIN: `authzid NUL authcid NUL password`.
    fn step(&self, line: &str, mode: &Verifier<'_>) -> AuthStep {
        let decoded = match decode(line) {
            Ok(text) => text,
            Err(step) => return step,
        };
        let fields: Vec<&str> = decoded.split('\0').collect();
        let [_authzid, user, password] = fields[..] else {
            return AuthStep::Malformed("PLAIN response must be authzid NUL user NUL password");
        };
        match mode.check(user, password) {
            Some(mailbox) => AuthStep::Success {
                user: user.to_string(),
                mailbox,
            },
            None => AuthStep::Failure,
        }
    }
}

fn decode(line: &str) -> Result<String, AuthStep> {
    let line = line.trim();
    if line == "*" {
        return Err(AuthStep::Malformed("Authentication cancelled"));
    }
    // An empty response is valid base64 for an empty string (`=`).
    let bytes = if line == "=" {
        Vec::new()
    } else {
        BASE64
            .decode(line)
            .map_err(|_| AuthStep::Malformed("Invalid base64 data"))?
    };
    String::from_utf8(bytes).map_err(|_| AuthStep::Malformed("Credentials are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(mode: AuthMode, keys: MailboxKeys) -> Verifier<'static> {
        Verifier {
            mode: Box::leak(Box::new(mode)),
            keys: Box::leak(Box::new(keys)),
        }
    }

    fn creds() -> Verifier<'static> {
        verifier(
            AuthMode::Credentials(Credentials::parse("alice:secret")),
            MailboxKeys::default(),
        )
    }

    fn alice() -> AuthStep {
        AuthStep::Success {
            user: "alice".into(),
            mailbox: "alice".into(),
        }
    }

    #[test]
    fn mailbox_passwords_route_and_override_accept_any() {
        let keys = MailboxKeys::default();
        keys.set("ci-1", "key");
        let any = verifier(AuthMode::AcceptAny, keys.clone());
        assert_eq!(any.check("CI-1", "key").as_deref(), Some("CI-1"));
        assert_eq!(
            any.check("ci-1", "wrong"),
            None,
            "a keyed name needs its key"
        );
        assert_eq!(any.check("other", "x").as_deref(), Some("other"));
        let off = verifier(AuthMode::Off, keys.clone());
        assert_eq!(off.check("ci-1", "key").as_deref(), Some("ci-1"));
        assert_eq!(off.check("other", "x"), None);
        let listed = verifier(
            AuthMode::Credentials(Credentials::parse("app:pw:inbox-a,inbox-b")),
            keys,
        );
        assert_eq!(listed.check("app", "pw").as_deref(), Some("inbox-a"));
        let challenge = "<1@h>";
        let digest = hex::encode(hmac_md5("pw", challenge));
        assert_eq!(
            listed.check_cram_md5("app", challenge, &digest).as_deref(),
            Some("inbox-a")
        );
        let digest = hex::encode(hmac_md5("key", challenge));
        assert_eq!(
            listed.check_cram_md5("ci-1", challenge, &digest).as_deref(),
            Some("ci-1")
        );
    }

    #[test]
    fn plain_with_initial_response() {
        let good = BASE64.encode("\0alice\0secret");
        let bad = BASE64.encode("\0alice\0wrong");
        let (_, step) = Exchange::start("PLAIN", Some(&good), &creds(), "n", "h").unwrap();
        assert_eq!(step, alice());
        let (_, step) = Exchange::start("PLAIN", Some(&bad), &creds(), "n", "h").unwrap();
        assert_eq!(step, AuthStep::Failure);
    }

    #[test]
    fn login_exchange() {
        let (exchange, step) = Exchange::start("LOGIN", None, &creds(), "n", "h").unwrap();
        assert_eq!(step, AuthStep::Challenge(BASE64.encode("Username:")));
        let mut exchange = exchange.unwrap();
        assert!(matches!(
            exchange.advance(&BASE64.encode("alice"), &creds()),
            AuthStep::Challenge(_)
        ));
        assert_eq!(
            exchange.advance(&BASE64.encode("secret"), &creds()),
            alice()
        );
    }

    #[test]
    fn cram_md5_exchange() {
        let (exchange, AuthStep::Challenge(encoded)) =
            Exchange::start("CRAM-MD5", None, &creds(), "123.456", "mailcatch").unwrap()
        else {
            panic!("expected a challenge")
        };
        let challenge = String::from_utf8(BASE64.decode(encoded).unwrap()).unwrap();
        assert_eq!(challenge, "<123.456@mailcatch>");
        let digest = hex::encode(hmac_md5("secret", &challenge));
        let response = BASE64.encode(format!("alice {digest}"));
        let mut exchange = exchange.unwrap();
        assert_eq!(exchange.advance(&response, &creds()), alice());
        // Upper-case hex is the same digest; a wrong one, another user's
        // name or non-hex fail.
        let mode = creds();
        assert!(
            mode.check_cram_md5("alice", &challenge, &digest.to_uppercase())
                .is_some()
        );
        assert!(
            mode.check_cram_md5(
                "alice",
                &challenge,
                &hex::encode(hmac_md5("wrong", &challenge))
            )
            .is_none()
        );
        assert!(mode.check_cram_md5("bob", &challenge, &digest).is_none());
        assert!(mode.check_cram_md5("alice", &challenge, "zz").is_none());
    }

    #[test]
    fn cancel_and_garbage() {
        let (exchange, _) = Exchange::start("PLAIN", None, &creds(), "n", "h").unwrap();
        assert!(matches!(
            exchange.unwrap().advance("*", &creds()),
            AuthStep::Malformed(_)
        ));
        let (_, step) = Exchange::start("PLAIN", Some("!!!"), &creds(), "n", "h").unwrap();
        assert!(matches!(step, AuthStep::Malformed(_)));
        assert!(Exchange::start("GSSAPI", None, &creds(), "n", "h").is_err());
    }
}
