//! Splitting an amount into parts by weights, in whole minor units, so that the
//! parts always sum exactly to the whole.
//!
//! The arithmetic is exact integer arithmetic on minor units (`i128`): no share is
//! ever rounded on its own, so no cent is lost or created.

use crate::domain::money::{Money, MoneyError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The most parts one allocation may have.
pub const PARTS_MAX: usize = 10_000;

/// The most decimal places a weight may have.
pub const WEIGHT_SCALE_MAX: u32 = 6;

/// An error splitting an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    /// There are no parts to split into.
    #[error("an allocation needs at least one part")]
    NoParts,
    /// More than [`PARTS_MAX`] parts.
    #[error("{parts} parts is more than the limit of {PARTS_MAX}")]
    TooManyParts { parts: usize },
    /// A weight is below zero.
    #[error("weight {weight} of part {index} is negative")]
    NegativeWeight { index: usize, weight: Decimal },
    /// A weight has more than [`WEIGHT_SCALE_MAX`] decimal places.
    #[error("weight {weight} of part {index} has more than {WEIGHT_SCALE_MAX} decimal places")]
    WeightTooPrecise { index: usize, weight: Decimal },
    /// Every weight is zero, so there is nothing to split in proportion to.
    #[error("the weights sum to zero")]
    ZeroTotalWeight,
    /// An intermediate product does not fit in 128 bits.
    #[error("allocation arithmetic overflow")]
    Overflow,
    /// The total is not a whole number of minor units.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Where the rounding residue of a split goes.
///
/// Serialised in kebab-case: `"largest-remainder"`, `"first"`, `"last"`.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ResiduePlacement {
    /// One minor unit each to the parts with the largest remainders, ties to the later
    /// part, so equal parts differ by at most one unit and the extra units sit at the
    /// end: 100.00 in 12 gives 8.33 eight times, then 8.34 four times. The default.
    #[default]
    LargestRemainder,
    /// Every other part gets its share rounded to the nearest minor unit (half away
    /// from zero); the first part with a non-zero weight takes what is left:
    /// 100.00 in 12 gives 8.37, then 8.33 eleven times; 200.00 in 3 gives 66.66,
    /// 66.67, 66.67. (Should rounding up the others leave it below zero, as with a
    /// few cents over many parts, the others keep their shares rounded down.)
    First,
    /// As `First`, but the last part with a non-zero weight takes what is left:
    /// 8.33 eleven times, then 8.37; 200.00 in 3 gives 66.67, 66.67, 66.66.
    Last,
}

/// Splits `total` into parts proportional to `weights`, in whole minor units; the
/// parts sum exactly to `total`.
///
/// `total` must already be a whole number of minor units (round it first: rounding
/// happens once, at the end of the calculation that produced it). Weights are
/// non-negative decimals with at most [`WEIGHT_SCALE_MAX`] places; a zero weight gets
/// a zero part. A negative total is split as the mirror image of the positive one,
/// so a credit exactly reverses the charge it cancels, part by part.
///
/// Example ([E7]): `100.00` USD by twelve weights of `1` is `8.33` eight times, then
/// `8.34` four times.
pub fn allocate(
    total: Money,
    weights: &[Decimal],
    placement: ResiduePlacement,
) -> Result<Vec<Money>, AllocationError> {
    let units = total.to_minor_units()?;
    let integer_weights = integer_weights(weights)?;
    let parts = allocate_units(units, &integer_weights, placement)?;
    parts
        .into_iter()
        .map(|part| Money::from_minor_units(part, total.currency).map_err(AllocationError::from))
        .collect()
}

