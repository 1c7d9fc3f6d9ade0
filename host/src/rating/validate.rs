//! Checks every rater's response against its request, so a bad response is
//! an `invalid output` failure and never a wrong charge.

use super::{RateRequest, RateResponse, RaterFailure, RatingError};
use std::collections::HashSet;

/// Checks that every requested item is priced, that nothing else is, and that
/// no flat charge names an unknown item.
///
/// Worked example: a request for items `A` and `B` answered with prices for
/// `A` and `C` fails with "item C was not requested".
pub fn validate_response(
    rater: &str,
    request: &RateRequest,
    response: &RateResponse,
) -> Result<(), RatingError> {
    let invalid =
        |message: String| RatingError::failed(rater, RaterFailure::InvalidOutput, message);
    let requested: HashSet<&str> = request.items.iter().map(|i| i.locator.as_str()).collect();
    let mut priced: HashSet<&str> = HashSet::with_capacity(requested.len());
    for item in &response.items {
        if !requested.contains(item.locator.as_str()) {
            return Err(invalid(format!("item {} was not requested", item.locator)));
        }
        priced.insert(item.locator.as_str());
    }
    if let Some(missing) = request
        .items
        .iter()
        .find(|i| !priced.contains(i.locator.as_str()))
    {
        return Err(invalid(format!("item {} was not priced", missing.locator)));
    }
    for flat in &response.flat_charges {
        if let Some(item) = &flat.item
            && !requested.contains(item.as_str())
        {
            return Err(invalid(format!(
                "flat charge {} names unknown item {item}",
                flat.charge
            )));
        }
        if flat.charge.is_empty() {
            return Err(invalid("a flat charge has no charge name".to_string()));
        }
    }
    Ok(())
}
