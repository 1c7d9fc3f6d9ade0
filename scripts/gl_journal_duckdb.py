#!/usr/bin/env python3
"""Reads a general-ledger export (`GET /v1/exports/gl-journal.parquet?period=YYYY-MM`)
with DuckDB and checks what finance relies on: every column typed, debits equal
credits per period and currency, every line mapped to a GL account.

Usage:
    pip install duckdb
    python3 scripts/gl_journal_duckdb.py gl-journal.parquet

To produce a file without a server, the API test writes the January 2026 file
of its worked example:

    PREMIA_GL_PARQUET_OUT=/tmp/gl-journal.parquet \\
        cargo test -p premia --lib gl_export_maps_each_periods_lines
    python3 scripts/gl_journal_duckdb.py /tmp/gl-journal.parquet

Exits non-zero (with the reason) when a check fails.
"""

import sys

import duckdb


def main(path: str) -> int:
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    types = {row[0]: row[1] for row in described}
    expected = {
        "period": "VARCHAR",
        "accounting_date": "DATE",
        "posted_on": "DATE",
        "gl_account": "VARCHAR",
        "debit": "DECIMAL(18,4)",
        "credit": "DECIMAL(18,4)",
    }
    for column, kind in expected.items():
        if types.get(column) != kind:
            print(f"column {column} is {types.get(column)}, expected {kind}")
            return 1
    unbalanced = con.execute(
        f"""
        SELECT period, currency, sum(debit) AS debits, sum(credit) AS credits
        FROM read_parquet('{path}')
        GROUP BY period, currency
        HAVING sum(debit) <> sum(credit)
        """
    ).fetchall()
    if unbalanced:
        print(f"unbalanced: {unbalanced}")
        return 1
    unmapped = con.execute(
        f"SELECT count(*) FROM read_parquet('{path}') WHERE gl_account IS NULL OR gl_account = ''"
    ).fetchone()[0]
    if unmapped:
        print(f"{unmapped} lines without a GL account")
        return 1
    for row in con.execute(
        f"""
        SELECT period, currency, gl_account, sum(debit) AS debit, sum(credit) AS credit
        FROM read_parquet('{path}')
        GROUP BY ALL ORDER BY ALL
        """
    ).fetchall():
        print(*row, sep="\t")
    print("balanced per period and currency; every line mapped")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
