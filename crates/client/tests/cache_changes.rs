//! Change entries folded into the cache in every arrival order: a live edit before its target
//! (the target filled from a gap later, with the relay's state as of then), reactions toggled
//! back and forth, a delete. Whatever the order, the cache ends at the relay's current state, and
//! a deleted text is in no file of the profile.

use natter_client::{Cache, CacheError};
use natter_protocol::{Change, Message, Reaction};

const TARGET: &str = "m-target";

fn entry(room_id: &str, seq: i64, sender: &str, change: Change) -> Message {
    Message {
        id: format!("e-{room_id}-{seq}"),
        room_id: room_id.to_owned(),
        seq,
        sender: sender.to_owned(),
        body: "(what older clients see)".to_owned(),
        client_id: format!("c-{room_id}-{seq}"),
        sent_at: format!("2026-12-06T10:00:0{seq}Z"),
        change: Some(Box::new(change)),
        ..Message::default()
    }
}

fn edit(room_id: &str, seq: i64, body: &str) -> Message {
    let change = Change::Edit {
        target: TARGET.to_owned(),
        body: body.to_owned(),
    };
    entry(room_id, seq, "alice", change)
}

fn react(room_id: &str, seq: i64, sender: &str, on: bool) -> Message {
    let change = Change::Reaction {
        target: TARGET.to_owned(),
        emoji: "👍".to_owned(),
        on,
    };
    entry(room_id, seq, sender, change)
}

/// The room's entries after the target (seq 1): edit, alice 👍, edit, alice takes it back, bob 👍.
fn entries(room_id: &str) -> Vec<Message> {
    vec![
        edit(room_id, 2, "v2"),
        react(room_id, 3, "alice", true),
        edit(room_id, 4, "v3"),
        react(room_id, 5, "alice", false),
        react(room_id, 6, "bob", true),
    ]
}

/// The target as the relay answers it once seqs up to `upto` are committed (written out, not
/// computed by the rule under test).
fn target_as_of(room_id: &str, upto: i64) -> Message {
    let thumbs = |users: &[&str]| {
        vec![Reaction {
            emoji: "👍".to_owned(),
            users: users.iter().map(|u| (*u).to_owned()).collect(),
        }]
    };
    let (body, edited, reactions) = match upto {
        1 => ("v1", None, vec![]),
        2 => ("v2", Some(2), vec![]),
        3 => ("v2", Some(2), thumbs(&["alice"])),
        4 => ("v3", Some(4), thumbs(&["alice"])),
        5 => ("v3", Some(4), vec![]),
        _ => ("v3", Some(4), thumbs(&["bob"])),
    };
    Message {
        id: TARGET.to_owned(),
        room_id: room_id.to_owned(),
        seq: 1,
        sender: "alice".to_owned(),
        body: body.to_owned(),
        client_id: format!("c-{room_id}-1"),
        sent_at: "2026-12-06T10:00:01Z".to_owned(),
        edited_at: edited.map(|seq| format!("2026-12-06T10:00:0{seq}Z")),
        reactions,
        ..Message::default()
    }
}

/// Every order of `n` items (Heap's algorithm).
fn orders(n: usize) -> Vec<Vec<usize>> {
    fn go(k: usize, items: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(items.clone());
            return;
        }
        for i in 0..k {
            go(k - 1, items, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            items.swap(j, k - 1);
        }
    }
    let mut out = Vec::new();
    go(n, &mut (0..n).collect(), &mut out);
    out
}

async fn target_in(cache: &Cache, room_id: &str) -> Result<Message, CacheError> {
    Ok(cache
        .message(room_id, TARGET)
        .await?
        .unwrap_or_else(|| panic!("{room_id}: the target is cached")))
}

#[tokio::test]
async fn every_arrival_order_ends_at_the_relays_state() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    let truth = target_as_of("truth", 6);
    let orders = orders(6);
    assert_eq!(orders.len(), 720);
    for (n, order) in orders.iter().enumerate() {
        // Each order in a room of its own. Item 0 is the target; 1..=5 the entries (seq 2..=6).
        // Each arrives alone (a live event, or a gap fill of one), and the target comes with
        // its state as of everything committed by then: at least the highest seq seen so far.
        let room = format!("r{n}");
        let all = entries(&room);
        let mut seen = 1;
        for &item in order {
            let batch = if item == 0 {
                vec![target_as_of(&room, seen.max(1))]
            } else {
                let e = all[item - 1].clone();
                seen = seen.max(e.seq);
                vec![e]
            };
            cache.insert_messages(&batch).await?;
        }
        let got = target_in(&cache, &room).await?;
        assert_eq!(
            (&got.body, &got.edited_at, &got.reactions),
            (&truth.body, &truth.edited_at, &truth.reactions),
            "order {order:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_gap_page_holding_the_target_and_older_edits_keeps_a_newer_edit_seen_live(
) -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    let all = entries("r");
    // Live: the last edit and bob's 👍 arrive first, above a hole (seqs 1..=3).
    cache.insert_messages(&[all[2].clone()]).await?;
    cache.insert_messages(&[all[4].clone()]).await?;
    // The hole, filled with one page read after everything: the target carries "v3" and bob's
    // 👍 already; the older edit and alice's 👍 in the same page must not take it back.
    cache
        .insert_messages(&[target_as_of("r", 6), all[0].clone(), all[1].clone()])
        .await?;
    // Then the last missing entry (alice takes her 👍 back).
    cache.insert_messages(&[all[3].clone()]).await?;
    let got = target_in(&cache, "r").await?;
    let truth = target_as_of("r", 6);
    assert_eq!((&got.body, &got.reactions), (&truth.body, &truth.reactions));
    Ok(())
}

