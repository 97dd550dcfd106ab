//! A real PostgreSQL server for tests, from the Debian package (`/usr/lib/postgresql/*/bin`):
//! its own cluster in a temporary directory, on a free loopback port, fsync on, never the
//! machine's own service. `initdb` refuses to run as root, so as root the server runs as the
//! `postgres` OS user (`runuser`). Each test takes a database of its own
//! ([`Postgres::database`]); [`Postgres::stop`] (or [`Postgres::stop_immediately`], a crash) and
//! [`Postgres::start`] restart the server on the same port and data, for outage tests.
//!
//! The server stops and its directory goes when the handle is dropped, and also when the test
//! process ends without dropping it (a shared server in a `static`, or a panic): a guard shell
//! waits on a pipe from this process and cleans up when the pipe closes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::daemon::{self, io, ServerError};

/// How long `pg_ctl` may wait for the server to start or stop (seconds).
const PG_CTL_WAIT_SECS: &str = "60";

/// A running PostgreSQL server of a test.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    /// The guard shell and the pipe it waits on (see the module's doc).
    guard: Option<(Child, ChildStdin)>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// Makes a cluster in a new temporary directory and starts its server (blocking: it
    /// waits, bounded, until the server accepts connections).
    pub fn start_new() -> Result<Self, ServerError> {
        let bin = find_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("natter-pg-")
            .tempdir()
            .map_err(io("create a temporary directory"))?
            .keep();
        let as_postgres = is_root();
        let mut pg = Self {
            bin,
            dir,
            port: daemon::free_port()?,
            as_postgres,
            guard: None,
        };
        pg.guard = Some(pg.start_guard()?);
        if as_postgres {
            run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&pg.dir),
                "chown the cluster's directory to postgres",
            )?;
        }
        let mut initdb = pg.command("initdb");
        initdb
            .arg("-D")
            .arg(pg.data())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
            // The cluster's files need not survive a power cut; the server's writes do (fsync on).
            .arg("--no-sync");
        run(&mut initdb, "initdb")?;
        pg.start()?;
        Ok(pg)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> Result<String, ServerError> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "natter_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v"])
            .arg("ON_ERROR_STOP=1")
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(format!("CREATE DATABASE {name}"));
        run(&mut psql, "CREATE DATABASE")?;
        Ok(self.url(&name))
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Starts the server (again), on the same port and data; returns once it accepts
    /// connections.
    pub fn start(&self) -> Result<(), ServerError> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on \
             -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let mut start = self.command("pg_ctl");
        start
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", PG_CTL_WAIT_SECS, "-o"])
            .arg(options)
            .arg("start");
        run(&mut start, "pg_ctl start")
    }

    /// Stops the server ("fast": open transactions are rolled back, connections cut).
    pub fn stop(&self) -> Result<(), ServerError> {
        self.stop_in("fast")
    }

    /// Stops the server "immediate": it quits at once, without a shutdown checkpoint, as in a
    /// crash; the next [`start`](Self::start) recovers from its write-ahead log.
    pub fn stop_immediately(&self) -> Result<(), ServerError> {
        self.stop_in("immediate")
    }

    fn stop_in(&self, mode: &str) -> Result<(), ServerError> {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D")
            .arg(self.data())
            .args(["-w", "-t", PG_CTL_WAIT_SECS, "-m", mode, "stop"]);
        run(&mut stop, &format!("pg_ctl stop -m {mode}"))
    }

    /// The server's log so far, for a failure report.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// One of the server's programs, as `postgres` when this process is root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// The guard shell: when its stdin closes, it stops the server at once and removes the
    /// directory.
    fn start_guard(&self) -> Result<(Child, ChildStdin), ServerError> {
        let as_postgres = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "cat >/dev/null; {as_postgres}\"$0/pg_ctl\" -D \"$1/data\" -m immediate -w stop \
             >/dev/null 2>&1; rm -rf \"$1\""
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&self.bin)
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("start the guard shell"))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| io("the guard shell's stdin")(std::io::ErrorKind::BrokenPipe.into()))?;
        Ok((child, stdin))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some((mut child, mut stdin)) = self.guard.take() {
            let _ = stdin.flush();
            drop(stdin);
            // pg_ctl's own wait bounds this.
            let _ = child.wait();
        }
    }
}

const NO_SERVER: &str = "PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install \
                         postgresql-15), nor in $NATTER_PG_BIN";

/// The newest installed server's binaries, or `$NATTER_PG_BIN`.
fn find_bin() -> Result<PathBuf, ServerError> {
    if let Some(bin) = std::env::var_os("NATTER_PG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| ServerError::NotInstalled(NO_SERVER))?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or(ServerError::NotInstalled(NO_SERVER))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs `command` to its end; its output is the error when it fails.
fn run(command: &mut Command, what: &str) -> Result<(), ServerError> {
    let out = command.stdin(Stdio::null()).output().map_err(io(what))?;
    if out.status.success() {
        return Ok(());
    }
    Err(ServerError::Failed {
        what: what.to_owned(),
        status: out.status,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    })
}
