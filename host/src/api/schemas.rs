//! OpenAPI schemas for the types whose JSON is not their Rust shape: a
//! currency is its ISO 4217 code, a billing day is one of three forms, an
//! accounting period is `YYYY-MM`.

use crate::billing::BillingDay;
use crate::domain::Currency;
use crate::engine::Month;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Z]{3}$"))
            .description(Some("An ISO 4217 currency code"))
            .examples(["USD"])
            .into()
    }
}

impl ToSchema for Currency {}

impl PartialSchema for Month {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{4}-[0-9]{2}$"))
            .description(Some("A calendar month, the accounting period: YYYY-MM"))
            .examples(["2026-01"])
            .into()
    }
}

impl ToSchema for Month {}

impl PartialSchema for BillingDay {
    fn schema() -> RefOr<Schema> {
        let weekday = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]));
        let day_of_week = ObjectBuilder::new()
            .property("day-of-week", weekday)
            .required("day-of-week")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ));
        let day_of_month = ObjectBuilder::new()
            .property(
                "day-of-month",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(30)),
            )
            .required("day-of-month")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
            ));
        let last_day = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["last-day-of-month"]));
        OneOfBuilder::new()
            .item(day_of_week)
            .item(day_of_month)
            .item(last_day)
            .description(Some("Which day billing runs on"))
            .into()
    }
}

impl ToSchema for BillingDay {}
