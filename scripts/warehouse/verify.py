"""The warehouse exports read by DuckDB, as a warehouse would (issue 21,
items 3 and 6).

Starts `premia serve --demo-test` over a fresh data directory (the demo
tenant with a clock of its own), builds a small book through the HTTP API
(policies on three accounts with commissions, invoices, payments, an
overpayment refunded, a write-off, a cancellation, an earnings run, two
closed months, a late payment after the close, a GL mapping), downloads
every export as Parquet and as CSV and checks with DuckDB:

- every money column is DECIMAL(18,4) in Parquet (never a float), and the
  CSV, read as text and cast to DECIMAL, holds the same rows and sums;
- the GL journal of each period balances per currency, maps every line,
  and equals the sum of its entries' ledger lines;
- invoice lines sum to their invoice's total; payment allocations sum to
  their payment's amount and, per invoice, to what the invoice says is
  paid; write-offs per invoice to what it says is written off;
- installments sum to their charge's amount, and each invoiced one equals
  its invoice line;
- earned + unearned = written for every charge, and what runs posted equals
  the ledger's earned premium;
- commissions per producer equal `GET /v1/producers`;
- a cursor load after new activity holds exactly the new rows.

Usage: verify.py <premia binary>
"""

import csv
import datetime as dt
import decimal
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import duckdb

