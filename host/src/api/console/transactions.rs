//! Policy transactions from the console: endorse, cancel, reinstate,
//! reverse, change the payment plan. Each is first previewed (the API's
//! request with `?preview=true`: its full effect, nothing kept), then
//! committed with one click from the preview page, which carries the same
//! fields and an idempotency key made with the preview, so a double submit
//! commits once. Both go through the API with the session's key: a
//! read-only key is refused there too.
//!
//! Addresses: `POST /console/policies/{p}/<noun>-preview` previews,
//! `POST /console/policies/{p}/<nouns>` commits (`cancellation-preview`,
//! `cancellations`; `endorsement-preview`, `endorsements`;
//! `reinstatement-preview`, `reinstatements`; `reversal-preview`,
//! `reversals`; `plan-change-preview`, `plan-changes`).

use super::pages::{self, TransactionFields, href};
use super::{
    Console, acting, after_action_to, call_api, csrf_refused, form_key, page, to_sign_in, view_of,
};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// A policy transaction the console offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cancellation,
    Endorsement,
    Reinstatement,
    Reversal,
    PlanChange,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Cancellation,
        Kind::Endorsement,
        Kind::Reinstatement,
        Kind::Reversal,
        Kind::PlanChange,
    ];

    fn noun(self) -> &'static str {
        match self {
            Kind::Cancellation => "cancellation",
            Kind::Endorsement => "endorsement",
            Kind::Reinstatement => "reinstatement",
            Kind::Reversal => "reversal",
            Kind::PlanChange => "plan change",
        }
    }

    /// The last segment of the commit's address, the console's and the
    /// API's alike.
    fn commit_segment(self) -> &'static str {
        match self {
            Kind::Cancellation => "cancellations",
            Kind::Endorsement => "endorsements",
            Kind::Reinstatement => "reinstatements",
            Kind::Reversal => "reversals",
            Kind::PlanChange => "plan-changes",
        }
    }

    fn preview_segment(self) -> String {
        format!("{}-preview", self.noun().replace(' ', "-"))
    }

    /// The kind and whether it is a preview, from the address's segment.
    fn of(segment: &str) -> Option<(Kind, bool)> {
        Kind::ALL.into_iter().find_map(|kind| {
            if segment == kind.commit_segment() {
                Some((kind, false))
            } else if segment == kind.preview_segment() {
                Some((kind, true))
            } else {
                None
            }
        })
    }
}

/// Every field any of the transaction forms has.
#[derive(Debug, Deserialize)]
pub(super) struct TransactionForm {
    csrf: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(default)]
    effective: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    transaction: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    changes: String,
}

/// A form's fields by name, as the preview page sends them again.
type Fields = Vec<(&'static str, String)>;

/// The fields of `kind` the form carries, and the API's body made of them
/// (or why the form cannot be sent).
fn request_of(kind: Kind, form: &TransactionForm) -> Result<(Fields, serde_json::Value), String> {
    let effective = || ("effective", form.effective.trim().to_string());
    let fields = match kind {
        Kind::Cancellation => {
            let mut fields = vec![effective()];
            if !form.reason.is_empty() {
                fields.push(("reason", form.reason.clone()));
            }
            fields
        }
        Kind::Reinstatement => vec![effective()],
        Kind::Endorsement => vec![effective(), ("changes", form.changes.clone())],
        Kind::Reversal => vec![("transaction", form.transaction.clone())],
        Kind::PlanChange => vec![("plan", form.plan.clone()), effective()],
    };
    let mut body = serde_json::Map::new();
    for (name, value) in &fields {
        let value = if *name == "changes" {
            serde_json::from_str(value).map_err(|e| {
                format!("The changes are not a JSON list of changes ({e}): nothing was sent.")
            })?
        } else {
            serde_json::Value::String(value.clone())
        };
        body.insert((*name).to_string(), value);
    }
    Ok((fields, serde_json::Value::Object(body)))
}

/// Previews or commits a policy transaction, as the address says.
pub(super) async fn transaction(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((policy, action)): Path<(String, String)>,
    Form(form): Form<TransactionForm>,
) -> Response {
    let Some((kind, preview)) = Kind::of(&action) else {
        return (StatusCode::NOT_FOUND, "no such policy action").into_response();
    };
    let back = href::policy(&policy);
    if preview {
        let (view, _) = match acting(&console, &headers, &form.csrf).await {
            Ok(acting) => acting,
            Err(response) => return response,
        };
        let (fields, body) = match request_of(kind, &form) {
            Ok(request) => request,
            Err(why) => {
                let answer = serde_json::json!({"detail": why, "code": "bad_form"});
                return after_action_to(&view, &back, StatusCode::UNPROCESSABLE_ENTITY, &answer);
            }
        };
        let path = format!(
            "/v1/policies/{policy}/{}?preview=true",
            kind.commit_segment()
        );
        let (status, effect) = call_api(&console, &view, &path, "", body).await;
        if !status.is_success() {
            return after_action_to(&view, &back, status, &effect);
        }
        let what = TransactionFields {
            noun: kind.noun(),
            commit: format!("{back}/{}", kind.commit_segment()),
            fields,
        };
        return page(pages::transaction_preview(
            &view,
            &policy,
            &what,
            &effect,
            &form_key(),
        ));
    }
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    if view.csrf != form.csrf || form.idempotency_key.is_empty() {
        return csrf_refused();
    }
    let body = match request_of(kind, &form) {
        Ok((_, body)) => body,
        Err(why) => {
            let answer = serde_json::json!({"detail": why, "code": "bad_form"});
            return after_action_to(&view, &back, StatusCode::UNPROCESSABLE_ENTITY, &answer);
        }
    };
    let path = format!("/v1/policies/{policy}/{}", kind.commit_segment());
    let (status, answer) = call_api(&console, &view, &path, &form.idempotency_key, body).await;
    after_action_to(&view, &back, status, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transaction_reads_back_from_its_preview_and_commit_addresses() {
        for kind in Kind::ALL {
            assert_eq!(Kind::of(&kind.preview_segment()), Some((kind, true)));
            assert_eq!(Kind::of(kind.commit_segment()), Some((kind, false)));
        }
        assert_eq!(
            Kind::of("plan-change-preview"),
            Some((Kind::PlanChange, true))
        );
        assert_eq!(Kind::of("renewals"), None);
    }

    #[test]
    fn a_form_becomes_the_apis_body_and_changes_that_are_not_json_are_refused() {
        let form = TransactionForm {
            csrf: String::new(),
            idempotency_key: String::new(),
            effective: " 2026-07-02 ".into(),
            reason: "underwriting".into(),
            transaction: String::new(),
            plan: String::new(),
            changes: "[1".into(),
        };
        let (fields, body) = request_of(Kind::Cancellation, &form).unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(
            body,
            serde_json::json!({"effective": "2026-07-02", "reason": "underwriting"})
        );
        assert!(request_of(Kind::Endorsement, &form).is_err());
    }
}
