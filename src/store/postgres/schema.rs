//! Connecting to PostgreSQL and creating or migrating the schema: several
//! nodes may start at once, so migration runs under an advisory lock; a
//! schema newer than this build is refused.

use tokio_postgres::{Client, Config};

use super::deliveries::SCHEMA_V2;

/// The schema this build writes; `mailcatch_schema` holds a database's.
pub(super) const SCHEMA_VERSION: i32 = 2;

/// Key of the advisory lock held while the schema is checked or created.
const MIGRATION_LOCK: i64 = 0x4d43_4154_0001;

/// The first schema. The searched text is kept as bytes (`BYTEA`): a
/// message's text may hold NUL, which `TEXT` refuses, and `position` on
/// bytes is exactly the other engines' byte substring test. As in the SQLite engine a message is split by how it
/// is read: `messages` (narrow rows: order, read state, sizes, mailbox) for
/// listings and counts, `message_fields` (the normalised text the field
/// filters match) and `message_text` (the free text) only for searches,
/// `message_summary` only for a page's rows, `message_raw` only when a
/// message is opened. Every part goes with its message (`ON DELETE
/// CASCADE`). `seq` comes from `message_clock`, so IDs stay unique whichever
/// node stores a message: like the other engines' numbers it is the
/// database's time in Unix microseconds, bumped by one on collisions (the
/// wait endpoint's `after=now` relies on that).
const SCHEMA_V1: &str = "
CREATE TABLE messages (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL,
    created BIGINT NOT NULL,
    size BIGINT NOT NULL,
    kept BIGINT NOT NULL,
    read BOOLEAN NOT NULL DEFAULT false,
    tags TEXT NOT NULL DEFAULT '[]',
    attachments INTEGER NOT NULL,
    inline INTEGER NOT NULL,
    mailbox TEXT NOT NULL
);
CREATE INDEX messages_by_mailbox ON messages (mailbox, seq);
CREATE INDEX messages_by_created ON messages (created);
CREATE TABLE message_fields (
    seq BIGINT PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    from_ BYTEA NOT NULL,
    to_ BYTEA NOT NULL,
    cc BYTEA NOT NULL,
    bcc BYTEA NOT NULL,
    reply_to BYTEA NOT NULL,
    subject BYTEA NOT NULL,
    message_id BYTEA NOT NULL
);
CREATE TABLE message_text (
    seq BIGINT PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    text BYTEA NOT NULL
);
CREATE TABLE message_summary (
    seq BIGINT PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    summary TEXT NOT NULL,
    meta TEXT NOT NULL
);
CREATE TABLE message_raw (
    seq BIGINT PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    lz4 BOOLEAN NOT NULL,
    data BYTEA NOT NULL
);
CREATE TABLE message_tags (
    seq BIGINT NOT NULL REFERENCES messages ON DELETE CASCADE,
    tag TEXT NOT NULL,
    folded TEXT NOT NULL,
    PRIMARY KEY (seq, tag)
);
CREATE INDEX message_tags_by_tag ON message_tags (folded);
CREATE TABLE message_clock (last BIGINT NOT NULL);
CREATE TABLE mailboxes (
    name TEXT PRIMARY KEY,
    private BOOLEAN NOT NULL,
    smtp_password TEXT,
    token_digest BYTEA,
    expires BIGINT,
    created BIGINT NOT NULL
);
";

/// The database named by a URL, shown without its password: what logs and
/// error messages say instead of the URL.
pub(crate) fn redacted(config: &Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

/// Parses a `postgres://` or `postgresql://` URL (or libpq `key=value`
/// words) without ever echoing it: a parse error could quote the password.
pub(crate) fn parse(url: &str) -> Result<Config, String> {
    let config: Config = url.parse().map_err(|_| {
        "--database: not a valid PostgreSQL URL (postgres://user:password@host:port/dbname)"
            .to_string()
    })?;
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(
            "--database: sslmode=require is not supported (no TLS to the database); use sslmode=disable or prefer"
                .into(),
        );
    }
    Ok(config)
}

/// Checks the encoding, then creates or migrates the schema under the
/// migration lock; refuses a schema newer than [`SCHEMA_VERSION`].
pub(super) async fn prepare(client: &mut Client) -> Result<(), String> {
    let describe = |e: tokio_postgres::Error| describe(&e);
    let encoding: String = client
        .query_one("SHOW server_encoding", &[])
        .await
        .map_err(describe)?
        .get(0);
    // Summaries and names may hold any character: only UTF-8 (or raw
    // bytes) keeps them all.
    if encoding != "UTF8" && encoding != "SQL_ASCII" {
        return Err(format!(
            "the database's encoding is {encoding}; mailcatch needs UTF8"
        ));
    }
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(describe)?;
    let outcome = migrate(client).await;
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    outcome
}

async fn migrate(client: &mut Client) -> Result<(), String> {
    let describe = |e: tokio_postgres::Error| describe(&e);
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS mailcatch_schema (version INTEGER NOT NULL)")
        .await
        .map_err(describe)?;
    let version: Option<i32> = client
        .query_one("SELECT max(version) FROM mailcatch_schema", &[])
        .await
        .map_err(describe)?
        .get(0);
    match version {
        Some(v) if v > SCHEMA_VERSION => Err(format!(
            "its schema is version {v}, newer than this mailcatch understands ({SCHEMA_VERSION}); upgrade mailcatch"
        )),
        Some(v) if v == SCHEMA_VERSION => Ok(()),
        Some(_) => {
            let tx = client.transaction().await.map_err(describe)?;
            tx.batch_execute(SCHEMA_V2).await.map_err(describe)?;
            tx.execute(
                "INSERT INTO mailcatch_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(describe)?;
            tx.commit().await.map_err(describe)
        }
        None => {
            let start = jiff::Timestamp::now().as_microsecond().max(1);
            let tx = client.transaction().await.map_err(describe)?;
            tx.batch_execute(SCHEMA_V1).await.map_err(describe)?;
            tx.batch_execute(SCHEMA_V2).await.map_err(describe)?;
            tx.execute("INSERT INTO message_clock (last) VALUES ($1)", &[&start])
                .await
                .map_err(describe)?;
            tx.execute(
                "INSERT INTO mailcatch_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(describe)?;
            tx.commit().await.map_err(describe)
        }
    }
}

/// A driver error as one line: the server's own message when it sent one
/// (it never contains the password), else the driver's.
pub(super) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}
