"""Writes a version's fact_invoice (read from the store's chunks) as Parquet with pyarrow, to
compare sizes on disk: python parquet_size.py STORE_DIR TENANT VERSION."""
import json, os, sys, time

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

store, tenant, version = sys.argv[1:4]
manifest = json.load(open(os.path.join(store, tenant, "versions", version + ".json")))
table = next(t for t in manifest["tables"] if t["name"] == "fact_invoice")
batches = []
for c in table["chunks"]:
    h = c["hash"]
    with open(os.path.join(store, "objects", h[:2], h), "rb") as f:
        batches.extend(ipc.open_stream(f).read_all().to_batches())
t = pa.Table.from_batches(batches)
ours = sum(c["bytes"] for c in table["chunks"])
print(f"rows {t.num_rows}; bexio-bi chunks (Arrow IPC, LZ4): {ours / 1e6:.1f} MB")
for codec in ("snappy", "zstd"):
    path = f"/tmp/bexio-bi-bench/fact_invoice.{codec}.parquet"
    start = time.time()
    pq.write_table(t, path, compression=codec)
    print(f"pyarrow Parquet ({codec}): {os.path.getsize(path) / 1e6:.1f} MB in {time.time() - start:.2f} s")
