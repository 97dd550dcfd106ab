//! The cache's search pages in time order (issue 20, migration 0009): the index is keyed by the
//! millisecond of `sent_at`, so a page is read newest first and cut at its limit. Messages that
//! arrive out of time order, and many of one millisecond, still come newest first by `sent_at`,
//! then `room_id`, then `seq` descending, whatever the limit; and a cache indexed before 0009
//! is carried forward.

use std::path::Path;

use natter_client::{Cache, CacheError};
use natter_protocol::{search, Change, Message, Room, RoomKind};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const ROOMS: [&str; 3] = ["a", "b", "c"];

fn room(id: &str) -> Room {
    Room {
        id: id.into(),
        name: id.into(),
        kind: RoomKind::Group,
        members: vec!["alice".into()],
        last_seq: 0,
        read_seq: 0,
        member_count: 0,
        others_read_seq: 0,
        unread: None,
    }
}

fn message(room_id: &str, seq: i64, sent_at: &str, body: &str) -> Message {
    Message {
        id: format!("{room_id}-{seq}"),
        room_id: room_id.into(),
        seq,
        sender: "alice".into(),
        body: body.into(),
        client_id: format!("c-{room_id}-{seq}"),
        sent_at: sent_at.into(),
        ..Message::default()
    }
}

/// The order searches answer in, as the session merges pages: `sent_at` (one format, so as
/// text) newest first, then `room_id`, then `seq` descending.
fn newest_first(messages: &mut [Message]) {
    messages.sort_by(|a, b| {
        b.sent_at
            .cmp(&a.sent_at)
            .then_with(|| a.room_id.cmp(&b.room_id))
            .then_with(|| b.seq.cmp(&a.seq))
    });
}

fn keys(messages: &[Message]) -> Vec<(String, i64, String)> {
    messages
        .iter()
        .map(|m| (m.room_id.clone(), m.seq, m.body.clone()))
        .collect()
}

