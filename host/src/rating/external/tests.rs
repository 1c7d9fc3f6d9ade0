//! The external rater against a real HTTP server on the loopback interface
//! that answers like a Socotra external rater.

use super::test_support::{expected_wire_json, sample_request, serve};
use super::*;
use crate::rating::{Commission, Premium, PricedItem};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap as AxumHeaders, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

const SECRET: &str = "Bearer s3cr3t-t0ken-value";

/// What the test server saw.
#[derive(Default)]
struct Seen {
    calls: usize,
    headers: AxumHeaders,
    body: Value,
}

type Shared = Arc<Mutex<Seen>>;

fn rater(address: SocketAddr, timeout_ms: u64) -> ExternalRater {
    let config = ExternalRaterConfig::new("acme-rater", format!("http://{address}/rate"))
        .with_header("Authorization", SECRET)
        .with_header("X-Tenant", "acme")
        .with_timeout_ms(timeout_ms);
    ExternalRater::new(&config).expect("valid registration")
}

/// A server at `/rate` that records the call and answers `status` with `body`.
fn answering(status: StatusCode, body: impl Into<String>) -> (SocketAddr, Shared) {
    let seen = Shared::default();
    let body = body.into();
    let router = Router::new()
        .route(
            "/rate",
            post(
                move |State(seen): State<Shared>, headers: AxumHeaders, bytes: Bytes| async move {
                    let mut record = seen.lock().unwrap();
                    record.calls += 1;
                    record.headers = headers;
                    record.body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    (status, [(header::CONTENT_TYPE, "application/json")], body)
                },
            ),
        )
        .with_state(seen.clone());
    (serve(router), seen)
}

fn rate_with(status: StatusCode, body: &str) -> Result<RateResponse, RatingError> {
    let (address, _) = answering(status, body);
    rater(address, 5_000).rate(&sample_request())
}

fn failure(result: Result<RateResponse, RatingError>) -> (RaterFailure, String) {
    match result {
        Err(error @ RatingError::Failed { failure, .. }) => {
            let text = error.to_string();
            assert!(!text.contains("s3cr3t"), "credential leaked: {text}");
            (failure, text)
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn yearly_item(locator: &str, amount: rust_decimal::Decimal) -> PricedItem {
    PricedItem {
        locator: locator.into(),
        charge: None,
        premium: Premium::Yearly(amount),
        technical_premium: None,
        commissions: Vec::new(),
    }
}

#[test]
fn the_request_arrives_in_socotras_shape_with_the_registered_headers() {
    let (address, seen) = answering(
        StatusCode::OK,
        r#"{"pricedPerilCharacteristics": {
            "PER1:2025-03-01": {"yearlyPremium": "765.00"},
            "PER2:2025-03-01": {"yearlyPremium": "300.00"}}}"#,
    );
    let response = rater(address, 5_000).rate(&sample_request()).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.calls, 1);
    assert_eq!(seen.body, expected_wire_json(json!({})));
    assert_eq!(seen.headers["authorization"], SECRET);
    assert_eq!(seen.headers["x-tenant"], "acme");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(
        response,
        RateResponse {
            items: vec![
                yearly_item("PER1", dec!(765.00)),
                yearly_item("PER2", dec!(300.00))
            ],
            flat_charges: Vec::new(),
        }
    );
}

#[test]
fn the_optional_locators_are_sent_when_premia_knows_them() {
    let (address, seen) = answering(
        StatusCode::OK,
        r#"{"pricedPerilCharacteristics": {
            "PER1:2025-03-01": {"yearlyPremium": "1"}, "PER2:2025-03-01": {"yearlyPremium": "1"}}}"#,
    );
    let locators = CallLocators {
        quote_locator: Some("Q-7".into()),
        renewal_locator: Some("R-2".into()),
        ..CallLocators::default()
    };
    rater(address, 5_000)
        .rate_with_locators(&sample_request(), &locators)
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().body,
        expected_wire_json(json!({"quoteLocator": "Q-7", "renewalLocator": "R-2"}))
    );
}

