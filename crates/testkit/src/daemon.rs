//! What the test's own servers ([`crate::postgres`], [`crate::redis`], [`crate::nginx`]) share:
//! one error type, a free port, a spawn that tells a missing package apart, and a bounded wait
//! until the server answers.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// How long a server may take to answer once started.
const START_WAIT: Duration = Duration::from_secs(20);

/// Why a server of the test's own could not start, or a command on it failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("not installed: {0}")]
    NotInstalled(&'static str),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}): {output}")]
    Failed {
        what: String,
        status: ExitStatus,
        output: String,
    },
    #[error("{0} did not answer within {START_WAIT:?}")]
    NoAnswer(&'static str),
}

/// An I/O failure while doing `what`.
pub(crate) fn io(what: &str) -> impl Fn(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        what: what.to_owned(),
        source,
    }
}

/// A port free now on 127.0.0.1 (the server binds it a moment later).
pub(crate) fn free_port() -> Result<u16, ServerError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("find a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("find a free port"))?
        .port())
}

/// Starts `command`; a program not found is [`ServerError::NotInstalled`], `missing` saying
/// what to install.
pub(crate) fn spawn(command: &mut Command, missing: &'static str) -> Result<Child, ServerError> {
    command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ServerError::NotInstalled(missing),
        _ => io(missing)(source),
    })
}

/// Asks `answers` every 50 ms until it says yes, for at most [`START_WAIT`].
pub(crate) fn wait_until(
    what: &'static str,
    mut answers: impl FnMut() -> bool,
) -> Result<(), ServerError> {
    let deadline = Instant::now() + START_WAIT;
    while Instant::now() < deadline {
        if answers() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(ServerError::NoAnswer(what))
}
