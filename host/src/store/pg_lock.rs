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
use super::pg_commit::{BrokenChains, LOCK_TENANTS, query, write_batch_in};
use super::pg_store::{URL, db_error, reader_client, to_u64};
use super::planner::Done;
use super::prepare::Work;
use postgres::Client;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
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
    URL.with(|slot| *slot.borrow_mut() = url);
    let mut client: Option<Client> = None;
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
            match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        if hold(&mut client, job) == Connection::Lost {
            // No answer from the server: the next lock connects again.
            client = None;
        }
    }
}

/// Opens a transaction holding the tenant's row; the tenant's last sequence.
fn lock_row<'a>(
    client: &'a mut Client,
    tenant: &str,
) -> Result<(postgres::Transaction<'a>, u64), postgres::Error> {
    let mut tx = client.transaction()?;
    let rows = query(&mut tx, LOCK_TENANTS, &[&[tenant].as_slice()])?;
    let last = rows.first().map(|row| to_u64(row.get(0))).unwrap_or(0);
    Ok((tx, last))
}

#[derive(PartialEq)]
enum Connection {
    Kept,
    Lost,
}

/// The connection's state after `error`, which goes to `reply`.
fn failed<T>(error: postgres::Error, reply: &SyncSender<Result<T, StoreError>>) -> Connection {
    let lost = error.code().is_none();
    let _ = reply.send(Err(db_error(error)));
    if lost {
        Connection::Lost
    } else {
        Connection::Kept
    }
}

fn hold(slot: &mut Option<Client>, job: LockJob) -> Connection {
    let client = match reader_client(slot) {
        Ok(client) => client,
        Err(error) => {
            let _ = job.locked.send(Err(error));
            return Connection::Lost;
        }
    };
    let locked = lock_row(client, &job.tenant);
    let (mut tx, last) = match locked {
        Ok(held) => held,
        Err(error) => return failed(error, &job.locked),
    };
    if job.locked.send(Ok(last)).is_err() {
        return Connection::Kept; // the holder is gone: rolled back
    }
    let work = match job
        .then
        .recv_timeout(Duration::from_millis(TENANT_LOCK_HOLD_MS_MAX))
    {
        Ok(work) => work,
        // Released without an append, or held too long: rolled back.
        Err(RecvTimeoutError::Disconnected | RecvTimeoutError::Timeout) => {
            return Connection::Kept;
        }
    };
    let written = write_batch_in(
        &mut tx,
        std::slice::from_ref(&work),
        &mut BrokenChains::default(),
    )
    .and_then(|results| {
        tx.commit()?;
        Ok(results)
    });
    match written {
        Ok(mut results) => {
            let _ = job.done.send(results.pop().expect("one result per work"));
            Connection::Kept
        }
        Err(error) => failed(error, &job.done),
    }
}

#[cfg(test)]
mod tests;
