//! The staff console in a real browser: Debian's headless Chromium driven
//! through chromedriver (WebDriver, the `thirtyfour` client with its
//! driver-downloading features off) against a Premia server on loopback
//! with the demo tenant as a test tenant (today 2030-01-10).
//!
//! The flows a billing clerk and a supervisor use most, end to end, each
//! asserting the amounts, statuses and dates on the page: sign in with an
//! API key, search, open the account, record a payment for a chosen invoice
//! and see it paid, submit that form twice (one payment), return the payment
//! with a fee, write off with a reason, place and release a hold, approve a
//! disbursement, preview a cancellation (the refund shown before anything
//! is kept) then commit it, a read-only key that sees no action, and
//! signing out.
//!
//! The browser: `scripts/browser.sh install` puts Chromium and chromedriver
//! in place (`scripts/test.sh` does, and sets `PREMIA_BROWSER_TESTS=1`).
//! Each test starts a chromedriver of its own on a free port, or uses the
//! one at `PREMIA_WEBDRIVER_URL`. Without a chromedriver a test says
//! "SKIPPED" and passes, unless `PREMIA_BROWSER_TESTS=1`, where it fails.
//! When a flow fails, a screenshot and the page's HTML are saved under
//! `target/console-screenshots/<flow>.png` and `.html`.
//!
//! Worked values (the demo's auto product, rated by the auto-rater plugin):
//! an urban sedan, driver aged 30, deductibles 500 prices 185.00 (bodily
//! injury), 765.00 (collision) and 512.50 (comprehensive), 1462.50 a year,
//! plus the 25.00 policy fee: paid in full, one invoice of 1487.50.

use crate::harness::*;
use crate::support::*;
use anyhow::Context;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::future::Future;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

/// The tenant's today in these tests.
const TODAY: &str = "2030-01-10";
/// How long a page may take to show what a test waits for.
const PAGE_WAIT_MS: u64 = 10_000;

// ---------------------------------------------------------------- the book

