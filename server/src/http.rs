//! HTTP API: register (with an invite), login, logout, health, over the accounts service. JSON
//! in, JSON out, errors as `{error:{code,message}}`. Also the layers before Socket.IO (which the
//! file routes, `file_routes.rs`, pass: they keep their own limits).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use natter_protocol::http::{
    AuthResponse, Credentials, Health, Registration, HEALTH_PATH, LOGIN_PATH, LOGOUT_PATH,
    REGISTER_PATH,
};
use natter_protocol::limits::MAX_PAYLOAD_BYTES;
use natter_protocol::WireError;
use serde_json::Value;

use crate::accounts::Accounts;
use crate::auth::bearer;
use crate::broadcast::Broadcaster;
use crate::config::Cidr;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
struct HttpState {
    accounts: Accounts,
    /// Only to disconnect a logged-out session's sockets.
    broadcaster: Broadcaster,
    /// Peers whose `X-Forwarded-For` is believed (`--trusted-proxy`).
    trusted_proxies: Arc<[Cidr]>,
}

pub fn router(accounts: Accounts, broadcaster: Broadcaster, trusted_proxies: &[Cidr]) -> Router {
    Router::new()
        .route(REGISTER_PATH, post(register))
        .route(LOGIN_PATH, post(login))
        .route(LOGOUT_PATH, post(logout))
        .route(HEALTH_PATH, get(health))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .with_state(HttpState {
            accounts,
            broadcaster,
            trusted_proxies: trusted_proxies.into(),
        })
}

/// Refuses a request that announces a body over the payload limit before reading any of it.
/// Socket.IO's polling transport would otherwise wait for the whole announced body (however
/// large, however slowly it comes) before applying `max_payload`, holding the connection.
pub async fn refuse_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if crate::file_routes::has_own_limits(&req) {
        return next.run(req).await;
    }
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

