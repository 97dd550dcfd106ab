//! A real Redis server for tests, from the Debian package (`redis-server`): its own process on
//! a free loopback port, no persistence, in a temporary directory, never the machine's own
//! service. [`Redis::stop`] and [`Redis::start`] restart it on the same port (empty, like a
//! restart without persistence), for outage tests. Killed when the handle is dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::daemon::{self, io, ServerError};

/// A running redis-server of a test.
#[derive(Debug)]
pub struct Redis {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Redis {
    /// Starts a server on a free loopback port and waits (bounded) for its PING.
    pub fn start_new() -> Result<Self, ServerError> {
        let mut redis = Self {
            dir: tempfile::tempdir().map_err(io("temporary directory"))?,
            port: daemon::free_port()?,
            child: None,
        };
        redis.start()?;
        Ok(redis)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server again (after [`stop`](Self::stop)) on the same port.
    pub fn start(&mut self) -> Result<(), ServerError> {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let missing = "redis-server on PATH (apt-get install redis-server)";
        self.child = Some(daemon::spawn(&mut command, missing)?);
        daemon::wait_until("redis-server's PING", || ping(self.port))
    }

    /// Kills the server (SIGKILL: everything it held is gone).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Where its files would go (none: no persistence).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// True if a server on `port` answers `+PONG`.
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
}
