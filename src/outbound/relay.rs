//! The relay target: the SMTP server released messages go to, read from
//! `--smtp-relay-config` (Mailpit's YAML keys), and the recipient rules
//! that guard it.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;

/// How the client logs in to the relay.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Auth {
    None,
    Plain {
        username: String,
        password: String,
    },
    Login {
        username: String,
        password: String,
    },
    /// CRAM-MD5 (RFC 2195), with Mailpit's `secret` (or `password`).
    CramMd5 {
        username: String,
        secret: String,
    },
}

/// Where and how released messages are sent.
#[derive(Clone, Debug)]
pub(crate) struct RelayTarget {
    pub host: String,
    pub port: u16,
    /// Upgrade with STARTTLS (required: a server without it is refused).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub starttls: bool,
    /// Implicit TLS from the first byte (SMTPS).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub tls: bool,
    /// Accept any certificate (self-signed test servers).
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub allow_insecure: bool,
    pub login: Auth,
    /// The envelope sender for every release, instead of the message's own.
    pub return_path: Option<String>,
    /// Replaces the From header (the original goes to `X-Original-From`).
    pub override_from: Option<String>,
    pub allowed: Option<Regex>,
    pub blocked: Option<Regex>,
}

/// The YAML file as Mailpit documents it. Unknown keys are refused so a
/// misspelt key is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
struct RelayFile {
    host: String,
    port: Option<u16>,
    starttls: bool,
    tls: bool,
    allow_insecure: bool,
    auth: String,
    username: String,
    password: String,
    /// CRAM-MD5's secret (Mailpit's key; `password` is taken too).
    secret: String,
    return_path: String,
    override_from: String,
    allowed_recipients: String,
    /// Mailpit's older name for `allowed-recipients`.
    recipient_allowlist: String,
    blocked_recipients: String,
    /// Accepted for Mailpit's files: mailcatch always keeps Message-IDs.
    preserve_message_ids: bool,
    /// Accepted for Mailpit's files: only auto-relay would use it.
    #[serde(rename = "forward-smtp-errors")]
    forward_smtp_errors: bool,
}

impl RelayTarget {
    /// Reads and checks `--smtp-relay-config`.
    pub(crate) fn load(path: &Path) -> Result<RelayTarget, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--smtp-relay-config {}: {e}", path.display()))?;
        RelayTarget::parse(&text)
            .map_err(|e| format!("--smtp-relay-config {}: {e}", path.display()))
    }

    pub(crate) fn parse(yaml: &str) -> Result<RelayTarget, String> {
        RelayTarget::check(serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?)
    }

    /// Mailpit's `MP_SMTP_RELAY_*` variables: `None` without
    /// `MP_SMTP_RELAY_HOST`. `MP_SMTP_RELAY_CONFIG`, `_ALL` and `_MATCHING`
    /// are flags' variables, not file keys, and are skipped.
    pub(crate) fn from_env(vars: &[(String, String)]) -> Result<Option<RelayTarget>, String> {
        const FLAGS: [&str; 3] = ["config", "all", "matching"];
        let mut map = serde_json::Map::new();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("MP_SMTP_RELAY_") else {
                continue;
            };
            let key = key.to_ascii_lowercase().replace('_', "-");
            if FLAGS.contains(&key.as_str()) {
                continue;
            }
            let key = if key == "fwd-smtp-errors" {
                "forward-smtp-errors".into()
            } else {
                key
            };
            let value = match key.as_str() {
                "starttls"
                | "tls"
                | "allow-insecure"
                | "preserve-message-ids"
                | "forward-smtp-errors" => serde_json::Value::Bool(matches!(
                    value.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )),
                "port" => serde_json::Value::from(
                    value
                        .trim()
                        .parse::<u16>()
                        .map_err(|_| format!("{name}: {value:?} is not a port"))?,
                ),
                _ => serde_json::Value::String(value.clone()),
            };
            map.insert(key, value);
        }
        if !map.contains_key("host") {
            return Ok(None);
        }
        let file = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| format!("MP_SMTP_RELAY_*: {e}"))?;
        RelayTarget::check(file)
            .map(Some)
            .map_err(|e| format!("MP_SMTP_RELAY_*: {e}"))
    }

    fn check(file: RelayFile) -> Result<RelayTarget, String> {
        let _ = (file.preserve_message_ids, file.forward_smtp_errors);
        if file.host.trim().is_empty() {
            return Err("host is required".into());
        }
        if file.starttls && file.tls {
            return Err("starttls and tls cannot both be set".into());
        }
        if (file.starttls || file.tls) && !cfg!(feature = "tls") {
            return Err("this build has no TLS (the `tls` feature)".into());
        }
        let allowed = if file.allowed_recipients.is_empty() {
            file.recipient_allowlist
        } else {
            file.allowed_recipients
        };
        Ok(RelayTarget {
            host: file.host.trim().to_string(),
            port: file.port.unwrap_or(25),
            starttls: file.starttls,
            tls: file.tls,
            allow_insecure: file.allow_insecure,
            login: login(&file.auth, file.username, file.password, &file.secret)?,
            return_path: non_empty(file.return_path),
            override_from: non_empty(file.override_from),
            allowed: regex("allowed-recipients", &allowed)?,
            blocked: regex("blocked-recipients", &file.blocked_recipients)?,
        })
    }

    /// A target given in a request (MailHog's release), with no recipient
    /// rules of its own.
    pub(crate) fn adhoc(host: String, port: u16, login: Auth) -> RelayTarget {
        RelayTarget {
            host,
            port,
            starttls: false,
            tls: false,
            allow_insecure: false,
            login,
            return_path: None,
            override_from: None,
            allowed: None,
            blocked: None,
        }
    }

    /// `host:port`, as `/api/v1/webui` and the deliveries show it.
    pub(crate) fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Checks every recipient against the allow- and blocklists, with
    /// Mailpit's error texts.
    pub(crate) fn check_recipients(&self, recipients: &[String]) -> Result<(), String> {
        if let Some(allowed) = &self.allowed {
            let refused: Vec<&str> = recipients
                .iter()
                .filter(|r| !allowed.is_match(r))
                .map(String::as_str)
                .collect();
            if !refused.is_empty() {
                return Err(format!(
                    "Failed: Address(es) do not match the allowlist: {}",
                    refused.join(", ")
                ));
            }
        }
        if let Some(blocked) = &self.blocked {
            let refused: Vec<&str> = recipients
                .iter()
                .filter(|r| blocked.is_match(r))
                .map(String::as_str)
                .collect();
            if !refused.is_empty() {
                return Err(format!(
                    "Failed: Address(es) found on blocklist: {}",
                    refused.join(", ")
                ));
            }
        }
        Ok(())
    }
}

