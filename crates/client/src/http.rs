//! The one home of the client's HTTP to a relay: a `reqwest` client with the relay's trust
//! (`trust.rs`: system roots or a pin) and the endpoints' URLs. The account calls (`account.rs`)
//! and the file calls (`files/`) both build on it.

use std::time::Duration;

use crate::trust;

/// How long dialling the relay may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for `server_url`. `call` bounds a whole call when given (the account calls); file
/// transfers, whose length has no bound in time, watch their own progress instead.
pub(crate) fn client(
    server_url: &str,
    call: Option<Duration>,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
    if let Some(call) = call {
        builder = builder.timeout(call);
    }
    trust::http_client(server_url, builder)
}

/// `path` on the relay at `server_url`.
pub(crate) fn endpoint(server_url: &str, path: &str) -> String {
    format!("{}{path}", server_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_without_double_slashes() {
        assert_eq!(
            endpoint("http://h:1/", "/api/login"),
            "http://h:1/api/login".to_owned()
        );
        assert_eq!(
            endpoint("http://h:1", "/api/logout"),
            "http://h:1/api/logout"
        );
    }
}
