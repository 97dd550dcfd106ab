//! The bare-socketioxide benchmark peer as a process of its own, so the bench can measure its
//! memory and CPU apart: `natter-peer-socketioxide [--bind 127.0.0.1:0]`. Prints
//! "natter-peer-socketioxide listening on HOST:PORT" once it listens.

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut bind = String::from("127.0.0.1:0");
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--bind", Some(value)) => bind = value,
            _ => anyhow::bail!("usage: natter-peer-socketioxide [--bind HOST:PORT]"),
        }
    }
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            let addr = listener.local_addr()?;
            println!("natter-peer-socketioxide listening on {addr}");
            natter_bench::peers::sioxide::serve(listener)
                .await
                .context("serve")
        })
}
