//! The OpenAPI 3.1 document served at `GET /v1/openapi.json`, generated from
//! the code: each handler's `#[utoipa::path]` annotation names its method,
//! path, body and answer; the types' `ToSchema` derives (which follow their
//! serde attributes) give the schemas. [`document`] then adds what every
//! operation shares instead of repeating it 45 times: bearer security,
//! `application/problem+json` errors, path parameters, `?preview=true` and
//! `Idempotency-Key` on commands, and the body of each billing command, cut
//! from the matching variant of [`BillingCommand`] so the two cannot drift.

use super::routes::{
    accounting, activation, agency, billing, bundle, clock, config, config_reads, exports, keys,
    ledger, payments, pending, policies, producers, raters, read_model, shadow, webhooks,
};
use crate::collections::BillingCommand;
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Premia API",
        description = "Insurance billing: products, WebAssembly rating and invoicing plugins, external raters, policies and their transactions, collections, a double-entry ledger, audit, an event feed and exports. Every command takes `?preview=true`; every POST honours `Idempotency-Key`; errors are `application/problem+json` with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    paths(
        config::deploy_product, config::list_products, config::upload_plugin,
        activation::activate_plugin, config::put_table, config::list_plugins,
        config::run_golden, keys::create_key, keys::list_keys, keys::revoke_key,
        keys::rotate_key,
        raters::put_rater, raters::list_raters,
        config_reads::get_product, shadow::shadow_report, activation::get_plugin, activation::schedule_plugin,
        raters::get_rater, config_reads::get_billing_settings, config_reads::get_account_settings,
        policies::create_account, policies::get_account, policies::issue_policy,
        policies::quote, policies::billing_options, policies::get_policy, policies::endorse, policies::renew,
        policies::cancel, policies::reinstate, policies::reverse, policies::non_renew,
        policies::correct_rates, policies::correct_product_rates,
        policies::audit_charge, policies::add_charge, policies::reverse_charges,
        bundle::preview_bundle,
        billing::configure_billing, billing::configure_account, billing::post_billing_run,
        billing::account_billing, billing::record_payment, billing::reverse_payment,
        billing::distribute_credit, billing::write_off, billing::reverse_write_off,
        billing::draft_disbursement, billing::approve_disbursement,
        billing::reject_disbursement, billing::reverse_disbursement,
        billing::place_hold, billing::release_hold, billing::change_plan,
        pending::list_pending,
        super::metrics::readyz, super::metrics::metrics,
        clock::get_clock, clock::set_clock,
        ledger::entries, ledger::balances, ledger::trial_balance, ledger::events,
        exports::export,
        accounting::run_earnings, accounting::premium_report, accounting::list_periods,
        accounting::get_period, accounting::close_period, accounting::put_gl_mapping,
        accounting::get_gl_mapping, producers::list_producers, producers::producer_statement,
        producers::draft_commission_payment, producers::list_commission_payments,
        producers::approve_commission_payment, producers::reject_commission_payment,
        producers::execute_commission_payment,
        agency::put_agency, agency::get_agency, agency::list_agency_statements,
        agency::get_agency_statement, agency::post_remittance, agency::list_agency_exceptions,
        agency::billing_options,
        webhooks::event_types, webhooks::create_endpoint, webhooks::list_endpoints,
        webhooks::get_endpoint, webhooks::update_endpoint, webhooks::disable_endpoint,
        webhooks::enable_endpoint, webhooks::rotate_secret, webhooks::delete_endpoint,
        webhooks::list_attempts, webhooks::replay,
        payments::attach_method, payments::list_methods, payments::detach_method,
        payments::set_autopay, payments::list_attempts, payments::configure_processor,
        payments::get_processor, payments::processor_event,
        read_model::search_accounts, read_model::account_summary, read_model::account_payments,
        read_model::list_invoices, read_model::get_invoice, read_model::policy_timeline,
        read_model::worklist,
    ),
    components(schemas(super::error::Problem, BillingCommand, crate::webhooks::WebhookMessage)),
    tags(
        (name = "configuration", description = "Products and API keys (admin)"),
        (name = "plugins", description = "WebAssembly rating and invoicing plugins (admin)"),
        (name = "raters", description = "Socotra-compatible external raters (admin)"),
        (name = "policies", description = "Accounts, quotes, policies and their transactions (policy system)"),
        (name = "billing", description = "Collections: payments, credit, write-offs, disbursements, holds, billing runs, the tenant's clock"),
        (name = "read model", description = "Billing staff's reads: account search and summary, invoices, payments, a policy's timeline, worklists (read)"),
        (name = "ledger", description = "Journal entries, balances, trial balance, event feed (read)"),
        (name = "accounting", description = "Insurance accounting: earnings runs, written/earned/unearned premium, accounting periods and their close, the GL mapping, commissions payable per producer and producer statements (DOMAIN section 10)"),
        (name = "agency", description = "Agency bill: producers' agency configuration, agency statements (gross, commission, net per item), remittances and their allocation, exceptions, billing options at quote time (DOMAIN section 10, [E11])"),
        (name = "exports", description = "CSV and Parquet files for finance and data teams (read)"),
        (name = "webhooks", description = "Webhook endpoints, their deliveries and replays; the messages are in the document's `webhooks` section"),
        (name = "payments", description = "Payment methods (processor tokens, never card numbers), autopay, the payment processor adapter, collection attempts and the processor's signed events (docs/payments.md)"),
    )
)]
struct ApiDoc;

