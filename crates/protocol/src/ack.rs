//! The ack envelope `{ok:true, ...}` / `{ok:false, error:{code, message}}` and the error codes.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Why a request failed; the same codes serve acks, HTTP errors and refused connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthorized,
    Forbidden,
    NotFound,
    Invalid,
    TooLarge,
    RateLimited,
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::Invalid,
        Self::TooLarge,
        Self::RateLimited,
        Self::Internal,
    ];

    /// The code as it appears on the wire (also the `connect_error` message for `Unauthorized`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Invalid => "invalid",
            Self::TooLarge => "too_large",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
        }
    }

    /// Whether retrying the same request later can succeed (the client's outbox keeps it).
    pub const fn is_transient(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Internal | Self::Unauthorized
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{code, message}`: what a client is told when a request fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WireError {}

/// An ack with no fields beyond `ok`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// The ack of a request: serialized as `{ok:true, ...fields}` or `{ok:false, error}`.
#[derive(Debug, Clone, PartialEq)]
pub enum AckResult<T> {
    Ok(T),
    Err(WireError),
}

impl<T> From<Result<T, WireError>> for AckResult<T> {
    fn from(r: Result<T, WireError>) -> Self {
        match r {
            Ok(v) => Self::Ok(v),
            Err(e) => Self::Err(e),
        }
    }
}

impl<T> From<AckResult<T>> for Result<T, WireError> {
    fn from(r: AckResult<T>) -> Self {
        match r {
            AckResult::Ok(v) => Ok(v),
            AckResult::Err(e) => Err(e),
        }
    }
}

#[derive(Serialize)]
struct OkRef<'a, T> {
    ok: bool,
    #[serde(flatten)]
    fields: &'a T,
}

#[derive(Serialize)]
struct ErrRef<'a> {
    ok: bool,
    error: &'a WireError,
}

impl<T: Serialize> Serialize for AckResult<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ok(fields) => OkRef { ok: true, fields }.serialize(serializer),
            Self::Err(error) => ErrRef { ok: false, error }.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for AckResult<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = serde_json::Value::deserialize(deserializer)?;
        let obj = value
            .as_object_mut()
            .ok_or_else(|| D::Error::custom("ack is not an object"))?;
        match obj.remove("ok") {
            Some(serde_json::Value::Bool(true)) => serde_json::from_value(value)
                .map(Self::Ok)
                .map_err(D::Error::custom),
            Some(serde_json::Value::Bool(false)) => {
                let error = obj
                    .remove("error")
                    .ok_or_else(|| D::Error::missing_field("error"))?;
                serde_json::from_value(error)
                    .map(Self::Err)
                    .map_err(D::Error::custom)
            }
            _ => Err(D::Error::missing_field("ok")),
        }
    }
}