#[test]
fn a_transaction_s_locators_reach_the_wire_through_the_rater_trait_and_a_fallback_chain() {
    let (address, seen) = answering(
        StatusCode::OK,
        r#"{"pricedPerilCharacteristics": {
            "PER1:2025-03-01": {"yearlyPremium": "1"}, "PER2:2025-03-01": {"yearlyPremium": "1"}}}"#,
    );
    let locators = CallLocators {
        endorsement_locator: Some("P1-T2".into()),
        ..CallLocators::default()
    };
    let external: std::sync::Arc<dyn Rater> = std::sync::Arc::new(rater(address, 5_000));
    let (_, identity) = external
        .rate_with_call_locators(&sample_request(), &locators)
        .unwrap();
    assert_eq!(identity, external.identity());
    assert_eq!(
        seen.lock().unwrap().body,
        expected_wire_json(json!({"endorsementLocator": "P1-T2"}))
    );
    let chain = crate::rating::FallbackRater {
        primary: external.clone(),
        fallback: external,
    };
    chain
        .rate_with_call_locators(&sample_request(), &locators)
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().body,
        expected_wire_json(json!({"endorsementLocator": "P1-T2"}))
    );
}

#[test]
fn exact_premiums_technical_premiums_and_commissions_are_read() {
    let response = rate_with(
        StatusCode::OK,
        r#"{"pricedPerilCharacteristics": {
            "PER1:2025-03-01": {"exactPremium": "12.00", "exactTechnicalPremium": "10.00",
                "commissions": [{"recipient": "agency-7", "exactAmount": "1.20"}]},
            "PER2:2025-03-01": {"yearlyPremium": "300.00", "yearlyTechnicalPremium": "250.00",
                "commissions": [{"recipient": "agency-7", "yearlyAmount": "30.00",
                                 "exactAmount": "2.50"},
                                {"recipient": "mga", "yearlyAmount": "15.00"}],
                "renewalGroup": "ignored"}},
            "someVendorExtension": true}"#,
    )
    .unwrap();
    assert_eq!(
        response.items,
        vec![
            PricedItem {
                locator: "PER1".into(),
                charge: None,
                premium: Premium::Exact(dec!(12.00)),
                technical_premium: Some(Premium::Exact(dec!(10.00))),
                commissions: vec![Commission {
                    recipient: "agency-7".into(),
                    amount: Premium::Exact(dec!(1.20)),
                }],
            },
            PricedItem {
                locator: "PER2".into(),
                charge: None,
                premium: Premium::Yearly(dec!(300.00)),
                technical_premium: Some(Premium::Yearly(dec!(250.00))),
                commissions: vec![
                    Commission {
                        recipient: "agency-7".into(),
                        amount: Premium::Exact(dec!(2.50)),
                    },
                    Commission {
                        recipient: "mga".into(),
                        amount: Premium::Yearly(dec!(15.00)),
                    },
                ],
            },
        ]
    );
}

#[test]
fn premium_and_technical_premium_are_aliases_of_the_yearly_names() {
    let response = rate_with(
        StatusCode::OK,
        r#"{"pricedPerilCharacteristics": {
            "PER1:2025-03-01": {"premium": "765.00", "technicalPremium": "700.00"},
            "PER2:2025-03-01": {"premium": "300.00"}}}"#,
    )
    .unwrap();
    assert_eq!(response.items[0].premium, Premium::Yearly(dec!(765.00)));
    assert_eq!(
        response.items[0].technical_premium,
        Some(Premium::Yearly(dec!(700.00)))
    );
    assert_eq!(response.items[1].premium, Premium::Yearly(dec!(300.00)));
}