fn login(auth: &str, username: String, password: String, secret: &str) -> Result<Auth, String> {
    let auth = auth.trim().to_ascii_lowercase();
    match auth.as_str() {
        "" if username.is_empty() => Ok(Auth::None),
        "none" => Ok(Auth::None),
        "" | "plain" => Ok(Auth::Plain { username, password }),
        "login" => Ok(Auth::Login { username, password }),
        "cram-md5" => Ok(Auth::CramMd5 {
            username,
            secret: if secret.is_empty() {
                password
            } else {
                secret.to_string()
            },
        }),
        other => Err(format!(
            "unknown auth {other:?}: use none, plain, login or cram-md5"
        )),
    }
}

fn non_empty(value: String) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn regex(key: &str, pattern: &str) -> Result<Option<Regex>, String> {
    if pattern.trim().is_empty() {
        return Ok(None);
    }
    Regex::new(pattern)
        .map(Some)
        .map_err(|e| format!("{key}: invalid regex: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mailpits_keys() {
        let target = RelayTarget::parse(
            "host: smtp.example.com\nport: 587\nauth: login\nusername: u\npassword: p\n\
             allowed-recipients: '@example\\.com$'\nblocked-recipients: '^no@'\n\
             return-path: bounce@example.com\npreserve-message-ids: true\n",
        )
        .unwrap();
        assert_eq!(target.server(), "smtp.example.com:587");
        assert_eq!(
            target.login,
            Auth::Login {
                username: "u".into(),
                password: "p".into()
            }
        );
        assert_eq!(target.return_path.as_deref(), Some("bounce@example.com"));
        assert!(target.check_recipients(&["a@example.com".into()]).is_ok());
        assert_eq!(
            target
                .check_recipients(&["a@other.org".into()])
                .unwrap_err(),
            "Failed: Address(es) do not match the allowlist: a@other.org"
        );
        assert_eq!(
            target
                .check_recipients(&["no@example.com".into()])
                .unwrap_err(),
            "Failed: Address(es) found on blocklist: no@example.com"
        );
    }

    #[test]
    fn reads_mailpits_variables() {
        let vars = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(
            RelayTarget::from_env(&vars(&[("MP_SMTP_RELAY_PORT", "25")]))
                .unwrap()
                .is_none()
        );
        let target = RelayTarget::from_env(&vars(&[
            ("MP_SMTP_RELAY_HOST", "relay.test"),
            ("MP_SMTP_RELAY_PORT", "2525"),
            ("MP_SMTP_RELAY_ALLOWED_RECIPIENTS", "@example\\.com$"),
            ("MP_SMTP_RELAY_PRESERVE_MESSAGE_IDS", "true"),
            ("MP_SMTP_RELAY_ALL", "true"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(target.server(), "relay.test:2525");
        assert!(target.check_recipients(&["a@example.com".into()]).is_ok());
        assert!(
            RelayTarget::from_env(&vars(&[
                ("MP_SMTP_RELAY_HOST", "h"),
                ("MP_SMTP_RELAY_PORT", "x")
            ]))
            .is_err()
        );
    }

    #[test]
    fn refuses_bad_files() {
        assert!(
            RelayTarget::parse("port: 25\n")
                .unwrap_err()
                .contains("host")
        );
        assert!(RelayTarget::parse("host: h\nhots: x\n").is_err());
        assert_eq!(
            RelayTarget::parse("host: h\nauth: cram-md5\nusername: u\nsecret: s\n")
                .unwrap()
                .login,
            Auth::CramMd5 {
                username: "u".into(),
                secret: "s".into()
            }
        );
        assert!(RelayTarget::parse("host: h\nauth: digest-md5\n").is_err());
        assert!(RelayTarget::parse("host: h\nallowed-recipients: '('\n").is_err());
        assert!(
            RelayTarget::parse("host: h\nstarttls: true\ntls: true\n")
                .unwrap_err()
                .contains("both")
        );
    }
}
