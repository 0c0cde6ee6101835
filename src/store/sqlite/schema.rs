//! Opening a database file safely: one process at a time, only files that
//! are mailcatch databases (or empty), schema created or migrated, a newer
//! schema refused.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::deliveries::SCHEMA_V3;

/// `PRAGMA application_id` of a mailcatch database ("MCAT").
const APPLICATION_ID: i32 = 0x4d43_4154;
/// The schema this build writes; `PRAGMA user_version` holds a file's.
pub(super) const SCHEMA_VERSION: i32 = 3;

/// The first schema. A message is split by how it is read, so that each
/// scan reads only what it tests: `messages` (narrow rows: listing order,
/// read state, sizes, counts) for every listing and filter, `message_fields`
/// (the address, subject and Message-ID text field filters match, already
/// normalised, and a Bloom filter of the free text) and `message_text` (the free-text search text) only for
/// searches that need them, `message_summary` only for the rows of a page,
/// and `message_raw` only when a message is opened.
const SCHEMA_V1: &str = "
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    created INTEGER NOT NULL,
    size INTEGER NOT NULL,
    kept INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    attachments INTEGER NOT NULL,
    inline INTEGER NOT NULL
);
CREATE TABLE message_fields (
    seq INTEGER PRIMARY KEY,
    from_ TEXT NOT NULL,
    to_ TEXT NOT NULL,
    cc TEXT NOT NULL,
    bcc TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    text_bloom BLOB NOT NULL
);
CREATE TABLE message_text (seq INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE message_summary (seq INTEGER PRIMARY KEY, summary TEXT NOT NULL, meta TEXT NOT NULL);
CREATE TABLE message_raw (seq INTEGER PRIMARY KEY, lz4 INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE message_tags (
    seq INTEGER NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (seq, tag)
) WITHOUT ROWID;
CREATE INDEX message_tags_by_tag ON message_tags (tag COLLATE NOCASE);
";

/// Mailboxes: each message names its own, and a mailbox's listing reads
/// the index in arrival order; the settings of each mailbox sit in a table
/// of their own (the `default` mailbox needs no row).
const SCHEMA_V2: &str = "
ALTER TABLE messages ADD COLUMN mailbox TEXT NOT NULL DEFAULT 'default';
CREATE INDEX messages_by_mailbox ON messages (mailbox, seq);
CREATE TABLE mailboxes (
    name TEXT PRIMARY KEY,
    private INTEGER NOT NULL,
    smtp_password TEXT,
    token_digest BLOB,
    expires INTEGER,
    created INTEGER NOT NULL
);
";

/// Why a database could not be opened. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database {path}: {reason}")]
    Refused { path: PathBuf, reason: String },
}

pub(super) fn refused(path: &Path, reason: impl Into<String>) -> OpenError {
    OpenError::Refused {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Takes the lock that keeps a second mailcatch off the same file: an
/// advisory lock on a `-lock` file beside it, held for the process's life.
/// (Locking the database file itself would not do: closing any descriptor
/// of it drops SQLite's own POSIX locks.)
pub(super) fn lock(path: &Path) -> Result<File, OpenError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push("-lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| refused(path, format!("cannot create its lock file: {e}")))?;
    file.try_lock().map_err(|_| {
        refused(
            path,
            "another mailcatch is using it (two processes cannot share one SQLite file)",
        )
    })?;
    Ok(file)
}

/// Checks the directory and the file's first bytes before SQLite touches
/// it, so a wrong path is never turned into a database.
pub(super) fn check_file(path: &Path) -> Result<(), OpenError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(refused(
            path,
            format!("directory {} does not exist", dir.display()),
        ));
    }
    let Ok(mut file) = File::open(path) else {
        return Ok(()); // absent: it will be created
    };
    let mut header = [0u8; 16];
    let read = std::io::Read::read(&mut file, &mut header).unwrap_or(0);
    if read > 0 && (read < 16 || &header != b"SQLite format 3\0") {
        return Err(refused(path, "not a mailcatch database (not SQLite)"));
    }
    Ok(())
}

/// Opens a connection with the settings every connection shares.
pub(super) fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // NORMAL in WAL mode: a commit is in the OS before it returns, so a
    // process crash loses nothing acknowledged; a power loss can lose the
    // last commits before a checkpoint, never consistency.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000;",
    )?;
    super::search::register(&conn)?;
    Ok(conn)
}

