//! Which certificate an https relay is trusted with: the operating system's trust store, or one
//! pinned certificate (a LAN relay's self-signed one, accepted by the user). Also tells a
//! certificate failure from other network failures, with the SHA-256 fingerprint to show.
//!
//! The pins live in this process (loaded from the profile's [`PINS_FILE`] at start, added by the
//! user's "Trust this certificate"); every HTTP call and socket to a pinned origin uses only its
//! pin. They are kept per relay origin across sign-outs: the certificate belongs to the relay,
//! not to an account.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{LazyLock, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

/// How long dialling and each handshake of a diagnosis may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an https relay's certificate is not accepted; carries what the user must compare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CertificateError {
    /// Not verified by the system's trust store and not pinned: the user may trust it.
    #[error("the relay's certificate is not trusted by this computer (SHA-256 fingerprint {fingerprint})")]
    Untrusted { fingerprint: String },
    /// A pinned relay shows another certificate: never accepted silently.
    #[error(
        "the relay's certificate changed: trusted {pinned}, now shown {presented}; \
         this may be an attack, or the relay's owner replaced the certificate"
    )]
    Changed { pinned: String, presented: String },
}

/// A certificate trusted for one relay origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub der: Vec<u8>,
    pub fingerprint: String,
}

impl Pin {
    pub fn new(der: Vec<u8>) -> Self {
        let fingerprint = fingerprint(&der);
        Self { der, fingerprint }
    }
}

/// Pins by origin (`https://host:port`).
static PINS: LazyLock<RwLock<HashMap<String, Pin>>> = LazyLock::new(Default::default);

