//! Who may upload, read and attach a file, and how each kind of file is served.

use std::collections::BTreeMap;

use natter_protocol::events::MessageEvent;
use natter_protocol::http::{file_path, thumbnail_path, THUMBNAIL_PX};
use natter_protocol::requests::{SendMessage, Sync};
use natter_protocol::ErrorCode;

use super::{get, png, send_with, upload, Answer};
use crate::util::{assert_refused, client_id, group, history, TestRelay, WAIT};

#[tokio::test]
async fn every_file_call_needs_a_token() {
    let relay = TestRelay::start().await;
    let alice = relay.token("alice").await;
    let file = upload(relay.addr(), &alice, "a.txt", "text/plain", b"hello").await;
    let id = file.attachment().id;
    for token in [None, Some("not-a-token")] {
        let posted = super::raw_post(
            relay.addr(),
            token,
            "b.txt",
            "text/plain",
            super::Framing::Length(5),
            std::iter::once(b"hello".to_vec()),
        )
        .await;
        assert_eq!(posted.status, 401, "upload with {token:?}");
        for path in [file_path(&id), thumbnail_path(&id)] {
            let got = get(&relay.url(), &path, token).await;
            assert_eq!(got.status, 401, "{path} with {token:?}");
            assert_eq!(got.json()["error"]["code"], "unauthorized");
        }
    }
    // Nothing was stored for the refused uploads: one file, the first.
    assert_eq!(super::stored(relay.data_dir()).len(), 1);
}

/// The bytes of a 404 (status, and body compared whole).
fn not_found(answer: &Answer, what: &str) -> Vec<u8> {
    assert_eq!(answer.status, 404, "{what}: {:?}", answer.json());
    answer.body.clone()
}

#[tokio::test]
async fn strangers_others_and_unknown_ids_get_the_same_404() {
    let relay = TestRelay::start().await;
    let (alice_auth, alice) = relay.join("alice").await;
    let (bob_auth, bob) = relay.join("bob").await;
    let carol = relay.token("carol").await;
    let alice_token = alice_auth.token;
    let room = group(&alice, "pics", &["bob"]).await;
    let image = png(8, 8, None);
    let posted = upload(relay.addr(), &alice_token, "cat.png", "image/png", &image)
        .await
        .attachment();
    let kept = upload(
        relay.addr(),
        &alice_token,
        "draft.txt",
        "text/plain",
        b"draft",
    )
    .await
    .attachment();
    send_with(&alice, &room.id, "look", &[&posted.id]).await;

    let unknown = not_found(
        &get(&relay.url(), &file_path("no-such-id"), Some(&carol)).await,
        "unknown",
    );
    let unknown_thumb = not_found(
        &get(&relay.url(), &thumbnail_path("no-such-id"), Some(&carol)).await,
        "unknown thumbnail",
    );
    // Carol is in no room where it was posted; Bob did not upload the unattached one.
    let cases = [
        (&carol, &posted.id, "a non-member"),
        (&carol, &kept.id, "a stranger, an unattached upload"),
        (
            &bob_auth.token,
            &kept.id,
            "another user, an unattached upload",
        ),
    ];
    for (token, id, who) in cases {
        let got = get(&relay.url(), &file_path(id), Some(token)).await;
        assert_eq!(
            not_found(&got, who),
            unknown,
            "{who}: the same answer as no such file"
        );
        let thumb = get(&relay.url(), &thumbnail_path(id), Some(token)).await;
        assert_eq!(not_found(&thumb, who), unknown_thumb, "{who}: thumbnail");
    }
    // The room's members and the uploader read it.
    for (token, who) in [
        (&bob_auth.token, "a member"),
        (&alice_token, "its uploader"),
    ] {
        let got = get(&relay.url(), &file_path(&posted.id), Some(token)).await;
        assert_eq!(got.status, 200, "{who}");
        assert_eq!(got.body, image, "{who}");
    }
    let own = get(&relay.url(), &file_path(&kept.id), Some(&alice_token)).await;
    assert_eq!((own.status, own.body.as_slice()), (200, &b"draft"[..]));
    drop(bob);
}

