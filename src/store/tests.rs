//! The store's behaviour, checked on every engine through the facade.

use std::collections::BTreeMap;

use super::*;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mailcatch-store-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `check` on a fresh store of each engine.
async fn on_each_engine<F, Fut>(limits: StoreLimits, check: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    check(Store::in_memory(limits)).await;
    let dir = TempDir::new();
    let (events, _) = broadcast::channel(16);
    let store = Store::open(&Engine::Sqlite(dir.0.join("mail.db")), limits, events).unwrap();
    check(store).await;
    if let Some(store) = on_postgres(limits).await {
        check(store).await;
    }
}

/// A store on a fresh database of the `MAILCATCH_TEST_POSTGRES` server, if
/// one is named (CI names one; see scripts/postgres.sh).
async fn on_postgres(limits: StoreLimits) -> Option<Store> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let url = std::env::var("MAILCATCH_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!(
        "mc_unit_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("MAILCATCH_TEST_POSTGRES is reachable");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let url = format!("{server}/{name}?{query}");
    let (events, _) = broadcast::channel(16);
    let engine = Engine::Postgres(super::PostgresUrl::parse(&url).unwrap());
    Some(Store::connect(&engine, limits, events).await.unwrap())
}

fn limits(max_messages: usize, max_bytes: usize) -> StoreLimits {
    StoreLimits {
        max_messages,
        max_bytes,
        ..StoreLimits::default()
    }
}

fn incoming(subject: &str, body_len: usize) -> Incoming {
    let raw = format!(
        "From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\n{}\r\n",
        "x".repeat(body_len)
    );
    Incoming {
        raw: raw.into(),
        ..Incoming::default()
    }
}

async fn insert(store: &Store, incoming: Incoming) -> Arc<StoredMessage> {
    insert_into(store, DEFAULT_MAILBOX, incoming).await
}

async fn insert_into(store: &Store, mailbox: &str, incoming: Incoming) -> Arc<StoredMessage> {
    let summary = summary::summarize(&incoming.raw, &incoming.envelope);
    let tags = tags::clean_all(summary.auto_tags.iter().map(String::as_str));
    let mailbox = store.ensure_mailbox(mailbox).await.unwrap().unwrap();
    store
        .insert(mailbox, incoming, summary, tags)
        .await
        .unwrap()
}

async fn subjects(store: &Store) -> Vec<String> {
    let page = store.list(0, 0, None).await.unwrap();
    page.messages
        .iter()
        .map(|m| m.summary.subject.clone())
        .collect()
}

#[tokio::test]
async fn lists_newest_first_and_evicts_oldest_by_count() {
    on_each_engine(limits(3, 0), |store| async move {
        for i in 0..5 {
            insert(&store, incoming(&format!("m{i}"), 10)).await;
        }
        assert_eq!(subjects(&store).await, ["m4", "m3", "m2"]);
        assert_eq!(store.counts().await.unwrap().unread, 3);
    })
    .await;
}

#[tokio::test]
async fn evicts_by_bytes_but_keeps_the_newest() {
    on_each_engine(limits(0, 10_000), |store| async move {
        for i in 0..20 {
            insert(&store, incoming(&format!("m{i}"), 2_000)).await;
        }
        assert!(store.counts().await.unwrap().bytes <= 10_000);
        let latest = store.latest(None).await.unwrap().unwrap();
        assert_eq!(latest.summary.subject, "m19");
        // Random bytes do not compress, so this one alone is over the cap.
        let noise: String = (0..50_000u32)
            .map(|i| char::from(b'!' + (i.wrapping_mul(2_654_435_761) >> 27) as u8))
            .collect();
        let huge = insert(&store, incoming(&noise, 0)).await;
        assert_eq!(store.counts().await.unwrap().total, 1);
        let latest = store.latest(None).await.unwrap().unwrap();
        assert_eq!(latest.id(), huge.id());
    })
    .await;
}

#[tokio::test]
async fn read_state_and_deletion_keep_counts_right() {
    on_each_engine(StoreLimits::default(), |store| async move {
        let a = insert(&store, incoming("a", 1)).await;
        let b = insert(&store, incoming("b", 1)).await;
        let ids = [a.id().to_string()];
        assert_eq!(store.set_read(Selection::Ids(&ids), true).await.unwrap(), 1);
        assert_eq!(store.set_read(Selection::Ids(&ids), true).await.unwrap(), 0);
        assert_eq!(store.counts().await.unwrap().unread, 1);
        let gone = [a.id().to_string(), "nonexistent".to_string()];
        assert_eq!(store.delete(Selection::Ids(&gone)).await.unwrap(), 1);
        assert_eq!(store.counts().await.unwrap().unread, 1);
        assert!(store.get(a.id()).await.unwrap().is_none());
        assert!(store.get(b.id()).await.unwrap().is_some());
        store.delete(Selection::All).await.unwrap();
        assert_eq!(store.counts().await.unwrap(), Counts::default());
    })
    .await;
}