/// Creates the schema in an empty database, migrates an older one, and
/// refuses anything else.
pub(super) fn prepare(path: &Path, conn: &Connection) -> Result<(), OpenError> {
    let fail = |e: rusqlite::Error| refused(path, describe(&e));
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(fail)?;
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(fail)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(fail)?;
    if app_id == 0 && tables == 0 {
        // Incremental auto-vacuum must be chosen before the first table.
        conn.execute_batch(&format!(
            "PRAGMA auto_vacuum = INCREMENTAL; VACUUM;
             BEGIN; {SCHEMA_V1} {SCHEMA_V2} {SCHEMA_V3}
             PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(fail)?;
        return Ok(());
    }
    if app_id != APPLICATION_ID {
        return Err(refused(path, "not a mailcatch database"));
    }
    if version > SCHEMA_VERSION {
        return Err(refused(
            path,
            format!(
                "written by a newer mailcatch (schema {version}; this one knows up to {SCHEMA_VERSION})"
            ),
        ));
    }
    check_integrity(path, conn)?;
    if version < 2 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"
        ))
        .map_err(fail)?;
    }
    if version < 3 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V3} PRAGMA user_version = 3; COMMIT;"
        ))
        .map_err(fail)?;
    }
    Ok(())
}

/// Files up to this size are checked page by page at start (about 0.3 s
/// per 350 MB when cached); larger ones only by their header and schema,
/// so start-up stays quick.
const CHECKED_AT_START_BYTES: u64 = 2 << 30;

/// Refuses a database whose pages are damaged, before anything is served
/// from it (and before anything is written to it).
fn check_integrity(path: &Path, conn: &Connection) -> Result<(), OpenError> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > CHECKED_AT_START_BYTES {
        tracing::info!(
            size,
            "database too large to check at start; skipping quick_check"
        );
        return Ok(());
    }
    let verdict: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| refused(path, describe(&e)))?;
    if verdict != "ok" {
        let first = verdict
            .lines()
            .find(|l| !l.starts_with("***"))
            .unwrap_or("");
        return Err(refused(path, format!("the database is corrupt ({first})")));
    }
    Ok(())
}

/// Caps the file at `MAILCATCH_SQLITE_MAX_PAGES` pages when that is set: a
/// full disk on demand, so tests can check that a full disk refuses mail
/// cleanly (SMTP 452, HTTP 507) and that mail flows again once space is
/// freed. Not a user setting: `--max-store-size` is.
pub(super) fn limit_size_for_tests(conn: &Connection) -> rusqlite::Result<()> {
    if let Some(pages) = std::env::var("MAILCATCH_SQLITE_MAX_PAGES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
    }
    Ok(())
}

/// A short, user-facing text for an SQLite error.
pub(super) fn describe(error: &rusqlite::Error) -> String {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => "not a mailcatch database (corrupt?)".into(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => "the database is corrupt".into(),
        Some(rusqlite::ErrorCode::CannotOpen) => "cannot open the file".into(),
        Some(rusqlite::ErrorCode::ReadOnly) => "the file is read-only".into(),
        Some(rusqlite::ErrorCode::PermissionDenied) => "permission denied".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_schema_database_gains_mailboxes() {
        let dir = std::env::temp_dir().join(format!("mailcatch-migrate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.db");
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V1} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;
             INSERT INTO messages (seq, id, created, size, kept, attachments, inline)
             VALUES (1, 'x', 0, 1, 1, 0, 0); COMMIT;"
        ))
        .unwrap();
        prepare(&path, &conn).unwrap();
        let mailbox: String = conn
            .query_row("SELECT mailbox FROM messages WHERE seq = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(mailbox, "default");
        let version: i32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        prepare(&path, &conn).expect("a second open changes nothing");
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
