#!/usr/bin/env bash
# Side by side, in one run, on the same sandbox company under bexio's real rate limits
# (time-scaled): a full sync, then — after the company's business moved on so that about 1 % of
# its records changed — an incremental sync and, for comparison, a full re-sync (what a user
# would otherwise do, and what tools without incremental pulls do). Not part of `make test`.
#
#   core/sync/bench/incremental.sh            # 100,000 invoices, 2 days of business
#   INVOICES=20000 DAYS=5 core/sync/bench/incremental.sh
#   TIME_SCALE=10 RESYNC=0 core/sync/bench/incremental.sh   # closer to real time, no re-sync
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bexio-bi/target}"
invoices="${INVOICES:-100000}"
days="${DAYS:-2}"
scale="${TIME_SCALE:-60}"

profile="${PROFILE:-release}"   # a user's binary; PROFILE=debug to skip the release build
if [ "$profile" = release ]; then cargo build --quiet --release -p bexio-bi; else cargo build --quiet -p bexio-bi; fi
bin="$CARGO_TARGET_DIR/$profile/bexio-bi"
work="$(mktemp -d)"
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin" sandbox serve --invoices "$invoices" --time-scale "$scale" --seed 1 >"$work/ready" 2>/dev/null &
sandbox_pid=$!
for _ in $(seq 600); do [ -s "$work/ready" ] && break; sleep 0.5; done
url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/ready")"
token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenants"][0]["token"])' "$work/ready")"

sync() { # home, extra args…
  local home="$1"; shift
  mkdir -p "$home"
  printf '[sync]\nconcurrency = 8\n\n[[tenant]]\nname = "bench"\nbase_url = "%s"\n' "$url" >"$home/config.toml"
  # Peak memory of the sync process (kB) goes to $home/peak-kb.
  BEXIO_BI_HOME="$home" BEXIO_BI_TENANT_BENCH_TOKEN="$token" \
    /usr/bin/time -f %M -o "$home/peak-kb" "$bin" --quiet sync --json "$@"
}

echo "sandbox: $invoices invoices, time scale $scale (a simulated minute every $((60 / ${scale%.*})) s)" >&2
sync "$work/a" >"$work/full.json"
cp "$work/a/peak-kb" "$work/full.kb"
curl -s -X POST "$url/_sandbox/advance?days=$days" >"$work/advance.json"
sync "$work/a" >"$work/incremental.json"
cp "$work/a/peak-kb" "$work/incremental.kb"
if [ "${RESYNC:-1}" = 1 ]; then
  sync "$work/b" >"$work/resync.json"; cp "$work/b/peak-kb" "$work/resync.kb"
else
  cp "$work/full.json" "$work/resync.json"; cp "$work/full.kb" "$work/resync.kb"
fi

python3 - "$work" "$scale" <<'PY'
import json, sys
work, scale = sys.argv[1], float(sys.argv[2])
full = json.load(open(f"{work}/full.json"))[0]
inc = json.load(open(f"{work}/incremental.json"))[0]
resync = json.load(open(f"{work}/resync.json"))[0]
adv = json.load(open(f"{work}/advance.json"))["companies"][0]["changes"]
records = sum(full["tables"].get(t, 0) for t in ("fact_invoice", "fact_quote", "fact_order", "dim_contact"))
changed = sum(len(adv.get(r, {}).get(k, [])) for r in ("kb_invoice", "kb_offer", "kb_order", "contact") for k in ("created", "updated", "deleted"))
found = sum(sum(c.values()) for s, c in inc["changes"].items() if s in ("kb_invoice", "kb_offer", "kb_order", "contact"))
print(f"changed by advance: {changed} of {records} documents and contacts ({100 * changed / records:.2f} %); the incremental sync found {found}")
floor = full["tables"].get("fact_invoice", 0)
print(f"requests per invoice: {full['http']['requests'] / max(floor, 1):.3f} (one detail request per invoice for its positions, one per paid invoice for its payments; {full['tables'].get('fact_payment', 0)} payment rows)")
print(f"{'run':<24}{'requests':>10}{'share':>8}{'429s':>6}{'sim. minutes':>14}{'wall s':>8}{'peak MB':>9}")
for name, r, kb in (("full (first)", full, "full"), ("incremental", inc, "incremental"), ("full re-sync", resync, "resync")):
    share = 100 * r["http"]["requests"] / full["http"]["requests"]
    peak = int(open(f"{work}/{kb}.kb").read().split()[-1]) / 1024
    print(f"{name:<24}{r['http']['requests']:>10}{share:>7.2f}%{r['http']['throttled']:>6}{r['seconds'] * scale / 60:>14.1f}{r['seconds']:>8.1f}{peak:>9.0f}")
live = lambda r: {t: n for t, n in r["tables"].items() if t != "tombstones"}
same = live(inc) == live(resync)
diff = {t: (live(inc).get(t), live(resync).get(t)) for t in set(live(inc)) | set(live(resync)) if live(inc).get(t) != live(resync).get(t)}
print(f"incremental tables equal the re-sync's row counts: {same} {diff if diff else ''}; tombstones: {inc['tables'].get('tombstones', 0)}")
print(f"requests saved by the local copy: {inc['cache']['requests_saved']}; streams fresh by TTL: {len(inc['cache']['fresh'])}")
PY
