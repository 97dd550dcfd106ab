//! TLS on the relay's one port (HTTPS and WSS): the certificate chain and key read from PEM
//! files, a handshake bounded in time for each accepted connection, and the files read again on
//! SIGHUP for the connections that come after (open ones keep theirs).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM certificate chain: {message}")]
    BadCert { path: PathBuf, message: String },
    #[error("{path} holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)")]
    NoCert { path: PathBuf },
    #[error("{path} holds no usable private key (expected PEM PKCS#8, RSA or EC): {message}")]
    BadKey { path: PathBuf, message: String },
    #[error("the certificate {cert} and the key {key} cannot be used together: {source}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// Accepts TLS connections with the certificate and key most recently read.
#[derive(Debug)]
pub struct Acceptor {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

impl Acceptor {
    /// Reads `cert` (a PEM chain, leaf first) and `key` (PEM PKCS#8, RSA or EC).
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let config = server_config(cert, key)?;
        Ok(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(config),
        })
    }

    /// Reads the files again; new connections get the new certificate. On an error the old one
    /// stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.cert, &self.key)?;
        match self.current.write() {
            Ok(mut current) => *current = config,
            // A poisoned lock only means a writer panicked mid-swap: the value is whole.
            Err(poisoned) => *poisoned.into_inner() = config,
        }
        Ok(())
    }

    fn config(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The server side of a handshake on `io`, bounded by `timeout`: a silent or dribbling
    /// client must not hold a connection (and its place under the per-address cap).
    pub async fn accept<IO>(&self, io: IO, timeout: Duration) -> std::io::Result<TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.config());
        tokio::time::timeout(timeout, acceptor.accept(io))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake"))?
    }

    /// Reloads on every SIGHUP for as long as the returned task runs (abort it to stop).
    #[cfg(unix)]
    pub fn reload_on_sighup(
        self: Arc<Self>,
    ) -> std::io::Result<tokio::task::JoinHandle<std::convert::Infallible>> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = signal(SignalKind::hangup())?;
        Ok(tokio::spawn(async move {
            loop {
                // `recv` yields None only once the driver is gone; then there is nothing to do.
                if hangups.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
                match self.reload() {
                    Ok(()) => {
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded")
                    }
                    Err(e) => tracing::error!(
                        error = %e,
                        "TLS certificate not reloaded; new connections keep the previous one"
                    ),
                }
            }
        }))
    }
}

/// A rustls server config from the two files: ring's cipher suites, TLS 1.2 and 1.3, HTTP/1.1.
fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let chain = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCert {
            path: cert.to_owned(),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCert {
            path: cert.to_owned(),
        });
    }
    let private = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| TlsError::BadKey {
        path: key.to_owned(),
        message: e.to_string(),
    })?;
    let mismatch = |source| TlsError::Mismatch {
        cert: cert.to_owned(),
        key: key.to_owned(),
        source,
    };
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(mismatch)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(mismatch)?;
    // The relay speaks HTTP/1.1 only (Socket.IO's WebSocket upgrade needs it).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
