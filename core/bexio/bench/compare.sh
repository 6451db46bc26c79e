#!/usr/bin/env bash
# Side by side, in one run: the normalizer against pandas.json_normalize and pyarrow's JSON reader
# on the same invoices. Not part of `make test`. BENCH_INVOICES sets the size (default 1,000,000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bexio-bi/target}"
export BENCH_INVOICES="${BENCH_INVOICES:-1000000}"
export BENCH_DIR="${BENCH_DIR:-/tmp/bexio-bi-bench}"

venv="$root/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" || { echo "python3 -m venv failed: install python3-venv" >&2; exit 1; }
"$venv/bin/python" -c 'import pandas, pyarrow' 2>/dev/null || "$venv/bin/pip" install --quiet 'pandas>=2' 'pyarrow>=15' \
  || { echo "could not install pandas and pyarrow from PyPI" >&2; exit 1; }

cargo bench --quiet -p bexio-bi-bexio --bench normalize | tee /tmp/bexio-bi-normalize.txt
data=$(sed -n 's/^data: //p' /tmp/bexio-bi-normalize.txt)
"$venv/bin/python" "$here/python_readers.py" "$data" pyarrow
"$venv/bin/python" "$here/python_readers.py" "$data" pandas
