//! Fixtures shared by the unit tests of several modules (compiled for tests
//! only): a rater resolver pricing every product with the native
//! [`FieldRater`], a resolver answering every chain with one given rater, an
//! engine over a store with the field rater, dates, and numbers from the
//! environment (proptest case counts).

use crate::engine::Engine;
use crate::policy::{RaterResolver, RatingChain};
use crate::rating::{FieldRater, Rater, RatingError};
use crate::store::Store;
use chrono::NaiveDate;
use std::sync::Arc;

/// Prices every product with the native [`FieldRater`] (the peril fields
/// `yearly_premium` or `exact_premium`).
pub(crate) struct FieldRaters;

impl RaterResolver for FieldRaters {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(Arc::new(FieldRater))
    }
}

/// Answers every rating chain with the one rater it holds (a counting or
/// recording rater the test inspects afterwards).
pub(crate) struct OneRater<R>(pub(crate) Arc<R>);

impl<R> Clone for OneRater<R> {
    fn clone(&self) -> Self {
        OneRater(Arc::clone(&self.0))
    }
}

impl<R: Rater + 'static> RaterResolver for OneRater<R> {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(self.0.clone())
    }
}

/// An engine over `store`, every product priced by [`FieldRaters`].
pub(crate) fn engine(store: Arc<dyn Store>) -> Engine {
    Engine::open(store, Arc::new(FieldRaters)).unwrap()
}

/// The number in environment variable `name` (a case count, a step
/// count...), or `default`.
pub(crate) fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
