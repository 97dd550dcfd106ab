//! The relay's HTTP API over reqwest: register (one account, or many a few at a time), login,
//! logout, raw posts for bad input, and the Socket.IO connect with a token. Works against an
//! in-process relay, the relay binary, or the bench's peers (which speak the same register).

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use natter_protocol::http::{AuthResponse, HttpError, Registration};
use natter_protocol::http::{HEALTH_PATH, LOGIN_PATH, LOGOUT_PATH, REGISTER_PATH};
use natter_protocol::ErrorCode;
use serde_json::Value;

use crate::client::{Client, ClientError, WAIT};

/// A password every test user gets; valid under the protocol's rules.
pub const PASSWORD: &str = "correct horse battery";
/// Registrations in flight at once in [`Api::register_all`]: each costs the relay an argon2id
/// hash (tens of ms).
const REGISTER_CONCURRENCY: usize = 4;

/// An HTTP answer that was not a success: the status and the `{error}` body, if it had one
/// (status 0 and the error's text when no answer came).
#[derive(Debug, Clone, thiserror::Error)]
#[error("HTTP {status}: {body}")]
pub struct HttpFailure {
    pub status: u16,
    pub body: Value,
}

impl HttpFailure {
    /// The `error.code` of the body, if it is a well-formed `{error:{code,message}}`.
    pub fn code(&self) -> Option<ErrorCode> {
        serde_json::from_value::<HttpError>(self.body.clone())
            .ok()
            .map(|e| e.error.code)
    }
}

/// The relay's HTTP API and Socket.IO endpoint at one base URL (in-process or a child process).
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
    /// The address requests and Socket.IO connects are sent from (`None`: the OS picks).
    local: Option<std::net::IpAddr>,
}

impl Api {
    /// The API at `base`: `http://host:port`, or `host:port`.
    pub fn new(base: String) -> Self {
        Self::from_address(base, None)
    }

    /// Like [`new`](Self::new), with HTTP requests and Socket.IO connects sent from `local`
    /// (e.g. 127.0.0.2).
    pub fn from_address(base: String, local: Option<std::net::IpAddr>) -> Self {
        Self::build(base, local, WAIT)
    }

    /// Like [`new`](Self::new), each request bounded by `timeout` instead of [`WAIT`] (a
    /// relay under load answers registrations slowly).
    pub fn with_timeout(base: String, timeout: Duration) -> Self {
        Self::build(base, None, timeout)
    }

    fn build(base: String, local: Option<std::net::IpAddr>, timeout: Duration) -> Self {
        let base = match base.starts_with("http://") {
            true => base.trim_end_matches('/').to_owned(),
            false => format!("http://{}", base.trim_end_matches('/')),
        };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .local_address(local)
            .build()
            .expect("an HTTP client");
        Self { base, http, local }
    }

    /// `host:port` of the relay, for a WebSocket.
    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Polls `/healthz` until it answers 200 (bounded).
    pub async fn wait_healthy(&self) {
        let url = format!("{}{HEALTH_PATH}", self.base);
        let healthy = async {
            loop {
                match self.http.get(&url).send().await {
                    Ok(r) if r.status().is_success() => return,
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        };
        tokio::time::timeout(WAIT, healthy)
            .await
            .expect("the relay answers /healthz");
    }

    /// POSTs a raw body (any bytes, any content type) and returns status and JSON body (or Null).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> (u16, Value) {
        self.try_post(path, content_type, body, bearer)
            .await
            .unwrap_or_else(|e| panic!("the relay answers HTTP: {e}"))
    }

    /// [`post_raw`](Self::post_raw), with no answer an `Err` instead of a panic.
    async fn try_post(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    pub async fn post_json(&self, path: &str, body: &Value, bearer: Option<&str>) -> (u16, Value) {
        let bytes = serde_json::to_vec(body).expect("JSON encodes");
        self.post_raw(path, "application/json", bytes, bearer).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("the relay answers HTTP");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// POSTs a username, a password and an invite (if any) to `path`: `{user, token}` with
    /// status `ok`, or the failure. Without an invite the body is login's `Credentials` too.
    async fn credentials(
        &self,
        path: &str,
        ok: u16,
        username: &str,
        password: &str,
        invite: Option<&str>,
    ) -> Result<AuthResponse, HttpFailure> {
        let bytes = serde_json::to_vec(&Registration {
            username: username.to_owned(),
            password: password.to_owned(),
            invite: invite.map(str::to_owned),
        })
        .expect("credentials encode");
        let (status, body) = self
            .try_post(path, "application/json", bytes, None)
            .await
            .map_err(|e| HttpFailure {
                status: 0,
                body: Value::String(e.to_string()),
            })?;
        if status != ok {
            return Err(HttpFailure { status, body });
        }
        serde_json::from_value(body.clone()).map_err(|_| HttpFailure { status, body })
    }

    /// `POST /api/register`: 201 and `{user, token}`, or the failure.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
    ) -> Result<AuthResponse, HttpFailure> {
        self.credentials(REGISTER_PATH, 201, username, password, None)
            .await
    }

    /// `POST /api/register` with an invite (a code or an invite string): 201 and
    /// `{user, token}`, or the failure.
    pub async fn register_invited(
        &self,
        username: &str,
        password: &str,
        invite: &str,
    ) -> Result<AuthResponse, HttpFailure> {
        self.credentials(REGISTER_PATH, 201, username, password, Some(invite))
            .await
    }

    /// Registers every name with `password`, a few at a time; the accounts in order.
    pub async fn register_all(
        &self,
        names: &[String],
        password: &str,
    ) -> Result<Vec<AuthResponse>, HttpFailure> {
        futures_util::stream::iter(names)
            .map(|name| self.register(name, password))
            .buffered(REGISTER_CONCURRENCY)
            .try_collect()
            .await
    }

    /// `POST /api/login`: 200 and `{user, token}`, or the failure.
    pub async fn login(&self, username: &str, password: &str) -> Result<AuthResponse, HttpFailure> {
        self.credentials(LOGIN_PATH, 200, username, password, None)
            .await
    }

    /// `POST /api/logout` with a bearer token: 204, or the failure.
    pub async fn logout(&self, token: &str) -> Result<(), HttpFailure> {
        let (status, body) = self
            .post_raw(LOGOUT_PATH, "application/json", Vec::new(), Some(token))
            .await;
        if status == 204 {
            Ok(())
        } else {
            Err(HttpFailure { status, body })
        }
    }

    /// Registers `name` with [`PASSWORD`]; the test cannot go on without it.
    pub async fn user(&self, name: &str) -> AuthResponse {
        self.register(name, PASSWORD)
            .await
            .unwrap_or_else(|f| panic!("register {name}: {f:?}"))
    }

    /// Opens a Socket.IO connection with `auth: {token}` and waits until the relay accepts it.
    pub async fn connect(&self, username: &str, token: &str) -> Result<Client, ClientError> {
        Client::connect_from(
            &self.base,
            username,
            Some(serde_json::json!({ "token": token })),
            self.local,
        )
        .await
    }

    /// A new user, registered and connected.
    pub async fn join(&self, name: &str) -> (AuthResponse, Client) {
        let auth = self.user(name).await;
        let client = self
            .connect(name, &auth.token)
            .await
            .unwrap_or_else(|e| panic!("connect {name}: {e}"));
        (auth, client)
    }
}
