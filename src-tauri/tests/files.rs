//! The file commands (issue 20) through IPC under the real capabilities, against a relay hosted
//! in-process: a pasted image handed over as the call's raw body is announced pending with its
//! file, its upload progress and the committed message with its attachment follow on the event
//! stream; two dropped files in one call are one message with both, in order; `image` hands the
//! webview the image and its thumbnail as `data:` URLs; what is not an image, bytes over the
//! bound, a files header that does not match the body and a cancel that comes too late are
//! refused with a clear error, and a refused call sends nothing. The dialogs (`attach_files`,
//! `save_file`) need a real window: not here.

mod support;

use base64::Engine;

use natter_desktop::files::handed::{
    BODY_HEADER, FILES_HEADER, MAX_HANDED_BYTES, REPLY_HEADER, ROOM_HEADER,
};
use natter_desktop::{ui_event, AppState};
use serde_json::{json, Value};
use support::{invoke, invoke_raw, invoke_until, start_app, wait, TestResult};
use tauri::{Listener, Manager};
use tokio::sync::mpsc;

/// An 8×8 RGB PNG.
const PNG: &str = "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000006c49444154789c0dc94101003008033194a0a44aaa84e7a940094aaa68cb375545172a5c4cb1c51529aa9a6ed4b899669b6bd23f440b098b112b4e443f4c1b199b316bcec43f861e34789861871b323f965eb4789965975bb23f8e3e74f898638f3b723f42070587091b2e243cb02c548131c8e3ff0000000049454e44ae426082";

fn png() -> Vec<u8> {
    (0..PNG.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&PNG[i..i + 2], 16).ok())
        .collect()
}

/// Percent-encoded as `encodeURIComponent` does.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The files header for `(name, type, size)` entries, as the UI sends it.
fn listing(files: &[(&str, &str, usize)]) -> String {
    let list: Vec<Value> = files
        .iter()
        .map(|(name, kind, size)| json!({"name": name, "type": kind, "size": size}))
        .collect();
    encode(&Value::from(list).to_string())
}

/// The next event on the UI stream for which `pick` holds (bounded).
fn next_event(
    events: &mut mpsc::UnboundedReceiver<Value>,
    pick: impl Fn(&Value) -> bool,
) -> Result<Value, Box<dyn std::error::Error>> {
    wait(async {
        while let Some(event) = events.recv().await {
            if pick(&event) {
                return Some(event);
            }
        }
        None
    })?
    .ok_or_else(|| "the event stream closed".into())
}

