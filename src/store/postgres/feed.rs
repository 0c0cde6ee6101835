//! The nodes' shared change feed, by LISTEN/NOTIFY.
//!
//! Every change a node makes is also sent as a notification on the
//! `mailcatch` channel (a small JSON payload naming the sending node; a new
//! message by its sequence number only), inside the transaction that makes
//! it: PostgreSQL delivers it at the commit, and not at all if the
//! transaction fails. Every node
//! listens on a connection of its own and republishes the others' changes
//! on its own feed, loading new messages first, and reloads its mailbox
//! registry when mailboxes change. A node that lost its listening
//! connection (and so may have missed changes) reconnects with backoff and
//! then tells its clients to refetch (`Pruned`).

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Config, NoTls};

use crate::store::Event;
use crate::store::mailbox::Registry;

/// The notification channel.
pub(super) const CHANNEL: &str = "mailcatch";
/// Notifications received but not yet handled.
const INCOMING: usize = 4096;
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Change {
    New {
        seq: u64,
    },
    Read {
        id: String,
        mailbox: String,
        read: bool,
    },
    Tags {
        id: String,
        mailbox: String,
        tags: Vec<String>,
    },
    Deleted {
        id: String,
        mailbox: String,
    },
    Pruned {
        mailbox: Option<String>,
    },
    Truncated {
        mailbox: Option<String>,
    },
    Mailboxes,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Note {
    node: u64,
    #[serde(flatten)]
    change: Change,
}

/// This node's side of the shared feed.
pub(crate) struct Feed {
    node: u64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Feed {
    pub fn new() -> Feed {
        let mut node = [0u8; 8];
        let _ = getrandom::fill(&mut node);
        Feed {
            node: u64::from_le_bytes(node),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Starts following the others; the node listens before this returns,
    /// so nothing committed after its start is missed.
    pub async fn start(
        &self,
        pool: Pool,
        config: Config,
        events: broadcast::Sender<Event>,
        registry: Arc<Registry>,
    ) {
        let first = match listen(&config).await {
            Ok(listening) => Some(listening),
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the other nodes yet; retrying");
                None
            }
        };
        self.tasks.lock().push(tokio::spawn(follow(
            self.node, first, pool, config, events, registry,
        )));
    }

    /// The payload announcing `change` to the other nodes, sent inside the
    /// transaction that makes it (PostgreSQL delivers it at the COMMIT, so
    /// the others hear of exactly the committed changes, even when this
    /// node dies right after). One too large for a notification becomes a
    /// refetch.
    pub(super) fn note(&self, change: Change) -> String {
        let payload = serde_json::to_string(&Note {
            node: self.node,
            change,
        })
        .unwrap_or_default();
        if payload.len() > MAX_PAYLOAD {
            return self.pruned();
        }
        payload
    }

    /// The payload announcing message `seq`.
    pub(super) fn new_message(&self, seq: u64) -> String {
        self.note(Change::New { seq })
    }

    /// The payload that makes the others refetch everything.
    pub(super) fn pruned(&self) -> String {
        self.note(Change::Pruned { mailbox: None })
    }

    pub fn stop(&self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

/// Listens for the other nodes' changes, reconnecting with backoff.
async fn follow(
    node: u64,
    mut first: Option<Listening>,
    pool: Pool,
    config: Config,
    events: broadcast::Sender<Event>,
    registry: Arc<Registry>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut reconnected = false;
    loop {
        let listening = match first.take() {
            Some(listening) => Ok(listening),
            None => listen(&config).await,
        };
        match listening {
            Ok((client, mut notes, driver)) => {
                backoff = Duration::from_millis(100);
                if reconnected {
                    // Changes may have been missed while disconnected.
                    reload_mailboxes(&pool, &registry, &events).await;
                    let _ = events.send(Event::Pruned { mailbox: None });
                }
                reconnected = true;
                let mut batch = Vec::new();
                while notes.recv_many(&mut batch, 256).await > 0 {
                    // Mailbox changes arriving together cost one reload.
                    let mut reload = false;
                    for payload in batch.drain(..) {
                        reload |= handle(node, &payload, &pool, &events, &registry).await;
                    }
                    if reload {
                        reload_mailboxes(&pool, &registry, &events).await;
                    }
                }
                drop(client);
                driver.abort();
                tracing::warn!("lost the connection that follows the other nodes; reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "cannot follow the other nodes; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

type Listening = (
    tokio_postgres::Client,
    mpsc::Receiver<String>,
    JoinHandle<()>,
);

/// A connection listening on [`CHANNEL`]; its notifications' payloads
/// arrive on the receiver, which closes when the connection ends.
async fn listen(config: &Config) -> Result<Listening, String> {
    let (client, mut connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| super::schema::describe(&e))?;
    let (sender, receiver) = mpsc::channel(INCOMING);
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(note) = message
                && sender.send(note.payload().to_string()).await.is_err()
            {
                break;
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(|e| super::schema::describe(&e))?;
    Ok((client, receiver, driver))
}

/// Republishes another node's change on this node's feed; true when the
/// mailboxes changed (the caller reloads them).
async fn handle(
    node: u64,
    payload: &str,
    pool: &Pool,
    events: &broadcast::Sender<Event>,
    registry: &Registry,
) -> bool {
    let Ok(note) = serde_json::from_str::<Note>(payload) else {
        return false;
    };
    if note.node == node {
        return false;
    }
    let name = |m: String| -> Arc<str> { registry.intern(&m).unwrap_or_else(|| Arc::from(m)) };
    let event = match note.change {
        Change::New { seq } => match load(pool, seq).await {
            Some(message) => Event::New(message),
            None => return false, // deleted meanwhile, or unreachable: a refetch shows it
        },
        Change::Read { id, mailbox, read } => Event::Read {
            id,
            mailbox: name(mailbox),
            read,
        },
        Change::Tags { id, mailbox, tags } => Event::Tags {
            id,
            mailbox: name(mailbox),
            tags,
        },
        Change::Deleted { id, mailbox } => Event::Deleted {
            id,
            mailbox: name(mailbox),
        },
        Change::Pruned { mailbox } => Event::Pruned {
            mailbox: mailbox.map(name),
        },
        Change::Truncated { mailbox } => Event::Truncated {
            mailbox: mailbox.map(name),
        },
        Change::Mailboxes => return true,
    };
    let _ = events.send(event);
    false
}

async fn load(pool: &Pool, seq: u64) -> Option<Arc<crate::store::StoredMessage>> {
    let client = pool.get().await.ok()?;
    super::load(&**client, &[seq as i64]).await.ok()?.pop()
}

async fn reload_mailboxes(pool: &Pool, registry: &Registry, events: &broadcast::Sender<Event>) {
    let Ok(client) = pool.get().await else {
        return;
    };
    match super::mailboxes::load(&**client).await {
        Ok(loaded) => {
            registry.replace(loaded);
            let _ = events.send(Event::Mailboxes);
        }
        Err(e) => tracing::warn!(error = %super::schema::describe(&e), "cannot reload mailboxes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip() {
        let note = Note {
            node: 7,
            change: Change::Deleted {
                id: "x".into(),
                mailbox: "default".into(),
            },
        };
        let text = serde_json::to_string(&note).unwrap();
        assert_eq!(serde_json::from_str::<Note>(&text).unwrap(), note);
    }
}
