//! The POP3 session (RFC 1939, with CAPA from RFC 2449 and STLS from
//! RFC 2595) as a sans-IO state
//! machine: command lines go in, replies and requests for the store come
//! out. It never touches a socket or the store, so it is tested with plain
//! strings; the transport (`pop3::server`) moves the bytes and does the
//! store work it asks for.

use std::sync::Arc;

use crate::credentials::Credentials;
use crate::store::mailbox::MailboxKeys;

/// Longest command line accepted, terminator included.
pub const MAX_LINE: usize = 512;

/// Failed `PASS` commands tolerated before the connection is closed.
pub const MAX_AUTH_FAILURES: u32 = 3;

/// What every session of a server shares.
#[derive(Debug)]
pub struct SessionConfig {
    /// Who may log in.
    pub credentials: Credentials,
    /// The mailboxes' own passwords (made with the mailbox API): the
    /// mailbox's name and password log in to that mailbox.
    pub keys: MailboxKeys,
    /// Whether STLS is offered (a certificate is configured and the
    /// listener is not implicit TLS).
    pub stls: bool,
}

impl SessionConfig {
    /// The mailboxes a login reads, or `None` when it is refused. Empty
    /// when the credentials name none: the transport then decides by the
    /// user name.
    fn login(&self, user: &str, password: &str) -> Option<Vec<String>> {
        if self.keys.password(user).is_some_and(|key| key == password) {
            return Some(vec![user.to_string()]);
        }
        self.credentials
            .mailboxes_of(user, password)
            .map(<[String]>::to_vec)
    }
}

/// One message of the maildrop, as listed at login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The store's message ID, which is also its UIDL.
    pub id: String,
    /// The raw size in octets.
    pub size: usize,
}

/// What the transport must do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Write this reply (CRLF included), then read the next line.
    Reply(String),
    /// A failed login: write this reply, wait a moment (so passwords cannot
    /// be tried quickly), then read the next line.
    RejectLogin(String),
    /// Load the maildrop (the stored messages of the user's mailboxes,
    /// oldest first) and hand it to [`Session::opened`], whose reply is
    /// written.
    OpenMaildrop {
        /// Who logged in.
        user: String,
        /// The mailboxes the login names; empty when it names none.
        mailboxes: Vec<String>,
    },
    /// Send a message: fetch the raw bytes of message `id` and write
    /// [`render`] of them, or [`NO_LONGER_STORED`] if it is gone.
    Send {
        /// The store's message ID.
        id: String,
        /// `None` for RETR; `Some(n)` for TOP: the header and n body lines.
        top: Option<usize>,
    },
    /// QUIT in the TRANSACTION state: delete these messages through the
    /// store, write [`Session::updated`]'s reply, then close.
    Update(Vec<String>),
    /// Write this reply, then close the connection.
    Close(String),
    /// STLS: write this reply, then negotiate TLS and go on over it (call
    /// [`Session::tls_started`]); input the client sent before the
    /// handshake is refused.
    StartTls(String),
}

/// The reply when a message of the maildrop was deleted meanwhile by
/// another client (the API, the UI, or eviction).
pub const NO_LONGER_STORED: &str = "-ERR message no longer stored\r\n";

/// The reply to a command line longer than [`MAX_LINE`]; the connection
/// is then closed.
pub const LINE_TOO_LONG: &str = "-ERR line too long\r\n";

/// The reply to a connection over the cap.
pub const TOO_MANY_CONNECTIONS: &str = "-ERR [SYS/TEMP] too many connections, try again later\r\n";

/// The reply to a client silent for too long.
pub const IDLE_TIMEOUT: &str = "-ERR idle for too long, closing\r\n";

/// The reply to a client connected when the server shuts down (its
/// deletions are not applied).
pub const SHUTTING_DOWN: &str = "-ERR server shutting down\r\n";

enum State {
    /// Not logged in; `user` is the name a USER command gave.
    Authorization { user: Option<String> },
    /// Waiting for the transport to load the maildrop after a good PASS.
    Opening,
    /// Logged in, with the maildrop fixed at login and the messages marked
    /// for deletion.
    Transaction {
        maildrop: Vec<Entry>,
        deleted: Vec<bool>,
    },
    /// QUIT was given; nothing more is read.
    Done,
}

