//! Level splits: several amounts split over the same weights at once, so that each
//! column total (an installment) is the level split of their sum, each amount still
//! sums exactly to itself, and every cell is its exact share rounded down or up.
//!
//! Rounding each amount on its own makes installment totals wander by several cents
//! ([E8]); this is a small matrix-rounding problem solved exactly, in integers, as a
//! bipartite flow: amounts supply their leftover units, columns demand theirs.

use crate::domain::allocation::{AllocationError, ResiduePlacement, allocate_units, residue_part};
use std::collections::VecDeque;

/// The most amounts one level split may take.
pub const AMOUNTS_MAX: usize = 1_000;

/// An error in a level split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    /// More than [`AMOUNTS_MAX`] amounts.
    #[error("{0} amounts is more than the limit of {AMOUNTS_MAX}")]
    TooManyAmounts(usize),
    /// The weights cannot be split over, or the arithmetic overflowed.
    #[error(transparent)]
    Allocation(#[from] AllocationError),
}

/// Splits each of `amounts` (minor units) over `weights` so that:
///
/// 1. row `i` sums exactly to `amounts[i]`;
/// 2. column `j` sums to the split of the total of all amounts by
///    [`allocate_units`] with `placement` (level installments: at most one unit
///    apart, extra units on the later columns, [E7]);
/// 3. every cell is its exact share `amounts[i] * weights[j] / sum(weights)` rounded
///    down or up (except, under `First` or `Last`, the cell of the column that takes
///    the residue, which takes what its row has left).
///
/// Property 2 is found by a maximum flow; in the rare case no rounding satisfies all
/// three, rows 1 and 3 win and the columns are as close to level as the flow reached.
/// When the total is negative the split is the mirror image of the positive one, so
/// a reversal cancels its charge cell by cell.
///
/// Example ([E8]): 139.86, 12.94, 192.78, 17.83, 10.00 and 9.98 over twelve equal
/// weights give columns of 31.94 and then eleven of 31.95.
pub fn level_split(
    amounts: &[i128],
    weights: &[i128],
    placement: ResiduePlacement,
) -> Result<Vec<Vec<i128>>, LevelError> {
    if amounts.len() > AMOUNTS_MAX {
        return Err(LevelError::TooManyAmounts(amounts.len()));
    }
    let overflow = || LevelError::Allocation(AllocationError::Overflow);
    let total = amounts
        .iter()
        .try_fold(0_i128, |sum, amount| sum.checked_add(*amount))
        .ok_or_else(overflow)?;
    let targets = allocate_units(
        total.checked_abs().ok_or_else(overflow)?,
        weights,
        placement,
    )?;
    if amounts.is_empty() {
        return Ok(Vec::new());
    }
    let sign = if total < 0 { -1 } else { 1 };
    let weight_sum: i128 = weights.iter().sum();
    let absorbing = residue_part(weights, placement);

    let rows = amounts.len();
    let columns = weights.len();
    let mut grid = Grid {
        columns,
        cells: vec![0; rows * columns],
        remainders: vec![0; rows * columns],
        extra: vec![false; rows * columns],
    };
    let mut row_need = vec![0_i128; rows];
    let mut column_need = targets;
    for (row, amount) in amounts.iter().enumerate() {
        let amount = amount * sign;
        let mut floor_sum = 0;
        for (column, weight) in weights.iter().enumerate() {
            let product = amount.checked_mul(*weight).ok_or_else(overflow)?;
            let cell = grid.at(row, column);
            grid.cells[cell] = product.div_euclid(weight_sum);
            grid.remainders[cell] = product.rem_euclid(weight_sum);
            floor_sum += grid.cells[cell];
            column_need[column] -= grid.cells[cell];
        }
        row_need[row] = amount - floor_sum;
        debug_assert!(row_need[row] >= 0 && row_need[row] < columns as i128);
    }
    if let Some(column) = absorbing {
        // The residue column takes whatever its rows have left; it demands nothing.
        column_need[column] = 0;
    }
    debug_assert!(column_need.iter().all(|need| *need >= 0));

    if let Some(absorbing) = absorbing {
        // The residue column takes whatever each row has left, so the other
        // columns are independent: each takes its extra units from the cells
        // with the largest remainders (ties to the later row).
        for column in (0..columns).filter(|c| *c != absorbing) {
            let mut order: Vec<usize> = (0..rows)
                .filter(|row| grid.remainders[grid.at(*row, column)] > 0)
                .collect();
            order.sort_unstable_by(|a, b| {
                let (ra, rb) = (
                    grid.remainders[grid.at(*a, column)],
                    grid.remainders[grid.at(*b, column)],
                );
                rb.cmp(&ra).then(b.cmp(a))
            });
            let need = usize::try_from(column_need[column]).unwrap_or(0);
            for row in order.into_iter().take(need) {
                let cell = grid.at(row, column);
                grid.extra[cell] = true;
            }
        }
        let left = |grid: &Grid, row: usize| -> i128 {
            let others: i128 = (0..columns)
                .filter(|c| *c != absorbing)
                .map(|c| {
                    let cell = grid.at(row, c);
                    grid.cells[cell] + i128::from(grid.extra[cell])
                })
                .sum();
            amounts[row] * sign - others
        };
        // A row left below zero in the residue column (a small amount whose
        // cells were all rounded up) hands its extra units to rows with room.
        for (row, amount) in amounts.iter().enumerate() {
            if amount * sign < 0 {
                continue;
            }
            for column in (0..columns).filter(|c| *c != absorbing) {
                if left(&grid, row) >= 0 {
                    break;
                }
                if !grid.extra[grid.at(row, column)] {
                    continue;
                }
                let taker = (0..rows).find(|other| {
                    let cell = grid.at(*other, column);
                    *other != row
                        && grid.remainders[cell] > 0
                        && !grid.extra[cell]
                        && left(&grid, *other) >= 1
                });
                if let Some(other) = taker {
                    let from = grid.at(row, column);
                    let to = grid.at(other, column);
                    grid.extra[from] = false;
                    grid.extra[to] = true;
                }
            }
        }
        for (row, need) in row_need.iter_mut().enumerate() {
            let value = left(&grid, row);
            let cell = grid.at(row, absorbing);
            grid.cells[cell] = value;
            grid.extra[cell] = false;
            *need = 0;
        }
    }
    grid.fill_greedily(&mut row_need, &mut column_need, absorbing);
    while row_need.iter().any(|need| *need > 0) && column_need.iter().any(|need| *need > 0) {
        if !grid.augment(&mut row_need, &mut column_need, absorbing) {
            break;
        }
    }
    grid.place_leftovers(&mut row_need, absorbing);

    let mut result = Vec::with_capacity(rows);
    for (row, amount) in amounts.iter().enumerate() {
        let parts: Vec<i128> = (0..columns)
            .map(|column| {
                let cell = grid.at(row, column);
                sign * (grid.cells[cell] + i128::from(grid.extra[cell]))
            })
            .collect();
        assert_eq!(
            parts.iter().sum::<i128>(),
            *amount,
            "a row sums to its amount"
        );
        result.push(parts);
    }
    Ok(result)
}

