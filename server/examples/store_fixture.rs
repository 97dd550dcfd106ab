//! Writes a small relay database to keep as a test fixture: three users (password
//! `natter_testkit::PASSWORD`), a live session, a group room and a DM with members, messages,
//! read positions, a departure and a block, all made through a real relay over HTTP and
//! Socket.IO. `server/tests/fixtures/sqlx_era.db` was made this way by the relay of commit
//! f522676, whose store still migrated and wrote through sqlx; `tests/sqlite_upgrade.rs`
//! opens it with the current code.
//!
//! `cargo run -p natter-relay --example store_fixture -- <out.db> <out-token.txt>`

use natter_protocol::requests::{BlockUser, CreateRoom, LeaveRoom, MarkRead, OpenDm, SendMessage};
use natter_testkit::TestRelay;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(token_out)) = (args.next(), args.next()) else {
        return Err("usage: store_fixture <out.db> <out-token.txt>".into());
    };
    let dir = tempfile::tempdir()?;
    let relay = TestRelay::in_dir(dir.path()).await;
    let (alice, a) = relay.join("alice").await;
    let (_, b) = relay.join("bob").await;
    let (_, c) = relay.join("carol").await;
    let group = a
        .request(&CreateRoom {
            name: "fixture room".into(),
            members: vec!["bob".into(), "carol".into()],
        })
        .await?
        .room;
    let dm = a
        .request(&OpenDm {
            username: "bob".into(),
        })
        .await?
        .room;
    let general = natter_protocol::GENERAL_ROOM_ID;
    for (client, room, body) in [
        (&a, general, "hello general"),
        (&b, general, "hi alice"),
        (&a, group.id.as_str(), "group one"),
        (&b, group.id.as_str(), "group two"),
        (&c, group.id.as_str(), "group three"),
        (&a, dm.id.as_str(), "just us"),
    ] {
        client
            .request(&SendMessage {
                room_id: room.to_owned(),
                client_id: format!("fixture-{body}"),
                body: body.to_owned(),
                reply_to: None,
                attachments: Vec::new(),
            })
            .await?;
    }
    b.request(&MarkRead {
        room_id: group.id.clone(),
        seq: 2,
    })
    .await?;
    a.request(&MarkRead {
        room_id: dm.id.clone(),
        seq: 1,
    })
    .await?;
    c.request(&LeaveRoom {
        room_id: group.id.clone(),
    })
    .await?;
    b.request(&BlockUser {
        username: "carol".into(),
    })
    .await?;
    for client in [a, b, c] {
        client.close().await;
    }
    relay.stop().await;
    // One self-contained file (still in WAL mode, as the relay leaves it): the WAL folded in.
    let db = dir.path().join(natter_relay::DB_FILE);
    let conn = rusqlite::Connection::open(&db)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(conn);
    std::fs::copy(&db, &out)?;
    std::fs::write(&token_out, &alice.token)?;
    println!("wrote {out} and {token_out}");
    Ok(())
}
