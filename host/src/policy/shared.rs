//! One copy in memory of values that thousands of policies hold alike: the
//! product a policy was issued under is copied onto its header (so later
//! deployments never reprice it), and 100,000 policies issued under one
//! revision would otherwise hold 100,000 equal copies of it.
//!
//! An [`Interner`] hands out an `Arc` to an equal value it already shares
//! when there is one, so every policy of a revision points at one product;
//! the `serde` helpers ([`serialize`], [`deserialize`]) write and read the
//! value itself (the JSON of events and snapshots does not change) and share
//! what they read, so replaying a log or loading a snapshot shares too.
//!
//! Example: 100,000 policies issued under `auto` revision 1 hold one
//! `ProductConfig` and 100,000 pointers; a policy issued after `auto` is
//! deployed again with another plan holds the new revision's copy, shared by
//! the policies issued after it.

use super::product::ProductConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::{Arc, Mutex, Weak};

/// Distinct values an interner keeps before it forgets those no longer held
/// (checked on each miss; a value still held is never forgotten).
pub const INTERNED_VALUES_MAX: usize = 64;

/// Values shared by equality. Keeps weak references: a value nobody holds any
/// more is dropped as usual and forgotten on a later miss.
pub struct Interner<T> {
    values: Mutex<Vec<Weak<T>>>,
}

impl<T: PartialEq> Interner<T> {
    pub const fn new() -> Self {
        Interner {
            values: Mutex::new(Vec::new()),
        }
    }

    /// The shared copy of `value`: one already shared and equal to it, or
    /// `value` itself, shared from now on.
    pub fn intern(&self, value: T) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        // Most recent first: policies are mostly issued under a product's
        // latest revision.
        if let Some(shared) = values
            .iter()
            .rev()
            .filter_map(Weak::upgrade)
            .find(|shared| **shared == value)
        {
            return shared;
        }
        if values.len() >= INTERNED_VALUES_MAX {
            values.retain(|weak| weak.strong_count() > 0);
        }
        let shared = Arc::new(value);
        values.push(Arc::downgrade(&shared));
        shared
    }

    /// Shares `value` if an equal one is already shared, else makes it the
    /// shared copy.
    pub fn share(&self, value: &Arc<T>) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = values
            .iter()
            .rev()
            .filter_map(Weak::upgrade)
            .find(|shared| **shared == **value)
        {
            return shared;
        }
        if values.len() >= INTERNED_VALUES_MAX {
            values.retain(|weak| weak.strong_count() > 0);
        }
        values.push(Arc::downgrade(value));
        Arc::clone(value)
    }
}

impl<T: PartialEq> Default for Interner<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The products copied onto policy headers.
pub static PRODUCTS: Interner<ProductConfig> = Interner::new();

/// The shared copy of a product, for a policy's header.
pub fn product(product: &ProductConfig) -> Arc<ProductConfig> {
    PRODUCTS.intern(product.clone())
}

/// Writes the product itself (`#[serde(with = "shared")]`).
pub fn serialize<S: Serializer>(value: &Arc<ProductConfig>, out: S) -> Result<S::Ok, S::Error> {
    value.as_ref().serialize(out)
}

/// Reads a product and shares it with an equal one already in memory.
pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Arc<ProductConfig>, D::Error> {
    ProductConfig::deserialize(input).map(|product| PRODUCTS.intern(product))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy_and_different_ones_do_not() {
        let interner: Interner<String> = Interner::new();
        let first = interner.intern("auto r1".to_string());
        let again = interner.intern("auto r1".to_string());
        let other = interner.intern("auto r2".to_string());
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(*other, "auto r2");
    }

    #[test]
    fn a_value_nobody_holds_is_forgotten() {
        let interner: Interner<u32> = Interner::new();
        let first = interner.intern(7);
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(
            weak.upgrade().is_none(),
            "the interner holds no strong reference"
        );
        let again = interner.intern(7);
        assert_eq!(*again, 7);
    }

    #[test]
    fn an_interner_keeps_every_value_still_held_past_its_bound() {
        let interner: Interner<usize> = Interner::new();
        let held: Vec<Arc<usize>> = (0..INTERNED_VALUES_MAX + 5)
            .map(|i| interner.intern(i))
            .collect();
        for (i, value) in held.iter().enumerate() {
            assert!(Arc::ptr_eq(value, &interner.intern(i)));
        }
    }
}
