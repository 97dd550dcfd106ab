//! Decoding untrusted JSON into protocol types: the one place both relay and client do it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::ack::WireError;
use crate::Request;

/// Decodes one payload. Only a JSON object is a payload: serde would also fill a struct from
/// an array by position, which the protocol does not allow.
pub fn decode<T: DeserializeOwned>(what: &str, value: Value) -> Result<T, WireError> {
    if !value.is_object() {
        return Err(WireError::invalid(format!(
            "{what} payload must be a JSON object"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| WireError::invalid(format!("bad {what} payload: {e}")))
}

/// Decodes and validates a request; a missing payload (`null`) reads as `{}`.
pub fn decode_request<R: Request>(value: Value) -> Result<R, WireError> {
    let value = match value {
        Value::Null => Value::Object(Default::default()),
        v => v,
    };
    let req: R = decode(R::NAME, value)?;
    req.validate()?;
    Ok(req)
}

/// For optional collections: `null` reads as empty, like an absent field.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}
