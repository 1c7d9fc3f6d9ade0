use super::*;
use chrono::NaiveDate;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use rust_decimal_macros::dec;

fn payment(
    locator: &str,
    amount: rust_decimal::Decimal,
    reversed: Option<NaiveDate>,
) -> PaymentRow {
    PaymentRow {
        locator: locator.into(),
        account: "A1".into(),
        currency: "USD".into(),
        amount,
        received_on: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        to_credit: dec!(0.50),
        reversed_on: reversed,
    }
}

/// Every declared column is a field of the row, and every field is declared.
fn columns_match<R: Row>(sample: R) {
    let value = serde_json::to_value(&sample).unwrap();
    let mut fields: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut declared: Vec<&str> = R::COLUMNS.iter().map(|c| c.name).collect();
    fields.sort();
    declared.sort();
    assert_eq!(fields, declared);
}

#[test]
fn declared_columns_are_exactly_the_fields_of_each_row() {
    columns_match(payment("P1", dec!(1), None));
    columns_match(InvoiceRow {
        locator: "I1".into(),
        account: "A1".into(),
        number: 1,
        currency: "USD".into(),
        issue_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
        total: dec!(1),
        paid: dec!(1),
        credited: dec!(0),
        written_off: dec!(0),
        outstanding: dec!(0),
        past_due_on: None,
    });
    let charge: ChargeRow = ChargeRow {
        locator: "C1".into(),
        account: "A1".into(),
        policy: None,
        transaction: "T1".into(),
        term: None,
        item: None,
        charge: "premium".into(),
        category: "premium".into(),
        handling: "normal".into(),
        invoicing: "scheduled".into(),
        recipient: None,
        currency: "USD".into(),
        amount: dec!(1),
        period_start: None,
        period_end: None,
        reverses: None,
        technical_premium: Some(dec!(0.80)),
    };
    columns_match(charge);
    let usd = |amount| crate::domain::Money::new(amount, crate::domain::Currency::USD);
    let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut ledger = crate::ledger::Ledger::new("t").unwrap();
    let draft =
        crate::ledger::postings::payment_received("A1", usd(dec!(10)), usd(dec!(5)), day, "P1");
    let id = ledger.post(draft.unwrap()).unwrap();
    let entry = ledger.entry(id).unwrap();
    columns_match(crate::ledger::line_rows(entry).last().unwrap());
}

#[test]
fn csv_has_a_header_and_empty_cells_for_nulls() {
    let csv = to_csv([payment("P1", dec!(12.34), None)]).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "locator,account,currency,amount,received_on,to_credit,reversed_on\nP1,A1,USD,12.34,2026-02-01,0.50,\n"
    );
}

#[test]
fn parquet_keeps_exact_decimals_dates_and_nulls() {
    let reversed = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let bytes = to_parquet([
        payment("P1", dec!(12.34), None),
        payment("P2", dec!(-0.0001), Some(reversed)),
    ])
    .unwrap();
    assert_eq!(&bytes[..4], b"PAR1");
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
    let rows: Vec<_> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let cells = |row: &parquet::record::Row| -> Vec<String> {
        row.get_column_iter()
            .map(|(_, f)| match f {
                Field::Decimal(d) => {
                    let raw = i64::from_be_bytes(d.data().try_into().unwrap_or([0; 8]));
                    rust_decimal::Decimal::new(raw, DECIMAL_SCALE).to_string()
                }
                other => other.to_string(),
            })
            .collect()
    };
    assert_eq!(cells(&rows[0])[3], "12.3400");
    assert_eq!(cells(&rows[1])[3], "-0.0001");
    assert_eq!(cells(&rows[0])[4], "2026-02-01");
    assert_eq!(cells(&rows[0])[6], "null");
    assert_eq!(cells(&rows[1])[6], "2026-03-01");
}

#[test]
fn a_decimal_finer_than_the_parquet_scale_is_refused_not_rounded() {
    let error = to_parquet([payment("P1", dec!(0.00001), None)]).unwrap_err();
    assert!(matches!(
        error,
        ExportError::Unrepresentable {
            column: "amount",
            ..
        }
    ));
}
