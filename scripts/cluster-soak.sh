#!/usr/bin/env bash
# jobd cluster kill soak (issue 11): 3 jobd nodes on one private PostgreSQL (initdb in a
# temporary directory, 127.0.0.1 and its own socket directory), a mixed workload
# submitted round-robin (delays, failing delays with retries, fetches of ok, flaky and
# failing pages from a local server), and one node killed with SIGKILL once half the
# jobs are acknowledged, while every node runs attempts. The rest goes to the two
# survivors. At the end every acknowledged job must be stored and terminal, no attempt
# left running, every extra run explained by a retry or an interrupted attempt, no
# finish of the dead node written after it died, every job's state its last attempt's,
# and the dead node's attempts rescued within node.lease + 2 s (the CI version allows
# lease + 15 s unless JOBDTEST_STRICT_TIMING=1: a loaded machine). Prints one line per seed:
#   nodes=3 jobs=… killed=node-N lease=3 rescued_attempts=… rescue_seconds_max=… lost=0
#   stuck=0 unexplained_duplicates=0 stale_finishes=0 … result=PASS
# and exits 1 when a check fails. The checks are defined in scripts/cluster_soak.py's header.
#
# Usage: scripts/cluster-soak.sh [--jobs N] [--seed S] [--seeds K] [--lease S]
#                                [--jobd PATH] [--record] [-- cluster_soak.py options]
#   (no options)   the CI version: 1 seed, 2,000 jobs (about 10-20 s after the build)
#   --record       the long version: 10 seeds x 10,000 jobs (the issue 11 must-show)
#   --jobs N, --seeds K, --seed S (the first seed), --lease S (node.lease, default 3)
#   --jobd PATH    use this binary; without it the debug jobd is built in the shared
#                  .build (`swift build --product jobd`, quick when CI has built it)
# Needs Debian's postgresql package (or JOBD_PG_BIN). Everything runs in a temporary
# directory (removed on success, kept and named on failure) on Unix sockets and
# 127.0.0.1; every process started is stopped by its PID on exit.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
package="$(cd "$here/.." && pwd)"
script=cluster-soak.sh
. "$here/lib/child.sh"
jobd=""
py_args=(--jobs 2000 --seeds 1)
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs | --seed | --seeds | --lease) py_args+=("$1" "$2"); shift ;;
        --jobd) jobd="$2"; shift ;;
        --record) py_args+=(--jobs 10000 --seeds 10); record=1 ;;
        --) shift; py_args+=("$@"); break ;;
        -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "cluster-soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

need_python
if [ -z "${JOBD_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "cluster-soak.sh: PostgreSQL is missing (apt-get install postgresql, or set JOBD_PG_BIN)" >&2
    exit 69
fi

need_jobd "$package"

# The CI version holds the rescue to lease + 15 s (a loaded CI machine's timers run late;
# the figure is printed either way); --record and JOBDTEST_STRICT_TIMING=1 hold lease + 2 s.
if [ -z "${record:-}" ] && [ "${JOBDTEST_STRICT_TIMING:-}" != 1 ]; then
    py_args=(--rescue-slack 15 ${py_args[@]+"${py_args[@]}"})
fi

run_child python3 "$here/cluster_soak.py" --jobd "$jobd" ${py_args[@]+"${py_args[@]}"}
