//! A real nginx for tests (the Debian package): its own process on a free loopback port, with a
//! site file given by the test (e.g. `packaging/relay/nginx-natter.conf` with its addresses
//! replaced), its pid, logs and temporary files in a temporary directory, never the machine's
//! own service. Stopped, workers included, when the handle is dropped.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::{self, io, ServerError};

#[derive(Debug)]
pub struct Nginx {
    /// Its config, pid and logs; removed once nginx is gone.
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    child: Child,
}

impl Nginx {
    /// Runs nginx with `site` (server and upstream blocks) inside a minimal main config,
    /// and waits (bounded) until `addr` — where `site` listens — accepts connections.
    pub fn start(site: &str, addr: SocketAddr) -> Result<Self, ServerError> {
        let dir = tempfile::tempdir().map_err(io("temporary directory"))?;
        let root = dir.path();
        std::fs::create_dir_all(root.join("tmp")).map_err(io("nginx's temp dir"))?;
        std::fs::write(root.join("site.conf"), site).map_err(io("write the site"))?;
        let main = format!(
            "daemon off;\n\
             worker_processes 1;\n\
             pid {root}/nginx.pid;\n\
             error_log {root}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {root}/tmp/body;\n\
               proxy_temp_path {root}/tmp/proxy;\n\
               fastcgi_temp_path {root}/tmp/fastcgi;\n\
               uwsgi_temp_path {root}/tmp/uwsgi;\n\
               scgi_temp_path {root}/tmp/scgi;\n\
               include {root}/site.conf;\n\
             }}\n",
            root = root.display()
        );
        std::fs::write(root.join("nginx.conf"), main).map_err(io("write nginx.conf"))?;
        let bin = if std::path::Path::new("/usr/sbin/nginx").exists() {
            "/usr/sbin/nginx"
        } else {
            "nginx"
        };
        let mut command = Command::new(bin);
        command
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(root.join("nginx.conf"));
        let nginx_light = "nginx at /usr/sbin/nginx or on PATH (apt-get install nginx-light)";
        let child = daemon::spawn(
            command.stdout(Stdio::null()).stderr(Stdio::piped()),
            nginx_light,
        )?;
        let nginx = Self {
            _dir: dir,
            addr,
            child,
        };
        daemon::wait_until("nginx", || {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        })?;
        Ok(nginx)
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// How long nginx may take to stop its workers and exit after SIGTERM.
const STOP_WAIT: Duration = Duration::from_secs(5);

impl Drop for Nginx {
    /// SIGTERM first: the master stops its workers, then exits (a SIGKILLed master leaves its
    /// workers running, holding the port). SIGKILL if it has not exited within STOP_WAIT.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_WAIT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
