//! Coalesced probes on PostgreSQL: the questions every command and read of
//! a shared store asks first — "where does this tenant's log end?" (the
//! freshness check before a read or a decision) and "was this idempotency
//! key committed?" — answered for everybody waiting with one statement.
//!
//! One prober thread per host takes every probe queued (up to
//! `PROBE_BATCH_MAX`), asks the database once for all their tenants
//! (`tenant = ANY($1)`) and all their keys (`unnest` joined laterally), in
//! one statement and one round trip, and answers each. A probe queued while
//! a round runs waits for the next one, so every answer reflects at least
//! what was committed (by any host) when the probe was asked: coalescing
//! never serves a stale answer.
//!
//! Example: 40 requests of 4 tenants arrive while one round runs; the next
//! round answers their 40 freshness checks and their 40 key checks with one
//! statement of 4 tenants and 40 keys, where asking one by one costs 80
//! queries.

use super::error::StoreError;
use super::pg_store::{URL, db_error, prepared, reader_client, record_of_row, to_u64};
use super::traits::{IdempotentRecord, Probed};
use postgres::Client;
use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::{Receiver, SyncSender};

/// Probes answered by one round (at most one query of each kind).
pub const PROBE_BATCH_MAX: usize = 512;

/// A question for the prober, with where to send the answer.
pub(super) enum Probe {
    /// The tenant's last committed sequence (0 for a tenant with no log).
    Last {
        tenant: String,
        reply: SyncSender<Result<u64, StoreError>>,
    },
    /// Both: the tenant's last sequence and its key's record.
    Both {
        tenant: String,
        key: Option<String>,
        reply: SyncSender<Result<Probed, StoreError>>,
    },
    /// The idempotency record of the tenant's key, if committed.
    Key {
        tenant: String,
        key: String,
        reply: SyncSender<Result<Option<IdempotentRecord>, StoreError>>,
    },
}

/// One round's question, one statement: the tenants' last sequences (rows
/// whose `key` is NULL, the sequence in the fourth column) and the
/// committed keys' records (rows laid out as [`record_of_row`] reads them,
/// with their tenant and key).
const ROUND: &str = "SELECT NULL::text, NULL::text, NULL::bigint, t.last_sequence,
            NULL::smallint, t.tenant, NULL::text
     FROM premia_tenants t WHERE t.tenant = ANY($1::text[])
     UNION ALL
     SELECT i.request_hash, i.response::text, i.first_sequence,
            i.last_sequence, i.format_version, i.tenant, i.key
     FROM unnest($2::text[], $3::text[]) AS u(t, k)
     CROSS JOIN LATERAL (SELECT * FROM premia_idempotency
                         WHERE tenant = u.t AND key = u.k LIMIT 1) AS i";

/// The prober thread: answers what is queued, a round at a time.
pub(super) fn run_prober(url: String, queue: Receiver<Probe>) {
    URL.with(|slot| *slot.borrow_mut() = url);
    let mut client: Option<Client> = None;
    while let Ok(probe) = queue.recv() {
        let mut probes = vec![probe];
        while probes.len() < PROBE_BATCH_MAX {
            match queue.try_recv() {
                Ok(probe) => probes.push(probe),
                Err(_) => break,
            }
        }
        crate::telemetry::probe_batch(probes.len());
        answer_round(&mut client, probes);
    }
}

fn answer_round(slot: &mut Option<Client>, probes: Vec<Probe>) {
    let mut tenants = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for probe in &probes {
        match probe {
            Probe::Last { tenant, .. } => {
                tenants.insert(tenant.as_str());
            }
            Probe::Key { tenant, key, .. } => {
                keys.insert((tenant.as_str(), key.as_str()));
            }
            Probe::Both { tenant, key, .. } => {
                tenants.insert(tenant.as_str());
                if let Some(key) = key {
                    keys.insert((tenant.as_str(), key.as_str()));
                }
            }
        }
    }
    let answers = match reader_client(slot) {
        Ok(client) => match query_round(client, &tenants, &keys) {
            Ok(answers) => Ok(answers),
            Err(error) => {
                // No answer from the server: the connection is gone; the
                // next round connects again.
                if error.code().is_none() {
                    *slot = None;
                }
                Err(db_error(error))
            }
        },
        Err(error) => Err(error),
    };
    match answers {
        Ok((lasts, records)) => {
            for probe in probes {
                match probe {
                    Probe::Last { tenant, reply } => {
                        let _ = reply.send(Ok(lasts.get(&tenant).copied().unwrap_or(0)));
                    }
                    Probe::Key { tenant, key, reply } => {
                        let record = records.get(&(tenant, key)).cloned().transpose();
                        let _ = reply.send(record);
                    }
                    Probe::Both { tenant, key, reply } => {
                        let last_sequence = lasts.get(&tenant).copied().unwrap_or(0);
                        let record = match key {
                            Some(key) => records.get(&(tenant, key)).cloned().transpose(),
                            None => Ok(None),
                        };
                        let _ = reply.send(record.map(|record| Probed {
                            last_sequence,
                            record,
                        }));
                    }
                }
            }
        }
        Err(error) => {
            for probe in probes {
                match probe {
                    Probe::Last { reply, .. } => {
                        let _ = reply.send(Err(error.clone()));
                    }
                    Probe::Key { reply, .. } => {
                        let _ = reply.send(Err(error.clone()));
                    }
                    Probe::Both { reply, .. } => {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

type Records = HashMap<(String, String), Result<IdempotentRecord, StoreError>>;

fn query_round(
    client: &mut Client,
    tenants: &BTreeSet<&str>,
    keys: &BTreeSet<(&str, &str)>,
) -> Result<(HashMap<String, u64>, Records), postgres::Error> {
    let names: Vec<&str> = tenants.iter().copied().collect();
    let (key_tenants, key_names): (Vec<&str>, Vec<&str>) = keys.iter().copied().unzip();
    let statement = prepared(client, ROUND)?;
    let mut lasts = HashMap::new();
    let mut records = HashMap::new();
    for row in client.query(&statement, &[&names, &key_tenants, &key_names])? {
        let tenant: String = row.get(5);
        match row.get::<_, Option<String>>(6) {
            None => {
                lasts.insert(tenant, to_u64(row.get(3)));
            }
            Some(key) => {
                let record = record_of_row(&row, &tenant, &key);
                records.insert((tenant, key), record);
            }
        }
    }
    Ok((lasts, records))
}

#[cfg(test)]
mod tests;
