//! `premia processor stripe`: a reference payment processor adapter that
//! speaks Premia's collection protocol (`docs/payments.md`) on one side and
//! Stripe's PaymentIntents API on the other.
//!
//! - `POST /attempts` creates and confirms a PaymentIntent off session:
//!   `amount` in minor units (106.45 USD is `10645`), `currency` in lower
//!   case, `payment_method` the method token (a token `cus_X:pm_Y` names the
//!   customer too), `metadata[premia_attempt]`, `[premia_invoice]`,
//!   `[premia_account]`, and Premia's idempotency key as Stripe's
//!   `Idempotency-Key`, so a resent attempt is collected once.
//! - `GET /attempts/{id}` finds the PaymentIntent by its
//!   `metadata[premia_attempt]` (Stripe's search) and answers its status;
//!   `404` when there is none.
//! - Mapping: `succeeded` is `succeeded`; `processing` (and other
//!   in-between states) `pending`; `requires_action` off session is a hard
//!   decline `authentication_required`; a card error is `failed` with its
//!   `decline_code` (or `code`), a soft decline when it is one of
//!   [`SOFT_DECLINE_CODES`], else a hard one; a 400 is a
//!   `processor_error`; a 429, 5xx or no answer is answered `502` (the
//!   answer is lost: Premia looks the attempt up before sending it again).
//!
//! Not yet: turning Stripe's webhooks (`charge.dispute.created`, late ACH
//! failures) into Premia's processor events.

use crate::domain::Money;
use crate::payments::FailureClass;
use crate::payments::protocol::{AttemptRequest, ProcessorAnswer};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::Value;
use std::net::SocketAddr;

/// Stripe's API.
pub const STRIPE_API: &str = "https://api.stripe.com";
/// How long Stripe has to answer, milliseconds.
pub const STRIPE_TIMEOUT_MS: u64 = 20_000;

/// Decline codes worth retrying later (Stripe's "try again" and funds
/// codes); every other decline is hard.
pub const SOFT_DECLINE_CODES: &[&str] = &[
    "insufficient_funds",
    "try_again_later",
    "processing_error",
    "approve_with_id",
    "issuer_not_available",
    "reenter_transaction",
    "card_velocity_exceeded",
    "withdrawal_count_limit_exceeded",
    "generic_decline",
];

/// Where and as whom the adapter calls Stripe.
#[derive(Clone)]
pub struct StripeOptions {
    /// `https://api.stripe.com`, or a stand-in in tests.
    pub api: String,
    /// The secret API key (`sk_...`).
    pub key: String,
}

impl std::fmt::Debug for StripeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeOptions")
            .field("api", &self.api)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// An amount in the currency's minor units (106.45 USD is 10645), or none
/// when it has more decimal places than the currency.
pub fn minor_units(amount: &Money) -> Option<i64> {
    amount
        .to_minor_units()
        .ok()
        .and_then(|units| i64::try_from(units).ok())
}

/// Premia's answer for a PaymentIntent object.
pub fn answer_of_intent(intent: &Value) -> ProcessorAnswer {
    let id = intent["id"].as_str().unwrap_or_default().to_string();
    match intent["status"].as_str().unwrap_or_default() {
        "succeeded" => ProcessorAnswer::Succeeded {
            processor_reference: id,
        },
        "requires_action" => ProcessorAnswer::Failed {
            code: "authentication_required".into(),
            retryable: false,
            class: Some(FailureClass::HardDecline),
        },
        "requires_payment_method" | "canceled" => decline(&intent["last_payment_error"]),
        _ => ProcessorAnswer::Pending {
            processor_reference: id,
        },
    }
}

/// Premia's answer for a Stripe card error.
pub fn decline(error: &Value) -> ProcessorAnswer {
    let code = error["decline_code"]
        .as_str()
        .or_else(|| error["code"].as_str())
        .unwrap_or("card_declined")
        .to_string();
    let soft = SOFT_DECLINE_CODES.contains(&code.as_str());
    ProcessorAnswer::Failed {
        code,
        retryable: soft,
        class: Some(if soft {
            FailureClass::SoftDecline
        } else {
            FailureClass::HardDecline
        }),
    }
}

