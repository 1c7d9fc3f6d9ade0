//! The auto rater: a realistic personal-auto rating plugin built on rate
//! tables.
//!
//! For each vehicle (exposure) and coverage (peril) it computes a yearly
//! premium:
//!
//! ```text
//! base rate [vehicle class, peril] × territory factor × driver age factor
//!   × deductible factor (collision and comprehensive), rounded to cents
//! ```
//!
//! Worked example: a sedan in an urban territory with a 30-year-old driver and
//! a 500 deductible pays 612.00 × 1.25 × 1.00 × 1.00 = 765.00 a year for
//! collision. New business also carries a flat 25.00 policy fee, and a
//! `producer` on the policy earns a 10% commission on each peril.
//! Drivers under 16 are declined.

use premia_plugin_sdk::rating::*;

/// The auto rater.
pub struct AutoRater;

/// The yearly commission rate paid to the producer named on the policy.
const COMMISSION_RATE: &str = "0.10";
/// The flat policy fee charged on new business.
const POLICY_FEE: &str = "25.00";
/// The youngest insurable driver.
const DRIVER_AGE_MIN: i64 = 16;

impl Rater for AutoRater {
    fn rate(request: RateRequest) -> Result<RateResponse, RatingError> {
        let policy_fields = &request.policy.characteristics;
        let territory = policy_fields.text("territory")?;
        let territory_factor = lookup_decimal("territory", &[territory], "factor")
            .map_err(RatingError::InvalidInput)?;
        let producer = policy_fields.text("producer").ok();

        let mut priced = Vec::with_capacity(request.items.len());
        for item in &request.items {
            let (exposure, peril) = request.peril_of(item)?;
            let vehicle = &exposure.characteristics;
            let driver_age = vehicle.integer("driver_age")?;
            if driver_age < DRIVER_AGE_MIN {
                return Err(RatingError::decline(format!(
                    "vehicle {}: drivers under {DRIVER_AGE_MIN} are not insurable",
                    exposure.locator
                )));
            }
            let vehicle_class = vehicle.text("vehicle_class")?;
            let base = lookup_decimal("base-rates", &[vehicle_class], &peril.name)
                .map_err(RatingError::InvalidInput)?;
            let age_factor = lookup_decimal("driver-age", &[age_band(driver_age)], "factor")
                .map_err(RatingError::InvalidInput)?;
            let deductible_factor = if peril.name == "bodily_injury" {
                Decimal::ONE
            } else {
                let deductible = peril.characteristics.integer("deductible").unwrap_or(500);
                lookup_decimal("deductible", &[deductible.to_string().as_str()], "factor")
                    .map_err(RatingError::InvalidInput)?
            };
            let yearly = round_money(base * territory_factor * age_factor * deductible_factor, 2);
            let mut priced_item = PricedItem::yearly(&item.locator, yearly)
                .technical(Amount::yearly(round_money(base * territory_factor, 2)));
            if let Some(producer) = producer {
                let commission = round_money(yearly * dec(COMMISSION_RATE), 2);
                priced_item = priced_item.commission(producer, Amount::yearly(commission));
            }
            priced.push(priced_item);
        }

        let mut response = RateResponse::items(priced);
        if request.operation == Operation::NewBusiness {
            response = response.flat(FlatCharge::new("policy-fee", dec(POLICY_FEE), "Policy fee"));
        }
        log(
            LogLevel::Debug,
            &format!("rated {} items", request.items.len()),
        );
        Ok(response)
    }
}

/// The driver-age table's band for an age.
fn age_band(age: i64) -> &'static str {
    match age {
        ..=20 => "16-20",
        21..=24 => "21-24",
        25..=64 => "25-64",
        _ => "65+",
    }
}

premia_plugin_sdk::register_rater!(AutoRater);