/// Reads a request's whole body within `deadline` before anything else sees the request, and
/// answers `408` and closes the connection when it does not come. The header-read timeout
/// (`serve.rs`) bounds the head; without this a client could send a body one byte every few
/// seconds, with a `Content-Length` or chunked, to the API or as a polling POST, and hold the
/// connection for ever. Bodies are at most [`MAX_PAYLOAD_BYTES`], which engineioxide and the
/// API's JSON extractor buffer anyway. Requests without a body (GET: polling, WebSocket
/// upgrades, health) pass untouched.
pub async fn body_deadline(
    axum::extract::State(deadline): axum::extract::State<std::time::Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || crate::file_routes::has_own_limits(&req)
    {
        return next.run(req).await;
    }
    let (head, body) = req.into_parts();
    let read = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES);
    let refusal = match tokio::time::timeout(deadline, read).await {
        Ok(Ok(bytes)) => {
            let req = axum::extract::Request::from_parts(head, axum::body::Body::from(bytes));
            return next.run(req).await;
        }
        // Over the limit (sent chunked, so `refuse_oversize` could not see it coming), or the
        // client broke off; in the second case nobody reads the answer.
        Ok(Err(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Error::Client(WireError::new(
                natter_protocol::ErrorCode::TooLarge,
                format!("a body may have at most {MAX_PAYLOAD_BYTES} bytes"),
            )),
        ),
        Err(_) => {
            tracing::info!(path = %head.uri.path(), ?deadline, "closed a request whose body was too slow");
            (
                StatusCode::REQUEST_TIMEOUT,
                Error::Client(WireError::invalid("the request body came too slowly")),
            )
        }
    };
    use axum::response::IntoResponse as _;
    let (status, error) = refusal;
    let mut response = error.into_response();
    *response.status_mut() = status;
    // The rest of the body stays unread, so the connection cannot be reused: say so.
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Answers an API call (`/api/...`) that has not been answered within `deadline` of its head
/// arriving with `408` and closes its connection: the body's deadline bounds the body alone,
/// this the whole call (body, waiting for a password hash, the store). Socket.IO's requests pass
/// untouched: a long-poll is held open on purpose, and its bodies have their own deadline.
pub async fn api_deadline(
    axum::extract::State(deadline): axum::extract::State<std::time::Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    // Files stream for as long as their size and pace allow (`file_routes.rs`).
    if !req.uri().path().starts_with("/api/") || crate::file_routes::has_own_limits(&req) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    match tokio::time::timeout(deadline, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::info!(%path, ?deadline, "closed an API call that took too long");
            let error = Error::Client(WireError::invalid("the request took too long"));
            let mut response = error.into_response();
            *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

/// Gives the request its own copy of its URI and header values. hyper parses them as slices of
/// the connection's read buffer (8 KiB), and engineioxide keeps each Socket.IO session's request
/// head for as long as the session lives, so every idle connection pinned that whole buffer
/// (heaptrack, 1,000 idle connections: 8.2 KB each of ~30 KB). The copy is a few hundred bytes.
pub async fn own_request_head(req: axum::extract::Request) -> axum::extract::Request {
    let (mut head, body) = req.into_parts();
    own_head(&mut head.uri, &mut head.headers);
    axum::extract::Request::from_parts(head, body)
}

/// Copies the URI and every header value into one new buffer (one allocation, however many
/// headers), and points the request at it.
fn own_head(uri: &mut axum::http::Uri, headers: &mut HeaderMap) {
    use std::fmt::Write as _;
    let values: usize = headers.values().map(|v| v.len()).sum();
    let uri_guess = uri.path_and_query().map_or(0, |pq| pq.as_str().len()) + 64;
    let mut buffer = bytes::BytesMut::with_capacity(uri_guess + values);
    // `write!` into a `BytesMut` only fails on a failing `Display`, which a `Uri`'s is not.
    let _ = write!(buffer, "{uri}");
    let uri_len = buffer.len();
    for value in headers.values() {
        buffer.extend_from_slice(value.as_bytes());
    }
    let buffer = buffer.freeze();
    // What hyper accepted parses again; if it ever did not, the original stays.
    if let Ok(copy) = axum::http::Uri::from_maybe_shared(buffer.slice(..uri_len)) {
        *uri = copy;
    }
    let mut at = uri_len;
    let copies: HeaderMap = headers
        .iter()
        .map(|(name, value)| {
            let part = buffer.slice(at..at + value.len());
            at += value.len();
            let copy = header::HeaderValue::from_maybe_shared(part).map_or_else(
                |_| value.clone(),
                |mut copy| {
                    copy.set_sensitive(value.is_sensitive());
                    copy
                },
            );
            (name.clone(), copy)
        })
        .collect();
    *headers = copies;
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
/// `X-Forwarded-For` hop that is not itself a trusted proxy. Hops further left were written by
/// the client and prove nothing; each trusted proxy appends the address it was reached from.
pub(crate) fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |addr: IpAddr| trusted.iter().any(|c| c.contains(addr));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let hop = hop.trim();
        let addr = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|a| a.ip()));
        // Garbage beyond the last trusted hop: that hop is the best we know.
        let Ok(addr) = addr else { break };
        client = addr;
        if !is_trusted(addr) {
            break;
        }
    }
    client
}

fn credentials(body: Result<Json<Value>, JsonRejection>) -> Result<Credentials> {
    let Json(value) = body.map_err(|e| Error::Client(WireError::invalid(e.body_text())))?;
    Ok(natter_protocol::decode("credentials", value)?)
}

fn registration(body: Result<Json<Value>, JsonRejection>) -> Result<Registration> {
    let Json(value) = body.map_err(|e| Error::Client(WireError::invalid(e.body_text())))?;
    Ok(natter_protocol::decode("registration", value)?)
}

/// The most of a `User-Agent` kept as a session's device label.
const DEVICE_CHARS: usize = 64;

/// The device a login came from, as its `User-Agent` names it: printable characters only, cut
/// to [`DEVICE_CHARS`] (the owner sees it in their session list; it is never logged).
fn device(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(DEVICE_CHARS)
        .collect()
}

