//! Databases of earlier relays open with this one: `fixtures/sqlx_era.db` was written by the
//! relay of commit f522676, which migrated and wrote accounts and rooms through sqlx
//! (`examples/store_fixture.rs` made it), and everything in it reads back through a real
//! relay. A database this relay cannot vouch for (a migration changed, or one it does not
//! know) is refused with a clear error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use natter_protocol::requests::{History, ListBlocked, ListRooms, Search, SendMessage};
use natter_protocol::{RoomKind, GENERAL_ROOM_ID};
use natter_relay::store::SqliteStore;
use natter_testkit::{TestRelay, PASSWORD};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A data dir holding a copy of the fixture database.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a data dir");
    std::fs::copy(
        fixture("sqlx_era.db"),
        dir.path().join(natter_relay::DB_FILE),
    )
    .expect("copy the fixture");
    dir
}

#[tokio::test]
async fn a_database_of_the_sqlx_relay_reads_back_whole() {
    let dir = data_dir();
    // Opened once directly, so that a refusal shows its reason rather than a relay that
    // never became healthy.
    let path = dir.path().join(natter_relay::DB_FILE);
    let store = tokio::time::timeout(Duration::from_secs(30), SqliteStore::open(&path))
        .await
        .expect("open answers in time")
        .expect("the sqlx relay's database opens");
    drop(store);
    // The fixture's session must not have expired by the time this runs.
    let relay = TestRelay::at_with(dir.path(), "127.0.0.1:0".parse().expect("addr"), |c| {
        c.session_idle_secs = 100 * 365 * 24 * 3600;
    })
    .await;
    relay
        .login("alice", PASSWORD)
        .await
        .expect("alice signs in with the fixture's password");
    let token = std::fs::read_to_string(fixture("sqlx_era.token")).expect("the token");
    let alice = relay
        .connect("alice", token.trim())
        .await
        .expect("alice's saved session still signs on");

    let rooms = alice.request(&ListRooms {}).await.expect("rooms").rooms;
    let mut seen: Vec<_> = rooms
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.kind,
                r.last_seq,
                r.read_seq,
                r.others_read_seq,
            )
        })
        .collect();
    seen.sort_by_key(|r| r.0);
    let want = [
        ("alice, bob", RoomKind::Direct, 1, 1, 0),
        ("fixture room", RoomKind::Group, 3, 0, 2),
        ("general", RoomKind::Group, 2, 0, 0),
    ];
    assert_eq!(seen, want, "alice's rooms: seqs and read positions");
    let group = rooms
        .iter()
        .find(|r| r.name == "fixture room")
        .expect("the group");
    assert_eq!(group.members, ["alice", "bob"], "carol left");

    let history = alice
        .request(&History {
            around: None,
            room_id: group.id.clone(),
            before_seq: None,
            limit: None,
            ..History::default()
        })
        .await
        .expect("history")
        .messages;
    let lines: Vec<_> = history
        .iter()
        .map(|m| {
            (
                m.seq,
                m.sender.as_str(),
                m.body.as_str(),
                m.client_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (1, "alice", "group one", "fixture-group one"),
            (2, "bob", "group two", "fixture-group two"),
            (3, "carol", "group three", "fixture-group three"),
        ]
    );

    // Migration 0010 indexed the messages written before it: search finds them.
    let found = alice
        .request(&Search {
            query: "group".into(),
            room_id: Some(group.id.clone()),
            limit: None,
            cursor: None,
        })
        .await
        .expect("search")
        .messages;
    let seqs: Vec<_> = found.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [3, 2, 1], "the fixture's messages, newest first");
    let found = alice
        .request(&Search {
            query: "TWO".into(),
            room_id: None,
            limit: None,
            cursor: None,
        })
        .await
        .expect("search")
        .messages;
    let bodies: Vec<_> = found.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["group two"]);

    let bob_token = relay.login("bob", PASSWORD).await.expect("bob").token;
    let bob = relay
        .connect("bob", &bob_token)
        .await
        .expect("bob connects");
    let blocked = bob.request(&ListBlocked {}).await.expect("blocks").blocked;
    assert_eq!(blocked, ["carol"]);
    let carol_token = relay.login("carol", PASSWORD).await.expect("carol").token;
    let carol = relay
        .connect("carol", &carol_token)
        .await
        .expect("carol connects");
    let carols: Vec<_> = carol.request(&ListRooms {}).await.expect("rooms").rooms;
    let carols: Vec<_> = carols.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(carols, [GENERAL_ROOM_ID], "carol left the group");

    // And it goes on: the next message takes the next seq; a new user joins general.
    let sent = alice
        .request(&SendMessage {
            room_id: group.id.clone(),
            client_id: "after the upgrade".into(),
            body: "four".into(),
            reply_to: None,
            attachments: Vec::new(),
        })
        .await
        .expect("send")
        .message;
    assert_eq!(sent.seq, 4);
    relay.user("dave").await;
    for client in [alice, bob, carol] {
        client.close().await;
    }
    relay.stop().await;
}

/// Opens the fixture after `tamper` ran on it; the error it is refused with.
async fn refused_after(tamper: &str) -> String {
    let dir = data_dir();
    let path = dir.path().join(natter_relay::DB_FILE);
    let conn = rusqlite::Connection::open(&path).expect("open the copy");
    conn.execute_batch(tamper).expect(tamper);
    drop(conn);
    let opened = tokio::time::timeout(Duration::from_secs(30), SqliteStore::open(&path))
        .await
        .expect("open answers in time");
    opened.expect_err("refused").to_string()
}

#[tokio::test]
async fn a_database_a_newer_relay_migrated_is_refused() {
    let error = refused_after(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from the future', TRUE, x'00', 1)",
    )
    .await;
    assert!(
        error.contains("migration 999") && error.contains("newer relay"),
        "{error}"
    );
}

#[tokio::test]
async fn a_database_whose_migration_differs_is_refused() {
    let error =
        refused_after("UPDATE _sqlx_migrations SET checksum = x'0102' WHERE version = 3").await;
    assert!(
        error.contains("migration 3") && error.contains("differs"),
        "{error}"
    );
}