#[test]
fn an_exception_message_declines_with_that_message() {
    assert_eq!(
        rate_with(
            StatusCode::OK,
            r#"{"exceptionMessage": "Drivers under 18 are not eligible"}"#
        ),
        Err(RatingError::Declined(
            "Drivers under 18 are not eligible".into()
        ))
    );
}

#[test]
fn an_exception_message_that_echoes_the_credential_has_it_redacted() {
    let (address, _) = answering(
        StatusCode::OK,
        json!({"exceptionMessage": format!("bad auth {SECRET} and token s3cr3t-t0ken-value")})
            .to_string(),
    );
    assert_eq!(
        rater(address, 5_000).rate(&sample_request()),
        Err(RatingError::Declined(
            "bad auth <redacted> and token <redacted>".into()
        ))
    );
}

#[test]
fn a_rater_slower_than_the_timeout_misses_its_deadline() {
    let router = Router::new().route(
        "/rate",
        post(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            "{}"
        }),
    );
    let address = serve(router);
    let started = Instant::now();
    let result = rater(address, 300).rate(&sample_request());
    let elapsed = started.elapsed();
    assert_eq!(
        failure(result),
        (
            RaterFailure::Deadline,
            "rater acme-rater failed (rater_deadline): no answer within 300 ms".into()
        )
    );
    assert!(elapsed.as_millis() >= 300, "{elapsed:?}");
    assert!(elapsed.as_millis() < 2_000, "{elapsed:?}");
}

#[test]
fn a_closed_port_is_unavailable() {
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The listener is dropped: nothing listens there any more.
    let (kind, text) = failure(rater(address, 2_000).rate(&sample_request()));
    assert_eq!(kind, RaterFailure::Unavailable);
    assert!(
        text.starts_with("rater acme-rater failed (rater_unavailable): could not connect"),
        "{text}"
    );
}

#[test]
fn an_https_rater_that_does_not_speak_tls_is_unavailable_with_a_clear_message() {
    // A plain-HTTP server behind an https URL: the TLS handshake fails.
    let (address, _) = answering(StatusCode::OK, "{}");
    let url = format!("https://{address}/rate");
    let config = ExternalRaterConfig::new("tls-rater", &url)
        .with_header("Authorization", SECRET)
        .with_timeout_ms(2_000);
    let (kind, text) = failure(ExternalRater::new(&config).unwrap().rate(&sample_request()));
    assert_eq!(kind, RaterFailure::Unavailable);
    assert!(
        text.starts_with("rater tls-rater failed (rater_unavailable): could not connect")
            && text.contains("InvalidContentType"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn malformed_json_is_invalid_output() {
    assert_eq!(
        failure(rate_with(StatusCode::OK, "<html>oops</html>")),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): the response is not an external \
             rater response: expected value at line 1 column 1"
                .into()
        )
    );
}

#[test]
fn an_unknown_peril_characteristics_locator_is_invalid_output() {
    assert_eq!(
        failure(rate_with(
            StatusCode::OK,
            r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyPremium": "1"}, "PER2:2025-03-01": {"yearlyPremium": "1"},
                "PER9:2025-03-01": {"yearlyPremium": "1"}}}"#
        )),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): peril characteristics \
             PER9:2025-03-01 was not requested"
                .into()
        )
    );
}

#[test]
fn a_premium_that_is_not_a_decimal_is_invalid_output() {
    assert_eq!(
        failure(rate_with(
            StatusCode::OK,
            r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyPremium": "seven hundred"},
                "PER2:2025-03-01": {"yearlyPremium": "1"}}}"#
        )),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): peril characteristics \
             PER1:2025-03-01: yearlyPremium \"seven hundred\" is not a decimal"
                .into()
        )
    );
}

#[test]
fn a_priced_entry_without_a_premium_is_invalid_output() {
    assert_eq!(
        failure(rate_with(
            StatusCode::OK,
            r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyTechnicalPremium": "1"},
                "PER2:2025-03-01": {"yearlyPremium": "1"}}}"#
        )),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): peril characteristics \
             PER1:2025-03-01: no yearlyPremium or exactPremium"
                .into()
        )
    );
}