/// The rounding state: floors, remainders, and which cells take one extra unit.
struct Grid {
    columns: usize,
    cells: Vec<i128>,
    remainders: Vec<i128>,
    extra: Vec<bool>,
}

impl Grid {
    fn at(&self, row: usize, column: usize) -> usize {
        row * self.columns + column
    }

    fn rows(&self) -> usize {
        self.cells.len() / self.columns
    }

    /// Whether the cell may take an extra unit in the flow: it has a fractional share
    /// and is not in the residue column.
    fn is_edge(&self, row: usize, column: usize, absorbing: Option<usize>) -> bool {
        Some(column) != absorbing && self.remainders[self.at(row, column)] > 0
    }

    /// Largest remainders first (ties to the later column, then the later row), each
    /// taken when both its row and its column still need a unit.
    fn fill_greedily(
        &mut self,
        row_need: &mut [i128],
        column_need: &mut [i128],
        absorbing: Option<usize>,
    ) {
        let mut order: Vec<(usize, usize)> = Vec::new();
        for (row, need) in row_need.iter().enumerate() {
            if *need == 0 {
                continue;
            }
            for column in 0..self.columns {
                if self.is_edge(row, column, absorbing) {
                    order.push((row, column));
                }
            }
        }
        order.sort_unstable_by(|a, b| {
            let (ra, rb) = (
                self.remainders[self.at(a.0, a.1)],
                self.remainders[self.at(b.0, b.1)],
            );
            rb.cmp(&ra).then(b.1.cmp(&a.1)).then(b.0.cmp(&a.0))
        });
        for (row, column) in order {
            if row_need[row] > 0 && column_need[column] > 0 {
                let cell = self.at(row, column);
                self.extra[cell] = true;
                row_need[row] -= 1;
                column_need[column] -= 1;
            }
        }
    }

