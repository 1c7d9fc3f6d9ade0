//! The faulty rater: a plugin that misbehaves on purpose, so the host's
//! sandbox limits and typed errors can be tested.
//!
//! The policy field `mode` picks the misbehaviour:
//!
//! | mode             | what it does                                   | host error expected |
//! |------------------|------------------------------------------------|---------------------|
//! | `ok`             | prices every item at 100.00 a year             | none                |
//! | `loop`           | spins forever                                  | out of fuel / deadline |
//! | `allocate`       | allocates memory without bound                 | memory limit        |
//! | `trap`           | panics (a trap)                                | trap, with message  |
//! | `stack-overflow` | recurses without end                           | trap (stack overflow) |
//! | `huge-output`    | returns a response of many megabytes           | output too large    |
//! | `malformed`      | returns a premium that is not a decimal        | invalid output      |
//! | `unknown-item`   | prices an item that was not requested          | invalid output      |
//! | `log-flood`      | logs without end, then answers                 | none (logs capped)  |
//! | `decline`        | declines the request                           | declined            |

use premia_plugin_sdk::rating::*;

/// The faulty rater.
pub struct FaultyRater;

/// How many bytes of output `huge-output` produces.
pub const HUGE_OUTPUT_BYTES: usize = 4 * 1024 * 1024;
/// How many log lines `log-flood` writes.
pub const LOG_FLOOD_LINES: usize = 10_000;

impl Rater for FaultyRater {
    fn rate(request: RateRequest) -> Result<RateResponse, RatingError> {
        let mode = request.policy.characteristics.text("mode")?.to_string();
        let price_all = |request: &RateRequest| {
            RateResponse::items(
                request
                    .items
                    .iter()
                    .map(|item| PricedItem::yearly(&item.locator, dec("100.00")))
                    .collect(),
            )
        };
        match mode.as_str() {
            "ok" => Ok(price_all(&request)),
            "loop" => spin_forever(),
            "allocate" => allocate_without_bound(),
            "trap" => panic!("faulty plugin trapped on purpose"),
            "stack-overflow" => Ok(RateResponse::items(vec![PricedItem::yearly(
                "deep",
                Decimal::from(recurse(std::hint::black_box(1))),
            )])),
            "huge-output" => {
                let mut response = price_all(&request);
                response.flat_charges.push(FlatCharge::new(
                    "policy-fee",
                    dec("1.00"),
                    &"x".repeat(HUGE_OUTPUT_BYTES),
                ));
                Ok(response)
            }
            "malformed" => {
                let mut response = price_all(&request);
                for item in &mut response.items {
                    item.premium = Amount::Yearly("12,50 EUR".to_string());
                }
                Ok(response)
            }
            "unknown-item" => Ok(RateResponse::items(vec![PricedItem::yearly(
                "not-requested",
                dec("1.00"),
            )])),
            "log-flood" => {
                for line in 0..LOG_FLOOD_LINES {
                    log(
                        LogLevel::Info,
                        &format!("flood line {line} {}", "y".repeat(100)),
                    );
                }
                Ok(price_all(&request))
            }
            "decline" => Err(RatingError::decline("faulty plugin declines on purpose")),
            other => Err(RatingError::invalid(format!("unknown mode {other:?}"))),
        }
    }
}

fn spin_forever() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

fn allocate_without_bound() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Reserve without touching: the limit is on growth, not on writes.
        let mut block: Vec<u8> = Vec::with_capacity(1024 * 1024);
        block.push(1);
        hoard.push(std::hint::black_box(block));
    }
}

/// The deepest level reached: a side effect, so the recursion is not
/// optimised away.
static DEPTH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Recurses without end, using the WebAssembly call stack only (no locals in
/// linear memory), so the host's stack limit is what stops it.
#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    DEPTH.store(depth, std::sync::atomic::Ordering::Relaxed);
    let deeper = recurse(depth + 1);
    // Work after the call: no tail call, no loop.
    DEPTH.store(deeper, std::sync::atomic::Ordering::Relaxed);
    depth.wrapping_sub(deeper)
}

premia_plugin_sdk::register_rater!(FaultyRater);

#[cfg(test)]
mod tests {
    use super::*;

    fn request(mode: &str) -> RateRequest {
        let date = Date::new(2025, 1, 1);
        let period = Period {
            start: date,
            end: Date::new(2026, 1, 1),
        };
        RateRequest {
            operation: Operation::NewBusiness,
            policy: Policy {
                locator: "p".into(),
                product_name: "faulty".into(),
                currency: "USD".into(),
                time_zone: "UTC".into(),
                term: period,
                characteristics: Characteristics {
                    locator: "pc".into(),
                    period,
                    fields: vec![Field {
                        name: "mode".into(),
                        values: vec![FieldValue::Text(mode.into())],
                    }],
                },
                exposures: vec![],
            },
            items: vec![RateItem {
                locator: "item-1".into(),
                policy_characteristics: "pc".into(),
                exposure_characteristics: None,
                peril_characteristics: None,
            }],
            segment: period,
            currency: "USD".into(),
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn ok_mode_prices_every_item_at_one_hundred() {
        let response = FaultyRater::rate(request("ok")).unwrap();
        assert_eq!(response.items[0].premium, Amount::Yearly("100.00".into()));
    }

    #[test]
    #[should_panic(expected = "faulty plugin trapped on purpose")]
    fn trap_mode_panics() {
        let _ = FaultyRater::rate(request("trap"));
    }

    #[test]
    fn malformed_mode_returns_a_premium_that_is_not_a_decimal() {
        let response = FaultyRater::rate(request("malformed")).unwrap();
        assert_eq!(
            response.items[0].premium,
            Amount::Yearly("12,50 EUR".into())
        );
    }

    #[test]
    fn huge_output_mode_returns_many_megabytes() {
        let response = FaultyRater::rate(request("huge-output")).unwrap();
        assert!(response.flat_charges[0].description.len() >= HUGE_OUTPUT_BYTES);
    }

    #[test]
    fn decline_and_unknown_modes_are_business_and_input_errors() {
        assert!(matches!(
            FaultyRater::rate(request("decline")),
            Err(RatingError::Declined(_))
        ));
        assert!(matches!(
            FaultyRater::rate(request("nonsense")),
            Err(RatingError::InvalidInput(_))
        ));
    }
}
