//! Waiting for mail on the server, so tests need not poll.
//!
//! A waiter first subscribes to the change feed, then searches the store,
//! so a message arriving in between is seen one way or the other (and
//! de-duplicated). After that it only listens: each new message is tested
//! against the query on its own, which costs nothing while no mail comes;
//! anything that can change earlier answers (a deletion, a read or tag
//! change, a feed that lagged) makes it search the store again. Matches are
//! counted from a cursor in arrival order, never from a newest-N window, so
//! a match is found however much mail arrived after it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use super::App;
use crate::shutdown::Shutdown;
use crate::store::{Event, Query, StoreError, StoredMessage, cursor_text};

/// Where in arrival order matches start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// Every stored message counts.
    Start,
    /// Only messages that arrive after the request.
    Now,
    /// Messages after the one with this sequence number.
    After(u64),
}

/// What to wait for.
pub struct WaitRequest {
    pub query: Query,
    /// How many matches to wait for, at least 1.
    pub count: usize,
    pub after: Cursor,
    pub timeout: Duration,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Found,
    TimedOut,
    ShuttingDown,
}

/// The matches, oldest first, and the cursor that continues after them.
pub struct Waited {
    pub messages: Vec<Arc<StoredMessage>>,
    pub cursor: String,
    pub outcome: Outcome,
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("too many waiting requests ({0}); try again later")]
    TooManyWaiters(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts a waiter for as long as it lives.
struct WaiterSlot<'a>(&'a App);

impl Drop for WaiterSlot<'_> {
    fn drop(&mut self) {
        self.0.waiters.fetch_sub(1, Ordering::Relaxed);
    }
}

impl App {
    /// Waiters right now (each a client holding a request open).
    pub fn waiting(&self) -> usize {
        self.waiters.load(Ordering::Relaxed)
    }

    fn take_waiter_slot(&self) -> Result<WaiterSlot<'_>, WaitError> {
        let max = self.settings.config.http.wait_max_waiters.max(1);
        let before = self.waiters.fetch_add(1, Ordering::Relaxed);
        let slot = WaiterSlot(self);
        if before >= max {
            return Err(WaitError::TooManyWaiters(max));
        }
        Ok(slot)
    }

    /// Waits until `request.count` messages matching the query arrived after
    /// the cursor, the time-out passes, or `shutdown` fires.
    pub async fn wait(
        &self,
        request: WaitRequest,
        mut shutdown: Shutdown,
    ) -> Result<Waited, WaitError> {
        // Subscribed before "now" is read, so nothing arriving in between is
        // missed; counted as waiting only once its cursor is fixed, so a
        // client that sees the count and then sends knows the wait will see it.
        let mut events = self.subscribe();
        let after = match request.after {
            Cursor::Start => 0,
            Cursor::After(seq) => seq,
            Cursor::Now => self.newest_seq().await?,
        };
        let _slot = self.take_waiter_slot()?;
        let query = request.query.arrived_after(after);
        let count = request.count.max(1);
        let deadline = tokio::time::Instant::now() + request.timeout;
        let mut found = self.oldest_matches(&query, count).await?;
        let outcome = loop {
            if found.len() >= count {
                break Outcome::Found;
            }
            tokio::select! {
                event = events.recv() => match event {
                    Ok(Event::New(message)) => {
                        if query.matches(&message) && !found.iter().any(|m| m.id == message.id) {
                            found.push(message);
                        }
                    }
                    Ok(Event::SmtpError { .. } | Event::Delivery { .. }) => {}
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        found = self.oldest_matches(&query, count).await?;
                    }
                    Err(RecvError::Closed) => break Outcome::ShuttingDown,
                },
                _ = tokio::time::sleep_until(deadline) => break Outcome::TimedOut,
                _ = shutdown.wait() => break Outcome::ShuttingDown,
            }
        };
        found.sort_by_key(|m| m.id.seq);
        found.truncate(count);
        let last = found.last().map_or(after, |m| m.id.seq);
        Ok(Waited {
            messages: found,
            cursor: cursor_text(last),
            outcome,
        })
    }

    /// The sequence number a message arriving from now on will exceed.
    async fn newest_seq(&self) -> Result<u64, StoreError> {
        let now = jiff::Timestamp::now().as_microsecond().max(0) as u64;
        let newest = self.store.latest(None).await?.map_or(0, |m| m.id.seq);
        Ok(now.max(newest))
    }

    /// Up to `count` matches, oldest first: a count, then only the slice
    /// wanted, so memory stays bounded by `count` however many match. If
    /// mail arrived between the two, the slice may have shifted towards the
    /// newest, so it is taken again (a few times at most; after that the
    /// shifted slice is still correct but for the oldest few).
    async fn oldest_matches(
        &self,
        query: &Query,
        count: usize,
    ) -> Result<Vec<Arc<StoredMessage>>, StoreError> {
        let mut matched = self.store.search(query, 0, 0).await?.matched;
        for _ in 0..3 {
            let start = matched.saturating_sub(count);
            let page = self.store.search(query, start, count).await?;
            if page.matched == matched {
                let mut oldest = page.messages;
                oldest.reverse();
                return Ok(oldest);
            }
            matched = page.matched;
        }
        let mut all = self.store.search(query, 0, usize::MAX).await?.messages;
        all.reverse();
        all.truncate(count);
        Ok(all)
    }
}
