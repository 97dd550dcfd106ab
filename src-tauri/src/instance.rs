//! One app per profile: starting Natter again with a profile that is already open brings that
//! window to the front instead of opening a second app on the same data. Another `--profile`
//! is another instance.
//!
//! The first instance holds an exclusive lock on `instance.lock` in the profile's folder for
//! as long as it runs (the OS drops it when the process dies, so a crash leaves nothing stale)
//! and listens on a loopback port, written with a random key to `instance.json` beside it
//! (0600). A later start that cannot take the lock reads the file and sends the key; the first
//! instance answers by showing its window. Plain std: the same on Linux, macOS and Windows.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

const LOCK_FILE: &str = "instance.lock";
const ADDRESS_FILE: &str = "instance.json";
/// How long a second start keeps trying to reach the first (which may be starting itself).
const REACH_FOR: Duration = Duration::from_secs(5);
/// A peer that connects and says nothing is dropped after this.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest line read from a peer (a key is 32 hex digits).
const MAX_LINE: u64 = 128;

/// Where the running instance listens, and the key it answers to.
#[derive(Debug, Serialize, Deserialize)]
struct Address {
    port: u16,
    key: String,
}

/// The outcome of [`claim`].
#[derive(Debug)]
pub enum Claim {
    /// This process is the profile's instance: keep the guard for as long as the app runs.
    First(Instance),
    /// Another process has the profile; it was asked to show its window.
    AlreadyRunning,
}

/// The running instance: the lock, and the listener later starts reach.
#[derive(Debug)]
pub struct Instance {
    _lock: File,
    listener: TcpListener,
    key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another Natter has this profile open but did not answer within {0:?}")]
    NoAnswer(Duration),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstanceError + '_ {
    move |source| InstanceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Becomes the instance of the profile in `profile_dir`, or asks the one running to show itself.
pub fn claim(profile_dir: &Path) -> Result<Claim, InstanceError> {
    let lock_path = profile_dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => listen(profile_dir, lock).map(Claim::First),
        Err(std::fs::TryLockError::WouldBlock) => {
            reach(profile_dir)?;
            Ok(Claim::AlreadyRunning)
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io(&lock_path)(e)),
    }
}

fn listen(profile_dir: &Path, lock: File) -> Result<Instance, InstanceError> {
    let path = profile_dir.join(ADDRESS_FILE);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io(&path))?;
    let port = listener.local_addr().map_err(io(&path))?.port();
    let key = uuid::Uuid::new_v4().simple().to_string();
    let text = serde_json::to_string(&Address {
        port,
        key: key.clone(),
    })
    .map_err(|e| io(&path)(e.into()))?;
    write_private(&path, text.as_bytes()).map_err(io(&path))?;
    Ok(Instance {
        _lock: lock,
        listener,
        key,
    })
}

/// Writes `bytes` to a file only its owner can read (the key lets anyone raise the window).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Sends the running instance its key; retried while it may still be writing its address.
fn reach(profile_dir: &Path) -> Result<(), InstanceError> {
    let path = profile_dir.join(ADDRESS_FILE);
    let started = Instant::now();
    loop {
        if send_key(&path).is_ok() {
            return Ok(());
        }
        if started.elapsed() > REACH_FOR {
            return Err(InstanceError::NoAnswer(REACH_FOR));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn send_key(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let address: Address = serde_json::from_str(&text)?;
    let to = SocketAddr::from((Ipv4Addr::LOCALHOST, address.port));
    let mut stream = TcpStream::connect_timeout(&to, READ_TIMEOUT)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    writeln!(stream, "{}", address.key)?;
    // The instance answers "ok" once it has taken the request: the key was current.
    let mut answer = String::new();
    BufReader::new(stream.take(MAX_LINE)).read_line(&mut answer)?;
    if answer.trim() == "ok" {
        Ok(())
    } else {
        Err(std::io::Error::other("the instance did not take the key"))
    }
}

impl Instance {
    /// Answers later starts on a thread of its own: each one with the right key calls `show`.
    pub fn serve(self, show: impl Fn() + Send + 'static) {
        let spawned = std::thread::Builder::new()
            .name("natter-instance".into())
            .spawn(move || {
                let _lock = self._lock;
                for stream in self.listener.incoming() {
                    match stream.map(|s| answer(s, &self.key)) {
                        Ok(Ok(true)) => show(),
                        Ok(Ok(false)) => tracing::warn!("a start with the wrong key was ignored"),
                        Ok(Err(error)) | Err(error) => {
                            tracing::debug!(%error, "instance: a peer went away")
                        }
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot answer later starts");
        }
    }
}

/// Reads one line; true (and "ok" back) if it is `key`.
fn answer(stream: TcpStream, key: &str) -> std::io::Result<bool> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut line = String::new();
    BufReader::new((&stream).take(MAX_LINE)).read_line(&mut line)?;
    let right = line.trim() == key;
    if right {
        (&stream).write_all(b"ok\n")?;
    }
    Ok(right)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_second_start_reaches_the_first_and_another_profile_is_its_own(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let alice = tempfile::tempdir()?;
        let bob = tempfile::tempdir()?;
        let Claim::First(first) = claim(alice.path())? else {
            return Err("the first start must be the instance".into());
        };
        let (shown, told) = mpsc::channel();
        first.serve(move || {
            let _ = shown.send(());
        });
        assert!(matches!(claim(alice.path())?, Claim::AlreadyRunning));
        told.recv_timeout(Duration::from_secs(5))?;
        assert!(matches!(claim(alice.path())?, Claim::AlreadyRunning));
        told.recv_timeout(Duration::from_secs(5))?;
        assert!(
            matches!(claim(bob.path())?, Claim::First(_)),
            "another profile"
        );
        Ok(())
    }

    #[test]
    fn a_wrong_key_shows_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let Claim::First(first) = claim(dir.path())? else {
            return Err("the first start must be the instance".into());
        };
        let port = first.listener.local_addr()?.port();
        let (shown, told) = mpsc::channel();
        first.serve(move || {
            let _ = shown.send(());
        });
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
        writeln!(stream, "not-the-key")?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer)?;
        assert_eq!(answer, "", "no ok for a wrong key");
        assert!(told.recv_timeout(Duration::from_millis(300)).is_err());
        Ok(())
    }

    #[test]
    fn the_lock_goes_with_the_instance() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = claim(dir.path())?;
        assert!(matches!(first, Claim::First(_)));
        drop(first);
        assert!(
            matches!(claim(dir.path())?, Claim::First(_)),
            "a crash leaves no stale lock"
        );
        Ok(())
    }
}
