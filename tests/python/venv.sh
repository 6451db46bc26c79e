#!/usr/bin/env bash
# Creates (once) the Python venv with the independent readers the tests use, and prints the path
# of its python. Idempotent: a venv whose requirements have not changed is reused.
# BEXIO_BI_VENV chooses where (default: ~/.cache/bexio-bi/venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${BEXIO_BI_VENV:-$HOME/.cache/bexio-bi/venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "the tests need Python 3 (python3) for the independent readers: apt-get install python3 python3-venv" >&2
  exit 1
fi
echo "creating the readers' venv in $venv (pyarrow, openpyxl, pyqvd, openqvd, qvdrs, tableauhyperapi, pantab)…" >&2
python3 -m venv "$venv" || { echo "cannot create a venv: apt-get install python3-venv" >&2; exit 1; }
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2 \
  || { echo "pip could not install the readers (network?): see the messages above" >&2; exit 1; }
echo "$want" > "$stamp"
echo "$venv/bin/python"
