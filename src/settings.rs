//! Settings resolved once: every option is checked, and every file it names
//! read, here, before anything binds. The SMTP and HTTP sides take the
//! resolved pieces and only open sockets, so a bad combination of flags or
//! an unreadable file stops start-up with one clear error and never leaves
//! half a server listening.

use std::fmt;
use std::sync::Arc;

use crate::chaos::{Chaos, Triggers};
use crate::check::spamd::SpamdAddress;
use crate::config::{Config, HttpConfig, Pop3Config, SmtpConfig};
use crate::credentials::Credentials;
use crate::http::cors::CorsPolicy;
use crate::http::host::AllowedHosts;
use crate::http::webroot::Webroot;
use crate::listen::Listen;
use crate::running::StartError;
use crate::smtp::auth::AuthMode;
use crate::store::{Engine, StoreLimits};
use crate::tls::{self, CertSource};

/// The configuration as given, and what was resolved from it.
pub struct Settings {
    /// Every flag, as given.
    pub config: Config,
    /// Chaos, with the `--chaos-triggers` it started with; the API changes
    /// the triggers at run time.
    pub chaos: Arc<Chaos>,
    /// The certificate for STARTTLS and SMTPS, loaded or generated.
    pub(crate) smtp_tls: Option<tls::Acceptor>,
    pub(crate) smtp_auth: AuthMode,
    /// `None` when the UI and API are open.
    pub(crate) http_credentials: Option<Credentials>,
    pub(crate) cors: CorsPolicy,
    /// Who may log in to POP3; `Some` exactly when `--pop3` is given.
    pub(crate) pop3_credentials: Option<Credentials>,
    /// The POP3 certificate, when `--pop3-tls-cert` is given.
    pub(crate) pop3_tls: Option<tls::Acceptor>,
    /// Where `/metrics` is served, if anywhere.
    pub(crate) prometheus: crate::http::metrics::Prometheus,
    /// Where messages are kept, and the caps on them.
    pub(crate) engine: Engine,
    pub(crate) limits: StoreLimits,
    /// Where spamd listens, when `--enable-spamassassin` is given.
    pub(crate) spamd: Option<SpamdAddress>,
    /// `--webroot`, normalised.
    pub(crate) webroot: Arc<Webroot>,
    /// `--allowed-hosts`; empty when any Host is fine.
    pub(crate) allowed_hosts: Arc<AllowedHosts>,
}

impl Settings {
    /// Checks every option and loads what they name: the chaos triggers,
    /// the SMTP certificate, the SMTP and UI credentials, the CORS origins,
    /// the storage engine and its caps.
    pub fn resolve(config: Config) -> Result<Settings, StartError> {
        let chaos = Arc::new(chaos(&config.smtp)?);
        let smtp_tls = smtp_tls(&config.smtp)?;
        check_tls_options(&config.smtp, smtp_tls.is_some())?;
        let smtp_auth = smtp_auth(&config.smtp)?;
        if matches!(smtp_auth, AuthMode::Credentials(_))
            && smtp_tls.is_none()
            && !config.smtp.smtp_auth_allow_insecure
        {
            return Err(StartError::Config(
                "SMTP authentication with credentials requires TLS (--smtp-tls-cert or --smtp-tls-self-signed) or --smtp-auth-allow-insecure".into(),
            ));
        }
        let http_credentials = http_credentials(&config.http)?;
        let cors = CorsPolicy::parse(config.http.api_cors.as_deref());
        check_webhook_url(config.http.webhook_url.as_deref())?;
        let pop3_credentials = pop3_credentials(&config.pop3)?;
        let pop3_tls = pop3_tls(&config.pop3)?;
        let prometheus =
            crate::http::metrics::Prometheus::parse(config.http.enable_prometheus.as_deref())
                .map_err(StartError::Config)?;
        let engine = config.engine().map_err(StartError::Config)?;
        let limits = config.store_limits();
        let spamd = spamd(config.http.enable_spamassassin.as_deref())?;
        let webroot = Arc::new(Webroot::parse(&config.http.webroot).map_err(StartError::Config)?);
        let allowed_hosts = Arc::new(
            AllowedHosts::parse(config.http.allowed_hosts.as_deref())
                .map_err(StartError::Config)?,
        );
        Ok(Settings {
            webroot,
            allowed_hosts,
            spamd,
            prometheus,
            engine,
            limits,
            config,
            chaos,
            smtp_tls,
            smtp_auth,
            http_credentials,
            cors,
            pop3_credentials,
            pop3_tls,
        })
    }
}

