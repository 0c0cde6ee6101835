//! Mailboxes: named, isolated inboxes inside one store.
//!
//! Every message belongs to exactly one mailbox, named on the message
//! itself (an interned `Arc<str>`), so listing, searching and the change
//! feed can be narrowed to a [`Scope`] without a lookup per message. The
//! [`Registry`] holds what a mailbox is beyond its mail (privacy, SMTP
//! password, API token, expiry); a database engine keeps it in a table and
//! loads it at start.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Where mail goes that nothing routes elsewhere. It always exists.
pub const DEFAULT_MAILBOX: &str = "default";

/// Longest mailbox name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The canonical (lower-cased) form of a mailbox name, or `None` when it is
/// not one: 1 to 64 characters of `a-z 0-9 . _ -`, starting with a letter
/// or digit.
pub fn canonical_name(name: &str) -> Option<String> {
    let name = name.trim().to_ascii_lowercase();
    let bytes = name.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    valid.then_some(name)
}

/// One mailbox's settings (its mail is in the store).
#[derive(Clone, Debug)]
pub struct Mailbox {
    /// Its canonical name, shared with every message it holds.
    pub name: Arc<str>,
    /// Whether its mail is hidden from the unscoped root and its scoped
    /// API needs its token.
    pub private: bool,
    /// The SMTP password that routes mail into it, if it has one (kept in
    /// plain text: CRAM-MD5 needs it to compute the expected answer).
    pub smtp_password: Option<String>,
    /// The SHA-256 digest of its API token, if it has one.
    pub token_digest: Option<[u8; 32]>,
    /// When it is deleted with its mail, if it expires.
    pub expires: Option<jiff::Timestamp>,
    /// When it was created.
    pub created: jiff::Timestamp,
}

impl Mailbox {
    /// A public mailbox without credentials or expiry, as routing creates.
    pub fn plain(name: &str) -> Mailbox {
        Mailbox {
            name: Arc::from(name),
            private: false,
            smtp_password: None,
            token_digest: None,
            expires: None,
            created: jiff::Timestamp::now(),
        }
    }

    /// Whether `token` is this mailbox's API token (constant time).
    pub fn token_matches(&self, token: &str) -> bool {
        self.token_digest
            .is_some_and(|digest| bool::from(digest.ct_eq(&token_digest(token))))
    }

    /// Whether the mailbox has run out of time at `now`.
    pub fn expired_at(&self, now: jiff::Timestamp) -> bool {
        self.expires.is_some_and(|expires| expires <= now)
    }
}

/// The digest a token is kept as.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Which mailboxes an operation sees.
#[derive(Clone, Debug, Default)]
pub enum Scope {
    /// Every mailbox: an administrator at the root.
    #[default]
    All,
    /// Only these mailboxes: a mailbox's own root, or a user limited to some.
    Only(Arc<[Arc<str>]>),
    /// Every mailbox but these: the root for someone who may not see
    /// private mailboxes.
    Except(Arc<[Arc<str>]>),
}

impl Scope {
    /// The scope of one mailbox.
    pub fn one(name: Arc<str>) -> Scope {
        Scope::Only(Arc::from([name]))
    }

    /// Whether a message in `mailbox` is in scope.
    pub fn contains(&self, mailbox: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(names) => names.iter().any(|n| &**n == mailbox),
            Scope::Except(names) => !names.iter().any(|n| &**n == mailbox),
        }
    }

    /// Whether the scope sees every mailbox.
    pub fn is_all(&self) -> bool {
        match self {
            Scope::All => true,
            Scope::Except(names) => names.is_empty(),
            Scope::Only(_) => false,
        }
    }
}

/// The SMTP passwords of mailboxes, by mailbox name: what SMTP sessions
/// check logins against. The [`Registry`] keeps it in step with the
/// mailboxes (made at run time), and the sessions share it, so they see
/// every change at once.
#[derive(Clone, Debug, Default)]
pub struct MailboxKeys(Arc<RwLock<HashMap<String, String>>>);

impl MailboxKeys {
    /// Gives mailbox `name` this SMTP password.
    pub fn set(&self, name: &str, password: &str) {
        self.0
            .write()
            .insert(name.to_string(), password.to_string());
    }

    /// Takes `mailbox`'s password, if it has one.
    fn follow(&self, mailbox: &Mailbox) {
        if let Some(password) = &mailbox.smtp_password {
            self.set(&mailbox.name, password);
        }
    }

    /// Forgets mailbox `name`'s password.
    pub fn remove(&self, name: &str) {
        self.0.write().remove(name);
    }

    /// Whether no mailbox has a password.
    pub fn is_empty(&self) -> bool {
        self.0.read().is_empty()
    }

    /// The password of the mailbox `user` names, if it has one.
    pub fn password(&self, user: &str) -> Option<String> {
        let name = crate::store::canonical_name(user)?;
        self.0.read().get(&name).cloned()
    }
}

/// Why a mailbox could not be created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateRefusal {
    /// A mailbox of that name exists.
    Exists,
    /// `--max-mailboxes` mailboxes exist already.
    TooMany(usize),
}

/// Every mailbox, by name. Reads are a shared lock and a hash lookup, so
/// the SMTP and HTTP paths can consult it per command and per request.
pub(crate) struct Registry {
    mailboxes: RwLock<HashMap<Arc<str>, Arc<Mailbox>>>,
    keys: MailboxKeys,
    limit: usize,
}

