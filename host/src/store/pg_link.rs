//! A writer thread's link to PostgreSQL (the committer's, each locker's):
//! its own single-threaded runtime and asynchronous connection, so that the
//! statements of a batch are **pipelined** (sent together, answered in
//! order) instead of waiting a round trip each, with the batch statements
//! prepared once per connection. Connected on first use, and again after a
//! lost connection.
//!
//! Example: a batch sends `BEGIN`, the tenant lock and the read of keys and
//! streams in one flight (the read still runs after the lock is granted:
//! the server executes a connection's statements in order, each read with
//! its own snapshot), then the write and `COMMIT` in a second flight: two
//! round trips and one WAL flush, where the synchronous client needs five.

use super::error::StoreError;
use super::pg_commit::{KEYS_AND_STREAMS, LOCK_TENANTS, RELOCK_TENANTS, WRITE_BATCH};
use super::pg_store::{SESSION_SETTINGS, db_error};
use postgres::Statement;
use tokio_postgres::{Client, NoTls};

pub(super) const PUT_BLOB: &str = "INSERT INTO premia_blobs (tenant, namespace, key, bytes)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant, namespace, key) DO UPDATE SET bytes = excluded.bytes";

pub(super) const DELETE_BLOB: &str =
    "DELETE FROM premia_blobs WHERE tenant = $1 AND namespace = $2 AND key = $3";

/// A connection with the batch statements prepared.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) lock: Statement,
    pub(super) relock: Statement,
    pub(super) read: Statement,
    pub(super) write: Statement,
    pub(super) put_blob: Statement,
    pub(super) delete_blob: Statement,
}

impl Conn {
    async fn open(url: &str) -> Result<Conn, postgres::Error> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client.batch_execute(SESSION_SETTINGS).await?;
        let (lock, relock, read, write, put_blob, delete_blob) = tokio::try_join!(
            client.prepare(LOCK_TENANTS),
            client.prepare(RELOCK_TENANTS),
            client.prepare(KEYS_AND_STREAMS),
            client.prepare(WRITE_BATCH),
            client.prepare(PUT_BLOB),
            client.prepare(DELETE_BLOB),
        )?;
        Ok(Conn {
            client,
            lock,
            relock,
            read,
            write,
            put_blob,
            delete_blob,
        })
    }

    /// Ends whatever transaction is open (after a failure), if the
    /// connection still answers.
    pub(super) async fn roll_back(&self) {
        if !self.client.is_closed() {
            let _ = self.client.batch_execute("ROLLBACK").await;
        }
    }
}

/// A thread's runtime and connection.
pub(super) struct Link {
    runtime: tokio::runtime::Runtime,
    url: String,
    conn: Option<Conn>,
}

impl Link {
    pub(super) fn new(url: String) -> Link {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a single-threaded runtime builds");
        Link {
            runtime,
            url,
            conn: None,
        }
    }

    /// Runs `work` with the connection (connecting first if there is none,
    /// or if it was lost).
    pub(super) fn run<T>(&mut self, work: impl AsyncFnOnce(&Conn) -> T) -> Result<T, StoreError> {
        if self
            .conn
            .as_ref()
            .is_none_or(|conn| conn.client.is_closed())
        {
            self.conn = None;
            let conn = self
                .runtime
                .block_on(Conn::open(&self.url))
                .map_err(db_error)?;
            self.conn = Some(conn);
        }
        let conn = self.conn.as_ref().expect("connected above");
        Ok(self.runtime.block_on(work(conn)))
    }

    /// Forgets the connection (lost): the next use connects again.
    pub(super) fn drop_connection(&mut self) {
        self.conn = None;
    }
}