/// `--webhook-url` must be an http(s) URL this build can call.
fn check_webhook_url(url: Option<&str>) -> Result<(), StartError> {
    let Some(url) = url else { return Ok(()) };
    let fail = |why: &str| Err(StartError::Config(format!("--webhook-url {url:?}: {why}")));
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return fail("not a URL");
    };
    match parsed.scheme() {
        "http" => Ok(()),
        "https" if cfg!(feature = "tls") => Ok(()),
        "https" => fail("https needs the `tls` feature"),
        _ => fail("only http and https are supported"),
    }
}

/// `--enable-spamassassin`: spamd's address, checked for form only (spamd
/// may start after mailcatch; a check while it is down answers an error).
fn spamd(value: Option<&str>) -> Result<Option<SpamdAddress>, StartError> {
    value
        .map(|value| {
            SpamdAddress::parse(value)
                .map_err(|why| StartError::Config(format!("--enable-spamassassin: {why}")))
        })
        .transpose()
}

/// `--chaos-triggers` implies `--enable-chaos`.
fn chaos(config: &SmtpConfig) -> Result<Chaos, StartError> {
    Ok(match config.chaos_triggers.as_deref() {
        Some(spec) => Chaos::new(
            true,
            Chaos::parse_triggers(spec).map_err(StartError::Config)?,
        ),
        None => Chaos::new(config.enable_chaos, Triggers::default()),
    })
}

fn smtp_tls(config: &SmtpConfig) -> Result<Option<tls::Acceptor>, StartError> {
    let source = CertSource::from_options(
        config.smtp_tls_cert.as_deref(),
        config.smtp_tls_key.as_deref(),
        config.smtp_tls_self_signed,
    )?;
    Ok(match source {
        Some(source) => Some(tls::acceptor(&source)?),
        None => None,
    })
}

fn check_tls_options(config: &SmtpConfig, have_tls: bool) -> Result<(), StartError> {
    let fail = |text: &str| Err(StartError::Config(text.into()));
    if config.smtp_require_tls && config.smtp_require_starttls {
        return fail("--smtp-require-tls and --smtp-require-starttls cannot be combined");
    }
    // A Unix socket is local: TLS on it would protect nothing, so it has none.
    if matches!(config.bind, Listen::Unix(_))
        && (config.smtp_require_tls || config.smtp_require_starttls)
    {
        return fail(
            "--smtp on a Unix socket has no TLS: drop --smtp-require-tls / --smtp-require-starttls (use --smtps for an implicit-TLS TCP listener)",
        );
    }
    if !have_tls
        && (config.smtp_require_tls || config.smtp_require_starttls || config.smtps_bind.is_some())
    {
        return fail(
            "TLS options need a certificate: --smtp-tls-cert and --smtp-tls-key, or --smtp-tls-self-signed",
        );
    }
    Ok(())
}

/// Off, accept-any, or the pairs of `--smtp-auth-file` and `--smtp-auth`
/// together; naming credentials and yielding none is an error.
fn smtp_auth(config: &SmtpConfig) -> Result<AuthMode, StartError> {
    let mut credentials = Credentials::default();
    if let Some(path) = &config.smtp_auth_file {
        credentials.extend(
            Credentials::read(path)
                .map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?,
        );
    }
    if let Some(list) = &config.smtp_auth {
        credentials.extend(Credentials::parse(list));
    }
    match (config.smtp_auth_accept_any, credentials.is_empty()) {
        (true, false) => Err(StartError::Config(
            "--smtp-auth-accept-any cannot be combined with SMTP credentials".into(),
        )),
        (true, true) => Ok(AuthMode::AcceptAny),
        (false, false) => Ok(AuthMode::Credentials(credentials)),
        (false, true) if config.smtp_auth_file.is_some() || config.smtp_auth.is_some() => Err(
            StartError::Config("no valid user:password pairs in the SMTP credentials".into()),
        ),
        (false, true) => Ok(AuthMode::Off),
    }
}