impl Registry {
    /// A registry holding `default` plus `loaded`, allowing at most `limit`
    /// mailboxes (0: no limit).
    pub fn new(loaded: Vec<Mailbox>, limit: usize) -> Registry {
        let mut mailboxes: HashMap<Arc<str>, Arc<Mailbox>> = loaded
            .into_iter()
            .map(|m| (m.name.clone(), Arc::new(m)))
            .collect();
        mailboxes
            .entry(Arc::from(DEFAULT_MAILBOX))
            .or_insert_with(|| Arc::new(Mailbox::plain(DEFAULT_MAILBOX)));
        let keys = MailboxKeys::default();
        for mailbox in mailboxes.values() {
            keys.follow(mailbox);
        }
        Registry {
            mailboxes: RwLock::new(mailboxes),
            keys,
            limit,
        }
    }

    /// The mailboxes' SMTP passwords, kept in step with the registry.
    pub fn keys(&self) -> &MailboxKeys {
        &self.keys
    }

    pub fn get(&self, name: &str) -> Option<Arc<Mailbox>> {
        self.mailboxes.read().get(name).cloned()
    }

    /// Every mailbox, sorted by name.
    pub fn all(&self) -> Vec<Arc<Mailbox>> {
        let mut all: Vec<_> = self.mailboxes.read().values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// The names of the private mailboxes.
    pub fn private_names(&self) -> Arc<[Arc<str>]> {
        self.mailboxes
            .read()
            .values()
            .filter(|m| m.private)
            .map(|m| m.name.clone())
            .collect()
    }

    /// Adds a mailbox unless its name is taken or the limit is reached.
    pub fn add(&self, mailbox: Mailbox) -> Result<Arc<Mailbox>, CreateRefusal> {
        let mut mailboxes = self.mailboxes.write();
        if mailboxes.contains_key(&mailbox.name) {
            return Err(CreateRefusal::Exists);
        }
        if self.limit > 0 && mailboxes.len() >= self.limit {
            return Err(CreateRefusal::TooMany(self.limit));
        }
        let mailbox = Arc::new(mailbox);
        self.keys.follow(&mailbox);
        mailboxes.insert(mailbox.name.clone(), mailbox.clone());
        Ok(mailbox)
    }

    /// Replaces every mailbox by `loaded` (plus `default`): what another
    /// process sharing the database now has.
    pub fn replace(&self, loaded: Vec<Mailbox>) {
        let fresh = Registry::new(loaded, self.limit);
        let mut mailboxes = self.mailboxes.write();
        // The SMTP passwords follow: gone ones forgotten, new ones taken.
        for name in mailboxes.keys() {
            if !fresh.mailboxes.read().contains_key(name) {
                self.keys.remove(name);
            }
        }
        for mailbox in fresh.mailboxes.read().values() {
            self.keys.follow(mailbox);
        }
        *mailboxes = fresh.mailboxes.into_inner();
    }

    /// Removes a mailbox (`default` stays: it is only emptied).
    pub fn remove(&self, name: &str) {
        if name != DEFAULT_MAILBOX {
            self.mailboxes.write().remove(name);
            self.keys.remove(name);
        }
    }

    /// The mailboxes whose time ran out by `now`.
    pub fn expired(&self, now: jiff::Timestamp) -> Vec<Arc<Mailbox>> {
        self.mailboxes
            .read()
            .values()
            .filter(|m| m.expired_at(now))
            .cloned()
            .collect()
    }

    /// How many mailboxes exist.
    pub fn len(&self) -> usize {
        self.mailboxes.read().len()
    }

    /// The name `name` is stored under, shared (so messages need not copy it).
    pub fn intern(&self, name: &str) -> Option<Arc<str>> {
        self.mailboxes.read().get(name).map(|m| m.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            canonical_name("CI-Job_42.x").as_deref(),
            Some("ci-job_42.x")
        );
        assert_eq!(canonical_name("9lives").as_deref(), Some("9lives"));
        for bad in [
            "",
            "-x",
            ".x",
            "_x",
            "a b",
            "a/b",
            "é",
            "a@b",
            &"a".repeat(65),
        ] {
            assert_eq!(canonical_name(bad), None, "{bad:?}");
        }
        assert!(canonical_name(&"a".repeat(64)).is_some());
    }

    #[test]
    fn scopes() {
        let a: Arc<str> = Arc::from("a");
        assert!(Scope::All.contains("x"));
        assert!(Scope::one(a.clone()).contains("a"));
        assert!(!Scope::one(a.clone()).contains("b"));
        let except = Scope::Except(Arc::from([a]));
        assert!(!except.contains("a"));
        assert!(except.contains("b"));
        assert!(Scope::Except(Arc::from([])).is_all());
    }

    #[test]
    fn registry_refuses_duplicates_and_beyond_the_limit() {
        let registry = Registry::new(Vec::new(), 2);
        assert!(registry.get(DEFAULT_MAILBOX).is_some());
        assert!(registry.add(Mailbox::plain("one")).is_ok());
        assert_eq!(
            registry.add(Mailbox::plain("one")).unwrap_err(),
            CreateRefusal::Exists
        );
        assert_eq!(
            registry.add(Mailbox::plain("two")).unwrap_err(),
            CreateRefusal::TooMany(2)
        );
        registry.remove(DEFAULT_MAILBOX);
        assert!(registry.get(DEFAULT_MAILBOX).is_some());
    }

    #[test]
    fn tokens_compare_by_digest() {
        let mut mailbox = Mailbox::plain("x");
        assert!(!mailbox.token_matches(""));
        mailbox.token_digest = Some(token_digest("secret"));
        assert!(mailbox.token_matches("secret"));
        assert!(!mailbox.token_matches("secreT"));
    }
}
