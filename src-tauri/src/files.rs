//! The file commands (issue 20): attach files the user picks in the system's dialog (shown
//! from Rust: the webview never names a path) or bytes it hands over (a pasted or dropped
//! image, bounded), cancel an upload, an image (or its thumbnail) for display as a `data:` URL
//! (the Rust side fetches with the token; the CSP allows images from `data:` only), and save a
//! file where the user picks (fetched once into the profile's cache). The dialog plugin grants
//! the webview nothing.

use std::path::PathBuf;

use base64::Engine;
use natter_client::files::{file_name, FileSource, NewFile};
use natter_client::session::SessionError;
use natter_protocol::limits::DEFAULT_MAX_UPLOAD_MB;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::state::AppState;

/// The largest file the webview may hand over as bytes (the relay's default upload limit):
/// bigger ones go through the attach button, which copies from disk.
pub const MAX_HANDED_BYTES: usize = (DEFAULT_MAX_UPLOAD_MB * 1024 * 1024) as usize;
/// The largest image handed to the webview for display (its `data:` URL is a third larger).
pub const MAX_SHOWN_BYTES: u64 = 40 * 1024 * 1024;

/// The headers of an `attach_bytes` call (its body is the raw bytes).
const ROOM_HEADER: &str = "natter-room-id";
const NAME_HEADER: &str = "natter-file-name";
const TYPE_HEADER: &str = "natter-file-type";
const BODY_HEADER: &str = "natter-body";
const REPLY_HEADER: &str = "natter-reply-to";

/// Opens the system's file picker and sends the chosen files to `room_id` with `body` (durable:
/// copied into the profile first). Answers the send's `client_id`, or `null` when the user
/// picked nothing; the rest comes as events, like `send_message`.
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
    if files.is_empty() {
        return Ok(None);
    }
    let item = state
        .session()
        .await?
        .send_files(
            &room_id,
            body.as_deref().unwrap_or(""),
            reply_to.as_deref(),
            files,
        )
        .await?;
    Ok(Some(item.client_id))
}

/// A file the webview hands over as bytes (a pasted or dropped image): the raw body of the
/// call (`invoke("attach_bytes", bytes, {headers})`), with the room, the file's name and type,
/// the caption (the message's text) and the message it answers, if any, in headers
/// (`natter-room-id`, `natter-file-name`, `natter-file-type`, `natter-body`, `natter-reply-to`,
/// the text ones percent-encoded). Answers the send's `client_id`.
#[tauri::command]
pub async fn attach_bytes(state: State<'_, AppState>, request: Request<'_>) -> Result<String> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::Invalid(
            "the file's bytes are the call's body".to_owned(),
        ));
    };
    if bytes.is_empty() || bytes.len() > MAX_HANDED_BYTES {
        return Err(Error::Invalid(format!(
            "a pasted or dropped file is 1 byte to {} MiB; attach bigger ones with the button",
            MAX_HANDED_BYTES / (1024 * 1024)
        )));
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(decode)
    };
    let room_id = header(ROOM_HEADER).ok_or_else(|| Error::Invalid("which room?".to_owned()))?;
    let file = NewFile {
        name: file_name(&header(NAME_HEADER).unwrap_or_default()),
        content_type: header(TYPE_HEADER).filter(|t| !t.is_empty()),
        source: FileSource::Bytes(bytes.clone()),
    };
    let body = header(BODY_HEADER).unwrap_or_default();
    let reply_to = header(REPLY_HEADER).filter(|id| !id.is_empty());
    let item = state
        .session()
        .await?
        .send_files(&room_id, &body, reply_to.as_deref(), vec![file])
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

/// A percent-encoded header value (`encodeURIComponent`), decoded; bytes that do not make
/// UTF-8 are replaced.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_percent_decoded() {
        assert_eq!(decode("caf%C3%A9%20%F0%9F%90%88.png"), "café 🐈.png");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }

    #[test]
    fn only_the_four_raster_types_are_images() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg xmlns="), None);
        assert_eq!(image_type(b"<html>"), None);
    }
}
