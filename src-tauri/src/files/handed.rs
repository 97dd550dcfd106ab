//! What an `attach_bytes` call hands over: one message's dropped or pasted files, their bytes
//! concatenated as the call's raw body, and in headers the room, the caption, the message it
//! answers and the list of the files (name, type, length). The headers' names and the bounds
//! live here; `ui/app/js/bridge.js` mirrors them. Everything is checked before anything is
//! written, so a bad call sends nothing.

use natter_client::files::{file_name, FileSource, NewFile};
use natter_protocol::limits::{DEFAULT_MAX_UPLOAD_MB, MAX_ATTACHMENTS};
use serde::Deserialize;
use tauri::ipc::{InvokeBody, Request};

use crate::error::{Error, Result};

/// The largest file the webview may hand over as bytes (the relay's default upload limit):
/// bigger ones go through the attach button, which copies from disk.
pub const MAX_HANDED_BYTES: usize = (DEFAULT_MAX_UPLOAD_MB * 1024 * 1024) as usize;
/// The most bytes one call hands over (100 MiB: four files at the bound, or ten phone photos).
/// A call is held whole in memory at least twice in the webview (the files read, then joined) and twice
/// in the shell (the body, then the files' own buffers until they are written to the profile):
/// ten files at the bound (250 MiB) would be some 1 GiB at once. The UI starts another message
/// rather than pass it.
pub const MAX_HANDED_TOTAL: usize = 4 * MAX_HANDED_BYTES;

/// The headers of an `attach_bytes` call, the text ones percent-encoded
/// (`encodeURIComponent`).
pub const ROOM_HEADER: &str = "natter-room-id";
/// The files, in the body's order: a JSON list of `{"name", "type", "size"}` (`size` in bytes).
pub const FILES_HEADER: &str = "natter-files";
/// The caption: the message's text.
pub const BODY_HEADER: &str = "natter-body";
/// The id of the message it answers (optional).
pub const REPLY_HEADER: &str = "natter-reply-to";

/// One call's message, checked.
#[derive(Debug)]
pub(super) struct Handed {
    pub(super) room_id: String,
    pub(super) body: String,
    pub(super) reply_to: Option<String>,
    pub(super) files: Vec<NewFile>,
}

/// One entry of the files header.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Listed {
    name: String,
    #[serde(rename = "type", default)]
    content_type: String,
    size: usize,
}

/// Reads and checks an `attach_bytes` call; `invalid` with the reason when anything is off.
pub(super) fn read(request: &Request<'_>) -> Result<Handed> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::Invalid(
            "the files' bytes are the call's body".to_owned(),
        ));
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(decode)
    };
    let room_id = header(ROOM_HEADER).ok_or_else(|| Error::Invalid("which room?".to_owned()))?;
    let files = split(bytes, header(FILES_HEADER).as_deref())?;
    Ok(Handed {
        room_id,
        body: header(BODY_HEADER).unwrap_or_default(),
        reply_to: header(REPLY_HEADER).filter(|id| !id.is_empty()),
        files,
    })
}