/// The SHA-256 of a DER certificate, upper-case hex in colon-separated bytes (as browsers and
/// `openssl x509 -fingerprint -sha256` show it).
pub fn fingerprint(der: &[u8]) -> String {
    let mut out = String::with_capacity(95);
    for (i, byte) in Sha256::digest(der).iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// The origin a pin is kept under, or None for a URL that is not https.
pub fn origin(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    (url.scheme() == "https").then(|| url.origin().ascii_serialization())
}

/// Trusts exactly `pin` for the relay at `url` (https only) from now on.
pub fn pin(url: &str, pin: Pin) {
    if let Some(origin) = origin(url) {
        if let Ok(mut pins) = PINS.write() {
            pins.insert(origin, pin);
        }
    }
}

/// Back to the system's trust store for `url`.
pub fn unpin(url: &str) {
    if let (Some(origin), Ok(mut pins)) = (origin(url), PINS.write()) {
        pins.remove(&origin);
    }
}

/// The certificate pinned for `url`, if any.
pub fn pinned(url: &str) -> Option<Pin> {
    let origin = origin(url)?;
    PINS.read().ok()?.get(&origin).cloned()
}

/// The file in a profile folder that keeps its pins: `{"https://host:port": "<DER in hex>"}`.
pub const PINS_FILE: &str = "pinned-certificates.json";

/// Pins what `profile_dir`'s [`PINS_FILE`] holds (nothing if there is no file); how many.
pub fn load_pins(profile_dir: &Path) -> Result<usize, String> {
    let saved = read_pins(profile_dir)?;
    for (origin, der) in &saved {
        pin(origin, Pin::new(der.clone()));
    }
    Ok(saved.len())
}

/// Pins `pin` for `url` and saves it in `profile_dir`'s [`PINS_FILE`] (0600, replaced whole).
pub fn save_pin(profile_dir: &Path, url: &str, new: Pin) -> Result<(), String> {
    let origin = origin(url).ok_or("only an https relay's certificate can be pinned")?;
    let mut saved = read_pins(profile_dir)?;
    saved.insert(origin, new.der.clone());
    let text: BTreeMap<&String, String> =
        saved.iter().map(|(o, der)| (o, hex::encode(der))).collect();
    let json = serde_json::to_vec_pretty(&text).map_err(|e| e.to_string())?;
    let path = profile_dir.join(PINS_FILE);
    let temp = profile_dir.join(format!("{PINS_FILE}.new"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut f| {
        std::io::Write::write_all(&mut f, &json)?;
        f.sync_all()
    });
    written
        .and_then(|()| std::fs::rename(&temp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    pin(url, new);
    Ok(())
}

fn read_pins(profile_dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let path = profile_dir.join(PINS_FILE);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let saved: BTreeMap<String, String> =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    saved
        .into_iter()
        .map(|(origin, der)| {
            hex::decode(&der)
                .map(|der| (origin.clone(), der))
                .map_err(|e| format!("{}: the pin for {origin}: {e}", path.display()))
        })
        .collect()
}

/// The TLS settings for connections to `url`: the system's roots, or only its pin.
pub fn connector(url: &str) -> Result<native_tls::TlsConnector, native_tls::Error> {
    let Some(pin) = pinned(url) else {
        return native_tls::TlsConnector::new();
    };
    // The pinned certificate is the whole identity: the only root, so exactly it (or a chain it
    // signed, which a self-signed LAN certificate never has) is accepted. Its names are not
    // checked: a LAN relay is reached by an address its owner never put in the certificate, and
    // what the user compared and accepted is the fingerprint, not a name.
    native_tls::TlsConnector::builder()
        .disable_built_in_roots(true)
        .add_root_certificate(native_tls::Certificate::from_der(&pin.der)?)
        .danger_accept_invalid_hostnames(true)
        .build()
}

/// An HTTP client for the account calls to `url` with its trust.
pub fn http_client(
    url: &str,
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::Client, reqwest::Error> {
    match origin(url) {
        None => builder.build(),
        Some(_) => match connector(url) {
            Ok(tls) => builder.use_preconfigured_tls(tls).build(),
            // A pin that is not a certificate cannot be saved (`Pin` comes from a handshake).
            Err(e) => {
                tracing::error!(error = %e, "cannot build TLS settings");
                builder.build()
            }
        },
    }
}

/// After a failed call or connect to `url`: was the certificate the cause? Dials again, reads the
/// certificate the relay shows (accepting anything, sending nothing else), then tries the real
/// verification. `None` when it verifies (the failure was something else) or cannot be reached.
pub async fn diagnose(url: &str) -> Option<CertificateError> {
    origin(url)?;
    let presented = fetch(url).await.ok()?;
    let verified = handshake(url, connector(url).ok()?).await.is_ok();
    if verified {
        return None;
    }
    match pinned(url) {
        None => Some(CertificateError::Untrusted {
            fingerprint: presented.fingerprint,
        }),
        Some(pin) if pin.fingerprint != presented.fingerprint => Some(CertificateError::Changed {
            pinned: pin.fingerprint,
            presented: presented.fingerprint,
        }),
        // The pinned certificate itself fails (expired, or not self-signed): a plain failure.
        Some(_) => None,
    }
}

/// The certificate the relay at `url` shows now, unverified: what "Trust this certificate" pins
/// once its fingerprint matches the one the user saw.
pub async fn fetch(url: &str) -> Result<Pin, String> {
    let anything = native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true)
        .build()
        .map_err(|e| e.to_string())?;
    let stream = handshake(url, anything).await?;
    match stream.get_ref().peer_certificate() {
        Ok(Some(cert)) => cert.to_der().map(Pin::new).map_err(|e| e.to_string()),
        Ok(None) => Err("the relay showed no certificate".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

async fn handshake(
    url: &str,
    tls: native_tls::TlsConnector,
) -> Result<tokio_native_tls::TlsStream<TcpStream>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("no host in the URL")?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    // An IPv6 literal comes bracketed in the URL; the socket address wants it bare.
    let dial_host = host.trim_start_matches('[').trim_end_matches(']');
    let bounded = async {
        let tcp = TcpStream::connect((dial_host, port))
            .await
            .map_err(|e| e.to_string())?;
        tokio_native_tls::TlsConnector::from(tls)
            .connect(dial_host, tcp)
            .await
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(PROBE_TIMEOUT, bounded)
        .await
        .map_err(|_| format!("no TLS handshake within {PROBE_TIMEOUT:?}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_grouped_upper_hex() {
        // SHA-256 of the empty input.
        let fp = fingerprint(b"");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("E3:B0:C4:42:98:FC:1C:14"), "{fp}");
    }

    #[test]
    fn pins_are_kept_per_https_origin() {
        assert_eq!(origin("http://127.0.0.1:1"), None);
        assert_eq!(
            origin("https://Relay.example:8443/x").as_deref(),
            Some("https://relay.example:8443")
        );
        let pin_a = Pin::new(b"a".to_vec());
        pin("https://pins.test:1/", pin_a.clone());
        assert_eq!(pinned("https://pins.test:1"), Some(pin_a));
        assert_eq!(pinned("https://pins.test:2"), None);
        unpin("https://pins.test:1");
        assert_eq!(pinned("https://pins.test:1"), None);
    }

    #[test]
    fn saved_pins_load_again() {
        let dir = tempfile::tempdir().expect("a dir");
        assert_eq!(load_pins(dir.path()), Ok(0));
        let saved = Pin::new(b"certificate".to_vec());
        save_pin(dir.path(), "https://saved.test:7447/", saved.clone()).expect("save");
        unpin("https://saved.test:7447");
        assert_eq!(load_pins(dir.path()), Ok(1));
        assert_eq!(pinned("https://saved.test:7447"), Some(saved));
        assert!(save_pin(dir.path(), "http://plain.test:1", Pin::new(vec![1])).is_err());
        std::fs::write(dir.path().join(PINS_FILE), "{\"https://x.test\": \"zz\"}").expect("write");
        assert!(
            load_pins(dir.path()).is_err(),
            "a damaged file is an error, not a panic"
        );
    }
}
