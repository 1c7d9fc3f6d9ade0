//! The ordered byte map under the embedded backends: what the commit planner
//! and the readers need from it (point reads and range scans), implemented for
//! an in-memory `BTreeMap` here and for sled in `sled_store`.

use super::error::StoreError;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// What a range scan does with each entry: go on or stop.
pub(crate) type Visit<'v> = dyn FnMut(&[u8], &[u8]) -> Result<ControlFlow<()>, StoreError> + 'v;

/// Read access to an ordered byte map.
pub(crate) trait KvRead {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Visits the entries with `start <= key < end`, ascending, or descending
    /// if `reverse`, until `visit` breaks.
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), StoreError>;
}

/// A write batch: keys to set (`Some`) or remove (`None`), applied atomically.
pub(crate) type Writes = Vec<(Vec<u8>, Option<Vec<u8>>)>;

impl KvRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(BTreeMap::get(self, key).cloned())
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), StoreError> {
        if start >= end {
            return Ok(());
        }
        let range = self.range::<[u8], _>((
            std::ops::Bound::Included(start),
            std::ops::Bound::Excluded(end),
        ));
        if reverse {
            for (key, value) in range.rev() {
                if visit(key, value)?.is_break() {
                    break;
                }
            }
        } else {
            for (key, value) in range {
                if visit(key, value)?.is_break() {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Applies a write batch to an in-memory map.
pub(crate) fn apply_to_map(map: &mut BTreeMap<Vec<u8>, Vec<u8>>, writes: Writes) {
    for (key, value) in writes {
        match value {
            Some(value) => {
                map.insert(key, value);
            }
            None => {
                map.remove(&key);
            }
        }
    }
}