    /// One augmenting path from a row with units left to a column still short of its
    /// target, moving extra units along the way. Returns whether one was found.
    fn augment(
        &mut self,
        row_need: &mut [i128],
        column_need: &mut [i128],
        absorbing: Option<usize>,
    ) -> bool {
        let rows = self.rows();
        // Nodes: rows 0..rows, columns rows..rows+columns.
        let mut parent: Vec<Option<usize>> = vec![None; rows + self.columns];
        let mut seen = vec![false; rows + self.columns];
        let mut queue = VecDeque::new();
        for (row, need) in row_need.iter().enumerate() {
            if *need > 0 {
                seen[row] = true;
                queue.push_back(row);
            }
        }
        while let Some(node) = queue.pop_front() {
            if node < rows {
                let mut reached = None;
                for (column, need) in column_need.iter().enumerate() {
                    let target = rows + column;
                    if seen[target]
                        || !self.is_edge(node, column, absorbing)
                        || self.extra[self.at(node, column)]
                    {
                        continue;
                    }
                    seen[target] = true;
                    parent[target] = Some(node);
                    if *need > 0 {
                        reached = Some(column);
                        break;
                    }
                    queue.push_back(target);
                }
                if let Some(column) = reached {
                    let start = self.flip_path(rows + column, &parent, rows);
                    row_need[start] -= 1;
                    column_need[column] -= 1;
                    return true;
                }
            } else {
                let column = node - rows;
                for row in 0..rows {
                    if !seen[row] && self.extra[self.at(row, column)] {
                        seen[row] = true;
                        parent[row] = Some(node);
                        queue.push_back(row);
                    }
                }
            }
        }
        // The short columns are unreachable; the caller stops.
        false
    }

    /// Flips the extra units along the path ending at column node `node`; returns
    /// the row the path started from, which has placed one more unit.
    fn flip_path(&mut self, mut node: usize, parent: &[Option<usize>], rows: usize) -> usize {
        while let Some(previous) = parent[node] {
            if node >= rows {
                // row `previous` -> column `node`: take the unit.
                let cell = self.at(previous, node - rows);
                self.extra[cell] = true;
            } else {
                // column `previous` -> row `node`: give the unit back.
                let cell = self.at(node, previous - rows);
                self.extra[cell] = false;
            }
            node = previous;
        }
        debug_assert!(node < rows, "paths start at a row");
        node
    }