#[cfg(test)]
mod tests {
    use super::*;
    use premia_plugin_sdk::testing;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date::new(year, month, day)
    }

    fn characteristics(locator: &str, fields: &[(&str, FieldValue)]) -> Characteristics {
        Characteristics {
            locator: locator.to_string(),
            period: Period {
                start: date(2025, 1, 1),
                end: date(2026, 1, 1),
            },
            fields: fields
                .iter()
                .map(|(name, value)| Field {
                    name: name.to_string(),
                    values: vec![value.clone()],
                })
                .collect(),
        }
    }

    fn text(value: &str) -> FieldValue {
        FieldValue::Text(value.to_string())
    }

    /// One sedan with three perils, in `territory`, driven by a driver of `age`.
    fn request(territory: &str, age: i64, operation: Operation) -> RateRequest {
        let perils = ["bodily_injury", "collision", "comprehensive"]
            .iter()
            .map(|name| Peril {
                locator: format!("peril-{name}"),
                name: name.to_string(),
                characteristics: characteristics(
                    &format!("pc-{name}"),
                    &[("deductible", FieldValue::Integer(500))],
                ),
            })
            .collect::<Vec<_>>();
        let exposure = Exposure {
            locator: "vehicle-1".to_string(),
            name: "vehicle".to_string(),
            characteristics: characteristics(
                "ec-1",
                &[
                    ("vehicle_class", text("sedan")),
                    ("driver_age", FieldValue::Integer(age)),
                ],
            ),
            perils,
        };
        let items = exposure
            .perils
            .iter()
            .map(|peril| RateItem {
                locator: peril.characteristics.locator.clone(),
                policy_characteristics: "pc".to_string(),
                exposure_characteristics: Some("ec-1".to_string()),
                peril_characteristics: Some(peril.characteristics.locator.clone()),
            })
            .collect();
        RateRequest {
            operation,
            policy: Policy {
                locator: "policy-1".to_string(),
                product_name: "auto".to_string(),
                currency: "USD".to_string(),
                time_zone: "America/New_York".to_string(),
                term: Period {
                    start: date(2025, 1, 1),
                    end: date(2026, 1, 1),
                },
                characteristics: characteristics(
                    "pc",
                    &[
                        ("territory", text(territory)),
                        ("producer", text("agency-7")),
                    ],
                ),
                exposures: vec![exposure],
            },
            items,
            segment: Period {
                start: date(2025, 1, 1),
                end: date(2026, 1, 1),
            },
            currency: "USD".to_string(),
            time_zone: "America/New_York".to_string(),
        }
    }

    fn load_tables() {
        testing::load_tables_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tables"));
    }

    #[test]
    fn an_urban_sedan_with_a_thirty_year_old_driver_is_priced_from_the_tables() {
        load_tables();
        let response = AutoRater::rate(request("urban", 30, Operation::NewBusiness)).unwrap();
        let premiums: Vec<_> = response.items.iter().map(|i| i.premium.clone()).collect();
        assert_eq!(
            premiums,
            vec![
                Amount::Yearly("512.50".into()),
                Amount::Yearly("765.00".into()),
                Amount::Yearly("185.00".into()),
            ]
        );
        assert_eq!(
            response.items[1].commissions[0].amount,
            Amount::Yearly("76.50".into())
        );
    }

    #[test]
    fn a_young_rural_driver_pays_the_age_and_territory_factors() {
        load_tables();
        let response = AutoRater::rate(request("rural", 19, Operation::Endorsement)).unwrap();
        // 410.00 × 0.85 × 1.90 = 662.15
        assert_eq!(response.items[0].premium, Amount::Yearly("662.15".into()));
        assert!(
            response.flat_charges.is_empty(),
            "only new business pays the policy fee"
        );
    }

    #[test]
    fn new_business_carries_the_policy_fee() {
        load_tables();
        let response = AutoRater::rate(request("suburban", 40, Operation::NewBusiness)).unwrap();
        assert_eq!(response.flat_charges.len(), 1);
        assert_eq!(response.flat_charges[0].charge, "policy-fee");
        assert_eq!(response.flat_charges[0].amount, "25.00");
    }

    #[test]
    fn drivers_under_sixteen_are_declined() {
        load_tables();
        let error = AutoRater::rate(request("urban", 15, Operation::NewBusiness)).unwrap_err();
        assert_eq!(
            error,
            RatingError::Declined("vehicle vehicle-1: drivers under 16 are not insurable".into())
        );
    }

    #[test]
    fn an_unknown_territory_is_invalid_input_naming_the_table() {
        load_tables();
        let error = AutoRater::rate(request("lunar", 30, Operation::NewBusiness)).unwrap_err();
        assert_eq!(
            error,
            RatingError::InvalidInput("territory[lunar].factor: no such row".into())
        );
    }
}
