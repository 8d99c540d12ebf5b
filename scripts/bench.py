#!/usr/bin/env python3
"""jobd benchmarks: the load generator and the per-workload daemon harness (stdlib only).

Each workload run starts the release `jobd` on its own temporary socket and database
(settings in a temporary YAML file passed as $JOBD_CONFIG), drives it with raw HTTP/1.1
over the Unix socket on keep-alive connections, stops it with SIGTERM and prints one
line per figure:

    workload=<name> jobs=<n> seconds=<x> jobs_per_s=<y> peak_rss_mb=<z> [extras]

peak_rss_mb is jobd's VmHWM (/proc/PID/status) read just before the stop. End-to-end
times run from the client's clock just before the first submit to the latest
`finished_at` stored in the database (read with sqlite3 after the stop), so they carry
no polling error; the client still waits for "nothing queued or running" (a long-poll
on the last id, then /v1/stats every 50 ms).

PostgreSQL engine (issue 11; `--engine postgres|both`, both by default): bench.py starts a
private cluster of its own (PgCluster: initdb in a temporary folder, as the `postgres` user
when root, 127.0.0.1:<free port> and a socket folder of its own, fsync=on,
synchronous_commit=on), a fresh database per run, and 1 or 3 jobd nodes on it, each with
its own socket, `database.url` and `node.name: node-N` in its YAML file. Submits go
round-robin over the nodes' sockets (batch k to node k mod N); done is waited for through
node 1 (its /v1/stats counts the whole cluster), and the end-to-end time runs to the latest
`finished_at` in the database (read with psql after the stop), as for SQLite. Each line adds
jobd_cpu_s (all nodes) and pg_cpu_s (the postmaster, its live children and, through its
cutime/cstime, every backend that exited), both counted from just before the first submit
to the end, their ratio pg_cpu_share = pg / (pg + jobd), pg_pss_mb (peak summed PSS of the
server processes), jobd_commits (write transactions, all nodes) and pg_stat_wal's wal_syncs.
The cluster is stopped (`pg_ctl stop -m fast`) and removed at the end, also on
SIGINT/SIGTERM/SIGHUP.

Usage (scripts/bench.sh wraps the first form, after the release build):
    bench.py --jobd PATH [--quick] [--with-anchors] [--anchors DIR] [--engine E]   every workload
    bench.py --jobd PATH --workload w1|w2|w3|w4|w5 [--quick] [--runs N]
    bench.py --jobd PATH --workload cost [--plot PNG]   the cost curve: W1 at 10k-1M, W2 at 1k-100k
    bench.py --jobd PATH --workload w1-fair [--jobs N] [--runs N]   W1 with fair share (root: a 2nd uid)
    bench.py --jobd PATH --workload pg-w1|pg-w2 [--nodes N ...] [--pg-statements] [--pg-analyze] [--runs N]
    bench.py --jobd PATH --workload pg-w1-fair [--jobs N] [--runs N]   W1 with fair share on 1 node (root)
    bench.py --jobd PATH --kill-test [--synchronous full|normal]
    bench.py --jobd PATH --workload w1 --jobs 10000 --runs 1 --profile DIR   perf record each jobd

Every process it starts (jobd, nginx, anchor scripts, PostgreSQL) is stopped by its own PID
when it exits, also on SIGINT/SIGTERM/SIGHUP. Only Unix sockets and 127.0.0.1 are used; every
loop is bounded by a count and a deadline.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as _dt
import glob
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
import costs  # noqa: E402  (scripts/bench/costs.py: the cost curve and the physical limits)

# ---------------------------------------------------------------------------------------
# Child process bookkeeping: everything started here is stopped by its PID on exit.

_children: dict[int, tuple[subprocess.Popen, int]] = {}  # pid -> (process, stop signal)
_children_lock = threading.Lock()


def _track(proc: subprocess.Popen, stop_signal: int = signal.SIGTERM) -> None:
    with _children_lock:
        _children[proc.pid] = (proc, stop_signal)


def _untrack(proc: subprocess.Popen) -> None:
    with _children_lock:
        _children.pop(proc.pid, None)


def _stop_all_children() -> None:
    with _children_lock:
        items = list(_children.values())
        _children.clear()
    for proc, sig in items:
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
    deadline = time.time() + 15
    for proc, _ in items:
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()  # only the PID we started
            proc.wait()


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


atexit.register(_stop_all_children)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def emit(line: str) -> None:
    print(line, flush=True)


# ---------------------------------------------------------------------------------------
# HTTP/1.1 over a Unix socket, keep-alive.


class HTTPError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection to jobd's Unix socket."""

    def __init__(self, path: str, timeout: float = 120.0):
        self.path = path
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = bytearray()

    def _connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s
        self.buf = bytearray()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _fill(self) -> None:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise HTTPError("connection closed by jobd")
        self.buf += chunk

    def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.sock is None:
            self._connect()
        head = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        head += "\r\n"
        try:
            self.sock.sendall(head.encode() + (body or b""))
            return self._response()
        except (OSError, HTTPError):
            self.close()
            raise

    def _response(self) -> tuple[int, bytes]:
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > 65536:
                raise HTTPError("response head too large")
            self._fill()
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body = bytes(self.buf[:n])
            del self.buf[:n]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                while (i := self.buf.find(b"\r\n")) < 0:
                    self._fill()
                size = int(bytes(self.buf[:i]).split(b";")[0], 16)
                del self.buf[: i + 2]
                while len(self.buf) < size + 2:
                    self._fill()
                out += self.buf[:size]
                del self.buf[: size + 2]
                if size == 0:
                    break
            body = bytes(out)
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def json(self, method: str, target: str, body: bytes | None = None, expect=(200, 201)):
        status, data = self.request(method, target, body)
        if status not in expect:
            raise HTTPError(f"{method} {target}: {status} {data[:300]!r}")
        return json.loads(data)


# ---------------------------------------------------------------------------------------
# jobd under test.


