#!/usr/bin/env bash
# Side by side, in one run: the sandbox's company generator (release build) and the generator a user
# would otherwise write, Python Faker, for the same numbers of invoices. Not part of `make test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bexio-bi/target}"
sizes="${BENCH_SIZES:-10000,100000}"

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating a Python venv in $venv for Faker…" >&2
  python3 -m venv "$venv" || { echo "python3 -m venv failed: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
fi
"$venv/bin/python" -c 'import faker' 2>/dev/null || "$venv/bin/pip" install --quiet 'faker>=30' \
  || { echo "could not install Faker from PyPI" >&2; exit 1; }

echo "== bexio-bi sandbox generator (full company: contacts, quotes, orders, invoices, payments, journal, bills, timesheets)"
BENCH_SIZES="$sizes" cargo bench --quiet -p bexio-bi-sandbox --bench generate
echo
echo "== Python Faker (de_CH): contacts, invoices with positions and payments only"
printf '%10s %10s %14s %10s %10s\n' invoices seconds invoices/s positions payments
for n in ${sizes//,/ }; do
  "$venv/bin/python" "$here/faker_invoices.py" "$n"
done