/// Operations that are not commands: they take neither `preview` nor
/// `Idempotency-Key` (reads, quotes, bundles of previews, golden runs), or
/// they refuse `preview=true` with `preview_unsupported`, or they document
/// their own parameters (billing runs take `preview` but no key and answer
/// 200; moving the clock takes a key but no preview).
const NOT_PREVIEWABLE: &[&str] = &[
    "quote",
    "preview_bundle",
    "run_golden",
    "create_key",
    "rotate_key",
    "run_billing",
    "set_clock",
    "create_endpoint",
    "disable_endpoint",
    "enable_endpoint",
    "rotate_secret",
    "replay",
];

/// Commands that are not POSTs: attaching a rate table and uploading the GL
/// mapping (PUTs) take `preview` and `Idempotency-Key` like every
/// configuration command.
const PUT_COMMANDS: &[&str] = &["put_table", "put_gl_mapping", "put_agency"];

/// The finished document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API key: `Authorization: Bearer prm_...`"))
                .build(),
        ),
    );
    doc.security = Some(vec![SecurityRequirement::new(
        "api_key",
        Vec::<String>::new(),
    )]);
    let billing_bodies = billing_command_bodies();
    for (path, item) in doc.paths.paths.iter_mut() {
        let path_params = template_names(path);
        let operations = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, false),
            (&mut item.delete, false),
            (&mut item.patch, false),
        ];
        for (operation, is_post) in operations {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            add_path_parameters(operation, &path_params);
            let id = operation.operation_id.clone().unwrap_or_default();
            if is_post && !NOT_PREVIEWABLE.contains(&id.as_str()) {
                add_command_parameters(operation);
                add_preview_response(operation);
            }
            if !is_post && PUT_COMMANDS.contains(&id.as_str()) {
                add_command_parameters(operation);
            }
            if let Some(body) = billing_bodies.get(&id) {
                set_billing_body(operation, body.clone(), &path_params);
            }
            add_problem_responses(operation);
        }
    }
    doc
}

/// `GET /v1/openapi.json` (no API key needed): the document is built and
/// serialized once, then served as the same bytes.
pub async fn serve() -> impl axum::response::IntoResponse {
    static DOCUMENT: OnceLock<axum::body::Bytes> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| {
        serde_json::to_vec(&document_json())
            .expect("the document serializes")
            .into()
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.clone(),
    )
}

