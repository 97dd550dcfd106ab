//! One direction of one proxied connection: a reader that stops while blackholed, and a writer
//! that applies blackhole, latency, bandwidth, slicing and close-after to what the reader queued.

use std::{io, sync::atomic::AtomicU64, time::Duration};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    sync::{mpsc, watch},
    time::{sleep, sleep_until, Instant},
};

use crate::{
    control::Counters,
    fault::{CloseAfter, FaultState, Flow},
};

/// Largest single read; with [`QUEUE`] this bounds what one direction holds in memory.
const CHUNK: usize = 16 * 1024;
/// Chunks queued between reader and writer (so at most 256 KiB per direction).
pub(crate) const QUEUE: usize = 16;
/// Under a bandwidth cap, write in pieces of about this fraction of a second.
const PIECES_PER_SEC: u64 = 20;

/// Bytes read, and when, so latency counts from the moment the proxy got them.
pub(crate) struct Chunk {
    data: Vec<u8>,
    read_at: Instant,
}

impl Chunk {
    /// Bytes the proxy already holds (e.g. a request head it inspected), as if read just now.
    pub(crate) fn new(data: Vec<u8>) -> Self {
        Self {
            data,
            read_at: Instant::now(),
        }
    }
}

/// Why a pump ended the whole connection early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// `CloseAfter` reached its count.
    CloseAfter,
    /// A socket failed (reset by peer, broken pipe, ...).
    Io(io::Error),
}

/// Read `src` into `tx` until EOF (dropping `tx` tells the writer). Ok on EOF.
pub(crate) async fn read_side<R: AsyncRead + Unpin>(
    mut src: R,
    tx: mpsc::Sender<Chunk>,
    flow: Flow,
    mut faults: watch::Receiver<FaultState>,
) -> Result<(), Stop> {
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = loop {
            wait_while_blackholed(&mut faults, flow).await;
            // A read pending when the blackhole starts is dropped (reads are cancel-safe), so
            // nothing more leaves the kernel buffer until the fault is lifted.
            tokio::select! {
                read = src.read(&mut buf) => break read.map_err(Stop::Io)?,
                () = changed(&mut faults) => {}
            }
        };
        if n == 0 {
            return Ok(());
        }
        buf.truncate(n);
        if tx.send(Chunk::new(buf)).await.is_err() {
            return Ok(()); // the writer already ended the connection
        }
    }
}

/// Write what arrives on `rx` to `dst`, applying faults; shut `dst` down when `rx` ends.
/// `forwarded` counts the bytes written, `writes` the writes.
pub(crate) async fn write_side<W: AsyncWrite + Unpin>(
    mut dst: W,
    mut rx: mpsc::Receiver<Chunk>,
    flow: Flow,
    mut faults: watch::Receiver<FaultState>,
    (forwarded, writes): (&AtomicU64, &AtomicU64),
) -> Result<(), Stop> {
    let mut armed: Option<CloseAfter> = None;
    let mut budget: Option<u64> = None;
    while let Some(chunk) = rx.recv().await {
        wait_for_delivery(&mut faults, flow, chunk.read_at).await;
        let mut data = &chunk.data[..];
        while !data.is_empty() {
            wait_while_blackholed(&mut faults, flow).await;
            let now = *faults.borrow_and_update().flow(flow);
            if now.close_after != armed {
                armed = now.close_after;
                budget = armed.map(|c| c.bytes);
            }
            if budget == Some(0) {
                return Err(Stop::CloseAfter);
            }
            let mut n = match (now.slice1, now.bandwidth) {
                (true, _) => 1,
                (false, Some(rate)) => usize::try_from(rate / PIECES_PER_SEC).unwrap_or(usize::MAX),
                (false, None) => data.len(),
            };
            n = n.clamp(1, data.len());
            if let Some(left) = budget {
                n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
            }
            // Counted before the write, so a peer that has the bytes always finds them counted.
            Counters::bump(forwarded, n as u64);
            Counters::bump(writes, 1);
            dst.write_all(&data[..n]).await.map_err(Stop::Io)?;
            if now.slice1 {
                dst.flush().await.map_err(Stop::Io)?;
            }
            data = &data[n..];
            let n = n as u64;
            if let Some(left) = budget.as_mut() {
                *left -= n;
                if *left == 0 {
                    return Err(Stop::CloseAfter);
                }
            }
            if let Some(rate) = now.bandwidth {
                sleep(Duration::from_secs_f64(n as f64 / rate as f64)).await;
            }
        }
    }
    dst.shutdown().await.map_err(Stop::Io)
}

/// Wait until the chunk may go: not blackholed, and its latency (as set now) has passed.
async fn wait_for_delivery(faults: &mut watch::Receiver<FaultState>, flow: Flow, read_at: Instant) {
    loop {
        let now = *faults.borrow_and_update().flow(flow);
        if now.blackhole {
            changed(faults).await;
            continue;
        }
        let due = read_at + now.latency.unwrap_or_default();
        if Instant::now() >= due {
            return;
        }
        tokio::select! {
            () = sleep_until(due) => return,
            () = changed(faults) => {}
        }
    }
}

async fn wait_while_blackholed(faults: &mut watch::Receiver<FaultState>, flow: Flow) {
    while faults.borrow_and_update().flow(flow).blackhole {
        changed(faults).await;
    }
}

/// The next change of fault state; never, once the proxy is gone (cancellation ends us then).
pub(crate) async fn changed(faults: &mut watch::Receiver<FaultState>) {
    if faults.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}
