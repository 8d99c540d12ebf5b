#!/usr/bin/env bash
# Screenshots of every dashboard page for docs/images/: a throw-away jobd with a small
# mixed workload, `jobctl dashboard`, and headless Chromium driven over the DevTools
# protocol (scripts/dashboard_browser.py). Needs Debian's chromium and built binaries
# (BIN, default .build/debug).
#
#   scripts/dashboard-screenshots.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/images}"
bin="${BIN:-.build/debug}"
work="$(mktemp -d /tmp/jd-shots.XXXXXX)"
sock="$work/s.sock"
cleanup() {
    [ -n "${dash_pid:-}" ] && kill "$dash_pid" 2>/dev/null || true
    [ -n "${jobd_pid:-}" ] && kill "$jobd_pid" 2>/dev/null && wait "$jobd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"
printf '# screenshots: defaults\nworkers: 4\n' >"$work/jobd.yaml"
JOBD_CONFIG="$work/jobd.yaml" "$bin/jobd" --socket "$sock" --database "$work/jobs.sqlite" 2>"$work/jobd.log" &
jobd_pid=$!
for _ in $(seq 200); do [ -S "$sock" ] && grep -q "jobd ready" "$work/jobd.log" && break; sleep 0.05; done
ctl() { "$bin/jobctl" --socket "$sock" "$@"; }

# A workload worth looking at: successes, failures, retries, a batch, schedules, and
# jobs still running and queued when the pictures are taken.
ctl workers 2 >/dev/null
for i in $(seq 1 40); do ctl submit delay 0.05 --value "{\"report\":$i}" --tag demo >/dev/null; done
for i in $(seq 1 6); do ctl submit delay 0 --fail "upstream returned 503" --retries 2 >/dev/null; done
job=$(ctl submit delay 0 --value '"<script>alert(1)</script>"' --tag demo --tag hostile)
ctl wait "$job" >/dev/null || true
printf '{"kind":"delay","seconds":0.1}\n{"kind":"delay","seconds":0.2}\n{"kind":"delay","seconds":0,"fail":"bad input"}\n' >"$work/batch.ndjson"
ctl gather --file "$work/batch.ndjson" >/dev/null || true
batch=$(ctl batch list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["batches"][0]["id"])')
ctl schedule add nightly-export "0 3 * * *" --delay 1 >/dev/null
ctl schedule add hourly-sync @hourly --delay 0 >/dev/null
for i in $(seq 1 4); do ctl submit delay 120 --tag long >/dev/null; done
for i in $(seq 1 10); do ctl submit delay 1 >/dev/null; done

"$bin/jobctl" dashboard --socket "$sock" >"$work/url" 2>/dev/null &
dash_pid=$!
for _ in $(seq 200); do grep -q '^http://' "$work/url" && break; sleep 0.05; done
url="$(head -1 "$work/url")"
python3 scripts/dashboard_browser.py pages "$url" --job "$job" --batch "$batch" --screenshots "$out" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); bad={k:v for k,v in r["problems"].items() if v}; print("problems:", bad or "none"); sys.exit(1 if bad else 0)'
ls -l "$out"/dashboard-*.png