/// The document as served: [`document`] with its `webhooks` section
/// (OpenAPI 3.1; utoipa has no builder for it): one `post` per event type,
/// its body a `WebhookMessage`, signed with the Standard Webhooks headers.
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).expect("the document serializes");
    let header = |description: &str| serde_json::json!({"in": "header", "required": true, "schema": {"type": "string"}, "description": description});
    let mut webhooks = serde_json::Map::new();
    for (event_type, told) in crate::webhooks::schema::EVENT_TYPES {
        let mut parameters = Vec::new();
        for (name, description) in [
            (
                "webhook-id",
                "The message id (`msg_<sequence>_<index>`), the same on every retry: de-duplicate by it.",
            ),
            ("webhook-timestamp", "Unix seconds of the attempt."),
            (
                "webhook-signature",
                "`v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">` keyed by the endpoint's secret; during a rotation two, space-separated.",
            ),
        ] {
            let mut parameter = header(description);
            parameter["name"] = serde_json::json!(name);
            parameters.push(parameter);
        }
        webhooks.insert(
            event_type.to_string(),
            serde_json::json!({"post": {
                "operationId": format!("webhook_{}", event_type.replace('.', "_")),
                "summary": told,
                "tags": ["webhooks"],
                "parameters": parameters,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookMessage"}}}},
                "responses": {
                    "2XX": {"description": "Delivered."},
                    "410": {"description": "Gone: the endpoint is disabled at once."},
                    "default": {"description": "Retried with back-off (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h; `Retry-After` honoured) for 3 days."}
                }
            }}),
        );
    }
    doc["webhooks"] = serde_json::Value::Object(webhooks);
    doc
}

/// `{locator}` and `{charge}` in `/v1/policies/{policy}/charges/{charge}/audit`.
fn template_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

fn add_path_parameters(operation: &mut Operation, names: &[String]) {
    let params = operation.parameters.get_or_insert_with(Vec::new);
    for name in names {
        if params.iter().any(|p| &p.name == name) {
            continue;
        }
        params.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string_schema(1, 128)))
                .build(),
        );
    }
}

fn add_command_parameters(operation: &mut Operation) {
    let params = operation.parameters.get_or_insert_with(Vec::new);
    params.push(
        ParameterBuilder::new()
            .name("preview")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "Return the full financial effect without persisting anything.",
            ))
            .schema(Some(
                ObjectBuilder::new().schema_type(Type::Boolean).build(),
            ))
            .build(),
    );
    params.push(idempotency_header());
}

/// A command answers 200 with its effect when previewed or replayed.
fn add_preview_response(operation: &mut Operation) {
    let Some(RefOr::T(created)) = operation.responses.responses.get("201").cloned() else {
        return;
    };
    let mut ok = created;
    ok.description = "Previewed (nothing kept) or replayed (same Idempotency-Key and body)".into();
    operation
        .responses
        .responses
        .entry("200".to_string())
        .or_insert(RefOr::T(ok));
}

fn idempotency_header() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Same key and body: the same response again; same key, other body: 409 idempotency_conflict.",
        ))
        .schema(Some(string_schema(1, 255)))
        .build()
}

fn string_schema(length_min: usize, length_max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(length_min))
        .max_length(Some(length_max))
        .build()
}

fn add_problem_responses(operation: &mut Operation) {
    let problem = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(super::error::Problem::name())))
        .build();
    let errors = [
        ("400", "Malformed request (bad JSON, query or header)"),
        ("401", "No valid API key"),
        (
            "403",
            "The key's role may not do this (checked before the body is read)",
        ),
        ("404", "No such resource in this tenant"),
        (
            "409",
            "Conflict: idempotency key reused with another body, already reversed, a record in another state, or a rater's exceptionMessage",
        ),
        ("413", "Body too large (`too_large`)"),
        ("415", "Body is not JSON"),
        (
            "422",
            "Well-formed but invalid (unknown or repeated field: `invalid_body`; more decimals than the currency: `invalid_amount`); nothing changed",
        ),
        (
            "500",
            "Internal error: a generic detail naming the request id (the real one is logged)",
        ),
        ("502", "An external rater or plugin failed"),
        (
            "503",
            "Temporarily unavailable (the store, a quarantined plugin): retry later; a generic detail naming the request id",
        ),
        ("504", "An external rater timed out"),
    ];
    for (status, description) in errors {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content("application/problem+json", problem.clone())
                        .build(),
                )
            });
    }
}

/// The body schema of each billing command endpoint, keyed by operation id
/// (which is the command's `command` tag): the variant's object without its tag.
pub(crate) fn billing_command_bodies() -> std::collections::HashMap<String, Object> {
    let mut bodies = std::collections::HashMap::new();
    let RefOr::T(Schema::OneOf(one_of)) = BillingCommand::schema() else {
        return bodies;
    };
    for variant in one_of.items {
        let RefOr::T(Schema::Object(mut object)) = variant else {
            continue;
        };
        let Some(RefOr::T(Schema::Object(tag))) = object.properties.shift_remove("command") else {
            continue;
        };
        let Some(kind) = tag
            .enum_values
            .as_ref()
            .and_then(|values| values.first())
            .and_then(|v| v.as_str())
            .map(str::to_string)
        else {
            continue;
        };
        object.required.retain(|r| r != "command");
        bodies.insert(kind, object);
    }
    bodies
}

/// Sets a billing operation's body, without the fields its path supplies;
/// unknown fields are refused.
fn set_billing_body(operation: &mut Operation, mut body: Object, path_params: &[String]) {
    for name in path_params {
        body.properties.shift_remove(name);
        body.required.retain(|r| r != name);
    }
    body.additional_properties = Some(Box::new(
        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
    ));
    if let Some(request) = operation.request_body.as_mut() {
        request.content.insert(
            "application/json".to_string(),
            ContentBuilder::new().schema(Some(body)).build(),
        );
    }
}

/// A self-check used by the tests: every billing endpoint got its body.
pub fn billing_operations_without_body(doc: &utoipa::openapi::OpenApi) -> Vec<String> {
    let bodies = billing_command_bodies();
    let mut missing = Vec::new();
    for item in doc.paths.paths.values() {
        if let Some(post) = &item.post {
            let id = post.operation_id.clone().unwrap_or_default();
            let tagged_billing = post
                .tags
                .as_ref()
                .is_some_and(|t| t.iter().any(|t| t == "billing"));
            let own_body = ["run_billing", "set_clock"].contains(&id.as_str());
            if tagged_billing && !own_body && !bodies.contains_key(&id) {
                missing.push(id);
            }
        }
    }
    missing
}
