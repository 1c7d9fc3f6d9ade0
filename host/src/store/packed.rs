//! Packed records of the embedded layout (`codec`): the events of one commit
//! batch stored under one key (an *event chunk*), and a stream's entries of
//! one batch stored under one key (a *stream run*). A batch of 256 events
//! over 86 accounts is then 1 event insert and 87 stream-index inserts into
//! the ordered map instead of 512: what a sled insert costs (walking the
//! tree, copying the leaf it changes, splitting leaves of 16 entries and
//! their 256-entry parents) is paid per key, not per byte.
//!
//! Both are read beside the single records written before them (format
//! version 1), so a store keeps its layout version: an event chunk is
//! format version 2 of an event record, a stream run version 2 of a stream
//! index entry.
//!
//! - event chunk, under `e tenant \0 first:u64be`:
//!   `[v=2][count u32][len u32][event value] * count`, each event value the
//!   version-1 record of the event with sequence `first + i`;
//! - stream run, under `s tenant \0 stream \0 first_version:u64be`:
//!   `[v=2][count u32][sequence u64] * count`, the sequences of stream
//!   versions `first_version + i`.
//!
//! Example: a batch appends sequences 41..=43 (an invoice on `account/A-1`
//! at its version 7, its journal entry on `ledger` at version 20, the
//! account's `billed_through` at version 8): one chunk under `e acme 41`
//! holding the three events, a run under `s acme account/A-1 7` holding
//! `[41, 43]` and one under `s acme ledger 20` holding `[42]`.

use super::codec::STREAM_FORMAT_VERSION;
use super::error::StoreError;
use super::event::EVENT_FORMAT_VERSION;

/// Format version of an event chunk (an event record of several events).
pub(crate) const EVENT_CHUNK_FORMAT_VERSION: u16 = 2;
/// Format version of a stream run (a stream index entry of several versions).
pub(crate) const STREAM_RUN_FORMAT_VERSION: u16 = 2;

/// The most bytes of events one chunk holds before the next starts (a chunk
/// holds at least one event, whatever its size).
pub(crate) const CHUNK_BYTES_MAX: usize = 256 * 1024;
/// The most events of one chunk.
pub(crate) const CHUNK_EVENTS_MAX: usize = 4_096;
/// The most sequences of one stream run.
pub(crate) const RUN_SEQUENCES_MAX: usize = 1_024;

const HEADER_BYTES: usize = 6;

fn version_of(what: &'static str, value: &[u8]) -> Result<u16, StoreError> {
    value
        .get(0..2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| StoreError::Corrupt(format!("{what} has no format version")))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} is truncated"))
}

fn read_u32(bytes: &[u8], at: usize, what: &str) -> Result<usize, StoreError> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
        .ok_or_else(|| corrupt(what))
}

/// An event chunk being built by the committer.
#[derive(Debug)]
pub(crate) struct ChunkBuilder {
    first: u64,
    count: usize,
    value: Vec<u8>,
}

impl ChunkBuilder {
    /// A chunk whose first event has `first` as its sequence.
    pub(crate) fn new(first: u64) -> Self {
        let mut value = Vec::with_capacity(16 * 1024);
        value.extend_from_slice(&EVENT_CHUNK_FORMAT_VERSION.to_be_bytes());
        value.extend_from_slice(&0u32.to_be_bytes());
        ChunkBuilder {
            first,
            count: 0,
            value,
        }
    }

    /// The sequence the next event must have.
    pub(crate) fn next(&self) -> u64 {
        self.first + self.count as u64
    }

    /// Whether an event of `bytes` would still go into this chunk.
    pub(crate) fn fits(&self, bytes: usize) -> bool {
        self.count == 0
            || (self.count < CHUNK_EVENTS_MAX && self.value.len() + 4 + bytes <= CHUNK_BYTES_MAX)
    }

    /// Adds the next event (its whole version-1 record).
    pub(crate) fn push(&mut self, event_value: &[u8]) {
        let len = u32::try_from(event_value.len()).expect("an event is smaller than 4 GiB");
        self.value.extend_from_slice(&len.to_be_bytes());
        self.value.extend_from_slice(event_value);
        self.count += 1;
    }

    /// The first sequence and the chunk's value.
    pub(crate) fn finish(mut self) -> (u64, Vec<u8>) {
        assert!(self.count > 0, "an empty event chunk");
        let count = u32::try_from(self.count).expect("CHUNK_EVENTS_MAX fits in u32");
        self.value[2..6].copy_from_slice(&count.to_be_bytes());
        (self.first, self.value)
    }
}

/// The events of an event record stored under `first`: one (`[sequence,
/// value]`) for a single record, each of a chunk's with its sequence.
pub(crate) fn event_values(first: u64, value: &[u8]) -> Result<Vec<(u64, &[u8])>, StoreError> {
    const WHAT: &str = "an event chunk";
    match version_of("event", value)? {
        EVENT_CHUNK_FORMAT_VERSION => {
            let count = read_u32(value, 2, WHAT)?;
            let mut events = Vec::with_capacity(count.min(CHUNK_EVENTS_MAX));
            let mut at = HEADER_BYTES;
            for i in 0..count {
                let len = read_u32(value, at, WHAT)?;
                let event = value
                    .get(at + 4..at + 4 + len)
                    .ok_or_else(|| corrupt(WHAT))?;
                events.push((first + i as u64, event));
                at += 4 + len;
            }
            if at != value.len() || count == 0 {
                return Err(StoreError::Corrupt(format!(
                    "{WHAT} under sequence {first} has {count} events and {} bytes more",
                    value.len() - at
                )));
            }
            Ok(events)
        }
        // A single event (or an unknown version, which its decoder refuses).
        _ => Ok(vec![(first, value)]),
    }
}

