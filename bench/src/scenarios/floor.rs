//! The loopback floor: a 1-byte TCP echo over 127.0.0.1 inside this process, timed the same way
//! as the relay's round trips. No relay can answer faster than this on the same machine.

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::stats::{Recorder, Summary};

/// Times `rounds` echoes of one byte after `warmup` untimed ones.
pub async fn tcp_echo(rounds: usize, warmup: usize) -> std::io::Result<Summary> {
    Ok(tcp_echo_recorded(rounds, warmup).await?.summary())
}

/// [`tcp_echo`] with the whole distribution.
pub async fn tcp_echo_recorded(rounds: usize, warmup: usize) -> std::io::Result<Recorder> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let echo = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let mut byte = [0u8; 1];
        while socket.read_exact(&mut byte).await.is_ok() {
            socket.write_all(&byte).await?;
        }
        Ok::<_, std::io::Error>(())
    });
    let mut client = TcpStream::connect(addr).await?;
    client.set_nodelay(true)?;
    let mut recorder = Recorder::new();
    let mut byte = [0u8; 1];
    for n in 0..warmup + rounds {
        let start = Instant::now();
        client.write_all(&[1]).await?;
        client.read_exact(&mut byte).await?;
        if n >= warmup {
            recorder.record(start.elapsed());
        }
    }
    drop(client);
    echo.await.map_err(std::io::Error::other)??;
    Ok(recorder)
}
