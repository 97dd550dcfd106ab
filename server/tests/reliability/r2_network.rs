//! R2: every fault of the proxy, in each direction, during a burst between three sessions that
//! all connect through it (short: one episode each; long: 100 episodes, faults and parameters
//! drawn from the seed). After each episode the fault is lifted and the sessions must recover by
//! themselves: every send acked, every message shown once; at the end the R1 invariant holds.
//! During each episode a probe shows the fault took effect (`probe.rs`). On a cluster (issue
//! 17; built with `postgres,redis`): two nodes on PostgreSQL and Redis, a fault proxy in front
//! of each, the sessions spread over both, each fault on both proxies at once.

use std::time::{Duration, Instant};

use crate::gen::Rng;
use natter_testkit::{Direction, Fault};

use crate::chat::Chat;
use crate::harness::{long, seed};
use crate::probe;

/// How long each fault stands while the burst goes on.
const HOLD: Duration = Duration::from_millis(1_500);
const TICK: Duration = Duration::from_millis(100);

fn fault(kind: usize, rng: &mut Rng) -> Fault {
    match kind % 6 {
        0 => Fault::Latency(Duration::from_millis(50 + rng.below(400) as u64)),
        1 => Fault::Bandwidth(500 + rng.below(20_000) as u64),
        2 => Fault::Blackhole,
        3 => Fault::Reset,
        4 => Fault::Slice1,
        _ => Fault::CloseAfter(1 + rng.below(4_000) as u64),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_network_faults_both_directions() {
    let _serial = crate::harness::serial().await;
    let dir = tempfile::tempdir().expect("a data dir");
    let chat = Chat::start(dir.path(), &["eve", "fay", "gus"], true).await;
    let episodes = if long() { 100 } else { 12 };
    fault_loop("R2", chat, episodes).await;
}

#[cfg(all(feature = "postgres", feature = "redis"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_cluster_network_faults_both_directions() {
    let _serial = crate::harness::serial().await;
    let chat = Chat::start_cluster(&["eve", "fay", "gus", "hal"], true).await;
    let episodes = if long() { 100 } else { 12 };
    fault_loop("R2 cluster", chat, episodes).await;
}

/// `episodes` faults, each held during a burst and then lifted; then the checks.
async fn fault_loop(name: &str, mut chat: Chat, episodes: usize) {
    let mut rng = Rng::new(seed(name));
    let proxies: Vec<_> = chat
        .nodes
        .iter()
        .map(|n| n.proxy.as_ref().expect("the proxy").control())
        .collect();
    // The probe goes through node 0's proxy; the others carry the same fault.
    let (proxy, proxy_addr) = (
        proxies[0].clone(),
        chat.nodes[0].proxy.as_ref().expect("the proxy").addr(),
    );
    let mut worst = Duration::ZERO;
    let started = Instant::now();
    for episode in 0..episodes {
        // Short form: each of the 6 faults upstream, then each downstream.
        let (kind, direction) = if long() {
            let d = *rng.pick(&[Direction::Upstream, Direction::Downstream, Direction::Both]);
            (rng.below(6), d)
        } else if episode < 6 {
            (episode, Direction::Upstream)
        } else {
            (episode - 6, Direction::Downstream)
        };
        let f = fault(kind, &mut rng);
        let held = probe::Held::open(proxy_addr).await;
        for p in &proxies {
            p.set(direction, f);
        }
        let until = Instant::now() + HOLD;
        let burst = async {
            while Instant::now() < until {
                chat.send_round().await;
                tokio::time::sleep(TICK).await;
            }
        };
        // While the burst goes on, evidence that the fault acts (asserted inside).
        let ((), seen) = tokio::join!(
            burst,
            probe::fault_acts(proxy_addr, &proxy, direction, f, held)
        );
        for p in &proxies {
            p.clear();
        }
        let recovered = chat.settle().await;
        worst = worst.max(recovered);
        eprintln!(
            "{name}: episode {episode}: {f:?} {direction:?}: {seen}; recovered in {recovered:?}"
        );
    }
    let checked = chat.check().await;
    let connections: u64 = proxies.iter().map(|p| p.stats().connections_accepted).sum();
    eprintln!(
        "{name}: {episodes} fault episodes in {:?}; {checked} messages, each once everywhere; \
         worst recovery {worst:?}; the proxies saw {connections} connections; lost 0",
        started.elapsed(),
    );
    chat.finish().await;
}
