#!/usr/bin/env bash
# jobd benchmarks (issue 5): builds release into .build-bench, then runs every workload
# (W1 throughput, W2 concurrency, W3 fetch, W4 latency, W5 backlog, a kill -9 durability
# check) against a fresh jobd per run and prints one line per figure:
#   workload=… jobs=… seconds=… jobs_per_s=… peak_rss_mb=… [extras]
# Then the PostgreSQL engine (issue 11) on a private cluster it starts and removes itself:
# W1 (10,000 no-op jobs, durability full) on 1 jobd node and on 3 nodes sharing one
# database, W2 (10,000 x delay 1 s) on 3 nodes, with the database's CPU beside jobd's.
# With --with-anchors it also runs the matching anchors of ../shared/anchors (huey,
# arq, asyncio, aiohttp; pgqueuer and procrastinate for PostgreSQL) and prints
# `ratio workload=… jobd/anchor=…` and `target …` lines.
#
# Usage: scripts/bench.sh [--with-anchors] [--quick] [--engine sqlite|postgres|both]
#                         [--rev REV | --package DIR] [--anchors DIR] [-- bench.py options]
#   --quick          1 run per figure and the smaller sizes only (about 2.5 minutes)
#   --with-anchors   also run the anchors whose prerequisites are installed
#   --engine E       sqlite: the SQLite workloads only; postgres: the PostgreSQL ones only;
#                    both (the default): SQLite, then PostgreSQL, which is skipped with a
#                    note when PostgreSQL is not installed (apt-get install -y postgresql)
#   --rev REV        measure commit REV (e.g. HEAD) instead of the work tree: it is laid out
#                    with `git archive` in .build-bench-src/ (kept, so rebuilds are
#                    incremental); other people's unfinished edits are then not measured
#   --package DIR    build and measure the jobd package at DIR (default: this repo)
#   --anchors DIR    the anchors folder (default: ../shared/anchors beside the repo)
# The figures are medians of 3 runs (1 with --quick; 1 when a run takes over 25 s).
# Everything listens on Unix sockets or 127.0.0.1 only; every process started is
# stopped by its PID on exit, the PostgreSQL clusters with `pg_ctl stop -m fast`. A full
# --with-anchors run takes 7-10 minutes after the build (PostgreSQL's part 1.5-3.5 of them,
# mostly procrastinate; a first release build takes 5-10 more). Results: docs/benchmarks.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
package="$(cd "$here/.." && pwd)"
anchors="$(cd "$here/../.." && pwd)/shared/anchors"
py_args=()
rev=""
engine=both
while [ $# -gt 0 ]; do
    case "$1" in
        --with-anchors | --quick) py_args+=("$1") ;;
        --engine) py_args+=("$1" "$2"); engine="$2"; shift ;;
        --anchors) anchors="$2"; shift ;;
        --package) package="$(cd "$2" && pwd)"; shift ;;
        --rev) rev="$2"; shift ;;
        --) shift; py_args+=("$@"); break ;;
        -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

start=$(date +%s.%N)
elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# --- prerequisites ---------------------------------------------------------------------
command -v swift >/dev/null || { echo "bench.sh: the Swift toolchain is missing" >&2; exit 69; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "bench.sh: needs python3 >= 3.11" >&2; exit 69; }
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    echo "bench.sh: the build needs libsqlite3-dev: apt-get install -y libsqlite3-dev" >&2; exit 69
fi
if ! command -v nginx >/dev/null; then
    echo "# W3 needs nginx (skipped without it): apt-get install -y nginx" >&2
fi
case " ${py_args[*]-} " in
    *" --with-anchors "*)
        missing=""
        for m in huey arq aiohttp gevent; do
            python3 -c "import $m" 2>/dev/null || missing="$missing $m"
        done
        for p in redis-server nginx; do command -v "$p" >/dev/null || missing="$missing $p"; done
        if [ -n "$missing" ]; then
            echo "# anchors lack:$missing; those anchors are skipped. Install them with:" >&2
            echo "#   apt-get update && apt-get install -y redis-server nginx && pip install huey arq aiohttp gevent" >&2
        fi
        if [ "$engine" != sqlite ]; then
            missing=""
            for m in pgqueuer procrastinate asyncpg psycopg psycopg_pool uvloop; do
                python3 -c "import $m" 2>/dev/null || missing="$missing $m"
            done
            if [ -n "$missing" ]; then
                echo "# the PostgreSQL anchors lack:$missing; they are skipped. Install them with:" >&2
                echo "#   pip install pgqueuer==1.6.0 procrastinate==3.10.0 asyncpg 'psycopg[binary,pool]'" >&2
            fi
        fi
        ;;
esac
if [ "$engine" != sqlite ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${JOBD_PG_BIN:-}" ]; then
    echo "# the PostgreSQL workloads need PostgreSQL (skipped without it): apt-get install -y postgresql" >&2
fi

# --- what is measured --------------------------------------------------------------------
if [ -n "$rev" ]; then
    repo="$package"
    commit="$(git -C "$repo" rev-parse --short "$rev^{commit}")" || { echo "bench.sh: no commit $rev" >&2; exit 2; }
    package="$repo/.build-bench-src"
    mkdir -p "$package"
    # The commit's files: unchanged ones keep their timestamps (and the scratch folder
    # inside stays), so the release build after a new commit is incremental.
    fresh="$(mktemp -d "${TMPDIR:-/tmp}/jobd-bench-src.XXXXXX")"
    git -C "$repo" archive "$commit" | tar -x -C "$fresh"
    (cd "$package" && find . -path ./.build-bench -prune -o -type f -print) | while IFS= read -r f; do
        [ -e "$fresh/$f" ] || rm -f "$package/$f"
    done
    (cd "$fresh" && find . -type f -print) | while IFS= read -r f; do
        if ! cmp -s "$fresh/$f" "$package/$f"; then
            mkdir -p "$(dirname "$package/$f")" && cp -p "$fresh/$f" "$package/$f"
        fi
    done
    rm -rf "$fresh"
else
    commit="$(git -C "$package" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [ "$commit" != unknown ] && [ -n "$(git -C "$package" status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then
        commit="$commit+uncommitted-changes"
    fi
fi

# --- machine ---------------------------------------------------------------------------
echo "# machine: nproc=$(nproc) mem=$(awk '/MemTotal/ {printf "%.1fGiB", $2/1048576}' /proc/meminfo)" \
    "disk=$(df -h "${TMPDIR:-/tmp}" | awk 'NR==2 {print $1 " " $2}') kernel=$(uname -r)"
echo "# swift: $(swift --version 2>&1 | head -1)"
echo "# package: $package commit=$commit"
echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine skew every figure)"

# Every child runs in the background and is waited for, so that the traps of
# scripts/lib/child.sh can stop it by its PID (bench.py in turn stops its own jobd, nginx
# and anchor scripts).
script=bench.sh
# shellcheck source=lib/child.sh
. "$here/lib/child.sh"

# --- build -----------------------------------------------------------------------------
echo "# building release (swift build -c release --scratch-path .build-bench --product jobd)" >&2
build_start=$(date +%s.%N)
(cd "$package" && exec swift build -c release --scratch-path .build-bench --product jobd >&2) &
child=$!
wait "$child"
child=""
echo "# build_seconds=$(awk -v s="$build_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"

# --- run -------------------------------------------------------------------------------

python3 "$here/bench.py" --jobd "$package/.build-bench/release/jobd" --anchors "$anchors" ${py_args[@]+"${py_args[@]}"} &
child=$!
status=0
wait "$child" || status=$?
child=""
echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "total_seconds=$(elapsed)"
exit "$status"
