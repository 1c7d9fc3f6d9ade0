//! Group commit: writers queue their prepared work to one committer thread,
//! which takes everything pending (no waiting for more: a lone writer is
//! committed at once), commits it as one batch made durable once, and then
//! answers every writer of the batch. While a batch is being synced the next
//! one queues up, so the cost of a sync is shared by all concurrent writers.

use super::error::StoreError;
use super::planner::Done;
use super::prepare::Work;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

/// The most requests in one commit batch.
pub const BATCH_REQUESTS_MAX: usize = 1_024;
/// The batch stops taking requests once it holds this many bytes.
pub const BATCH_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Commits a batch: plans every piece of work in order, writes the batch
/// atomically, makes it durable, and returns one result per piece of work.
pub(crate) trait Committer: Send + 'static {
    fn commit(&mut self, works: Vec<Work>) -> Vec<Result<Done, StoreError>>;
}

/// How much group commit has done since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Batches handed to the committer.
    pub batches: u64,
    /// Requests in those batches.
    pub requests: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    requests: AtomicU64,
}

struct Job {
    work: Work,
    reply: SyncSender<Result<Done, StoreError>>,
}

/// The queue to the committer thread; dropping it drains the queue and joins
/// the thread.
pub(crate) struct GroupCommit {
    sender: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("stats", &self.stats())
            .finish()
    }
}

impl GroupCommit {
    /// Starts the committer thread.
    pub(crate) fn start(committer: impl Committer) -> Result<Self, StoreError> {
        let (sender, receiver) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("premia-store-commit".to_string())
            .spawn(move || run(committer, receiver, &thread_counters))?;
        Ok(GroupCommit {
            sender: Some(sender),
            thread: Some(thread),
            counters,
        })
    }

    /// Queues work and waits until it is committed (durable) or refused.
    pub(crate) fn submit(&self, work: Work) -> Result<Done, StoreError> {
        wait_for(self.enqueue(work)?)
    }

    /// Queues work and returns at once; [`wait_for`] the answer. Work is
    /// committed in the order it is queued.
    pub(crate) fn enqueue(
        &self,
        work: Work,
    ) -> Result<Receiver<Result<Done, StoreError>>, StoreError> {
        let sender = self.sender.as_ref().ok_or(StoreError::Closed)?;
        let (reply, answer) = mpsc::sync_channel(1);
        sender
            .send(Job { work, reply })
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    /// What the committer has done so far.
    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            requests: self.counters.requests.load(Ordering::Relaxed),
        }
    }
}

/// Waits for the answer to queued work.
pub(crate) fn wait_for(answer: Receiver<Result<Done, StoreError>>) -> Result<Done, StoreError> {
    answer.recv().unwrap_or_else(|_| {
        Err(StoreError::Failed(
            "the committer thread stopped".to_string(),
        ))
    })
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            // A panic of the committer was already reported to its writers.
            let _ = thread.join();
        }
    }
}

fn run(mut committer: impl Committer, receiver: Receiver<Job>, counters: &Counters) {
    while let Ok(first) = receiver.recv() {
        let mut bytes = first.work.bytes();
        let mut jobs = vec![first];
        while jobs.len() < BATCH_REQUESTS_MAX && bytes < BATCH_BYTES_MAX {
            match receiver.try_recv() {
                Ok(job) => {
                    bytes += job.work.bytes();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters
            .requests
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        let (works, replies): (Vec<Work>, Vec<_>) =
            jobs.into_iter().map(|job| (job.work, job.reply)).unzip();
        let batch_appends = works.len();
        let started = std::time::Instant::now();
        let results = committer.commit(works);
        crate::telemetry::commit_batch(batch_appends, started.elapsed());
        debug_assert_eq!(results.len(), replies.len());
        for (reply, result) in replies.into_iter().zip(results) {
            // A writer that gave up waiting is not an error of the batch.
            let _ = reply.send(result);
        }
    }
}