async fn register(
    State(st): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, Json<AuthResponse>)> {
    let client = client_addr(peer.ip(), &headers, &st.trusted_proxies);
    let (answer, _) = st
        .accounts
        .register(registration(body)?, client, &device(&headers))
        .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn login(
    State(st): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<AuthResponse>> {
    let client = client_addr(peer.ip(), &headers, &st.trusted_proxies);
    let (answer, ended) = st
        .accounts
        .login(credentials(body)?, client, &device(&headers))
        .await?;
    // Sessions over the user's cap are dead; so are their sockets, on every node.
    for session_id in &ended {
        st.broadcaster.disconnect_session(session_id).await;
    }
    Ok(Json(answer))
}

async fn logout(State(st): State<HttpState>, headers: HeaderMap) -> Result<StatusCode> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(Error::unauthorized)?;
    let session_id = st.accounts.logout(token).await?;
    // The token is dead; so is every socket that was opened with it, on every node.
    st.broadcaster.disconnect_session(&session_id).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;
    use axum::http::{HeaderName, HeaderValue, Uri};

    use super::*;

    /// Whether `part` lies inside `buffer`'s memory.
    fn inside(buffer: &Bytes, part: &[u8]) -> bool {
        buffer.as_ptr_range().contains(&part.as_ptr())
    }

    #[test]
    fn the_request_head_no_longer_points_into_the_read_buffer() {
        // As hyper parses a request: the URI and the values are slices of one read buffer.
        let buffer = Bytes::from(
            b"/socket.io/?EIO=4&transport=websocket\0Upgrade\0secret\0one\0two".to_vec(),
        );
        let slice = |from: usize, to: usize| buffer.slice(from..to);
        let mut uri = Uri::from_maybe_shared(slice(0, 37)).expect("uri");
        let mut headers = HeaderMap::new();
        let value = |b: Bytes| HeaderValue::from_maybe_shared(b).expect("value");
        headers.insert(header::CONNECTION, value(slice(38, 45)));
        let mut secret = value(slice(46, 52));
        secret.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, secret);
        let custom = HeaderName::from_static("x-repeated");
        headers.append(custom.clone(), value(slice(53, 56)));
        headers.append(custom.clone(), value(slice(57, 60)));
        assert!(inside(&buffer, uri.path().as_bytes()), "the test's premise");
        assert!(inside(&buffer, headers[header::CONNECTION].as_bytes()));

        own_head(&mut uri, &mut headers);

        assert_eq!(uri, "/socket.io/?EIO=4&transport=websocket");
        assert!(!inside(&buffer, uri.path().as_bytes()));
        assert!(!inside(&buffer, uri.query().unwrap_or_default().as_bytes()));
        assert_eq!(headers[header::CONNECTION], "Upgrade");
        assert_eq!(headers[header::AUTHORIZATION], "secret");
        assert!(headers[header::AUTHORIZATION].is_sensitive());
        let repeated: Vec<_> = headers.get_all(&custom).iter().collect();
        assert_eq!(repeated, ["one", "two"]);
        assert_eq!(headers.len(), 4);
        for (_, value) in &headers {
            assert!(!inside(&buffer, value.as_bytes()), "{value:?}");
        }
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop_and_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        let trusted: Vec<Cidr> = vec!["127.0.0.1".parse().expect("cidr")];
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 10.0.0.1"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("127.0.0.1"));
        // Not from the proxy: the header is anyone's and is ignored.
        assert_eq!(
            client_addr(ip("192.0.2.9"), &headers, &trusted),
            ip("192.0.2.9")
        );
        assert_eq!(client_addr(ip("127.0.0.1"), &headers, &[]), ip("127.0.0.1"));
        // From the proxy: the hop the proxy appended; 6.6.6.6 is the client's own claim.
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers, &trusted),
            ip("10.0.0.1")
        );
        let garbage = HeaderValue::from_static("nonsense, 2001:db8::7");
        headers.insert("x-forwarded-for", garbage);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers, &trusted),
            ip("2001:db8::7")
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("nonsense"));
        assert_eq!(
            client_addr(ip("127.0.0.1"), &headers, &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn an_absolute_uri_and_no_headers_come_through_unchanged() {
        let mut uri: Uri = "http://relay.example:7447/socket.io/?EIO=4"
            .parse()
            .expect("uri");
        let mut headers = HeaderMap::new();
        own_head(&mut uri, &mut headers);
        assert_eq!(uri, "http://relay.example:7447/socket.io/?EIO=4");
        assert!(headers.is_empty());
    }
}