/// One POP3 connection's protocol state.
pub struct Session {
    config: Arc<SessionConfig>,
    state: State,
    failures: u32,
    /// Whether the connection is already encrypted (STLS done, or
    /// implicit TLS).
    tls: bool,
}

impl Session {
    /// A new session, in the AUTHORIZATION state.
    pub fn new(config: Arc<SessionConfig>) -> Session {
        Session {
            config,
            state: State::Authorization { user: None },
            failures: 0,
            tls: false,
        }
    }

    /// The connection is now encrypted: STLS is no longer offered, and a
    /// name given before it is forgotten (RFC 2595 §4).
    pub fn tls_started(&mut self) {
        self.tls = true;
        if let State::Authorization { user } = &mut self.state {
            *user = None;
        }
    }

    /// The greeting to send first.
    pub fn greeting(&self) -> String {
        ok("mailcatch POP3 server ready")
    }

    /// Handles one command line (with or without its CRLF).
    pub fn line(&mut self, line: &[u8]) -> Action {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, rest) = match line.split_once(' ') {
            Some((verb, rest)) => (verb, rest),
            None => (line, ""),
        };
        let verb = verb.to_ascii_uppercase();
        let args: Vec<&str> = rest.split(' ').filter(|a| !a.is_empty()).collect();
        match verb.as_str() {
            "CAPA" => return Action::Reply(capabilities(self.offers_stls())),
            "NOOP" if self.logged_in() => return Action::Reply(ok("")),
            "QUIT" => return self.quit(),
            _ => {}
        }
        let offers_stls = self.offers_stls();
        match &mut self.state {
            State::Authorization { .. } if verb == "STLS" => {
                if offers_stls {
                    Action::StartTls(ok("begin TLS negotiation"))
                } else if self.tls {
                    Action::Reply(err("TLS is already active"))
                } else {
                    Action::Reply(err("STLS is not offered (no --pop3-tls-cert)"))
                }
            }
            State::Authorization { user } => match verb.as_str() {
                "USER" if !rest.is_empty() => {
                    *user = Some(rest.to_string());
                    Action::Reply(ok("send PASS"))
                }
                "USER" => Action::Reply(err("USER needs a name")),
                "PASS" => {
                    let Some(name) = user.take() else {
                        return Action::Reply(err("USER first"));
                    };
                    // The password is everything after "PASS ", spaces included.
                    if let Some(mailboxes) = self.config.login(&name, rest) {
                        self.state = State::Opening;
                        Action::OpenMaildrop {
                            user: name,
                            mailboxes,
                        }
                    } else {
                        self.failures += 1;
                        if self.failures >= MAX_AUTH_FAILURES {
                            self.state = State::Done;
                            Action::Close(err("[AUTH] invalid login, too many failures"))
                        } else {
                            Action::RejectLogin(err("[AUTH] invalid login"))
                        }
                    }
                }
                _ => Action::Reply(err("not logged in: USER, PASS, CAPA or QUIT")),
            },
            State::Transaction { maildrop, deleted } => {
                transaction(&verb, &args, maildrop, deleted)
            }
            State::Opening | State::Done => Action::Reply(err("not now")),
        }
    }

    /// The maildrop loaded after a good PASS; returns the reply to write.
    pub fn opened(&mut self, maildrop: Vec<Entry>) -> String {
        let (count, octets) = totals(&maildrop, None);
        self.state = State::Transaction {
            deleted: vec![false; maildrop.len()],
            maildrop,
        };
        ok(&format!("maildrop has {count} messages ({octets} octets)"))
    }

    /// The maildrop could not be loaded; the session is over.
    pub fn open_failed(&mut self) -> String {
        self.state = State::Done;
        err("[SYS/TEMP] cannot open the maildrop")
    }

    /// The reply after the deletions of [`Action::Update`] were applied
    /// (`true`) or failed (`false`).
    pub fn updated(&self, success: bool) -> String {
        if success {
            ok("mailcatch POP3 server signing off")
        } else {
            err("[SYS/TEMP] some deleted messages were not removed")
        }
    }

    fn offers_stls(&self) -> bool {
        self.config.stls && !self.tls
    }

    fn logged_in(&self) -> bool {
        matches!(self.state, State::Transaction { .. })
    }

    fn quit(&mut self) -> Action {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Transaction { maildrop, deleted } => Action::Update(
                maildrop
                    .into_iter()
                    .zip(deleted)
                    .filter(|(_, gone)| *gone)
                    .map(|(entry, _)| entry.id)
                    .collect(),
            ),
            _ => Action::Close(ok("mailcatch POP3 server signing off")),
        }
    }
}