#[tokio::test]
async fn attachments_travel_with_the_message_and_only_your_own_attach() {
    let relay = TestRelay::start().await;
    let (alice_auth, alice) = relay.join("alice").await;
    let (bob_auth, bob) = relay.join("bob").await;
    let room = group(&alice, "files", &["bob"]).await;
    let up = |token: &str, name: &'static str, bytes: Vec<u8>| {
        let (addr, token) = (relay.addr(), token.to_owned());
        async move {
            upload(addr, &token, name, "application/octet-stream", &bytes)
                .await
                .attachment()
        }
    };
    let a1 = up(&alice_auth.token, "one.png", png(4, 3, None)).await;
    let a2 = up(&alice_auth.token, "two.bin", b"second".to_vec()).await;
    let b1 = up(&bob_auth.token, "bobs.bin", b"bob's".to_vec()).await;
    assert_eq!(
        (a1.content_type.as_str(), a1.width, a1.height),
        ("image/png", Some(4), Some(3))
    );
    assert_eq!(
        (a2.content_type.as_str(), a2.size, a2.width),
        ("application/octet-stream", 6, None)
    );

    // Someone else's upload, and one that does not exist: the same refusal; nothing sent.
    for id in [&b1.id, &"no-such-file".to_owned()] {
        let req = SendMessage {
            room_id: room.id.clone(),
            client_id: client_id(),
            body: "mine?".into(),
            reply_to: None,
            attachments: vec![id.clone()],
        };
        assert_refused(
            alice.request(&req).await.map(|a| a.message),
            ErrorCode::NotFound,
            "a foreign file",
        );
    }

    // Files without text; in the order named.
    let sent = send_with(&alice, &room.id, "", &[&a2.id, &a1.id]).await;
    assert_eq!(sent.attachments, vec![a2.clone(), a1.clone()]);
    let live = bob
        .next_event_where::<MessageEvent>(WAIT, |e| e.message.id == sent.id)
        .await
        .expect("bob hears of the message");
    assert_eq!(live.message.attachments, sent.attachments);
    let page = bob
        .request(&history(&room.id, None, None))
        .await
        .expect("history");
    let found = page
        .messages
        .iter()
        .find(|m| m.id == sent.id)
        .expect("in history");
    assert_eq!(found.attachments, sent.attachments);
    let synced = bob
        .request(&Sync {
            cursors: BTreeMap::from([(room.id.clone(), 0)]),
        })
        .await
        .expect("sync");
    let found = synced
        .messages
        .iter()
        .find(|m| m.id == sent.id)
        .expect("in sync");
    assert_eq!(found.attachments, sent.attachments);
    // A plain message in the same room still carries no `attachments` field at all.
    let plain = send_with(&alice, &room.id, "plain", &[]).await;
    let json = serde_json::to_value(&plain).expect("json");
    assert!(json.get("attachments").is_none(), "{json}");
}

#[tokio::test]
async fn only_raster_images_are_inline_and_svg_and_html_are_downloads() {
    let relay = TestRelay::start().await;
    let token = relay.token("alice").await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let html = b"<!doctype html><script>alert(1)</script>";
    let cases: [(&str, &str, &[u8]); 4] = [
        ("evil.svg", "image/svg+xml", svg),
        ("evil.html", "text/html", html),
        // Claims to be a PNG; its bytes are HTML: the claim is not believed.
        ("fake.png", "image/png", html),
        ("notes.txt", "text/plain", b"plain text"),
    ];
    for (name, claimed, bytes) in cases {
        let file = upload(relay.addr(), &token, name, claimed, bytes)
            .await
            .attachment();
        assert!(file.width.is_none(), "{name}");
        let got = get(&relay.url(), &file_path(&file.id), Some(&token)).await;
        assert_eq!(got.status, 200, "{name}");
        assert_eq!(
            got.header("content-type"),
            Some("application/octet-stream"),
            "{name}"
        );
        let disposition = got.header("content-disposition").unwrap_or_default();
        assert!(
            disposition.starts_with("attachment;"),
            "{name}: {disposition}"
        );
        assert!(disposition.contains(name), "{name}: {disposition}");
        assert_eq!(
            got.header("x-content-type-options"),
            Some("nosniff"),
            "{name}"
        );
        assert_eq!(got.body, bytes, "{name}");
        let thumb = get(&relay.url(), &thumbnail_path(&file.id), Some(&token)).await;
        assert_eq!(thumb.status, 404, "{name}: no thumbnail of a non-image");
    }
    let image = png(640, 400, None);
    let file = upload(
        relay.addr(),
        &token,
        "real.png",
        "application/octet-stream",
        &image,
    )
    .await
    .attachment();
    assert_eq!(
        (file.content_type.as_str(), file.width, file.height),
        ("image/png", Some(640), Some(400))
    );
    let got = get(&relay.url(), &file_path(&file.id), Some(&token)).await;
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert!(got
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("inline;")));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(got.body, image);

    let thumb = get(&relay.url(), &thumbnail_path(&file.id), Some(&token)).await;
    assert_eq!(thumb.status, 200, "{:?}", thumb.json());
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    assert!(thumb.body.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
    // Cached on disk beside the file; the second answer is the same bytes.
    assert_eq!(
        super::files_under(&relay.data_dir().join("files").join("thumbs")).len(),
        1
    );
    let again = get(&relay.url(), &thumbnail_path(&file.id), Some(&token)).await;
    assert_eq!(again.body, thumb.body);
    let _ = THUMBNAIL_PX;
}

#[tokio::test]
async fn an_image_bomb_is_refused_with_a_clear_error() {
    let relay = TestRelay::start().await;
    let token = relay.token("alice").await;
    // 100k × 100k pixels claimed (40 GB decoded), 33 bytes of pixel data.
    let bomb = png(1, 1, Some((100_000, 100_000)));
    assert!(bomb.len() < 100);
    let file = upload(relay.addr(), &token, "bomb.png", "image/png", &bomb)
        .await
        .attachment();
    assert_eq!((file.width, file.height), (Some(100_000), Some(100_000)));
    let thumb = get(&relay.url(), &thumbnail_path(&file.id), Some(&token)).await;
    assert_eq!(thumb.status, 413, "{:?}", thumb.json());
    assert_eq!(thumb.json()["error"]["code"], "too_large");
    let message = thumb.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("100000×100000"), "{message}");
    // The file itself is still there to download.
    let got = get(&relay.url(), &file_path(&file.id), Some(&token)).await;
    assert_eq!((got.status, got.body), (200, bomb));
    // And the relay is still fine.
    assert_eq!(get(&relay.url(), "/healthz", None).await.status, 200);
}
