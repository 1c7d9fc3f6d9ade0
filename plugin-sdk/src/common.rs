//! Helpers on the shared WIT types (`premia:plugin/types`), generated once per
//! world because each world's bindings carry their own copy of those types.

/// Implements the helpers for the `types` module of one world's bindings.
#[allow(unused_macros)]
macro_rules! impl_type_helpers {
    ($($types:ident)::+) => {
        use $($types)::+ as wit_types;

        impl wit_types::PluginError {
            /// A business refusal, shown to the user as it is.
            pub fn decline(message: impl Into<String>) -> Self {
                wit_types::PluginError::Declined(message.into())
            }

            /// Input the plugin cannot use; say which field.
            pub fn invalid(message: impl Into<String>) -> Self {
                wit_types::PluginError::InvalidInput(message.into())
            }
        }

        impl wit_types::Date {
            /// A date from its parts (not validated: the host validates).
            pub const fn new(year: i32, month: u8, day: u8) -> Self {
                wit_types::Date { year, month, day }
            }

            /// Days since 1970-01-01 (negative before), by the proleptic
            /// Gregorian calendar.
            pub fn days_since_epoch(&self) -> i64 {
                // Howard Hinnant's days_from_civil.
                let year = i64::from(self.year) - i64::from(self.month <= 2);
                let era = if year >= 0 { year } else { year - 399 } / 400;
                let year_of_era = year - era * 400;
                let month = i64::from(self.month);
                let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
                    + i64::from(self.day)
                    - 1;
                let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
                era * 146_097 + day_of_era - 719_468
            }

            /// Whole years from `self` to `later` (an age on `later`).
            pub fn years_until(&self, later: &wit_types::Date) -> i32 {
                let before_birthday = (later.month, later.day) < (self.month, self.day);
                later.year - self.year - i32::from(before_birthday)
            }
        }

        impl wit_types::Period {
            /// The number of days in `[start, end)`.
            pub fn days(&self) -> i64 {
                self.end.days_since_epoch() - self.start.days_since_epoch()
            }
        }

        impl wit_types::Characteristics {
            /// The first value of a field, or invalid input naming it.
            pub fn field(&self, name: &str) -> Result<&wit_types::FieldValue, wit_types::PluginError> {
                self.fields
                    .iter()
                    .find(|field| field.name == name)
                    .and_then(|field| field.values.first())
                    .ok_or_else(|| {
                        wit_types::PluginError::invalid(format!("{}: missing field {name}", self.locator))
                    })
            }

            /// Whether the field is present with at least one value.
            pub fn has(&self, name: &str) -> bool {
                self.fields.iter().any(|field| field.name == name && !field.values.is_empty())
            }

            /// A text field.
            pub fn text(&self, name: &str) -> Result<&str, wit_types::PluginError> {
                match self.field(name)? {
                    wit_types::FieldValue::Text(text) => Ok(text),
                    other => Err(self.wrong_type(name, "text", other)),
                }
            }

            /// An integer field (a text holding an integer is accepted).
            pub fn integer(&self, name: &str) -> Result<i64, wit_types::PluginError> {
                match self.field(name)? {
                    wit_types::FieldValue::Integer(value) => Ok(*value),
                    wit_types::FieldValue::Text(text) => text.trim().parse().map_err(|_| {
                        wit_types::PluginError::invalid(format!(
                            "{}: field {name} is {text:?}, not an integer",
                            self.locator
                        ))
                    }),
                    other => Err(self.wrong_type(name, "integer", other)),
                }
            }

            /// A decimal field (an integer or a text holding a number is accepted).
            pub fn decimal(&self, name: &str) -> Result<$crate::Decimal, wit_types::PluginError> {
                match self.field(name)? {
                    wit_types::FieldValue::Number(text) | wit_types::FieldValue::Text(text) => {
                        $crate::parse_decimal(text, &format!("{}: field {name}", self.locator))
                            .map_err(wit_types::PluginError::InvalidInput)
                    }
                    wit_types::FieldValue::Integer(value) => Ok($crate::Decimal::from(*value)),
                    other => Err(self.wrong_type(name, "number", other)),
                }
            }

            /// A yes/no field.
            pub fn boolean(&self, name: &str) -> Result<bool, wit_types::PluginError> {
                match self.field(name)? {
                    wit_types::FieldValue::Boolean(value) => Ok(*value),
                    other => Err(self.wrong_type(name, "boolean", other)),
                }
            }

            /// A date field.
            pub fn date(&self, name: &str) -> Result<wit_types::Date, wit_types::PluginError> {
                match self.field(name)? {
                    wit_types::FieldValue::Date(value) => Ok(*value),
                    other => Err(self.wrong_type(name, "date", other)),
                }
            }

            fn wrong_type(
                &self,
                name: &str,
                expected: &str,
                found: &wit_types::FieldValue,
            ) -> wit_types::PluginError {
                wit_types::PluginError::invalid(format!(
                    "{}: field {name} should be {expected}, found {found:?}",
                    self.locator
                ))
            }
        }
    };
}

#[allow(unused_imports)]
pub(crate) use impl_type_helpers;