/// The commands of the TRANSACTION state.
fn transaction(verb: &str, args: &[&str], maildrop: &[Entry], deleted: &mut [bool]) -> Action {
    // The message a number argument names, unless deleted or out of range.
    let message = |arg: Option<&&str>| -> Result<usize, String> {
        let Some(arg) = arg else {
            return Err(err("a message number is needed"));
        };
        match arg.parse::<usize>() {
            Ok(n) if n >= 1 && n <= maildrop.len() && !deleted[n - 1] => Ok(n - 1),
            Ok(n) if n >= 1 && n <= maildrop.len() => Err(err(&format!("message {n} is deleted"))),
            _ => Err(err("no such message")),
        }
    };
    let reply = |result: Result<String, String>| Action::Reply(result.unwrap_or_else(|e| e));
    match verb {
        "STAT" => {
            let (count, octets) = totals(maildrop, Some(deleted));
            Action::Reply(ok(&format!("{count} {octets}")))
        }
        "LIST" | "UIDL" => {
            let field = |i: usize| match verb {
                "LIST" => maildrop[i].size.to_string(),
                _ => maildrop[i].id.clone(),
            };
            if args.is_empty() {
                let mut out = ok("listing follows");
                for i in (0..maildrop.len()).filter(|&i| !deleted[i]) {
                    out.push_str(&format!("{} {}\r\n", i + 1, field(i)));
                }
                out.push_str(".\r\n");
                Action::Reply(out)
            } else {
                reply(message(args.first()).map(|i| ok(&format!("{} {}", i + 1, field(i)))))
            }
        }
        "RETR" => match message(args.first()) {
            Ok(i) => Action::Send {
                id: maildrop[i].id.clone(),
                top: None,
            },
            Err(e) => Action::Reply(e),
        },
        "TOP" => {
            let lines = match args.get(1).map(|n| n.parse::<usize>()) {
                Some(Ok(lines)) => lines,
                _ => return Action::Reply(err("TOP needs a message number and a line count")),
            };
            match message(args.first()) {
                Ok(i) => Action::Send {
                    id: maildrop[i].id.clone(),
                    top: Some(lines),
                },
                Err(e) => Action::Reply(e),
            }
        }
        "DELE" => reply(message(args.first()).map(|i| {
            deleted[i] = true;
            ok(&format!("message {} deleted", i + 1))
        })),
        "RSET" => {
            deleted.iter_mut().for_each(|d| *d = false);
            let (count, octets) = totals(maildrop, None);
            Action::Reply(ok(&format!(
                "maildrop has {count} messages ({octets} octets)"
            )))
        }
        "USER" | "PASS" | "STLS" => Action::Reply(err("already logged in")),
        _ => Action::Reply(err("unknown command")),
    }
}

/// How many messages, and how many octets, are not marked deleted.
fn totals(maildrop: &[Entry], deleted: Option<&[bool]>) -> (usize, usize) {
    maildrop
        .iter()
        .enumerate()
        .filter(|(i, _)| !deleted.is_some_and(|d| d[*i]))
        .fold((0, 0), |(count, octets), (_, e)| {
            (count + 1, octets + e.size)
        })
}

fn capabilities(stls: bool) -> String {
    let mut out = ok("capability list follows");
    let stls = stls.then_some("STLS");
    for capability in ["TOP", "UIDL", "USER"].into_iter().chain(stls) {
        out.push_str(capability);
        out.push_str("\r\n");
    }
    out.push_str("IMPLEMENTATION mailcatch\r\n");
    out.push_str(".\r\n");
    out
}

fn ok(text: &str) -> String {
    match text {
        "" => "+OK\r\n".to_string(),
        text => format!("+OK {text}\r\n"),
    }
}

