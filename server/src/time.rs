//! Timestamps as the wire carries them: RFC 3339, UTC, milliseconds.

use chrono::{SecondsFormat, Utc};

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The moment `ago` before now, in the same format (so the two compare as strings).
pub fn rfc3339_ago(ago: std::time::Duration) -> String {
    let ago = chrono::Duration::from_std(ago).unwrap_or(chrono::Duration::MAX);
    Utc::now()
        .checked_sub_signed(ago)
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}