/// The UI credentials; `None` when auth is off. An unreadable
/// `--ui-auth-file`, or one with no pairs, is a start-up error rather than
/// a silently open server.
fn http_credentials(config: &HttpConfig) -> Result<Option<Credentials>, StartError> {
    let mut credentials = Credentials::default();
    if let Some(path) = &config.ui_auth_file {
        let from_file = Credentials::read(path)
            .map_err(|e| StartError::Config(format!("--ui-auth-file {}: {e}", path.display())))?;
        if from_file.is_empty() {
            return Err(StartError::Config(format!(
                "--ui-auth-file {}: no user:password lines",
                path.display()
            )));
        }
        credentials.extend(from_file);
    }
    if let Some(list) = &config.ui_auth {
        credentials.extend(Credentials::parse(list));
    }
    Ok((!credentials.is_empty()).then_some(credentials))
}

/// The POP3 users, when POP3 is on. `--pop3` without `--pop3-auth-file`
/// is an error, as in Mailpit: a POP3 server anyone could empty is never
/// started by accident. An unreadable file, or one with no pairs, is too.
fn pop3_credentials(config: &Pop3Config) -> Result<Option<Credentials>, StartError> {
    if config.bind.is_none() {
        return Ok(None);
    }
    let Some(path) = &config.auth_file else {
        return Err(StartError::Config("--pop3 needs --pop3-auth-file".into()));
    };
    let credentials = Credentials::read(path)
        .map_err(|e| StartError::Config(format!("--pop3-auth-file {}: {e}", path.display())))?;
    if credentials.is_empty() {
        return Err(StartError::Config(format!(
            "--pop3-auth-file {}: no user:password lines",
            path.display()
        )));
    }
    Ok(Some(credentials))
}

/// The POP3 certificate: Mailpit's `--pop3-tls-cert` and `--pop3-tls-key`
/// (or a `sans:` self-signed one, as for SMTP).
fn pop3_tls(config: &Pop3Config) -> Result<Option<tls::Acceptor>, StartError> {
    let fail = |text: &str| Err(StartError::Config(text.into()));
    let cert = config.tls_cert.as_deref().filter(|c| !c.is_empty());
    match (cert, &config.tls_key) {
        (None, None) if config.stls => fail("--pop3-stls needs --pop3-tls-cert"),
        (None, None) => Ok(None),
        (None, Some(_)) => fail("--pop3-tls-key needs --pop3-tls-cert"),
        (Some(c), None) if !c.starts_with("sans:") => fail("--pop3-tls-cert needs --pop3-tls-key"),
        (Some(cert), key) => {
            let source = CertSource::from_options(Some(cert), key.as_deref(), false)?
                .expect("a certificate was given");
            Ok(Some(tls::acceptor(&source)?))
        }
    }
}