/// Turns decimal weights into integers with the same ratios (all scaled to the
/// largest number of decimal places among them): `[1.5, 1]` becomes `[15, 10]`.
pub fn integer_weights(weights: &[Decimal]) -> Result<Vec<i128>, AllocationError> {
    check_part_count(weights.len())?;
    let mut scale = 0;
    for (index, weight) in weights.iter().enumerate() {
        if weight.is_sign_negative() && !weight.is_zero() {
            return Err(AllocationError::NegativeWeight {
                index,
                weight: *weight,
            });
        }
        let normalized = weight.normalize();
        if normalized.scale() > WEIGHT_SCALE_MAX {
            return Err(AllocationError::WeightTooPrecise {
                index,
                weight: *weight,
            });
        }
        scale = scale.max(normalized.scale());
    }
    weights
        .iter()
        .map(|weight| {
            let normalized = weight.normalize();
            let factor = 10_i128.pow(scale - normalized.scale());
            normalized
                .mantissa()
                .abs()
                .checked_mul(factor)
                .ok_or(AllocationError::Overflow)
        })
        .collect()
}

/// Splits `total` minor units into parts proportional to integer `weights`; the
/// parts sum exactly to `total`. This is the exact core of [`allocate`].
///
/// Each part first gets the floor of its exact share `total * weight / sum`; the
/// residue (fewer units than there are parts) is then placed by `placement`. A
/// negative total is split as the mirror image of the positive one.
pub fn allocate_units(
    total: i128,
    weights: &[i128],
    placement: ResiduePlacement,
) -> Result<Vec<i128>, AllocationError> {
    check_part_count(weights.len())?;
    if let Some(index) = weights.iter().position(|w| *w < 0) {
        return Err(AllocationError::NegativeWeight {
            index,
            weight: Decimal::try_from_i128_with_scale(weights[index], 0).unwrap_or(Decimal::MIN),
        });
    }
    let weight_sum = weights
        .iter()
        .try_fold(0_i128, |sum, w| sum.checked_add(*w))
        .ok_or(AllocationError::Overflow)?;
    if weight_sum == 0 {
        return Err(AllocationError::ZeroTotalWeight);
    }
    let magnitude = total.checked_abs().ok_or(AllocationError::Overflow)?;

    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for weight in weights {
        let product = magnitude
            .checked_mul(*weight)
            .ok_or(AllocationError::Overflow)?;
        parts.push(product / weight_sum);
        remainders.push(product % weight_sum);
    }
    let floor_sum: i128 = parts.iter().sum();
    let residue = magnitude - floor_sum;
    assert!(residue >= 0 && residue < weights.len() as i128);

    match placement {
        ResiduePlacement::LargestRemainder => {
            for index in largest_remainders(&remainders, residue as usize) {
                parts[index] += 1;
            }
        }
        ResiduePlacement::First | ResiduePlacement::Last => {
            let index = residue_part(weights, placement).expect("a weight is positive");
            // The others take their share rounded to the nearest unit (half
            // away from zero); the residue part takes what is left. When
            // rounding up the others would leave it below zero (tiny totals
            // over many parts), they keep their floors instead.
            let mut nearest = parts.clone();
            for (part, (remainder, weight)) in
                nearest.iter_mut().zip(remainders.iter().zip(weights))
            {
                if *weight > 0 && remainder * 2 >= weight_sum {
                    *part += 1;
                }
            }
            let others: i128 = nearest
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, part)| *part)
                .sum();
            if magnitude - others >= 0 {
                nearest[index] = magnitude - others;
                parts = nearest;
            } else {
                parts[index] += residue;
            }
        }
    }

    if total < 0 {
        for part in &mut parts {
            *part = -*part;
        }
    }
    assert_eq!(parts.iter().sum::<i128>(), total, "parts sum to the whole");
    Ok(parts)
}

/// The part that takes the whole residue under `First` or `Last`: the first or last
/// part with a positive weight. `None` for `LargestRemainder` or when no weight is
/// positive.
pub fn residue_part(weights: &[i128], placement: ResiduePlacement) -> Option<usize> {
    match placement {
        ResiduePlacement::LargestRemainder => None,
        ResiduePlacement::First => weights.iter().position(|w| *w > 0),
        ResiduePlacement::Last => weights.iter().rposition(|w| *w > 0),
    }
}

/// Indices of the `count` largest remainders, ties to the later index.
fn largest_remainders(remainders: &[i128], count: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..remainders.len()).collect();
    order.sort_unstable_by(|a, b| remainders[*b].cmp(&remainders[*a]).then(b.cmp(a)));
    order.truncate(count);
    order
}

