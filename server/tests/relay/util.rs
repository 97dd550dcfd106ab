//! Test harness: a real relay in-process on `127.0.0.1:0` with a fresh data dir, the HTTP API
//! (register/login/logout) over reqwest, and the Socket.IO test client in [`client`].

pub mod client;

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use natter_protocol::http::{AuthResponse, Credentials, HttpError, LOGIN_PATH, LOGOUT_PATH};
use natter_protocol::http::{HEALTH_PATH, REGISTER_PATH};
use natter_protocol::requests::SendMessage;
use natter_protocol::{ErrorCode, Message};
use natter_relay::Config;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use client::{Client, ClientError, WAIT};

/// A password every test user gets; valid under the protocol's rules.
pub const PASSWORD: &str = "correct horse battery";

/// A relay running in this process; dropping it stops the relay too (the shutdown sender drops).
pub struct TestRelay {
    pub addr: SocketAddr,
    api: Api,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), natter_relay::StartError>>>,
    dir: tempfile::TempDir,
}

impl TestRelay {
    /// A relay with the default limits, except logins: tests register many users from one address.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`start`](Self::start), with the config adjusted by `tweak` first.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let mut config = Config::with_data_dir(dir.path());
        config.login_per_minute = 1_000;
        tweak(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(natter_relay::run(listener, config, async move {
            // A dropped sender (test ended or panicked) stops the relay as well.
            let _ = stopped.await;
        }));
        let relay = Self {
            addr,
            api: Api::new(format!("http://{addr}")),
            stop: Some(stop),
            task: Some(task),
            dir,
        };
        relay.api.wait_healthy().await;
        relay
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the relay and waits (bounded) until `run` has returned, which must be `Ok`.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("the relay stops within 15 s");
            result.expect("the relay task did not panic").expect("run() returns Ok");
        }
    }
}

impl Deref for TestRelay {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

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
        let http = reqwest::Client::builder()
            .timeout(WAIT)
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
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
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
    pub async fn register(&self, username: &str, password: &str) -> Result<AuthResponse, HttpFailure> {
        self.credentials(REGISTER_PATH, 201, username, password)
            .await
    }

    /// `POST /api/login`: 200 and `{user, token}`, or the failure.
    pub async fn login(&self, username: &str, password: &str) -> Result<AuthResponse, HttpFailure> {
        self.credentials(LOGIN_PATH, 200, username, password).await
    }

    /// `POST /api/logout` with a bearer token: 204, or the failure.
    pub async fn logout(&self, token: &str) -> Result<(), HttpFailure> {
        let (status, body) = self.post_raw(LOGOUT_PATH, "application/json", Vec::new(), Some(token)).await;
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
        Client::connect(&self.base, username, Some(serde_json::json!({ "token": token }))).await
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

/// A fresh client_id, as a real client would pick it.
pub fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `message:send` with a fresh client_id.
pub fn send(room_id: &str, body: &str) -> SendMessage {
    SendMessage {
        room_id: room_id.to_owned(),
        client_id: client_id(),
        body: body.to_owned(),
    }
}

/// Sends `n` messages (`"{prefix} {i}"`) one after another; the relay must accept every one.
pub async fn send_many(client: &Client, room_id: &str, prefix: &str, n: usize) -> Vec<Message> {
    let mut sent = Vec::with_capacity(n);
    for i in 0..n {
        let ack = client
            .request(&send(room_id, &format!("{prefix} {i}")))
            .await
            .unwrap_or_else(|e| panic!("send {prefix} {i}: {e}"));
        sent.push(ack.message);
    }
    sent
}

/// Asserts `messages` are the room's seqs `first..=last`, in order, without gaps.
pub fn assert_seqs(messages: &[Message], first: i64, last: i64) {
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    let want: Vec<i64> = (first..=last).collect();
    assert_eq!(seqs, want, "expected seqs {first}..={last}");
}
