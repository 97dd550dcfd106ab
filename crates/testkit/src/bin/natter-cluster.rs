//! `natter-cluster --relay BIN`: two relay nodes of BIN on a PostgreSQL and a Redis of their
//! own, with the shipped nginx site in front ([`natter_testkit::cluster`]), for tests written
//! in other languages (server/tests/interop/cluster.test.mjs). Prints one JSON line,
//! `{"nodes":["http://…","http://…"],"nginx":"http://…"}`, once everything answers; stops it
//! all when its stdin closes (the test process ended) or on SIGTERM / Ctrl-C.

use std::process::ExitCode;

use natter_testkit::cluster::{nginx_for, Cluster, Shared};

const USAGE: &str =
    "usage: natter-cluster --relay PATH-TO-natter-relay (built with --features postgres,redis)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let relay = match args.as_slice() {
        [flag, path] if flag == "--relay" => path.clone(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // The nodes see nginx (127.0.0.1) as a proxy, so per-address limits see its clients.
    let extra = ["--trusted-proxy", "127.0.0.1/32", "--log", "warn"];
    let cluster = match Cluster::start(&relay, Shared::Postgres, 2, &extra).await {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("natter-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs = cluster.addrs();
    let nginx = match nginx_for(addrs[0], addrs[1]) {
        Ok(nginx) => nginx,
        Err(e) => {
            eprintln!("natter-cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = serde_json::json!({
        "nodes": addrs.iter().map(|a| format!("http://{a}")).collect::<Vec<_>>(),
        "nginx": nginx.url(),
    });
    println!("{ready}");

    // Read on a thread of its own (tokio's stdin is not built here); EOF or an error ends it.
    let stdin_closed = async {
        let _ = tokio::task::spawn_blocking(|| {
            std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())
        })
        .await;
    };
    tokio::select! {
        () = stdin_closed => {}
        () = terminated() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(nginx);
    drop(cluster);
    // Not waiting for the stdin thread, which may still be blocked in its read.
    std::process::exit(0)
}

/// Resolves on SIGTERM (the default action would end this process without stopping the servers).
#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}