fn err(text: &str) -> String {
    format!("-ERR {text}\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(Arc::new(SessionConfig {
            credentials: Credentials::parse("alice:secret bob:pa:ss: carol:pw:ci-1,ci-2"),
            keys: MailboxKeys::default(),
            stls: false,
        }))
    }

    fn opening(user: &str, mailboxes: &[&str]) -> Action {
        Action::OpenMaildrop {
            user: user.into(),
            mailboxes: mailboxes.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn a_login_names_its_mailboxes() {
        let mut s = session();
        reply(&mut s, "USER carol");
        assert_eq!(s.line(b"PASS pw\r\n"), opening("carol", &["ci-1", "ci-2"]));
        // A mailbox's own password (made with the mailbox API) opens it.
        let keys = MailboxKeys::default();
        keys.set("ci-3", "key");
        let mut s = Session::new(Arc::new(SessionConfig {
            credentials: Credentials::parse("alice:secret"),
            keys,
            stls: false,
        }));
        reply(&mut s, "USER ci-3");
        assert_eq!(s.line(b"PASS key\r\n"), opening("ci-3", &["ci-3"]));
    }

    fn maildrop() -> Vec<Entry> {
        vec![
            Entry {
                id: "first".into(),
                size: 100,
            },
            Entry {
                id: "second".into(),
                size: 20,
            },
            Entry {
                id: "third".into(),
                size: 3,
            },
        ]
    }

    fn reply(session: &mut Session, line: &str) -> String {
        match session.line(line.as_bytes()) {
            Action::Reply(reply) => reply,
            other => panic!("{line}: expected a reply, got {other:?}"),
        }
    }

    /// A session logged in as alice with [`maildrop`].
    fn logged_in() -> Session {
        let mut s = session();
        assert!(reply(&mut s, "USER alice\r\n").starts_with("+OK"));
        assert_eq!(s.line(b"PASS secret\r\n"), opening("alice", &[]));
        assert_eq!(
            s.opened(maildrop()),
            "+OK maildrop has 3 messages (123 octets)\r\n"
        );
        s
    }

    #[test]
    fn stls_is_offered_once_before_login_and_forgets_the_user() {
        let mut s = Session::new(Arc::new(SessionConfig {
            credentials: Credentials::parse("alice:secret"),
            keys: MailboxKeys::default(),
            stls: true,
        }));
        assert!(reply(&mut s, "CAPA").contains("\r\nSTLS\r\n"));
        assert!(reply(&mut s, "USER alice").starts_with("+OK"));
        assert_eq!(
            s.line(b"STLS\r\n"),
            Action::StartTls("+OK begin TLS negotiation\r\n".into())
        );
        s.tls_started();
        assert!(!reply(&mut s, "CAPA").contains("STLS"));
        assert!(reply(&mut s, "STLS").starts_with("-ERR TLS is already active"));
        assert!(reply(&mut s, "PASS secret").starts_with("-ERR USER first"));
        assert!(reply(&mut session(), "STLS").starts_with("-ERR STLS is not offered"));
    }

    #[test]
    fn greets_and_lists_capabilities_in_both_states() {
        let mut s = session();
        assert!(s.greeting().starts_with("+OK "));
        let capa = "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nIMPLEMENTATION mailcatch\r\n.\r\n";
        assert_eq!(reply(&mut s, "CAPA"), capa);
        assert_eq!(reply(&mut logged_in(), "capa\r\n"), capa);
    }

    #[test]
    fn logs_in_with_user_and_pass() {
        let mut s = session();
        assert_eq!(reply(&mut s, "PASS secret"), "-ERR USER first\r\n");
        assert_eq!(reply(&mut s, "USER"), "-ERR USER needs a name\r\n");
        reply(&mut s, "user bob");
        // The password is the rest of the line; verbs are case-insensitive.
        assert_eq!(s.line(b"pass pa:ss\r\n"), opening("bob", &[]));
        assert_eq!(reply(&mut s, "STAT"), "-ERR not now\r\n");
        s.opened(Vec::new());
        assert_eq!(reply(&mut s, "STAT"), "+OK 0 0\r\n");
        assert_eq!(reply(&mut s, "LIST"), "+OK listing follows\r\n.\r\n");
    }

    #[test]
    fn wrong_passwords_are_refused_then_the_connection_closed() {
        let mut s = session();
        for _ in 1..MAX_AUTH_FAILURES {
            reply(&mut s, "USER alice");
            assert_eq!(
                s.line(b"PASS wrong"),
                Action::RejectLogin("-ERR [AUTH] invalid login\r\n".into())
            );
        }
        reply(&mut s, "USER nobody");
        assert!(matches!(s.line(b"PASS secret"), Action::Close(e) if e.starts_with("-ERR")));
        // Another user's password, and a user's name alone, never log in.
        let mut s = session();
        reply(&mut s, "USER alice");
        assert!(matches!(s.line(b"PASS pa:ss"), Action::RejectLogin(_)));
        // The name must be given again after a failure.
        assert_eq!(reply(&mut s, "PASS secret"), "-ERR USER first\r\n");
    }

    #[test]
    fn commands_in_the_wrong_state_get_err() {
        let mut s = session();
        for command in [
            "STAT", "LIST", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "RSET", "NOOP",
        ] {
            assert!(reply(&mut s, command).starts_with("-ERR"), "{command}");
        }
        let mut s = logged_in();
        for command in ["USER alice", "PASS secret", "APOP a b", "BOGUS"] {
            assert!(reply(&mut s, command).starts_with("-ERR"), "{command}");
        }
    }

    #[test]
    fn stat_list_and_uidl_number_the_maildrop() {
        let mut s = logged_in();
        assert_eq!(reply(&mut s, "STAT"), "+OK 3 123\r\n");
        assert_eq!(
            reply(&mut s, "LIST"),
            "+OK listing follows\r\n1 100\r\n2 20\r\n3 3\r\n.\r\n"
        );
        assert_eq!(reply(&mut s, "LIST 2"), "+OK 2 20\r\n");
        assert_eq!(
            reply(&mut s, "UIDL"),
            "+OK listing follows\r\n1 first\r\n2 second\r\n3 third\r\n.\r\n"
        );
        assert_eq!(reply(&mut s, "UIDL 3"), "+OK 3 third\r\n");
        for bad in ["LIST 0", "LIST 4", "LIST x", "UIDL -1", "RETR", "DELE 9"] {
            assert!(reply(&mut s, bad).starts_with("-ERR"), "{bad}");
        }
        assert_eq!(reply(&mut s, "NOOP"), "+OK\r\n");
    }

    #[test]
    fn retr_and_top_ask_for_the_message() {
        let mut s = logged_in();
        assert_eq!(
            s.line(b"RETR 2"),
            Action::Send {
                id: "second".into(),
                top: None
            }
        );
        assert_eq!(
            s.line(b"TOP 1 5"),
            Action::Send {
                id: "first".into(),
                top: Some(5)
            }
        );
        assert!(reply(&mut s, "TOP 1").starts_with("-ERR"));
        assert!(reply(&mut s, "TOP 1 x").starts_with("-ERR"));
        assert!(reply(&mut s, "TOP 4 1").starts_with("-ERR"));
    }

    #[test]
    fn dele_hides_messages_rset_restores_them_and_quit_applies() {
        let mut s = logged_in();
        assert_eq!(reply(&mut s, "DELE 1"), "+OK message 1 deleted\r\n");
        assert!(reply(&mut s, "DELE 1").starts_with("-ERR"));
        assert!(reply(&mut s, "RETR 1").starts_with("-ERR"));
        assert!(reply(&mut s, "LIST 1").starts_with("-ERR"));
        assert_eq!(reply(&mut s, "STAT"), "+OK 2 23\r\n");
        assert_eq!(
            reply(&mut s, "UIDL"),
            "+OK listing follows\r\n2 second\r\n3 third\r\n.\r\n"
        );
        assert_eq!(
            reply(&mut s, "RSET"),
            "+OK maildrop has 3 messages (123 octets)\r\n"
        );
        assert_eq!(reply(&mut s, "STAT"), "+OK 3 123\r\n");
        reply(&mut s, "DELE 3");
        reply(&mut s, "DELE 2");
        assert_eq!(
            s.line(b"QUIT"),
            Action::Update(vec!["second".into(), "third".into()])
        );
        assert!(s.updated(true).starts_with("+OK"));
        assert!(s.updated(false).starts_with("-ERR"));
        assert!(reply(&mut s, "STAT").starts_with("-ERR"));
    }

    #[test]
    fn quit_before_login_deletes_nothing() {
        let mut s = session();
        assert!(matches!(s.line(b"QUIT"), Action::Close(r) if r.starts_with("+OK")));
        let mut s = logged_in();
        assert_eq!(s.line(b"QUIT"), Action::Update(Vec::new()));
    }
}
