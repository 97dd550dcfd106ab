//! What a file is and how it may be served: image types sniffed from the bytes (never taken
//! from the client), the client's claimed type kept only as a label, file names made safe, and
//! the headers that decide inline or download.

use axum::http::{header, HeaderMap, HeaderValue};
use natter_protocol::limits::MAX_FILE_NAME_CHARS;
use natter_protocol::WireError;

/// The types served inline: raster images a browser draws without running anything. SVG
/// (scripts), HTML and everything else are downloads.
pub const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// What a file whose type is unknown, or not to be trusted, is served as.
pub const OCTET_STREAM: &str = "application/octet-stream";
/// Bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 16;

/// The image type of `head` (a file's first bytes), by its signature.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The type recorded for an upload: the sniffed image type, else the client's claim if it is
/// a plain `type/subtype` that does not claim to be one of the inline types (bytes that are not
/// a PNG are not called one), else [`OCTET_STREAM`].
pub fn recorded_type(sniffed: Option<&'static str>, claimed: Option<&str>) -> String {
    if let Some(image) = sniffed {
        return image.to_owned();
    }
    let claimed = claimed
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| is_media_type(c) && !INLINE_TYPES.contains(&c.as_str()));
    claimed.unwrap_or_else(|| OCTET_STREAM.to_owned())
}

fn is_media_type(s: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.len() <= 100
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(s.split_once('/'), Some((a, b)) if token(a) && token(b))
}

/// The name as stored: its last path component, 1–[`MAX_FILE_NAME_CHARS`] characters, no
/// control characters.
pub fn file_name(name: Option<&str>) -> Result<String, WireError> {
    let name = name.unwrap_or("file");
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(WireError::invalid("the file needs a name (?name=)"));
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(WireError::invalid(format!(
            "a file name may have at most {MAX_FILE_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(WireError::invalid(
            "a file name may not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// The headers that serve a file of `content_type` named `name`: inline with its type only for
/// [`INLINE_TYPES`], otherwise a download of [`OCTET_STREAM`]; never sniffed, never run.
pub fn serving_headers(content_type: &str, name: &str) -> HeaderMap {
    let inline = INLINE_TYPES.contains(&content_type);
    let mut headers = HeaderMap::new();
    let served = if inline { content_type } else { OCTET_STREAM };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(static_type(served)),
    );
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        ascii_name(name),
        percent_encoded(name)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Even opened directly in a browser, nothing in it runs or loads.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    headers
}

fn static_type(t: &str) -> &'static str {
    INLINE_TYPES
        .into_iter()
        .find(|known| *known == t)
        .unwrap_or(OCTET_STREAM)
}

/// The name for old clients: printable ASCII other than quotes and backslashes.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect()
}

/// RFC 8187: UTF-8, every byte but unreserved ones percent-encoded.
fn percent_encoded(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_sniffed_and_claims_never_make_an_inline_type() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns="), None);
        assert_eq!(recorded_type(None, Some("image/png")), OCTET_STREAM);
        assert_eq!(recorded_type(None, Some("image/svg+xml")), "image/svg+xml");
        assert_eq!(
            recorded_type(None, Some("text/html; charset=utf-8")),
            "text/html"
        );
        assert_eq!(recorded_type(None, Some("nonsense")), OCTET_STREAM);
        assert_eq!(
            recorded_type(Some("image/gif"), Some("text/html")),
            "image/gif"
        );
    }

    #[test]
    fn only_raster_images_are_inline() {
        let png = serving_headers("image/png", "a.png");
        assert_eq!(png[header::CONTENT_TYPE], "image/png");
        assert!(png[header::CONTENT_DISPOSITION]
            .to_str()
            .is_ok_and(|d| d.starts_with("inline")));
        for t in ["image/svg+xml", "text/html", "application/pdf"] {
            let h = serving_headers(t, "x");
            assert_eq!(h[header::CONTENT_TYPE], OCTET_STREAM);
            assert!(h[header::CONTENT_DISPOSITION]
                .to_str()
                .is_ok_and(|d| d.starts_with("attachment")));
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(
            file_name(Some("../../etc/passwd")).ok().as_deref(),
            Some("passwd")
        );
        assert_eq!(
            file_name(Some("C:\\x\\ünï.txt")).ok().as_deref(),
            Some("ünï.txt")
        );
        assert!(file_name(Some("a\nb")).is_err());
        assert!(file_name(Some("dir/")).is_err());
        let h = serving_headers("text/plain", "say \"hé\".txt");
        assert_eq!(
            h[header::CONTENT_DISPOSITION],
            "attachment; filename=\"say _h__.txt\"; filename*=UTF-8''say%20%22h%C3%A9%22.txt"
        );
    }
}
