//! Refusing full card numbers: a payment method is a processor's token,
//! never a card number (PCI DSS keeps primary account numbers out of
//! systems that need not hold them). Anything that looks like one in any
//! field of a request is refused before anything is kept.
//!
//! "Looks like a card number": a run of 13 to 19 digits, possibly split
//! by single spaces or dashes, that passes the Luhn check.
//!
//! Example: `"4242 4242 4242 4242"` and `"tok_4111-1111-1111-1111"` are
//! refused; `"4242"` (a last four), `"tok_1234567890123"` (13 digits
//! failing Luhn) and `"2030"` are accepted.

/// The fewest digits of a card number.
pub const CARD_DIGITS_MIN: usize = 13;
/// The most digits of a card number.
pub const CARD_DIGITS_MAX: usize = 19;

/// Whether `digits` (ASCII digits only) pass the Luhn check.
///
/// Example: `4111111111111111` passes; `4111111111111112` does not.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (index, digit) in digits.iter().rev().enumerate() {
        let mut value = u32::from(digit - b'0');
        if index % 2 == 1 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        sum += value;
    }
    sum.is_multiple_of(10)
}

/// Whether `text` contains something that looks like a full card number:
/// a run of 13 to 19 digits (single spaces or dashes allowed between
/// them) that passes the Luhn check.
pub fn contains_card_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut runs: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_digit() {
            current.push(byte);
        } else if (byte == b' ' || byte == b'-')
            && !current.is_empty()
            && bytes.get(index + 1).is_some_and(u8::is_ascii_digit)
        {
            // A separator inside a run of digits.
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
        index += 1;
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs.iter()
        .any(|run| (CARD_DIGITS_MIN..=CARD_DIGITS_MAX).contains(&run.len()) && luhn(run))
}

/// The first of `fields` (name, value) that looks like a card number.
pub fn first_card_number<'a>(fields: &[(&'a str, &str)]) -> Option<&'a str> {
    fields
        .iter()
        .find(|(_, value)| contains_card_number(value))
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_with_spaces_or_dashes_that_pass_luhn_are_found() {
        assert!(contains_card_number("4242424242424242"));
        assert!(contains_card_number("4242 4242 4242 4242"));
        assert!(contains_card_number("tok_4111-1111-1111-1111"));
        assert!(contains_card_number("my card 378282246310005 ok"));
    }

    #[test]
    fn short_numbers_and_numbers_failing_luhn_are_not_card_numbers() {
        assert!(!contains_card_number("4242"));
        assert!(!contains_card_number("2030"));
        assert!(!contains_card_number("4111111111111112"));
        assert!(!contains_card_number("tok_1234567890123"));
        assert!(!contains_card_number("pm_1"));
    }

    #[test]
    fn the_luhn_check_doubles_every_second_digit_from_the_right() {
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
    }
}