/// Every page size, in every room and in all, for a term the index answers and one it cannot
/// (under 3 characters), against `expected` (all matching messages, newest first).
async fn pages_match(cache: &Cache, expected: &[Message]) -> Result<(), CacheError> {
    for query in ["word", "wo"] {
        for scope in [None, Some("a"), Some("c")] {
            let all: Vec<Message> = expected
                .iter()
                .filter(|m| scope.is_none_or(|r| m.room_id == r))
                .cloned()
                .collect();
            let most = u32::try_from(all.len()).expect("a few messages") + 1;
            for limit in 1..=most {
                let page = cache.search(&search::terms(query), scope, limit).await?;
                let want = &all[..all.len().min(limit as usize)];
                assert_eq!(
                    keys(&page),
                    keys(want),
                    "{query:?} in {scope:?}, limit {limit}"
                );
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn messages_filed_out_of_time_order_come_newest_first_at_every_page_size(
) -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a profile dir");
    let cache = Cache::open(dir.path()).await?;
    cache.upsert_rooms(&ROOMS.map(room)).await?;
    // 45 messages in 6 milliseconds, so most share theirs with others (of their room and of
    // others), and a page's cut falls inside such a group at most limits; every fourth does not
    // match.
    let mut all: Vec<Message> = (0..45)
        .map(|i| {
            let sent_at = format!("2026-12-06T10:00:0{}.00{}Z", i * 7 % 3, i % 2);
            let body = if i % 4 == 0 { "other" } else { "a word" };
            message(ROOMS[i % 3], 1 + i as i64 / 3, &sent_at, body)
        })
        .collect();
    // Filed in an order unrelated to time: live messages, then older history pages and gap
    // fills in small batches.
    for chunk in (0..45).map(|i| i * 17 % 45).collect::<Vec<_>>().chunks(4) {
        let batch: Vec<Message> = chunk.iter().map(|&i| all[i].clone()).collect();
        cache.insert_messages(&batch).await?;
    }
    // An edit re-indexes its target under a new key: it keeps its place.
    let target = all[5].clone();
    let edit = Message {
        change: Some(Box::new(Change::Edit {
            target: target.id.clone(),
            body: "an edited word".into(),
        })),
        ..message(&target.room_id, 100, "2026-12-06T10:00:09.000Z", "(edited)")
    };
    cache.insert_messages(&[edit]).await?;
    all[5].body = "an edited word".into();

    let mut expected: Vec<Message> = all.into_iter().filter(|m| m.body != "other").collect();
    newest_first(&mut expected);
    pages_match(&cache, &expected).await
}

#[tokio::test]
async fn a_rare_short_term_is_found_newest_first_past_the_newest_messages() -> Result<(), CacheError>
{
    let dir = tempfile::tempdir().expect("a profile dir");
    let cache = Cache::open(dir.path()).await?;
    cache.upsert_rooms(&ROOMS.map(room)).await?;
    // More messages than a search checks one by one (2,000) before it reads every row; the
    // rare term only in 30 of the oldest 60, three messages a millisecond.
    let count = 2_100;
    let all: Vec<Message> = (0..count)
        .map(|i| {
            let sent_at = format!("2026-12-06T10:00:00.{:03}Z", i / 3);
            let body = if i < 60 && i % 2 == 0 {
                "qz"
            } else {
                "nothing"
            };
            message(ROOMS[i % 3], 1 + i as i64 / 3, &sent_at, body)
        })
        .collect();
    let order: Vec<usize> = (0..count).map(|i| i * 1013 % count).collect();
    for chunk in order.chunks(100) {
        let batch: Vec<Message> = chunk.iter().map(|&i| all[i].clone()).collect();
        cache.insert_messages(&batch).await?;
    }
    let mut expected: Vec<Message> = all.into_iter().filter(|m| m.body == "qz").collect();
    newest_first(&mut expected);
    for scope in [None, Some("b")] {
        let found: Vec<Message> = expected
            .iter()
            .filter(|m| scope.is_none_or(|r| m.room_id == r))
            .cloned()
            .collect();
        for limit in 1..=found.len() + 1 {
            let page = cache
                .search(&search::terms("qz"), scope, limit as u32)
                .await?;
            assert_eq!(
                keys(&page),
                keys(&found[..found.len().min(limit)]),
                "in {scope:?}, limit {limit}"
            );
        }
    }
    Ok(())
}

/// The cache's migrations before 0009, in a folder of their own.
fn migrations_before_0009(into: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&source).expect("the migrations") {
        let path = entry.expect("a migration").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
        if name < "0009" {
            std::fs::copy(&path, into.join(name)).expect("copied");
        }
    }
}

#[tokio::test]
async fn a_cache_indexed_before_0009_is_carried_forward() -> Result<(), CacheError> {
    let old = tempfile::tempdir().expect("a folder of migrations");
    migrations_before_0009(old.path());
    let dir = tempfile::tempdir().expect("a profile dir");
    {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(dir.path().join(natter_client::cache::DB_FILE))
                    .create_if_missing(true),
            )
            .await?;
        Migrator::new(old.path()).await?.run(&pool).await?;
        sqlx::query(
            "INSERT INTO rooms (id, name, kind) VALUES ('a', 'a', 'group'), ('b', 'b', 'group')",
        )
        .execute(&pool)
        .await?;
        // Filed by the old index in this order, which is not time's, two in one millisecond:
        // (room, seq, sent_at, body, state).
        for (room, seq, sent_at, body, state) in [
            ("a", 2, "2026-12-06T10:00:03.000Z", "walrus two", None),
            ("b", 1, "2026-12-06T10:00:03.000Z", "walrus three", None),
            ("a", 1, "2026-12-06T10:00:01.000Z", "walrus one", None),
            (
                "b",
                2,
                "2026-12-06T10:00:03.000Z",
                "walrus gone",
                Some(r#"{"deleted":true}"#),
            ),
            ("a", 3, "2026-12-06T10:00:00.500Z", "walrus early", None),
        ] {
            sqlx::query(
                "INSERT INTO messages (room_id, seq, id, sender, body, client_id, sent_at, state) \
                 VALUES (?, ?, ?, 'alice', ?, ?, ?, ?)",
            )
            .bind(room)
            .bind(seq)
            .bind(format!("{room}-{seq}"))
            .bind(body)
            .bind(format!("c-{room}-{seq}"))
            .bind(sent_at)
            .bind(state)
            .execute(&pool)
            .await?;
        }
        pool.close().await;
    }

    let cache = Cache::open(dir.path()).await?;
    let bodies = |found: Vec<Message>| found.into_iter().map(|m| m.body).collect::<Vec<_>>();
    let walrus = search::terms("walrus");
    assert_eq!(
        bodies(cache.search(&walrus, None, 10).await?),
        ["walrus two", "walrus three", "walrus one", "walrus early"],
        "every message kept, newest first (of one millisecond, by room), the deleted one still out"
    );
    // Filed after the migration, older than some and newer than others.
    cache
        .insert_messages(&[message(
            "b",
            3,
            "2026-12-06T10:00:01.500Z",
            "walrus late fill",
        )])
        .await?;
    assert_eq!(
        bodies(cache.search(&walrus, None, 3).await?),
        ["walrus two", "walrus three", "walrus late fill"]
    );
    assert_eq!(
        bodies(cache.search(&search::terms("wa"), Some("a"), 10).await?),
        ["walrus two", "walrus one", "walrus early"]
    );
    cache.close().await;
    Ok(())
}