/// The files `listing` (the files header, decoded) names, cut from `bytes` in order: 1 to
/// [`MAX_ATTACHMENTS`] files, each 1 byte to [`MAX_HANDED_BYTES`], their sizes adding up to
/// exactly the body, which is at most [`MAX_HANDED_TOTAL`].
fn split(bytes: &[u8], listing: Option<&str>) -> Result<Vec<NewFile>> {
    let invalid = |why: String| Err(Error::Invalid(why));
    if bytes.len() > MAX_HANDED_TOTAL {
        return invalid(format!(
            "at most {} MiB of dropped or pasted files in one message",
            MAX_HANDED_TOTAL / (1024 * 1024)
        ));
    }
    let Some(listing) = listing else {
        return invalid(format!("which files? (the {FILES_HEADER} header)"));
    };
    let listed: Vec<Listed> = match serde_json::from_str(listing) {
        Ok(listed) => listed,
        Err(e) => {
            return invalid(format!(
                "the {FILES_HEADER} header is not a list of {{name, type, size}}: {e}"
            ))
        }
    };
    if listed.is_empty() || listed.len() > MAX_ATTACHMENTS {
        return invalid(format!("1 to {MAX_ATTACHMENTS} files in one message"));
    }
    if listed
        .iter()
        .any(|f| f.size == 0 || f.size > MAX_HANDED_BYTES)
    {
        return invalid(format!(
            "a pasted or dropped file is 1 byte to {} MiB; attach bigger ones with the button",
            MAX_HANDED_BYTES / (1024 * 1024)
        ));
    }
    // No overflow: at most MAX_ATTACHMENTS sizes of at most MAX_HANDED_BYTES each.
    let listed_bytes: usize = listed.iter().map(|f| f.size).sum();
    if listed_bytes != bytes.len() {
        return invalid(format!(
            "the files listed are {listed_bytes} bytes, the body {}",
            bytes.len()
        ));
    }
    let mut rest = bytes;
    Ok(listed
        .into_iter()
        .map(|f| {
            let (own, after) = rest.split_at(f.size);
            rest = after;
            NewFile {
                name: file_name(&f.name),
                content_type: Some(f.content_type).filter(|t| !t.is_empty()),
                source: FileSource::Bytes(own.to_vec()),
            }
        })
        .collect())
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

    /// A file as `split` answers it: its name, type and bytes.
    type Cut = (String, Option<String>, Vec<u8>);

    fn cut(bytes: &[u8], listing: &str) -> Result<Vec<Cut>> {
        Ok(split(bytes, Some(listing))?
            .into_iter()
            .map(|f| match f.source {
                FileSource::Bytes(b) => (f.name, f.content_type, b),
                FileSource::Path(p) => panic!("a path from bytes: {p:?}"),
            })
            .collect())
    }

    fn refused(bytes: &[u8], listing: Option<&str>) -> String {
        match split(bytes, listing) {
            Err(Error::Invalid(why)) => why,
            other => panic!(
                "not refused as invalid: {:?}",
                other.map(|files| files.len())
            ),
        }
    }

    #[test]
    fn headers_are_percent_decoded() {
        assert_eq!(decode("caf%C3%A9%20%F0%9F%90%88.png"), "café 🐈.png");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }

    #[test]
    fn the_body_is_cut_into_the_listed_files_in_order() -> Result<()> {
        let files = cut(
            b"abcdefg",
            r#"[{"name":"a/one.txt","type":"text/plain","size":3},{"name":"","size":4}]"#,
        )?;
        assert_eq!(
            files,
            [
                (
                    "one.txt".to_owned(),
                    Some("text/plain".to_owned()),
                    b"abc".to_vec()
                ),
                ("file".to_owned(), None, b"defg".to_vec()),
            ]
        );
        Ok(())
    }

    #[test]
    fn a_listing_that_does_not_match_the_body_is_refused() {
        let one = |size: usize| format!(r#"{{"name":"x","type":"","size":{size}}}"#);
        let list = |n: usize, size: usize| format!("[{}]", vec![one(size); n].join(","));
        assert!(refused(b"abc", None).contains(FILES_HEADER));
        assert!(refused(b"abc", Some("not json")).contains("not a list"));
        assert!(refused(b"abc", Some(r#"[{"name":"x","size":-3}]"#)).contains("not a list"));
        assert!(
            refused(b"abc", Some(r#"[{"name":"x","size":3,"path":"/etc"}]"#))
                .contains("not a list")
        );
        assert!(refused(b"", Some("[]")).contains("1 to 10 files"));
        assert!(refused(&[0; 11], Some(&list(11, 1))).contains("1 to 10 files"));
        assert!(
            refused(b"abc", Some(&format!("[{},{}]", one(3), one(0)))).contains("1 byte to 25 MiB")
        );
        assert!(refused(b"ab", Some(&list(1, 3))).contains("3 bytes, the body 2"));
        assert!(refused(b"abcd", Some(&list(1, 3))).contains("3 bytes, the body 4"));
        let big = vec![0; MAX_HANDED_BYTES + 1];
        assert!(refused(&big, Some(&list(1, big.len()))).contains("attach bigger ones"));
        let over = vec![0; MAX_HANDED_TOTAL + 1];
        assert!(refused(&over, Some(&list(5, over.len() / 5))).contains("100 MiB"));
        // Ten files of the most a call carries in all is fine.
        let whole = vec![7; MAX_HANDED_TOTAL];
        assert_eq!(
            split(&whole, Some(&list(10, MAX_HANDED_TOTAL / 10)))
                .map(|f| f.len())
                .ok(),
            Some(10)
        );
    }

    #[test]
    fn the_ui_mirrors_the_headers_and_bounds() {
        let bridge = include_str!("../../../ui/app/js/bridge.js");
        for name in [ROOM_HEADER, FILES_HEADER, BODY_HEADER, REPLY_HEADER] {
            assert!(
                bridge.contains(&format!("\"{name}\"")),
                "bridge.js lacks {name}"
            );
        }
        assert!(bridge.contains(&format!(
            "MAX_HANDED_BYTES = {DEFAULT_MAX_UPLOAD_MB} * 1024 * 1024;"
        )));
        assert!(bridge.contains("MAX_HANDED_TOTAL = 4 * MAX_HANDED_BYTES;"));
        assert!(bridge.contains(&format!("MAX_ATTACHMENTS = {MAX_ATTACHMENTS};")));
    }
}