/// The form body of the PaymentIntent for `request`.
pub fn intent_form(request: &AttemptRequest) -> Option<String> {
    let amount = minor_units(&request.amount)?;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("amount", &amount.to_string())
        .append_pair("currency", &request.amount.currency.code().to_lowercase())
        .append_pair("confirm", "true")
        .append_pair("off_session", "true")
        .append_pair("metadata[premia_attempt]", &request.attempt)
        .append_pair("metadata[premia_invoice]", &request.invoice)
        .append_pair("metadata[premia_account]", &request.account);
    match request.method_token.split_once(':') {
        Some((customer, method)) => {
            form.append_pair("customer", customer)
                .append_pair("payment_method", method);
        }
        None => {
            form.append_pair("payment_method", &request.method_token);
        }
    }
    Some(form.finish())
}

type Answer = Result<Json<ProcessorAnswer>, StatusCode>;

fn client() -> Result<reqwest::blocking::Client, StatusCode> {
    crate::rating::external::install_tls_provider();
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_millis(STRIPE_TIMEOUT_MS))
        .build()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

fn create(options: &StripeOptions, request: &AttemptRequest) -> Answer {
    let Some(form) = intent_form(request) else {
        return Ok(Json(ProcessorAnswer::Failed {
            code: "invalid_amount".into(),
            retryable: false,
            class: Some(FailureClass::ProcessorError),
        }));
    };
    let response = client()?
        .post(format!("{}/v1/payment_intents", options.api))
        .bearer_auth(&options.key)
        .header("idempotency-key", &request.idempotency_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(Json(answer_of_intent(&body)));
    }
    match (status.as_u16(), body["error"]["type"].as_str()) {
        (402, _) | (_, Some("card_error")) => Ok(Json(decline(&body["error"]))),
        (400, _) => Ok(Json(ProcessorAnswer::Failed {
            code: body["error"]["code"]
                .as_str()
                .unwrap_or("invalid_request")
                .to_string(),
            retryable: true,
            class: Some(FailureClass::ProcessorError),
        })),
        _ => Err(StatusCode::BAD_GATEWAY),
    }
}

fn lookup(options: &StripeOptions, attempt: &str) -> Answer {
    if !attempt
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(StatusCode::NOT_FOUND);
    }
    let query = format!("metadata['premia_attempt']:'{attempt}'");
    let response = client()?
        .get(format!(
            "{}/v1/payment_intents/search?{}",
            options.api,
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("query", &query)
                .finish()
        ))
        .bearer_auth(&options.key)
        .send()
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    if !response.status().is_success() {
        return Err(StatusCode::BAD_GATEWAY);
    }
    let body: Value = response.json().map_err(|_| StatusCode::BAD_GATEWAY)?;
    match body["data"].as_array().and_then(|found| found.first()) {
        Some(intent) => Ok(Json(answer_of_intent(intent))),
        None => Err(StatusCode::NOT_FOUND),
    }
}

async fn attempt(
    State(options): State<StripeOptions>,
    Json(request): Json<AttemptRequest>,
) -> Answer {
    tokio::task::spawn_blocking(move || create(&options, &request))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
}

async fn attempt_status(State(options): State<StripeOptions>, Path(id): Path<String>) -> Answer {
    tokio::task::spawn_blocking(move || lookup(&options, &id))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
}

/// The adapter's router.
pub fn router(options: StripeOptions) -> axum::Router {
    axum::Router::new()
        .route("/attempts", post(attempt))
        .route("/attempts/{id}", get(attempt_status))
        .with_state(options)
}

