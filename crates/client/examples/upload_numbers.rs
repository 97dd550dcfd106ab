//! Issue 20's upload numbers: a file sent through the desktop client's real send path
//! (`Session::send_files`: copied into the profile, then the uploader's streamed `POST
//! /api/files` and the `message:send`), to a relay running as its own process on loopback,
//! whose RSS is read from `/proc` every 20 ms.
//!
//! `cargo build -p natter-relay && cargo run -p natter-client --example upload_numbers -- [MiB]`
//! (default 1024; the relay binary is `target/<profile>/natter-relay`, or `NATTER_RELAY_BIN`).
//! Prints the upload's throughput (from the end of the copy into the profile to the send's ack,
//! so the relay's hashing, writing and fsync are in it) and the relay's RSS when idle (after a
//! warm-up upload) and at its peak during the upload, and the CPU seconds each side used for it
//! (on a shared machine the wall time alone says little).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use natter_client::files::{FileSource, NewFile};
use natter_client::session::{AppEvent, AppEvents, DeliveryState, Session};
use natter_protocol::GENERAL_ROOM_ID;
use natter_testkit::{procfs, Api, RelayProcess, RelaySpec};
use tokio::io::AsyncWriteExt;

/// The longest the whole upload may take before the run is called failed.
const BOUND: Duration = Duration::from_secs(600);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1024);
    let relay_dir = tempfile::tempdir()?;
    let spec = RelaySpec::new(relay_binary()?, relay_dir.path()).args([
        "--max-upload-mb".to_owned(),
        (mib + 64).to_string(),
        "--log".to_owned(),
        "warn".to_owned(),
    ]);
    let relay = RelayProcess::start(&spec).await?;
    let token = Api::new(relay.url()).user("alice").await.token;
    let profile = tempfile::tempdir()?;
    let sources = tempfile::tempdir()?;
    let (session, mut events) =
        natter_testkit::session::start(profile.path(), relay.url(), &token).await;
    natter_testkit::session::connected(&mut events).await;

    // A warm-up upload (the first one's buffers and connections), then the idle RSS.
    let warm = write_file(sources.path(), "warm.bin", 4).await?;
    send(&session, &mut events, &warm).await?;
    let idle = relay.rss_kib().ok_or("no VmRSS")?;

    let big = write_file(sources.path(), "big.bin", mib).await?;
    let peak = Arc::new(AtomicU64::new(idle));
    let sampling = tokio::spawn({
        let (peak, pid) = (peak.clone(), relay.pid());
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                if let Some(rss) = procfs::rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
            }
        }
    });
    // CPU time of each side while it runs: on a shared machine the wall time says little alone.
    let cpu = || {
        (
            procfs::cpu_seconds(relay.pid()).unwrap_or_default(),
            procfs::cpu_seconds(std::process::id()).unwrap_or_default(),
        )
    };
    let (relay_cpu, client_cpu) = cpu();
    let took = send(&session, &mut events, &big).await?;
    let (relay_cpu, client_cpu) = (cpu().0 - relay_cpu, cpu().1 - client_cpu);
    sampling.abort();
    let peak = peak.load(Ordering::Relaxed);
    let bytes = mib << 20;
    println!(
        "{mib} MiB through Session::send_files: {took:.2?} = {:.0} MB/s ({:.0} MiB/s); \
         relay RSS idle {idle} KiB, peak {peak} KiB, grew {} KiB",
        bytes as f64 / 1e6 / took.as_secs_f64(),
        bytes as f64 / f64::from(1 << 20) / took.as_secs_f64(),
        peak.saturating_sub(idle),
    );
    println!(
        "CPU meanwhile: relay {relay_cpu:.2} s ({:.0} MB per CPU second), client {client_cpu:.2} s \
         ({:.0} MB per CPU second); the machine's load average {}",
        bytes as f64 / 1e6 / relay_cpu.max(0.01),
        bytes as f64 / 1e6 / client_cpu.max(0.01),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
    );
    session.stop().await;
    relay.terminate().await?;
    Ok(())
}

/// `NATTER_RELAY_BIN`, or `natter-relay` in the target folder this example was built into.
fn relay_binary() -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("NATTER_RELAY_BIN") {
        return Ok(path.into());
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no target folder")?;
    let binary = dir.join("natter-relay");
    if !binary.is_file() {
        return Err(format!(
            "{} is missing: cargo build -p natter-relay",
            binary.display()
        )
        .into());
    }
    Ok(binary)
}

/// A file of `mib` MiB of varied bytes, written in pieces.
async fn write_file(dir: &Path, name: &str, mib: u64) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    let mut file = tokio::io::BufWriter::new(tokio::fs::File::create(&path).await?);
    let piece: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    for _ in 0..mib {
        file.write_all(&piece).await?;
    }
    file.flush().await?;
    Ok(path)
}

/// Sends `path` as a message's one file; answers the time from the queued send (the copy into
/// the profile done) to its ack.
async fn send(
    session: &Session,
    events: &mut AppEvents,
    path: &Path,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let file = NewFile {
        name: path.to_string_lossy().into_owned(),
        content_type: Some("application/octet-stream".to_owned()),
        source: FileSource::Path(path.to_owned()),
    };
    let item = session
        .send_files(GENERAL_ROOM_ID, "", None, vec![file])
        .await?;
    let began = Instant::now();
    tokio::time::timeout(BOUND, async {
        loop {
            match events.recv().await {
                Some(AppEvent::MessageState {
                    client_id, state, ..
                }) if client_id == item.client_id => match state {
                    DeliveryState::Sent { .. } => return Ok(began.elapsed()),
                    DeliveryState::Failed { error } => return Err(error.to_string().into()),
                    DeliveryState::Pending { .. } => {}
                },
                Some(_) => {}
                None => return Err("the session ended".into()),
            }
        }
    })
    .await
    .map_err(|_| "the upload took too long")?
}
