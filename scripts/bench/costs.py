"""The cost curve and the physical limits of issue 16, for scripts/bench.py (stdlib only;
the plot needs matplotlib and is skipped with a note without it).

- cost curve: W1 (delay 0, synchronous full, 64 workers) at 10k, 100k and 1M jobs and W2
  (delay 1 s, workers = jobs) at 1k, 10k and 100k: CPU microseconds per job (jobd's
  user + system time over the run / jobs) and peak RSS per job (VmHWM / jobs, and above the
  idle daemon's RSS / jobs, which the plot shows: the idle daemon's ~45 MB would make small
  sizes look dear) in one table, and a PNG plot.
- limits: `wrk` against the W3 nginx (requests/s of the same 1 KiB file) and the SQLite
  row rates of ../shared/anchors/sqlite_limits.py, each with jobd's figure as a fraction.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

# Row writes per delay job on SQLite (docs/benchmarks.md, "The physical limit"): the job's
# INSERT, the attempt's INSERT at its claim, and three UPDATEs by primary key (the job at
# its claim and at its finish, the attempt at its finish).
INSERTS_PER_JOB = 2
UPDATES_PER_JOB = 3


def wrk(url: str, seconds: int = 5, threads: int = 2, connections: int = 100) -> float | None:
    """Requests/s of `wrk` against url, or None (not installed, or no figure)."""
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, timeout=seconds + 60, stdin=subprocess.DEVNULL).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def sqlite_job_ceiling(anchor: dict) -> float | None:
    """Jobs/s that SQLite's own row rates allow (1000-row transactions, synchronous=NORMAL,
    the anchor's small rows), at INSERTS_PER_JOB + UPDATES_PER_JOB writes a job."""
    ins = anchor.get("sqlite_insert_batch1000_normal", {}).get("jobs_per_s")
    upd = anchor.get("sqlite_update_batch1000_normal", {}).get("jobs_per_s")
    if not ins or not upd:
        return None
    return 1.0 / (INSERTS_PER_JOB / ins + UPDATES_PER_JOB / upd)


def cost_rows(results: dict) -> list[dict]:
    """The cost curve's rows from bench.py's results (the figures W1 full and W2 kept)."""
    rows = []
    for workload, sizes in (("w1", (10_000, 100_000, 1_000_000)), ("w2", (1_000, 10_000, 100_000))):
        for n in sizes:
            key = (f"w1_e2e_{n // 1000}k_full" if workload == "w1" else f"w2_delay1_{n // 1000}k")
            r = results.get(key)
            if not r or r.get("cpu") is None:
                continue
            ok = r.get("n", n)
            rows.append({"workload": workload, "jobs": ok, "seconds": r["seconds"], "cpu_s": r["cpu"],
                         "rss_mb": r["rss"], "cpu_us_per_job": r["cpu"] / ok * 1e6,
                         "rss_kb_per_job": r["rss"] * 1024 / ok, "idle_mb": r.get("idle", 0.0),
                         "added_kb_per_job": max(0.0, r["rss"] - r.get("idle", 0.0)) * 1024 / ok})
    return rows


def cost_lines(rows: list[dict]) -> list[str]:
    return [f"cost workload={r['workload']} jobs={r['jobs']} seconds={r['seconds']:.3f} "
            f"cpu_us_per_job={r['cpu_us_per_job']:.1f} peak_rss_mb={r['rss_mb']:.1f} "
            f"rss_kb_per_job={r['rss_kb_per_job']:.2f} idle_rss_mb={r['idle_mb']:.1f} "
            f"added_kb_per_job={r['added_kb_per_job']:.2f}" for r in rows]


def plot(rows: list[dict], path: str, title: str) -> str | None:
    """Writes the cost curve as a PNG at path; returns why not, or None when written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib)"
    fig, (cpu, rss) = plt.subplots(1, 2, figsize=(10, 4))
    for workload, label in (("w1", "W1: delay 0, full, 64 workers"), ("w2", "W2: delay 1 s, workers = jobs")):
        mine = sorted((r for r in rows if r["workload"] == workload), key=lambda r: r["jobs"])
        if not mine:
            continue
        xs = [r["jobs"] for r in mine]
        cpu.plot(xs, [r["cpu_us_per_job"] for r in mine], marker="o", label=label)
        rss.plot(xs, [r["added_kb_per_job"] for r in mine], marker="o", label=label)
    for ax, ylabel in ((cpu, "CPU µs per job"), (rss, "peak RSS above idle, KiB per job")):
        ax.set_xscale("log")
        ax.set_xlabel("jobs in the run")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


ASYNCIO_CHILD = """
import asyncio, sys, time
async def job(i):
    await asyncio.sleep(1)
    return i
async def main(n):
    t0 = time.perf_counter()
    res = await asyncio.gather(*(job(i) for i in range(n)))
    assert len(res) == n
    print(time.perf_counter() - t0, flush=True)
asyncio.run(main(int(sys.argv[1])))
"""


def asyncio_gather(n: int, runs: int) -> dict | None:
    """The asyncio anchor (../shared/anchors/asyncio_sleep.py) at another size: asyncio.gather
    of n asyncio.sleep(1) in a fresh interpreter per run; the median run's seconds."""
    samples = []
    for _ in range(runs):
        proc = subprocess.Popen([sys.executable, "-c", ASYNCIO_CHILD, str(n)], stdout=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None
        try:
            samples.append(float(out.strip()))
        except ValueError:
            return None
    samples.sort()
    return {"seconds": samples[len(samples) // 2], "runs": samples}
