//! A small sorted set kept in one vector (for an account's pending
//! installment slices: twelve per monthly policy, which a `BTreeSet` keeps in
//! two mostly empty nodes of eleven slots and a root).
//!
//! Its JSON and MessagePack forms are exactly a `BTreeSet`'s: a list in
//! order, read with the same rules (repeats collapse). Inserting and removing
//! move the tail of the vector: fine for the dozens to a few thousands of
//! entries an account has.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::ops::Deref;

/// A sorted set of unique values kept in one vector; reads as a slice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompactSet<T>(Vec<T>);

impl<T: Ord> CompactSet<T> {
    /// An empty set (no allocation).
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds `value`; false if it was already there.
    pub fn insert(&mut self, value: T) -> bool {
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, value);
                true
            }
        }
    }

    /// Removes `value`; false if it was not there.
    pub fn remove(&mut self, value: &T) -> bool {
        match self.0.binary_search(value) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Keeps the values `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.0.retain(keep);
    }

    /// Room for `additional` more values.
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve_exact(additional);
    }
}

impl<T: Ord> Default for CompactSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for CompactSet<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Ord> FromIterator<T> for CompactSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .collect::<BTreeSet<T>>()
                .into_iter()
                .collect(),
        )
    }
}

impl<'a, T> IntoIterator for &'a CompactSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for CompactSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for CompactSet<T> {
    /// Read as a `BTreeSet` (same errors), kept at exact capacity.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeSet::<T>::deserialize(deserializer).map(|set| Self(set.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::CompactSet;

    #[test]
    fn a_compact_set_keeps_values_sorted_and_unique_and_writes_a_list() {
        let mut set = CompactSet::new();
        assert!(set.insert(3));
        assert!(set.insert(1));
        assert!(!set.insert(3));
        assert!(set.insert(2));
        assert!(set.remove(&2));
        assert!(!set.remove(&7));
        assert_eq!(&set[..], [1, 3]);
        assert_eq!(serde_json::to_string(&set).unwrap(), "[1,3]");
        let read: CompactSet<u32> = serde_json::from_str("[3,1,3]").unwrap();
        assert_eq!(&read[..], [1, 3]);
        let empty: CompactSet<u32> = CompactSet::new();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "[]");
    }
}
