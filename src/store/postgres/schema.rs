//! Connecting to PostgreSQL and creating or migrating the schema: several
//! nodes may start at once, so migration runs under an advisory lock; a
//! schema newer than this build is refused.

use tokio_postgres::{Client, Config};

use super::deliveries::SCHEMA_V3;

/// The schema this build writes; `mailcatch_schema` holds a database's.
pub(super) const SCHEMA_VERSION: i32 = 4;

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

/// Version 2: the free text as `TEXT` (`plain`), which a trigram index can
/// serve, with the exact bytes kept in `text` only for the rare text that
/// holds NUL (which `TEXT` refuses; `plain` has a space there); and the
/// totals kept by triggers in 16 rows (their sums are the totals), so counting is not a
/// scan of every message. Each transaction adds its changes to the slot of
/// its connection, so concurrent writers rarely wait on the same row.
/// Writers are held off while the totals are first counted.
const SCHEMA_V2: &str = "
LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE;
ALTER TABLE message_text ALTER COLUMN text DROP NOT NULL;
ALTER TABLE message_text ADD COLUMN plain TEXT;
UPDATE message_text SET plain = convert_from(text, 'UTF8'), text = NULL
    WHERE position('\\x00'::bytea IN text) = 0;
CREATE TABLE message_totals (
    slot INTEGER PRIMARY KEY,
    total BIGINT NOT NULL,
    unread BIGINT NOT NULL,
    bytes BIGINT NOT NULL
);
INSERT INTO message_totals SELECT slot, 0, 0, 0 FROM generate_series(0, 15) AS slot;
UPDATE message_totals SET (total, unread, bytes) =
    (SELECT count(*), count(*) FILTER (WHERE NOT read), coalesce(sum(kept), 0) FROM messages)
    WHERE slot = 0;
CREATE FUNCTION mailcatch_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE message_totals t SET total = t.total + d.n, unread = t.unread + d.u, bytes = t.bytes + d.b
    FROM (SELECT count(*) AS n, count(*) FILTER (WHERE NOT read) AS u,
                 coalesce(sum(kept), 0) AS b FROM added) d
    WHERE t.slot = pg_backend_pid() % 16 AND d.n > 0;
    RETURN NULL;
END $$;
CREATE FUNCTION mailcatch_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE message_totals t SET total = t.total - d.n, unread = t.unread - d.u, bytes = t.bytes - d.b
    FROM (SELECT count(*) AS n, count(*) FILTER (WHERE NOT read) AS u,
                 coalesce(sum(kept), 0) AS b FROM removed) d
    WHERE t.slot = pg_backend_pid() % 16 AND d.n > 0;
    RETURN NULL;
END $$;
CREATE FUNCTION mailcatch_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE message_totals t SET unread = t.unread + d.u
    FROM (SELECT (SELECT count(*) FROM added WHERE NOT read)
               - (SELECT count(*) FROM removed WHERE NOT read) AS u) d
    WHERE t.slot = pg_backend_pid() % 16 AND d.u <> 0;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_counted_added AFTER INSERT ON messages
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION mailcatch_count_added();
CREATE TRIGGER messages_counted_removed AFTER DELETE ON messages
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION mailcatch_count_removed();
CREATE TRIGGER messages_counted_changed AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION mailcatch_count_changed();
";

/// Version 4: a message's parts go with it by one statement-level trigger
/// instead of foreign keys. Parts are only ever written in the transaction
/// that writes their message, so the keys guarded nothing, yet each part
/// row cost a key check at insert (four per message, a fifth of the
/// server's work per stored message); deleting through the trigger is one
/// join per table instead of a cascade row by row. Tags keep their key:
/// they are also written later, when a message may be deleted meanwhile.
/// And the read messages get an index of their own, with which a free-text
/// search counts its unread matches without reading every matching message.
const SCHEMA_V4: &str = "
CREATE INDEX messages_read ON messages (seq) WHERE read;
ALTER TABLE message_fields DROP CONSTRAINT IF EXISTS message_fields_seq_fkey;
ALTER TABLE message_text DROP CONSTRAINT IF EXISTS message_text_seq_fkey;
ALTER TABLE message_summary DROP CONSTRAINT IF EXISTS message_summary_seq_fkey;
ALTER TABLE message_raw DROP CONSTRAINT IF EXISTS message_raw_seq_fkey;
CREATE FUNCTION mailcatch_remove_parts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_fields p USING removed r WHERE p.seq = r.seq;
    DELETE FROM message_text p USING removed r WHERE p.seq = r.seq;
    DELETE FROM message_summary p USING removed r WHERE p.seq = r.seq;
    DELETE FROM message_raw p USING removed r WHERE p.seq = r.seq;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_parts_removed AFTER DELETE ON messages
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION mailcatch_remove_parts();
";

/// The trigram index that serves free-text search, when the `pg_trgm`
/// extension can be had (it needs the right to create it in the database).
const TRIGRAM_INDEX: &str = "
CREATE INDEX message_text_trigrams ON message_text USING gin (plain gin_trgm_ops)";

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
    let mut outcome = migrate(client).await;
    if outcome.is_ok() {
        outcome = index_text(client).await;
    }
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
        found => {
            let from = found.unwrap_or(0);
            let tx = client.transaction().await.map_err(describe)?;
            if from < 1 {
                let start = jiff::Timestamp::now().as_microsecond().max(1);
                tx.batch_execute(SCHEMA_V1).await.map_err(describe)?;
                tx.execute("INSERT INTO message_clock (last) VALUES ($1)", &[&start])
                    .await
                    .map_err(describe)?;
            }
            if from < 2 {
                tx.batch_execute(SCHEMA_V2).await.map_err(describe)?;
                plain_text_with_nul(&tx).await.map_err(describe)?;
            }
            if from < 3 {
                tx.batch_execute(SCHEMA_V3).await.map_err(describe)?;
            }
            if from < 4 {
                tx.batch_execute(SCHEMA_V4).await.map_err(describe)?;
            }
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

/// Fills `plain` for the texts version 2 could not convert in SQL (those
/// holding NUL), then requires it.
async fn plain_text_with_nul(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<(), tokio_postgres::Error> {
    let rows = tx
        .query(
            "SELECT seq, text FROM message_text WHERE plain IS NULL",
            &[],
        )
        .await?;
    for row in rows {
        let (seq, text): (i64, Vec<u8>) = (row.get(0), row.get(1));
        let plain = String::from_utf8_lossy(&text).replace('\0', " ");
        tx.execute(
            "UPDATE message_text SET plain = $2 WHERE seq = $1",
            &[&seq, &plain],
        )
        .await?;
    }
    tx.batch_execute("ALTER TABLE message_text ALTER COLUMN plain SET NOT NULL")
        .await
}

/// Creates the trigram index over the free text if `pg_trgm` is there or
/// may be created; without it free-text search still works, by scanning.
async fn index_text(client: &mut Client) -> Result<(), String> {
    let indexed: bool = client
        .query_one(
            "SELECT to_regclass('message_text_trigrams') IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| describe(&e))?
        .get(0);
    if indexed {
        return Ok(());
    }
    let extension = client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        .await;
    if let Err(e) = extension {
        tracing::warn!(
            reason = %describe(&e),
            "no pg_trgm extension: free-text search scans every message (create it as a superuser: CREATE EXTENSION pg_trgm)"
        );
        return Ok(());
    }
    client
        .batch_execute(TRIGRAM_INDEX)
        .await
        .map_err(|e| describe(&e))
}

/// A driver error as one line: the server's own message when it sent one
/// (it never contains the password), else the driver's.
pub(super) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}