def _proc_status_mb(pid: int, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


class Jobd:
    """The release jobd on a temporary socket and database, configured by a YAML file."""

    def __init__(self, binary: str, workdir: str, name: str, settings: dict, profile_dir: str | None = None,
                 perf_args: str = ""):
        self.binary = binary
        self.name = name
        self.profile_dir = profile_dir
        self.perf_args = perf_args
        self.perf: subprocess.Popen | None = None
        self.starts = 0
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "jobd.sock")
        self.database = os.path.join(self.dir, "jobd.sqlite")
        self.config = os.path.join(self.dir, "jobd.yaml")
        self.logfile = os.path.join(self.dir, "jobd.log")
        self.proc: subprocess.Popen | None = None
        s = dict(settings)
        limits = ""
        if s.get("per_host") is not None:
            limits = f"limits:\n  per_host: {s['per_host']}\n"
        # PostgreSQL engine: database.url (and node.name) set; database.path then stays
        # unused but points into this run's folder, never at a default location.
        url = f"  url: {json.dumps(s['database_url'])}\n" if s.get("database_url") else ""
        node = f"node:\n  name: {json.dumps(s['node_name'])}\n" if s.get("node_name") else ""
        mode = f"  mode: \"{s['socket_mode']}\"\n" if s.get("socket_mode") else ""
        scheduling = f"scheduling:\n  fair_share: {s['fair_share']}\n" if s.get("fair_share") else ""
        yaml = (
            f"socket:\n  path: {self.socket}\n{mode}"
            f"database:\n  path: {self.database}\n{url}  synchronous: {s.get('synchronous', 'full')}\n"
            f"{node}"
            f"workers: {s.get('workers', 64)}\n"
            f"{limits}"
            f"max_queued: {s.get('max_queued', 'null')}\n"
            f"{scheduling}"
            f"log:\n  level: {s.get('log_level', 'info')}\n"
        )
        with open(self.config, "w") as f:
            f.write(yaml)

    def start(self, ready_timeout: float = 120.0, wrapper: list[str] | None = None) -> float:
        """Starts jobd; returns the seconds from exec to the first answered /v1/health."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBD_")}
        env["JOBD_CONFIG"] = self.config
        logf = open(self.logfile, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen((wrapper or []) + [self.binary], env=env, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf)
        logf.close()
        _track(self.proc, signal.SIGTERM)
        deadline = t0 + ready_timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jobd exited with {self.proc.returncode}; log: {self.tail_log()}")
            try:
                c = Conn(self.socket, timeout=5)
                status, _ = c.request("GET", "/v1/health")
                c.close()
                if status == 200:
                    ready = time.perf_counter() - t0
                    self._attach_profiler()
                    return ready
            except (OSError, HTTPError):
                pass
            time.sleep(0.005)
        raise RuntimeError(f"jobd did not answer /v1/health within {ready_timeout}s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def hwm_mb(self) -> float:
        return _proc_status_mb(self.proc.pid, "VmHWM")

    def rss_mb(self) -> float:
        return _proc_status_mb(self.proc.pid, "VmRSS")

    def cpu_s(self) -> float:
        """User + system CPU seconds jobd used so far (all threads)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def _attach_profiler(self) -> None:
        """With --profile: `perf record` attached to this jobd until it is stopped."""
        self.starts += 1
        if not self.profile_dir:
            return
        out = os.path.join(self.profile_dir, f"{self.name}-{self.starts}.perf.data")
        args = ["perf", "record", "-q", "-o", out, "-p", str(self.proc.pid)] + self.perf_args.split()
        self.perf = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _track(self.perf, signal.SIGINT)
        time.sleep(0.3)  # let perf attach before the load starts
        log(f"profiling jobd {self.proc.pid} into {out}")

    def _detach_profiler(self) -> None:
        if self.perf is None:
            return
        self.perf.send_signal(signal.SIGINT)
        try:
            self.perf.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.perf.kill()
            self.perf.wait()
        _untrack(self.perf)
        self.perf = None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.proc is None:
            return 0
        self._detach_profiler()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"jobd {self.proc.pid} did not stop within {timeout}s; SIGKILL")
            self.proc.kill()
            rc = self.proc.wait()
        _untrack(self.proc)
        return rc

    def tail_log(self, n: int = 2000) -> str:
        try:
            with open(self.logfile, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def db(self):
        """A sqlite3 connection to the run's database, closed when the `with` ends."""
        return contextlib.closing(sqlite3.connect(self.database, timeout=30))


# ---------------------------------------------------------------------------------------
# Load helpers.


def batch_body(n: int, spec: dict) -> bytes:
    one = json.dumps(spec, separators=(",", ":"))
    return ('{"jobs":[' + ",".join([one] * n) + "]}").encode()


def submit_all(conn: Conn, total: int, batch: int, spec: dict, on_batch=None) -> list[int]:
    """Submits `total` copies of `spec` in batches; returns the acknowledged ids in order."""
    ids: list[int] = []
    full = batch_body(batch, spec)
    while len(ids) < total:
        n = min(batch, total - len(ids))
        body = full if n == batch else batch_body(n, spec)
        answer = conn.json("POST", "/v1/jobs", body, expect=(201,))
        ids.extend(answer["ids"])
        if on_batch:
            on_batch(ids)
    return ids


def wait_all_done(conn: Conn, last_id: int, deadline: float) -> dict:
    """Waits for the last job (long-poll), then until /v1/stats shows nothing queued or
    running (polled every 50 ms). Returns the final stats."""
    while time.time() < deadline:
        rec = conn.json("GET", f"/v1/jobs/{last_id}/wait?timeout=10")
        if rec["state"] in ("succeeded", "failed", "cancelled"):
            break
    while time.time() < deadline:
        stats = conn.json("GET", "/v1/stats")
        if stats["queued"] == 0 and stats["running"] == 0:
            return stats
        time.sleep(0.05)
    raise RuntimeError("jobs did not finish before the deadline")


def db_summary(jobd: Jobd) -> dict:
    with jobd.db() as db:
        row = db.execute(
            "SELECT count(*), sum(state = 'succeeded'), min(created_at), max(finished_at) FROM jobs").fetchone()
    return {"count": row[0], "succeeded": row[1] or 0, "first_created": row[2], "last_finished": row[3]}


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def fmt(name: str, jobs: int, seconds: float, rss: float, extra: str = "") -> str:
    rate = jobs / seconds if seconds > 0 else float("nan")
    line = f"workload={name} jobs={jobs} seconds={seconds:.3f} jobs_per_s={rate:.1f} peak_rss_mb={rss:.1f}"
    return line + (" " + extra if extra else "")


def runs_within(runs: int, budget_s: float, fn) -> list:
    """Up to `runs` runs of fn(), but no new run once `budget_s` has passed (as the anchors
    do), so a slow build of jobd cannot push the suite past its time budget."""
    t0, out = time.perf_counter(), []
    for _ in range(runs):
        if out and time.perf_counter() - t0 > budget_s:
            log(f"time budget of {budget_s:.0f}s hit: {len(out)} run(s) only")
            break
        out.append(fn())
    return out


def median_of(runs: list[dict], key: str) -> dict:
    s = sorted(runs, key=lambda r: r[key])
    return s[len(s) // 2]


# ---------------------------------------------------------------------------------------
# Workloads. Each run returns a dict of figures; the caller takes medians.


class Bench:
    def __init__(self, args):
        self.args = args
        self.binary = os.path.abspath(args.jobd)
        self.workdir = tempfile.mkdtemp(prefix="jobd-bench-", dir=args.tmp)
        self.counter = 0
        self.results: dict[str, dict] = {}  # figure name -> median run (for ratios)

    def cleanup(self):
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def jobd(self, label: str, **settings) -> Jobd:
        self.counter += 1
        return Jobd(self.binary, self.workdir, f"{self.counter:02d}-{label}", settings,
                    profile_dir=self.args.profile, perf_args=self.args.perf_args)

    def done_with(self, jobd: Jobd) -> None:
        if not self.args.keep:
            shutil.rmtree(jobd.dir, ignore_errors=True)

    # W1 ---------------------------------------------------------------------------------
    def w1_run(self, n: int, sync: str, workers: int) -> dict:
        j = self.jobd(f"w1-{n}-{sync}", synchronous=sync, workers=workers)
        try:
            j.start()
            idle = j.rss_mb()
            c = Conn(j.socket)
            t0_wall = time.time()
            t0 = time.perf_counter()
            ids = submit_all(c, n, 1000, {"kind": "delay", "seconds": 0})
            t_submit = time.perf_counter() - t0
            stats = wait_all_done(c, ids[-1], time.time() + 600)
            t_client = time.perf_counter() - t0
            rss, cpu = j.hwm_mb(), j.cpu_s()
            c.close()
        finally:
            rc = j.stop()
        s = db_summary(j)
        self.done_with(j)
        if s["succeeded"] != n:
            log(f"WARNING w1: {s['succeeded']}/{n} succeeded")
        e2e = s["last_finished"] - t0_wall
        return {"submit": t_submit, "e2e": e2e, "client": t_client, "rss": rss, "ok": s["succeeded"],
                "commits": stats.get("commits"), "rc": rc, "cpu": cpu, "idle": idle}

    def w1(self, sizes, runs):
        workers = self.args.workers
        syncs = [self.args.synchronous] if self.args.synchronous else ["full", "normal"]
        for n in sizes:
            for sync in syncs:
                rs = runs_within(runs, 25, lambda: self.w1_run(n, sync, workers))
                m = median_of(rs, "e2e")
                sub = median_of(rs, "submit")
                tag = f"{n // 1000}k_{sync}"
                emit(fmt(f"w1_submit_{tag}", n, sub["submit"], sub["rss"], f"batch=1000 workers={workers}"))
                line = fmt(f"w1_e2e_{tag}", m["ok"], m["e2e"], m["rss"],
                           f"workers={workers} commits={m['commits']} cpu_s={m['cpu']:.2f} runs=" + ",".join(f"{r['e2e']:.3f}" for r in rs))
                emit(line)
                self.results[f"w1_e2e_{tag}"] = {"jobs_per_s": m["ok"] / m["e2e"], "seconds": m["e2e"],
                                                 "rss": m["rss"], "cpu": m["cpu"], "n": m["ok"], "idle": m["idle"]}

    # W2 (and W4's status probe) ---------------------------------------------------------
    def w2_run(self, n: int, probe: bool = False) -> dict:
        j = self.jobd(f"w2-{n}", synchronous="full", workers=max(n, 1))
        lat: list[float] = []
        prober = None
        stop_probe = multiprocessing.Event()
        q = multiprocessing.Queue()
        try:
            j.start()
            idle = j.rss_mb()
            c = Conn(j.socket)
            t0_wall = time.time()
            t0 = time.perf_counter()
            batch = min(n, 10000)
            ids: list[int] = []
            full = batch_body(batch, {"kind": "delay", "seconds": 1})
            while len(ids) < n:
                ids.extend(c.json("POST", "/v1/jobs", full, expect=(201,))["ids"])
                if probe and prober is None:
                    prober = multiprocessing.Process(target=_probe, args=(j.socket, ids[-1], stop_probe, q))
                    prober.start()
            t_submit = time.perf_counter() - t0
            stats = wait_all_done(c, ids[-1], time.time() + 600)
            t_client = time.perf_counter() - t0
            rss, cpu = j.hwm_mb(), j.cpu_s()
            if prober is not None:
                stop_probe.set()
                lat = q.get(timeout=60)
                prober.join(timeout=30)
            c.close()
        finally:
            if prober is not None and prober.is_alive():
                stop_probe.set()
                prober.join(timeout=10)
                if prober.is_alive():
                    prober.terminate()  # the probe process we started
            rc = j.stop()
        s = db_summary(j)
        self.done_with(j)
        if s["succeeded"] != n:
            log(f"WARNING w2: {s['succeeded']}/{n} succeeded")
        return {"submit": t_submit, "e2e": s["last_finished"] - t0_wall, "client": t_client, "rss": rss,
                "ok": s["succeeded"], "max_running": stats.get("max_running"), "lat": lat, "cpu": cpu, "idle": idle}

    def w2(self, sizes, runs):
        for n in sizes:
            rs = runs_within(runs, 25, lambda: self.w2_run(n))
            m = median_of(rs, "e2e")
            tag = f"{n // 1000}k"
            emit(fmt(f"w2_delay1_{tag}", m["ok"], m["e2e"], m["rss"],
                     f"workers={n} batch={min(n, 10000)} submit_s={m['submit']:.3f} max_running={m['max_running']} cpu_s={m['cpu']:.2f} "
                     "runs=" + ",".join(f"{r['e2e']:.3f}" for r in rs)))
            self.results[f"w2_delay1_{tag}"] = {"seconds": m["e2e"], "rss": m["rss"], "cpu": m["cpu"],
                                                "n": m["ok"], "idle": m["idle"]}

    # W3 ---------------------------------------------------------------------------------
    def w3_run(self, n: int, url: str) -> dict:
        j = self.jobd(f"w3-{n}", synchronous="full", workers=100, per_host=100)
        try:
            j.start()
            c = Conn(j.socket)
            t0_wall = time.time()
            t0 = time.perf_counter()
            ids = submit_all(c, n, 1000, {"kind": "fetch", "url": url})
            t_submit = time.perf_counter() - t0
            wait_all_done(c, ids[-1], time.time() + 600)
            rss, cpu = j.hwm_mb(), j.cpu_s()
            c.close()
        finally:
            rc = j.stop()
        s = db_summary(j)
        with j.db() as db:
            ok200 = db.execute("SELECT count(*) FROM jobs WHERE state='succeeded' "
                               "AND json_extract(result, '$.status') = 200").fetchone()[0]
            errors = db.execute("SELECT error_code, count(*) FROM jobs WHERE state != 'succeeded' "
                                "GROUP BY error_code").fetchall()
        self.done_with(j)
        if ok200 != n:
            log(f"WARNING w3: {ok200}/{n} fetched with status 200; errors {errors}")
        return {"submit": t_submit, "e2e": s["last_finished"] - t0_wall, "rss": rss, "ok": ok200, "cpu": cpu}

    def w3(self, n, runs):
        if not shutil.which("nginx"):
            log("SKIP w3: nginx is not installed (apt-get install -y nginx)")
            return
        with tempfile.TemporaryDirectory(prefix="nginx-", dir=self.args.tmp) as d:
            ngx, url = start_nginx(d)
            try:
                rs = runs_within(runs, 25, lambda: self.w3_run(n, url))
                # The physical limit: wrk's requests/s of the same file from the same nginx.
                limit = costs.wrk(url)
            finally:
                stop_nginx(ngx)
        if limit is None:
            log("SKIP the wrk limit: wrk is not installed (apt-get install -y wrk)")
        else:
            emit(f"limit=wrk_nginx_1k requests_per_s={limit:.1f} threads=2 connections=100 seconds=5")
            self.results["wrk"] = {"requests_per_s": limit}
        m = median_of(rs, "e2e")
        emit(fmt(f"w3_fetch_{n // 1000}k", m["ok"], m["e2e"], m["rss"],
                 f"workers=100 per_host=100 batch=1000 cpu_s={m['cpu']:.2f} runs=" + ",".join(f"{r['e2e']:.3f}" for r in rs)))
        self.results[f"w3_fetch_{n // 1000}k"] = {"jobs_per_s": m["ok"] / m["e2e"], "seconds": m["e2e"]}

    # The cost curve (issue 16) ----------------------------------------------------------
    def cost_curve(self, runs: int, plot_path: str | None):
        """W1 full at 1M and W2 at 1k (the sizes the suite does not run otherwise), then the
        table over every W1-full and W2 size measured, and its plot."""
        for n in (10_000, 100_000, 1_000_000):
            if f"w1_e2e_{n // 1000}k_full" not in self.results:
                saved = self.args.synchronous
                self.args.synchronous = "full"
                try:
                    self.w1([n], 1 if n >= 1_000_000 else runs)
                finally:
                    self.args.synchronous = saved
        for n in (1_000, 10_000, 100_000):
            if f"w2_delay1_{n // 1000}k" not in self.results:
                self.w2([n], runs)
        rows = costs.cost_rows(self.results)
        for line in costs.cost_lines(rows):
            emit(line)
        if plot_path:
            why = costs.plot(rows, plot_path, f"jobd cost per job ({_dt.date.today().isoformat()}, "
                             f"{os.cpu_count()} CPUs)")
            log(f"SKIP the cost plot: {why}" if why else f"cost plot written: {plot_path}")

    # W4 ---------------------------------------------------------------------------------
    def w4_latency(self, n: int, runs: int):
        out = []
        for _ in range(runs):
            j = self.jobd("w4-submit-wait", synchronous="normal", workers=self.args.workers)
            try:
                j.start()
                c = Conn(j.socket)
                body = json.dumps({"kind": "delay", "seconds": 0}).encode()
                lat, post = [], []
                for i in range(n + 20):  # 20 warm-up rounds, not counted
                    t = time.perf_counter()
                    rec = c.json("POST", "/v1/jobs", body, expect=(201,))
                    t1 = time.perf_counter()
                    done = c.json("GET", f"/v1/jobs/{rec['id']}/wait?timeout=10")
                    t2 = time.perf_counter()
                    if done["state"] != "succeeded":
                        raise RuntimeError(f"job {rec['id']} ended {done['state']}")
                    if i >= 20:
                        lat.append(t2 - t)
                        post.append(t1 - t)
                rss = j.hwm_mb()
                c.close()
            finally:
                j.stop()
            self.done_with(j)
            out.append({"p50": pct(lat, 50), "p99": pct(lat, 99), "post50": pct(post, 50), "post99": pct(post, 99),
                        "total": sum(lat), "rss": rss})
        m = median_of(out, "p50")
        emit(fmt("w4_submit_wait_normal", n, m["total"], m["rss"],
                 f"p50_ms={m['p50'] * 1e3:.2f} p99_ms={m['p99'] * 1e3:.2f} post_p50_ms={m['post50'] * 1e3:.2f} "
                 f"post_p99_ms={m['post99'] * 1e3:.2f} runs_p50_ms=" + ",".join(f"{r['p50'] * 1e3:.2f}" for r in out)))
        self.results["w4_submit_wait"] = {"p50_ms": m["p50"] * 1e3, "p99_ms": m["p99"] * 1e3}

    def w4_status_under_w2(self, n: int):
        r = self.w2_run(n, probe=True)
        lat = r["lat"]
        if not lat:
            log("WARNING w4: the status probe took no samples")
            return
        emit(fmt(f"w4_status_under_w2_{n // 1000}k", len(lat), sum(lat), r["rss"],
                 f"p50_ms={pct(lat, 50) * 1e3:.2f} p99_ms={pct(lat, 99) * 1e3:.2f} max_ms={max(lat) * 1e3:.2f} "
                 f"w2_seconds={r['e2e']:.3f}"))
        self.results["w4_status"] = {"p50_ms": pct(lat, 50) * 1e3, "p99_ms": pct(lat, 99) * 1e3, "n": n}

    # W5 ---------------------------------------------------------------------------------
    def w5(self, n: int):
        j = self.jobd(f"w5-{n}", synchronous="full", workers=self.args.workers)
        try:
            j.start()
            c = Conn(j.socket)
            run_at = (_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            t0 = time.perf_counter()
            ids = submit_all(c, n, 10000, {"kind": "delay", "seconds": 0, "run_at": run_at})
            t_submit = time.perf_counter() - t0
            time.sleep(1.0)
            rss_now, hwm = j.rss_mb(), j.hwm_mb()
            t = time.perf_counter()
            stats = c.json("GET", "/v1/stats")
            t_stats = time.perf_counter() - t
            c.close()
            t = time.perf_counter()
            rc = j.stop()
            t_stop = time.perf_counter() - t
            if stats["queued"] != n:
                log(f"WARNING w5: {stats['queued']}/{n} queued")
            emit(fmt(f"w5_backlog_{n // 1000}k", len(ids), t_submit, hwm,
                     f"rss_mb={rss_now:.1f} batch=10000 stats_ms={t_stats * 1e3:.1f} stop_s={t_stop:.3f} rc={rc} "
                     f"db_mb={os.path.getsize(j.database) / 2 ** 20:.0f}"))
            ready = j.start()
            time.sleep(1.0)
            c = Conn(j.socket)
            stats = c.json("GET", "/v1/stats")
            c.close()
            rss_after = j.rss_mb()
            emit(fmt(f"w5_restart_{n // 1000}k", stats["queued"], ready, j.hwm_mb(),
                     f"ready_s={ready:.3f} rss_mb={rss_after:.1f}"))
            self.results[f"w5"] = {"rss": hwm, "ready": ready, "rss_after": j.hwm_mb(), "n": n}
        finally:
            j.stop()
        self.done_with(j)

    # W6 fan-out (issue 12) ----------------------------------------------------------------
    def w6_run(self, n: int, fan: bool) -> dict:
        """n delay-0 jobs submitted while dispatching is paused, then resumed: as n
        independent jobs, or as the children of one parent (`after`). Their throughput is
        timed from the first job's start to the last job's end, from the database's own
        timestamps; the release's latency separately, from the parent's end to the first
        child's start (the flat run's: from the resume to the first start)."""
        j = self.jobd(f"w6-{n}-{'fan' if fan else 'flat'}", synchronous="full", workers=self.args.workers)
        parent = None
        try:
            j.start()
            c = Conn(j.socket)
            c.json("POST", "/v1/pause", b"{}")
            started = time.time()
            spec: dict = {"kind": "delay", "seconds": 0}
            if fan:
                parent = c.json("POST", "/v1/jobs", json.dumps(spec).encode(), expect=(201,))["id"]
                spec = {"kind": "delay", "seconds": 0, "after": [parent]}
            ids = submit_all(c, n, 1000, spec)
            resumed = time.time()
            c.json("POST", "/v1/resume", b"{}")
            wait_all_done(c, ids[-1], time.time() + 600)
            rss = j.hwm_mb()
            c.close()
        finally:
            j.stop()
        with j.db() as db:
            first_start, last_end, done = db.execute(
                "SELECT min(a.started_at), max(j.finished_at), sum(j.state = 'succeeded') "
                "FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE j.id BETWEEN ? AND ?", (ids[0], ids[-1])
            ).fetchone()
            origin = resumed
            if parent is not None:
                origin = db.execute("SELECT finished_at FROM jobs WHERE id = ?", (parent,)).fetchone()[0]
        self.done_with(j)
        if done != n:
            log(f"WARNING w6: {done}/{n} succeeded")
        # e2e: from the first submit to the last end, the submits (paused) included: the
        # flat jobs' queue entries are made at their insert, the children's at their release.
        return {"run": last_end - first_start, "first": first_start - origin, "e2e": last_end - started, "ok": done,
                "rss": rss}

    def w6(self, n: int, runs: int):
        # Interleaved (flat, fan, flat, fan, ...): a machine whose load drifts during the
        # runs then skews both sides alike.
        flat, fan = [], []
        for _ in range(runs):
            flat.append(self.w6_run(n, False))
            fan.append(self.w6_run(n, True))
        mf, mc = median_of(flat, "run"), median_of(fan, "run")
        tag = f"{n // 1000}k"
        emit(fmt(f"w6_flat_{tag}", mf["ok"], mf["run"], mf["rss"],
                 f"workers={self.args.workers} e2e_s={mf['e2e']:.3f} first_start_s={mf['first']:.3f} runs="
                 + ",".join(f"{r['run']:.3f}" for r in flat)))
        emit(fmt(f"w6_fanout_{tag}", mc["ok"], mc["run"], mc["rss"],
                 f"workers={self.args.workers} e2e_s={mc['e2e']:.3f} first_child_start_s={mc['first']:.3f} runs="
                 + ",".join(f"{r['run']:.3f}" for r in fan)))
        self.results[f"w6_flat_{tag}"] = {"jobs_per_s": mf["ok"] / mf["run"], "seconds": mf["run"]}
        self.results[f"w6_fanout_{tag}"] = {"jobs_per_s": mc["ok"] / mc["run"], "seconds": mc["run"],
                                            "first": mc["first"]}

    # W1 with fair share (issue 13) ------------------------------------------------------
    def w1_fair_run(self, n: int, variant: str) -> dict:
        """One W1 run (n delay-0 jobs in batches of 1,000, 64 workers, synchronous full) in
        one of four variants: `off` (W1 as ever: one client, root; no fair-share index, as
        with fair share off), `off_with_index` (the same on a database given the fair-share
        indexes by hand before the run: what they cost), `off_2uids` and
        `per_uid_2uids` (two clients at once, root and `nobody`, n/2 jobs each;
        `scheduling.fair_share` off, then per_uid, which builds the index at start)."""
        two = variant.endswith("2uids")
        fair = "per_uid" if variant.startswith("per_uid") else "off"
        j = self.jobd(f"w1f-{n}-{variant}", synchronous="full", workers=self.args.workers, fair_share=fair,
                      socket_mode="0666" if two else None)
        if two:
            # `nobody` must reach the socket: the run folders are mkdtemp's 0700.
            for d in (self.workdir, j.dir):
                os.chmod(d, 0o711)
        try:
            j.start()
            if variant == "off_with_index":
                # Fair share off drops the index at start, so it is made after the start,
                # beside the running jobd (its statements are prepared again on the schema
                # change), on the empty queue.
                with j.db() as db:
                    columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
                    if "fair_rank" in columns:
                        # Schema v9: fair share by ranks, two indexes (the unranked one is
                        # the one an insert with fair share off touches).
                        db.execute("CREATE INDEX jobs_fair ON jobs(priority DESC, fair_rank, id) "
                                   "WHERE state = 'queued' AND fair_rank IS NOT NULL")
                        db.execute("CREATE INDEX jobs_unranked ON jobs(run_at, id) "
                                   "WHERE state = 'queued' AND fair_rank IS NULL")
                    else:
                        db.execute("CREATE INDEX jobs_fair ON jobs(coalesce(submitter_uid, -1), priority DESC, "
                                   "run_at, id) WHERE state = 'queued'")
                    db.commit()
            spec = {"kind": "delay", "seconds": 0}
            t0_wall = time.time()
            t0 = time.perf_counter()
            if two:
                child = multiprocessing.Process(target=_submit_as_nobody, args=(j.socket, n // 2, spec))
                child.start()
                c = Conn(j.socket)
                ids = submit_all(c, n - n // 2, 1000, spec)
                child.join(600)
                if child.exitcode != 0:
                    raise RuntimeError(f"the submitter running as nobody exited with {child.exitcode}")
            else:
                c = Conn(j.socket)
                ids = submit_all(c, n, 1000, spec)
            t_submit = time.perf_counter() - t0
            stats = wait_all_done(c, ids[-1], time.time() + 600)
            rss, cpu = j.hwm_mb(), j.cpu_s()
            c.close()
        finally:
            j.stop()
        s = db_summary(j)
        with j.db() as db:
            uids = db.execute("SELECT count(DISTINCT coalesce(submitter_uid, -1)) FROM jobs").fetchone()[0]
            indexed = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'jobs_fair'").fetchone()[0]
        self.done_with(j)
        if s["succeeded"] != n:
            log(f"WARNING w1-fair {variant}: {s['succeeded']}/{n} succeeded")
        return {"submit": t_submit, "e2e": s["last_finished"] - t0_wall, "ok": s["succeeded"], "rss": rss,
                "cpu": cpu, "uids": uids, "indexed": indexed, "commits": stats.get("commits")}

    def w1_fair(self, n: int, runs: int):
        if os.geteuid() != 0:
            log("w1-fair needs root: it submits as root and as nobody (skipped)")
            return
        variants = ["off", "per_uid_2uids", "off_2uids", "off_with_index"]
        results: dict[str, list[dict]] = {v: [] for v in variants}
        # Interleaved (one run of each variant per round): a drift of the machine's speed
        # during the sitting skews every variant alike.
        for _ in range(runs):
            for v in variants:
                results[v].append(self.w1_fair_run(n, v))
        tag = f"{n // 1000}k"
        for v in variants:
            rs = results[v]
            m, sub = median_of(rs, "e2e"), median_of(rs, "submit")
            emit(fmt(f"w1_fair_{v}_e2e_{tag}", m["ok"], m["e2e"], m["rss"],
                     f"workers={self.args.workers} uids={m['uids']} jobs_fair={m['indexed']} "
                     f"submit_jobs_per_s={n / sub['submit']:.0f} "
                     f"cpu_s={m['cpu']:.2f} runs=" + ",".join(f"{r['e2e']:.3f}" for r in rs)
                     + " submit_runs=" + ",".join(f"{r['submit']:.3f}" for r in rs)))
            self.results[f"w1_fair_{v}_{tag}"] = {"jobs_per_s": m["ok"] / m["e2e"], "submit_per_s": n / sub["submit"]}
        r = self.results
        base = r[f"w1_fair_off_{tag}"]["jobs_per_s"]
        emit(f"ratio w1_fair_per_uid_2uids/off_{tag} e2e_jobs_per_s={r[f'w1_fair_per_uid_2uids_{tag}']['jobs_per_s'] / base:.3f} target=>=0.9")
        emit(f"ratio w1_fair_per_uid_2uids/off_2uids_{tag} e2e_jobs_per_s="
             f"{r[f'w1_fair_per_uid_2uids_{tag}']['jobs_per_s'] / r[f'w1_fair_off_2uids_{tag}']['jobs_per_s']:.3f}")
        emit(f"ratio w1_fair_off_with_index/off_{tag} e2e_jobs_per_s="
             f"{r[f'w1_fair_off_with_index_{tag}']['jobs_per_s'] / base:.3f} submit_jobs_per_s="
             f"{r[f'w1_fair_off_with_index_{tag}']['submit_per_s'] / r[f'w1_fair_off_{tag}']['submit_per_s']:.3f}")

    # kill -9 in the middle of W1 ---------------------------------------------------------
    def kill_test(self, n: int, sync: str, submitters: int = 3, kill_after: int | None = None) -> bool:
        j = self.jobd(f"kill-{sync}", synchronous=sync, workers=self.args.workers)
        kill_after = kill_after or n // 2
        acked: list[int] = []
        acked_lock = threading.Lock()
        failed_batches = [0]
        attempted = [0]
        stop = threading.Event()
        killed = threading.Event()
        body = batch_body(1000, {"kind": "delay", "seconds": 0})

        def submitter():
            c = Conn(j.socket, timeout=30)
            for _ in range(n // 1000):  # bounded
                if stop.is_set():
                    break
                with acked_lock:
                    attempted[0] += 1
                try:
                    ids = c.json("POST", "/v1/jobs", body, expect=(201,))["ids"]
                except (OSError, HTTPError, ValueError):
                    with acked_lock:
                        failed_batches[0] += 1
                    if killed.is_set():
                        break
                    time.sleep(0.01)
                    continue
                with acked_lock:  # acknowledged: the client may rely on these ids now
                    acked.extend(ids)
            c.close()

        try:
            j.start()
            threads = [threading.Thread(target=submitter, daemon=True) for _ in range(submitters)]
            for t in threads:
                t.start()
            deadline = time.time() + 120
            while time.time() < deadline:
                with acked_lock:
                    if len(acked) >= kill_after:
                        break
                time.sleep(0.002)
            # Kill at a moment when jobs are running (claimed, not finished) and batches are
            # in flight (sent, maybe committed, not yet answered).
            probe = Conn(j.socket, timeout=10)
            for _ in range(400):  # bounded: about 2 s
                if probe.json("GET", "/v1/stats")["running"] > 0:
                    break
                time.sleep(0.005)
            probe.close()
            time.sleep(random.uniform(0.0, 0.002))
            with acked_lock:
                seen_before_kill = len(acked)
            killed.set()
            os.kill(j.pid, signal.SIGKILL)  # the jobd we started, by its PID
            j.proc.wait(timeout=30)
            _untrack(j.proc)
            stop.set()
            for t in threads:
                t.join(timeout=60)
            with acked_lock:
                acked_set = set(acked)
            with j.db() as db:  # what is on disk right after the crash (WAL included)
                on_disk_states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
            ready = j.start()
            c = Conn(j.socket)
            present: set[int] = set()
            after = None
            for _ in range(10000):  # bounded pagination
                q = "/v1/jobs?limit=1000" + (f"&after={after}" if after else "")
                page = c.json("GET", q)
                present.update(r["id"] for r in page["jobs"])
                after = page.get("next_after")
                if not after:
                    break
            missing = acked_set - present
            extra = present - acked_set  # committed but the answer was lost with the kill
            stats = wait_all_done(c, max(present) if present else 1, time.time() + 300)
            with j.db() as db:
                not_ok = db.execute("SELECT count(*) FROM jobs WHERE state != 'succeeded'").fetchone()[0]
                interrupted = db.execute(
                    "SELECT count(*) FROM attempts WHERE outcome = 'interrupted'").fetchone()[0]
            c.close()
        finally:
            stop.set()
            j.stop()
        self.done_with(j)
        ok = not missing and not_ok == 0
        emit(f"kill_test synchronous={sync} acknowledged={len(acked_set)} present_after_restart="
             f"{len(present & acked_set)} missing={len(missing)} stored_unacknowledged={len(extra)} "
             f"failed_batches={failed_batches[0]} killed_at_acked={seen_before_kill} "
             f"running_at_kill={on_disk_states.get('running', 0)} interrupted_attempts={interrupted} "
             f"restart_ready_s={ready:.3f} all_succeeded_after_restart={'yes' if not_ok == 0 else 'no'} "
             f"result={'PASS' if ok else 'FAIL'}")
        return ok


def _probe(sock_path: str, max_id: int, stop, q) -> None:
    """Child process: GET /v1/jobs/{id} for random ids, one every ~2 ms, until told to stop."""
    c = Conn(sock_path, timeout=30)
    lat = []
    rnd = random.Random(1)
    deadline = time.time() + 300
    while not stop.is_set() and time.time() < deadline and len(lat) < 200000:
        jid = rnd.randint(1, max_id)
        t = time.perf_counter()
        status, _ = c.request("GET", f"/v1/jobs/{jid}")
        lat.append(time.perf_counter() - t)
        if status != 200:
            break
        time.sleep(0.002)
    c.close()
    q.put(lat)


# ---------------------------------------------------------------------------------------
# nginx for W3 (the anchors' approach: our own config, temp dir, free 127.0.0.1 port).

NGINX_CONF = """daemon off;
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 10000;
  client_body_temp_path {d}/t_body; proxy_temp_path {d}/t_proxy; fastcgi_temp_path {d}/t_fcgi;
  uwsgi_temp_path {d}/t_uwsgi; scgi_temp_path {d}/t_scgi;
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location / {{ }}
  }}
}}
"""


def _submit_as_nobody(sock_path: str, n: int, spec: dict) -> None:
    """W1-fair's second client: drops to `nobody` (its own uid and gid), then submits n
    copies of spec in batches of 1,000; a process of its own, so the daemon reads its uid
    from the socket."""
    import pwd
    entry = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    c = Conn(sock_path)
    submit_all(c, n, 1000, spec)
    c.close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(d: str):
    os.chmod(d, 0o755)
    www = os.path.join(d, "www")
    os.makedirs(www, exist_ok=True)
    os.chmod(www, 0o755)
    with open(os.path.join(www, "1k.bin"), "wb") as f:
        f.write(bytes((i * 7) % 256 for i in range(1024)))
    os.chmod(os.path.join(www, "1k.bin"), 0o644)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port))
    proc = subprocess.Popen(["nginx", "-p", d, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _track(proc, signal.SIGQUIT)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/1k.bin"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    stop_nginx(proc)
    raise RuntimeError("nginx did not start")


def stop_nginx(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    _untrack(proc)


# ---------------------------------------------------------------------------------------
# PostgreSQL engine (issue 11): jobd nodes on a private PostgreSQL cluster of our own.

PG_INSTALL = "apt-get install -y postgresql"


def pg_bin_dir() -> str | None:
    """$JOBD_PG_BIN (as the tests), else the newest Debian /usr/lib/postgresql/*/bin."""
    if os.environ.get("JOBD_PG_BIN"):
        return os.environ["JOBD_PG_BIN"]
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda p: int(re.sub(r"\D", "", p.split("/")[-3]) or 0))
    return os.path.dirname(found[-1]) if found else None


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 on), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


_clusters: list["PgCluster"] = []


def _stop_clusters() -> None:
    """Stops every cluster still running (the jobd nodes first: they are children)."""
    _stop_all_children()
    while _clusters:
        _clusters.pop().stop()


atexit.register(_stop_clusters)  # atexit runs it before _stop_all_children; it calls that first


class PgCluster:
    """A throwaway PostgreSQL cluster, as ../shared/anchors/_pg.py makes one: `initdb` into a
    fresh temporary folder (as the `postgres` user when we are root), listening on
    127.0.0.1:<free port> and a Unix socket in that folder only, trust authentication for the
    superuser `jobd`, fsync=on, full_page_writes=on, synchronous_commit=on (jobd's `full`
    durability adds nothing to it; `normal` turns it off per connection). Stopped with
    `pg_ctl stop -m fast` (SIGQUIT to our own postmaster if that fails) and removed by
    stop(), which runs at exit and on SIGINT/SIGTERM/SIGHUP too."""

    def __init__(self, tmp: str | None, statements: bool = False):
        self.bin = pg_bin_dir()
        if not self.bin:
            raise RuntimeError(f"PostgreSQL is not installed: {PG_INSTALL} (or set JOBD_PG_BIN)")
        self.tmp = tmp
        self.statements = statements
        self.dir = self.data = None
        self.port = self.pid = None
        self.user = None
        self.version = ""

    def _cmd(self, argv: list[str]) -> list[str]:
        return (["runuser", "-u", self.user, "--"] + argv) if self.user else argv

    def start(self) -> "PgCluster":
        import pwd
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root, but there is no `postgres` user to run the server as "
                                   f"({PG_INSTALL} creates it)")
            self.user = "postgres"
        self.dir = tempfile.mkdtemp(prefix="jobd-bench-pg-", dir=self.tmp)
        _clusters.append(self)
        os.chmod(self.dir, 0o755)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        r = subprocess.run(self._cmd([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "jobd",
                                      "--auth=trust", "-E", "UTF8", "--locale=C", "-N"]),
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr[-2000:]}")
        conf = {
            "listen_addresses": "'127.0.0.1'", "port": str(self.port),
            "unix_socket_directories": f"'{self.dir}'",
            "fsync": "on", "full_page_writes": "on", "synchronous_commit": "on",
            "max_connections": "300", "shared_buffers": "'128MB'", "max_wal_size": "'1GB'",
            "logging_collector": "off", "log_min_messages": "warning", "autovacuum": "on",
        }
        if self.statements:
            conf.update({"shared_preload_libraries": "'pg_stat_statements'", "pg_stat_statements.track": "all",
                         "pg_stat_statements.max": "1000", "pg_stat_statements.track_planning": "on",
                         "track_io_timing": "on", "track_wal_io_timing": "on"})
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# jobd bench.py settings\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
        r = subprocess.run(self._cmd([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                                      os.path.join(self.dir, "server.log"), "-w", "-t", "60", "start"]),
                           capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr[-1000:]} {self.server_log()[-2000:]}")
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        self.version = self.psql("SHOW server_version").split()[0]
        if self.statements:
            self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        log(f"PostgreSQL {self.version} cluster in {self.dir} on 127.0.0.1:{self.port} (postmaster {self.pid}, "
            f"fsync=on synchronous_commit=on{' pg_stat_statements' if self.statements else ''})")
        return self

    def server_log(self) -> str:
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            if self.pid is not None:
                r = subprocess.run(self._cmd([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast",
                                              "-w", "-t", "30", "stop"]),
                                   capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
                if r.returncode != 0 and _pid_alive(self.pid):
                    os.kill(self.pid, signal.SIGQUIT)  # immediate shutdown of our own postmaster
                    deadline = time.time() + 10
                    while _pid_alive(self.pid) and time.time() < deadline:
                        time.sleep(0.05)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            if self in _clusters:
                _clusters.remove(self)

    def url(self, db: str) -> str:
        return f"postgres://jobd@127.0.0.1:{self.port}/{db}?sslmode=disable"

    def psql(self, sql: str, db: str = "postgres") -> str:
        """SQL through psql over the cluster's Unix socket; tuples only, unaligned, `|`-separated."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                            "-h", self.dir, "-p", str(self.port), "-U", "jobd", "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def children(self) -> list[int]:
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                st = _proc_stat(int(d))
                if st and int(st[1]) == self.pid:
                    out.append(int(d))
        return out

    def cpu(self) -> dict[str, float]:
        """CPU seconds used by the server so far: `total` counts the postmaster, its live
        children and (through the postmaster's cutime/cstime) every child that has exited, so
        a difference of two readings misses nothing; `backends`, `walwriter`, `checkpointer`,
        `autovacuum` and `other` split the live children by process title."""
        tck = os.sysconf("SC_CLK_TCK")
        out = {"total": 0.0, "backends": 0.0, "walwriter": 0.0, "checkpointer": 0.0, "autovacuum": 0.0,
               "other": 0.0}
        st = _proc_stat(self.pid)
        if st:
            out["total"] += sum(int(x) for x in st[11:15]) / tck  # utime stime cutime cstime
            out["other"] += (int(st[11]) + int(st[12])) / tck
        for pid in self.children():
            st = _proc_stat(pid)
            if not st:
                continue
            c = (int(st[11]) + int(st[12])) / tck
            out["total"] += c
            title = _cmdline(pid)
            if title.startswith("postgres: jobd "):
                out["backends"] += c
            elif "walwriter" in title:
                out["walwriter"] += c
            elif "checkpointer" in title:
                out["checkpointer"] += c
            elif "autovacuum" in title:
                out["autovacuum"] += c
            else:
                out["other"] += c
        return out

    def pss_mb(self) -> float:
        """Summed PSS of every server process (shared buffers counted once)."""
        return sum(_pss_mb(p) for p in [self.pid] + self.children())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class PgMemSampler:
    """Every 0.25 s: the peak of the server's summed PSS."""

    def __init__(self, cluster: PgCluster):
        self.cluster = cluster
        self.pss_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.wait(0.25):
            self.pss_peak = max(self.pss_peak, self.cluster.pss_mb())

    def __enter__(self):
        self.pss_peak = self.cluster.pss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        self.pss_peak = max(self.pss_peak, self.cluster.pss_mb())


def _cpu_delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b[k] - a.get(k, 0.0) for k in b}


class PgBench:
    """The PostgreSQL workloads: W1 (10,000 no-op jobs at durability full) on 1 and on 3
    nodes sharing one database, W2 (10,000 x delay 1 s) on 3 nodes. One private cluster for
    all of them (started on first use), a fresh database per run, dropped after it."""

    def __init__(self, bench: "Bench"):
        self.b = bench
        self.args = bench.args
        self.cluster: PgCluster | None = None
        self.runs_done = 0

    def ensure_cluster(self) -> PgCluster:
        if self.cluster is None:
            self.cluster = PgCluster(self.args.tmp, statements=self.args.pg_statements).start()
        return self.cluster

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None

    def _nodes(self, label: str, db: str, count: int, workers: int, **settings) -> list[Jobd]:
        url = self.cluster.url(db)
        return [self.b.jobd(f"{label}-node{k}", synchronous="full", workers=workers, database_url=url,
                            node_name=f"node-{k}", **settings) for k in range(1, count + 1)]

    def run(self, workload: str, n: int, nodes: int, spec: dict, batch: int, workers: int,
            fair_share: str | None = None, two_uids: bool = False) -> dict:
        """One run: fresh database, `nodes` jobd nodes on it, `n` copies of `spec` submitted in
        batches of `batch` round-robin over the nodes' sockets (one client, one keep-alive
        connection per node), then waited for through node 1 (cluster-wide counts). With
        `two_uids` (one node), half the jobs come from a second client running as `nobody`,
        at the same time, as in W1-fair on SQLite."""
        pg = self.ensure_cluster()
        self.runs_done += 1
        db = f"bench_{workload.replace('-', '_')}_{nodes}n_{self.runs_done}"
        pg.psql(f"CREATE DATABASE {db}")
        settings = {"fair_share": fair_share} if fair_share else {}
        if two_uids:
            settings["socket_mode"] = "0666"
        js = self._nodes(f"pg-{workload}-{nodes}n", db, nodes, workers, **settings)
        if two_uids:
            for d in [self.b.workdir] + [j.dir for j in js]:
                os.chmod(d, 0o711)  # `nobody` must reach the socket
        conns: list[Conn] = []
        statements = []
        try:
            for j in js:
                j.start()
            conns = [Conn(j.socket) for j in js]
            if pg.statements:
                pg.psql("SELECT pg_stat_statements_reset()")
            pg.psql("SELECT pg_stat_reset_shared('wal')")
            analyze = self.args.pg_analyze
            if analyze:  # the anchors' --analyze protocol: fill the queue, ANALYZE, then run
                for c in conns:
                    c.json("POST", "/v1/pause", b"{}")
            cpu0 = {"pg": pg.cpu(), "jobd": [j.cpu_s() for j in js]}
            with PgMemSampler(pg) as mem:
                t0_wall = time.time()
                t0 = time.perf_counter()
                if two_uids:
                    child = multiprocessing.Process(target=_submit_as_nobody, args=(js[0].socket, n // 2, spec))
                    child.start()
                    ids = self._submit(conns, n - n // 2, batch, spec)
                    child.join(600)
                    if child.exitcode != 0:
                        raise RuntimeError(f"the submitter running as nobody exited with {child.exitcode}")
                else:
                    ids = self._submit(conns, n, batch, spec)
                t_submit = time.perf_counter() - t0
                if analyze:
                    t = time.time()
                    pg.psql("ANALYZE", db)  # untimed: the gap is taken out of e2e below
                    for c in conns:
                        c.json("POST", "/v1/resume", b"{}")
                    gap = time.time() - t
                    t0_wall += gap
                stats = wait_all_done(conns[0], max(ids), time.time() + 600)
                t_client = time.perf_counter() - t0
                cpu1 = {"pg": pg.cpu(), "jobd": [j.cpu_s() for j in js]}
            rss = [j.hwm_mb() for j in js]
            commits = 0
            for c in conns:
                commits += c.json("GET", "/v1/stats").get("commits") or 0
            for c in conns:
                c.close()
        finally:
            rcs = [j.stop() for j in js]
        summary = pg.psql(
            "SELECT count(*), count(*) FILTER (WHERE state = 'succeeded'), "
            "extract(epoch FROM max(finished_at)) FROM jobs", db).split("|")
        per_node = pg.psql("SELECT coalesce(string_agg(node_name || ':' || c, ',' ORDER BY node_name), '') "
                           "FROM (SELECT node_name, count(*) AS c FROM attempts GROUP BY node_name) AS a", db)
        wal = pg.psql("SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal").split("|")
        if pg.statements:
            statements = self._statements(db, n)
        if not self.args.keep:
            pg.psql(f"DROP DATABASE {db}")
            for j in js:
                self.b.done_with(j)
        count, ok, last = int(summary[0]), int(summary[1]), float(summary[2] or "nan")
        if ok != n:
            log(f"WARNING pg {workload} {nodes} node(s): {ok}/{n} succeeded ({count} stored); rcs={rcs}")
        pg_cpu = _cpu_delta(cpu0["pg"], cpu1["pg"])
        jobd_cpu = sum(b - a for a, b in zip(cpu0["jobd"], cpu1["jobd"]))
        return {"submit": t_submit, "e2e": last - t0_wall, "client": t_client, "ok": ok, "rss": max(rss),
                "rss_sum": sum(rss), "rss_each": rss, "pg_pss": mem.pss_peak, "pg_cpu": pg_cpu,
                "jobd_cpu": jobd_cpu, "commits": commits, "per_node": per_node, "max_running": stats.get("max_running"),
                "wal": {"records": int(wal[0]), "bytes": int(float(wal[1])), "writes": int(wal[2]),
                        "syncs": int(wal[3])},
                "statements": statements, "rcs": rcs}

    def _submit(self, conns: list[Conn], n: int, batch: int, spec: dict) -> list[int]:
        """Batch k of `n` jobs goes to node k mod N. With more than one node, each node's
        batches are sent by a client thread of its own, all at once (a cluster's producers
        are many); `--serial-submits` sends them one after the other from one client, as
        the runs before 2026-12-04 21:30 did."""
        sizes = [min(batch, n - start) for start in range(0, n, batch)]
        bodies = {m: batch_body(m, spec) for m in set(sizes)}
        shares: list[list[int]] = [[] for _ in conns]  # the batches' sizes, per node, in order
        for k, m in enumerate(sizes):
            shares[k % len(conns)].append(m)
        got: list[list[list[int]]] = [[] for _ in conns]  # per node, per batch: its ids
        errors: list[BaseException] = []

        def send(node: int) -> None:
            try:
                for m in shares[node]:
                    got[node].append(conns[node].json("POST", "/v1/jobs", bodies[m], expect=(201,))["ids"])
            except BaseException as e:  # re-raised below, in the caller's thread
                errors.append(e)

        if len(conns) == 1 or self.args.serial_submits:  # one client, the batches in order
            for k, m in enumerate(sizes):
                got[k % len(conns)].append(
                    conns[k % len(conns)].json("POST", "/v1/jobs", bodies[m], expect=(201,))["ids"])
        else:
            threads = [threading.Thread(target=send, args=(node,), daemon=True) for node in range(len(conns))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        ids = [i for per_node in got for batch_ids in per_node for i in batch_ids]
        if len(ids) != n:
            raise RuntimeError(f"submitted {n} jobs, got {len(ids)} ids")
        return ids

    def _statements(self, db: str, n: int) -> list[str]:
        """The run's statements by execution time (pg_stat_statements, this database only),
        with their planning time (track_planning: every unnamed statement is planned anew)."""
        rows = self.cluster.psql(
            "SELECT calls, round(total_exec_time::numeric, 1), round(total_plan_time::numeric, 1), rows, "
            "regexp_replace(left(query, 110), '\\s+', ' ', 'g') FROM pg_stat_statements "
            f"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{db}') "
            "ORDER BY total_exec_time DESC LIMIT 14")
        out = []
        for row in rows.splitlines():
            calls, ms, plan_ms, nrows, query = row.split("|", 4)
            out.append(f"calls={calls} per_1k_jobs={int(calls) * 1000 / n:.1f} exec_ms={ms} plan_ms={plan_ms} "
                       f"rows={nrows} query={query!r}")
        return out

    def report(self, name: str, rs: list[dict], n: int, nodes: int, extra: str = "") -> dict:
        m = median_of(rs, "e2e")
        pgc = m["pg_cpu"]
        share = pgc["total"] / (pgc["total"] + m["jobd_cpu"]) if pgc["total"] + m["jobd_cpu"] > 0 else float("nan")
        w = m["wal"]
        emit(fmt(f"{name}_submit", n, median_of(rs, "submit")["submit"], m["rss"], f"nodes={nodes} {extra}".strip()))
        emit(fmt(name, m["ok"], m["e2e"], m["rss"],
                 f"nodes={nodes} {extra} rss_each_mb={','.join(f'{x:.1f}' for x in m['rss_each'])} "
                 f"jobd_cpu_s={m['jobd_cpu']:.2f} pg_cpu_s={pgc['total']:.2f} "
                 f"pg_backend_cpu_s={pgc['backends']:.2f} pg_walwriter_cpu_s={pgc['walwriter']:.2f} "
                 f"pg_autovacuum_cpu_s={pgc['autovacuum']:.2f} pg_cpu_share={share:.2f} pg_pss_mb={m['pg_pss']:.1f} "
                 f"jobd_commits={m['commits']} wal_syncs={w['syncs']} wal_mb={w['bytes'] / 2 ** 20:.1f} "
                 f"attempts_by_node={m['per_node'] or '-'} max_running={m['max_running']} "
                 "runs=" + ",".join(f"{r['e2e']:.3f}" for r in rs)))
        for line in m["statements"]:
            emit(f"# pg_statements {name}: {line}")
        fig = {"jobs_per_s": m["ok"] / m["e2e"], "seconds": m["e2e"], "rss": m["rss"], "pg_cpu_share": share,
               "pg_cpu": pgc["total"], "jobd_cpu": m["jobd_cpu"]}
        self.b.results[name] = fig
        return fig

    def w1(self, n: int, nodes: int, runs: int) -> dict:
        workers = self.args.workers
        rs = runs_within(runs, 40, lambda: self.run("w1", n, nodes, {"kind": "delay", "seconds": 0}, 1000, workers))
        return self.report(f"pg_w1_e2e_{n // 1000}k_full_{nodes}node{'s' if nodes > 1 else ''}", rs, n, nodes,
                           f"workers={workers} batch=1000 synchronous=full")

    def w1_fair(self, n: int, runs: int) -> None:
        """W1 with fair share on one node (issue 13): `off` (one client, root),
        `per_uid_2uids` and `off_2uids` (root and `nobody` at once, half the jobs each),
        interleaved, a fresh database each run."""
        if os.geteuid() != 0:
            log("pg-w1-fair needs root: it submits as root and as nobody (skipped)")
            return
        workers = self.args.workers
        variants = {"off": (None, False), "per_uid_2uids": ("per_uid", True), "off_2uids": ("off", True)}
        results: dict[str, list[dict]] = {v: [] for v in variants}
        for _ in range(runs):
            for v, (fair, two) in variants.items():
                results[v].append(self.run("w1-fair", n, 1, {"kind": "delay", "seconds": 0}, 1000, workers,
                                           fair_share=fair, two_uids=two))
        tag = f"{n // 1000}k"
        figs = {v: self.report(f"pg_w1_fair_{v}_e2e_{tag}", rs, n, 1, f"workers={workers} batch=1000")
                for v, rs in results.items()}
        emit(f"ratio pg_w1_fair_per_uid_2uids/off_{tag} e2e_jobs_per_s="
             f"{figs['per_uid_2uids']['jobs_per_s'] / figs['off']['jobs_per_s']:.3f} target=>=0.9")
        emit(f"ratio pg_w1_fair_per_uid_2uids/off_2uids_{tag} e2e_jobs_per_s="
             f"{figs['per_uid_2uids']['jobs_per_s'] / figs['off_2uids']['jobs_per_s']:.3f}")

    def w2(self, n: int, nodes: int, runs: int) -> dict:
        batch = min(10000, -(-n // nodes))
        rs = runs_within(runs, 40, lambda: self.run("w2", n, nodes, {"kind": "delay", "seconds": 1}, batch, n))
        return self.report(f"pg_w2_delay1_{n // 1000}k_{nodes}node{'s' if nodes > 1 else ''}", rs, n, nodes,
                           f"workers={n} batch={batch} synchronous=full")


# ---------------------------------------------------------------------------------------
# Anchors (../shared/anchors): run when their prerequisites are installed.

ANCHOR_INSTALL = ("apt-get update && apt-get install -y redis-server nginx && "
                  "pip install huey arq aiohttp gevent")


def _has_module(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(name) is not None


PG_ANCHORS = ("pgqueuer", "procrastinate_noop", "procrastinate_noop3")
PG_ANCHOR_MODULES = ["pgqueuer", "procrastinate", "asyncpg", "psycopg", "psycopg_pool", "uvloop"]

ANCHORS = {
    # key: (script args, python modules, programs)
    "huey_thread": (["peer_huey.py", "thread"], ["huey"], []),
    "huey_greenlet": (["peer_huey.py", "greenlet"], ["huey", "gevent"], []),
    "arq_noop": (["peer_arq.py", "noop"], ["arq"], ["redis-server"]),
    "arq_delay1": (["peer_arq.py", "delay1"], ["arq"], ["redis-server"]),
    "asyncio_sleep": (["asyncio_sleep.py"], [], []),
    # The physical limit of W1: SQLite's own row rates (issue 16).
    "sqlite_limits": (["sqlite_limits.py"], [], []),
    "fetch_aiohttp": (["fetch_bench.py", "aiohttp"], ["aiohttp", "arq"], ["nginx"]),
    "fetch_arq": (["fetch_bench.py", "arq"], ["aiohttp", "arq"], ["nginx", "redis-server"]),
    # PostgreSQL queues (issue 11); each script starts its own private cluster. "initdb"
    # stands for a PostgreSQL installation (pg_bin_dir()).
    "pgqueuer": (["peer_pgqueuer.py", "all"], PG_ANCHOR_MODULES, ["initdb"]),  # noop, noop3, delay1
    "procrastinate_noop": (["peer_procrastinate.py", "noop"], PG_ANCHOR_MODULES, ["initdb"]),
    "procrastinate_noop3": (["peer_procrastinate.py", "noop3"], PG_ANCHOR_MODULES, ["initdb"]),
}
# Anchors that take other options: procrastinate fetches one job per round trip (~280
# jobs/s, ~40 s per 10,000-job run), so it runs once, with ANALYZE after the enqueue (its
# faster, steady-state variant; without statistics a run swings 48-96 s: anchors README).
ANCHOR_OPTIONS = {
    "procrastinate_noop": {"runs": 1, "extra": ["--analyze"], "timeout": 420},
    # Three modes x 3 runs, each capped at 12 s (one fsync per row in the first).
    "sqlite_limits": {"timeout": 420},
    "procrastinate_noop3": {"runs": 1, "extra": ["--analyze"], "timeout": 420},
}
ANCHOR_INSTALL_PG = (f"{PG_INSTALL} && pip install pgqueuer==1.6.0 procrastinate==3.10.0 asyncpg "
                     "'psycopg[binary,pool]'")


def anchors_missing(keys) -> list[str]:
    missing = []
    for key in keys:
        _, mods, progs = ANCHORS[key]
        missing += [f"python module {m}" for m in mods if not _has_module(m)]
        missing += [f"program {p}" for p in progs if not (pg_bin_dir() if p == "initdb" else shutil.which(p))]
    return sorted(set(missing))


def run_anchor(directory: str, key: str, runs: int) -> dict[str, dict]:
    """Runs one anchor script; returns {anchor name: {seconds, jobs_per_s, peak_rss_mb}}."""
    script, mods, progs = ANCHORS[key]
    opts = ANCHOR_OPTIONS.get(key, {})
    miss = anchors_missing([key])
    if miss:
        install = ANCHOR_INSTALL_PG if "initdb" in progs else ANCHOR_INSTALL
        log(f"SKIP anchor {key}: missing {', '.join(miss)}; install with: {install}")
        return {}
    runs = min(runs, opts.get("runs", runs))
    args = [sys.executable, os.path.join(directory, script[0])] + script[1:] + [str(runs)] + opts.get("extra", [])
    t = time.perf_counter()
    proc = subprocess.Popen(args, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    # SIGINT: the anchor's own finally stops its redis/nginx, and pg_ctl-stops its cluster.
    _track(proc, signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=opts.get("timeout", 240))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        log(f"WARNING anchor {key} timed out")
    _untrack(proc)
    found = {}
    for line in out.splitlines():
        if line.startswith("anchor="):
            emit(line)
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            fig = {"seconds": float(kv["seconds"]), "jobs_per_s": float(kv["jobs_per_s"]),
                   "rss": float(kv["peak_rss_mb"])}
            found[kv["anchor"]] = fig
            found[f"{kv['anchor']}@{kv.get('workload')}"] = fig  # pgqueuer's names repeat per workload
        elif line.startswith("# WARNING") or "Traceback" in line or "Error" in line:
            emit(line if line.startswith("#") else "# " + line)
    log(f"anchor {key}: {time.perf_counter() - t:.1f}s")
    return found


# ---------------------------------------------------------------------------------------
# The whole suite, with ratios.


def suite(b: Bench, args) -> int:
    quick = args.quick
    runs = 1 if quick else args.runs
    anchors_dir = args.anchors
    with_anchors = args.with_anchors
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    if "postgres" in engines and not pg_bin_dir():
        if args.engine == "postgres":
            log(f"bench.py: --engine postgres needs PostgreSQL: {PG_INSTALL} (or set JOBD_PG_BIN)")
            return 69
        log(f"SKIP the PostgreSQL engine: PostgreSQL is not installed ({PG_INSTALL}, or set JOBD_PG_BIN)")
        engines.remove("postgres")
    if with_anchors and not os.path.isdir(anchors_dir):
        log(f"SKIP anchors: {anchors_dir} not found (set --anchors DIR)")
        with_anchors = False
    if with_anchors:
        keys = [k for k in ANCHORS if ("postgres" if k in PG_ANCHORS else "sqlite") in engines]
        miss = anchors_missing(keys)
        if miss:
            log(f"some anchors lack {', '.join(miss)}; they are skipped. Install: "
                + " ; ".join(sorted({ANCHOR_INSTALL_PG if k in PG_ANCHORS else ANCHOR_INSTALL
                                     for k in keys if anchors_missing([k])})))
    anchor: dict[str, dict] = {}

    def anchors(*keys):
        if with_anchors:
            for key in keys:
                anchor.update(run_anchor(anchors_dir, key, runs))

    def section(name):
        log(f"{name} (t={time.perf_counter() - T0:.0f}s)")

    big = not quick
    ok = True
    if "sqlite" in engines:
        section("W1 throughput")
        b.w1([10000] + ([100000] if big else []), runs)
        anchors("huey_thread", "huey_greenlet", "arq_noop", *(["sqlite_limits"] if big else []))
        section("W2 concurrency")
        b.w2([10000] + ([100000] if big else []), runs)
        anchors("asyncio_sleep", "arq_delay1")
        if with_anchors and big:
            # asyncio.gather of 100,000 sleeps: the anchor's script has 10,000 built in.
            g = costs.asyncio_gather(100_000, runs)
            if g:
                emit(f"anchor=asyncio_gather_sleep workload=delay1s_100k jobs=100000 seconds={g['seconds']:.3f} "
                     f"jobs_per_s={100_000 / g['seconds']:.1f} runs=" + ",".join(f"{x:.3f}" for x in g["runs"]))
                anchor["asyncio_gather_sleep@delay1s_100k"] = {"seconds": g["seconds"]}
        if big:
            section("cost curve: W1 full at 10k, 100k, 1M; W2 at 1k, 10k, 100k")
            b.cost_curve(runs, args.plot)
        section("W3 fetch")
        b.w3(10000, runs)
        anchors("fetch_aiohttp", "fetch_arq")
        section("W4 latency")
        b.w4_latency(1000, runs)
        b.w4_status_under_w2(10000 if quick else 100000)
        section("W5 backlog")
        b.w5(100000 if quick else 1000000)
        section("W6 fan-out")
        b.w6(10000, runs)
        section("durability")
        ok = b.kill_test(20000 if quick else 40000, "full")
    if "postgres" in engines:
        section("PostgreSQL engine (issue 11): W1 on 1 and 3 nodes, W2 on 3 nodes")
        pgb = PgBench(b)
        try:
            pgb.w1(10000, 1, runs)
            pgb.w1(10000, 3, runs)
            pgb.w2(10000, 3, runs)
        finally:
            pgb.stop()  # before the anchors, which start clusters of their own
        # procrastinate (~280 jobs/s, ~40 s a run) is left out of --quick: pgqueuer is the
        # faster of the two in every stored run, so it alone sets the W1 target then.
        anchors("pgqueuer", *([] if quick else ["procrastinate_noop", "procrastinate_noop3"]))
        if "asyncio_gather_sleep" not in anchor:
            anchors("asyncio_sleep")

    # Ratios and targets.
    r = b.results
    lines = []

    def ratio(workload, value, anchor_name, base, target=None, kind="jobs_per_s"):
        if base is None:
            return
        x = value / base
        met = "" if target is None else f" target={target} met={'yes' if eval_target(x, target) else 'no'}"
        lines.append(f"ratio workload={workload} anchor={anchor_name} jobd/anchor={x:.2f} ({kind}){met}")

    def a(name, key="jobs_per_s"):
        return anchor.get(name, {}).get(key)

    for tag in ("10k_full", "10k_normal", "100k_full", "100k_normal"):
        w = r.get(f"w1_e2e_{tag}")
        if not w:
            continue
        tgt = ">=25" if tag.endswith("full") else None  # issue 16 (issue 5: >=20)
        ratio(f"w1_e2e_{tag}", w["jobs_per_s"], "huey_thread8_total", a("huey_thread8_total"), tgt)
        ratio(f"w1_e2e_{tag}", w["jobs_per_s"], "huey_greenlet8_total", a("huey_greenlet8_total"), tgt)
        ratio(f"w1_e2e_{tag}", w["jobs_per_s"], "arq_max1000_total", a("arq_max1000_total"))
    w = r.get("w2_delay1_10k")
    if w:
        ratio("w2_delay1_10k", w["seconds"], "asyncio_gather_sleep", a("asyncio_gather_sleep", "seconds"), "<=1.10",
              "seconds")
        ratio("w2_delay1_10k", w["seconds"], "arq_max10000_total", a("arq_max10000_total", "seconds"), None,
              "seconds")
    w = r.get("w2_delay1_100k")
    if w:
        ratio("w2_delay1_100k", w["seconds"], "asyncio_gather_sleep@delay1s_100k",
              a("asyncio_gather_sleep@delay1s_100k", "seconds"), "<=1.5", "seconds")
    w = r.get("w3_fetch_10k")
    if w:
        ratio("w3_fetch_10k", w["jobs_per_s"], "aiohttp_gather_sem100", a("aiohttp_gather_sem100"), ">=1.5")
        if "wrk" in r:
            ratio("w3_fetch_10k", w["jobs_per_s"], "wrk_nginx_1k", r["wrk"]["requests_per_s"], ">=0.25")
    # W1 against what SQLite itself writes (docs/benchmarks.md, "The physical limit").
    ceiling = costs.sqlite_job_ceiling(anchor)
    for tag in ("10k_full", "100k_full", "100k_normal"):
        w = r.get(f"w1_e2e_{tag}")
        if w and ceiling:
            lines.append(f"limit workload=w1_e2e_{tag} sqlite_ceiling_jobs_per_s={ceiling:.0f} "
                         f"(inserts/job={costs.INSERTS_PER_JOB} updates/job={costs.UPDATES_PER_JOB}) "
                         f"jobd/ceiling={w['jobs_per_s'] / ceiling:.3f}")
    one, ten = r.get("w1_e2e_100k_full"), r.get("w1_e2e_10k_full")
    if one and ten:
        lines.append(f"target w1_e2e_100k_full/10k_full jobs_per_s={one['jobs_per_s'] / ten['jobs_per_s']:.2f} "
                     f"target=>=0.95 met={'yes' if one['jobs_per_s'] / ten['jobs_per_s'] >= 0.95 else 'no'}")
        ratio("w3_fetch_10k", w["jobs_per_s"], "arq_fetch_max100_total", a("arq_fetch_max100_total"), ">=10")
        ratio("w3_fetch_10k", w["jobs_per_s"], "arq_fetch_max100_poll10ms_total",
              a("arq_fetch_max100_poll10ms_total"))
    # Absolute targets of the issue.
    checks = []
    if "w1_e2e_100k_normal" in r:
        checks.append(("w1_e2e_100k_normal jobs_per_s", r["w1_e2e_100k_normal"]["jobs_per_s"], ">=50000"))
    if "w2_delay1_10k" in r:
        checks.append(("w2_delay1_10k peak_rss_mb", r["w2_delay1_10k"]["rss"], "<=80"))
    if "w2_delay1_100k" in r:
        checks.append(("w2_delay1_100k seconds", r["w2_delay1_100k"]["seconds"], "<=2.0"))
        checks.append(("w2_delay1_100k peak_rss_mb", r["w2_delay1_100k"]["rss"], "<=400"))
    if "w4_submit_wait" in r:
        checks.append(("w4_submit_wait p50_ms", r["w4_submit_wait"]["p50_ms"], "<=2"))
    if "w4_status" in r:
        checks.append((f"w4_status_under_w2_{r['w4_status']['n'] // 1000}k p99_ms", r["w4_status"]["p99_ms"], "<=5"))
    if "w5" in r:
        checks.append((f"w5_backlog_{r['w5']['n'] // 1000}k peak_rss_mb", r["w5"]["rss"], "<=150"))
        checks.append((f"w5_restart_{r['w5']['n'] // 1000}k ready_s", r["w5"]["ready"], "<=2"))
    if "w6_fanout_10k" in r and "w6_flat_10k" in r:
        # Issue 12: the children of one parent run within 10 % of as many independent jobs,
        # and start within 1 s of the parent's end.
        checks.append(("w6_fanout_10k/flat jobs_per_s",
                       r["w6_fanout_10k"]["jobs_per_s"] / r["w6_flat_10k"]["jobs_per_s"], ">=0.9"))
        checks.append(("w6_fanout_10k first_child_start_s", r["w6_fanout_10k"]["first"], "<=1"))
    for name, value, target in checks:
        lines.append(f"target {name}={value:.2f} target={target} met={'yes' if eval_target(value, target) else 'no'}")

    def target(name, value, goal, note=""):
        met = "yes" if eval_target(value, goal) else "no"
        lines.append(f"target {name}={value:.2f} target={goal} met={met}" + (f" {note}" if note else ""))

    def pg_ratios(at=""):
        """The PostgreSQL engine against pgqueuer and procrastinate (their `total` = enqueue +
        run phase, worker start-up included) and the 3-node W2 against asyncio.gather."""
        one, three = r.get("pg_w1_e2e_10k_full_1node"), r.get("pg_w1_e2e_10k_full_3nodes")
        for w, name, workers in ((one, "pg_w1_e2e_10k_full_1node", "w1"), (three, "pg_w1_e2e_10k_full_3nodes", "w3")):
            if not w:
                continue
            cands = [(f"pgqueuer_b100_{workers}_total", f"pgqueuer_b100_{workers}_total@noop_10k"),
                     (f"procrastinate_c64_{workers}_analyzed_total", f"procrastinate_c64_{workers}_analyzed_total"),
                     (f"procrastinate_c64_{workers}_total", f"procrastinate_c64_{workers}_total")]
            have = [(label, a(key)) for label, key in cands if a(key)]
            for label, base in have:
                ratio(name, w["jobs_per_s"], label + at, base)
            if have and w is one:
                label, base = max(have, key=lambda t: t[1])
                target(f"pg_w1_10k_full_1node/faster_pg_anchor{at}", w["jobs_per_s"] / base, ">=5",
                       f"anchor={label} jobd_jobs_per_s={w['jobs_per_s']:.0f} anchor_jobs_per_s={base:.0f}")
        if one and three and not at:
            target("pg_w1_10k_full_3nodes/1node", three["jobs_per_s"] / one["jobs_per_s"], ">=1",
                   f"3nodes_jobs_per_s={three['jobs_per_s']:.0f} 1node_jobs_per_s={one['jobs_per_s']:.0f}")
        w = r.get("pg_w2_delay1_10k_3nodes")
        if w:
            base = a("asyncio_gather_sleep", "seconds")
            if base:
                target(f"pg_w2_delay1_10k_3nodes/asyncio_gather{at}", w["seconds"] / base, "<=1.2",
                       f"jobd_s={w['seconds']:.3f} asyncio_s={base:.3f}")
            ratio("pg_w2_delay1_10k_3nodes", w["seconds"], "pgqueuer_b100_w1_total" + at,
                  a("pgqueuer_b100_w1_total@delay1s_10k", "seconds"), None, "seconds")
        if not at:
            for name in ("pg_w1_e2e_10k_full_1node", "pg_w1_e2e_10k_full_3nodes", "pg_w2_delay1_10k_3nodes"):
                if name in r:
                    f = r[name]
                    lines.append(f"pg_cpu workload={name} pg_cpu_s={f['pg_cpu']:.2f} jobd_cpu_s={f['jobd_cpu']:.2f} "
                                 f"pg_share={f['pg_cpu_share']:.2f} jobd_peak_rss_mb={f['rss']:.1f}")

    pg_ratios()
    # The same ratios against the anchors' stored reference run (results-*.txt), which is
    # steadier than one run here: huey's enqueue is one fsync per job and this disk's fsync
    # latency swings ~20x between minutes.
    ref = reference_anchors(anchors_dir)
    if ref:
        anchor, live = ref, lines
        lines = []
        for tag in ("10k_full", "100k_full", "100k_normal"):
            w = r.get(f"w1_e2e_{tag}")
            if w:
                ratio(f"w1_e2e_{tag}", w["jobs_per_s"], "huey_thread8_total@reference", a("huey_thread8_total"),
                      ">=25" if tag.endswith("full") else None)
        if "w2_delay1_10k" in r:
            ratio("w2_delay1_10k", r["w2_delay1_10k"]["seconds"], "asyncio_gather_sleep@reference",
                  a("asyncio_gather_sleep", "seconds"), "<=1.10", "seconds")
        if "w3_fetch_10k" in r:
            ratio("w3_fetch_10k", r["w3_fetch_10k"]["jobs_per_s"], "aiohttp_gather_sem100@reference",
                  a("aiohttp_gather_sem100"), ">=1.5")
            ratio("w3_fetch_10k", r["w3_fetch_10k"]["jobs_per_s"], "arq_fetch_max100_total@reference",
                  a("arq_fetch_max100_total"), ">=10")
        pg_ratios("@reference")
        lines = live + lines
    for line in lines:
        emit(line)
    return 0 if ok else 1


def reference_anchors(directory: str) -> dict[str, dict]:
    """Each anchor's first figure in the newest results-*.txt of the anchors folder that has
    it (results-2026-11-25.txt: huey, arq, asyncio, aiohttp; results-pg-*.txt: the PostgreSQL
    queues), keyed by anchor name and by name@workload."""
    try:
        files = [f for f in os.listdir(directory) if re.match(r"results-.*\.txt$", f)]
    except OSError:
        return {}
    dated = sorted(files, key=lambda f: (re.search(r"\d{4}-\d{2}-\d{2}", f) or re.search("", f)).group(0),
                   reverse=True)
    out: dict[str, dict] = {}
    for name in dated:
        mine: dict[str, dict] = {}
        with open(os.path.join(directory, name)) as f:
            for line in f:
                if line.startswith("anchor="):
                    kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
                    fig = {"seconds": float(kv["seconds"]), "jobs_per_s": float(kv["jobs_per_s"])}
                    mine.setdefault(kv["anchor"], fig)
                    mine.setdefault(f"{kv['anchor']}@{kv.get('workload')}", fig)
        for key, fig in mine.items():
            out.setdefault(key, fig)
    return out


def eval_target(x: float, target: str) -> bool:
    m = re.match(r"(>=|<=)([\d.]+)", target)
    v = float(m.group(2))
    return x >= v if m.group(1) == ">=" else x <= v


T0 = time.perf_counter()


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jobd", default=os.path.join(here, "..", ".build-bench", "release", "jobd"),
                   help="the release jobd binary")
    p.add_argument("--workload", choices=["all", "w1", "w1-fair", "w2", "w3", "w4", "w5", "w6", "cost", "pg-w1",
                                          "pg-w1-fair",
                                          "pg-w2"],
                   default="all")
    p.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both",
                   help="the suite's engines (default both; postgres is skipped with a note when PostgreSQL "
                   "is not installed, unless asked for alone)")
    p.add_argument("--nodes", type=int, action="append",
                   help="pg-w1 / pg-w2: jobd nodes on the one database (repeatable; default 1 and 3 for pg-w1, "
                   "3 for pg-w2)")
    p.add_argument("--pg-analyze", action="store_true",
                   help="PostgreSQL runs: pause the nodes, submit everything, ANALYZE (untimed), resume: the "
                   "planner then has statistics for the filled queue, as the anchors' --analyze (a long-lived "
                   "table's steady state); by default each run's tables are new and have none")
    p.add_argument("--serial-submits", action="store_true",
                   help="PostgreSQL runs on several nodes: one client sends the batches one after the other "
                   "(default: one client thread per node, all at once)")
    p.add_argument("--pg-statements", action="store_true",
                   help="PostgreSQL runs: load pg_stat_statements and print each run's statements by total "
                   "time (per 1,000 jobs); off by default, as the anchors run without it")
    p.add_argument("--kill-test", action="store_true", help="kill -9 jobd in the middle of W1; check every "
                   "acknowledged job is stored after the restart")
    p.add_argument("--quick", action="store_true", help="1 run, the smaller sizes only")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (the median is reported)")
    p.add_argument("--jobs", type=int, help="one size instead of the workload's defaults")
    p.add_argument("--synchronous", choices=["full", "normal"], help="W1 / kill test: only this setting")
    p.add_argument("--workers", type=int, default=64, help="worker limit of W1, W4, W5 and the kill test")
    p.add_argument("--with-anchors", action="store_true")
    p.add_argument("--anchors", default=os.path.normpath(os.path.join(here, "..", "..", "shared", "anchors")))
    p.add_argument("--tmp", default=None, help="where temp sockets and databases go (default $TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the temp databases and logs")
    p.add_argument("--plot", default=os.path.normpath(os.path.join(here, "..", "docs", "images", "cost-curve.png")),
                   help="where the full suite and --workload cost write the cost-curve PNG ('' for none; "
                   "default: %(default)s)")
    p.add_argument("--profile", metavar="DIR", help="attach `perf record` to every jobd started (after it is "
                   "ready, until its stop); writes DIR/<run>.perf.data")
    p.add_argument("--perf-args", default="-e cpu-clock -F 999 --call-graph dwarf,16384",
                   help="perf record options for --profile (default: %(default)s)")
    args = p.parse_args()
    if args.profile:
        args.profile = os.path.abspath(args.profile)
        os.makedirs(args.profile, exist_ok=True)
    if not os.access(args.jobd, os.X_OK):
        sys.exit(f"bench.py: no jobd binary at {args.jobd} (build: swift build -c release --scratch-path .build-bench)")
    b = Bench(args)
    runs = 1 if args.quick else args.runs
    try:
        if args.kill_test:
            syncs = [args.synchronous] if args.synchronous else ["full"]
            ok = all([b.kill_test(args.jobs or (20000 if args.quick else 40000), s) for s in syncs])
            return 0 if ok else 1
        w = args.workload
        if w == "all":
            return suite(b, args)
        if w == "w1":
            b.w1([args.jobs] if args.jobs else ([10000] if args.quick else [10000, 100000]), runs)
        elif w == "w2":
            b.w2([args.jobs] if args.jobs else ([10000] if args.quick else [10000, 100000]), runs)
        elif w == "w3":
            b.w3(args.jobs or 10000, runs)
        elif w == "w4":
            b.w4_latency(args.jobs or 1000, runs)
            b.w4_status_under_w2(10000 if args.quick else 100000)
        elif w == "w5":
            b.w5(args.jobs or (100000 if args.quick else 1000000))
        elif w == "w6":
            b.w6(args.jobs or 10000, runs)
        elif w == "cost":
            b.cost_curve(runs, args.plot)
        elif w == "w1-fair":
            b.w1_fair(args.jobs or 10000, runs)
        elif w in ("pg-w1", "pg-w2", "pg-w1-fair"):
            if not pg_bin_dir():
                sys.exit(f"bench.py: {w} needs PostgreSQL: {PG_INSTALL} (or set JOBD_PG_BIN)")
            pgb = PgBench(b)
            try:
                if w == "pg-w1-fair":
                    pgb.w1_fair(args.jobs or 10000, runs)
                else:
                    for nodes in args.nodes or ([1, 3] if w == "pg-w1" else [3]):
                        (pgb.w1 if w == "pg-w1" else pgb.w2)(args.jobs or 10000, nodes, runs)
            finally:
                pgb.stop()
        return 0
    finally:
        _stop_clusters()  # the jobd nodes first, then any PostgreSQL cluster still up
        b.cleanup()


if __name__ == "__main__":
    sys.exit(main())
