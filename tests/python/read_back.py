"""Reads back what a bexio-bi exporter wrote, with readers bexio-bi did not write, and prints
what it found as JSON: per table the rows, each column's type and NULL count, the sum of the
invoice totals per currency (exact decimals, as text), and the non-ASCII letters seen.

    read_back.py parquet DIR     pyarrow.parquet
    read_back.py arrow DIR       pyarrow.ipc (Arrow IPC files)
    read_back.py csv DIR         Python's csv module (UTF-8, optional BOM, any delimiter)
    read_back.py hyper DIR       tableauhyperapi (every .hyper in DIR, through its own hyperd;
                                 also reports SQL types, NOT NULL and the assumed keys)
    read_back.py xlsx DIR        openpyxl (every .xlsx in DIR; a table continued on "name (2)"
                                 sheets is counted as one; also reports each sheet's Excel
                                 table range, frozen pane and the Python types of the values)

The Rust tests compare this with the store and with the sandbox's ground truth.
"""

import csv
import decimal
import json
import os
import sys

NON_ASCII = set("äöüÄÖÜéèàçßâêô€«»")


def letters(values, seen):
    for v in values:
        if isinstance(v, str):
            seen.update(ch for ch in v if ch in NON_ASCII)


def money_sums(rows_by_currency):
    return {k: str(v) for k, v in sorted(rows_by_currency.items())}


def read_arrow_tables(path_of, read):
    import pyarrow as pa

    tables = {}
    sums = {}
    seen = set()
    for name in sorted(os.listdir(path_of)):
        table_name, ext = os.path.splitext(name)
        table = read(os.path.join(path_of, name))
        columns = {}
        for field, column in zip(table.schema, table.columns):
            columns[field.name] = {"type": str(field.type), "nulls": column.null_count}
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                letters(column.to_pylist(), seen)
        tables[table_name] = {"rows": table.num_rows, "columns": columns}
        if table_name == "fact_invoice":
            totals = table.column("total").to_pylist()
            currencies = table.column("currency_code").to_pylist()
            for cur, tot in zip(currencies, totals):
                if tot is not None:
                    sums[cur] = sums.get(cur, decimal.Decimal(0)) + tot
    return {"tables": tables, "invoice_totals": money_sums(sums), "letters": sorted(seen)}


def read_csv_dir(path):
    tables = {}
    sums = {}
    seen = set()
    for name in sorted(os.listdir(path)):
        table_name = os.path.splitext(name)[0]
        with open(os.path.join(path, name), encoding="utf-8-sig", newline="") as f:
            sample = f.read(4096)
            f.seek(0)
            delimiter = ";" if sample.split("\n", 1)[0].count(";") > sample.split("\n", 1)[0].count(",") else ","
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader)
            empties = [0] * len(header)
            rows = 0
            for row in reader:
                if len(row) != len(header):
                    raise SystemExit(f"{name}: row {rows + 2} has {len(row)} fields, the header {len(header)}")
                rows += 1
                for i, v in enumerate(row):
                    if v == "":
                        empties[i] += 1
                letters(row, seen)
                if table_name == "fact_invoice":
                    rec = dict(zip(header, row))
                    if rec["total"] != "":
                        cur = rec["currency_code"]
                        sums[cur] = sums.get(cur, decimal.Decimal(0)) + decimal.Decimal(rec["total"])
        tables[table_name] = {
            "rows": rows,
            "columns": {h: {"type": "text", "nulls": n} for h, n in zip(header, empties)},
        }
    return {"tables": tables, "invoice_totals": money_sums(sums), "letters": sorted(seen)}


