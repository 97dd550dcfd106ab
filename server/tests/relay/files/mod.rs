//! Files (issue 20): upload, attach, serve, thumbnails, clean-up. Uploads go over a raw HTTP/1.1
//! connection (`raw_post`), so a test decides exactly what is announced, what is sent and when
//! the connection ends; downloads over reqwest.

mod access;
mod limits;
mod storage;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use natter_protocol::http::{FILES_PATH, FILE_NAME_PARAM};
use natter_protocol::requests::SendMessage;
use natter_protocol::{Attachment, Message};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::util::{client_id, Client, WAIT};

/// An HTTP answer: status, headers (names lowercase) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn attachment(&self) -> Attachment {
        assert_eq!(self.status, 201, "upload: {:?}", self.json());
        serde_json::from_slice(&self.body).expect("an upload answers an attachment")
    }
}

/// How a raw request sends its body.
pub enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`, the closing chunk sent only if `finish`.
    Chunked { finish: bool },
}

/// Sends a request head for `POST /api/files?name=…` and then `chunks` (framed as asked), and
/// reads the answer until the relay closes. A broken write is not an error: the relay may
/// answer and close before the body is in.
pub async fn raw_post(
    addr: SocketAddr,
    token: Option<&str>,
    name: &str,
    content_type: &str,
    framing: Framing,
    chunks: impl Iterator<Item = Vec<u8>>,
) -> Answer {
    let mut conn = TcpStream::connect(addr)
        .await
        .expect("connect to the relay");
    let mut head = format!(
        "POST {FILES_PATH}?{FILE_NAME_PARAM}={name} HTTP/1.1\r\nHost: {addr}\r\n\
         Connection: close\r\nContent-Type: {content_type}\r\n"
    );
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let chunked = match framing {
        Framing::Length(n) => {
            head.push_str(&format!("Content-Length: {n}\r\n"));
            None
        }
        Framing::Chunked { finish } => {
            head.push_str("Transfer-Encoding: chunked\r\n");
            Some(finish)
        }
    };
    head.push_str("\r\n");
    let (mut read, mut write) = conn.split();
    let sending = async {
        write.write_all(head.as_bytes()).await?;
        for chunk in chunks {
            if chunked.is_some() {
                write
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                write.write_all(&chunk).await?;
                write.write_all(b"\r\n").await?;
            } else {
                write.write_all(&chunk).await?;
            }
        }
        if chunked == Some(true) {
            write.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<_, std::io::Error>(())
    };
    let mut answer = Vec::new();
    let reading = read.read_to_end(&mut answer);
    // Read while writing: an early answer is taken in before the connection resets.
    // Bounded generously: the 1 GiB test goes through here, on a busy machine in a debug build.
    let (_, got) = tokio::time::timeout(WAIT * 12, async { tokio::join!(sending, reading) })
        .await
        .expect("the relay answers the upload in time");
    if let Err(e) = got {
        assert!(!answer.is_empty(), "no answer to the upload: {e}");
    }
    parse(&answer)
}

fn parse(raw: &[u8]) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// Uploads `bytes` with their length announced.
pub async fn upload(
    addr: SocketAddr,
    token: &str,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> Answer {
    raw_post(
        addr,
        Some(token),
        name,
        content_type,
        Framing::Length(bytes.len() as u64),
        std::iter::once(bytes.to_vec()),
    )
    .await
}

/// `GET` of `path` with an optional bearer token.
pub async fn get(base: &str, path: &str, token: Option<&str>) -> Answer {
    let http = reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("an HTTP client");
    let mut req = http.get(format!("{base}{path}"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("the relay answers");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = resp.bytes().await.expect("a body").to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// Sends a message with files; the relay must accept it.
pub async fn send_with(client: &Client, room_id: &str, body: &str, files: &[&str]) -> Message {
    let req = SendMessage {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        body: body.to_owned(),
        reply_to: None,
        attachments: files.iter().map(|f| (*f).to_owned()).collect(),
    };
    client
        .request(&req)
        .await
        .unwrap_or_else(|e| panic!("send with files: {e}"))
        .message
}

/// Every file under `dir` (recursively), as paths relative to it.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                found.push(rel.to_path_buf());
            }
        }
    }
    found.sort();
    found
}

/// Stored files (not thumbnails, not uploads in progress) under a relay's data dir.
pub fn stored(data_dir: &Path) -> Vec<PathBuf> {
    files_under(&data_dir.join("files"))
        .into_iter()
        .filter(|p| !p.starts_with("tmp") && !p.starts_with("thumbs"))
        .collect()
}

/// Unfinished uploads under a relay's data dir.
pub fn temps(data_dir: &Path) -> Vec<PathBuf> {
    files_under(&data_dir.join("files").join("tmp"))
}

/// Waits (bounded by `within`) until `done` holds.
pub async fn eventually(within: std::time::Duration, what: &str, mut done: impl FnMut() -> bool) {
    let polled = async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(within, polled)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {within:?}"));
}

/// A valid PNG of `width` × `height` RGB pixels (stored deflate, no compression), or with
/// `claim` a header claiming that size over one row of data: what a decompression bomb looks
/// like to a header reader.
pub fn png(width: u32, height: u32, claim: Option<(u32, u32)>) -> Vec<u8> {
    let (cw, ch) = claim.unwrap_or((width, height));
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&cw.to_be_bytes());
    ihdr.extend_from_slice(&ch.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            raw.extend_from_slice(&[(x * 7) as u8, (y * 13) as u8, 128]);
        }
    }
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
