//! Just enough HTTP to spot a WebSocket upgrade in a request head and refuse it.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Stop looking for the end of a request head after this many bytes.
const MAX_HEAD: usize = 16 * 1024;

/// What a proxy that blocks upgrades answers.
pub(crate) const FORBIDDEN: &[u8] =
    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Read until the end of the request head (`\r\n\r\n`), EOF or [`MAX_HEAD`] bytes, and return
/// everything read, which may run past the head; the caller forwards it all if it passes.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(src: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while head.len() < MAX_HEAD && head_end(&head).is_none() {
        let n = src.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

/// True when the bytes hold a complete request head with an `Upgrade` header naming websocket.
pub(crate) fn is_websocket_upgrade(bytes: &[u8]) -> bool {
    let Some(end) = head_end(bytes) else {
        return false;
    };
    let Ok(head) = std::str::from_utf8(&bytes[..end]) else {
        return false;
    };
    head.split("\r\n").skip(1).any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("upgrade")
                && value.to_ascii_lowercase().contains("websocket")
        })
    })
}

/// Where the blank line that ends an HTTP head starts.
pub(crate) fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|w| w == b"\r\n\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spots_upgrade_case_insensitively() {
        let req = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\
                    connection: Upgrade\r\nUPGRADE:  WebSocket \r\n\r\n";
        assert!(is_websocket_upgrade(req));
    }

    #[test]
    fn passes_plain_and_other_upgrades() {
        assert!(!is_websocket_upgrade(
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"
        ));
        assert!(!is_websocket_upgrade(
            b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"
        ));
        // The word in a path or another header's value is not an upgrade.
        assert!(!is_websocket_upgrade(
            b"GET /websocket HTTP/1.1\r\nX-Note: Upgrade: websocket\r\n\r\n"
        ));
    }

    #[test]
    fn incomplete_head_is_not_an_upgrade() {
        assert!(!is_websocket_upgrade(
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
        ));
    }

    #[tokio::test]
    async fn read_head_stops_at_the_blank_line_or_eof() {
        let mut src: &[u8] = b"GET / HTTP/1.1\r\n\r\nbody";
        let got = read_head(&mut src).await.expect("reads from a slice");
        assert!(got.starts_with(b"GET / HTTP/1.1\r\n\r\n"));
        let mut empty: &[u8] = b"";
        assert!(read_head(&mut empty)
            .await
            .expect("reads from a slice")
            .is_empty());
    }
}
