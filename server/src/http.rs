//! HTTP API: register, login, logout, health. JSON in, JSON out, errors as `{error:{code,message}}`.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use natter_protocol::http::{
    AuthResponse, Credentials, Health, HEALTH_PATH, LOGIN_PATH, LOGOUT_PATH, REGISTER_PATH,
};
use natter_protocol::limits::MAX_PAYLOAD_BYTES;
use natter_protocol::{validate, WireError};
use serde_json::Value;
use socketioxide::SocketIo;

use crate::auth::{bearer, new_token, token_hash};
use crate::error::{Error, Result};
use crate::socket::rooms;
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Clone, Debug)]
struct HttpState {
    app: AppState,
    io: SocketIo,
}

pub fn router(app: AppState, io: SocketIo) -> Router {
    Router::new()
        .route(REGISTER_PATH, post(register))
        .route(LOGIN_PATH, post(login))
        .route(LOGOUT_PATH, post(logout))
        .route(HEALTH_PATH, get(health))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .with_state(HttpState { app, io })
}

/// Refuses a request that announces a body over the payload limit before reading any of it.
/// Socket.IO's polling transport would otherwise wait for the whole announced body (however
/// large, however slowly it comes) before applying `max_payload`, holding the connection.
pub async fn refuse_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(n) if n > MAX_PAYLOAD_BYTES as u64 => {
            tracing::info!(bytes = n, path = %req.uri().path(), "refused an oversize body");
            let refusal = Error::Client(WireError::new(
                natter_protocol::ErrorCode::TooLarge,
                format!("a body may have at most {MAX_PAYLOAD_BYTES} bytes"),
            ));
            // The body stays unread, so the connection cannot be reused: say so.
            let mut response = refusal.into_response();
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            response
        }
        _ => next.run(req).await,
    }
}

fn credentials(body: Result<Json<Value>, JsonRejection>) -> Result<Credentials> {
    let Json(value) = body.map_err(|e| Error::Client(WireError::invalid(e.body_text())))?;
    Ok(natter_protocol::decode("credentials", value)?)
}

async fn issue_token(app: &AppState, user: natter_protocol::User) -> Result<AuthResponse> {
    let token = new_token();
    app.store
        .create_session(&user.id, &token_hash(&token))
        .await?;
    Ok(AuthResponse { user, token })
}

async fn register(
    State(st): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<AuthResponse>)> {
    let c = credentials(body)?;
    validate::username(&c.username)?;
    validate::password(&c.password)?;
    if !st.app.limits.allow_login(&c.username, peer.ip()) {
        return Err(Error::rate_limited());
    }
    let hash = st.app.passwords.hash(c.password).await?;
    let user = match st.app.store.create_user(&c.username, &hash).await {
        Err(StoreError::Conflict) => return Err(Error::UsernameTaken),
        other => other?,
    };
    tracing::info!(user = %user.username, "registered");
    Ok((StatusCode::CREATED, Json(issue_token(&st.app, user).await?)))
}

async fn login(
    State(st): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<AuthResponse>> {
    let c = credentials(body)?;
    if !st.app.limits.allow_login(&c.username, peer.ip()) {
        tracing::info!(user = %c.username, %peer, "login rate limited");
        return Err(Error::rate_limited());
    }
    let bad = || {
        Error::Client(WireError::new(
            natter_protocol::ErrorCode::Unauthorized,
            "wrong username or password",
        ))
    };
    // Shapes that can never be valid still pay for a hash: the answer's timing says nothing.
    let found = if validate::username(&c.username).is_ok() {
        st.app.store.credentials(&c.username).await?
    } else {
        None
    };
    let (user, hash) = match found {
        Some(f) => (Some(f.user), Some(f.password_hash)),
        None => (None, None),
    };
    let ok = st.app.passwords.verify(c.password, hash).await?;
    match user {
        Some(user) if ok => Ok(Json(issue_token(&st.app, user).await?)),
        _ => {
            tracing::info!(user = %c.username, %peer, "login refused");
            Err(bad())
        }
    }
}

async fn logout(State(st): State<HttpState>, headers: HeaderMap) -> Result<StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(Error::unauthorized)?;
    let session_id = st
        .app
        .store
        .delete_session(&token_hash(token))
        .await?
        .ok_or_else(Error::unauthorized)?;
    // The token is dead; so is every socket that was opened with it, on every node.
    if let Some(ns) = crate::socket::root(&st.io) {
        if let Err(e) = ns.within(rooms::session(&session_id)).disconnect().await {
            tracing::warn!(error = %e, "logout: could not disconnect every socket");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