def read_xlsx_dir(path):
    import datetime
    import openpyxl

    tables = {}
    sums = {}
    seen = set()
    sheets = []
    for name in sorted(os.listdir(path)):
        if not name.endswith(".xlsx"):
            continue
        wb = openpyxl.load_workbook(os.path.join(path, name))
        for ws in wb.worksheets:
            table_name = ws.title.split(" (")[0]
            rows = list(ws.iter_rows(values_only=True))
            header, body = list(rows[0]), rows[1:]
            sheets.append({
                "sheet": ws.title,
                "freeze": ws.freeze_panes,
                "tables": {t.displayName: t.ref for t in ws.tables.values()},
                "rows": len(body),
                "columns": len(header),
            })
            t = tables.setdefault(table_name, {"rows": 0, "columns": {h: {"types": [], "nulls": 0} for h in header}})
            t["rows"] += len(body)
            for row in body:
                letters(row, seen)
                for h, v in zip(header, row):
                    c = t["columns"][h]
                    if v is None:
                        c["nulls"] += 1
                    else:
                        kind = "date" if isinstance(v, datetime.datetime) else type(v).__name__
                        if kind not in c["types"]:
                            c["types"].append(kind)
                if table_name == "fact_invoice":
                    rec = dict(zip(header, row))
                    if rec["total"] is not None:
                        cur = rec["currency_code"]
                        # Excel holds doubles: the shortest text of each is the decimal written.
                        sums[cur] = sums.get(cur, decimal.Decimal(0)) + decimal.Decimal(repr(rec["total"]))
    return {"tables": tables, "invoice_totals": money_sums(sums), "letters": sorted(seen), "sheets": sheets}


def read_hyper_dir(path):
    from tableauhyperapi import Connection, HyperProcess, Telemetry, TableName

    tables = {}
    sums = {}
    seen = set()
    keys = []
    logs = os.path.join(path, "..", ".hyper-reader-logs")
    os.makedirs(logs, exist_ok=True)
    with HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_dir": logs}) as hp:
        for name in sorted(os.listdir(path)):
            if not name.endswith(".hyper"):
                continue
            with Connection(hp.endpoint, os.path.join(path, name)) as c:
                for kind, n in c.execute_list_query(
                    "SELECT contype, count(*) FROM pg_catalog.pg_constraint GROUP BY contype"
                ):
                    keys.append({"file": name, "kind": {"p": "primary", "f": "foreign"}.get(kind, kind), "count": n})
                for schema in c.catalog.get_schema_names():
                    for t in c.catalog.get_table_names(schema):
                        d = c.catalog.get_table_definition(t)
                        tname = t.name.unescaped
                        cols = [col.name.unescaped for col in d.columns]
                        rows = c.execute_list_query(f"SELECT * FROM {t}")
                        columns = {}
                        for i, col in enumerate(d.columns):
                            columns[col.name.unescaped] = {
                                "type": str(col.type),
                                "not_null": str(col.nullability) == "NOT_NULLABLE" or "NOT" in str(col.nullability),
                                "nulls": sum(1 for r in rows if r[i] is None),
                            }
                        for r in rows:
                            letters(r, seen)
                        tables[tname] = {"rows": len(rows), "columns": columns}
                        if tname == "fact_invoice":
                            ti, ci = cols.index("total"), cols.index("currency_code")
                            for r in rows:
                                if r[ti] is not None:
                                    sums[r[ci]] = sums.get(r[ci], decimal.Decimal(0)) + decimal.Decimal(r[ti])
    return {"tables": tables, "invoice_totals": money_sums(sums), "letters": sorted(seen), "keys": keys}


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "parquet":
        import pyarrow.parquet as pq

        out = read_arrow_tables(path, pq.read_table)
    elif kind == "arrow":
        import pyarrow.ipc as ipc

        out = read_arrow_tables(path, lambda p: ipc.open_file(p).read_all())
    elif kind == "csv":
        out = read_csv_dir(path)
    elif kind == "xlsx":
        out = read_xlsx_dir(path)
    elif kind == "hyper":
        out = read_hyper_dir(path)
    else:
        raise SystemExit(f"unknown kind {kind}")
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
