//! The account calls over HTTP (register, login, logout): checked locally first with the
//! protocol's rules, then one bounded request to the relay, whose `{error:{code, message}}`
//! answers come back as [`AccountError::Relay`].

use std::time::Duration;

use natter_protocol::http::{
    AuthResponse, Credentials, HttpError, Registration, LOGIN_PATH, LOGOUT_PATH, REGISTER_PATH,
};
use natter_protocol::{validate, ErrorCode, WireError};

use crate::http::{self, endpoint};
use crate::trust::{self, CertificateError};

/// How long a whole call may take (password hashing on the relay included).
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Refused before anything was sent (username or password breaks the rules).
    #[error("{0}")]
    Invalid(WireError),
    /// The relay answered with an error: `{code, message}` as it sent them, and the HTTP status
    /// (409 for a taken username, 401 for a wrong password, 429 when rate limited).
    #[error("{error} (HTTP {status})")]
    Relay { status: u16, error: WireError },
    /// The relay could not be reached or did not answer in time.
    #[error("network: {0}")]
    Network(String),
    /// An https relay's certificate is not trusted (the user may pin it) or not the pinned one.
    #[error("{0}")]
    Certificate(CertificateError),
    /// The relay answered something this client does not understand.
    #[error("unexpected answer (HTTP {status}): {reason}")]
    Unexpected { status: u16, reason: String },
}

impl AccountError {
    /// The wire error code, when there is one (local or the relay's).
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Invalid(e) | Self::Relay { error: e, .. } => Some(e.code),
            Self::Network(_) | Self::Certificate(_) | Self::Unexpected { .. } => None,
        }
    }
}

/// Creates an account and signs it in: `POST /api/register`, with no invite (a relay whose
/// registration is `open`).
pub async fn register(
    server_url: &str,
    username: &str,
    password: &str,
) -> Result<AuthResponse, AccountError> {
    register_invited(server_url, username, password, None).await
}

/// [`register`] with an invite: its code, or the whole invite string
/// (`natter_protocol::invite`). A relay that needs one and got none or a bad one answers 403.
pub async fn register_invited(
    server_url: &str,
    username: &str,
    password: &str,
    invite: Option<&str>,
) -> Result<AuthResponse, AccountError> {
    let body = Registration {
        username: username.to_owned(),
        password: password.to_owned(),
        invite: invite.map(str::to_owned),
    };
    credentials_call(server_url, REGISTER_PATH, &body).await
}

/// Signs in: `POST /api/login`.
pub async fn login(
    server_url: &str,
    username: &str,
    password: &str,
) -> Result<AuthResponse, AccountError> {
    let body = Credentials {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    credentials_call(server_url, LOGIN_PATH, &body).await
}

/// Revokes `token` (the relay also disconnects that session's sockets): `POST /api/logout`.
pub async fn logout(server_url: &str, token: &str) -> Result<(), AccountError> {
    let sent = client(server_url)?
        .post(endpoint(server_url, LOGOUT_PATH))
        .bearer_auth(token)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => return Err(failed(server_url, e).await),
    };
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(relay_error(response).await)
}

/// A register or login body: checked by the username and password rules, then posted.
trait CredentialsBody: serde::Serialize {
    fn username(&self) -> &str;
    fn password(&self) -> &str;
}

impl CredentialsBody for Credentials {
    fn username(&self) -> &str {
        &self.username
    }
    fn password(&self) -> &str {
        &self.password
    }
}

impl CredentialsBody for Registration {
    fn username(&self) -> &str {
        &self.username
    }
    fn password(&self) -> &str {
        &self.password
    }
}

async fn credentials_call(
    server_url: &str,
    path: &str,
    body: &impl CredentialsBody,
) -> Result<AuthResponse, AccountError> {
    validate::username(body.username()).map_err(AccountError::Invalid)?;
    validate::password(body.password()).map_err(AccountError::Invalid)?;
    let sent = client(server_url)?
        .post(endpoint(server_url, path))
        .json(body)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(e) => return Err(failed(server_url, e).await),
    };
    let status = response.status();
    if !status.is_success() {
        return Err(relay_error(response).await);
    }
    response
        .json::<AuthResponse>()
        .await
        .map_err(|e| AccountError::Unexpected {
            status: status.as_u16(),
            reason: e.to_string(),
        })
}

fn client(server_url: &str) -> Result<reqwest::Client, AccountError> {
    http::client(server_url, Some(CALL_TIMEOUT)).map_err(network)
}

/// A call that got no answer: a certificate problem when [`trust::diagnose`] finds one (so the
/// user sees the fingerprint or the change), else a network error.
async fn failed(server_url: &str, e: reqwest::Error) -> AccountError {
    if e.is_connect() {
        if let Some(problem) = trust::diagnose(server_url).await {
            return AccountError::Certificate(problem);
        }
    }
    network(e)
}

fn network(e: reqwest::Error) -> AccountError {
    AccountError::Network(e.to_string())
}

/// Turns a non-2xx answer into [`AccountError::Relay`] (or `Unexpected` without a proper body).
async fn relay_error(response: reqwest::Response) -> AccountError {
    let status = response.status().as_u16();
    match response.json::<HttpError>().await {
        Ok(body) => AccountError::Relay {
            status,
            error: body.error,
        },
        Err(e) => AccountError::Unexpected {
            status,
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_input_is_refused_before_any_network() {
        // Port 9 (discard) is never dialled: validation answers first.
        let short = register("http://127.0.0.1:9", "al", "long enough password").await;
        assert!(matches!(short, Err(AccountError::Invalid(_))), "{short:?}");
        let weak = login("http://127.0.0.1:9", "alice", "short").await;
        assert_eq!(
            weak.as_ref().err().and_then(AccountError::code),
            Some(ErrorCode::Invalid)
        );
    }
}
