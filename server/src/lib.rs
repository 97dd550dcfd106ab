//! natter-relay: the Natter chat server as a library, so tests, benchmarks and the desktop
//! app's "host on this computer" start the real thing with [`run`].

pub mod accounts;
pub mod admin;
pub mod admin_cli;
pub mod auth;
pub mod broadcast;
pub mod chat;
pub mod cluster;
pub mod config;
pub mod connect_limit;
pub mod embedded;
pub mod error;
pub mod file_routes;
pub mod files;
pub mod http;
pub mod metrics;
pub mod presence;
pub mod ratelimit;
pub mod serve;
pub mod socket;
pub mod store;
pub mod time;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use accounts::Accounts;
use broadcast::Broadcaster;
use chat::Chat;
pub use config::Config;
pub use embedded::Relay;
use metrics::Metrics;
use store::{SqliteStore, Store, StoreError};

/// The scheme of a `--database-url` the PostgreSQL backend takes (also `postgresql://`).
const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// The database file inside the data directory.
pub const DB_FILE: &str = "natter.db";
/// The file in the data directory holding the first-admin invite (0600), written at a start
/// with no users.
pub const FIRST_ADMIN_FILE: &str = "first-admin-invite";
/// The uploaded files' directory inside the data directory.
pub const FILES_DIR: &str = "files";
/// How long shutdown waits for connections to close before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often rate-limit state of idle users is forgotten.
const LIMITS_SWEEP: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no data directory: pass --data-dir or set NATTER_DATA_DIR")]
    NoDataDir,
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error(
        "--database-url: this relay was built without PostgreSQL support (the cargo feature \
         `postgres`); build it with `--features postgres`, or leave the URL out to use SQLite"
    )]
    NoPostgres,
    #[error("--database-url: not a PostgreSQL URL (postgres://user:password@host:port/database)")]
    DatabaseUrl,
    #[error("cannot listen for metrics on {addr}: {source}")]
    MetricsBind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Cluster(#[from] cluster::ClusterError),
    #[error("cannot make the first-admin invite: {0}")]
    FirstAdmin(String),
    #[error("server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// Opens the configured store: PostgreSQL at `--database-url`, else SQLite in the data
/// directory.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let sessions = store::SessionPolicy {
        idle: Duration::from_secs(config.session_idle_secs),
        per_user: config.sessions_per_user,
    };
    if let Some(url) = &config.database_url {
        return open_database_url(url, sessions).await;
    }
    let dir = config.data_dir().ok_or(StartError::NoDataDir)?;
    config::create_data_dir(&dir, DB_FILE).map_err(|source| StartError::DataDir {
        path: dir.clone(),
        source,
    })?;
    let store = SqliteStore::open(&dir.join(DB_FILE)).await?;
    Ok(Arc::new(store.with_sessions(sessions)))
}

/// The PostgreSQL store at `url`: refused (`DatabaseUrl`) unless a `postgres://` URL, and
/// (`NoPostgres`) by a relay built without the `postgres` feature.
pub(crate) async fn open_database_url(
    url: &str,
    sessions: store::SessionPolicy,
) -> Result<Arc<dyn Store>, StartError> {
    if !POSTGRES_SCHEMES.iter().any(|s| url.starts_with(s)) {
        return Err(StartError::DatabaseUrl);
    }
    open_postgres(url, sessions).await
}

#[cfg(feature = "postgres")]
async fn open_postgres(
    url: &str,
    sessions: store::SessionPolicy,
) -> Result<Arc<dyn Store>, StartError> {
    let store = store::PgStore::open(url).await?;
    Ok(Arc::new(store.with_sessions(sessions)))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(
    _url: &str,
    _sessions: store::SessionPolicy,
) -> Result<Arc<dyn Store>, StartError> {
    Err(StartError::NoPostgres)
}

/// Serves the relay on `listener` until `shutdown` resolves, then closes every connection.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let store = open_store(&config).await?;
    serve(listener, &config, store, shutdown).await
}

