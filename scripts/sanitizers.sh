#!/usr/bin/env bash
# The test suite under ThreadSanitizer and AddressSanitizer (issue 6): builds the package
# with `--sanitize=thread` into .build-tsan/ and with `--sanitize=address` (LeakSanitizer
# included) into .build-asan/, never touching the shared .build, and runs `swift test`
# there. The end-to-end tests start the jobd and jobctl built beside the test runner, i.e.
# the sanitized ones; JOBD_BIN_DIR is set to that directory so an exported one cannot
# point them elsewhere.
#
# Every sanitized process (the test runner, each jobd and jobctl the tests start,
# including those run as other users) writes its reports to
#   .build-{tsan,asan}/sanitizer-run/reports/{tsan,asan}.PID
# (log_path), not to its stderr: jobd's stderr is a test's temporary log, deleted with
# it, and a jobctl test may require an empty stderr. Any report file fails the run, as
# does any test failure. Known false positives are suppressed by
# scripts/sanitizers/{tsan,asan,lsan}.supp (each entry says why and when to drop it).
#
# Usage: scripts/sanitizers.sh [thread|address|all] [--parallel] [-- swift test args]
#   thread | address | all   which sanitizer (default all: thread, then address)
#   --parallel               run tests in parallel (Swift Testing's default); without
#                            it they run one at a time (--no-parallel), see below
#   -- ARGS                  passed to `swift test`, e.g. -- --filter EndToEndTests
# Per sanitizer the last line is
#   sanitizers: thread build=Ns test=Ns passed=P failed=F skipped=S reports=R result=PASS
# Exit status: 0 when every selected run passes; 1 when a test fails or a sanitizer
# reported anything; 2 for a usage error.
#
# Why one test at a time by default: the sanitized binaries are several times slower,
# and the suite has wall-clock bounds (a cancel "at once", gather "quickly", a 2 s
# timeout within 8 s). With all suites in parallel on two cores some 20 tests break those
# bounds under TSan; one at a time all pass. What the sanitizers watch hardly changes:
# each jobd a test starts still runs its own threads against one another as in
# production; only the test runner sees fewer tests interleaved. About 11 minutes cold
# for thread (build 3.5, tests 7.5) and 5.5 for address (build 3, tests 2.5) on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
supp="$root/scripts/sanitizers"
which="all"
parallel=0
test_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        thread | address | all) which="$1" ;;
        --parallel) parallel=1 ;;
        --) shift; test_args=("$@"); break ;;
        -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "sanitizers.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$which" in
    thread) sanitizers=(thread) ;;
    address) sanitizers=(address) ;;
    all) sanitizers=(thread address) ;;
esac
[ "$parallel" = 1 ] || test_args=(--no-parallel "${test_args[@]}")
command -v swift >/dev/null || { echo "sanitizers.sh: the Swift toolchain is missing" >&2; exit 69; }
cd "$root"

# process_name REPORT: which program wrote it, from the frames it names (TSan prints
# "(jobd+0x…)"; ASan only symbol names, Swift-mangled with the module's name).
process_name() {
    local pid="${1##*.}" name
    name=$(grep -m1 -oE '\((jobd|jobctl|jobdPackageTests\.xctest)\+0x' "$1" | sed 's/^(//; s/+0x$//' || true)
    if [ -z "$name" ]; then
        if grep -qE '\$s4jobd[0-9A-Z]' "$1"; then name=jobd
        elif grep -qE '\$s6jobctl[0-9A-Z]' "$1"; then name=jobctl
        elif grep -qE 'Tests/' "$1"; then name=jobdPackageTests.xctest
        else name="unknown program"; fi
    fi
    echo "$name, pid $pid"
}

