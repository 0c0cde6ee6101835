//! The one writer: a thread that owns the write connection and commits in
//! groups.
//!
//! Every change is a job sent to this thread. It takes whatever jobs are
//! waiting, runs each inside its own savepoint of one transaction, commits
//! once, and only then answers each job. So a `250` (which waits for that
//! answer) always means committed, and the cost of a commit is shared by
//! every message that arrived while the previous one was being written.
//! A job that fails is rolled back alone; a commit that fails answers every
//! job of its group with the error.

use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{Counts, StoreError, StoreLimits};

/// Most jobs committed together.
const MAX_GROUP: usize = 256;
/// Jobs waiting for the writer before senders wait too.
pub(super) const QUEUE: usize = 1024;
/// Free pages reclaimed after each group that deleted something, so the
/// file shrinks after big deletions without one long stall.
const VACUUM_PAGES_PER_GROUP: u32 = 256;

/// What a job sees: the connection inside the group's transaction, and the
/// totals it must keep in step with what it changes.
pub(super) struct Context<'a> {
    pub conn: &'a Connection,
    pub totals: &'a mut Counts,
    pub limits: StoreLimits,
    /// Set by jobs that delete rows, so free pages get reclaimed.
    pub freed: bool,
}

/// Answers a job once its group's fate is known.
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A unit of work for the writer.
pub(super) type Job = Box<dyn FnOnce(&mut Context<'_>) -> (bool, Finish) + Send>;

/// Wraps `work` as a job, and returns the receiver of its outcome.
pub(super) fn job<T: Send + 'static>(
    work: impl FnOnce(&mut Context<'_>) -> rusqlite::Result<T> + Send + 'static,
) -> (Job, oneshot::Receiver<Result<T, StoreError>>) {
    let (reply, outcome) = oneshot::channel();
    let job: Job = Box::new(move |context| match work(context) {
        Ok(value) => (
            true,
            Box::new(move |committed: Result<(), StoreError>| {
                let _ = reply.send(committed.map(|()| value));
            }),
        ),
        Err(error) => {
            let error = classify(&error);
            (
                false,
                Box::new(move |_| {
                    let _ = reply.send(Err(error));
                }),
            )
        }
    });
    (job, outcome)
}

/// Maps an SQLite error to what callers tell their clients.
pub(super) fn classify(error: &rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
    match error.sqlite_error_code() {
        Some(DiskFull | SystemIoFailure) => StoreError::Full(super::schema::describe(error)),
        _ => StoreError::Unavailable(super::schema::describe(error)),
    }
}

/// Runs jobs until every sender is gone.
pub(super) fn run(
    conn: Connection,
    mut jobs: mpsc::Receiver<Job>,
    limits: StoreLimits,
    mut totals: Counts,
    shared: Arc<Mutex<Counts>>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = jobs.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP
            && let Ok(next) = jobs.try_recv()
        {
            group.push(next);
        }
        let freed = commit_group(&conn, &mut group, limits, &mut totals, &shared);
        if freed {
            let _ = conn.execute_batch(&format!(
                "PRAGMA incremental_vacuum({VACUUM_PAGES_PER_GROUP})"
            ));
        }
    }
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
}

/// Runs one group in one transaction and answers its jobs; returns whether
/// rows were deleted.
fn commit_group(
    conn: &Connection,
    group: &mut Vec<Job>,
    limits: StoreLimits,
    totals: &mut Counts,
    shared: &Mutex<Counts>,
) -> bool {
    let before = *totals;
    if let Err(error) = conn
        .prepare_cached("BEGIN IMMEDIATE")
        .and_then(|mut s| s.execute([]))
    {
        let error = classify(&error);
        for job in group.drain(..) {
            drop(job); // dropping the reply tells the caller it failed
        }
        tracing::error!(%error, "cannot begin a transaction");
        return false;
    }
    let mut finishes = Vec::with_capacity(group.len());
    let mut freed = false;
    // Cached statements: parsing these per job showed in profiles.
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([]));
    for job in group.drain(..) {
        let saved = *totals;
        let _ = run("SAVEPOINT job");
        let mut context = Context {
            conn,
            totals,
            limits,
            freed: false,
        };
        let (ok, finish) = job(&mut context);
        freed |= context.freed && ok;
        if ok {
            let _ = run("RELEASE job");
        } else {
            *totals = saved;
            let _ = run("ROLLBACK TO job");
            let _ = run("RELEASE job");
        }
        finishes.push(finish);
    }
    let committed = run("COMMIT").map(drop).map_err(|error| {
        let _ = conn.execute_batch("ROLLBACK");
        *totals = before;
        classify(&error)
    });
    if let Err(error) = &committed {
        tracing::error!(%error, "commit failed; the group's writes were refused");
    }
    // Totals first, so a caller that was answered sees its own change.
    *shared.lock() = *totals;
    for finish in finishes {
        finish(committed.clone());
    }
    freed && committed.is_ok()
}
