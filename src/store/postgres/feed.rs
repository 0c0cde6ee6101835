//! The nodes' shared change feed, by LISTEN/NOTIFY.
//!
//! Every event a node publishes is also sent as a notification on the
//! `mailcatch` channel (a small JSON payload naming the sending node): a
//! new message, by its sequence number only, inside the transaction that
//! stores it (PostgreSQL delivers it at the commit); other changes after
//! their commit. Every node
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
/// Changes waiting to be sent; beyond this the others get one refetch.
const OUTGOING: usize = 4096;
/// Notifications received but not yet handled.
const INCOMING: usize = 4096;
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7900;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Change {
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

impl Change {
    /// The change an event announces to other nodes, if any (SMTP
    /// diagnostics and outbound deliveries are this node's own).
    fn of(event: &Event) -> Option<Change> {
        let name = |m: &Arc<str>| m.to_string();
        Some(match event {
            Event::New(message) => Change::New {
                seq: message.id.seq,
            },
            Event::Read { id, mailbox, read } => Change::Read {
                id: id.clone(),
                mailbox: name(mailbox),
                read: *read,
            },
            Event::Tags { id, mailbox, tags } => Change::Tags {
                id: id.clone(),
                mailbox: name(mailbox),
                tags: tags.clone(),
            },
            Event::Deleted { id, mailbox } => Change::Deleted {
                id: id.clone(),
                mailbox: name(mailbox),
            },
            Event::Pruned { mailbox } => Change::Pruned {
                mailbox: mailbox.as_ref().map(name),
            },
            Event::Truncated { mailbox } => Change::Truncated {
                mailbox: mailbox.as_ref().map(name),
            },
            Event::Mailboxes => Change::Mailboxes,
            Event::SmtpError { .. } | Event::Delivery { .. } => return None,
        })
    }
}

/// This node's side of the shared feed.
pub(crate) struct Feed {
    node: u64,
    outgoing: Mutex<Option<mpsc::Sender<String>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Feed {
    pub fn new() -> Feed {
        let mut node = [0u8; 8];
        let _ = getrandom::fill(&mut node);
        Feed {
            node: u64::from_le_bytes(node),
            outgoing: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Starts sending this node's changes and following the others'; the
    /// node listens before this returns, so nothing committed after its
    /// start is missed.
    pub async fn start(
        &self,
        pool: Pool,
        config: Config,
        events: broadcast::Sender<Event>,
        registry: Arc<Registry>,
    ) {
        let (sender, receiver) = mpsc::channel(OUTGOING);
        let first = match listen(&config).await {
            Ok(listening) => Some(listening),
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the other nodes yet; retrying");
                None
            }
        };
        *self.outgoing.lock() = Some(sender);
        let mut tasks = self.tasks.lock();
        tasks.push(tokio::spawn(send(pool.clone(), receiver)));
        tasks.push(tokio::spawn(follow(
            self.node, first, pool, config, events, registry,
        )));
    }

    /// The payload announcing message `seq`: sent inside the transaction
    /// that stores it, so the others hear of every committed message, even
    /// when this node dies right after the commit.
    pub fn new_message(&self, seq: u64) -> String {
        serde_json::to_string(&Note {
            node: self.node,
            change: Change::New { seq },
        })
        .unwrap_or_default()
    }

    /// Queues an event of this node for the others (never blocks; a full
    /// queue becomes one refetch). New messages went out with their commit.
    pub fn announce(&self, event: &Event) {
        let Some(change) = Change::of(event) else {
            return;
        };
        if let Change::New { .. } = change {
            return;
        }
        let Some(sender) = self.outgoing.lock().clone() else {
            return;
        };
        let mut payload = serde_json::to_string(&Note {
            node: self.node,
            change,
        })
        .unwrap_or_default();
        if payload.len() > MAX_PAYLOAD {
            payload = self.refetch();
        }
        if sender.try_send(payload).is_err() {
            // Full: the others will refetch once this gets through.
            let _ = sender.try_send(self.refetch());
        }
    }

    fn refetch(&self) -> String {
        serde_json::to_string(&Note {
            node: self.node,
            change: Change::Pruned { mailbox: None },
        })
        .unwrap_or_default()
    }

    pub fn stop(&self) {
        self.outgoing.lock().take();
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

/// Sends queued payloads, as many as are waiting in one statement.
async fn send(pool: Pool, mut queue: mpsc::Receiver<String>) {
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, 256).await > 0 {
        let sent = match pool.get().await {
            Ok(client) => client
                .execute(
                    "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                    &[&CHANNEL, &batch],
                )
                .await
                .map(|_| ())
                .map_err(|e| super::schema::describe(&e)),
            Err(e) => Err(super::pool_error(&e)),
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not notify the other nodes");
        }
        batch.clear();
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
