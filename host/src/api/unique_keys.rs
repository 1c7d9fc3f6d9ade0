//! A JSON document in which no object names a key twice. serde refuses a
//! repeated field of a struct (`duplicate field`), but a map or a
//! `serde_json::Value` silently keeps the last one: bodies read as values
//! (the billing commands, the entries of a bundle) or holding maps would
//! answer a repeated key differently from typed ones. [`check`] walks the
//! whole document once, without building it, and refuses the first repeat.

use serde::de::{Deserialize, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Refuses `json` if an object in it, at any depth, names a key twice
/// (`duplicate field `amount` at line 1 column 40`). Malformed JSON is an
/// error too, but callers parse the body first and report that themselves.
pub fn check(json: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<UniqueKeys>(json).map(|_| ())
}

/// Any JSON value whose objects have unique keys.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_i64<E: Error>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_u64<E: Error>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_f64<E: Error>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_str<E: Error>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_unit<E: Error>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                // The value is read so the position given is the key's.
                map.next_value::<IgnoredAny>()?;
                return Err(A::Error::custom(format_args!("duplicate field `{key}`")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_key_repeated_in_any_object_is_refused_and_named() {
        let repeated = [
            r#"{"amount": "1.00", "amount": "2.00"}"#,
            r#"{"settings": {"a": 1, "a": 2}}"#,
            r#"[{"x": 1}, {"y": [{"z": 1, "z": 1}]}]"#,
        ];
        for json in repeated {
            let error = check(json.as_bytes()).unwrap_err();
            assert!(
                error.to_string().starts_with("duplicate field `"),
                "{json}: {error}"
            );
            assert!(error.is_data(), "{json}");
        }
        assert!(
            check(br#"{"amount": "1.00", "nested": {"amount": 2}, "list": [{"amount": 3}]}"#)
                .is_ok()
        );
        assert!(check(br#""text""#).is_ok());
        assert!(check(b"null").is_ok());
    }
}