/// The demo tenant as a test tenant on 2030-01-10 with:
/// - account A-1 (Ada Lovelace) and policy P-1 (auto, paid in full, from
///   2030-01-01), invoiced today: A-1-I1, 1487.50;
/// - account B-2 (Bertrand Russell), a 300.00 payment with no invoice to
///   pay (credit) and a 120.00 refund drafted, awaiting approval.
///
/// Returns the host and a read-only key.
fn book() -> (TestHost, String) {
    let host = TestHost::test_tenant();
    let admin = host.admin();
    admin.move_clock(TODAY);
    for (locator, name) in [("A-1", "Ada Lovelace"), ("B-2", "Bertrand Russell")] {
        let (status, body) = admin.post(
            "/v1/accounts",
            &json!({"locator": locator, "name": name, "currency": "USD"}),
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mut policy = auto_policy("P-1");
    policy["start"] = json!("2030-01-01");
    policy["plan"] = json!("annual");
    let (status, body) = admin.post("/v1/policies", &policy);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = admin.post("/v1/billing/runs", &json!({}));
    assert_eq!(status, StatusCode::OK, "{body}");
    for (path, body) in [
        (
            "/v1/payments",
            json!({"account": "B-2", "amount": "300.00", "received_on": TODAY}),
        ),
        (
            "/v1/disbursements",
            json!({"account": "B-2", "amount": "120.00", "on": TODAY, "reason": "overpaid"}),
        ),
    ] {
        let (status, answer) = admin.post(path, &body);
        assert!(status.is_success(), "{path}: {status} {answer}");
    }
    let (status, key) = admin.post(
        "/v1/api-keys",
        &json!({"role": "read_only", "label": "auditor"}),
    );
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let reader = key["key"].as_str().unwrap().to_string();
    (host, reader)
}

// ------------------------------------------------------------- the flows

#[test]
fn a_clerk_signs_in_finds_an_account_pays_its_invoice_once_returns_the_payment_with_a_fee_writes_off_and_holds_in_a_real_browser()
 {
    let Some(driver) = Chromedriver::start_or_skip("clerk") else {
        return;
    };
    let (host, _) = book();
    let base = host.admin().url("");
    let key = host.key().to_string();
    let admin = host.admin();
    driver.run("clerk", move |browser| async move {
        // Signing in: an unsigned visitor lands on the sign-in page.
        browser.goto(format!("{base}/console")).await?;
        wait_text(&browser, "h1", "Sign in").await?;
        browser
            .find(By::Id("key"))
            .await?
            .send_keys(key.as_str())
            .await?;
        submit(&browser, "main form button[type=submit]").await?;
        wait_text(&browser, "h1", &format!("Today, {TODAY}")).await?;

        // One search box: a name prefix in any case finds the account.
        browser.find(By::Id("q")).await?.send_keys("ada").await?;
        submit(&browser, "form[role=search] button").await?;
        wait_text(&browser, "h1", "Search: ada").await?;
        let found = row_of(&browser, "A-1").await?;
        anyhow::ensure!(
            found[..3] == ["A-1", "Ada Lovelace", "1487.50 USD"],
            "search found {found:?}"
        );
        click_link(&browser, "A-1").await?;
        wait_text(&browser, "h1", "Account A-1 · Ada Lovelace").await?;
        let invoice = cells(&browser, "tr#A-1-I1").await?;
        anyhow::ensure!(
            invoice[..6]
                == [
                    "A-1-I1",
                    TODAY,
                    "2030-01-10",
                    "1487.50 USD",
                    "1487.50 USD",
                    "open"
                ],
            "invoice row {invoice:?}"
        );
        anyhow::ensure!(fact(&browser, "Owed on open invoices").await? == "1487.50 USD");

        // Record a payment for the invoice chosen by its locator.
        browser
            .find(By::Id("amount"))
            .await?
            .send_keys("1487.50")
            .await?;
        browser
            .find(By::Id("invoices"))
            .await?
            .send_keys("A-1-I1")
            .await?;
        browser
            .find(By::Id("reference"))
            .await?
            .send_keys("cheque 7")
            .await?;
        let payment_form = "form[action='/console/accounts/A-1/payments']";
        let fields = form_fields(&browser, payment_form).await?;
        submit(&browser, &format!("{payment_form} button[type=submit]")).await?;
        wait_text(&browser, "h1", "Account A-1").await?;
        // The invoice is paid: nothing outstanding, the payment applied to it.
        let invoice = cells(&browser, "tr#A-1-I1").await?;
        anyhow::ensure!(invoice[3..5] == ["1487.50 USD", "0.00 USD"], "{invoice:?}");
        let owed = fact(&browser, "Owed on open invoices").await?;
        anyhow::ensure!(owed == "0.00 USD", "owed {owed}");
        let payment = payment_row(&browser, "A-1-P1").await?;
        anyhow::ensure!(
            payment[..6]
                == [
                    "A-1-P1",
                    TODAY,
                    "cheque 7",
                    "A-1-I1 1487.50;",
                    "1487.50 USD",
                    "0.00 USD"
                ],
            "payment row {payment:?}"
        );

        // The same form submitted a second time records nothing more.
        resubmit(&browser, "/console/accounts/A-1/payments", &fields).await?;
        wait_text(&browser, "h1", "Account A-1").await?;
        anyhow::ensure!(
            payment_locators(&browser).await? == ["A-1-P1"],
            "payments after a double submit: {:?}",
            payment_locators(&browser).await?
        );
        anyhow::ensure!(fact(&browser, "Owed on open invoices").await? == owed);

        // The cheque bounced: return the payment with a 25.00 fee.
        browser
            .find(By::Id("fee-A-1-P1"))
            .await?
            .send_keys("25.00")
            .await?;
        browser
            .find(By::Id("why-A-1-P1"))
            .await?
            .send_keys("cheque bounced")
            .await?;
        submit(&browser, "form[action$='/payments/A-1-P1/return'] button").await?;
        wait_text(&browser, "h1", "Account A-1").await?;
        let payment = payment_row(&browser, "A-1-P1").await?;
        anyhow::ensure!(payment[6] == TODAY, "returned on: {payment:?}");
        let invoice = cells(&browser, "tr#A-1-I1").await?;
        anyhow::ensure!(invoice[4] == "1487.50 USD", "reopened: {invoice:?}");
        let owed = fact(&browser, "Owed on open invoices").await?;
        anyhow::ensure!(owed == "1487.50 USD", "owed {owed}");

        // Write off 487.50 of it as goodwill.
        browser
            .find(By::Id("wo-A-1-I1"))
            .await?
            .send_keys("487.50")
            .await?;
        browser
            .find(By::Id("wor-A-1-I1"))
            .await?
            .send_keys("goodwill")
            .await?;
        submit(
            &browser,
            "form[action$='/invoices/A-1-I1/write-off'] button",
        )
        .await?;
        wait_text(&browser, "h1", "Account A-1").await?;
        let invoice = cells(&browser, "tr#A-1-I1").await?;
        anyhow::ensure!(
            invoice[4] == "1000.00 USD",
            "after the write-off: {invoice:?}"
        );
        let owed = fact(&browser, "Owed on open invoices").await?;
        anyhow::ensure!(owed == "1000.00 USD", "owed {owed}");

        // Place an invoicing hold, then release it.
        browser
            .find(By::Id("hold-reason"))
            .await?
            .send_keys("customer disputes the bill")
            .await?;
        submit(
            &browser,
            "form[action='/console/accounts/A-1/holds'] button",
        )
        .await?;
        wait_text(&browser, "h1", "Account A-1").await?;
        let holds = hold_items(&browser).await?;
        anyhow::ensure!(
            holds.len() == 1 && holds[0].starts_with(&format!("A-1-H1 (invoicing) from {TODAY}")),
            "{holds:?}"
        );
        submit(&browser, "form[action$='/release'] button").await?;
        wait_text(&browser, "h1", "Account A-1").await?;
        let holds = hold_items(&browser).await?;
        anyhow::ensure!(
            holds.len() == 1 && holds[0].ends_with(&format!("released {TODAY}")),
            "{holds:?}"
        );
        // By now the returned payment's 25.00 fee is billed, on an invoice
        // of its own due today: 1000.00 + 25.00 owed.
        let fee = cells(&browser, "tr#A-1-I2").await?;
        anyhow::ensure!(
            fee[..5] == ["A-1-I2", TODAY, TODAY, "25.00 USD", "25.00 USD"],
            "fee invoice {fee:?}"
        );
        let owed = fact(&browser, "Owed on open invoices").await?;
        anyhow::ensure!(owed == "1025.00 USD", "owed {owed}");
        Ok(())
    });
    // What the browser did is what the API reads back.
    let summary = admin.get_ok("/v1/accounts/A-1/summary");
    assert_eq!(summary["balances"]["billed_outstanding"], "1025.00");
    let write_off = &summary["write_offs"][0]["write_off"];
    assert_eq!(
        (&write_off["amount"]["amount"], &write_off["reason"]),
        (&json!("487.50"), &json!("goodwill"))
    );
    let hold = &summary["holds"][0];
    assert_eq!(hold["reason"], "customer disputes the bill");
    assert_eq!(hold["released_on"], TODAY);
    let billing = admin.get_ok("/v1/accounts/A-1/billing");
    let payments = billing["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "one payment for two submits: {billing}");
    assert_eq!(payments[0]["reversed_on"], TODAY);
}

#[test]
fn a_supervisor_approves_a_refund_and_previews_a_cancellation_before_committing_it_in_a_real_browser()
 {
    let Some(driver) = Chromedriver::start_or_skip("supervisor") else {
        return;
    };
    let (host, _) = book();
    let base = host.admin().url("");
    let key = host.key().to_string();
    let admin = host.admin();
    driver.run("supervisor", move |browser| async move {
        sign_in(&browser, &base, &key).await?;
        // The home page's worklist shows the refund awaiting approval.
        let awaiting = row_of(&browser, "B-2-D1").await?;
        anyhow::ensure!(
            awaiting == ["B-2-D1", "B-2", TODAY, "overpaid", "120.00 USD"],
            "worklist row {awaiting:?}"
        );
        click_link(&browser, "B-2").await?;
        wait_text(&browser, "h1", "Account B-2 · Bertrand Russell").await?;
        let refund = row_of(&browser, "B-2-D1").await?;
        anyhow::ensure!(
            refund[..4] == ["B-2-D1", TODAY, "overpaid", "120.00 USD"] && refund[4] == "draft",
            "refund row {refund:?}"
        );
        submit(
            &browser,
            "form[action$='/disbursements/B-2-D1/approve'] button",
        )
        .await?;
        wait_text(&browser, "h1", "Account B-2").await?;
        let refund = row_of(&browser, "B-2-D1").await?;
        anyhow::ensure!(
            refund[4] == format!("approved (execute on {TODAY}, on {TODAY})"),
            "{refund:?}"
        );
        anyhow::ensure!(
            browser
                .find_all(By::Css("form[action$='/approve']"))
                .await?
                .is_empty(),
            "an approved refund offers no approval"
        );
        browser.goto(format!("{base}/console")).await?;
        wait_text(&browser, "h1", "Today").await?;
        let worklist = browser
            .find(By::XPath(
                "//h2[normalize-space()='Disbursements awaiting approval']/following-sibling::*[1]",
            ))
            .await?
            .text()
            .await?;
        anyhow::ensure!(worklist == "None.", "awaiting approval: {worklist:?}");

        // Preview a cancellation from 2030-07-01: six of the twelve months
        // come back (512.50, 765.00 and 185.00 halved: 731.25), less the
        // 10% short-rate holdback (73.125, half away from zero: 73.13).
        browser.goto(format!("{base}/console/policies/P-1")).await?;
        wait_text(&browser, "h1", "Policy P-1").await?;
        set_date(&browser, "effective", "2030-07-01").await?;
        submit(&browser, "form[action$='/cancellation-preview'] button").await?;
        wait_text(&browser, "h1", "Preview: cancellation of P-1").await?;
        // Each charge: its name (under its locator), what it is, its amount.
        let refund: Vec<[String; 3]> = rows_under(&browser, "Charges")
            .await?
            .into_iter()
            .map(|row| {
                let name = row[0].lines().last().unwrap_or("").trim().to_string();
                [name, row[1].clone(), row[3].clone()]
            })
            .filter(|[name, _, _]| name != "commission")
            .collect();
        let period = "[2030-07-01, 2031-01-01)";
        let expected = [
            ["premium", &format!("premium for {period}"), "-256.25 USD"],
            ["premium", &format!("premium for {period}"), "-382.50 USD"],
            ["premium", &format!("premium for {period}"), "-92.50 USD"],
            ["short-rate", "short-rate kept on cancellation", "73.13 USD"],
        ]
        .map(|row| row.map(str::to_string));
        anyhow::ensure!(refund == expected, "preview {refund:?}");
        // The customer's net: 731.25 back less 73.13 kept, 658.12.
        let net = rows_under(&browser, "Net effect for the customer").await?;
        anyhow::ensure!(
            net == [
                ["Premium and fees given back", "-731.25 USD"],
                ["Premium and fees charged or kept", "73.13 USD"],
                ["Net for the customer", "-658.12 USD"],
            ],
            "net {net:?}"
        );
        let said = text(&browser, "p.net").await?;
        anyhow::ensure!(
            said.starts_with("Net: 658.12 USD back to the customer's account."),
            "{said}"
        );
        // One click commits exactly what was shown.
        submit(&browser, "form[action$='/cancellations'] button").await?;
        wait_text(&browser, "h1", "Policy P-1").await?;
        let cancellation = row_of(&browser, "P-1-T2").await?;
        anyhow::ensure!(
            cancellation[..3] == ["P-1-T2", "cancellation", "2030-07-01"],
            "{cancellation:?}"
        );
        let kept = row_of(&browser, "P-1-T2-C7").await?;
        anyhow::ensure!(kept[4] == "73.13 USD", "{kept:?}");
        Ok(())
    });
    // The preview kept nothing: one cancellation, the one committed.
    let policy = admin.get_ok("/v1/policies/P-1");
    let kinds: Vec<&str> = policy["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["new_business", "cancellation"]);
}

#[test]
fn a_supervisor_reads_a_balanced_trial_balance_and_follows_a_journal_entry_to_its_payment_in_a_real_browser()
 {
    let Some(driver) = Chromedriver::start_or_skip("ledger") else {
        return;
    };
    let (host, _) = book();
    let base = host.admin().url("");
    let key = host.key().to_string();
    driver.run("ledger", move |browser| async move {
        sign_in(&browser, &base, &key).await?;
        click_link(&browser, "Ledger").await?;
        wait_text(&browser, "h1", "Trial balance").await?;
        // Debits equal credits, and something is posted.
        let trial = rows_under(&browser, "USD · balanced").await?;
        let total = trial.last().cloned().unwrap_or_default();
        anyhow::ensure!(
            total.len() == 3
                && total[0] == "Total"
                && total[1] == total[2]
                && total[1].ends_with(" USD")
                && total[1] != "0.00 USD",
            "trial balance {trial:?}"
        );
        // B-2's 300.00 paid today, with no invoice to pay, is one entry:
        // 300.00 debited and 300.00 credited.
        let first = row_of_reference(&browser, "B-2-P1").await?;
        anyhow::ensure!(first[1] == TODAY, "{first:?}");
        browser
            .goto(format!("{base}/console/ledger?reference=B-2-P1"))
            .await?;
        wait_text(&browser, "main h2#entries", "Journal entries of B-2-P1").await?;
        let lines = rows_under(&browser, "Journal entries of B-2-P1").await?;
        let debits: Vec<&str> = lines.iter().map(|l| l[5].as_str()).collect();
        let credits: Vec<&str> = lines.iter().map(|l| l[6].as_str()).collect();
        anyhow::ensure!(
            lines.len() == 2 && debits.contains(&"300.00 USD") && credits.contains(&"300.00 USD"),
            "entry lines {lines:?}"
        );
        // The reference opens the payment on its account's page.
        click_link(&browser, "Open B-2-P1").await?;
        wait_text(&browser, "h1", "Account B-2 · Bertrand Russell").await?;
        let url = browser.current_url().await?;
        anyhow::ensure!(
            url.path() == "/console/accounts/B-2" && url.fragment() == Some("B-2-P1"),
            "{url}"
        );
        Ok(())
    });
}

#[test]
fn a_clerk_follows_an_invoice_to_its_policy_a_charge_s_rating_call_and_the_account_s_history_in_a_real_browser()
 {
    let Some(driver) = Chromedriver::start_or_skip("neighbours") else {
        return;
    };
    let (host, _) = book();
    let base = host.admin().url("");
    let key = host.key().to_string();
    driver.run("neighbours", move |browser| async move {
        sign_in(&browser, &base, &key).await?;
        browser.goto(format!("{base}/console/accounts/A-1")).await?;
        wait_text(&browser, "h1", "Account A-1 · Ada Lovelace").await?;
        // The invoice: billed today, 1487.50 in four items (the rater's
        // three coverages and the policy fee), nothing paid yet.
        click_link(&browser, "A-1-I1").await?;
        wait_text(&browser, "h1", "Invoice A-1-I1").await?;
        anyhow::ensure!(fact(&browser, "Issued").await? == TODAY);
        anyhow::ensure!(fact(&browser, "Total").await? == "1487.50 USD");
        anyhow::ensure!(fact(&browser, "Outstanding").await? == "1487.50 USD");
        let items = rows_under(&browser, "Items").await?;
        let mut amounts: Vec<&str> = items.iter().map(|row| row[6].as_str()).collect();
        amounts.sort();
        anyhow::ensure!(
            amounts == ["185.00 USD", "25.00 USD", "512.50 USD", "765.00 USD"],
            "items {items:?}"
        );
        // Collision's item opens its charge: the arithmetic and the
        // rating call that priced it (765.00 a year, the whole term).
        let collision = items
            .iter()
            .find(|row| row[6] == "765.00 USD")
            .context("collision's item")?;
        let charge = collision[4].clone();
        anyhow::ensure!(collision[2] == "P-1", "{collision:?}");
        click_link(&browser, &charge).await?;
        wait_text(&browser, "h1", &format!("Charge {charge}")).await?;
        anyhow::ensure!(fact(&browser, "Amount").await? == "765.00 USD");
        anyhow::ensure!(fact(&browser, "Policy").await? == "P-1");
        let calls = browser
            .find_all(By::XPath(
                "//h2[normalize-space()='Rating calls']/following-sibling::details//pre",
            ))
            .await?;
        let mut priced = String::new();
        for call in &calls {
            priced.push_str(&call.prop("textContent").await?.unwrap_or_default());
        }
        anyhow::ensure!(priced.contains("765"), "rating calls {priced}");
        let billed = text(&browser, "main ul:last-of-type").await?;
        anyhow::ensure!(billed.starts_with("A-1-I1-"), "billed on {billed}");
        // Its policy: in force, one term not yet confirmed (the first
        // invoice is unpaid), one transaction, new business from 2030-01-01.
        click_link(&browser, "P-1").await?;
        wait_text(&browser, "h1", "Policy P-1").await?;
        let terms = rows_under(&browser, "Terms").await?;
        anyhow::ensure!(
            terms.len() == 1 && terms[0].iter().any(|c| c == "not yet"),
            "terms {terms:?}"
        );
        let transactions = rows_under(&browser, "Transactions (in effect order)").await?;
        anyhow::ensure!(
            transactions.len() == 1
                && transactions[0][0] == "P-1-T1"
                && transactions[0][2] == "2030-01-01",
            "transactions {transactions:?}"
        );
        // The account's history: every event of A-1, oldest first, the
        // account's opening among them.
        browser
            .goto(format!("{base}/console/accounts/A-1/events"))
            .await?;
        wait_text(&browser, "h1", "Event history of A-1").await?;
        let events = browser.find_all(By::Css("main tbody tr")).await?;
        let mut kinds = Vec::new();
        for row in &events {
            kinds.push(row_cells(row).await?[2].clone());
        }
        anyhow::ensure!(kinds.len() >= 3, "events {kinds:?}");
        anyhow::ensure!(
            kinds.iter().any(|k| k.contains("account")),
            "events {kinds:?}"
        );
        Ok(())
    });
}

#[test]
fn a_read_only_key_sees_no_action_in_a_real_browser_and_signing_out_ends_the_session() {
    let Some(driver) = Chromedriver::start_or_skip("read-only") else {
        return;
    };
    let (host, reader) = book();
    let base = host.admin().url("");
    driver.run("read-only", move |browser| async move {
        sign_in(&browser, &base, &reader).await?;
        for (page, heading) in [
            ("/console/accounts/A-1", "Account A-1 · Ada Lovelace"),
            ("/console/accounts/B-2", "Account B-2 · Bertrand Russell"),
            ("/console/policies/P-1", "Policy P-1"),
        ] {
            browser.goto(format!("{base}{page}")).await?;
            wait_text(&browser, "h1", heading).await?;
            let buttons = browser.find_all(By::Css("main button, main form")).await?;
            anyhow::ensure!(
                buttons.is_empty(),
                "{page} offers {} actions",
                buttons.len()
            );
        }
        // What it reads is the same as the admin's: the invoice and refund.
        browser.goto(format!("{base}/console/accounts/A-1")).await?;
        let invoice = cells(&browser, "tr#A-1-I1").await?;
        anyhow::ensure!(
            invoice[3..5] == ["1487.50 USD", "1487.50 USD"],
            "{invoice:?}"
        );
        // Signing out: back to the sign-in page, and the session is over.
        submit(&browser, "form[action='/console/sign-out'] button").await?;
        wait_text(&browser, "h1", "Sign in").await?;
        browser.goto(format!("{base}/console/accounts/A-1")).await?;
        wait_text(&browser, "h1", "Sign in").await?;
        let url = browser.current_url().await?;
        anyhow::ensure!(url.path() == "/console/sign-in", "{url}");
        Ok(())
    });
}

#[test]
fn a_failing_browser_flow_leaves_a_screenshot_and_the_page_under_target() {
    let Some(driver) = Chromedriver::start_or_skip("failing") else {
        return;
    };
    let host = TestHost::demo();
    let base = host.admin().url("");
    let name = "failing-on-purpose";
    let dir = target_dir().join("console-screenshots");
    let _ = std::fs::remove_file(dir.join(format!("{name}.png")));
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        driver.run(name, move |browser| async move {
            browser.goto(format!("{base}/console")).await?;
            wait_text(&browser, "h1", "Sign in").await?;
            anyhow::bail!("failing on purpose")
        })
    }));
    let message = failed.expect_err("the flow fails");
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.contains("failing on purpose"), "{message}");
    let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let html = std::fs::read_to_string(dir.join(format!("{name}.html"))).unwrap();
    assert!(html.contains("<h1>Sign in</h1>"), "{html}");
}

