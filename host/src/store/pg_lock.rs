//! Tenant locks on PostgreSQL: a host that keeps losing races to another
//! host on one tenant stops racing and takes turns instead. It opens a
//! transaction that holds the tenant's row `FOR UPDATE` (every append of
//! every host takes that row lock first), catches up with the log, decides
//! its command, and commits the append in the same transaction: no other
//! host can append in between, so the append is never refused for a stale
//! sequence.
//!
//! Each lock is served by one of `LOCKERS` threads with its own
//! connection, for at most `TENANT_LOCK_HOLD_MS_MAX`: a lock its holder
//! neither uses nor releases in that time is rolled back, and a late append
//! on it fails with a retryable error. A lock holds one tenant row, so two
//! locks never wait for each other in a cycle; a batch of the committer
//! waits for it like for another host's batch.
//!
//! Example: hosts A and B both pay into tenant t. B commits sequence 101
//! while A's payment (decided at 100) is in flight: A's payment is refused
//! and A's tenant turns contended. A's next try locks t's row (B's next batch
//! for t now waits), finds the log at 101, applies B's event, decides the
//! payment as 102, commits it and releases the row.

use super::error::StoreError;
use super::pg_commit::{Begin, BrokenChains, commit_batch};
use super::pg_link::{Conn, Link};
use super::pg_store::{db_error, next_job, to_u64};
use super::planner::Done;
use super::prepare::Work;
use postgres::types::ToSql;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Threads (and connections) serving tenant locks, per host: how many
/// tenants a host can hold at once.
pub const LOCKERS: usize = 4;

/// The longest a tenant lock is held waiting for its append.
pub const TENANT_LOCK_HOLD_MS_MAX: u64 = 5_000;

/// A request to hold a tenant's row: answered on `locked` with the tenant's
/// last sequence once held, then the append arrives on `then` (a dropped
/// sender releases the lock) and its outcome goes to `done`.
pub(super) struct LockJob {
    pub(super) tenant: String,
    pub(super) locked: SyncSender<Result<u64, StoreError>>,
    pub(super) then: Receiver<Work>,
    pub(super) done: SyncSender<Result<Done, StoreError>>,
}

/// A locker thread: serves one lock at a time.
pub(super) fn run_locker(url: String, queue: Arc<Mutex<Receiver<LockJob>>>) {
    let mut link = Link::new(url);
    while let Some(job) = next_job(&queue) {
        hold(&mut link, job);
    }
}

/// Opens a transaction holding the tenant's row (creating it if new): the
/// tenant's last sequence. `BEGIN` and the lock go in one flight.
async fn lock_row(conn: &Conn, tenant: &str) -> Result<u64, postgres::Error> {
    let tenants = [tenant];
    let tenants = tenants.as_slice();
    let params: [&(dyn ToSql + Sync); 1] = [&tenants];
    let locked = tokio::try_join!(
        conn.client.batch_execute("BEGIN"),
        conn.client.query(&conn.lock, &params),
    );
    let rows = match locked {
        // A new tenant's row is not in the lock statement's snapshot.
        Ok((_, rows)) if rows.is_empty() => conn.client.query(&conn.relock, &params).await,
        Ok((_, rows)) => Ok(rows),
        Err(error) => Err(error),
    };
    match rows {
        Ok(rows) => Ok(rows.first().map(|row| to_u64(row.get(1))).unwrap_or(0)),
        Err(error) => {
            conn.roll_back().await;
            Err(error)
        }
    }
}

/// Sends `error` to `reply`; forgets the connection if it was lost.
fn failed<T>(link: &mut Link, error: postgres::Error, reply: &SyncSender<Result<T, StoreError>>) {
    if error.code().is_none() {
        link.drop_connection();
    }
    let _ = reply.send(Err(db_error(error)));
}

fn hold(link: &mut Link, job: LockJob) {
    let last = match link.run(async |conn| lock_row(conn, &job.tenant).await) {
        Ok(Ok(last)) => last,
        Ok(Err(error)) => return failed(link, error, &job.locked),
        Err(error) => {
            let _ = job.locked.send(Err(error));
            return;
        }
    };
    let work = if job.locked.send(Ok(last)).is_ok() {
        // Released without an append (a dropped sender), or held too long.
        job.then
            .recv_timeout(Duration::from_millis(TENANT_LOCK_HOLD_MS_MAX))
            .ok()
    } else {
        None // the holder is gone
    };
    let Some(work) = work else {
        let _ = link.run(async |conn| conn.roll_back().await);
        return;
    };
    let written = link.run(async |conn| {
        commit_batch(
            conn,
            std::slice::from_ref(&work),
            &mut BrokenChains::default(),
            Begin::Already,
        )
        .await
    });
    match written {
        Ok(Ok(mut results)) => {
            let _ = job.done.send(results.pop().expect("one result per work"));
        }
        Ok(Err(error)) => failed(link, error, &job.done),
        Err(error) => {
            let _ = job.done.send(Err(error));
        }
    }
}

#[cfg(test)]
mod tests;