/// Shows what was resolved, never a password (so not the `Config`, whose
/// `--smtp-auth` and `--ui-auth` hold them in plain text).
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("chaos", &self.chaos)
            .field("smtp_tls", &self.smtp_tls.is_some())
            .field("smtp_auth", &self.smtp_auth)
            .field("http_credentials", &self.http_credentials)
            .field("cors", &self.cors)
            .field("pop3_credentials", &self.pop3_credentials)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn resolve(change: impl FnOnce(&mut Config)) -> Result<Settings, StartError> {
        let mut config = Config::ephemeral();
        change(&mut config);
        Settings::resolve(config)
    }

    fn refusal(change: impl FnOnce(&mut Config)) -> String {
        match resolve(change) {
            Ok(settings) => panic!("accepted: {settings:?}"),
            Err(error) => error.to_string(),
        }
    }

    /// A file in the temp directory, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> TempFile {
            let path = std::env::temp_dir()
                .join(format!("mailcatch-settings-{}-{name}", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn defaults_resolve_to_everything_off() {
        let settings = resolve(|_| {}).unwrap();
        assert!(settings.smtp_tls.is_none());
        assert!(matches!(settings.smtp_auth, AuthMode::Off));
        assert!(settings.http_credentials.is_none());
        assert!(!settings.cors.is_enabled());
        assert!(!settings.chaos.is_enabled());
    }

    #[test]
    fn tls_options_need_a_certificate_and_do_not_combine() {
        let needs = "TLS options need a certificate";
        assert!(refusal(|c| c.smtp.smtp_require_tls = true).contains(needs));
        assert!(refusal(|c| c.smtp.smtp_require_starttls = true).contains(needs));
        assert!(
            refusal(|c| c.smtp.smtps_bind = Some("127.0.0.1:0".parse().unwrap())).contains(needs)
        );
        let both = refusal(|c| {
            c.smtp.smtp_tls_self_signed = true;
            c.smtp.smtp_require_tls = true;
            c.smtp.smtp_require_starttls = true;
        });
        assert!(both.contains("cannot be combined"), "{both}");
        assert!(refusal(|c| c.smtp.smtp_tls_cert = Some("cert.pem".into())).contains("its key"));
        assert!(
            refusal(|c| c.smtp.smtp_tls_key = Some("key.pem".into())).contains("its certificate")
        );
        let missing = refusal(|c| {
            c.smtp.smtp_tls_cert = Some("/nonexistent/cert.pem".into());
            c.smtp.smtp_tls_key = Some("/nonexistent/key.pem".into());
        });
        assert!(
            missing.starts_with("TLS: /nonexistent/cert.pem"),
            "{missing}"
        );

        let settings = resolve(|c| {
            c.smtp.smtp_tls_cert = Some("sans:mail.test".into());
            c.smtp.smtp_require_starttls = true;
        })
        .unwrap();
        assert!(settings.smtp_tls.is_some());
    }

    #[test]
    fn smtp_credentials_need_tls_unless_allowed_insecure() {
        let refused = refusal(|c| c.smtp.smtp_auth = Some("alice:secret".into()));
        assert!(refused.contains("requires TLS"), "{refused}");
        let settings = resolve(|c| {
            c.smtp.smtp_auth = Some("alice:secret".into());
            c.smtp.smtp_auth_allow_insecure = true;
        })
        .unwrap();
        let AuthMode::Credentials(credentials) = &settings.smtp_auth else {
            panic!("expected credentials, got {:?}", settings.smtp_auth)
        };
        assert!(credentials.check("alice", "secret"));
        let settings = resolve(|c| {
            c.smtp.smtp_auth = Some("alice:secret".into());
            c.smtp.smtp_tls_self_signed = true;
        })
        .unwrap();
        assert!(matches!(settings.smtp_auth, AuthMode::Credentials(_)));
        // Accept-any needs no TLS.
        let settings = resolve(|c| c.smtp.smtp_auth_accept_any = true).unwrap();
        assert!(matches!(settings.smtp_auth, AuthMode::AcceptAny));
    }

    #[test]
    fn smtp_credentials_come_from_file_and_list_and_must_exist() {
        let file = TempFile::new("smtp-auth", "# users\nfile-user:file-pass\n");
        let settings = resolve(|c| {
            c.smtp.smtp_auth_file = Some(file.0.clone());
            c.smtp.smtp_auth = Some("list-user:list-pass".into());
            c.smtp.smtp_auth_allow_insecure = true;
        })
        .unwrap();
        let AuthMode::Credentials(credentials) = &settings.smtp_auth else {
            panic!("expected credentials")
        };
        assert!(credentials.check("file-user", "file-pass"));
        assert!(credentials.check("list-user", "list-pass"));

        let conflict = refusal(|c| {
            c.smtp.smtp_auth = Some("alice:secret".into());
            c.smtp.smtp_auth_accept_any = true;
        });
        assert!(conflict.contains("cannot be combined"), "{conflict}");
        let empty = refusal(|c| c.smtp.smtp_auth = Some("no-colon".into()));
        assert!(empty.contains("no valid user:password pairs"), "{empty}");
        let missing = refusal(|c| c.smtp.smtp_auth_file = Some("/nonexistent/users".into()));
        assert!(
            missing.starts_with("configuration: /nonexistent/users"),
            "{missing}"
        );
    }

    #[test]
    fn ui_credentials_come_from_file_and_list_and_must_exist() {
        let file = TempFile::new("ui-auth", "file-user:file-pass\n");
        let settings = resolve(|c| {
            c.http.ui_auth_file = Some(file.0.clone());
            c.http.ui_auth = Some("env-user:env-pass".into());
        })
        .unwrap();
        let credentials = settings.http_credentials.unwrap();
        assert!(credentials.check("file-user", "file-pass"));
        assert!(credentials.check("env-user", "env-pass"));
        assert!(!credentials.check("file-user", "env-pass"));

        let missing = refusal(|c| c.http.ui_auth_file = Some("/nonexistent/users".into()));
        assert!(
            missing.contains("--ui-auth-file /nonexistent/users"),
            "{missing}"
        );
        let blank = TempFile::new("ui-auth-blank", "# nobody\n");
        let empty = refusal(|c| c.http.ui_auth_file = Some(blank.0.clone()));
        assert!(empty.contains("no user:password lines"), "{empty}");
    }

    #[test]
    fn pop3_needs_an_auth_file_with_users() {
        let settings = resolve(|_| {}).unwrap();
        assert!(
            settings.pop3_credentials.is_none(),
            "POP3 is off by default"
        );
        let bind = || Some("127.0.0.1:0".parse().unwrap());
        let refused = refusal(|c| c.pop3.bind = bind());
        assert!(
            refused.contains("--pop3 needs --pop3-auth-file"),
            "{refused}"
        );
        let missing = refusal(|c| {
            c.pop3.bind = bind();
            c.pop3.auth_file = Some("/nonexistent/users".into());
        });
        assert!(
            missing.contains("--pop3-auth-file /nonexistent/users"),
            "{missing}"
        );
        let blank = TempFile::new("pop3-auth-blank", "# nobody\n");
        let empty = refusal(|c| {
            c.pop3.bind = bind();
            c.pop3.auth_file = Some(blank.0.clone());
        });
        assert!(empty.contains("no user:password lines"), "{empty}");
        let file = TempFile::new("pop3-auth", "alice:secret\n");
        let settings = resolve(|c| {
            c.pop3.bind = bind();
            c.pop3.auth_file = Some(file.0.clone());
        })
        .unwrap();
        assert!(settings.pop3_credentials.unwrap().check("alice", "secret"));
    }

    #[test]
    fn chaos_triggers_are_parsed_and_imply_enabled() {
        let settings = resolve(|c| c.smtp.chaos_triggers = Some("Sender:451:100".into())).unwrap();
        assert!(settings.chaos.is_enabled());
        assert_eq!(settings.chaos.triggers().sender.probability, 100);
        assert!(
            resolve(|c| c.smtp.enable_chaos = true)
                .unwrap()
                .chaos
                .is_enabled()
        );
        let bad = refusal(|c| c.smtp.chaos_triggers = Some("Bogus:451:1".into()));
        assert!(bad.contains("unknown chaos trigger"), "{bad}");
    }

    #[test]
    fn spamassassin_takes_an_address() {
        assert_eq!(resolve(|_| {}).unwrap().spamd, None);
        let settings =
            resolve(|c| c.http.enable_spamassassin = Some("127.0.0.1:783".into())).unwrap();
        assert_eq!(
            settings.spamd,
            Some(SpamdAddress::Tcp("127.0.0.1:783".into()))
        );
        let bad = refusal(|c| c.http.enable_spamassassin = Some("postmark".into()));
        assert!(bad.contains("--enable-spamassassin"), "{bad}");
    }

    #[test]
    fn cors_is_resolved() {
        let settings = resolve(|c| c.http.api_cors = Some("example.com:3000".into())).unwrap();
        assert!(settings.cors.is_enabled());
    }
}
