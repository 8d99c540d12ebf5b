#!/usr/bin/env bash
# Request fuzzer (issue 6): builds the libFuzzer target Fuzz/RequestFuzzer into .build-fuzz/
# (swiftc -sanitize=fuzzer,address over the JobdModel sources, the shared checks in
# Tests/JobdModelTests/Utils/RequestFuzzChecks.swift and Sources/JobdClient/NDJSON.swift),
# then fuzzes the POST /v1/jobs body decoding and validation (single job and batch) and
# the NDJSON parsing of `jobctl gather`. The last line is
#   fuzz: runs=N crashes=C seconds=S exec_per_s=E
#
# Usage: scripts/fuzz.sh [--runs N | --seconds S] [--fresh] [--verbose] [-- libFuzzer flags]
#   --runs N      stop after N inputs (default 200000, the CI bound: about 30 s with the build)
#   --seconds S   stop after S seconds instead (no run bound unless --runs is given too)
#   --fresh       start from the seed corpus (Fuzz/corpus) alone, dropping what earlier
#                 runs added to the working corpus .build-fuzz/corpus
#   --verbose     show libFuzzer's whole output (it is always in .build-fuzz/fuzz.log)
#   -- FLAGS      passed to libFuzzer, e.g. -- -seed=1 -max_len=512
# Exits 1 on a crash, a broken invariant (a trap), a leak, an out-of-memory or a
# 10-second input; the input is kept in .build-fuzz/crashes/. Replay one with
#   .build-fuzz/request-fuzzer .build-fuzz/crashes/crash-…
# Fuzz/corpus is only read; new inputs go to .build-fuzz/corpus. The build is redone only
# when a source is newer than the binary.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.build-fuzz"
runs=""
seconds=""
fresh=0
verbose=0
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --seconds) seconds="$2"; shift ;;
        --fresh) fresh=1 ;;
        --verbose) verbose=1 ;;
        --) shift; extra=("$@"); break ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ -z "$runs" ] && [ -z "$seconds" ]; then runs=200000; fi

command -v swiftc >/dev/null || { echo "fuzz.sh: the Swift toolchain is missing" >&2; exit 69; }
mkdir -p "$out/crashes" "$out/corpus"

# --- build ------------------------------------------------------------------------------
sources=(
    "$root"/Fuzz/RequestFuzzer/*.swift
    "$root/Tests/JobdModelTests/Utils/RequestFuzzChecks.swift"
    "$root/Sources/JobdClient/NDJSON.swift"
)
model=("$root"/Sources/JobdModel/*.swift)
flags=(
    -swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility
    -sanitize=fuzzer,address -O -g -use-ld=lld
)
binary="$out/request-fuzzer"
build() {
    local stale=0 f
    [ -x "$binary" ] || stale=1
    for f in "${model[@]}" "${sources[@]}" "$0"; do
        [ "$f" -nt "$binary" ] && stale=1
    done
    [ $stale -eq 1 ] || { echo "fuzz: $binary is up to date"; return 0; }
    local tmp
    tmp="$(mktemp -d "$out/build.XXXXXX")"
    echo "fuzz: building $binary"
    # JobdModel is its own module, as in the package, so NDJSON.swift's `import JobdModel`
    # works unchanged.
    swiftc "${flags[@]}" -module-name JobdModel -parse-as-library -emit-library -static \
        -emit-module -emit-module-path "$tmp/JobdModel.swiftmodule" "${model[@]}" -o "$tmp/libJobdModel.a"
    swiftc "${flags[@]}" -module-name RequestFuzzer -parse-as-library -I "$tmp" \
        "${sources[@]}" "$tmp/libJobdModel.a" -o "$tmp/request-fuzzer"
    mv -f "$tmp/request-fuzzer" "$binary"
    rm -rf "$tmp"
}
start=$(date +%s.%N)
(
    # Two people fuzzing from one checkout build one after the other.
    flock 9
    build
) 9>"$out/build.lock"
build_seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "fuzz: build took ${build_seconds}s"

# --- fuzz -------------------------------------------------------------------------------
if [ $fresh -eq 1 ]; then
    rm -rf "$out/corpus"
    mkdir -p "$out/corpus"
fi
args=(
    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
    -dict="$root/Fuzz/request.dict" -artifact_prefix="$out/crashes/"
)
[ -n "$runs" ] && args+=(-runs="$runs")
[ -n "$seconds" ] && args+=(-max_total_time="$seconds")
before=$(find "$out/crashes" -type f | wc -l)
log="$out/fuzz.log"
echo "fuzz: $binary ${args[*]} ${extra[*]-} $out/corpus $root/Fuzz/corpus"
start=$(date +%s.%N)
status=0
if [ $verbose -eq 1 ]; then
    "$binary" "${args[@]}" "${extra[@]}" "$out/corpus" "$root/Fuzz/corpus" 2>&1 | tee "$log" || status=$?
else
    "$binary" "${args[@]}" "${extra[@]}" "$out/corpus" "$root/Fuzz/corpus" >"$log" 2>&1 || status=$?
fi
seconds_taken=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

done_runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
if [ -z "$done_runs" ]; then
    # No final stats after a crash: the last status line's count.
    done_runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
fi
done_runs=${done_runs:-0}
exec_per_s=$(awk -v r="$done_runs" -v s="$seconds_taken" 'BEGIN { printf "%d", (s > 0 ? r / s : 0) }')
after=$(find "$out/crashes" -type f | wc -l)
crashes=$((after - before))
if [ $status -ne 0 ] && [ $crashes -eq 0 ]; then crashes=1; fi

if [ $verbose -eq 0 ]; then
    grep -E '^INFO: Seed:|INITED|DONE|^Done ' "$log" || true
fi
if [ $crashes -ne 0 ]; then
    [ $verbose -eq 1 ] || tail -n 60 "$log" >&2
    echo "fuzz: libFuzzer exited with $status; the input is in $out/crashes/ (full log: $log)" >&2
    find "$out/crashes" -type f -newermt "@${start%.*}" >&2 || true
fi
echo "fuzz: runs=$done_runs crashes=$crashes seconds=$seconds_taken exec_per_s=$exec_per_s"
[ $crashes -eq 0 ]
