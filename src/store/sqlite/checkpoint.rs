//! Checkpoints off the writer's path.
//!
//! In WAL mode commits append to the log, and a checkpoint copies the log
//! back into the database file and syncs it. SQLite would do that inside
//! the commit that crosses its threshold, stalling the one writer (and
//! every SMTP client waiting for a 250) on an fsync. Instead the writer
//! never checkpoints, and this thread does, every [`PERIOD`], in PASSIVE
//! mode, which never blocks the writer. A log that has grown past
//! [`RESTART_FRAMES`] anyway (readers kept old frames alive) is checkpointed
//! in RESTART mode, which waits for readers once so the log can start over.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

const PERIOD: Duration = Duration::from_millis(100);
/// About 64 MB of 4 KB pages.
const RESTART_FRAMES: i64 = 16_384;

/// The checkpointing thread; it stops when this is stopped or dropped.
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> rusqlite::Result<Checkpointer> {
        let conn = super::schema::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &stopped))
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
        Ok(Checkpointer {
            _stop: stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(self) {
        let Checkpointer { _stop, thread } = self;
        drop(_stop);
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(PERIOD) {
        let log_frames: rusqlite::Result<i64> =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1));
        if matches!(log_frames, Ok(frames) if frames > RESTART_FRAMES) {
            let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
        }
    }
}