/// Serves the adapter until the process is stopped.
pub fn run(listen: SocketAddr, options: StripeOptions) -> anyhow::Result<()> {
    crate::rating::external::install_tls_provider();
    tokio::runtime::Runtime::new()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!(
            "Stripe payment processor adapter listening on http://{}",
            listener.local_addr()?
        );
        axum::serve(listener, router(options)).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;
    use rust_decimal_macros::dec;
    use std::sync::{Arc, Mutex};

    #[test]
    fn amounts_go_to_stripe_in_minor_units() {
        let usd = Currency::from_code("USD").unwrap();
        assert_eq!(minor_units(&Money::new(dec!(106.45), usd)), Some(10645));
        assert_eq!(minor_units(&Money::new(dec!(25), usd)), Some(2500));
        assert_eq!(minor_units(&Money::new(dec!(1.005), usd)), None);
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(minor_units(&Money::new(dec!(1200), jpy)), Some(1200));
    }

    #[test]
    fn stripe_statuses_and_declines_map_to_the_collection_protocol() {
        let succeeded = serde_json::json!({"id": "pi_1", "status": "succeeded"});
        assert_eq!(
            answer_of_intent(&succeeded),
            ProcessorAnswer::Succeeded {
                processor_reference: "pi_1".into()
            }
        );
        let processing = serde_json::json!({"id": "pi_2", "status": "processing"});
        assert!(matches!(
            answer_of_intent(&processing),
            ProcessorAnswer::Pending { .. }
        ));
        let funds = serde_json::json!({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"});
        assert_eq!(
            decline(&funds),
            ProcessorAnswer::Failed {
                code: "insufficient_funds".into(),
                retryable: true,
                class: Some(FailureClass::SoftDecline)
            }
        );
        let stolen = serde_json::json!({"type": "card_error", "code": "card_declined", "decline_code": "stolen_card"});
        assert!(matches!(
            decline(&stolen),
            ProcessorAnswer::Failed {
                retryable: false,
                class: Some(FailureClass::HardDecline),
                ..
            }
        ));
    }

    /// A stand-in for Stripe: records each request's idempotency key and
    /// form, declines the first for insufficient funds, succeeds after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_adapter_sends_a_payment_intent_with_the_attempts_idempotency_key_and_maps_the_answers()
     {
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let record = Arc::clone(&seen);
        let stripe = axum::Router::new()
            .route(
                "/v1/payment_intents",
                post(move |headers: axum::http::HeaderMap, body: String| {
                    let record = Arc::clone(&record);
                    async move {
                        let key = headers["idempotency-key"].to_str().unwrap().to_string();
                        assert_eq!(headers["authorization"], "Bearer sk_test_1");
                        let first = {
                            let mut seen = record.lock().unwrap();
                            seen.push((key, body));
                            seen.len() == 1
                        };
                        if first {
                            (StatusCode::PAYMENT_REQUIRED, Json(serde_json::json!({"error": {
                                "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"}})))
                        } else {
                            (StatusCode::OK, Json(serde_json::json!({"id": "pi_9", "status": "succeeded"})))
                        }
                    }
                }),
            )
            .route(
                "/v1/payment_intents/search",
                get(|axum::extract::RawQuery(query): axum::extract::RawQuery| async move {
                    let query = query.unwrap_or_default();
                    let found = if query.contains("ca_2") {
                        serde_json::json!([{"id": "pi_9", "status": "succeeded"}])
                    } else {
                        serde_json::json!([])
                    };
                    Json(serde_json::json!({"data": found}))
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, stripe).await.unwrap() });
        let adapter = router(StripeOptions {
            api,
            key: "sk_test_1".into(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, adapter).await.unwrap() });

        let request = |attempt: &str| {
            serde_json::json!({"attempt": attempt, "idempotency_key": format!("{attempt}/A1-I1"),
                "amount": {"amount": "106.45", "currency": "USD"},
                "method_token": "cus_1:pm_1", "account": "A1", "invoice": "A1-I1"})
        };
        let url2 = url.clone();
        let answers = tokio::task::spawn_blocking(move || {
            crate::rating::external::install_tls_provider();
            let client = reqwest::blocking::Client::new();
            let post = |body: Value| -> Value {
                client
                    .post(format!("{url2}/attempts"))
                    .json(&body)
                    .send()
                    .unwrap()
                    .json()
                    .unwrap()
            };
            let first = post(request("ca_1"));
            let second = post(request("ca_2"));
            let found = client.get(format!("{url2}/attempts/ca_2")).send().unwrap();
            let found: Value = found.json().unwrap();
            let missing = client
                .get(format!("{url2}/attempts/ca_7"))
                .send()
                .unwrap()
                .status();
            (first, second, found, missing)
        })
        .await
        .unwrap();
        assert_eq!(
            answers.0,
            serde_json::json!({"status": "failed", "code": "insufficient_funds", "retryable": true, "class": "soft_decline"})
        );
        assert_eq!(
            answers.1,
            serde_json::json!({"status": "succeeded", "processor_reference": "pi_9"})
        );
        assert_eq!(answers.2, answers.1);
        assert_eq!(answers.3, reqwest::StatusCode::NOT_FOUND);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[0].0, "ca_1/A1-I1");
        assert_eq!(seen[1].0, "ca_2/A1-I1");
        assert!(seen[1].1.contains("amount=10645"), "{}", seen[1].1);
        assert!(seen[1].1.contains("currency=usd"));
        assert!(seen[1].1.contains("customer=cus_1"));
        assert!(seen[1].1.contains("payment_method=pm_1"));
        assert!(seen[1].1.contains("metadata%5Bpremia_attempt%5D=ca_2"));
    }
}
