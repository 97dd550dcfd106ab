//! The relay's HTTP API over reqwest: register, login, logout, raw posts for bad input, and the
//! Socket.IO connect with a token. Works against an in-process relay or the relay binary.

use std::time::Duration;

use natter_protocol::http::{AuthResponse, Credentials, HttpError};
use natter_protocol::http::{HEALTH_PATH, LOGIN_PATH, LOGOUT_PATH, REGISTER_PATH};
use natter_protocol::ErrorCode;
use serde_json::Value;

use super::client::{Client, ClientError, WAIT};
use super::PASSWORD;

/// An HTTP answer that was not a success: the status and the `{error}` body, if it had one.
#[derive(Debug, Clone)]
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
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        Self::from_address(base, None)
    }

    /// Like [`new`](Self::new), with HTTP requests sent from `local` (e.g. 127.0.0.2).
    pub fn from_address(base: String, local: Option<std::net::IpAddr>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(WAIT)
            .local_address(local)
            .build()
            .expect("an HTTP client");
        Self { base, http }
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
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("the relay answers HTTP");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("an HTTP body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
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

    async fn credentials(
        &self,
        path: &str,
        ok: u16,
        username: &str,
        password: &str,
    ) -> Result<AuthResponse, HttpFailure> {
        let body = serde_json::to_value(Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })
        .expect("credentials encode");
        let (status, body) = self.post_json(path, &body, None).await;
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
        self.credentials(REGISTER_PATH, 201, username, password)
            .await
    }

    /// `POST /api/login`: 200 and `{user, token}`, or the failure.
    pub async fn login(&self, username: &str, password: &str) -> Result<AuthResponse, HttpFailure> {
        self.credentials(LOGIN_PATH, 200, username, password).await
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
        Client::connect(
            &self.base,
            username,
            Some(serde_json::json!({ "token": token })),
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