#[test]
fn a_pasted_image_is_sent_and_shown_through_ipc() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (app, webview) = start_app(dir.path())?;
    let (events_tx, mut events) = mpsc::unbounded_channel::<Value>();
    app.listen_any(ui_event::EVENT, move |event| {
        if let Ok(batch) = serde_json::from_str::<Vec<Value>>(event.payload()) {
            for one in batch {
                let _ = events_tx.send(one);
            }
        }
    });
    let hosted = invoke(
        &webview,
        "host_locally",
        json!({"port": 0, "let_others_connect": false}),
    )
    .map_err(|e| e.to_string())?;
    let url = hosted["url"].as_str().ok_or("no url")?.to_owned();
    let account =
        json!({"server_url": url, "username": "alice", "password": "correct horse battery"});
    invoke(&webview, "register", account).map_err(|e| e.to_string())?;
    invoke_until(&webview, "connection_state", |v| v["state"] == "connected")?;

    let bytes = png();
    let client_id = invoke_raw(
        &webview,
        "attach_bytes",
        bytes.clone(),
        &[
            (ROOM_HEADER, "general"),
            (
                FILES_HEADER,
                &listing(&[("café shot.png", "image/png", bytes.len())]),
            ),
            (BODY_HEADER, &encode("the view 🎉")),
        ],
    )
    .map_err(|e| e.to_string())?;
    assert!(client_id.is_string(), "{client_id}");
    let pending = next_event(&mut events, |e| {
        e["type"] == "message_state" && e["client_id"] == client_id
    })?;
    assert_eq!(pending["state"]["state"], "pending");
    assert_eq!(
        pending["state"]["files"],
        json!([{"name": "café shot.png", "type": "image/png", "size": bytes.len()}])
    );
    let progress = next_event(&mut events, |e| {
        e["type"] == "upload" && e["client_id"] == client_id
    })?;
    assert_eq!(progress["total"], bytes.len());
    let message = next_event(&mut events, |e| {
        e["type"] == "message" && e["message"]["client_id"] == client_id
    })?;
    // The composer's text is the message's caption: one message, text and file.
    assert_eq!(message["message"]["body"], "the view 🎉");
    let attachment = &message["message"]["attachments"][0];
    assert_eq!(attachment["name"], "café shot.png");
    assert_eq!(
        (attachment["width"].clone(), attachment["height"].clone()),
        (json!(8), json!(8))
    );
    let file_id = attachment["id"].as_str().ok_or("no file id")?.to_owned();
    let message_id = message["message"]["id"]
        .as_str()
        .ok_or("no message id")?
        .to_owned();

    // The webview gets images as data: URLs only; the whole file is the bytes sent.
    let full = invoke(&webview, "image", json!({"file_id": file_id})).map_err(|e| e.to_string())?;
    let full = full.as_str().ok_or("not a string")?;
    assert!(
        full.starts_with("data:image/png;base64,"),
        "{}",
        &full[..40.min(full.len())]
    );
    let thumb = invoke(
        &webview,
        "image",
        json!({"file_id": file_id, "thumbnail": true}),
    )
    .map_err(|e| e.to_string())?;
    let thumb = thumb.as_str().ok_or("not a string")?;
    assert!(
        thumb.starts_with("data:image/png;base64,") || thumb.starts_with("data:image/jpeg;base64,"),
        "{}",
        &thumb[..40.min(thumb.len())]
    );

    // A file that is not an image is never handed over for display.
    let svg_bytes = b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec();
    let text_id = invoke_raw(
        &webview,
        "attach_bytes",
        svg_bytes.clone(),
        &[
            (ROOM_HEADER, "general"),
            (FILES_HEADER, &listing(&[("x.svg", "", svg_bytes.len())])),
            (REPLY_HEADER, message_id.as_str()),
        ],
    )
    .map_err(|e| e.to_string())?;
    let svg = next_event(&mut events, |e| {
        e["type"] == "message" && e["message"]["client_id"] == text_id
    })?;
    assert_eq!(svg["message"]["reply_to"]["id"], json!(message_id), "{svg}");
    let svg_id = svg["message"]["attachments"][0]["id"].clone();
    let refused = invoke(&webview, "image", json!({"file_id": svg_id}))
        .err()
        .ok_or("an SVG was handed over")?;
    assert_eq!(refused["code"], "invalid");
    // The send is committed: too late to cancel.
    let late = invoke(&webview, "cancel_upload", json!({"client_id": text_id}))
        .err()
        .ok_or("a sent message was cancelled")?;
    assert_eq!(late["code"], "invalid");
    // Bytes over the bound, no room, and files that do not add up to the body are refused
    // before anything is written: the next send announced is the good one after them.
    let refused = |body: Vec<u8>, headers: &[(&'static str, &str)]| {
        let error = invoke_raw(&webview, "attach_bytes", body, headers)
            .err()
            .ok_or_else(|| format!("a bad call was taken: {headers:?}"))?;
        assert_eq!(error["code"], "invalid", "{headers:?}: {error}");
        Ok::<_, String>(())
    };
    let big = vec![0; MAX_HANDED_BYTES + 1];
    let big_listed = listing(&[("big.bin", "", big.len())]);
    refused(
        big,
        &[(ROOM_HEADER, "general"), (FILES_HEADER, &big_listed)],
    )?;
    refused(vec![1, 2, 3], &[])?;
    // The one file's header from before several files went in one call.
    refused(
        vec![1, 2, 3],
        &[(ROOM_HEADER, "general"), ("natter-file-name", "a.bin")],
    )?;
    let short = listing(&[("a", "", 1), ("b", "", 1)]);
    refused(
        vec![1, 2, 3],
        &[(ROOM_HEADER, "general"), (FILES_HEADER, &short)],
    )?;
    let no_size = encode(r#"[{"name": "a"}]"#);
    refused(
        vec![1, 2, 3],
        &[(ROOM_HEADER, "general"), (FILES_HEADER, &no_size)],
    )?;
    let eleven = listing(&[("a", "", 1); 11]);
    refused(
        vec![1; 11],
        &[(ROOM_HEADER, "general"), (FILES_HEADER, &eleven)],
    )?;

    // Two dropped files in one call: one message carrying both, in order.
    let notes = "dropped with the photo".as_bytes();
    let mut both = bytes.clone();
    both.extend_from_slice(notes);
    let two_id = invoke_raw(
        &webview,
        "attach_bytes",
        both,
        &[
            (ROOM_HEADER, "general"),
            (
                FILES_HEADER,
                &listing(&[
                    ("shot.png", "image/png", bytes.len()),
                    ("notes.txt", "text/plain", notes.len()),
                ]),
            ),
            (BODY_HEADER, "two"),
        ],
    )
    .map_err(|e| e.to_string())?;
    let pending = next_event(&mut events, |e| {
        e["type"] == "message_state" && e["state"]["state"] == "pending"
    })?;
    assert_eq!(
        pending["client_id"], two_id,
        "a refused call sent something"
    );
    assert_eq!(
        pending["state"]["files"],
        json!([
            {"name": "shot.png", "type": "image/png", "size": bytes.len()},
            {"name": "notes.txt", "type": "text/plain", "size": notes.len()},
        ])
    );
    let two = next_event(&mut events, |e| {
        e["type"] == "message" && e["message"]["client_id"] == two_id
    })?;
    assert_eq!(two["message"]["body"], "two");
    let names: Vec<&Value> = two["message"]["attachments"]
        .as_array()
        .ok_or("no attachments")?
        .iter()
        .map(|a| &a["name"])
        .collect();
    assert_eq!(names, [&json!("shot.png"), &json!("notes.txt")], "{two}");
    assert_eq!(two["message"]["attachments"][1]["size"], notes.len());
    // The body was cut where the header says: the image is exactly its bytes.
    let shot_id = two["message"]["attachments"][0]["id"].clone();
    let shot = invoke(&webview, "image", json!({"file_id": shot_id})).map_err(|e| e.to_string())?;
    assert_eq!(
        shot,
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        )
    );
    // An unknown file is the relay's own answer.
    let missing = invoke(&webview, "image", json!({"file_id": "no-such-file"}))
        .err()
        .ok_or("an unknown file was shown")?;
    assert_eq!(missing["code"], "not_found");

    wait(app.state::<AppState>().shutdown())?;
    Ok(())
}
