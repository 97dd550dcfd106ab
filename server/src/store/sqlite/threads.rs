//! SQLite connections on threads of their own: a job (a closure over the connection) is handed
//! to a thread over a queue and its answer comes back on a oneshot, so blocking SQLite work
//! never runs on the async runtime. The readers and the writer are both this; the commit
//! stage (`commit.rs`) is a thread of its own too, with its batching loop.
//!
//! Why threads and rusqlite, not an async driver: sqlx ran each statement as a round trip to a
//! worker thread (and a pool checkout); here a job of several statements is one hand-off.
//! A reconnect storm of 10,000 sockets made 20,000 such round trips, on the same two cores as
//! the storm itself (ARCHITECTURE.md, "One SQLite driver").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::types::StoreError;

/// Jobs waiting for one thread; askers wait (asynchronously) beyond that.
const QUEUE: usize = 256;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Handle to a set of connection threads; they end when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Threads {
    queues: Arc<[mpsc::Sender<Job>]>,
    next: Arc<AtomicUsize>,
}

impl Threads {
    /// Starts one thread per connection, named `{name}-{n}`.
    pub fn start(name: &str, connections: Vec<Connection>) -> Result<Self, StoreError> {
        let mut queues = Vec::with_capacity(connections.len());
        for (n, conn) in connections.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(QUEUE);
            let thread = format!("{name}-{n}");
            std::thread::Builder::new()
                .name(thread.clone())
                .spawn(move || run(conn, &thread, rx))
                .map_err(|e| StoreError::Thread(format!("cannot start thread {name}: {e}")))?;
            queues.push(tx);
        }
        Ok(Self {
            queues: queues.into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Runs `job` on one of the threads (in turn) and returns its answer.
    pub async fn ask<T, E>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        E: Send + 'static,
        StoreError: From<E>,
    {
        let (done, wait) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The asker may have given up meanwhile; the answer is dropped then.
            let _ = done.send(job(conn));
        });
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        let stopped = || StoreError::Thread("a database thread stopped".into());
        self.queues[n].send(job).await.map_err(|_| stopped())?;
        Ok(wait.await.map_err(|_| stopped())??)
    }
}

fn run(mut conn: Connection, name: &str, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.blocking_recv() {
        job(&mut conn);
        // A job ends its transaction (commit, or rollback when dropped). One still open — a
        // ROLLBACK that failed after SQLITE_FULL or an I/O error — would hold the write lock and
        // make every later "commit" a no-op inside it (reliability test R3).
        if !conn.is_autocommit() {
            tracing::error!(
                thread = name,
                "a transaction was left open; rolling it back"
            );
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::error!(thread = name, error = %e, "rollback failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job that leaves its transaction open does not leave it to the next job.
    #[tokio::test]
    async fn a_transaction_left_open_is_rolled_back_after_its_job() {
        let conn = Connection::open_in_memory().expect("a database");
        conn.execute_batch("CREATE TABLE t (x INTEGER)")
            .expect("a table");
        let threads = Threads::start("test", vec![conn]).expect("a thread");
        threads
            .ask(|conn| conn.execute_batch("BEGIN; INSERT INTO t VALUES (1)"))
            .await
            .expect("begun and left open");
        let (open, rows) = threads
            .ask(|conn| {
                let rows: i64 = conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?;
                Ok::<_, rusqlite::Error>((!conn.is_autocommit(), rows))
            })
            .await
            .expect("asked");
        assert_eq!((open, rows), (false, 0), "rolled back before the next job");
    }
}
