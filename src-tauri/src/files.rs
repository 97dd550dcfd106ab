//! The file commands (issue 20): attach files the user picks in the system's dialog (shown
//! from Rust: the webview never names a path) or the bytes of files it hands over (dropped or
//! pasted, several in one call: `handed.rs`), cancel an upload, an image (or its thumbnail) for
//! display as a `data:` URL (the Rust side fetches with the token; the CSP allows images from
//! `data:` only), and save a file where the user picks (fetched once into the profile's cache).
//! The dialog plugin grants the webview nothing.

pub mod handed;

use std::path::PathBuf;

use base64::Engine;
use natter_client::files::{file_name, FileSource, NewFile};
use natter_client::session::SessionError;
use natter_protocol::limits::MAX_ATTACHMENTS;
use tauri::ipc::Request;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::state::AppState;

/// The largest image handed to the webview for display (its `data:` URL is a third larger).
pub const MAX_SHOWN_BYTES: u64 = 40 * 1024 * 1024;

/// Opens the system's file picker and sends the chosen files to `room_id` with `body` (durable:
/// copied into the profile first), ten to a message. Answers the (first) send's `client_id`,
/// or `null` when the user picked nothing; the rest comes as events, like `send_message`.
#[tauri::command(rename_all = "snake_case")]
pub async fn attach_files<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    room_id: String,
    body: Option<String>,
    reply_to: Option<String>,
) -> Result<Option<String>> {
    let (tx, rx) = oneshot::channel();
    app.dialog().file().pick_files(move |picked| {
        let _ = tx.send(picked);
    });
    let Some(picked) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let files: Vec<NewFile> = picked
        .into_iter()
        .filter_map(|path| path.into_path().ok())
        .map(|path| NewFile {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            content_type: None,
            source: FileSource::Path(path),
        })
        .collect();
    let session = state.session().await?;
    let mut first = None;
    // A message carries at most MAX_ATTACHMENTS files: more go as further messages, in the
    // order picked, the caption (and the reply) with the first, as a drop does (`bridge.js`).
    for (i, files) in messages_of(files).into_iter().enumerate() {
        let (body, reply_to) = match i {
            0 => (body.as_deref().unwrap_or(""), reply_to.as_deref()),
            _ => ("", None),
        };
        let item = session.send_files(&room_id, body, reply_to, files).await?;
        first.get_or_insert(item.client_id);
    }
    Ok(first)
}

/// Files in the order given, as messages of at most [`MAX_ATTACHMENTS`] files each.
fn messages_of(mut files: Vec<NewFile>) -> Vec<Vec<NewFile>> {
    let mut messages = Vec::new();
    while !files.is_empty() {
        let rest = files.split_off(files.len().min(MAX_ATTACHMENTS));
        messages.push(std::mem::replace(&mut files, rest));
    }
    messages
}

/// Files the webview hands over as bytes (dropped or pasted), sent as one message: the call's
/// raw body is their bytes concatenated (`invoke("attach_bytes", bytes, {headers})`); the
/// headers name the room, the files (a JSON list of `{name, type, size}`, in the body's
/// order), the caption and the message it answers, if any (`handed.rs` says which and checks
/// them). Answers the send's `client_id`; a call that does not add up is refused (`invalid`)
/// before anything is written.
#[tauri::command]
pub async fn attach_bytes(state: State<'_, AppState>, request: Request<'_>) -> Result<String> {
    let handed = handed::read(&request)?;
    let item = state
        .session()
        .await?
        .send_files(
            &handed.room_id,
            &handed.body,
            handed.reply_to.as_deref(),
            handed.files,
        )
        .await?;
    Ok(item.client_id)
}

/// Takes back a send whose files are still uploading (its copies are removed). Refused
/// (`invalid`) once every file is up: the message may be on its way.
#[tauri::command(rename_all = "snake_case")]
pub async fn cancel_upload(state: State<'_, AppState>, client_id: String) -> Result<()> {
    if state.session().await?.cancel_upload(&client_id).await? {
        Ok(())
    } else {
        Err(Error::Invalid(
            "only a message whose files are still uploading can be cancelled".to_owned(),
        ))
    }
}

/// An image of a message for display: its thumbnail (`thumbnail: true`) or the whole image, as
/// a `data:` URL of its type as the bytes show it. Anything that is not a png, jpeg, gif or
/// webp image is refused (`invalid`): the webview never renders other files.
#[tauri::command(rename_all = "snake_case")]
pub async fn image(
    state: State<'_, AppState>,
    file_id: String,
    thumbnail: Option<bool>,
) -> Result<String> {
    let session = state.session().await?;
    let path = if thumbnail.unwrap_or(false) {
        session.thumbnail(&file_id).await?
    } else {
        session.file(&file_id).await?
    };
    drop(session);
    let size = tokio::fs::metadata(&path)
        .await
        .map_err(|e| io_error(&path, e))?
        .len();
    if size > MAX_SHOWN_BYTES {
        return Err(Error::Invalid("this image is too large to show".to_owned()));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| io_error(&path, e))?;
    let kind = image_type(&bytes).ok_or_else(|| Error::Invalid("not an image".to_owned()))?;
    Ok(format!(
        "data:{kind};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    ))
}

/// Saves a message's file where the user picks in the system's save dialog (offered under its
/// `name`); fetched into the profile's cache first (once). Answers whether it was saved
/// (`false`: the user cancelled the dialog).
#[tauri::command(rename_all = "snake_case")]
pub async fn save_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    file_id: String,
    name: String,
) -> Result<bool> {
    let cached = state.session().await?.file(&file_id).await?;
    let (tx, rx) = oneshot::channel();
    app.dialog()
        .file()
        .set_file_name(file_name(&name))
        .save_file(move |picked| {
            let _ = tx.send(picked);
        });
    let Some(to) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else {
        return Ok(false);
    };
    tokio::fs::copy(&cached, &to)
        .await
        .map_err(|e| io_error(&to, e))?;
    Ok(true)
}

/// The image type the bytes show: only the four the relay serves inline.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> Error {
    Error::Session(SessionError::File(natter_client::files::FileError::Io {
        path: PathBuf::from(path),
        source: e,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_raster_types_are_images() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg xmlns="), None);
        assert_eq!(image_type(b"<html>"), None);
    }

    #[test]
    fn picked_files_go_ten_to_a_message_in_order() {
        let file = |n: usize| NewFile {
            name: format!("{n}.txt"),
            content_type: None,
            source: FileSource::Bytes(vec![1]),
        };
        let names = |count: usize| -> Vec<Vec<String>> {
            messages_of((0..count).map(file).collect())
                .into_iter()
                .map(|m| m.into_iter().map(|f| f.name).collect())
                .collect()
        };
        assert!(names(0).is_empty());
        assert_eq!(names(3), [["0.txt", "1.txt", "2.txt"]]);
        let split = names(23);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);
        assert_eq!(split[1][0], "10.txt");
        assert_eq!(split[2][2], "22.txt");
    }
}
