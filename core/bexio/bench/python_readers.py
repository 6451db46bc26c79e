"""The tools a user would otherwise pick to turn bexio JSON into a table: pandas.json_normalize and
pyarrow's JSON reader, on the file the Rust benchmark wrote. Prints time and peak memory."""
import json
import resource
import sys
import time


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(path, tool):
    if tool == "pandas":
        import pandas as pd

        t = time.perf_counter()
        with open(path) as f:
            records = [json.loads(line) for line in f]
        df = pd.json_normalize(records)
        secs = time.perf_counter() - t
        print(f"pandas.json_normalize: {len(df)} invoices in {secs:.2f} s = {len(df) / secs:.0f} invoices/s; peak RSS {peak_mb():.0f} MB")
    else:
        import pyarrow.json as pj

        t = time.perf_counter()
        table = pj.read_json(path)
        secs = time.perf_counter() - t
        print(f"pyarrow.json.read_json: {table.num_rows} invoices in {secs:.2f} s = {table.num_rows / secs:.0f} invoices/s; peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