/// Like [`run`], with a store the caller opened.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    // Bound first: a taken address fails the start before anything runs.
    let metrics_listener = match config.metrics_bind {
        Some(addr) => {
            Some(serve::listen(addr).map_err(|source| StartError::MetricsBind { addr, source })?)
        }
        None => None,
    };
    // Read before anything starts, so a bad file stops the relay with its reason.
    let tls = match config.tls_files() {
        Some((cert, key)) => Some(Arc::new(tls::Acceptor::load(cert, key)?)),
        None => None,
    };
    #[cfg(unix)]
    let reloader = match &tls {
        Some(tls) => Some(tls.clone().reload_on_sighup()?),
        None => None,
    };
    let dir = config.data_dir().ok_or(StartError::NoDataDir)?;
    let local =
        files::LocalDir::open(&dir.join(FILES_DIR)).map_err(|source| StartError::DataDir {
            path: dir.join(FILES_DIR),
            source,
        })?;
    let blobs = files::Blobs::new(Arc::new(local));
    let files = files::Files::new(
        store.clone(),
        blobs.clone(),
        files::UploadLimits {
            max_bytes: config.max_upload_bytes(),
            pace: files::Pace {
                idle: config.body_timeout(),
                grace: config.body_timeout(),
                min_bytes_per_sec: config::MIN_UPLOAD_BYTES_PER_SEC,
            },
            orphan_age: config.orphan_file_age(),
        },
    );
    let cluster = cluster::Cluster::open(config).await?;
    let committed = store.committed();
    let commits = store.commits();
    let metrics = Metrics::new(commits.metrics().clone());
    let limits = cluster.limits(ratelimit::Limits::new(config, metrics.clone()));
    let connects = connect_limit::ConnectLimits::new(config, metrics.clone());
    let chat = Chat::new(
        store.clone(),
        commits,
        limits.clone(),
        chat::ChatParts {
            presence: cluster.presence(),
            connects: connects.clone(),
            grace: config.presence_grace(),
            max_rooms: config.max_rooms_per_user,
            blobs,
        },
    );
    let passwords = auth::Passwords::default();
    let admin = admin::Admin::new(
        store.clone(),
        limits.clone(),
        passwords.clone(),
        config.registration,
        config.public_url.clone(),
    );
    let policy = accounts::Policy {
        registration: config.registration,
        first_account_admin: config.first_account_admin,
    };
    if !config.first_account_admin && store.user_count().await? == 0 {
        first_admin_invite(store.as_ref(), config, listener.local_addr()?).await?;
    }
    let accounts = Accounts::new(store.clone(), limits.clone(), passwords, policy);
    let people = socket::People {
        accounts: accounts.clone(),
        admin,
        tls: tls.is_some(),
    };
    let sweeping = limits.clone();
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(LIMITS_SWEEP);
        loop {
            tick.tick().await;
            sweeping.retain_recent();
            connects.retain_recent();
        }
    });
    // Orphan uploads and unfinished ones, at start and then every so often.
    let file_sweeper = tokio::spawn({
        let files = files.clone();
        async move {
            let mut tick = tokio::time::interval(files.sweep_every());
            loop {
                tick.tick().await;
                files.sweep().await;
            }
        }
    });
    let polls = socket::Polls::default();
    let bounds = socket::Bounds::new(config, limits.clone(), polls.clone(), metrics.clone());
    let peers = cluster.peers();
    let (layer, io) = socket::layer(
        chat.clone(),
        people,
        bounds,
        metrics.clone(),
        peers.clone(),
        config,
    );
    let broadcaster = Broadcaster::new(io.clone(), peers);
    let mut nodes = cluster.start(
        &io,
        store.clone(),
        chat,
        broadcaster.clone(),
        metrics.clone(),
    );
    let broadcasting = tokio::spawn(broadcaster.clone().committed(committed, nodes.feed.take()));
    let app = http::router(accounts, broadcaster.clone(), &config.trusted_proxy)
        .merge(file_routes::router(files))
        .layer(layer)
        // Around Socket.IO: what each long-polling session's polls took (`socket/polls.rs`).
        .layer(axum::middleware::from_fn_with_state(
            polls,
            socket::track_polls,
        ))
        .layer(axum::middleware::map_request(http::own_request_head))
        .layer(axum::middleware::from_fn_with_state(
            config.body_timeout(),
            http::body_deadline,
        ))
        // Around the body's deadline, so an API call's whole time counts.
        .layer(axum::middleware::from_fn_with_state(
            config.request_timeout(),
            http::api_deadline,
        ))
        // Outermost, so it sees Socket.IO's requests too.
        .layer(axum::middleware::from_fn(http::refuse_oversize))
        // Around everything: every response's status, counted without a per-request box.
        .layer(tower::util::MapResponseLayer::new({
            let metrics = metrics.clone();
            move |response: axum::response::Response| {
                metrics.http_response(response.status().as_u16());
                response
            }
        }));
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "relay listening");
    let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_server = match metrics_listener {
        Some(listener) => {
            tracing::info!(addr = %listener.local_addr()?, "metrics listening");
            let io = io.clone();
            let census: metrics::Census = Arc::new(move || socket::census(&io));
            let stopped = async move {
                let _ = metrics_stopped.await;
            };
            Some(tokio::spawn(metrics::serve(
                listener,
                metrics.clone(),
                census,
                stopped,
            )))
        }
        None => None,
    };
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let graceful = async move {
        shutdown.await;
        tracing::info!("shutting down");
        drop(metrics_stop);
        broadcaster.goodbye().await;
        // Long-lived Socket.IO connections would hold graceful shutdown open forever.
        io.close().await;
        let _ = closed_tx.send(());
    };
    let cap = serve::ConnectionCap {
        per_address: usize::try_from(config.connections_per_address).unwrap_or(usize::MAX),
        exempt: config.trusted_proxy.clone().into(),
    };
    let server = serve::serve(
        listener,
        app,
        config.header_read_timeout(),
        cap,
        metrics,
        tls,
        graceful,
    );
    let result = tokio::select! {
        () = server => Ok(()),
        () = async {
            let _ = closed_rx.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("connections still open after the grace period; stopping anyway");
            Ok(())
        }
    };
    sweeper.abort();
    file_sweeper.abort();
    broadcasting.abort();
    nodes.stop().await;
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    #[cfg(unix)]
    if let Some(reloader) = reloader {
        reloader.abort();
    }
    result
}

