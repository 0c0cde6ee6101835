//! User names and passwords: one type for SMTP AUTH (`--smtp-auth-file`,
//! `--smtp-auth`) and the UI's basic auth (`--ui-auth-file`, `--ui-auth`).
//!
//! An entry is `user:password`, or `user:password:mailbox1,mailbox2` to tie
//! the user to mailboxes: for SMTP, the first names where the user's mail
//! goes; for the UI, the only mailboxes the user may see. A password that
//! itself holds a `:` is written with a trailing `:` (an empty list).
//!
//! Every check compares the SHA-256 digests of both sides in constant time,
//! against every pair, without stopping at the first match: how long a
//! check takes reveals neither which user exists, nor how much of a
//! password was right, nor how long the stored values are.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// Accepted `user:password` pairs (plain passwords).
#[derive(Clone, Default)]
pub struct Credentials {
    pairs: Vec<Pair>,
}

#[derive(Clone)]
struct Pair {
    user: String,
    /// Kept in plain text: CRAM-MD5 needs it to compute the expected answer.
    password: String,
    user_digest: [u8; 32],
    password_digest: [u8; 32],
    /// The mailboxes the entry names (canonical), or none.
    mailboxes: Vec<String>,
}

impl Credentials {
    /// Parses `user:password` pairs separated by whitespace or newlines;
    /// a line starting with `#` is a comment. The password is everything
    /// after the first `:`; an entry without `:` is skipped.
    pub fn parse(text: &str) -> Credentials {
        let pairs = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(str::split_whitespace)
            .filter_map(|entry| entry.split_once(':'))
            .map(|(user, rest)| {
                let (password, mailboxes) = match rest.rsplit_once(':') {
                    Some((password, list)) => (password, mailbox_list(list)),
                    None => (rest, Vec::new()),
                };
                Pair::new(user, password, mailboxes)
            })
            .collect();
        Credentials { pairs }
    }

    /// Adds one entry (a mailbox's own SMTP credentials, made at run time).
    pub fn add(&mut self, user: &str, password: &str, mailboxes: Vec<String>) {
        self.pairs.push(Pair::new(user, password, mailboxes));
    }

    /// Removes every entry of `user`.
    pub fn remove(&mut self, user: &str) {
        self.pairs.retain(|pair| pair.user != user);
    }

    /// Whether `user` has an entry (not constant time: for routing, after
    /// the credentials were checked).
    pub fn has_user(&self, user: &str) -> bool {
        self.pairs.iter().any(|pair| pair.user == user)
    }

    /// The mailboxes the entry of `user` with `password` names, or `None`
    /// when the pair is not accepted. Checked in constant time as
    /// [`Credentials::check`]; only a match is then looked up.
    pub fn mailboxes_of(&self, user: &str, password: &str) -> Option<&[String]> {
        if !self.check(user, password) {
            return None;
        }
        self.pairs
            .iter()
            .find(|pair| pair.user == user && pair.password == password)
            .map(|pair| pair.mailboxes.as_slice())
    }

    /// The mailboxes of `user`'s first entry (for a challenge-response
    /// login, once [`Credentials::check_response`] accepted it).
    pub fn mailboxes_of_user(&self, user: &str) -> Option<&[String]> {
        self.pairs
            .iter()
            .find(|pair| pair.user == user)
            .map(|pair| pair.mailboxes.as_slice())
    }

    /// Reads and parses a file of pairs, as [`Credentials::parse`].
    pub fn read(path: &Path) -> std::io::Result<Credentials> {
        Ok(Credentials::parse(&std::fs::read_to_string(path)?))
    }

    /// Adds `other`'s pairs to these.
    pub fn extend(&mut self, other: Credentials) {
        self.pairs.extend(other.pairs);
    }

    /// Whether there are no pairs at all.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// How many pairs there are (a user listed twice counts twice).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether `user` with `password` is one of the pairs.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let user = digest(user.as_bytes());
        let password = digest(password.as_bytes());
        self.any_pair(&user, |pair| pair.password_digest.ct_eq(&password))
    }

    /// Whether `response` is what `user` would answer knowing the password,
    /// `expected(password)` computing that answer (for challenge-response
    /// mechanisms such as CRAM-MD5). The answer is computed for every pair
    /// and compared in constant time, so this takes as long whether or not
    /// the user exists.
    pub fn check_response<A: AsRef<[u8]>>(
        &self,
        user: &str,
        response: &[u8],
        expected: impl Fn(&str) -> A,
    ) -> bool {
        let user = digest(user.as_bytes());
        let response = digest(response);
        self.any_pair(&user, |pair| {
            digest(expected(&pair.password).as_ref()).ct_eq(&response)
        })
    }

    /// Folds `user matches & secret_matches(pair)` over every pair, never
    /// stopping early.
    fn any_pair(&self, user: &[u8; 32], secret_matches: impl Fn(&Pair) -> Choice) -> bool {
        let matched = self.pairs.iter().fold(Choice::from(0), |matched, pair| {
            matched | (pair.user_digest.ct_eq(user) & secret_matches(pair))
        });
        bool::from(matched)
    }
}

