# Sourced by scripts/soak.sh, scripts/cluster-soak.sh and scripts/bench.sh, after `set -euo pipefail`, with
# $script set to the wrapper's name (for messages).
#
# The child (the build, then the Python soak) runs in the background and is waited for,
# so these traps can stop it by its PID (the Python soak in turn stops what it started).
child=""
cleanup() {
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# need_python: exits 69 unless python3 is 3.11 or newer.
need_python() {
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        { echo "$script: needs python3 >= 3.11" >&2; exit 69; }
}

# need_jobd PACKAGE: without a $jobd, builds the debug jobd in PACKAGE's shared .build
# (`swift build --product jobd`) and sets $jobd to it; exits 2 unless $jobd is executable.
need_jobd() {
    if [ -z "$jobd" ]; then
        command -v swift >/dev/null || { echo "$script: the Swift toolchain is missing (or pass --jobd)" >&2; exit 69; }
        echo "# building jobd (swift build --product jobd)" >&2
        (cd "$1" && exec swift build --product jobd >&2) &
        child=$!
        wait "$child"
        child=""
        jobd="$(cd "$1" && swift build --show-bin-path)/jobd"
    fi
    [ -x "$jobd" ] || { echo "$script: no jobd binary at $jobd" >&2; exit 2; }
}

# run_child COMMAND [ARGS...]: runs the command as the child and exits with its status.
run_child() {
    "$@" &
    child=$!
    local status=0
    wait "$child" || status=$?
    child=""
    exit "$status"
}
