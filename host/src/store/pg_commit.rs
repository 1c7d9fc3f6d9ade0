//! The PostgreSQL committer: one thread per host takes every write pending
//! (up to `PG_BATCH_MAX`), checks and writes the whole batch in one
//! transaction with a fixed number of statements whatever its size, and
//! answers each writer after `COMMIT`.
//!
//! A batch of appends of any number of tenants costs two round trips, its
//! statements prepared once per connection and pipelined on the
//! committer's asynchronous connection (`pg_link.rs`): `BEGIN`, the lock of
//! the batch's tenant rows in name order (creating new tenants' rows) with
//! their last sequences, and the read of the batch's idempotency records and
//! stream versions go in one flight; then, after every append is checked in
//! memory in queue order (idempotency, expected sequence, expected stream
//! versions, broken chains), one statement writing everything (multi-row
//! inserts of events, stream versions, idempotency records and ledger
//! balances, and the update of the tenant rows, as data-modifying `WITH`
//! clauses) and `COMMIT` go in the second. A refused append writes nothing
//! and does not fail the others; a batch the database refuses is rolled
//! back whole, tried again, then append by append. Example: 40 payments of 4
//! tenants queued while the previous batch commits go in one transaction and
//! one WAL flush, sequences 101..=110 of each tenant, in queue order.
//!
//! A lost connection fails the batch's appends with `StoreError::Io`
//! (answered `503 store_unavailable`, safe to retry with the same
//! idempotency key: the batch may or may not have committed) and drops the
//! connection; the next batch connects again.

use super::codec;
use super::error::StoreError;
use super::event::{AppendOutcome, EVENT_FORMAT_VERSION};
use super::pg_link::{Conn, Link};
use super::pg_store::{
    BATCH_ATTEMPTS, IDEMPOTENCY_FORMAT_VERSION, PG_BATCH_MAX, WriteJob, db_error, record_of_row,
    retryable, to_i64, to_u64,
};
use super::planner::Done;
use super::prepare::{PreparedAppend, Work};
use super::traits::IdempotentRecord;
use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::types::ToSql;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc::Receiver;

/// Broken chains remembered per tenant (see `AppendRequest::chain`): a
/// writer starts a new chain as soon as it learns of the break, so only the
/// last few can still have appends queued.
const BROKEN_CHAINS_PER_TENANT_MAX: usize = 8;

/// The chains whose appends are refused from now on, per tenant.
#[derive(Debug, Clone, Default)]
pub(super) struct BrokenChains(HashMap<String, Vec<u64>>);

impl BrokenChains {
    fn contains(&self, tenant: &str, chain: Option<u64>) -> bool {
        chain.is_some_and(|chain| self.0.get(tenant).is_some_and(|c| c.contains(&chain)))
    }

    fn mark(&mut self, tenant: &str, chain: Option<u64>) {
        let Some(chain) = chain else { return };
        let chains = self.0.entry(tenant.to_string()).or_default();
        if !chains.contains(&chain) {
            if chains.len() >= BROKEN_CHAINS_PER_TENANT_MAX {
                chains.remove(0);
            }
            chains.push(chain);
        }
    }

    /// Marks the chain of every append of `works`.
    fn mark_all(&mut self, works: &[Work]) {
        for work in works {
            if let Work::Append(append) = work {
                self.mark(&append.tenant, append.chain);
            }
        }
    }
}

