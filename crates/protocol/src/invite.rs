//! The invite string people paste: one line carrying the relay's address and an invite code,
//! `natter://invite?server=<address, percent-encoded>&code=<code>`. Formatted and parsed here
//! only, so the relay, the client and the app agree.

use crate::ack::WireError;

/// What every invite string starts with.
pub const PREFIX: &str = "natter://invite?";
/// The longest invite code accepted (the relay makes 32 hex characters).
pub const MAX_CODE_CHARS: usize = 128;

/// A relay address and an invite code for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteLink {
    /// The relay's base URL, e.g. `https://chat.example.org`.
    pub server: String,
    pub code: String,
}

impl InviteLink {
    /// The string to paste.
    pub fn format(&self) -> String {
        format!(
            "{PREFIX}server={}&code={}",
            percent_encode(&self.server),
            percent_encode(&self.code)
        )
    }

    /// An invite string back into address and code; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let query = text.trim().strip_prefix(PREFIX)?;
        let (mut server, mut code) = (None, None);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=')?;
            let value = percent_decode(value)?;
            match key {
                "server" => server = Some(value),
                "code" => code = Some(value),
                // Keys of a later format are skipped.
                _ => {}
            }
        }
        let link = Self {
            server: server.filter(|s| !s.is_empty())?,
            code: code?,
        };
        code_shape(&link.code).ok()?;
        Some(link)
    }
}

/// The invite code in what someone typed or pasted: an invite string's code, or the text
/// itself (trimmed) when it is a bare code.
pub fn code_of(text: &str) -> String {
    InviteLink::parse(text).map_or_else(|| text.trim().to_owned(), |link| link.code)
}

/// 1–[`MAX_CODE_CHARS`] characters of `A–Z a–z 0–9 - _`: what can be an invite code at all
/// (anything else is refused without a lookup).
pub fn code_shape(code: &str) -> Result<(), WireError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(WireError::invalid("not an invite code"))
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_round_trips_and_a_bare_code_is_its_own_code() {
        let link = InviteLink {
            server: "https://chat.example.org:7447/natter".to_owned(),
            code: "0a1b2c".to_owned(),
        };
        let text = link.format();
        assert_eq!(
            text,
            "natter://invite?server=https%3A%2F%2Fchat.example.org%3A7447%2Fnatter&code=0a1b2c"
        );
        assert_eq!(InviteLink::parse(&text), Some(link));
        assert_eq!(code_of(&format!("  {text}\n")), "0a1b2c");
        assert_eq!(code_of(" 0a1b2c "), "0a1b2c");
        assert_eq!(InviteLink::parse("natter://invite?server=x&code=a%2"), None);
        assert_eq!(InviteLink::parse("natter://invite?code=abc"), None);
        assert_eq!(InviteLink::parse("natter://invite?server=x&code=a b"), None);
        assert_eq!(InviteLink::parse("https://x/?server=x&code=abc"), None);
    }
}
