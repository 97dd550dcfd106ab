//! The one error type of the desktop commands, and the one place that decides what the webview
//! sees: `{code, message}`, the relay's codes where the failure came from the relay or the
//! rules (`invalid`, `forbidden`, …), plus a few local ones (`not_connected`: no session yet;
//! `offline`: the call needs the relay and it is not reachable now; `network`: an account call got
//! no answer; `certificate_untrusted` with the certificate's `fingerprint`, `certificate_changed`
//! with the `pinned` and the `presented` fingerprints; `profile`, `host`, `open`).

use natter_client::account::AccountError;
use natter_client::files::FileError;
use natter_client::session::SessionError;
use natter_client::trust::CertificateError;
use natter_client::ProfileError;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command that needs a session ran before `connect`.
    #[error("not connected: connect to a relay first")]
    NotConnected,
    /// The arguments of a command were refused before anything happened.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Register, login or logout failed (refused by the rules or the relay, or no answer).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// "Host on this computer" could not start or stop the relay.
    #[error("cannot host the relay: {0}")]
    Host(String),
    /// The system could not open a link (no browser, …).
    #[error("{0}")]
    Open(String),
}

impl Error {
    /// The stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotConnected => "not_connected",
            Self::Invalid(_) => "invalid",
            Self::Session(SessionError::Refused(wire)) => wire.code.as_str(),
            Self::Session(SessionError::Offline) => "offline",
            // A download cut short by a sign-out.
            Self::Session(SessionError::Stopped) => "not_connected",
            Self::Session(SessionError::File(FileError::Relay { error, .. })) => {
                error.code.as_str()
            }
            Self::Session(SessionError::File(FileError::Network(_) | FileError::Stalled)) => {
                "network"
            }
            // The cache, an answer the client does not understand, and whatever comes later.
            Self::Session(_) => "internal",
            Self::Profile(_) => "profile",
            Self::Account(AccountError::Network(_)) => "network",
            Self::Account(AccountError::Certificate(CertificateError::Untrusted { .. })) => {
                "certificate_untrusted"
            }
            Self::Account(AccountError::Certificate(CertificateError::Changed { .. })) => {
                "certificate_changed"
            }
            Self::Account(error) => error.code().map_or("internal", |code| code.as_str()),
            Self::Host(_) => "host",
            Self::Open(_) => "open",
        }
    }

    /// What the user is told. Cache failures keep their detail in the log, not on screen.
    fn user_message(&self) -> String {
        match self {
            Self::Session(
                SessionError::Refused(wire)
                | SessionError::File(FileError::Relay { error: wire, .. }),
            ) => wire.message.clone(),
            Self::Session(SessionError::File(FileError::Network(_) | FileError::Stalled)) => {
                "Could not reach the server to fetch the file.".to_owned()
            }
            Self::Account(
                AccountError::Invalid(wire) | AccountError::Relay { error: wire, .. },
            ) => wire.message.clone(),
            Self::Session(SessionError::Cache(_)) => "the local cache failed".to_owned(),
            // The client's own wording ("error sending request for url …") means nothing to a
            // person; it goes to the log instead.
            Self::Account(AccountError::Network(_)) => "Could not reach the server. Check its \
                address, and that the relay is running and reachable from this computer."
                .to_owned(),
            Self::Account(AccountError::Unexpected { .. }) => "The server did not answer like a \
                Natter relay. Check its address and port."
                .to_owned(),
            other => other.to_string(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Session(SessionError::Cache(detail)) => {
                tracing::error!(error = %detail, "cache failure reported to the UI as internal");
            }
            Self::Account(
                detail @ (AccountError::Network(_) | AccountError::Unexpected { .. }),
            ) => {
                tracing::warn!(error = %detail, "the relay could not be reached or understood");
            }
            _ => {}
        }
        let mut out = serializer.serialize_struct("Error", 4)?;
        out.serialize_field("code", self.code())?;
        out.serialize_field("message", &self.user_message())?;
        // What the user compares: the fingerprints, apart from the sentence.
        match self {
            Self::Account(AccountError::Certificate(CertificateError::Untrusted {
                fingerprint,
            })) => out.serialize_field("fingerprint", fingerprint)?,
            Self::Account(AccountError::Certificate(CertificateError::Changed {
                pinned,
                presented,
            })) => {
                out.serialize_field("pinned", pinned)?;
                out.serialize_field("presented", presented)?;
            }
            _ => {}
        }
        out.end()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use natter_protocol::{ErrorCode, WireError};
    use serde_json::json;

    #[test]
    fn errors_serialize_as_code_and_message() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_value(Error::NotConnected)?,
            json!({"code": "not_connected", "message": "not connected: connect to a relay first"})
        );
        let refused = Error::Session(SessionError::Refused(WireError::new(
            ErrorCode::TooLarge,
            "body is too long",
        )));
        assert_eq!(
            serde_json::to_value(refused)?,
            json!({"code": "too_large", "message": "body is too long"})
        );
        let taken = Error::Account(AccountError::Relay {
            status: 409,
            error: WireError::new(ErrorCode::Invalid, "username taken"),
        });
        assert_eq!(
            serde_json::to_value(taken)?,
            json!({"code": "invalid", "message": "username taken"})
        );
        let unreachable = Error::Account(AccountError::Network(
            "error sending request for url (http://127.0.0.1:9/api/login)".to_owned(),
        ));
        let unreachable = serde_json::to_value(unreachable)?;
        assert_eq!(unreachable["code"], "network");
        let sentence = unreachable["message"].as_str().unwrap_or_default();
        assert!(
            sentence.starts_with("Could not reach the server"),
            "{sentence}"
        );
        assert!(!sentence.contains("error sending request"), "{sentence}");
        assert_eq!(
            serde_json::to_value(Error::Session(SessionError::Offline))?["code"],
            "offline"
        );
        let untrusted = Error::Account(AccountError::Certificate(CertificateError::Untrusted {
            fingerprint: "AB:CD".to_owned(),
        }));
        let untrusted = serde_json::to_value(untrusted)?;
        assert_eq!(untrusted["code"], "certificate_untrusted");
        assert_eq!(untrusted["fingerprint"], "AB:CD");
        let changed = Error::Account(AccountError::Certificate(CertificateError::Changed {
            pinned: "AB:CD".to_owned(),
            presented: "EF:01".to_owned(),
        }));
        let changed = serde_json::to_value(changed)?;
        assert_eq!(changed["code"], "certificate_changed");
        assert_eq!(
            (&changed["pinned"], &changed["presented"]),
            (&json!("AB:CD"), &json!("EF:01"))
        );
        Ok(())
    }
}
