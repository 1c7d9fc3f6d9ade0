//! A small sorted map for the many tiny maps a policy keeps (fields,
//! exposures, perils): a `LiteMap` (one vector of sorted pairs, at exact
//! capacity when built from a map) instead of a `BTreeMap`, whose first entry
//! allocates a whole node of eleven slots.
//!
//! Its JSON and MessagePack forms are exactly a `BTreeMap`'s: an object with
//! its keys in order (`{}` when empty), read with the same rules (a repeated
//! key keeps its last value, anything but a map is refused).
//!
//! Example: a peril's `{"premium": ["100"]}` takes one 48-byte pair (plus the
//! strings) instead of a 536-byte B-tree leaf.

use litemap::LiteMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

/// A sorted map kept in one vector. Reads like a `LiteMap` (it derefs to
/// one); serializes like a `BTreeMap`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompactMap<K, V>(LiteMap<K, V>);

impl<K, V> CompactMap<K, V> {
    /// An empty map (no allocation).
    pub const fn new() -> Self {
        Self(LiteMap::new_vec())
    }

    /// The pairs in key order.
    pub fn into_pairs(self) -> Vec<(K, V)> {
        self.0.into_tuple_vec()
    }
}

impl<K, V> Default for CompactMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> Deref for CompactMap<K, V> {
    type Target = LiteMap<K, V>;
    fn deref(&self) -> &LiteMap<K, V> {
        &self.0
    }
}

impl<K, V> DerefMut for CompactMap<K, V> {
    fn deref_mut(&mut self) -> &mut LiteMap<K, V> {
        &mut self.0
    }
}

impl<K: Ord, V> From<BTreeMap<K, V>> for CompactMap<K, V> {
    /// At exact capacity: the B-tree's pairs are already sorted and unique.
    fn from(map: BTreeMap<K, V>) -> Self {
        let pairs: Vec<(K, V)> = map.into_iter().collect();
        Self(LiteMap::from_sorted_store_unchecked(pairs))
    }
}

impl<K, Q, V> std::ops::Index<&Q> for CompactMap<K, V>
where
    K: std::borrow::Borrow<Q> + Ord,
    Q: Ord + ?Sized,
{
    type Output = V;
    /// The value of `key`; panics if absent, as a `BTreeMap` does.
    fn index(&self, key: &Q) -> &V {
        self.0.get(key).expect("no entry found for key")
    }
}

impl<K: Ord, V> From<CompactMap<K, V>> for BTreeMap<K, V> {
    fn from(map: CompactMap<K, V>) -> Self {
        map.into_iter().collect()
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for CompactMap<K, V> {
    fn from(pairs: [(K, V); N]) -> Self {
        Self::from(BTreeMap::from(pairs))
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for CompactMap<K, V> {
    /// A repeated key keeps its last value, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<BTreeMap<K, V>>())
    }
}

impl<K: Ord, V> Extend<(K, V)> for CompactMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.0.insert(key, value);
        }
    }
}

impl<K, V> IntoIterator for CompactMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_pairs().into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a CompactMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = <&'a LiteMap<K, V> as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&self.0).into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut CompactMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = <&'a mut LiteMap<K, V> as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&mut self.0).into_iter()
    }
}

impl<K: Serialize, V: Serialize> Serialize for CompactMap<K, V> {
    /// Always a map, as a `BTreeMap` (an empty `LiteMap` would be `[]`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter())
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for CompactMap<K, V> {
    /// Read as a `BTreeMap` (same errors, last value of a repeated key
    /// wins), then kept at exact capacity.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<K, V>::deserialize(deserializer).map(Self::from)
    }
}

impl<K, V> utoipa::PartialSchema for CompactMap<K, V>
where
    BTreeMap<K, V>: utoipa::PartialSchema,
{
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <BTreeMap<K, V> as utoipa::PartialSchema>::schema()
    }
}

impl<K, V> utoipa::ToSchema for CompactMap<K, V>
where
    BTreeMap<K, V>: utoipa::ToSchema,
{
    fn name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<K, V> as utoipa::ToSchema>::name()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <BTreeMap<K, V> as utoipa::ToSchema>::schemas(schemas)
    }
}

#[cfg(test)]
mod tests;