/// A relay with no users makes one single-use admin invite: printed on stdout and written to
/// [`FIRST_ADMIN_FILE`] in the data directory (0600). Never logged.
async fn first_admin_invite(
    store: &dyn Store,
    config: &Config,
    addr: std::net::SocketAddr,
) -> Result<(), StartError> {
    let made = admin::make_invite(store, natter_protocol::admin::Role::Admin, 1, None, None).await;
    let (_, code) = made.map_err(|e| StartError::FirstAdmin(e.to_string()))?;
    let scheme = if config.tls_files().is_some() {
        "https"
    } else {
        "http"
    };
    let server = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    let link = natter_protocol::invite::InviteLink { server, code }.format();
    let dir = config.data_dir().ok_or(StartError::NoDataDir)?;
    let path = dir.join(FIRST_ADMIN_FILE);
    write_private(&path, &format!("{link}\n")).map_err(|source| StartError::DataDir {
        path: path.clone(),
        source,
    })?;
    println!("natter-relay has no users yet: register the first admin with the invite {link}");
    tracing::info!(path = %path.display(), "no users yet: a first-admin invite is on stdout and in this file");
    Ok(())
}

/// Writes `text` to a new file only its owner can read (0600), replacing any old one.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests and the desktop app `tokio::spawn` the relay: `run` must stay a `Send` future.
    /// (This compiles only while it is.)
    #[allow(dead_code)]
    fn run_is_send(listener: TcpListener, config: Config) {
        fn is_send<T: Send>(_: &T) {}
        is_send(&run(listener, config, std::future::pending()));
    }

    fn with_url(url: &str) -> Config {
        Config {
            database_url: Some(url.to_owned()),
            ..Config::with_data_dir("/nonexistent/natter")
        }
    }

    /// A URL that is not PostgreSQL's is refused before anything is opened.
    #[tokio::test]
    async fn a_database_url_must_be_postgres() {
        let refused = open_store(&with_url("mysql://db/natter")).await.err();
        assert!(
            matches!(refused, Some(StartError::DatabaseUrl)),
            "{refused:?}"
        );
    }

    /// Without the feature, a PostgreSQL URL stops the start with the reason.
    #[cfg(not(feature = "postgres"))]
    #[tokio::test]
    async fn without_the_feature_a_postgres_url_is_refused() {
        let refused = open_store(&with_url("postgres://natter@127.0.0.1/natter"))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains("built without PostgreSQL support"),
            "{refused}"
        );
    }
}