/// Not a test: writes the screenshots of `docs/console.md` (run once by
/// hand: `cargo test -p premia-tests --test integration console_screenshots
/// -- --ignored`).
#[test]
#[ignore = "writes docs/console/*.png; run by hand"]
fn console_screenshots_for_the_docs() {
    let Some(driver) = Chromedriver::start_or_skip("screenshots") else {
        return;
    };
    let (host, _) = book();
    let admin = host.admin();
    let (status, body) = admin.post(
        "/v1/payments",
        &json!({"account": "A-1", "amount": "1000.00", "received_on": TODAY, "invoices": ["A-1-I1"], "reference": "cheque 7"}),
    );
    assert!(status.is_success(), "{body}");
    let base = admin.url("");
    let key = host.key().to_string();
    let docs = workspace().join("docs/console");
    std::fs::create_dir_all(&docs).unwrap();
    driver.run("screenshots", move |browser| async move {
        browser.goto(format!("{base}/console")).await?;
        shoot(&browser, &docs, "sign-in").await?;
        sign_in(&browser, &base, &key).await?;
        shoot(&browser, &docs, "home").await?;
        for (page, name) in [
            ("/console/search?q=a", "search"),
            ("/console/accounts/A-1", "account"),
            ("/console/policies/P-1", "policy"),
            ("/console/ledger", "ledger"),
        ] {
            browser.goto(format!("{base}{page}")).await?;
            shoot(&browser, &docs, name).await?;
        }
        browser.goto(format!("{base}/console/policies/P-1")).await?;
        set_date(&browser, "effective", "2030-07-01").await?;
        submit(&browser, "form[action$='/cancellation-preview'] button").await?;
        shoot(&browser, &docs, "cancellation-preview").await?;
        Ok(())
    });
}