/// The committer thread: batches what is queued, commits, answers.
pub(super) fn run_committer(url: String, queue: Receiver<WriteJob>) {
    let mut link = Link::new(url);
    let mut broken = BrokenChains::default();
    while let Ok(job) = queue.recv() {
        let mut jobs = vec![job];
        while jobs.len() < PG_BATCH_MAX {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (works, replies): (Vec<Work>, Vec<_>) =
            jobs.into_iter().map(|job| (job.work, job.reply)).unzip();
        let started = std::time::Instant::now();
        let results = commit_works(&mut link, &works, &mut broken);
        crate::telemetry::commit_batch(works.len(), started.elapsed());
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

fn fail_all(
    works: &[Work],
    error: &StoreError,
    broken: &mut BrokenChains,
) -> Vec<Result<Done, StoreError>> {
    broken.mark_all(works);
    works.iter().map(|_| Err(error.clone())).collect()
}

/// Commits works as one transaction; if the database refuses it, tries each
/// alone.
pub(super) fn commit_works(
    link: &mut Link,
    works: &[Work],
    broken: &mut BrokenChains,
) -> Vec<Result<Done, StoreError>> {
    let mut last_error = None;
    for _ in 0..BATCH_ATTEMPTS {
        let mut attempt = broken.clone();
        let outcome =
            link.run(async |conn| commit_batch(conn, works, &mut attempt, Begin::Now).await);
        match outcome {
            Err(error) => return fail_all(works, &error, broken),
            Ok(Ok(results)) => {
                *broken = attempt;
                return results;
            }
            // No answer from the server (a lost connection): the batch may
            // or may not have committed, so it is not tried again, and the
            // connection is replaced before the next batch.
            Ok(Err(error)) if error.code().is_none() => {
                link.drop_connection();
                return fail_all(works, &db_error(error), broken);
            }
            Ok(Err(error)) => {
                let again = retryable(&error);
                last_error = Some(error);
                if !again {
                    break;
                }
            }
        }
    }
    if works.len() == 1 {
        let error = last_error.map(db_error).expect("an error was seen");
        return fail_all(works, &error, broken);
    }
    works
        .iter()
        .flat_map(|work| commit_works(link, std::slice::from_ref(work), broken))
        .collect()
}

/// What the batch has decided so far: the tenants' last sequences, stream
/// versions and idempotency records as the database has them plus what the
/// batch's earlier appends add, and the rows to write.
#[derive(Default)]
struct Batch {
    last: HashMap<String, u64>,
    versions: HashMap<(String, String), u64>,
    records: HashMap<(String, String), Result<IdempotentRecord, StoreError>>,
    events: EventRows,
    streams: BTreeMap<(String, String), u64>,
    keys: KeyRows,
    balances: BalanceRows,
}

#[derive(Default)]
struct EventRows {
    tenant: Vec<String>,
    sequence: Vec<i64>,
    stream: Vec<String>,
    stream_version: Vec<i64>,
    kind: Vec<String>,
    payload: Vec<String>,
    command_id: Vec<String>,
    actor: Vec<String>,
    issued_at: Vec<DateTime<Utc>>,
    key: Vec<Option<String>>,
}

#[derive(Default)]
struct KeyRows {
    tenant: Vec<String>,
    key: Vec<String>,
    hash: Vec<String>,
    response: Vec<String>,
    first: Vec<i64>,
    last: Vec<i64>,
}

#[derive(Default)]
struct BalanceRows {
    tenant: Vec<String>,
    account: Vec<String>,
    currency: Vec<String>,
    subledger: Vec<String>,
    debit: Vec<String>,
    credit: Vec<String>,
}

fn appends(works: &[Work]) -> impl Iterator<Item = &PreparedAppend> {
    works.iter().filter_map(|work| match work {
        Work::Append(append) => Some(append),
        _ => None,
    })
}

/// Whether a batch opens its transaction (the committer) or runs in one
/// already open (a tenant lock's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Begin {
    Now,
    Already,
}

/// Checks and writes `works` in one transaction and commits it (rolled back
/// on any error), in two pipelined flights: `BEGIN` (unless `Already`),
/// the tenant lock and the read of keys and streams; then, after every
/// append is checked in memory, the blobs in queue order, the write and
/// `COMMIT`.
pub(super) async fn commit_batch(
    conn: &Conn,
    works: &[Work],
    broken: &mut BrokenChains,
    begin: Begin,
) -> Result<Vec<Result<Done, StoreError>>, postgres::Error> {
    let result = batch_in(conn, works, broken, begin).await;
    if result.is_err() {
        conn.roll_back().await;
    }
    result
}

async fn batch_in(
    conn: &Conn,
    works: &[Work],
    broken: &mut BrokenChains,
    begin: Begin,
) -> Result<Vec<Result<Done, StoreError>>, postgres::Error> {
    let mut batch = Batch::default();
    let asked = BatchQuestions::of(works);
    let begin_now = async {
        match begin {
            Begin::Now => conn.client.batch_execute("BEGIN").await,
            Begin::Already => Ok(()),
        }
    };
    if asked.tenants.is_empty() {
        begin_now.await?;
    } else {
        let lock_params: [&(dyn ToSql + Sync); 1] = [&asked.tenants];
        let read_params: [&(dyn ToSql + Sync); 4] = [
            &asked.key_tenants,
            &asked.keys,
            &asked.stream_tenants,
            &asked.stream_names,
        ];
        let (_, locked, read) = tokio::try_join!(
            begin_now,
            conn.client.query(&conn.lock, &lock_params),
            conn.client.query(&conn.read, &read_params),
        )?;
        batch.answers(&locked, &read);
        // A tenant the lock statement did not return is new: created by
        // this transaction (its row is not in that statement's snapshot),
        // or by another host's transaction committed while the insert
        // waited for it. Read again, it is this transaction's row (at 0) or
        // the other host's, now locked.
        let unseen: Vec<&str> = asked
            .tenants
            .iter()
            .copied()
            .filter(|tenant| !batch.last.contains_key(*tenant))
            .collect();
        if !unseen.is_empty() {
            for row in conn.client.query(&conn.relock, &[&unseen]).await? {
                batch.last.insert(row.get(0), to_u64(row.get(1)));
            }
        }
    }
    let mut results = Vec::with_capacity(works.len());
    for work in works {
        let result = match work {
            Work::Append(append) => {
                let result = plan_append(append, &mut batch, broken);
                if !matches!(result, Ok(AppendOutcome::Committed { .. })) {
                    broken.mark(&append.tenant, append.chain);
                }
                result.map(Done::Append)
            }
            Work::PutBlob {
                tenant,
                namespace,
                key,
                value,
            } => {
                let bytes = codec::decode_blob(value).expect("encoded by prepare_put_blob");
                conn.client
                    .execute(&conn.put_blob, &[tenant, namespace, key, &bytes])
                    .await?;
                Ok(Done::PutBlob)
            }
            Work::DeleteBlob {
                tenant,
                namespace,
                key,
            } => {
                let deleted = conn
                    .client
                    .execute(&conn.delete_blob, &[tenant, namespace, key])
                    .await?;
                Ok(Done::DeleteBlob(deleted > 0))
            }
        };
        results.push(result);
    }
    if batch.events.sequence.is_empty() {
        conn.client.batch_execute("COMMIT").await?;
    } else {
        let columns = WriteColumns::of(&batch);
        let params = columns.params();
        tokio::try_join!(
            conn.client.execute(&conn.write, &params),
            conn.client.batch_execute("COMMIT"),
        )?;
    }
    Ok(results)
}

/// Locks the batch's tenant rows, creating those of new tenants (name
/// order, so two hosts never deadlock), and reads their last sequences:
/// one statement.
pub(super) const LOCK_TENANTS: &str = "WITH created AS (
         INSERT INTO premia_tenants (tenant)
         SELECT t FROM unnest($1::text[]) AS t ORDER BY t
         ON CONFLICT (tenant) DO NOTHING)
     SELECT tenant, last_sequence FROM premia_tenants
     WHERE tenant = ANY($1::text[]) ORDER BY tenant FOR UPDATE";

/// The tenants the lock statement created or found created meanwhile, read
/// again (and locked) with a snapshot that sees them.
pub(super) const RELOCK_TENANTS: &str = "SELECT tenant, last_sequence FROM premia_tenants
     WHERE tenant = ANY($1::text[]) ORDER BY tenant FOR UPDATE";

/// The idempotency records of the batch's keys (`what` 0) and the versions
/// of the streams it names (`what` 1), read after the lock: one statement,
/// one primary-key lookup per key and stream (the `LIMIT 1` subqueries keep
/// the planner from joining the arrays to whole tables: a prepared
/// statement's generic plan would otherwise hash-join them, scanning tables
/// that only grow).
/// Columns: request_hash, response, first_sequence (a stream's version),
/// last_sequence, format_version, what, tenant, key (a stream's name).
pub(super) const KEYS_AND_STREAMS: &str =
    "SELECT i.request_hash, i.response::text, i.first_sequence,
            i.last_sequence, i.format_version, 0 AS what, i.tenant, i.key
     FROM unnest($1::text[], $2::text[]) AS u(t, k)
     CROSS JOIN LATERAL (SELECT * FROM premia_idempotency
                         WHERE tenant = u.t AND key = u.k LIMIT 1) AS i
     UNION ALL
     SELECT NULL::text, NULL::text, s.version, NULL::bigint, NULL::smallint, 1, s.tenant, s.stream
     FROM unnest($3::text[], $4::text[]) AS u(t, st)
     CROSS JOIN LATERAL (SELECT * FROM premia_streams
                         WHERE tenant = u.t AND stream = u.st LIMIT 1) AS s";

/// What a batch asks the database before it is checked: its tenants (to
/// lock, in name order), its idempotency keys and the streams it names.
///
/// A tenant new to the database is created by the lock statement but not
/// returned by it (its snapshot predates the row): it is read again with
/// [`RELOCK_TENANTS`].
struct BatchQuestions<'a> {
    tenants: Vec<&'a str>,
    key_tenants: Vec<&'a str>,
    keys: Vec<&'a str>,
    stream_tenants: Vec<&'a str>,
    stream_names: Vec<&'a str>,
}