/// The sequences of a stream index record stored under `first_version`:
/// `(version, sequence)` for each.
pub(crate) fn stream_entries(
    first_version: u64,
    value: &[u8],
) -> Result<Vec<(u64, u64)>, StoreError> {
    const WHAT: &str = "a stream run";
    let version = version_of("stream index entry", value)?;
    match version {
        STREAM_RUN_FORMAT_VERSION => {
            let count = read_u32(value, 2, WHAT)?;
            if count == 0 || value.len() != HEADER_BYTES + 8 * count {
                return Err(StoreError::Corrupt(format!(
                    "{WHAT} of {count} sequences has {} bytes",
                    value.len()
                )));
            }
            Ok((0..count)
                .map(|i| {
                    let at = HEADER_BYTES + 8 * i;
                    let sequence = u64::from_be_bytes(value[at..at + 8].try_into().expect("8"));
                    (first_version + i as u64, sequence)
                })
                .collect())
        }
        STREAM_FORMAT_VERSION => {
            let sequence =
                super::codec::decode_u64("stream index entry", value, STREAM_FORMAT_VERSION)?;
            Ok(vec![(first_version, sequence)])
        }
        version => Err(StoreError::UnsupportedFormatVersion {
            what: "stream index entry",
            version,
        }),
    }
}

/// Encodes a stream run of `sequences` (at least one).
pub(crate) fn encode_stream_run(sequences: &[u64]) -> Vec<u8> {
    assert!(!sequences.is_empty(), "an empty stream run");
    assert!(
        sequences.len() <= RUN_SEQUENCES_MAX,
        "a stream run too long"
    );
    let count = u32::try_from(sequences.len()).expect("RUN_SEQUENCES_MAX fits in u32");
    let mut value = Vec::with_capacity(HEADER_BYTES + 8 * sequences.len());
    value.extend_from_slice(&STREAM_RUN_FORMAT_VERSION.to_be_bytes());
    value.extend_from_slice(&count.to_be_bytes());
    for sequence in sequences {
        value.extend_from_slice(&sequence.to_be_bytes());
    }
    value
}

const _: () = assert!(EVENT_CHUNK_FORMAT_VERSION != EVENT_FORMAT_VERSION);
const _: () = assert!(STREAM_RUN_FORMAT_VERSION != STREAM_FORMAT_VERSION);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_gives_back_its_events_with_consecutive_sequences() {
        let mut chunk = ChunkBuilder::new(41);
        chunk.push(b"first");
        chunk.push(b"");
        chunk.push(b"third");
        assert_eq!(chunk.next(), 44);
        let (first, value) = chunk.finish();
        assert_eq!(first, 41);
        assert_eq!(
            event_values(first, &value).unwrap(),
            vec![(41, &b"first"[..]), (42, &b""[..]), (43, &b"third"[..])]
        );
    }

    #[test]
    fn a_truncated_chunk_is_corrupt() {
        let mut chunk = ChunkBuilder::new(1);
        chunk.push(b"abcdef");
        let (_, value) = chunk.finish();
        assert!(matches!(
            event_values(1, &value[..value.len() - 1]),
            Err(StoreError::Corrupt(_))
        ));
        let mut longer = value.clone();
        longer.push(0);
        assert!(matches!(
            event_values(1, &longer),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn a_chunk_is_closed_by_its_byte_and_event_limits_but_takes_one_event_of_any_size() {
        let mut chunk = ChunkBuilder::new(1);
        assert!(chunk.fits(CHUNK_BYTES_MAX * 2));
        chunk.push(&vec![0; CHUNK_BYTES_MAX - 100]);
        assert!(chunk.fits(80));
        assert!(!chunk.fits(100));
        let mut many = ChunkBuilder::new(1);
        for _ in 0..CHUNK_EVENTS_MAX {
            assert!(many.fits(1));
            many.push(b"x");
        }
        assert!(!many.fits(1));
    }

    #[test]
    fn a_stream_run_and_a_single_entry_give_their_versions_and_sequences() {
        let run = encode_stream_run(&[41, 43]);
        assert_eq!(stream_entries(7, &run).unwrap(), vec![(7, 41), (8, 43)]);
        let single = super::super::codec::encode_u64(STREAM_FORMAT_VERSION, 12);
        assert_eq!(stream_entries(3, &single).unwrap(), vec![(3, 12)]);
        let mut unknown = run.clone();
        unknown[0..2].copy_from_slice(&9u16.to_be_bytes());
        assert_eq!(
            stream_entries(7, &unknown),
            Err(StoreError::UnsupportedFormatVersion {
                what: "stream index entry",
                version: 9
            })
        );
        assert!(matches!(
            stream_entries(7, &run[..run.len() - 1]),
            Err(StoreError::Corrupt(_))
        ));
    }
}
