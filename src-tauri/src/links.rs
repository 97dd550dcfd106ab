//! Links in messages: which ones the app opens (in the system browser, never in its webview).
//! Message bodies are other people's text; the UI only makes http, https and mailto links, and
//! this is checked again here, where the opening happens.

use tauri::Url;

use crate::error::{Error, Result};

const SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// `link` as a URL the system browser may be handed, or why not.
pub fn checked(link: &str) -> Result<Url> {
    let url = Url::parse(link.trim())
        .map_err(|_| Error::Invalid("that link is not a web address".to_owned()))?;
    if !SCHEMES.contains(&url.scheme()) {
        return Err(Error::Invalid(format!(
            "links of the kind {}: are not opened",
            url.scheme()
        )));
    }
    if url.scheme() != "mailto" && url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Invalid("that link names no site".to_owned()));
    }
    Ok(url)
}

/// Hands the link to the system's browser (or mail app).
pub fn open(link: &str) -> Result<()> {
    let url = checked(link)?;
    tauri_plugin_opener::open_url(url.as_str(), None::<&str>)
        .map_err(|e| Error::Open(format!("could not open the link: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_and_mail_links_pass() {
        for ok in [
            "https://example.org/a?b=c#d",
            "http://127.0.0.1:8080/",
            "mailto:alice@example.org",
        ] {
            assert!(checked(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn every_other_kind_is_refused() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:msgbox",
            "tauri://localhost/",
            "ipc://localhost/",
            "ftp://example.org/",
            "smb://server/share",
            "/relative/path",
            "example.org",
            "http://",
            "",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }
}