    /// Units the flow could not place: into the residue column when there is one,
    /// else onto the row's own largest remaining fractions (always enough of them:
    /// a row needs fewer units than it has fractional cells).
    fn place_leftovers(&mut self, row_need: &mut [i128], absorbing: Option<usize>) {
        for (row, need) in row_need.iter_mut().enumerate() {
            if *need == 0 {
                continue;
            }
            if let Some(column) = absorbing {
                let cell = self.at(row, column);
                self.cells[cell] += *need;
                *need = 0;
                continue;
            }
            let mut free: Vec<usize> = (0..self.columns)
                .filter(|column| {
                    let cell = self.at(row, *column);
                    self.remainders[cell] > 0 && !self.extra[cell]
                })
                .collect();
            free.sort_unstable_by(|a, b| {
                let (ra, rb) = (
                    self.remainders[self.at(row, *a)],
                    self.remainders[self.at(row, *b)],
                );
                rb.cmp(&ra).then(b.cmp(a))
            });
            for column in free.into_iter().take(*need as usize) {
                let cell = self.at(row, column);
                self.extra[cell] = true;
                *need -= 1;
            }
            assert_eq!(*need, 0, "a row has enough fractional cells");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn column_sums(split: &[Vec<i128>], columns: usize) -> Vec<i128> {
        (0..columns)
            .map(|column| split.iter().map(|row| row[column]).sum())
            .collect()
    }

    /// Whether every cell is its exact share rounded down or up.
    fn cells_are_floor_or_ceiling(split: &[Vec<i128>], amounts: &[i128], weights: &[i128]) -> bool {
        let sum: i128 = weights.iter().sum();
        split.iter().zip(amounts).all(|(row, amount)| {
            row.iter()
                .zip(weights)
                .all(|(cell, weight)| (cell * sum - amount * weight).abs() < sum)
        })
    }

    #[test]
    fn e8_six_charges_over_a_monthly_year_give_level_installments() {
        let amounts = [13986, 1294, 19278, 1783, 1000, 998];
        let weights = [1; 12];
        let split = level_split(&amounts, &weights, ResiduePlacement::LargestRemainder).unwrap();
        let mut expected = vec![3194];
        expected.extend([3195; 11]);
        assert_eq!(column_sums(&split, 12), expected);
        assert_eq!(column_sums(&split, 12).iter().sum::<i128>(), 38339);
        for (row, amount) in split.iter().zip(amounts) {
            assert_eq!(row.iter().sum::<i128>(), amount);
        }
        assert!(cells_are_floor_or_ceiling(&split, &amounts, &weights));
    }

    #[test]
    fn rounding_each_charge_alone_would_make_e8_totals_wander() {
        let amounts = [13986, 1294, 19278, 1783, 1000, 998];
        let alone: Vec<Vec<i128>> = amounts
            .iter()
            .map(|amount| {
                allocate_units(*amount, &[1; 12], ResiduePlacement::LargestRemainder).unwrap()
            })
            .collect();
        let totals = column_sums(&alone, 12);
        assert!(totals.iter().max().unwrap() - totals.iter().min().unwrap() > 1);
    }

    #[test]
    fn a_unit_the_greedy_pass_cannot_place_moves_along_an_augmenting_path() {
        // Shares: 14 -> 7, 1.75, 1.75, 3.5 and 12 -> 6, 1.5, 1.5, 3; level columns
        // 13, 3, 3, 7. Largest remainders first, 14 takes columns 1 and 2, leaving 12
        // no fractional cell in column 3: 14 must give column 1 to 12 and take 3.
        let split =
            level_split(&[14, 12], &[4, 1, 1, 2], ResiduePlacement::LargestRemainder).unwrap();
        assert_eq!(split, [vec![7, 1, 2, 4], vec![6, 2, 1, 3]]);
    }

    #[test]
    fn a_single_amount_splits_exactly_like_allocate() {
        for placement in [
            ResiduePlacement::LargestRemainder,
            ResiduePlacement::First,
            ResiduePlacement::Last,
        ] {
            let split = level_split(&[10000], &[1; 12], placement).unwrap();
            assert_eq!(
                split[0],
                allocate_units(10000, &[1; 12], placement).unwrap()
            );
        }
    }

    #[test]
    fn a_negative_split_is_the_mirror_of_the_positive_one() {
        let weights = [3, 2, 1, 1, 1];
        let charges = level_split(
            &[1001, 502, 77],
            &weights,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        let credits = level_split(
            &[-1001, -502, -77],
            &weights,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        for (charge, credit) in charges.iter().zip(&credits) {
            let negated: Vec<i128> = charge.iter().map(|cell| -cell).collect();
            assert_eq!(&negated, credit);
        }
    }

    #[test]
    fn the_last_installment_can_take_the_whole_residue() {
        let amounts = [13986, 1294, 19278, 1783, 1000, 998];
        let split = level_split(&amounts, &[1; 12], ResiduePlacement::Last).unwrap();
        // 383.39 / 12 = 31.949...: eleven of 31.95, the last takes 31.94.
        let mut expected = vec![3195; 11];
        expected.push(3194);
        assert_eq!(column_sums(&split, 12), expected);
        for (row, amount) in split.iter().zip(amounts) {
            assert_eq!(row.iter().sum::<i128>(), amount);
        }
    }

    #[test]
    fn zero_weight_columns_get_nothing() {
        let split = level_split(
            &[1000, 333],
            &[1, 0, 1, 0],
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        assert_eq!(split, [vec![500, 0, 500, 0], vec![166, 0, 167, 0]]);
    }

    #[test]
    fn limits_and_bad_weights_are_errors() {
        assert_eq!(
            level_split(
                &vec![1; AMOUNTS_MAX + 1],
                &[1],
                ResiduePlacement::LargestRemainder
            ),
            Err(LevelError::TooManyAmounts(AMOUNTS_MAX + 1))
        );
        assert_eq!(
            level_split(&[1], &[0, 0], ResiduePlacement::LargestRemainder),
            Err(LevelError::Allocation(AllocationError::ZeroTotalWeight))
        );
        assert_eq!(
            level_split(&[], &[1], ResiduePlacement::LargestRemainder),
            Ok(vec![])
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
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn level_splits_are_exact_per_amount_and_level_per_column(
            amounts in prop::collection::vec(-2_000_000_i128..2_000_000, 1..12),
            weights in prop::collection::vec(0_i128..400, 1..30),
            placement in placements(),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let split = level_split(&amounts, &weights, placement).unwrap();
            for (row, amount) in split.iter().zip(&amounts) {
                prop_assert_eq!(row.iter().sum::<i128>(), *amount);
            }
            let total: i128 = amounts.iter().sum();
            let sign = if total < 0 { -1 } else { 1 };
            let level: Vec<i128> = allocate_units(total.abs(), &weights, placement)
                .unwrap()
                .into_iter()
                .map(|cell| sign * cell)
                .collect();
            prop_assert_eq!(column_sums(&split, weights.len()), level);
            if placement == ResiduePlacement::LargestRemainder {
                prop_assert!(cells_are_floor_or_ceiling(&split, &amounts, &weights));
            }
        }

        #[test]
        fn same_sign_amounts_never_get_a_unit_of_the_other_sign(
            amounts in prop::collection::vec(0_i128..5_000, 1..12),
            weights in prop::collection::vec(0_i128..50, 1..30),
            placement in placements(),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let split = level_split(&amounts, &weights, placement).unwrap();
            prop_assert!(split.iter().flatten().all(|cell| *cell >= 0));
        }
    }
}