impl<'a> BatchQuestions<'a> {
    fn of(works: &'a [Work]) -> Self {
        let tenants: Vec<&str> = appends(works)
            .map(|a| a.tenant.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (key_tenants, keys): (Vec<&str>, Vec<&str>) = appends(works)
            .filter_map(|a| Some((a.tenant.as_str(), a.idempotency_key.as_deref()?)))
            .unzip();
        let streams: BTreeSet<(&str, &str)> = appends(works)
            .flat_map(|a| {
                a.expected_versions
                    .iter()
                    .map(|(stream, _)| stream.as_str())
                    .chain(a.events.iter().map(|e| e.stream.as_str()))
                    .map(|stream| (a.tenant.as_str(), stream))
            })
            .collect();
        let (stream_tenants, stream_names): (Vec<&str>, Vec<&str>) = streams.into_iter().unzip();
        BatchQuestions {
            tenants,
            key_tenants,
            keys,
            stream_tenants,
            stream_names,
        }
    }
}

impl Batch {
    /// The database's answers: the locked tenants' last sequences
    /// ([`LOCK_TENANTS`]), the keys' records and the streams' versions
    /// ([`KEYS_AND_STREAMS`]).
    fn answers(&mut self, locked: &[Row], read: &[Row]) {
        for row in locked {
            self.last.insert(row.get(0), to_u64(row.get(1)));
        }
        for row in read {
            let what: i32 = row.get(5);
            let (tenant, name): (String, String) = (row.get(6), row.get(7));
            if what == 0 {
                let record = record_of_row(row, &tenant, &name);
                self.records.insert((tenant, name), record);
            } else {
                self.versions.insert((tenant, name), to_u64(row.get(2)));
            }
        }
    }
}

/// Checks one append against the batch so far (in queue order) and adds its
/// rows; a refusal adds nothing.
fn plan_append(
    append: &PreparedAppend,
    batch: &mut Batch,
    broken: &BrokenChains,
) -> Result<AppendOutcome, StoreError> {
    let tenant = &append.tenant;
    let current = batch.last.get(tenant).copied().unwrap_or(0);
    if broken.contains(tenant, append.chain) {
        return Err(StoreError::SequenceConflict {
            tenant: tenant.clone(),
            expected: append.expected_last_sequence.unwrap_or(current),
            actual: current,
        });
    }
    // A retry wins over everything else: its versions are stale by design.
    if let Some(key) = &append.idempotency_key {
        match batch.records.get(&(tenant.clone(), key.clone())) {
            Some(Err(error)) => return Err(error.clone()),
            Some(Ok(record)) if record.request_hash == append.request_hash => {
                return Ok(AppendOutcome::Replayed {
                    response: record.response.clone(),
                });
            }
            Some(Ok(_)) => return Err(StoreError::IdempotencyConflict { key: key.clone() }),
            None => {}
        }
    }
    if let Some(expected) = append.expected_last_sequence
        && expected != current
    {
        return Err(StoreError::SequenceConflict {
            tenant: tenant.clone(),
            expected,
            actual: current,
        });
    }
    let version_of = |batch: &Batch, stream: &str| {
        batch
            .versions
            .get(&(tenant.clone(), stream.to_string()))
            .copied()
            .unwrap_or(0)
    };
    for (stream, expected) in &append.expected_versions {
        let actual = version_of(batch, stream);
        if actual != *expected {
            return Err(StoreError::VersionConflict {
                stream: stream.clone(),
                expected: *expected,
                actual,
            });
        }
    }

    let first_sequence = current + 1;
    let mut sequence = current;
    for prepared in &append.events {
        sequence += 1;
        let version = version_of(batch, &prepared.stream) + 1;
        let rows = &mut batch.events;
        rows.tenant.push(tenant.clone());
        rows.sequence.push(to_i64(sequence));
        rows.stream.push(prepared.stream.clone());
        rows.stream_version.push(to_i64(version));
        rows.kind.push(prepared.kind.clone());
        rows.payload.push(prepared.payload.get().to_string());
        rows.command_id.push(append.command_id.clone());
        rows.actor.push(append.actor.clone());
        rows.issued_at.push(append.issued_at);
        rows.key.push(append.idempotency_key.clone());
        batch
            .versions
            .insert((tenant.clone(), prepared.stream.clone()), version);
        batch
            .streams
            .insert((tenant.clone(), prepared.stream.clone()), version);
    }
    if let Some(key) = &append.idempotency_key {
        let response_text = std::str::from_utf8(&append.response).expect("JSON is UTF-8");
        let keys = &mut batch.keys;
        keys.tenant.push(tenant.clone());
        keys.key.push(key.clone());
        keys.hash.push(append.request_hash.clone());
        keys.response.push(response_text.to_string());
        keys.first.push(to_i64(first_sequence));
        keys.last.push(to_i64(sequence));
        let record = IdempotentRecord {
            request_hash: append.request_hash.clone(),
            response: serde_json::from_str(response_text).expect("JSON parses"),
            first_sequence,
            last_sequence: sequence,
        };
        batch
            .records
            .insert((tenant.clone(), key.clone()), Ok(record));
    }
    for line in &append.balance_lines {
        let rows = &mut batch.balances;
        rows.tenant.push(tenant.clone());
        rows.account.push(line.account.clone());
        rows.currency.push(line.currency.clone());
        rows.subledger.push(line.subledger.clone());
        rows.debit.push(line.debit.to_string());
        rows.credit.push(line.credit.to_string());
    }
    batch.last.insert(tenant.clone(), sequence);
    Ok(AppendOutcome::Committed {
        first_sequence,
        last_sequence: sequence,
    })
}

/// Writes a batch's rows: its events, stream versions, idempotency records
/// and ledger balance lines, and its tenants' last sequences, in one
/// statement (data-modifying `WITH` clauses, each a multi-row insert of
/// arrays). Balance lines of one account, currency and subledger are summed
/// first; amounts go to the database as decimal text (`numeric`, exact).
pub(super) const WRITE_BATCH: &str = "WITH events AS (
         INSERT INTO premia_events (tenant, sequence, stream, stream_version, kind, payload,
                                    command_id, actor, issued_at, idempotency_key, format_version)
         SELECT u.t, u.s, u.st, u.v, u.k, u.p::jsonb, u.c, u.a, u.i, u.key, $11::smallint
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::timestamptz[], $10::text[])
              AS u(t, s, st, v, k, p, c, a, i, key)),
     streams AS (
         INSERT INTO premia_streams (tenant, stream, version)
         SELECT u.t, u.st, u.v FROM unnest($12::text[], $13::text[], $14::bigint[]) AS u(t, st, v)
         ON CONFLICT (tenant, stream) DO UPDATE SET version = excluded.version),
     keys AS (
         INSERT INTO premia_idempotency (tenant, key, request_hash, response,
                                         first_sequence, last_sequence, format_version)
         SELECT u.t, u.k, u.h, u.r::jsonb, u.f, u.l, $21::smallint
         FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[],
                     $20::bigint[]) AS u(t, k, h, r, f, l)),
     balances AS (
         INSERT INTO premia_ledger_balances AS b
                (tenant, account, currency, subledger, debits, credits)
         SELECT u.t, u.a, u.c, u.s, sum(u.d::numeric), sum(u.k::numeric)
         FROM unnest($22::text[], $23::text[], $24::text[], $25::text[], $26::text[],
                     $27::text[]) AS u(t, a, c, s, d, k)
         GROUP BY 1, 2, 3, 4
         ON CONFLICT (tenant, account, currency, subledger)
         DO UPDATE SET debits = b.debits + excluded.debits,
                       credits = b.credits + excluded.credits)
     UPDATE premia_tenants SET last_sequence = u.s
     FROM unnest($28::text[], $29::bigint[]) AS u(t, s)
     WHERE tenant = u.t AND last_sequence <> u.s";

