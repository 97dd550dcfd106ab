//! Replies, edits, deletes and reactions over the wire: each is a room entry the whole room
//! hears as a `message` event, refused with the protocol's codes when it may not happen, and
//! carried by `history` and `sync` with the target's current state.

use natter_protocol::events::MessageEvent;
use natter_protocol::requests::{DeleteMessage, EditMessage, React, SendMessage, Sync};
use natter_protocol::{Change, ErrorCode, Message, GENERAL_ROOM_ID};

use crate::util::*;

fn edit(room_id: &str, target: &Message, body: &str) -> EditMessage {
    EditMessage {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        message_id: target.id.clone(),
        body: body.to_owned(),
    }
}

fn react(room_id: &str, target: &Message, emoji: &str, on: bool) -> React {
    React {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        message_id: target.id.clone(),
        emoji: emoji.to_owned(),
        on,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_hears_each_change_as_an_entry_and_catch_up_carries_the_state() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let (_, carol) = relay.join("carol").await;
    let room = group(&alice, "plans", &["bob"]).await.id;
    bob.discard::<MessageEvent>().await.expect("drain");

    let sent = alice
        .request(&send(&room, "lunch at 1?"))
        .await
        .expect("send")
        .message;
    let at_bob = bob
        .next_event::<MessageEvent>()
        .await
        .expect("message")
        .message;
    assert_eq!(at_bob, sent);

    // An edit: acked with its entry, broadcast as one, the next seq.
    let edited = alice
        .request(&edit(&room, &sent, "lunch at 2?"))
        .await
        .expect("edit")
        .message;
    assert_eq!(edited.seq, sent.seq + 1);
    assert_eq!(
        edited.change.as_deref(),
        Some(&Change::Edit {
            target: sent.id.clone(),
            body: "lunch at 2?".into()
        })
    );
    assert_eq!(
        edited.body, "✎ lunch at 2?",
        "what clients that know only messages show"
    );
    assert_eq!(
        bob.next_event::<MessageEvent>()
            .await
            .expect("edit")
            .message,
        edited
    );

    // Refusals: someone else's message, a non-member, a message not in the room, not one emoji.
    let refused = bob.request(&edit(&room, &sent, "mine")).await;
    assert_eq!(
        refused.map_err(|e| e.code).err(),
        Some(ErrorCode::Forbidden)
    );
    let delete = DeleteMessage {
        room_id: room.clone(),
        client_id: client_id(),
        message_id: sent.id.clone(),
    };
    let refused = bob.request(&delete).await;
    assert_eq!(
        refused.map_err(|e| e.code).err(),
        Some(ErrorCode::Forbidden)
    );
    let refused = carol.request(&react(&room, &sent, "👍", true)).await;
    assert_eq!(
        refused.map_err(|e| e.code).err(),
        Some(ErrorCode::Forbidden)
    );
    let refused = alice.request(&edit(GENERAL_ROOM_ID, &sent, "moved")).await;
    assert_eq!(refused.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
    let refused = bob.request(&react(&room, &sent, "👍👎", true)).await;
    assert_eq!(refused.map_err(|e| e.code).err(), Some(ErrorCode::Invalid));

    // Reactions and a reply.
    let liked = bob
        .request(&react(&room, &sent, "👍", true))
        .await
        .expect("react")
        .message;
    assert_eq!(liked.body, "reacted 👍");
    assert_eq!(
        alice
            .next_event_where::<MessageEvent>(WAIT, |e| e.message.seq == liked.seq)
            .await
            .expect("reaction")
            .message,
        liked
    );
    let reply = bob
        .request(&SendMessage {
            reply_to: Some(sent.id.clone()),
            ..send(&room, "2 works")
        })
        .await
        .expect("reply")
        .message;
    let preview = reply.reply_to.clone().expect("a preview");
    assert_eq!(
        (preview.sender.as_str(), preview.excerpt.as_str()),
        ("alice", "lunch at 2?")
    );
    // Its seq: where a client pages in to jump to the target.
    assert_eq!(preview.seq, sent.seq);

    // A client that was away: sync from before the message has the current state and every
    // entry, in seq order.
    let caught = bob
        .request(&Sync {
            cursors: [(room.clone(), 0)].into(),
        })
        .await
        .expect("sync");
    let entries: Vec<&Message> = caught
        .messages
        .iter()
        .filter(|m| m.room_id == room)
        .collect();
    let message = entries
        .iter()
        .find(|m| m.id == sent.id)
        .expect("the message");
    assert_eq!(message.body, "lunch at 2?");
    assert!(message.edited_at.is_some());
    assert_eq!(message.reactions.len(), 1);
    assert_eq!(message.reactions[0].users, ["bob"]);
    let seqs: Vec<i64> = entries.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );

    // A delete: the message's text goes, for everyone, and a retry changes nothing.
    let delete = DeleteMessage {
        room_id: room.clone(),
        client_id: client_id(),
        message_id: sent.id.clone(),
    };
    let gone = alice.request(&delete).await.expect("delete").message;
    let again = alice.request(&delete).await.expect("retry").message;
    assert_eq!(gone, again);
    let page = bob
        .request(&history(&room, None, None))
        .await
        .expect("history")
        .messages;
    let message = page.iter().find(|m| m.id == sent.id).expect("the message");
    assert!(message.deleted && message.body.is_empty() && message.reactions.is_empty());
    assert!(page.iter().all(|m| !m.body.contains("lunch")), "{page:?}");
    let refused = alice.request(&edit(&room, &sent, "back")).await;
    assert_eq!(refused.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_lists_the_members_it_mentions_and_an_edit_updates_them() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, _bob) = relay.join("bob").await;
    let (_, _carol) = relay.join("carol").await;
    let (_, _dave) = relay.join("dave").await;
    let room = group(&alice, "plans", &["bob", "dave"]).await.id;

    // Members only (carol is not in the room), as they spell their names, not inside code.
    let sent = alice
        .request(&send(&room, "@BOB and @carol, not `@dave`; @nobody"))
        .await
        .expect("send")
        .message;
    assert_eq!(sent.mentions, ["bob"]);
    let edited = alice
        .request(&edit(&room, &sent, "sorry, I meant @dave"))
        .await
        .expect("edit")
        .message;
    assert_eq!(edited.mentions, ["dave"]);
    let page = alice
        .request(&history(&room, None, None))
        .await
        .expect("history")
        .messages;
    assert_eq!(page[0].mentions, ["dave"], "the message as it is now");
    let plain = alice
        .request(&send(&room, "no one"))
        .await
        .expect("send")
        .message;
    assert!(plain.mentions.is_empty());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_toggling_one_reaction_at_once_are_each_counted_once() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, bob) = relay.join("bob").await;
    let room = group(&alice, "plans", &["bob"]).await.id;
    let sent = alice
        .request(&send(&room, "friday?"))
        .await
        .expect("send")
        .message;

    // Both toggle 👍 eleven times at once (on, off, …, on): each ends with one 👍.
    let toggle = |who: &'static str| {
        let client = if who == "alice" { &alice } else { &bob };
        let (room, sent) = (room.clone(), sent.clone());
        async move {
            for i in 0..11 {
                client
                    .request(&react(&room, &sent, "👍", i % 2 == 0))
                    .await
                    .unwrap_or_else(|e| panic!("{who}'s toggle {i}: {e:?}"));
            }
        }
    };
    tokio::join!(toggle("alice"), toggle("bob"));

    let page = alice
        .request(&history(&room, None, None))
        .await
        .expect("history")
        .messages;
    let message = page.iter().find(|m| m.id == sent.id).expect("the message");
    assert_eq!(message.reactions.len(), 1, "{:?}", message.reactions);
    let mut users = message.reactions[0].users.clone();
    users.sort();
    assert_eq!(
        (message.reactions[0].emoji.as_str(), users),
        ("👍", vec!["alice".to_owned(), "bob".to_owned()])
    );
    // Every toggle took its own seq after the message: 22 entries, no gap.
    let seqs: Vec<_> = page.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=23).collect::<Vec<_>>());
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_across_rooms_is_refused_and_each_change_is_idempotent() {
    let relay = TestRelay::start().await;
    let (_, alice) = relay.join("alice").await;
    let (_, _bob) = relay.join("bob").await;
    let room = group(&alice, "plans", &["bob"]).await.id;
    let sent = alice
        .request(&send(&room, "in plans"))
        .await
        .expect("send")
        .message;

    // A reply names a message of its own room; one in another room is no such message there.
    let refused = alice
        .request(&SendMessage {
            reply_to: Some(sent.id.clone()),
            ..send(GENERAL_ROOM_ID, "answering from general")
        })
        .await;
    assert_eq!(refused.map_err(|e| e.code).err(), Some(ErrorCode::NotFound));
    let general = alice
        .request(&history(GENERAL_ROOM_ID, None, None))
        .await
        .expect("history")
        .messages;
    assert!(general.is_empty(), "nothing was written: {general:?}");

    // A retry of an edit, a reaction or a reply (same client_id) answers the original entry and
    // takes no new seq.
    let edit_once = edit(&room, &sent, "in plans, edited");
    let first = alice.request(&edit_once).await.expect("edit").message;
    let again = alice.request(&edit_once).await.expect("retry").message;
    assert_eq!(first, again);
    let like = react(&room, &sent, "🎉", true);
    let first_like = alice.request(&like).await.expect("react").message;
    let again_like = alice.request(&like).await.expect("retry").message;
    assert_eq!(first_like, again_like);
    // A reply takes the entries' path in the commit stage: its retry is answered the same way.
    let reply_once = SendMessage {
        reply_to: Some(sent.id.clone()),
        ..send(&room, "a reply")
    };
    let first_reply = alice.request(&reply_once).await.expect("reply").message;
    let again_reply = alice.request(&reply_once).await.expect("retry").message;
    assert_eq!(first_reply, again_reply);
    let page = alice
        .request(&history(&room, None, None))
        .await
        .expect("history")
        .messages;
    let seqs: Vec<_> = page.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        [1, 2, 3, 4],
        "the message, one edit, one reaction, one reply"
    );
    relay.stop().await;
}
