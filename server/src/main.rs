//! The natter-relay binary: read flags, environment and config file, set up logging, bind,
//! serve until SIGINT/SIGTERM; or `natter-relay admin …` (`admin_cli.rs`).

use anyhow::Context;
use natter_relay::config::{self, ConfigError};
use tracing_subscriber::EnvFilter;

/// glibc's malloc keeps what it once handed out: after a few logins the relay held ~600 MiB
/// of argon2's 19 MiB buffers in its per-thread arenas. mimalloc returns freed memory to the
/// OS and packs small per-connection allocations tighter.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    if std::env::args_os().nth(1).is_some_and(|a| a == "admin") {
        return runtime(None)?.block_on(admin());
    }
    let config = match config::load_from(std::env::args_os()) {
        Ok(config) => config,
        // --help, --version, a bad flag or variable: clap reports and exits (0 or 2) as usual.
        Err(ConfigError::Args(err)) => err.exit(),
        // Before logging is set up (the file may set its filter): stderr, and clap's exit code.
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(2);
        }
    };
    runtime(config.worker_threads)?.block_on(serve(config))
}

/// Tokio's multi-threaded runtime: `workers` threads, or one per CPU (`TOKIO_WORKER_THREADS`
/// if set).
fn runtime(workers: Option<u16>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = workers {
        builder.worker_threads(workers.into());
    }
    builder.enable_all().build()
}

async fn serve(config: config::Config) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log).context("bad --log filter")?)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Unusable TLS files stop the relay before it says it is listening.
    if let Some((cert, key)) = config.tls_files() {
        natter_relay::tls::Acceptor::load(cert, key).map_err(natter_relay::StartError::from)?;
    }
    let listener = natter_relay::serve::listen(config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    // Tests and scripts read the bound address (useful with port 0) from this line.
    println!("natter-relay listening on {}", listener.local_addr()?);
    // With TLS the relay reloads its certificate on SIGHUP (`tls.rs`); without, a SIGHUP (a
    // `systemctl reload`) must not end it, which is the signal's default.
    #[cfg(unix)]
    if config.tls_files().is_none() {
        ignore_hangups()?;
    }
    natter_relay::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// `natter-relay admin …` (`admin_cli.rs`): one action on the data directory, then exit.
async fn admin() -> anyhow::Result<()> {
    use natter_relay::admin_cli::{run, AdminError};
    match run(std::env::args_os(), &mut std::io::stdout()).await {
        Ok(()) => Ok(()),
        Err(AdminError::Args(err)) => err.exit(),
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(unix)]
fn ignore_hangups() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: no --tls-cert to reload");
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
