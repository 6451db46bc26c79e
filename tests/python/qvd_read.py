"""Reads every .qvd under DIR with the three independent QVD readers (pyqvd, openqvd, qvdrs)
and prints, per file and reader, the field names and every row, each value tagged with the Python
type the reader gave it:

    null | ["n", "<repr of int/float/Decimal>"] | ["s", text] | ["d", "YYYY-MM-DD"] | ["t", iso timestamp]

    qvd_read.py DIR [--readers pyqvd,openqvd,qvdrs] [--summary]

With --summary only row counts, NULL counts per field and the sum of fact_invoice's total per
currency_code (exact, from each value's text when the reader gives it, else its number) are
printed: what the store is compared with.
"""

import datetime
import decimal
import json
import os
import sys


def tag(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return ["n", "-1" if v else "0"]
    if isinstance(v, (int, float, decimal.Decimal)):
        return ["n", repr(v) if isinstance(v, float) else str(v)]
    if isinstance(v, str):
        return ["s", v]
    if isinstance(v, datetime.datetime):
        return ["t", v.isoformat(sep=" ")]
    if isinstance(v, datetime.date):
        return ["d", v.isoformat()]
    if isinstance(v, datetime.time):
        return ["s", v.isoformat()]
    # Reader-specific value objects (duals): prefer their text, else their number.
    for attr in ("display_value", "string_value", "text", "value", "calculation_value"):
        if hasattr(v, attr):
            return tag(getattr(v, attr))
    return ["s", str(v)]


def read_pyqvd(path):
    from pyqvd import QvdTable

    t = QvdTable.from_qvd(path)
    return list(t.columns), [list(r) for r in t.data]


def read_openqvd(path):
    import openqvd

    t = openqvd.read(path)
    if hasattr(t, "to_pylist"):  # an Arrow table
        cols = t.column_names
        return cols, [[r[c] for c in cols] for r in t.to_pylist()]
    if hasattr(t, "to_dict"):
        d = t.to_dict()
        cols = list(d.keys())
        return cols, [list(x) for x in zip(*d.values())] if cols else []
    raise SystemExit(f"openqvd returned {type(t)}")


def read_qvdrs(path):
    import qvd

    t = qvd.read_qvd(path) if hasattr(qvd, "read_qvd") else qvd.QvdTable.load(path)
    if hasattr(t, "to_arrow"):
        a = t.to_arrow()
        cols = a.column_names
        return cols, [[r[c] for c in cols] for r in a.to_pylist()]
    if hasattr(t, "to_dict"):
        d = t.to_dict()
        cols = list(d.keys())
        return cols, [list(x) for x in zip(*d.values())] if cols else []
    raise SystemExit(f"qvdrs returned {type(t)}")


READERS = {"pyqvd": read_pyqvd, "openqvd": read_openqvd, "qvdrs": read_qvdrs}


def exact(v):
    t = tag(v)
    return None if t is None else decimal.Decimal(t[1])


def main():
    path = sys.argv[1]
    readers = list(READERS)
    summary = "--summary" in sys.argv
    if "--readers" in sys.argv:
        readers = sys.argv[sys.argv.index("--readers") + 1].split(",")
    files = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".qvd")
    )
    out = {}
    for f in files:
        name = os.path.relpath(f, path)
        out[name] = {}
        for r in readers:
            try:
                cols, rows = READERS[r](f)
            except Exception as e:  # a reader refusing the file is a finding, not a crash
                out[name][r] = {"error": f"{type(e).__name__}: {e}"}
                continue
            if summary:
                nulls = {c: sum(1 for row in rows if row[i] is None) for i, c in enumerate(cols)}
                sums = {}
                if os.path.basename(f) == "fact_invoice.qvd":
                    ti, ci = cols.index("total"), cols.index("currency_code")
                    for row in rows:
                        if row[ti] is not None:
                            cur = tag(row[ci])[1]
                            sums[cur] = sums.get(cur, decimal.Decimal(0)) + exact(row[ti])
                letters = sorted({ch for row in rows for v in row if tag(v) and tag(v)[0] == "s" for ch in tag(v)[1] if ord(ch) > 127})
                out[name][r] = {
                    "rows": len(rows),
                    "fields": cols,
                    "nulls": nulls,
                    "invoice_totals": {k: str(v) for k, v in sorted(sums.items())},
                    "letters": letters,
                    "types": {c: sorted({tag(row[i])[0] for row in rows if row[i] is not None}) for i, c in enumerate(cols)},
                }
            else:
                out[name][r] = {"fields": cols, "rows": [[tag(v) for v in row] for row in rows]}
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
