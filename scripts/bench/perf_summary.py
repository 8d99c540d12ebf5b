#!/usr/bin/env python3
"""Summarise `perf record` profiles of jobd (from `bench.py --profile DIR`) as one table.

Usage: scripts/bench/perf_summary.py FILE.perf.data [FILE.perf.data ...]

Rows are the share of all jobd samples (cpu-clock) spent in a part, inclusive of what it
calls (from the dwarf call graphs). Synchronous code (the SQLite writer, JSON coding) is
attributed fully; async Swift functions are split into partial functions whose stacks end
at swift_job_run, so for the cooperative pool the table also gives self time per library.
Needs `perf` and `swift-demangle` (part of the Swift toolchain).
"""
import os, re, shutil, subprocess, sys

ROWS = [
    # label, regex on the demangled symbol, column ("children" or "self")
    ("writer thread: every group transaction", r"^GroupCommitWriter\.drain\(", "children"),
    ("  claim SQL (ClaimQuery.run)", r"^ClaimQuery\.run\(", "children"),
    ("  finish SQL (static JobStore.finish, per job)", r"^(specialized )?static JobStore\.finish\(", "children"),
    ("  insert SQL (JobStore.insert closure #3)", r"^closure #3 in JobStore\.insert", "children"),
    ("  COMMIT (Database.commit, WAL write + sync)", r"^Database\.commit\(\)", "children"),
    ("  fdatasync (kernel)", r"^__x64_sys_fdatasync$", "children"),
    ("JSON decode (JSONDecoder.decode, any)", r"^JSONDecoder\.decode<", "children"),
    ("  spec decode after claim (JobStore.settle closure #4, cache misses)", r"^closure #4 in JobStore\.settle", "children"),
    ("  request body decode (SubmitJobsRequest.decode)", r"^static SubmitJobsRequest\.decode", "children"),
    ("JSON encode (JSONEncoder.encode, any)", r"^JSONEncoder\.encode<", "children"),
    ("  result encode at finish (FinishWrite.encode)", r"^static FinishWrite\.encode", "children"),
    ("  record encode for answers (JSONBody.response)", r"JSONBody\.response", "children"),
    ("task creation (swift_task_create_common)", r"^swift_task_create_common$", "children"),
    ("timers (swift_dispatchEnqueueWithDeadline)", r"^swift_dispatchEnqueueWithDeadline$", "children"),
    ("fetch executor (FetchExecutor.execute)", r"FetchExecutor\.", "children"),
    ("HTTP client (AsyncHTTPClient, any)", r"^(HTTPClient|HTTP1ClientChannelHandler|HTTPConnectionPool)", "children"),
    ("event publishing (EventBroadcaster.publish)", r"EventBroadcaster\.publish", "children"),
    ("reads on reader connections (JobStore.read)", r"^closure #1 in JobStore\.(job|counts|list)\(", "children"),
    ("malloc/free (self)", r"^(_int_malloc|_int_free|malloc|cfree.*|__GI___libc_malloc|__GI___libc_free|"
     r"unlink_chunk.*|malloc_consolidate|sysmalloc|_int_realloc)$", "self"),
    ("swift_retain/release (self)", r"^swift_(retain|release|retain_n|release_n|bridgeObjectRetain|"
     r"bridgeObjectRelease)$", "self"),
    ("kernel (self)", None, "kernel"),
]


def report(path, extra):
    out = subprocess.run(["perf", "report", "-i", path, "--stdio", "-g", "none"] + extra,
                         capture_output=True, text=True).stdout
    if shutil.which("swift-demangle"):
        out = subprocess.run(["swift-demangle", "--simplified"], input=out, capture_output=True, text=True).stdout
    return out


LINE = re.compile(r"^\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*)$")


def summarise(path):
    text = report(path, ["--children", "--sort", "sym"])
    syms = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            syms.append((float(m.group(1)), float(m.group(2)), m.group(3), m.group(4).strip()))
    res = {}
    for label, rx, col in ROWS:
        if col == "kernel":
            res[label] = sum(s for c, s, k, n in syms if k == "k")
            continue
        r = re.compile(rx)
        hits = [(c, s) for c, s, k, n in syms if r.search(n)]
        if col == "self":
            res[label] = sum(s for c, s in hits)
        else:  # inclusive: the largest entry (specialised/inlined copies list the same samples)
            res[label] = max((c for c, s in hits), default=0.0)
    threads = {}
    for line in report(path, ["--no-children", "--sort", "comm"]).splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(.*)$", line)
        if m:
            name = m.group(2).strip()
            name = {"-qos.overcommit": "GRDB queues (writer, readers)", "oot.default-qos": "Swift cooperative pool"}.get(
                name, name)
            threads[name] = threads.get(name, 0.0) + float(m.group(1))
    return res, threads


def main():
    files = sys.argv[1:]
    if not files:
        sys.exit(__doc__)
    cols = [summarise(f) for f in files]
    names = [os.path.basename(f).replace(".perf.data", "") for f in files]
    w = max(len(l) for l, _, _ in ROWS) + 2
    print("| part | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label, _, _ in ROWS:
        print(f"| {label} | " + " | ".join(f"{c[0][label]:.1f}%" for c in cols) + " |")
    allthreads = sorted({t for c in cols for t in c[1]}, key=lambda t: -max(c[1].get(t, 0) for c in cols))
    for t in allthreads[:4]:
        print(f"| thread: {t} | " + " | ".join(f"{c[1].get(t, 0.0):.1f}%" for c in cols) + " |")


if __name__ == "__main__":
    main()
