"""The tools a user would otherwise pick, writing the same invoice-lines table: each run in its
own process, from a pyarrow Table already in memory (read from the Arrow IPC file the Rust
benchmark wrote, untimed) to the finished file. Prints JSON: seconds, peak RSS (kB) and size.

    files.py parquet|xlsx|hyper|qvdrs|pyqvd IPC_FILE OUT_DIR
"""

import json
import os
import resource
import sys
import time


def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    kind, ipc, out = sys.argv[1], sys.argv[2], sys.argv[3]
    import pyarrow as pa
    import pyarrow.ipc

    table = pa.ipc.open_file(ipc).read_all()
    os.makedirs(out, exist_ok=True)
    loaded_kb = peak_kb()
    started = time.perf_counter()
    if kind == "parquet":
        import pyarrow.parquet as pq

        path = os.path.join(out, "lines.parquet")
        pq.write_table(table, path, compression="zstd")
    elif kind == "xlsx":
        import datetime
        import openpyxl

        path = os.path.join(out, "lines.xlsx")
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("fact_invoice_line")
        ws.append(table.column_names)
        for batch in table.to_batches():
            cols = [c.to_pylist() for c in batch.columns]
            for row in zip(*cols):
                ws.append([float(v) if hasattr(v, "as_tuple") else (v.replace(tzinfo=None) if isinstance(v, datetime.datetime) else v) for v in row])
        wb.save(path)
    elif kind == "hyper":
        import pantab

        path = os.path.join(out, "lines.hyper")
        pantab.frame_to_hyper(table, path, table="fact_invoice_line")
    elif kind == "qvdrs":
        import qvd

        path = os.path.join(out, "lines.qvd")
        qvd.write_arrow(table, path, table_name="fact_invoice_line")
    elif kind == "pyqvd":
        from pyqvd import QvdTable

        path = os.path.join(out, "lines.qvd")
        frame = table.to_pandas()
        # pyqvd cannot take zoned timestamps: the same instants, naive UTC.
        for name, column in frame.items():
            if getattr(column.dtype, "tz", None) is not None:
                frame[name] = column.dt.tz_localize(None)
        QvdTable.from_pandas(frame).to_qvd(path)
    else:
        raise SystemExit(f"unknown {kind}")
    seconds = time.perf_counter() - started
    json.dump({"seconds": seconds, "peak_kb": peak_kb(), "input_kb": loaded_kb, "bytes": os.path.getsize(path)}, sys.stdout)


if __name__ == "__main__":
    main()