// ------------------------------------------------------------ the browser

/// A chromedriver for one test: the one at `PREMIA_WEBDRIVER_URL`, or one
/// started here on a free port (stopped when dropped).
struct Chromedriver {
    url: String,
    process: Option<Child>,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Chromedriver {
    /// The driver, or `None` (the test skips, saying so) when there is
    /// none on this machine; a failure instead when `PREMIA_BROWSER_TESTS=1`.
    fn start_or_skip(test: &str) -> Option<Chromedriver> {
        match Chromedriver::start() {
            Ok(driver) => Some(driver),
            Err(why) if std::env::var("PREMIA_BROWSER_TESTS").as_deref() == Ok("1") => {
                panic!("PREMIA_BROWSER_TESTS=1 but no browser: {why}")
            }
            Err(why) => {
                // Straight to stderr, past the test harness's capture, so
                // that a skip is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED browser test {test}: {why} (scripts/browser.sh install, or PREMIA_WEBDRIVER_URL)"
                );
                None
            }
        }
    }

    fn start() -> Result<Chromedriver, String> {
        if let Ok(url) = std::env::var("PREMIA_WEBDRIVER_URL") {
            return Ok(Chromedriver { url, process: None });
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("chromedriver could not be started: {e}"))?;
        let driver = Chromedriver {
            url: format!("http://127.0.0.1:{port}"),
            process: Some(process),
        };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(address).is_err() {
            if Instant::now() > deadline {
                return Err(format!("chromedriver did not listen on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// Runs `flow` in a fresh headless Chromium; when it fails (an error or
    /// a panic), saves a screenshot and the page's HTML under
    /// `target/console-screenshots/<name>.*`, then fails the test.
    fn run<F, Fut>(&self, name: &str, flow: F)
    where
        F: FnOnce(WebDriver) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let failure = runtime.block_on(async {
            let mut caps = DesiredCapabilities::chrome();
            if std::path::Path::new("/usr/bin/chromium").exists() {
                caps.set_binary("/usr/bin/chromium").unwrap();
            }
            for arg in [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--window-size=1280,900",
                "--lang=en-US",
            ] {
                caps.add_arg(arg).unwrap();
            }
            let browser = match WebDriver::new(self.url.clone(), caps).await {
                Ok(browser) => browser,
                Err(e) => return Some(format!("no browser session: {e}")),
            };
            let outcome = tokio::spawn(flow(browser.clone())).await;
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(format!("{error:#}")),
                Err(join) => Some(match join.try_into_panic() {
                    Ok(panic) => panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panicked".into()),
                    Err(e) => e.to_string(),
                }),
            };
            let failure = match failure {
                Some(failure) => Some(format!(
                    "{failure}\n{}",
                    save_evidence(&browser, name).await
                )),
                None => None,
            };
            let _ = browser.quit().await;
            failure
        });
        if let Some(failure) = failure {
            panic!("browser flow {name} failed: {failure}");
        }
    }
}

/// Saves a screenshot and the HTML of the page `browser` shows: where.
async fn save_evidence(browser: &WebDriver, name: &str) -> String {
    let dir = target_dir().join("console-screenshots");
    let _ = std::fs::create_dir_all(&dir);
    let png = dir.join(format!("{name}.png"));
    let url = browser
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let shot = browser.screenshot(&png).await;
    if let Ok(html) = browser.source().await {
        let _ = std::fs::write(dir.join(format!("{name}.html")), html);
    }
    match shot {
        Ok(()) => format!("at {url}; screenshot {}", png.display()),
        Err(e) => format!("at {url}; no screenshot: {e}"),
    }
}

/// Cargo's target directory: the test binary is `target/debug/deps/...`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| workspace().join("target"))
}

// ------------------------------------------------------------ page helpers

/// Signs in with `key` from the sign-in page; waits for the home page.
async fn sign_in(browser: &WebDriver, base: &str, key: &str) -> anyhow::Result<()> {
    browser.goto(format!("{base}/console/sign-in")).await?;
    browser.find(By::Id("key")).await?.send_keys(key).await?;
    submit(browser, "main form button[type=submit]").await?;
    wait_text(browser, "h1", &format!("Today, {TODAY}")).await
}

/// Clicks the button at `css` and waits for the page it leads to (the
/// console has no script: every action is a page load).
async fn submit(browser: &WebDriver, css: &str) -> anyhow::Result<()> {
    browser
        .execute("document.documentElement.dataset.stale = '1'", vec![])
        .await?;
    browser
        .find(By::Css(css))
        .await
        .with_context(|| format!("no {css}"))?
        .click()
        .await?;
    wait_fresh(browser).await
}

/// Follows the link reading `label` in the page's main part.
async fn click_link(browser: &WebDriver, label: &str) -> anyhow::Result<()> {
    browser
        .execute("document.documentElement.dataset.stale = '1'", vec![])
        .await?;
    browser.find(By::LinkText(label)).await?.click().await?;
    wait_fresh(browser).await
}

/// Waits until the page marked stale was replaced by a loaded one.
async fn wait_fresh(browser: &WebDriver) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_millis(PAGE_WAIT_MS);
    loop {
        let fresh = browser
            .execute(
                "return document.readyState === 'complete' && document.documentElement.dataset.stale === undefined",
                vec![],
            )
            .await
            .map(|r| r.json() == &Value::Bool(true))
            .unwrap_or(false);
        if fresh {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no new page after {PAGE_WAIT_MS} ms"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the element at `css` contains `expected`.
async fn wait_text(browser: &WebDriver, css: &str, expected: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_millis(PAGE_WAIT_MS);
    loop {
        let seen = text(browser, css).await.unwrap_or_default();
        if seen.contains(expected) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{css} reads {seen:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the element at `css`.
async fn text(browser: &WebDriver, css: &str) -> anyhow::Result<String> {
    let element = browser
        .find(By::Css(css))
        .await
        .with_context(|| format!("no {css}"))?;
    Ok(element.text().await?.trim().to_string())
}

/// The texts of the cells of the row at `css`.
async fn cells(browser: &WebDriver, css: &str) -> anyhow::Result<Vec<String>> {
    row_cells(
        &browser
            .find(By::Css(css))
            .await
            .with_context(|| format!("no {css}"))?,
    )
    .await
}

async fn row_cells(row: &WebElement) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    for cell in row.find_all(By::Css("td, th")).await? {
        texts.push(cell.text().await?.trim().to_string());
    }
    Ok(texts)
}

/// The cells of the table row whose first cell reads `first`.
async fn row_of(browser: &WebDriver, first: &str) -> anyhow::Result<Vec<String>> {
    let xpath = format!("//main//tr[td[1][normalize-space()='{first}']]");
    let row = browser
        .find(By::XPath(xpath))
        .await
        .with_context(|| format!("no row {first}"))?;
    row_cells(&row).await
}

/// The cells of the payments table's row of payment `locator`.
async fn payment_row(browser: &WebDriver, locator: &str) -> anyhow::Result<Vec<String>> {
    let mut row = cells(browser, &format!("tr#{locator}")).await?;
    // The first cell is the locator, then a link to its journal entries.
    if let Some(first) = row.first_mut() {
        *first = first.split_whitespace().next().unwrap_or("").to_string();
    }
    Ok(row)
}

/// The locators of the payments the account page lists.
async fn payment_locators(browser: &WebDriver) -> anyhow::Result<Vec<String>> {
    let mut locators = Vec::new();
    for row in browser.find_all(By::Css("main tbody tr")).await? {
        let first = row_cells(&row)
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let first = first.split_whitespace().next().unwrap_or("").to_string();
        if first.contains("-P") {
            locators.push(first);
        }
    }
    Ok(locators)
}

/// The cells of the ledger's row (an entry's first line) whose reference
/// reads `reference`.
async fn row_of_reference(browser: &WebDriver, reference: &str) -> anyhow::Result<Vec<String>> {
    let xpath = format!("//main//tr[td[4][normalize-space()='{reference}']]");
    let row = browser
        .find(By::XPath(xpath))
        .await
        .with_context(|| format!("no entry of {reference}"))?;
    row_cells(&row).await
}

/// The cells of the rows of the first table after the heading `h2`.
async fn rows_under(browser: &WebDriver, h2: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let xpath = format!("//h2[normalize-space()='{h2}']/following-sibling::table[1]/tbody/tr");
    let mut rows = Vec::new();
    for row in browser.find_all(By::XPath(xpath)).await? {
        rows.push(row_cells(&row).await?);
    }
    anyhow::ensure!(!rows.is_empty(), "no rows under {h2}");
    Ok(rows)
}

/// The items of the account page's list of holds.
async fn hold_items(browser: &WebDriver) -> anyhow::Result<Vec<String>> {
    let xpath = "//h2[normalize-space()='Holds']/following-sibling::ul[1]/li";
    let mut items = Vec::new();
    for item in browser.find_all(By::XPath(xpath)).await? {
        items.push(item.text().await?.trim().to_string());
    }
    Ok(items)
}

/// The value of the account page's fact `term` (`dl.facts`).
async fn fact(browser: &WebDriver, term: &str) -> anyhow::Result<String> {
    let xpath = format!(
        "//dl[contains(@class,'facts')]/dt[normalize-space()='{term}']/following-sibling::dd[1]"
    );
    let value = browser
        .find(By::XPath(xpath))
        .await
        .with_context(|| format!("no fact {term}"))?;
    Ok(value.text().await?.trim().to_string())
}

/// The fields the form at `css` would send, as (name, value) pairs.
async fn form_fields(browser: &WebDriver, css: &str) -> anyhow::Result<Value> {
    let fields = browser
        .execute(
            "return Array.from(new FormData(document.querySelector(arguments[0])).entries());",
            vec![json!(css)],
        )
        .await?;
    Ok(fields.json().clone())
}

/// Posts `fields` to `action` again, as a second click on the same form
/// would, and waits for the answer.
async fn resubmit(browser: &WebDriver, action: &str, fields: &Value) -> anyhow::Result<()> {
    browser
        .execute(
            "document.documentElement.dataset.stale = '1';
             const form = document.createElement('form');
             form.method = 'post';
             form.action = arguments[0];
             for (const [name, value] of arguments[1]) {
               const input = document.createElement('input');
               input.type = 'hidden'; input.name = name; input.value = value;
               form.appendChild(input);
             }
             document.body.appendChild(form);
             form.submit();",
            vec![json!(action), fields.clone()],
        )
        .await?;
    wait_fresh(browser).await
}

/// Sets the date input `id` to `day` (ISO): typing into a date input
/// depends on the browser's locale, the value does not.
async fn set_date(browser: &WebDriver, id: &str, day: &str) -> anyhow::Result<()> {
    browser
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(day)],
        )
        .await?;
    Ok(())
}

/// A screenshot of the whole page as `<docs>/<name>.png`, the window sized
/// to the page's height (the committed ones were then shrunk with
/// `pngquant --quality=60-85`).
async fn shoot(browser: &WebDriver, docs: &std::path::Path, name: &str) -> anyhow::Result<()> {
    browser.set_window_rect(0, 0, 1100, 400).await?;
    let height = browser
        .execute(
            "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
            vec![],
        )
        .await?
        .json()
        .as_u64()
        .unwrap_or(900);
    browser
        .set_window_rect(
            0,
            0,
            1100,
            u32::try_from(height.clamp(300, 2400)).unwrap_or(900),
        )
        .await?;
    browser
        .screenshot(&docs.join(format!("{name}.png")))
        .await?;
    Ok(())
}