#[tokio::test]
async fn raw_bytes_come_back_exact() {
    on_each_engine(StoreLimits::default(), |store| async move {
        let text = "Subject: Report\r\n\r\nThe quarterly report is attached. ".repeat(60);
        for raw in [
            text.as_bytes().to_vec(),
            b"Subject: tiny\r\n\r\nx\r\n".to_vec(),
        ] {
            let message = insert(
                &store,
                Incoming {
                    raw: raw.clone().into(),
                    ..Incoming::default()
                },
            )
            .await;
            let again = store.get(message.id()).await.unwrap().unwrap();
            assert_eq!(&store.raw(&again).await.unwrap()[..], &raw[..]);
            assert_eq!(again.size(), raw.len());
        }
    })
    .await;
}

/// What `tag_counts` would report from a full scan.
async fn scanned_tag_counts(store: &Store) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for message in store.list(0, 0, None).await.unwrap().messages {
        for tag in message.tags() {
            counts.entry(tag.to_ascii_lowercase()).or_insert((tag, 0)).1 += 1;
        }
    }
    counts.into_values().collect()
}

#[tokio::test]
async fn tag_counts_stay_in_step_with_every_change() {
    on_each_engine(limits(4, 0), |store| async move {
        let tagged = |n: usize, tags: &str| Incoming {
            raw: format!("Subject: m{n}\r\nX-Tags: {tags}\r\n\r\nx\r\n").into(),
            ..Incoming::default()
        };
        let check = async |store: &Store| {
            assert_eq!(
                store.tag_counts().await.unwrap(),
                scanned_tag_counts(store).await
            )
        };
        let a = insert(&store, tagged(0, "Alpha, beta")).await;
        insert(&store, tagged(1, "alpha")).await;
        check(&store).await;
        let ids = [a.id().to_string()];
        store
            .set_tags(&ids, &["Gamma".into(), "beta".into()])
            .await
            .unwrap();
        check(&store).await;
        store
            .scoped(&Scope::All)
            .rename_tag("beta", "Delta")
            .await
            .unwrap()
            .unwrap();
        check(&store).await;
        for n in 2..6 {
            insert(&store, tagged(n, "ALPHA, epsilon")).await;
            check(&store).await;
        }
        let newest = [store.latest(None).await.unwrap().unwrap().id().to_string()];
        store.delete(Selection::Ids(&newest)).await.unwrap();
        check(&store).await;
        store
            .scoped(&Scope::All)
            .delete_tag("epsilon")
            .await
            .unwrap()
            .unwrap();
        check(&store).await;
        // Tagging a message already evicted changes nothing.
        store.set_tags(&ids, &["ghost".into()]).await.unwrap();
        check(&store).await;
        store.delete(Selection::All).await.unwrap();
        assert!(store.tag_counts().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn tags_rename_and_delete() {
    on_each_engine(StoreLimits::default(), |store| async move {
        let a = insert(&store, incoming("a", 1)).await;
        let ids = [a.id().to_string()];
        store
            .set_tags(&ids, &["One".into(), "two".into()])
            .await
            .unwrap();
        let tags_of_a = async || store.get(a.id()).await.unwrap().unwrap().tags();
        assert_eq!(tags_of_a().await, ["One", "two"]);
        assert_eq!(
            store
                .scoped(&Scope::All)
                .rename_tag("one", "three")
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(tags_of_a().await, ["three", "two"]);
        assert!(
            store
                .scoped(&Scope::All)
                .rename_tag("missing", "x")
                .await
                .unwrap()
                .is_err()
        );
        assert_eq!(
            store.scoped(&Scope::All).delete_tag("TWO").await.unwrap(),
            Ok(())
        );
        assert_eq!(tags_of_a().await, ["three"]);
    })
    .await;
}

#[tokio::test]
async fn search_gives_the_same_results_on_every_engine() {
    let queries = [
        "report",
        "-report",
        "subject:invoice",
        "from:alice is:unread",
        "\"quarterly report\" has:attachment",
        "tag:urgent",
        "nothingmatchesthis",
        "larger:1k",
        "smaller:1k -larger:100",
        "from:\"alice example\"",
        "from:example.com -from:bob",
        "to:ünïcödé",
        "addressed:carol",
        "cc:dave@",
        "message-id:m7@",
        "is:read",
        "is:unread -tag:urgent",
        "is:tagged",
        "!has:attachment",
        "subject:\"invoice 7\"",
        "re:",
        "x-tags",
        "after:2000-01-01 before:2999-01-01",
        "before:2000-01-01",
        "50%",
        "off_now",
        "%",
        "_",
        "a\\b",
        "nul here",
        "grüße",
    ];
    let mut results: Vec<Vec<Vec<String>>> = Vec::new();
    let collect = async |store: Store| {
        let mails = [
            "From: Alice Example <alice@example.com>\r\nSubject: Invoice 7\r\nX-Tags: urgent\r\nMessage-ID: <m7@example.com>\r\n\r\nthe quarterly report\r\n",
            "From: bob@example.com\r\nTo: =?utf-8?q?=C3=9Cn=C3=AFc=C3=B6d=C3=A9?= <u@example.com>\r\nSubject: Lunch\r\n\r\nno report here, just lunch\r\n",
            "From: alice@example.com\r\nCc: Dave <dave@example.org>, carol@example.net\r\nSubject: Re: Photos\r\n\r\nsee attached\r\n",
            "From: z@example.com\r\nSubject: Sale\r\n\r\n50% off_now at a\\b, nul\0here, grüße\r\n",
            "From: x@example.com\r\nSubject: Files\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nthe quarterly report again\r\n--b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nattached\r\n--b--\r\n",
        ];
        for mail in mails {
            insert(
                &store,
                Incoming {
                    raw: mail.into(),
                    ..Incoming::default()
                },
            )
            .await;
        }
        let big = format!(
            "From: carol@example.com\r\nSubject: Big\r\n\r\n{}\r\n",
            "y".repeat(2000)
        );
        insert(
            &store,
            Incoming {
                raw: big.into(),
                ..Incoming::default()
            },
        )
        .await;
        let first = store.latest(None).await.unwrap().unwrap();
        store
            .set_read(Selection::Ids(&[first.id().to_string()]), true)
            .await
            .unwrap();
        let mut per_query = Vec::new();
        for q in queries {
            let query = Query::parse(q, Some("UTC"));
            let page = store.search(&query, 0, 100).await.unwrap();
            let mut found: Vec<String> = page
                .messages
                .iter()
                .map(|m| m.summary.subject.clone())
                .collect();
            found.push(format!("{}/{}", page.matched, page.matched_unread));
            per_query.push(found);
        }
        per_query
    };
    results.push(collect(Store::in_memory(StoreLimits::default())).await);
    let dir = TempDir::new();
    let (events, _) = broadcast::channel(16);
    let sqlite = Store::open(
        &Engine::Sqlite(dir.0.join("s.db")),
        StoreLimits::default(),
        events,
    )
    .unwrap();
    results.push(collect(sqlite).await);
    if let Some(postgres) = on_postgres(StoreLimits::default()).await {
        results.push(collect(postgres).await);
    }
    for other in &results[1..] {
        for (query, (memory, other)) in queries.iter().zip(results[0].iter().zip(other)) {
            assert_eq!(memory, other, "{query}");
        }
    }
    assert_eq!(results[0][0], ["Files", "Lunch", "Invoice 7", "3/3"]);
}

#[tokio::test]
async fn a_lagging_listener_learns_it_lagged_and_loses_no_mail() {
    let (events, mut listener) = broadcast::channel(16);
    let store = Store::open(&Engine::Memory, limits(0, 0), events).unwrap();
    for i in 0..100 {
        insert(&store, incoming(&format!("m{i}"), 1)).await;
    }
    assert!(matches!(
        listener.try_recv(),
        Err(broadcast::error::TryRecvError::Lagged(_))
    ));
    assert_eq!(store.counts().await.unwrap().total, 100);
}

#[tokio::test]
async fn a_database_keeps_everything_across_reopening() {
    let dir = TempDir::new();
    let path = dir.0.join("keep.db");
    let open = || {
        let (events, _) = broadcast::channel(16);
        Store::open(
            &Engine::Sqlite(path.clone()),
            StoreLimits::default(),
            events,
        )
        .unwrap()
    };
    let store = open();
    let a = insert(&store, incoming("a", 10)).await;
    let b = insert(&store, incoming("b", 10)).await;
    let c = insert(&store, incoming("c", 10)).await;
    store
        .set_read(Selection::Ids(&[a.id().to_string()]), true)
        .await
        .unwrap();
    store
        .set_tags(&[b.id().to_string()], &["kept".into()])
        .await
        .unwrap();
    store
        .delete(Selection::Ids(&[c.id().to_string()]))
        .await
        .unwrap();
    // A second store on the same file is refused while the first is open.
    let (events, _) = broadcast::channel(16);
    let second = Store::open(
        &Engine::Sqlite(path.clone()),
        StoreLimits::default(),
        events,
    );
    assert!(
        second
            .err()
            .unwrap()
            .to_string()
            .contains("another mailcatch")
    );
    store.close().await;
    drop(store);

    let store = open();
    assert_eq!(subjects(&store).await, ["b", "a"]);
    let a2 = store.get(a.id()).await.unwrap().unwrap();
    assert!(a2.is_read());
    assert_eq!(store.get(b.id()).await.unwrap().unwrap().tags(), ["kept"]);
    assert_eq!(store.counts().await.unwrap().unread, 1);
    let d = insert(&store, incoming("d", 10)).await;
    assert!(d.id() > b.id(), "IDs keep increasing across restarts");
}

#[test]
fn refuses_what_is_not_a_mailcatch_database() {
    let dir = TempDir::new();
    let open = |path: PathBuf| {
        let (events, _) = broadcast::channel(16);
        Store::open(&Engine::Sqlite(path), StoreLimits::default(), events)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let text = dir.0.join("notes.txt");
    std::fs::write(&text, "my notes, not a database\n").unwrap();
    assert!(open(text.clone()).contains("not a mailcatch database"));
    assert_eq!(std::fs::read(&text).unwrap(), b"my notes, not a database\n");
    assert!(open(dir.0.join("missing/dir/mail.db")).contains("does not exist"));
    let other = dir.0.join("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(conn);
    assert!(open(other).contains("not a mailcatch database"));
    let newer = dir.0.join("newer.db");
    drop(open_and_close(&newer));
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    assert!(open(newer).contains("newer mailcatch"));
}

#[test]
fn refuses_a_damaged_database_and_leaves_it_alone() {
    let dir = TempDir::new();
    let path = dir.0.join("damaged.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = open_and_close(&path);
        for i in 0..200 {
            insert(&store, incoming(&format!("m{i}"), 500)).await;
        }
        store.close().await;
    });
    let mut bytes = std::fs::read(&path).unwrap();
    for byte in &mut bytes[4096 * 3..4096 * 5] {
        *byte = 0xff;
    }
    std::fs::write(&path, &bytes).unwrap();
    let (events, _) = broadcast::channel(16);
    let refused = Store::open(
        &Engine::Sqlite(path.clone()),
        StoreLimits::default(),
        events,
    );
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("corrupt"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "never written to");
}

fn open_and_close(path: &std::path::Path) -> Store {
    let (events, _) = broadcast::channel(16);
    Store::open(&Engine::Sqlite(path.into()), StoreLimits::default(), events).unwrap()
}

#[tokio::test]
async fn messages_past_the_max_age_are_deleted() {
    let limits = StoreLimits {
        max_age: Some(std::time::Duration::from_millis(300)),
        ..limits(0, 0)
    };
    on_each_engine(limits, |store| async move {
        insert(&store, incoming("old", 1)).await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        insert(&store, incoming("new", 1)).await;
        assert_eq!(store.evict_expired().await.unwrap(), 1);
        assert_eq!(subjects(&store).await, ["new"]);
        assert_eq!(store.deleted(), 1);
    })
    .await;
}

fn one(name: &str) -> Scope {
    Scope::one(Arc::from(name))
}

#[tokio::test]
async fn mailboxes_keep_their_mail_apart() {
    on_each_engine(limits(0, 0), |store| async move {
        for (mailbox, subject) in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2")] {
            insert_into(&store, mailbox, incoming(subject, 1)).await;
        }
        let a = store.scoped(&one("a"));
        let page = a.list(0, 0, None).await.unwrap();
        let listed: Vec<_> = page
            .messages
            .iter()
            .map(|m| m.summary.subject.as_str())
            .collect();
        assert_eq!(listed, ["a2", "a1"]);
        assert_eq!((page.matched, page.matched_unread), (2, 2));
        assert_eq!(a.counts().await.unwrap().total, 2);
        let found = a
            .search(&Query::parse("subject:b1", None), 0, 10)
            .await
            .unwrap();
        assert_eq!(found.matched, 0, "a search sees only its mailbox");
        let b1 = store
            .search(&Query::parse("subject:b1", None), 0, 1)
            .await
            .unwrap();
        let b1_id = b1.messages[0].id().to_string();
        assert!(
            a.get(&b1_id).await.unwrap().is_none(),
            "nor can it get another's by ID"
        );
        assert_eq!(
            a.delete(Selection::Ids(std::slice::from_ref(&b1_id)))
                .await
                .unwrap(),
            0
        );
        assert_eq!(a.set_read(Selection::All, true).await.unwrap(), 2);
        assert_eq!(a.delete(Selection::All).await.unwrap(), 2);
        assert_eq!(
            subjects(&store).await,
            ["b2", "b1"],
            "delete-all stays inside"
        );
        let except = store.scoped(&Scope::Except(Arc::from([Arc::from("b")])));
        assert_eq!(except.counts().await.unwrap().total, 0);
        let counts = store.mailbox_counts().await.unwrap();
        assert_eq!(counts.get("b").map(|c| (c.total, c.unread)), Some((2, 2)));
        assert!(!counts.contains_key("a"));
    })
    .await;
}

#[tokio::test]
async fn tags_are_counted_and_renamed_per_mailbox() {
    on_each_engine(limits(0, 0), |store| async move {
        let a = insert_into(&store, "a", incoming("a", 1)).await;
        let b = insert_into(&store, "b", incoming("b", 1)).await;
        store
            .set_tags(&[a.id().into(), b.id().into()], &["t".into()])
            .await
            .unwrap();
        let scoped = store.scoped(&one("a"));
        assert_eq!(scoped.tag_counts().await.unwrap(), [("t".to_string(), 1)]);
        scoped.rename_tag("t", "u").await.unwrap().unwrap();
        assert_eq!(
            store.tag_counts().await.unwrap(),
            [("t".to_string(), 1), ("u".to_string(), 1)]
        );
        scoped.delete_tag("u").await.unwrap().unwrap();
        assert_eq!(store.tag_counts().await.unwrap(), [("t".to_string(), 1)]);
    })
    .await;
}

#[tokio::test]
async fn a_mailbox_cap_evicts_that_mailbox_oldest() {
    let limits = StoreLimits {
        max_per_mailbox: 2,
        ..limits(0, 0)
    };
    on_each_engine(limits, |store| async move {
        for subject in ["a1", "a2", "a3"] {
            insert_into(&store, "a", incoming(subject, 1)).await;
        }
        insert_into(&store, "b", incoming("b1", 1)).await;
        assert_eq!(subjects(&store).await, ["b1", "a3", "a2"]);
    })
    .await;
}

#[tokio::test]
async fn mailboxes_are_created_once_and_deleted_with_their_mail() {
    let limits = StoreLimits {
        max_mailboxes: 3,
        ..limits(0, 0)
    };
    on_each_engine(limits, |store| async move {
        assert!(store.mailbox(DEFAULT_MAILBOX).is_some());
        insert_into(&store, "a", incoming("a1", 1)).await;
        let made = store.create_mailbox(Mailbox::plain("a")).await.unwrap();
        assert_eq!(made.unwrap_err(), CreateRefusal::Exists);
        store
            .create_mailbox(Mailbox::plain("b"))
            .await
            .unwrap()
            .unwrap();
        let over = store.create_mailbox(Mailbox::plain("c")).await.unwrap();
        assert_eq!(over.unwrap_err(), CreateRefusal::TooMany(3));
        assert_eq!(store.ensure_mailbox("c").await.unwrap(), None);
        assert!(store.delete_mailbox("a").await.unwrap());
        assert!(store.mailbox("a").is_none());
        assert!(subjects(&store).await.is_empty());
        assert!(!store.delete_mailbox("a").await.unwrap());
        assert!(store.delete_mailbox(DEFAULT_MAILBOX).await.unwrap());
        assert!(
            store.mailbox(DEFAULT_MAILBOX).is_some(),
            "default is only emptied"
        );
    })
    .await;
}

#[tokio::test]
async fn a_database_keeps_its_mailboxes() {
    let dir = TempDir::new();
    let path = dir.0.join("mail.db");
    {
        let store = open_and_close(&path);
        let mut private = Mailbox::plain("secret");
        private.private = true;
        private.smtp_password = Some("pw".into());
        private.token_digest = Some(mailbox::token_digest("tok"));
        store.create_mailbox(private).await.unwrap().unwrap();
        insert_into(&store, "secret", incoming("kept", 1)).await;
        store.close().await;
    }
    let store = open_and_close(&path);
    let secret = store.mailbox("secret").expect("reloaded");
    assert!(secret.private && secret.token_matches("tok"));
    assert_eq!(secret.smtp_password.as_deref(), Some("pw"));
    let page = store.scoped(&one("secret")).list(0, 0, None).await.unwrap();
    assert_eq!(page.messages[0].mailbox.as_ref(), "secret");
    store.close().await;
}