#[tokio::test]
async fn a_delete_that_comes_first_still_takes_the_text_and_the_edits_text(
) -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    let delete = entry(
        "r",
        3,
        "alice",
        Change::Delete {
            target: TARGET.to_owned(),
        },
    );
    cache.insert_messages(&[delete]).await?;
    cache.insert_messages(&[edit("r", 2, "secret v2")]).await?;
    // The target is not held yet; its delete is: the edit loses its words at once.
    let early = cache
        .message("r", "e-r-2")
        .await?
        .expect("the edit is held");
    assert!(
        !matches!(early.change.as_deref(), Some(Change::Edit { body, .. }) if body.contains("secret")),
        "{early:?}"
    );
    cache.insert_messages(&[target_as_of("r", 1)]).await?;
    let got = target_in(&cache, "r").await?;
    assert!(got.deleted && got.body.is_empty(), "{got:?}");
    let edit = cache
        .message("r", "e-r-2")
        .await?
        .expect("the edit entry is held");
    assert!(
        !edit.body.contains("secret")
            && !matches!(edit.change.as_deref(), Some(Change::Edit { body, .. }) if body.contains("secret")),
        "{edit:?}"
    );
    Ok(())
}

/// Whether any file of `dir` holds `text`'s bytes.
fn on_disk(dir: &std::path::Path, text: &str) -> bool {
    std::fs::read_dir(dir)
        .expect("the profile directory")
        .flatten()
        .any(|f| {
            let bytes = std::fs::read(f.path()).unwrap_or_default();
            bytes.windows(text.len()).any(|w| w == text.as_bytes())
        })
}

/// Every arrival order of a message, its edit, a reaction and its delete ends deleted, with the
/// text of neither the message nor its edit in any file of the profile, before and after the
/// cache closes. The target arrives as the relay answers it then: with its text until the
/// delete is committed, without it after.
#[tokio::test]
async fn every_arrival_order_of_a_delete_leaves_no_text_in_the_files() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    // A message nobody deletes: the check finds text that is there.
    let kept = Message {
        body: "kept-words".to_owned(),
        ..target_as_of("kept", 1)
    };
    cache.insert_messages(&[kept]).await?;
    let orders = orders(4);
    assert_eq!(orders.len(), 24);
    for (n, order) in orders.iter().enumerate() {
        let room = format!("d{n}");
        let mut said = edit(&room, 2, "gone-two");
        said.body = "✎ gone-two".to_owned();
        let delete = Change::Delete {
            target: TARGET.to_owned(),
        };
        let all = [
            said,
            react(&room, 3, "bob", true),
            entry(&room, 4, "alice", delete),
        ];
        let mut seen = 1;
        for &item in order {
            let batch = if item == 0 {
                let (body, deleted) = match seen {
                    1 => ("gone-one", false),
                    2 | 3 => ("gone-two", false),
                    _ => ("", true),
                };
                Message {
                    body: body.to_owned(),
                    deleted,
                    ..target_as_of(&room, 1)
                }
            } else {
                let e = all[item - 1].clone();
                seen = seen.max(e.seq);
                e
            };
            cache.insert_messages(&[batch]).await?;
        }
        let got = target_in(&cache, &room).await?;
        assert!(
            got.deleted && got.body.is_empty(),
            "order {order:?}: {got:?}"
        );
    }
    assert!(on_disk(dir.path(), "kept-words"));
    assert!(
        !on_disk(dir.path(), "gone-"),
        "a deleted text is in the files"
    );
    cache.close().await;
    assert!(
        !on_disk(dir.path(), "gone-"),
        "a deleted text is in the files once closed"
    );
    Ok(())
}

#[tokio::test]
async fn a_page_holds_messages_however_many_reactions_follow_them() -> Result<(), CacheError> {
    let dir = tempfile::tempdir().expect("a temporary profile dir");
    let cache = Cache::open(dir.path()).await?;
    // 150 messages, then 2,000 reactions to the first one: the newest 2,000 seqs are entries.
    let all: Vec<Message> = (1..=150)
        .map(|seq| Message {
            id: if seq == 1 {
                TARGET.to_owned()
            } else {
                format!("m-{seq}")
            },
            room_id: "r".to_owned(),
            seq,
            sender: "alice".to_owned(),
            body: format!("message {seq}"),
            client_id: format!("c-{seq}"),
            sent_at: "2026-12-06T10:00:00Z".to_owned(),
            ..Message::default()
        })
        .collect();
    cache.insert_messages(&all).await?;
    // Then the reactions, as they came live (the messages' state is as of seq 150).
    let reactions: Vec<Message> = (151..=2_150)
        .map(|seq| react("r", seq, &format!("u{seq}"), true))
        .collect();
    cache.insert_messages(&reactions).await?;

    let seqs = |page: &[Message]| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    let page = cache.messages("r", None, 100).await?;
    assert_eq!(
        seqs(&page),
        (51..=150).collect::<Vec<_>>(),
        "100 messages, no entries"
    );
    assert!(
        page.iter().all(|m| m.reactions.is_empty()),
        "only seq 1 has reactions"
    );
    let first = cache.message("r", TARGET).await?.expect("held");
    assert_eq!(
        first.reactions[0].users.len(),
        2_000,
        "folded into their target"
    );
    assert_eq!(
        seqs(&cache.messages("r", Some(51), 100).await?),
        (1..=50).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&cache.messages_after("r", 140, 2_150, 100).await?),
        (141..=150).collect::<Vec<_>>(),
        "forward, up to the newest message"
    );
    assert!(cache.holds_every_seq("r", 1, 2_150).await?);
    assert!(!cache.holds_every_seq("r", 1, 2_151).await?);
    Ok(())
}
