#!/usr/bin/env bash
# jobd crash soak (issue 6): a mixed workload (fetches from a local page server with
# failing, flaky, missing and slow pages; delays, some failing; retries, cancels,
# priorities, run_at, idempotency keys) while jobd is killed with SIGKILL at random
# moments and restarted on the same database. At the end every acknowledged job must be
# stored and terminal, no attempt left running, every extra run explained by a retry or
# an interrupted attempt, and PRAGMA integrity_check ok. Prints one line:
#   kills=… jobs=… lost=0 stuck=0 unexplained_duplicates=0 integrity=ok … result=PASS
# and exits 1 when a check fails. The checks are defined in scripts/soak.py's header.
#
# Usage: scripts/soak.sh [--kills N] [--jobs N] [--jobd PATH] [--seed S] [--record]
#                        [-- soak.py options]
#   (no options)   the CI version: 12 kills, 3,000 jobs (about 30-60 s after the build)
#   --record       the long version: 50 kills, 20,000 jobs (a few minutes)
#   --kills N      SIGKILLs; --jobs N: jobs to acknowledge; --seed S: repeat a run
#   --jobd PATH    use this binary; without it the debug jobd is built in the shared
#                  .build (`swift build --product jobd`, quick when CI has built it)
# Everything runs on a temporary socket and database (mktemp -d, removed on success,
# kept and named on failure) and 127.0.0.1; every process started is stopped by its
# PID on exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
package="$(cd "$here/.." && pwd)"
script=soak.sh
. "$here/lib/child.sh"
jobd=""
py_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --kills | --jobs | --seed) py_args+=("$1" "$2"); shift ;;
        --jobd) jobd="$2"; shift ;;
        --record) py_args+=(--kills 50 --jobs 20000) ;;
        --) shift; py_args+=("$@"); break ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

need_python

need_jobd "$package"

run_child python3 "$here/soak.py" --jobd "$jobd" ${py_args[@]+"${py_args[@]}"}
