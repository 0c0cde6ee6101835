//! Mailboxes as the application sees them: which mailbox a message goes
//! to, and making and removing mailboxes together with their SMTP
//! passwords.

use std::sync::Arc;
use std::time::Duration;

use super::App;
use crate::store::{
    CreateRefusal, DEFAULT_MAILBOX, Incoming, Mailbox, StoreError, Summary, canonical_name,
};

/// Longest time to live a mailbox may be given: a year.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// What `POST /api/mailcatch/v1/mailboxes` asks for.
#[derive(Debug, Default)]
pub struct NewMailbox {
    /// The name; a random one when absent.
    pub name: Option<String>,
    /// Deleted with its mail after this long.
    pub ttl: Option<Duration>,
    /// Hidden from the root, its API behind its token.
    pub private: bool,
}

/// A mailbox just made, with the secrets only its creator ever sees.
#[derive(Debug)]
pub struct CreatedMailbox {
    /// The mailbox.
    pub mailbox: Arc<Mailbox>,
    /// The SMTP password that routes mail into it (the user is its name).
    pub smtp_password: String,
    /// The token its scoped API accepts.
    pub token: String,
}

/// Why a mailbox was not made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The name is not a valid mailbox name.
    #[error(
        "invalid mailbox name {0:?}: 1 to 64 characters of a-z 0-9 . _ -, starting with a letter or digit"
    )]
    InvalidName(String),
    /// The time to live is zero or too long.
    #[error("invalid TTL: give seconds from 1 to {}", MAX_TTL.as_secs())]
    InvalidTtl,
    /// The name is taken.
    #[error("mailbox {0} already exists")]
    Exists(String),
    /// `--max-mailboxes` reached.
    #[error("too many mailboxes (--max-mailboxes {0})")]
    TooMany(usize),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl App {
    /// Makes a mailbox with its own SMTP password and API token.
    pub async fn create_mailbox(&self, request: NewMailbox) -> Result<CreatedMailbox, CreateError> {
        let name = match &request.name {
            Some(name) => {
                canonical_name(name).ok_or_else(|| CreateError::InvalidName(name.clone()))?
            }
            None => format!("mb-{}", random_text(10)),
        };
        let expires = match request.ttl {
            Some(ttl) if ttl.is_zero() || ttl > MAX_TTL => return Err(CreateError::InvalidTtl),
            Some(ttl) => Some(
                jiff::Timestamp::now()
                    .checked_add(ttl)
                    .map_err(|_| CreateError::InvalidTtl)?,
            ),
            None => None,
        };
        let smtp_password = random_text(24);
        let token = random_text(32);
        let mailbox = Mailbox {
            private: request.private,
            smtp_password: Some(smtp_password.clone()),
            token_digest: Some(crate::store::mailbox::token_digest(&token)),
            expires,
            ..Mailbox::plain(&name)
        };
        let mailbox =
            self.store
                .create_mailbox(mailbox)
                .await?
                .map_err(|refusal| match refusal {
                    CreateRefusal::Exists => CreateError::Exists(name.clone()),
                    CreateRefusal::TooMany(limit) => CreateError::TooMany(limit),
                })?;
        Ok(CreatedMailbox {
            mailbox,
            smtp_password,
            token,
        })
    }

    /// Deletes a mailbox, its mail and its SMTP password; `false` if it
    /// does not exist.
    pub async fn delete_mailbox(&self, name: &str) -> Result<bool, StoreError> {
        self.store.delete_mailbox(name).await
    }

    /// Deletes every mailbox whose time ran out.
    pub async fn expire_mailboxes(&self) -> Result<(), StoreError> {
        for mailbox in self.store.mailboxes() {
            if mailbox.expired_at(jiff::Timestamp::now()) {
                self.delete_mailbox(&mailbox.name).await?;
            }
        }
        Ok(())
    }

    /// The mailbox a message goes to, first that applies: the one its SMTP
    /// login (or the send endpoint it came through) names, its `X-Mailbox`
    /// header, `default`. A name that is invalid, or names a private
    /// mailbox the sender has not logged in to, is passed over with a
    /// warning on the message.
    pub(super) async fn route(
        &self,
        incoming: &mut Incoming,
        summary: &mut Summary,
    ) -> Result<Arc<str>, StoreError> {
        let logged_in = incoming.envelope.mailbox.clone();
        let header = summary.mailbox_header.take();
        for (name, via_login) in [(logged_in, true), (header, false)] {
            let Some(name) = name else { continue };
            let Some(canonical) = canonical_name(&name) else {
                summary.content_warnings.push(format!(
                    "invalid mailbox name {name:?}: delivered to another"
                ));
                continue;
            };
            if !via_login && self.store.mailbox(&canonical).is_some_and(|m| m.private) {
                summary.content_warnings.push(format!(
                    "X-Mailbox names private mailbox {canonical}, which needs its SMTP login"
                ));
                continue;
            }
            match self.store.ensure_mailbox(&canonical).await? {
                Some(mailbox) => return Ok(mailbox),
                None => summary.content_warnings.push(format!(
                    "mailbox {canonical} not created: too many mailboxes"
                )),
            }
        }
        Ok(self
            .store
            .ensure_mailbox(DEFAULT_MAILBOX)
            .await?
            .unwrap_or_else(|| Arc::from(DEFAULT_MAILBOX)))
    }
}

/// `len` random characters of `a-z 0-9`.
fn random_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}
