//! A billing run needs no rater: with the product's rater down, unpaid
//! policies still lapse ([E6]) and the run's invoices still go out.

use super::support::*;
use crate::collections::{BillingCommand, DelinquencyStatus};
use crate::policy::{RaterResolver, RatingChain};
use crate::rating::{Rater, RaterFailure, RatingError};
use std::sync::Arc;

/// Every rater is down.
struct Down;

impl RaterResolver for Down {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Err(RatingError::failed(
            "auto-rater",
            RaterFailure::Unavailable,
            "connection refused",
        ))
    }
}

#[test]
fn with_the_rater_down_a_billing_run_still_lapses_an_unpaid_policy() {
    let mut world = World::new();
    world.issue("P1", date(2023, 1, 1), "1200.00", date(2022, 12, 20));
    world.run_daily(date(2022, 12, 20), date(2023, 1, 31));
    let day = date(2023, 2, 1);
    let context = world.context(day);
    loop {
        let command = BillingCommand::RunAccount {
            account: "A1".into(),
            up_to: day,
        }
        .into();
        let events = world
            .state
            .execute_with(&command, &context, &Down, world.adjuster.as_ref())
            .expect("a billing run asks no rater");
        if events.is_empty() {
            break;
        }
        world.log.extend(events);
    }
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().status,
        DelinquencyStatus::Lapsed {
            on: day,
            effective: day
        }
    );
    let policy = world.state.book.policy("P1").unwrap();
    assert!(!policy.is_in_force(day));
    // The lapse refunds February to December: 1200 × 11/12.
    assert_eq!(
        policy.charge_total("premium"),
        rust_decimal_macros::dec!(100.00)
    );
    world.check_invariants();
    world.assert_replay_rebuilds();
}
