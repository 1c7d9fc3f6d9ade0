//! An account's event history: everything that touched the account (its
//! stream, its policies' streams, the journal entries of its subledger),
//! oldest first, a page at a time, as `GET /v1/events?account=` answers it.
//! Each event shows its number, time (UTC, ISO), kind, stream and actor,
//! and opens to its full content.

use super::{href, layout, pager};
use crate::api::console::View;
use maud::{Markup, html};

/// The page of an account's events `answer` holds (a `/v1/events` page);
/// `after` is the cursor the page was read from.
pub fn account_events(
    view: &View,
    account: &str,
    answer: &serde_json::Value,
    after: u64,
) -> Markup {
    let events: Vec<&serde_json::Value> = answer["data"]
        .as_array()
        .map(|d| d.iter().collect())
        .unwrap_or_default();
    let base = format!("{}/events", href::account(account));
    let next = answer["next_cursor"]
        .as_u64()
        .map(|n| format!("{base}?after={n}"));
    let first = (after > 0).then(|| base.clone());
    let stream_href = |stream: &str| -> Option<String> {
        let (kind, id) = stream.split_once('/')?;
        match kind {
            "policy" => Some(href::policy(id)),
            "account" | "billing" => Some(href::account(id)),
            _ => None,
        }
    };
    layout(
        &format!("{account} events"),
        Some(view),
        html! {
            h1 { "Event history of " a href=(href::account(account)) { (account) } }
            @if events.is_empty() { p.empty { "No event." } } @else {
                table { thead { tr { th.count { "#" } th { "Issued (UTC)" } th { "Kind" } th { "Stream" } th { "By" } th { "What" } } }
                    tbody { @for e in &events { tr {
                        td.count { (e["sequence"]) }
                        td { (e["issued_at"].as_str().unwrap_or("").get(..19).unwrap_or("").replace('T', " ")) }
                        td { (e["kind"].as_str().unwrap_or("").replace('_', " ")) }
                        td { @let stream = e["stream"].as_str().unwrap_or("");
                            @if let Some(target) = stream_href(stream) { a href=(target) { (stream) } } @else { (stream) } }
                        td { (e["actor"].as_str().unwrap_or("")) }
                        td { details {
                            summary { "Content" }
                            pre { (serde_json::to_string_pretty(&e["event"]).unwrap_or_default()) }
                        } }
                    } } }
                }
            }
            (pager(first.as_deref(), next.as_deref()))
        },
    )
}