#[test]
fn an_http_500_is_invalid_output_naming_the_status() {
    assert_eq!(
        failure(rate_with(StatusCode::INTERNAL_SERVER_ERROR, "{}")),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): answered HTTP 500 Internal Server Error"
                .into()
        )
    );
}

#[test]
fn an_error_status_that_echoes_the_credential_never_shows_it() {
    let body = json!({"exceptionMessage": format!("unauthorized: {SECRET}")}).to_string();
    assert_eq!(
        failure(rate_with(StatusCode::UNAUTHORIZED, &body)),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): answered HTTP 401 Unauthorized: \
             unauthorized: <redacted>"
                .into()
        )
    );
}

#[test]
fn a_redirect_is_not_followed() {
    let router = Router::new().route(
        "/rate",
        post(|| async {
            Response::builder()
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header(header::LOCATION, "http://127.0.0.1:9/steal")
                .body(axum::body::Body::empty())
                .unwrap()
        }),
    );
    let address = serve(router);
    assert_eq!(
        failure(rater(address, 2_000).rate(&sample_request())),
        (
            RaterFailure::InvalidOutput,
            "rater acme-rater failed (rater_invalid_output): answered HTTP 307 Temporary Redirect"
                .into()
        )
    );
}

#[test]
fn an_answer_over_4_mib_is_too_large() {
    let router = Router::new().route(
        "/rate",
        post(|| async { " ".repeat(MAX_RESPONSE_BYTES + 1).into_response() }),
    );
    let address = serve(router);
    assert_eq!(
        failure(rater(address, 5_000).rate(&sample_request())),
        (
            RaterFailure::OutputTooLarge,
            "rater acme-rater failed (rater_output_too_large): the answer is larger than \
             4194304 bytes"
                .into()
        )
    );
}

/// A raw HTTP/1.1 server that answers one call with a chunked body (no
/// `Content-Length`) of `total` bytes.
fn chunked_server(total: usize) -> SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 64 * 1024];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = vec![b' '; 256 * 1024];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            let head = format!("{n:x}\r\n");
            let written = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&chunk[..n]))
                .and_then(|()| stream.write_all(b"\r\n"));
            if written.is_err() {
                return; // the client stopped reading
            }
            sent += n;
        }
        let _ = stream.write_all(b"0\r\n\r\n");
    });
    address
}

#[test]
fn an_answer_over_4_mib_without_a_length_is_too_large() {
    let address = chunked_server(MAX_RESPONSE_BYTES + 256 * 1024);
    assert_eq!(
        failure(rater(address, 5_000).rate(&sample_request())).0,
        RaterFailure::OutputTooLarge
    );
}

#[test]
fn a_cancellation_is_priced_at_zero_without_calling_the_rater() {
    let (address, seen) = answering(StatusCode::OK, "{}");
    let mut request = sample_request();
    request.operation = Operation::Cancellation;
    let response = rater(address, 5_000).rate(&request).unwrap();
    assert_eq!(seen.lock().unwrap().calls, 0);
    assert_eq!(
        response.items.iter().map(|i| i.premium).collect::<Vec<_>>(),
        vec![Premium::Exact(dec!(0)), Premium::Exact(dec!(0))]
    );
    assert!(response.flat_charges.is_empty());
}

#[test]
fn the_identity_is_the_registered_name_and_debug_hides_header_values() {
    let address: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let rater = rater(address, 5_000);
    assert_eq!(
        rater.identity(),
        RaterIdentity::External {
            name: "acme-rater".into()
        }
    );
    assert_eq!(
        format!("{rater:?}"),
        "ExternalRater { name: \"acme-rater\", url: \"http://127.0.0.1:9/rate\", \
         headers: [\"authorization: <redacted>\", \"x-tenant: <redacted>\"], \
         timeout_ms: 5000, .. }"
    );
}
