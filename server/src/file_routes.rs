//! The files API over the [`Files`] service: `POST /api/files` (streamed upload),
//! `GET /api/files/{id}` (streamed download) and `GET /api/files/{id}/thumbnail`, each with the
//! bearer token. These routes keep their own limits: the API's body size limit, body deadline
//! and call deadline (`http.rs`) pass them by; uploads have `--max-upload-mb` and a pace
//! ([`Pace`](crate::files::Pace)) instead.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use natter_protocol::http::{HttpError, FILES_PATH, FILE_NAME_PARAM, FILE_PATH, THUMBNAIL_PATH};
use natter_protocol::{ErrorCode, User, WireError};

use crate::auth::bearer;
use crate::error::{Error, Result};
use crate::files::{kind, Files, ReceiveError, UploadError};

pub fn router(files: Files) -> Router {
    Router::new()
        .route(FILES_PATH, post(upload))
        .route(FILE_PATH, get(download))
        .route(THUMBNAIL_PATH, get(thumbnail))
        .with_state(files)
}

/// Whether a request is one of these routes, which keep their own limits.
pub fn has_own_limits(req: &Request) -> bool {
    let path = req.uri().path();
    path == FILES_PATH || path.starts_with(concat!("/api/files", "/"))
}

async fn user(files: &Files, headers: &HeaderMap) -> Result<User> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or_else(Error::unauthorized)?;
    files.user(token).await
}

/// An answer with `status` and a clear message; the connection closes (the body may be unread).
fn refusal(status: StatusCode, code: ErrorCode, message: String) -> Response {
    let mut response = (
        status,
        Json(HttpError {
            error: WireError::new(code, message),
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn too_large(limit: u64) -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::TooLarge,
        format!("a file may have at most {} MiB", limit / (1024 * 1024)),
    )
}

async fn upload(
    State(files): State<Files>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = files.limits().max_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // Before the token's look-up and before reading a byte.
    if announced.is_some_and(|n| n > limit) {
        tracing::info!(bytes = announced, "refused an announced oversize upload");
        return too_large(limit);
    }
    let user = match user(&files, &headers).await {
        Ok(user) => user,
        Err(e) => return with_close(e.into_response()),
    };
    let name = match kind::file_name(query.get(FILE_NAME_PARAM).map(String::as_str)) {
        Ok(name) => name,
        Err(e) => return with_close(Error::Client(e).into_response()),
    };
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match files.upload(&user, name, claimed, body).await {
        Ok(attachment) => (StatusCode::CREATED, Json(attachment)).into_response(),
        Err(UploadError::Receive(e)) => received_badly(&user, e, limit),
        Err(UploadError::Refused(e)) => e.into_response(),
    }
}

fn with_close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Why an upload did not make it, told clearly; nothing of it was kept.
fn received_badly(user: &User, e: ReceiveError, limit: u64) -> Response {
    match e {
        ReceiveError::TooLarge(_) => {
            tracing::info!(user = %user.username, "cut off an oversize upload");
            too_large(limit)
        }
        ReceiveError::TooSlow => {
            tracing::info!(user = %user.username, "cut off an upload that came too slowly");
            refusal(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::Invalid,
                "the upload came too slowly".to_owned(),
            )
        }
        ReceiveError::Broken(why) => {
            tracing::info!(user = %user.username, %why, "an upload broke off");
            refusal(
                StatusCode::BAD_REQUEST,
                ErrorCode::Invalid,
                "the upload broke off".to_owned(),
            )
        }
        ReceiveError::Disk(e) if e.kind() == std::io::ErrorKind::StorageFull => {
            tracing::error!(error = %e, "an upload found the disk full");
            refusal(
                StatusCode::INSUFFICIENT_STORAGE,
                ErrorCode::Internal,
                "the relay has no room for this file now".to_owned(),
            )
        }
        ReceiveError::Disk(e) => {
            tracing::error!(error = %e, "an upload could not be stored");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "the file could not be stored".to_owned(),
            )
        }
    }
}

async fn download(
    State(files): State<Files>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let user = user(&files, &headers).await?;
    let (file, bytes) = files.open(&user, &id).await?;
    let a = &file.attachment;
    let mut response_headers = kind::serving_headers(&a.content_type, &a.name);
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(a.size));
    let stream = tokio_util::io::ReaderStream::with_capacity(bytes, 64 * 1024);
    Ok((response_headers, Body::from_stream(stream)).into_response())
}

async fn thumbnail(
    State(files): State<Files>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let user = user(&files, &headers).await?;
    let bytes = files.thumbnail(&user, &id).await?;
    let mime = kind::sniff(&bytes).unwrap_or(kind::OCTET_STREAM);
    let headers = kind::serving_headers(mime, "thumbnail");
    Ok((headers, bytes).into_response())
}