/// The columns of [`WRITE_BATCH`]'s arrays that are not in the batch as
/// they are: stream versions, tenants' last sequences.
struct WriteColumns<'a> {
    batch: &'a Batch,
    format_version: i16,
    stream_tenants: Vec<&'a str>,
    stream_names: Vec<&'a str>,
    stream_tops: Vec<i64>,
    names: Vec<&'a str>,
    sequences: Vec<i64>,
}

impl<'a> WriteColumns<'a> {
    fn of(batch: &'a Batch) -> Self {
        let ((stream_tenants, stream_names), stream_tops): ((Vec<&str>, Vec<&str>), Vec<i64>) =
            batch
                .streams
                .iter()
                .map(|((tenant, stream), version)| {
                    ((tenant.as_str(), stream.as_str()), to_i64(*version))
                })
                .unzip();
        let (names, sequences): (Vec<&str>, Vec<i64>) = batch
            .last
            .iter()
            .map(|(tenant, sequence)| (tenant.as_str(), to_i64(*sequence)))
            .unzip();
        WriteColumns {
            batch,
            format_version: EVENT_FORMAT_VERSION as i16,
            stream_tenants,
            stream_names,
            stream_tops,
            names,
            sequences,
        }
    }

    /// [`WRITE_BATCH`]'s parameters, `$1` to `$29`.
    fn params(&self) -> [&(dyn ToSql + Sync); 29] {
        let (events, keys, lines) = (&self.batch.events, &self.batch.keys, &self.batch.balances);
        [
            &events.tenant,
            &events.sequence,
            &events.stream,
            &events.stream_version,
            &events.kind,
            &events.payload,
            &events.command_id,
            &events.actor,
            &events.issued_at,
            &events.key,
            &self.format_version,
            &self.stream_tenants,
            &self.stream_names,
            &self.stream_tops,
            &keys.tenant,
            &keys.key,
            &keys.hash,
            &keys.response,
            &keys.first,
            &keys.last,
            &IDEMPOTENCY_FORMAT_VERSION,
            &lines.tenant,
            &lines.account,
            &lines.currency,
            &lines.subledger,
            &lines.debit,
            &lines.credit,
            &self.names,
            &self.sequences,
        ]
    }
}

#[cfg(test)]
pub(super) mod tests;