fn check_part_count(parts: usize) -> Result<(), AllocationError> {
    if parts == 0 {
        Err(AllocationError::NoParts)
    } else if parts > PARTS_MAX {
        Err(AllocationError::TooManyParts { parts })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::currency::Currency;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn usd(amount: Decimal) -> Money {
        Money::new(amount, Currency::USD)
    }

    fn amounts(parts: &[Money]) -> Vec<Decimal> {
        parts.iter().map(|part| part.amount).collect()
    }

    #[test]
    fn e7_one_hundred_in_twelve_puts_the_extra_cents_on_the_last_four() {
        let parts = allocate(
            usd(dec!(100.00)),
            &[Decimal::ONE; 12],
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        let mut expected = vec![dec!(8.33); 8];
        expected.extend([dec!(8.34); 4]);
        assert_eq!(amounts(&parts), expected);
        assert_eq!(parts[0].amount.to_string(), "8.33");
    }

    #[test]
    fn the_whole_residue_can_go_on_the_first_or_the_last_part() {
        let weights = [Decimal::ONE; 12];
        let first = allocate(usd(dec!(100.00)), &weights, ResiduePlacement::First).unwrap();
        let mut expected = vec![dec!(8.37)];
        expected.extend([dec!(8.33); 11]);
        assert_eq!(amounts(&first), expected);

        let last = allocate(usd(dec!(100.00)), &weights, ResiduePlacement::Last).unwrap();
        let mut expected = vec![dec!(8.33); 11];
        expected.push(dec!(8.37));
        assert_eq!(amounts(&last), expected);
    }

    #[test]
    fn with_the_residue_last_the_others_are_the_level_share_rounded_to_the_nearest_cent() {
        let weights = [Decimal::ONE; 3];
        let last = allocate(usd(dec!(200.00)), &weights, ResiduePlacement::Last).unwrap();
        assert_eq!(amounts(&last), [dec!(66.67), dec!(66.67), dec!(66.66)]);
        let first = allocate(usd(dec!(200.00)), &weights, ResiduePlacement::First).unwrap();
        assert_eq!(amounts(&first), [dec!(66.66), dec!(66.67), dec!(66.67)]);
        let credit = allocate(usd(dec!(-200.00)), &weights, ResiduePlacement::Last).unwrap();
        assert_eq!(amounts(&credit), [dec!(-66.67), dec!(-66.67), dec!(-66.66)]);
    }

    #[test]
    fn a_few_cents_over_many_parts_never_leave_the_residue_part_negative() {
        let weights = [Decimal::ONE; 9];
        let last = allocate(usd(dec!(0.05)), &weights, ResiduePlacement::Last).unwrap();
        let mut expected = vec![dec!(0.00); 8];
        expected.push(dec!(0.05));
        assert_eq!(amounts(&last), expected);
    }

    #[test]
    fn the_residue_skips_parts_with_zero_weight() {
        let weights = [dec!(0), dec!(1), dec!(1), dec!(0)];
        let first = allocate(usd(dec!(0.03)), &weights, ResiduePlacement::First).unwrap();
        assert_eq!(amounts(&first), [dec!(0), dec!(0.01), dec!(0.02), dec!(0)]);
        let last = allocate(usd(dec!(0.03)), &weights, ResiduePlacement::Last).unwrap();
        assert_eq!(amounts(&last), [dec!(0), dec!(0.02), dec!(0.01), dec!(0)]);
    }

    #[test]
    fn weights_split_in_proportion() {
        let parts = allocate(
            usd(dec!(1400.00)),
            &[dec!(3), dec!(2), dec!(1), dec!(1)],
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        assert_eq!(
            amounts(&parts),
            [dec!(600.00), dec!(400.00), dec!(200.00), dec!(200.00)]
        );
        let parts = allocate(
            usd(dec!(10.00)),
            &[dec!(1.5), dec!(0.5)],
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        assert_eq!(amounts(&parts), [dec!(7.50), dec!(2.50)]);
    }

    #[test]
    fn a_negative_total_is_the_mirror_of_the_positive_one() {
        let weights = [Decimal::ONE; 12];
        let credit = allocate(
            usd(dec!(-100.00)),
            &weights,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        let mut expected = vec![dec!(-8.33); 8];
        expected.extend([dec!(-8.34); 4]);
        assert_eq!(amounts(&credit), expected);
    }

    #[test]
    fn currencies_split_in_their_own_minor_units() {
        let yen = allocate(
            Money::new(dec!(1000), Currency::JPY),
            &[Decimal::ONE; 3],
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        assert_eq!(amounts(&yen), [dec!(333), dec!(333), dec!(334)]);
        let dinar = allocate(
            Money::new(dec!(1.000), Currency::BHD),
            &[Decimal::ONE; 3],
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        assert_eq!(amounts(&dinar), [dec!(0.333), dec!(0.333), dec!(0.334)]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let total = usd(dec!(1.00));
        let placement = ResiduePlacement::LargestRemainder;
        assert_eq!(
            allocate(total, &[], placement),
            Err(AllocationError::NoParts)
        );
        assert_eq!(
            allocate(total, &[dec!(0), dec!(0)], placement),
            Err(AllocationError::ZeroTotalWeight)
        );
        assert_eq!(
            allocate(total, &[dec!(1), dec!(-1)], placement),
            Err(AllocationError::NegativeWeight {
                index: 1,
                weight: dec!(-1)
            })
        );
        assert_eq!(
            allocate(total, &[dec!(0.0000001)], placement),
            Err(AllocationError::WeightTooPrecise {
                index: 0,
                weight: dec!(0.0000001)
            })
        );
        assert!(matches!(
            allocate(usd(dec!(1.001)), &[dec!(1)], placement),
            Err(AllocationError::Money(MoneyError::NotInMinorUnits { .. }))
        ));
        assert_eq!(
            allocate(total, &vec![dec!(1); PARTS_MAX + 1], placement),
            Err(AllocationError::TooManyParts {
                parts: PARTS_MAX + 1
            })
        );
        assert_eq!(
            allocate_units(i128::MAX, &[2, 3], placement),
            Err(AllocationError::Overflow)
        );
    }

    fn placements() -> impl Strategy<Value = ResiduePlacement> {
        prop_oneof![
            Just(ResiduePlacement::LargestRemainder),
            Just(ResiduePlacement::First),
            Just(ResiduePlacement::Last),
        ]
    }

    proptest! {
        #[test]
        fn every_split_sums_exactly_to_the_whole(
            total in -10_000_000_000_i128..10_000_000_000,
            weights in prop::collection::vec(0_i128..1_000, 1..60),
            placement in placements(),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let parts = allocate_units(total, &weights, placement).unwrap();
            prop_assert_eq!(parts.iter().sum::<i128>(), total);
            prop_assert_eq!(parts.len(), weights.len());
        }

        #[test]
        fn largest_remainder_parts_are_within_one_unit_of_their_exact_share(
            total in -10_000_000_000_i128..10_000_000_000,
            weights in prop::collection::vec(0_i128..1_000, 1..60),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let sum: i128 = weights.iter().sum();
            let parts =
                allocate_units(total, &weights, ResiduePlacement::LargestRemainder).unwrap();
            for (part, weight) in parts.iter().zip(&weights) {
                // |part - total * weight / sum| < 1, in integers.
                prop_assert!((part * sum - total * weight).abs() < sum);
            }
        }

        #[test]
        fn decimal_splits_sum_exactly_to_the_whole(
            cents in -1_000_000_000_i64..1_000_000_000,
            weights in prop::collection::vec(0_u32..100_000, 1..24),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let total = usd(Decimal::new(cents, 2));
            let weights: Vec<Decimal> =
                weights.iter().map(|w| Decimal::new(i64::from(*w), 3)).collect();
            let parts = allocate(total, &weights, ResiduePlacement::LargestRemainder).unwrap();
            let sum = parts
                .iter()
                .try_fold(Money::zero(Currency::USD), |sum, part| sum.checked_add(*part))
                .unwrap();
            prop_assert_eq!(sum, total);
        }
    }
}