# kill_leftovers SCRATCH: kills (by PID) programs still running from SCRATCH's binaries,
# i.e. a jobd or jobctl the tests started whose clean-up never ran because the test
# runner died (an ASan abort, a crash): they would hold sockets and CPU long after the run.
kill_leftovers() {
    local scratch="$1" dir exe pids=()
    for dir in /proc/[0-9]*; do
        exe=$(readlink "$dir/exe" 2>/dev/null) || continue
        case "$exe" in "$scratch"/*) pids+=("${dir#/proc/}") ;; esac
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    echo "sanitizers: ${#pids[@]} process(es) from ${scratch#"$root"/} still running after the tests; killing ${pids[*]}" >&2
    kill -KILL "${pids[@]}" 2>/dev/null || true
}

# run_one SANITIZER: builds, tests, collects reports; prints the summary line; returns 0/1.
run_one() {
    local sanitizer="$1" short
    case "$sanitizer" in thread) short=tsan ;; address) short=asan ;; esac
    local scratch="$root/.build-$short"
    local out="$scratch/sanitizer-run"
    local reports="$out/reports"
    rm -rf "$out"
    mkdir -p "$reports"
    # jobd runs as other users in AccessTests (setpriv): they must be able to write here.
    chmod 1777 "$reports"

    echo "sanitizers: $sanitizer: building into ${scratch#"$root"/} (log: ${out#"$root"/}/build.log)"
    local start=$SECONDS
    if ! swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch" >"$out/build.log" 2>&1; then
        tail -n 30 "$out/build.log" >&2
        echo "sanitizers: $sanitizer build=$((SECONDS - start))s result=FAIL (build failed)"
        return 1
    fi
    local build_seconds=$((SECONDS - start))
    local bin
    bin="$(swift build --show-bin-path --sanitize="$sanitizer" --scratch-path "$scratch")"

    # halt_on_error=0 (TSan): list every race of the run, not just the first; the
    # process still exits 66 at the end when it reported one. ASan always stops at its
    # first error (Swift is not built with -fsanitize-recover). include_if_exists reads
    # per-binary options (%b: the binary's name): jobdPackageTests.xctest.asan-options
    # turns LeakSanitizer off in the test runner only; jobd and jobctl keep it (see
    # scripts/sanitizers/lsan.supp).
    local env=(
        "JOBD_BIN_DIR=$bin"
        "TSAN_OPTIONS=suppressions=$supp/tsan.supp:log_path=$reports/tsan:halt_on_error=0:exitcode=66:second_deadlock_stack=1"
        "ASAN_OPTIONS=suppressions=$supp/asan.supp:log_path=$reports/asan:detect_leaks=1:exitcode=66:include_if_exists=$supp/%b.asan-options"
        "LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0"
    )
    echo "sanitizers: $sanitizer: swift test ${test_args[*]} (log: ${out#"$root"/}/test.log)"
    start=$SECONDS
    local status=0
    env "${env[@]}" swift test --sanitize="$sanitizer" --scratch-path "$scratch" "${test_args[@]}" \
        >"$out/test.log" 2>&1 || status=$?
    local test_seconds=$((SECONDS - start))
    kill_leftovers "$scratch"

    local passed failed skipped
    # Swift Testing's per-test lines (not its closing "Test run with N tests" line).
    passed=$(grep '^✔ Test .* passed after' "$out/test.log" | grep -vc '^✔ Test run with' || true)
    failed=$(grep '^✘ Test .* failed after' "$out/test.log" | grep -vc '^✘ Test run with' || true)
    skipped=$(grep -c '^➜ Test .* skipped' "$out/test.log" || true)
    if [ "$status" != 0 ]; then
        echo "sanitizers: $sanitizer: swift test exited $status; failures:" >&2
        grep -E '^✘ |: error: |Fatal error|fatal error' "$out/test.log" | head -n 60 >&2 || true
        tail -n 5 "$out/test.log" >&2
    fi

    local files=() file
    while IFS= read -r file; do files+=("$file"); done < <(find "$reports" -type f -size +0c | sort)
    local count=0
    for file in ${files[@]+"${files[@]}"}; do
        local n
        n=$(grep -cE '^WARNING: ThreadSanitizer|^==[0-9]+==ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$file" || true)
        [ "$n" -gt 0 ] || n=1 # an unexpected message in a report file counts too
        count=$((count + n))
        echo "---- ${file#"$root"/} ($(process_name "$file"))" >&2
        grep -E '^(WARNING|SUMMARY|==[0-9]+==ERROR)' "$file" | head -n 20 >&2 || true
    done
    if [ "$count" -gt 0 ]; then
        echo "sanitizers: $sanitizer: $count report(s) in ${#files[@]} process(es); full reports in ${reports#"$root"/}/" >&2
    fi

    local result=PASS
    if [ "$status" != 0 ] || [ "$count" -gt 0 ]; then result=FAIL; fi
    echo "sanitizers: $sanitizer build=${build_seconds}s test=${test_seconds}s passed=$passed failed=$failed skipped=$skipped reports=$count result=$result"
    [ "$result" = PASS ]
}

overall=0
for sanitizer in "${sanitizers[@]}"; do
    run_one "$sanitizer" || overall=1
done
exit "$overall"