impl Pair {
    fn new(user: &str, password: &str, mailboxes: Vec<String>) -> Pair {
        Pair {
            user: user.to_string(),
            password: password.to_string(),
            user_digest: digest(user.as_bytes()),
            password_digest: digest(password.as_bytes()),
            mailboxes,
        }
    }
}

/// `a,b,c` as canonical mailbox names; names that are not valid are left out.
fn mailbox_list(list: &str) -> Vec<String> {
    list.split(',')
        .filter_map(crate::store::canonical_name)
        .collect()
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lists the users, never the passwords.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "users",
                &self.pairs.iter().map(|p| &p.user).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_comments_and_colons_in_passwords() {
        let creds = Credentials::parse(
            "# users\nalice:secret bob:pw\n\ncarol:a:b:\n  # x:y\nnocolon\ndan:pw:ci-1,Ci-2,bad/\n",
        );
        assert_eq!(creds.len(), 4);
        assert!(creds.check("alice", "secret"));
        assert!(creds.check("bob", "pw"));
        assert!(
            creds.check("carol", "a:b"),
            "a trailing : keeps a : in the password"
        );
        assert!(creds.check("dan", "pw"));
        assert_eq!(
            creds.mailboxes_of("dan", "pw"),
            Some(&["ci-1".to_string(), "ci-2".to_string()][..])
        );
        assert_eq!(creds.mailboxes_of("dan", "nope"), None);
        assert_eq!(creds.mailboxes_of("alice", "secret"), Some(&[][..]));
        assert!(!creds.check("x", "y"), "a comment line is not a pair");
        assert!(Credentials::parse("# nothing\n\n").is_empty());
    }

    #[test]
    fn check_gives_the_right_answers() {
        let creds = Credentials::parse("alice:secret bob:hunter2 alice:second");
        assert!(creds.check("alice", "secret"));
        assert!(
            creds.check("alice", "second"),
            "a user may have two passwords"
        );
        assert!(creds.check("bob", "hunter2"));
        // Another user's password, prefixes, extensions, case, empties.
        assert!(!creds.check("alice", "hunter2"));
        assert!(!creds.check("bob", "secret"));
        assert!(!creds.check("alice", "secre"));
        assert!(!creds.check("alice", "secrets"));
        assert!(!creds.check("Alice", "secret"));
        assert!(!creds.check("alic", "secret"));
        assert!(!creds.check("", ""));
        assert!(!creds.check("carol", "secret"));
        assert!(!Credentials::default().check("alice", "secret"));
        // An empty password is a password like any other.
        let empty = Credentials::parse("dave:");
        assert!(empty.check("dave", ""));
        assert!(!empty.check("dave", "x"));
    }

    #[test]
    fn check_response_computes_the_answer_for_the_named_user() {
        let creds = Credentials::parse("alice:secret bob:other");
        let answer = |password: &str| format!("{password}!").into_bytes();
        assert!(creds.check_response("alice", b"secret!", answer));
        assert!(creds.check_response("bob", b"other!", answer));
        assert!(!creds.check_response("alice", b"other!", answer));
        assert!(!creds.check_response("carol", b"secret!", answer));
        assert!(!creds.check_response("alice", b"secret", answer));
    }

    #[test]
    fn reads_files_and_combines_lists() {
        let path =
            std::env::temp_dir().join(format!("mailcatch-credentials-{}.txt", std::process::id()));
        std::fs::write(&path, "# comment\nfile-user:file-pass\n").unwrap();
        let mut creds = Credentials::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        creds.extend(Credentials::parse("list-user:list-pass"));
        assert_eq!(creds.len(), 2);
        assert!(creds.check("file-user", "file-pass"));
        assert!(creds.check("list-user", "list-pass"));
        assert!(
            Credentials::read(&path).is_err(),
            "a missing file is an error"
        );
    }

    #[test]
    fn debug_never_shows_passwords() {
        let shown = format!("{:?}", Credentials::parse("alice:topsecret"));
        assert!(shown.contains("alice"));
        assert!(!shown.contains("topsecret"));
    }
}
