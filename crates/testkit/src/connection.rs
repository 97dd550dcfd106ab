//! One proxied connection: the WebSocket-upgrade check, the upstream dial, the four pumps, and
//! how the connection ends (plain close, RST, or as the peers themselves closed it).

use std::{net::SocketAddr, sync::Arc};

use tokio::{io::AsyncWriteExt, net::TcpStream, sync::mpsc};
use tokio_util::sync::CancellationToken;

use crate::{
    control::{Counters, Shared},
    fault::{FaultState, Flow},
    http,
    pump::{self, Chunk, Stop, QUEUE},
};

/// What the accept loop saw when it took the connection.
pub(crate) struct Admission {
    pub upstream: SocketAddr,
    pub reject_ws_upgrade: bool,
    pub reset_epoch: u64,
    pub drop_epoch: u64,
}

impl Admission {
    pub fn from_state(state: &FaultState) -> Self {
        Self {
            upstream: state.upstream_addr,
            reject_ws_upgrade: state.reject_ws_upgrade,
            reset_epoch: state.reset.epoch,
            drop_epoch: state.drop_epoch,
        }
    }
}

/// How a connection ended, which decides how its sockets are closed.
enum End {
    /// Both directions saw EOF and were shut down in turn.
    Finished,
    /// The proxy is stopping, `drop_all` was called, or `CloseAfter` hit its count.
    Close(&'static str),
    /// `Reset`: RST on the sides named.
    Reset { client: bool, upstream: bool },
    /// A socket failed; pass the abort on to both sides.
    Failed(std::io::Error),
}

/// Counts a connection as live for as long as its task exists (also when aborted).
struct Live<'a>(&'a Counters);

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0
            .live
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

pub(crate) async fn serve(
    mut client: TcpStream,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    admission: Admission,
) {
    Counters::bump(&shared.counters.live, 1);
    let _live = Live(&shared.counters);
    let _ = client.set_nodelay(true);

    let mut prefix = Vec::new();
    if admission.reject_ws_upgrade {
        let head = tokio::select! {
            () = cancel.cancelled() => return,
            _ = events(&shared, &admission) => return,
            head = http::read_head(&mut client) => head,
        };
        match head {
            Ok(head) if http::is_websocket_upgrade(&head) => {
                Counters::bump(&shared.counters.upgrades_rejected, 1);
                let _ = client.write_all(http::FORBIDDEN).await;
                let _ = client.shutdown().await;
                return;
            }
            Ok(head) => prefix = head,
            Err(_) => return,
        }
    }

    let dialled = tokio::select! {
        () = cancel.cancelled() => return,
        _ = events(&shared, &admission) => return,
        dialled = TcpStream::connect(admission.upstream) => dialled,
    };
    let mut upstream = match dialled {
        Ok(upstream) => upstream,
        Err(error) => {
            tracing::debug!(%error, upstream = %admission.upstream, "proxy cannot dial upstream");
            return;
        }
    };
    let _ = upstream.set_nodelay(true);

    let end = pump_both(
        &mut client,
        &mut upstream,
        prefix,
        &shared,
        &cancel,
        &admission,
    )
    .await;
    let (rst_client, rst_upstream) = match end {
        End::Finished => (false, false),
        End::Close(why) => {
            tracing::debug!(why, "proxy closing connection");
            (false, false)
        }
        End::Reset { client, upstream } => {
            tracing::debug!(client, upstream, "proxy resetting connection");
            (client, upstream)
        }
        End::Failed(error) => {
            tracing::debug!(%error, "proxied connection failed; aborting both sides");
            (true, true)
        }
    };
    close(client, rst_client).await;
    close(upstream, rst_upstream).await;
}

async fn pump_both(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
    prefix: Vec<u8>,
    shared: &Shared,
    cancel: &CancellationToken,
    admission: &Admission,
) -> End {
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    let (up_tx, up_rx) = mpsc::channel(QUEUE);
    let (down_tx, down_rx) = mpsc::channel(QUEUE);
    if !prefix.is_empty() {
        // The inspected request head goes first, through the same faults as everything else;
        // the queue is fresh, so there is room.
        let _ = up_tx.try_send(Chunk::new(prefix));
    }
    let counters = &shared.counters;
    let pumps = async {
        tokio::try_join!(
            pump::read_side(client_read, up_tx, Flow::Upstream, shared.state.subscribe()),
            pump::write_side(
                upstream_write,
                up_rx,
                Flow::Upstream,
                shared.state.subscribe(),
                (&counters.bytes_upstream, &counters.writes_upstream)
            ),
            pump::read_side(
                upstream_read,
                down_tx,
                Flow::Downstream,
                shared.state.subscribe()
            ),
            pump::write_side(
                client_write,
                down_rx,
                Flow::Downstream,
                shared.state.subscribe(),
                (&counters.bytes_downstream, &counters.writes_downstream)
            ),
        )
    };
    tokio::select! {
        ended = pumps => match ended {
            Ok(_) => End::Finished,
            Err(Stop::CloseAfter) => End::Close("close-after"),
            Err(Stop::Io(error)) => End::Failed(error),
        },
        end = events(shared, admission) => end,
        () = cancel.cancelled() => End::Close("proxy stopped"),
    }
}

/// Wait for a one-shot event newer than this connection: `Reset` or `drop_all`.
async fn events(shared: &Shared, admission: &Admission) -> End {
    let mut faults = shared.state.subscribe();
    loop {
        {
            let now = faults.borrow_and_update();
            if now.reset.epoch != admission.reset_epoch {
                return End::Reset {
                    client: now.reset.downstream,
                    upstream: now.reset.upstream,
                };
            }
            if now.drop_epoch != admission.drop_epoch {
                return End::Close("drop_all");
            }
        }
        pump::changed(&mut faults).await;
    }
}

/// Close a socket: RST (`SO_LINGER 0`, then drop) or a plain FIN.
async fn close(mut socket: TcpStream, abort: bool) {
    if abort {
        let _ = socket.set_zero_linger();
    } else {
        let _ = socket.shutdown().await;
    }
    drop(socket);
}