BINARY = sys.argv[1]
DATASETS = [
    "invoice-lines", "payment-allocations", "write-offs", "disbursements",
    "installments", "earned-premium", "commissions",
    "invoices", "payments", "charges", "ledger-lines",
]
MONEY = {
    "invoice-lines": ["amount", "invoice_total"],
    "payment-allocations": ["amount", "payment_amount"],
    "write-offs": ["amount"],
    "disbursements": ["amount"],
    "installments": ["amount"],
    "earned-premium": ["written", "earned", "unearned", "earned_posted"],
    "commissions": ["amount", "premium"],
    "invoices": ["total", "paid", "credited", "written_off", "outstanding"],
    "payments": ["amount", "to_credit"],
    "charges": ["amount"],
    "ledger-lines": ["amount", "debit_amount"],
    "gl-journal": ["debit", "credit"],
}
ACCOUNTS = [
    "cash", "premium_receivable_unbilled", "premium_receivable_billed", "customer_credit",
    "taxes_payable", "commission_payable", "ceded_premium_payable", "unearned_premium",
    "written_premium", "earned_premium", "surcharge_income", "fee_income",
    "deductible_recoveries", "commission_expense", "ceded_premium", "write_off_expense",
]
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data, port):
    log = open(os.path.join(data, "serve.log"), "w+")
    process = subprocess.Popen(
        [BINARY, "serve", "--data", os.path.join(data, "d"), "--listen", f"127.0.0.1:{port}",
         "--demo-test"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    text = ""
    for _ in range(300):
        log.seek(0)
        text = log.read()
        if "listening" in text:
            return process, "prm_" + text.split("prm_", 1)[1].split()[0]
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit("the server did not start:\n" + text)


class Api:
    def __init__(self, port, key):
        self.base = f"http://127.0.0.1:{port}"
        self.key = key

    def raw(self, method, path, body=None, content_type="application/json"):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, method=method, data=data,
            headers={"authorization": f"Bearer {self.key}", "content-type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def call(self, method, path, body=None, expect=None):
        status, _, data = self.raw(method, path, body)
        answer = json.loads(data or b"null")
        if expect is not None:
            assert status in expect, (method, path, status, answer)
        return status, answer

    def ok(self, method, path, body=None):
        return self.call(method, path, body, expect=(200, 201))[1]


def month_start(day):
    return day.replace(day=1)


def next_month(day):
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def policy(locator, account, start, plan, producer=True):
    fields = {"territory": ["urban"]}
    if producer:
        fields["producer"] = ["agency-7" if locator[-1] in "02468" else "broker-3"]
    return {
        "locator": locator, "account": account, "product": "auto", "start": str(start),
        "plan": plan, "time_zone": "UTC",
        "data": {"fields": fields,
                 "exposures": {"V1": {"name": "vehicle",
                                      "fields": {"vehicle_class": ["sedan"], "driver_age": [30 + len(locator)]},
                                      "perils": {"V1-BI": {"name": "bodily_injury"}}}}},
    }


def outstanding(api, account):
    billing = api.ok("GET", f"/v1/accounts/{account}/billing")
    return [(i["invoice"]["locator"], i["outstanding"]) for i in billing["invoices"]
            if i["outstanding"] not in ("0", "0.00")]


def build(api):
    """The book; returns the days it used."""
    today = dt.date.fromisoformat(api.ok("GET", "/v1/clock")["today"])
    start = next_month(today)
    for account in ("A-1", "A-2", "A-3"):
        api.ok("POST", "/v1/accounts", {"locator": account, "name": account, "currency": "USD"})
    plans = ["monthly", "quarterly", "annual"]
    for n in range(9):
        account = f"A-{n % 3 + 1}"
        api.ok("POST", "/v1/policies", policy(f"P-{n}", account, start, plans[n % 3], n != 8))
    api.ok("POST", "/v1/clock", {"today": str(start)})
    api.ok("POST", "/v1/billing/runs", {"up_to": str(start)})
    # A-1 pays everything and 10.00 more (credit, refunded); A-2 pays half
    # of its first invoice; A-3's first invoice is written off.
    due = outstanding(api, "A-1")
    total = sum(decimal.Decimal(a) for _, a in due)
    api.ok("POST", "/v1/payments", {"account": "A-1", "amount": str(total + 10),
                                    "received_on": str(start)})
    a2 = outstanding(api, "A-2")[0]
    api.ok("POST", "/v1/payments", {"account": "A-2", "amount": "50.00",
                                    "received_on": str(start), "invoices": [a2[0]]})
    a3 = outstanding(api, "A-3")[0]
    api.ok("POST", "/v1/write-offs", {"account": "A-3", "invoice": a3[0], "on": str(start),
                                      "reason": "goodwill"})
    drafted = api.ok("POST", "/v1/disbursements", {"account": "A-1", "amount": "10.00",
                                                  "on": str(start), "reason": "overpaid"})
    locator = json.dumps(drafted).split('"A-1-D', 1)[1].split('"', 1)[0]
    api.ok("POST", f"/v1/disbursements/A-1-D{locator}/approvals",
           {"account": "A-1", "on": str(start)})
    api.ok("POST", "/v1/billing/runs", {"up_to": str(start)})
    api.ok("POST", "/v1/policies/P-3/cancellations",
           {"effective": str(start + dt.timedelta(days=45)), "reason": "insured_request"})
    return today, start


def later(api, start):
    """A month on: a run, a payment, earnings, two closes, a late payment."""
    second = next_month(start)
    api.ok("POST", "/v1/clock", {"today": str(second + dt.timedelta(days=1))})
    api.ok("POST", "/v1/billing/runs", {"up_to": str(second)})
    for account, (invoice, amount) in [("A-2", outstanding(api, "A-2")[-1])]:
        api.ok("POST", "/v1/payments", {"account": account, "amount": amount,
                                        "received_on": str(second), "invoices": [invoice]})
    last_day = second - dt.timedelta(days=1)
    api.ok("POST", "/v1/accounting/earnings", {"as_of": str(last_day)})
    return second, last_day


def close_and_late_payment(api, first_month, start, second):
    for month in (first_month, start):
        api.ok("POST", f"/v1/accounting/periods/{month:%Y-%m}/close", {})
    # Received in the closed month, recorded now: lands in the open one.
    status, answer = api.call("POST", "/v1/payments", {
        "account": "A-3", "amount": "5.00", "received_on": str(start + dt.timedelta(days=3))},
        expect=(201,))
    entry = answer["journal_entries"][0]
    check(entry["accounting_date"] == str(second),
          f"a late payment after the close lands in the open period ({entry['accounting_date']})")


def download(api, tmp, name, query=""):
    """The dataset as Parquet and CSV files; its cursor header."""
    paths = {}
    cursor = None
    for fmt in ("parquet", "csv"):
        status, headers, body = api.raw("GET", f"/v1/exports/{name}.{fmt}{query}")
        assert status == 200, (name, fmt, status, body[:300])
        path = os.path.join(tmp, f"{name}-{len(os.listdir(tmp))}.{fmt}")
        with open(path, "wb") as out:
            out.write(body)
        paths[fmt] = path
        cursor = {k.lower(): v for k, v in headers.items()}.get("premia-next-cursor", cursor)
    return paths, cursor


def register(con, view, paths, money):
    """`view` over the Parquet file, `view_csv` over the CSV with money cast
    from text to DECIMAL(18,4); checks the Parquet money columns' type."""
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet('{paths['parquet']}')")
    types = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE {view}").fetchall())
    for column in money:
        check(types.get(column) == "DECIMAL(18,4)", f"{view}.{column} is DECIMAL(18,4) ({types.get(column)})")
    with open(paths["csv"]) as f:
        header = next(csv.reader(f))
    columns = ", ".join(
        f"CAST(NULLIF({c}, '') AS DECIMAL(18,4)) AS {c}" if c in money else f'"{c}"'
        for c in header)
    con.execute(f"CREATE OR REPLACE VIEW {view}_csv AS SELECT {columns} FROM "
                f"read_csv('{paths['csv']}', all_varchar = true, header = true)")
    count = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    csv_count = con.execute(f"SELECT count(*) FROM {view}_csv").fetchone()[0]
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in money) or "0"
    same = con.execute(f"SELECT {sums} FROM {view}").fetchone() == \
        con.execute(f"SELECT {sums} FROM {view}_csv").fetchone()
    check(count == csv_count and same,
          f"{view}: Parquet and CSV hold the same {count} rows and money sums")
    return count


def none(con, sql, what):
    rows = con.execute(sql).fetchall()
    check(not rows, what + ("" if not rows else f": {rows[:5]}"))


def main():
    tmp = tempfile.mkdtemp()
    port = free_port()
    server, key = serve(tmp, port)
    started = time.time()
    try:
        api = Api(port, key)
        first_day, start = build(api)
        first_month = month_start(first_day)
        # The first incremental load, before a month of activity.
        first_paths, cursor = download(api, tmp, "invoice-lines")
        second, last_day = later(api, start)
        close_and_late_payment(api, first_month, start, second)
        mapping = "account,product,currency,gl_account\n" + "".join(
            f"{a},,,{1000 + i * 100}\n" for i, a in enumerate(ACCOUNTS)) + \
            "earned_premium,auto,USD,4000-AUTO\n"
        status, _, body = api.raw("PUT", "/v1/accounting/gl-mapping", mapping, "text/csv")
        assert status == 200, body

        con = duckdb.connect()
        counts = {}
        for name in DATASETS:
            query = f"?as_of={last_day}" if name == "earned-premium" else ""
            paths, _ = download(api, tmp, name, query)
            counts[name] = register(con, name.replace("-", "_"), paths, MONEY[name])
        for month in (first_month, start, second):
            paths, _ = download(api, tmp, "gl-journal", f"?period={month:%Y-%m}")
            view = f"gl_{month:%Y_%m}"
            counts[view] = register(con, view, paths, MONEY["gl-journal"])
        print(json.dumps(counts))
        check(all(counts[n] > 0 for n in DATASETS), "every dataset has rows")

        # The general-ledger journal.
        gl = " UNION ALL ".join(f"SELECT * FROM gl_{m:%Y_%m}" for m in (first_month, start, second))
        con.execute(f"CREATE VIEW gl AS {gl}")
        none(con, "SELECT period, currency FROM gl GROUP BY ALL HAVING sum(debit) <> sum(credit)",
             "the GL journal balances per period and currency")
        none(con, "SELECT * FROM gl WHERE gl_account IS NULL OR gl_account = ''",
             "every GL line is mapped")
        none(con, """
            WITH g AS (SELECT entry_id, sum(debit) d, sum(credit) c FROM gl GROUP BY entry_id),
                 l AS (SELECT entry_id, sum(CASE WHEN side = 'debit' THEN amount ELSE 0 END) d,
                              sum(CASE WHEN side = 'credit' THEN amount ELSE 0 END) c
                       FROM ledger_lines GROUP BY entry_id)
            SELECT * FROM g FULL JOIN l USING (entry_id) WHERE g.d IS DISTINCT FROM l.d
               OR g.c IS DISTINCT FROM l.c""",
             "the GL journal of the periods equals the sum of their entries' lines")
        none(con, "SELECT * FROM gl WHERE account = 'earned_premium' AND product = 'auto' "
                  "AND gl_account <> '4000-AUTO'", "the product's own row maps its lines")

        # Invoices, payments, write-offs.
        none(con, """SELECT i.locator FROM invoices i LEFT JOIN
                (SELECT invoice, sum(amount) s, any_value(invoice_total) t FROM invoice_lines GROUP BY invoice) l
                ON l.invoice = i.locator
                WHERE coalesce(l.s, 0) <> i.total OR l.t <> i.total""",
             "invoice lines sum to their invoice's total")
        none(con, """SELECT p.locator FROM payments p LEFT JOIN
                (SELECT payment, sum(amount) s FROM payment_allocations GROUP BY payment) a
                ON a.payment = p.locator WHERE coalesce(a.s, 0) <> p.amount""",
             "payment allocations sum to their payment")
        none(con, """SELECT i.locator, i.paid, a.s FROM invoices i LEFT JOIN
                (SELECT invoice, sum(amount) s FROM payment_allocations WHERE target = 'invoice'
                 GROUP BY invoice) a ON a.invoice = i.locator WHERE coalesce(a.s, 0) <> i.paid""",
             "allocations per invoice sum to what it says is paid")
        none(con, """SELECT i.locator FROM invoices i LEFT JOIN
                (SELECT invoice, sum(amount) s FROM write_offs GROUP BY invoice) w
                ON w.invoice = i.locator WHERE coalesce(w.s, 0) <> i.written_off""",
             "write-offs per invoice sum to what it says is written off")
        check(con.execute("SELECT count(*) FROM disbursements WHERE status = 'executed' "
                          "AND amount = 10").fetchone()[0] == 1, "the refund of 10.00 is executed")

        # Installments.
        none(con, """SELECT c.locator, c.amount, s.s FROM charges c JOIN
                (SELECT charge, sum(amount) s FROM installments GROUP BY charge) s
                ON s.charge = c.locator WHERE s.s <> c.amount""",
             "installments sum to their charge")
        none(con, """SELECT i.slice FROM installments i JOIN invoice_lines l
                ON l.line = i.invoice_line WHERE l.amount <> i.amount OR l.slice <> i.slice""",
             "each invoiced installment equals its invoice line")

        # Earned premium.
        none(con, "SELECT charge FROM earned_premium WHERE earned + unearned <> written",
             "earned + unearned = written for every charge")
        posted = con.execute("SELECT sum(earned_posted) FROM earned_premium").fetchone()[0]
        ledger = con.execute("""SELECT sum(CASE WHEN side = 'credit' THEN amount ELSE -amount END)
                FROM ledger_lines WHERE account = 'earned_premium'""").fetchone()[0]
        check(posted == ledger and posted > 0,
              f"what runs posted ({posted}) is the ledger's earned premium ({ledger})")
        earned = con.execute("SELECT sum(earned) FROM earned_premium").fetchone()[0]
        check(earned == posted, f"a run through {last_day} posted what the formula earns ({earned})")

        # Commissions.
        producers = api.ok("GET", "/v1/producers")
        rows = producers if isinstance(producers, list) else producers.get("producers", producers)
        expected = sorted((p["producer"], p["currency"], decimal.Decimal(p["written"]) + decimal.Decimal(p["charged_back"]))
                          for p in rows)
        got = sorted((p, c, s) for p, c, s in con.execute(
            "SELECT producer, currency, sum(amount) FROM commissions GROUP BY ALL").fetchall())
        check(got == expected, f"commissions per producer equal GET /v1/producers ({got})")
        check(con.execute("SELECT count(*) FROM commissions WHERE kind = 'chargeback'")
              .fetchone()[0] > 0, "the cancellation's chargeback is a row")

        # The cursor.
        paths, _ = download(api, tmp, "invoice-lines", f"?after={cursor}")
        register(con, "new_lines", paths, MONEY["invoice-lines"])
        register(con, "old_lines", first_paths, MONEY["invoice-lines"])
        none(con, """(SELECT line FROM invoice_lines EXCEPT ALL
                      SELECT line FROM (SELECT line FROM old_lines UNION ALL SELECT line FROM new_lines))
                     UNION ALL
                     (SELECT line FROM old_lines INTERSECT SELECT line FROM new_lines)""",
             f"a load after cursor {cursor} holds exactly the lines added since")
        check(con.execute("SELECT count(*) FROM new_lines").fetchone()[0] > 0,
              "the cursor load has the new month's lines")
    finally:
        server.terminate()
        server.wait()
    print(f"{time.time() - started:.1f} s against the server")
    if failures:
        print(f"{len(failures)} checks failed")
        sys.exit(1)
    print("every check passed")


if __name__ == "__main__":
    main()
