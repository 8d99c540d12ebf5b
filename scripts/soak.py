#!/usr/bin/env python3
"""jobd crash soak (issue 6): a mixed workload while jobd is killed with SIGKILL N times.

What runs (stdlib only; scripts/soak.sh wraps it):

- jobd: the given binary, copied into a temporary directory first (a rebuild of the
  shared .build cannot swap binaries between restarts), on a temporary socket and
  database, configured by a temporary YAML file in $JOBD_CONFIG: workers 64,
  synchronous full, fetch.timeout 10 s, retry.base 0.2 s, retry.cap 2 s, grace 10 s,
  log level warning (<workdir>/jobd.log).
- A page server in this process (ThreadingHTTPServer on 127.0.0.1, port 0). Every URL
  is /<page>/<token>[?ms=N] with a token unique per job spec, and the server counts the
  requests per token as soon as it has read the request head. Pages: ok (200, small
  body), fail (always 500), flaky (503 for the first two requests of a token, then
  200; no Retry-After), missing (404), slow (sleeps ms=500-2000, then 200; 30 % of the
  slow jobs have a 1 s `timeout`, so they fail with `timeout` and are retried).
- 3 submitters (keep-alive connections) send singles (30 %) and batches of 2-50 specs:
  60 % fetches (ok 50 %, slow 15 %, flaky 15 %, fail 13 %, missing 7 %), 40 % delays
  (half 0 s, 30 % up to 0.5 s, 20 % 0.5-2 s; a quarter with `fail`, i.e. the retryable
  `job_failed`); `max_attempts` 1-4 (1 for 40 %), priority -5..5 on 60 %, `run_at`
  1-5 s ahead on 10 %, an idempotency `key` on 20 %, `on_interrupt: fail` on 3 %.
  Pacing: the number acknowledged may reach --jobs x (kills done + fraction of the
  current planned uptime) / --kills, so submits go on through every uptime window.
  An id is *acknowledged* only when a 200/201 answer was read in full; it is appended
  to <workdir>/acked.log ("id kind token"). A submit that fails (jobd down, or the
  connection ended before the whole answer) is sent again after the restart: specs with
  a `key` unchanged (if the lost answer had been committed, the key returns that job),
  specs without one under a fresh token (the first copy may be stored unacknowledged;
  it keeps its own token and is checked like every stored job).
- A canceller cancels random recently acknowledged jobs (at most one per 15
  acknowledged). An answer `cancelled` (the job was queued) is an acknowledged cancel:
  the job must end `cancelled` (cancel_lost). An answer `running` only asks the running
  attempt to stop; such jobs that end otherwise are counted (cancel_running_overtaken)
  and, among them, those with an attempt that started after the answer
  (cancel_running_rerun), but neither fails the run: a kill before the stop is
  recorded re-queues the job by design, and the rerun is a known jobd race (reported
  with issue 6: the attempt ends on its own, with a retryable failure, as the cancel
  arrives, and the retry runs).
- The killer, N times: waits a uniformly random uptime (--min-uptime..--max-uptime,
  default 0.3-3 s, from the first answered /v1/health); on every other kill then waits
  (at most 0.5 s) for a submit in flight and lets 0-3 ms pass, so kills also land
  between a commit and its answer; sends SIGKILL to jobd's PID, reaps it, and restarts
  jobd on the same database and socket (ready when GET /v1/health answers 200, within
  60 s).
- After the last restart: the submitters finish the remaining jobs, the canceller
  stops, the queue drains (GET /v1/stats every 0.1 s until queued = running = 0,
  within --drain-timeout), jobd gets SIGTERM (it must exit 0), and the database is read
  with the sqlite3 module (read-only).

Checks (each must be 0, integrity must be ok; else the exit status is 1):

- lost: acknowledged ids with no row in `jobs`.
- stuck: stored jobs (acknowledged or not) whose state is not succeeded, failed or
  cancelled, plus attempts whose outcome is still `running`.
- unexplained_duplicates: jobs with a run that neither a retry nor a crash explains.
  With a job's attempt rows ordered by number, a job counts once if any of these holds:
    (a) an attempt other than the last has an outcome other than `failed` or
        `interrupted`, or is `failed` with an error that is not retryable (retryable:
        timeout, connect_failed, dns_failed, connection_reset, interrupted, job_failed,
        http_status 5xx or 429);
    (b) it has more than one `succeeded` attempt;
    (c) its non-interrupted attempts (succeeded, failed, cancelled) outnumber its
        max_attempts (interrupted attempts do not use the budget, docs/decisions.md);
    (d) fetch jobs only: the page server saw more requests for the job's token than the
        job has attempt rows. Every run must have its attempt row; a row may have no
        request (a kill between the claim and the request).
  Each token the server saw that no stored job carries counts once more.
  Delay jobs are checked with (a)-(c), the attempts table alone. So a job that
  succeeded has one succeeded attempt, its last, and every earlier one is a retryable
  failure or `interrupted`; duplicate_runs_explained (extra) is the sum over fetch jobs
  of requests beyond their non-interrupted attempts: runs of interrupted attempts.
- integrity: PRAGMA integrity_check after the final stop.
- inconsistent: attempt rows not numbered 1..n, jobs.attempt_count different from the
  number of rows, a job that succeeded whose last attempt did not (or the reverse), a
  fetch job with more recorded HTTP answers (succeeded attempts, attempts with an
  http_status) than requests the server saw.
- cancel_lost, bad_answers (a submit answered other than 200/201/429/503, or not as
  JSON with one id per spec); also: all kills done, all jobs acknowledged, the queue
  drained, every client thread done before its deadline, jobd exit 0 after SIGTERM.

Output: progress on stderr ("# ..."), then one line on stdout, e.g.

    kills=12 jobs=3070 lost=0 stuck=0 unexplained_duplicates=0 integrity=ok
      inconsistent=0 cancel_lost=0 ... interrupted_attempts=660 ... seconds=30.6 result=PASS

(one line; the extras count stored jobs by state, attempts, interrupted attempts,
jobs failed by `on_interrupt: fail` or by 10 interruptions, kills that landed in a
submit, submits cut off, restart times, phase durations, and the seed). The temporary
directory is removed after a pass and kept (and named) after a failure or with --keep.

Usage: soak.py --jobd PATH [--kills N] [--jobs N] [--seed S] [--min-uptime S]
               [--max-uptime S] [--workers N] [--kill-phase-timeout S]
               [--drain-timeout S] [--tmp DIR] [--keep]
Every process it starts (jobd) is stopped by its PID on exit, also on SIGINT, SIGTERM
and SIGHUP; only a Unix socket and 127.0.0.1 are used; every loop is bounded by a count
and a deadline (kill phase: --kill-phase-timeout, default 4.5 s per kill + 30 s; final
submits and the drain: --drain-timeout each, default 60 s, 300 s from 20 kills).
"""
from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import datetime as _dt
import http.server
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

# ---------------------------------------------------------------------------------------
# Child process bookkeeping (as in bench.py): everything started here is stopped by PID.

_children: dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()


def _track(proc: subprocess.Popen) -> None:
    with _children_lock:
        _children[proc.pid] = proc


def _untrack(proc: subprocess.Popen) -> None:
    with _children_lock:
        _children.pop(proc.pid, None)


def _stop_all_children() -> None:
    with _children_lock:
        items = list(_children.values())
        _children.clear()
    for proc in items:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 20
    for proc in items:
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

T0 = time.monotonic()


def log(message: str) -> None:
    print(f"# [{time.monotonic() - T0:6.1f}s] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# HTTP/1.1 over a Unix socket, keep-alive (as in bench.py).


class HTTPError(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection to jobd's Unix socket."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.path = path
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = bytearray()
        self.sent = False  # whether the last request was sent whole (then jobd may have acted on it)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        self.sock = None

    def _fill(self) -> None:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise HTTPError("connection closed by jobd")
        self.buf += chunk

    def request(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        """The status and the whole body; raises OSError/HTTPError when the answer is not
        read in full (it then counts as not answered)."""
        if self.sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(self.timeout)
            try:
                s.connect(self.path)
            except OSError:
                s.close()
                raise
            self.sock, self.buf = s, bytearray()
        head = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        head += "\r\n"
        self.sent = False
        try:
            self.sock.sendall(head.encode() + (body or b""))
            self.sent = True
            return self._response()
        except (OSError, HTTPError, ValueError):
            self.close()
            raise

    def _response(self) -> tuple[int, bytes]:
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
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


# ---------------------------------------------------------------------------------------
# jobd under test.


# What every jobd started here is configured with (besides its socket, store and workers).
JOBD_TIMINGS = ("fetch:\n  timeout: 10\n"
                "retry:\n  base: 0.2\n  cap: 2\n"
                "grace: 10\n")


class JobdProcess:
    """A jobd this script started (Jobd here, cluster_soak.py's Node): its start, the wait
    for its first answered /v1/health, SIGKILL and SIGTERM by its PID, its log's tail."""

    name = "jobd"

    def __init__(self, binary: str, socket_path: str, config: str, logfile: str):
        self.binary = binary
        self.socket = socket_path
        self.config = config
        self.logfile = logfile
        self.proc: subprocess.Popen | None = None
        self.spawned_at = 0.0

    def spawn(self, *argv: str) -> None:
        """Starts the binary with argv and $JOBD_CONFIG (no other JOBD_ variable), output to the log."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBD_")}
        env["JOBD_CONFIG"] = self.config
        with open(self.logfile, "ab") as logf:
            self.spawned_at = time.monotonic()
            self.proc = subprocess.Popen([self.binary, *argv], env=env, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=logf)
        _track(self.proc)

    def wait_healthy(self, timeout: float, interval: float, since: float | None = None) -> None:
        """Returns once GET /v1/health answers 200, within timeout s of since (default now)."""
        deadline = (time.monotonic() if since is None else since) + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                _untrack(self.proc)
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log: {self.tail_log()}")
            c = Conn(self.socket, timeout=5)
            try:
                if c.request("GET", "/v1/health")[0] == 200:
                    return
            except (OSError, HTTPError, ValueError):
                pass
            finally:
                c.close()
            time.sleep(interval)
        raise RuntimeError(f"{self.name} did not answer /v1/health within {timeout}s; log: {self.tail_log()}")

    def kill(self) -> None:
        """SIGKILL to the jobd we started, by its PID, and reap it."""
        if self.proc.poll() is not None:
            _untrack(self.proc)
            raise RuntimeError(f"{self.name} exited on its own with {self.proc.returncode}; log: {self.tail_log()}")
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        _untrack(self.proc)

    def who(self) -> str:
        return f"{self.name} (pid {self.proc.pid})"

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.who()} did not stop within {timeout}s; SIGKILL")
            self.proc.kill()
            rc = self.proc.wait()
        _untrack(self.proc)
        return rc

    def tail_log(self, n: int = 1500) -> str:
        try:
            with open(self.logfile, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""


class Jobd(JobdProcess):
    def __init__(self, binary: str, workdir: str, workers: int):
        super().__init__(binary, os.path.join(workdir, "jobd.sock"), os.path.join(workdir, "jobd.yaml"),
                         os.path.join(workdir, "jobd.log"))
        self.database = os.path.join(workdir, "jobd.sqlite")
        with open(self.config, "w") as f:
            f.write(
                f"socket:\n  path: {self.socket}\n"
                f"database:\n  path: {self.database}\n  synchronous: full\n"
                f"workers: {workers}\n"
                + JOBD_TIMINGS +
                "log:\n  level: warning\n")

    def start(self, ready_timeout: float = 60.0) -> float:
        """Starts jobd; returns the seconds from exec to the first answered /v1/health."""
        self.spawn()
        self.wait_healthy(ready_timeout, 0.01, since=self.spawned_at)
        return time.monotonic() - self.spawned_at

    def who(self) -> str:
        return f"jobd {self.proc.pid}"


# ---------------------------------------------------------------------------------------
# The page server: counts requests per token.


class PageServer:
    def __init__(self):
        self.hits: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        pages = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                path, _, query = self.path.partition("?")
                parts = path.strip("/").split("/")
                page = parts[0]
                token = parts[1] if len(parts) > 1 else ""
                with pages.lock:
                    pages.hits[token] += 1
                    n = pages.hits[token]
                status, body = 200, b"ok " + token.encode()
                if page == "fail":
                    status, body = 500, b"always fails"
                elif page == "flaky":
                    if n <= 2:
                        status, body = 503, b"not yet"
                elif page == "missing":
                    status, body = 404, b"no such page"
                elif page == "slow":
                    ms = 1000
                    for kv in query.split("&"):
                        if kv.startswith("ms="):
                            ms = int(kv[3:])
                    time.sleep(ms / 1000.0)
                elif page != "ok":
                    status, body = 400, b"unknown page"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # jobd was killed mid-answer

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

            def handle_error(self, request, client_address):
                pass  # a killed jobd resets its connections; that is the point

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()

    def url(self, page: str, token: str, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{page}/{token}" + (f"?{query}" if query else "")

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.hits)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------
# The soak.

TERMINAL = {"succeeded", "failed", "cancelled"}
RETRYABLE = {"timeout", "connect_failed", "dns_failed", "connection_reset", "interrupted", "job_failed"}


def retryable(code: str | None, http_status: int | None) -> bool:
    if code in RETRYABLE:
        return True
    return code == "http_status" and http_status is not None and (http_status >= 500 or http_status == 429)


def rfc3339(t: float) -> str:
    d = _dt.datetime.fromtimestamp(t, _dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def token_of(spec: dict) -> str:
    """The token in a spec: a fetch's URL path /<page>/<token>, a delay's value."""
    if spec["kind"] == "fetch":
        return spec["url"].split("/")[4].split("?")[0]
    return spec["value"]


class BadAnswer(Exception):
    pass


def submit_ids(status: int, data: bytes, count: int) -> list[int]:
    """The ids of a 200/201 answer to a submit of count specs; BadAnswer (what was wrong and
    the answer's start) for any other status, a body that is not JSON, or not one id a spec."""
    try:
        if status not in (200, 201):
            raise ValueError(f"status {status}")
        answer = json.loads(data)
        ids = answer["ids"] if "ids" in answer else [answer["id"]]
        if len(ids) != count:
            raise ValueError(f"{len(ids)} ids for {count} specs")
    except (ValueError, KeyError, TypeError) as e:
        raise BadAnswer(f"{e}: {data[:200]!r}") from None
    return ids


# -- checks over the stored jobs and attempts, shared with cluster_soak.py ------------------


def stored_totals(out: dict, jobs: dict, attempts: dict, hits: dict[str, int], acked, outcome: int):
    """Sets out's stored, attempts, requests, unacked, lost and lost_ids. jobs: id -> row
    with the state second; attempts: job id -> rows with the outcome at index `outcome`.
    Returns the stuck job ids (not terminal) and the attempts still running, (job id, row)."""
    out["stored"] = len(jobs)
    out["attempts"] = sum(len(x) for x in attempts.values())
    out["requests"] = sum(hits.values())
    out["unacked"] = len(set(jobs) - set(acked))
    lost = sorted(set(acked) - set(jobs))
    out["lost"], out["lost_ids"] = len(lost), lost
    running = [(j, a) for j, x in attempts.items() for a in x if a[outcome] == "running"]
    stuck = sorted(j for j, row in jobs.items() if row[1] not in TERMINAL)
    return stuck, running


def count_outcomes(v: collections.Counter, outcomes: list[str]) -> None:
    """One job's interrupted attempts, whether it had one, whether it ran more than once."""
    v["interrupted"] += outcomes.count("interrupted")
    v["jobs_interrupted"] += "interrupted" in outcomes
    v["retried"] += sum(o != "interrupted" for o in outcomes) > 1


def unexplained_runs(runs: list[tuple], max_attempts: int, kind: str, seen: int,
                     places: list[str] | None = None) -> tuple[list[str], int]:
    """Checks (a)-(d) of the header for one job. runs: (number, outcome, error_code,
    http_status) per attempt row, ordered by number; seen: the server's requests for the
    job's token; places: a text per row, put after the attempt in a reason. Returns the
    reasons (none: every run explained) and the attempts that used the budget."""
    why = []
    for i, (number, outcome, code, status) in enumerate(runs[:-1]):
        if outcome == "interrupted":
            continue
        if outcome != "failed" or not retryable(code, status):
            why.append(f"attempt {number} {outcome} {code} {status}{places[i] if places else ''} before the last")
    outcomes = [r[1] for r in runs]
    if outcomes.count("succeeded") > 1:
        why.append("more than one succeeded attempt")
    used = sum(o in ("succeeded", "failed", "cancelled") for o in outcomes)
    if used > max_attempts:
        why.append(f"{used} attempts used of max_attempts {max_attempts}")
    if kind == "fetch" and seen > len(runs):
        why.append(f"the server saw {seen} requests for {len(runs)} attempts")
    return why, used


def numbering_problems(numbers: list[int], attempt_count: int) -> list[str]:
    """Attempt rows not numbered 1..n, or jobs.attempt_count not the number of rows."""
    bad = []
    if numbers != list(range(1, len(numbers) + 1)):
        bad.append(f"attempt numbers {numbers}")
    if attempt_count != len(numbers):
        bad.append(f"attempt_count {attempt_count} with {len(numbers)} attempt rows")
    return bad


def orphan_tokens(hits: dict[str, int], tokens: set[str]) -> list[tuple]:
    """A duplicate for each token the server saw that no stored job carries."""
    return [(f"token {t}", ["requests for a token no stored job has"]) for t in sorted(set(hits) - tokens)]


def report(errors: list[str], v: dict, examples) -> None:
    for e in errors:
        log(f"ERROR {e}")
    for name in examples:
        if v[name]:
            log(f"{name}: {v[name][:10]}")


# -- the workload, shared with cluster_soak.py ----------------------------------------------


class Workload:
    """What Soak and cluster_soak.py's ClusterSoak share: tokens, the submitters, a batch
    sent until it is acknowledged, the acknowledged ids, guarded threads, the drain and
    the end-of-run checks of the clients. A subclass gives make_spec, may_submit,
    connections and target; a target's node is None (one jobd) or has .index and .name."""

    token_prefix = "s"

    def __init__(self, args, seed: int, workdir: str):
        self.args = args
        self.seed = seed
        self.workdir = workdir
        self.lock = threading.Lock()
        self.token_seq = 0
        self.acked: dict[int, tuple] = {}  # id -> (kind, token[, node index])
        self.acked_log = open(os.path.join(workdir, "acked.log"), "w")
        self.recent: collections.deque[int] | None = None  # acknowledged ids, newest last, when kept
        self.failed_submits = 0
        self.cut_off_submits = 0  # sent whole, answer not read whole
        self.busy_answers = 0
        self.bad_answers: list[str] = []
        self.stop = threading.Event()
        self.pages: PageServer | None = None

    def new_token(self) -> str:
        with self.lock:
            self.token_seq += 1
            return f"{self.token_prefix}{self.seed}t{self.token_seq}"

    def retoken(self, spec: dict) -> dict:
        """A keyless spec sent again after a cut-off answer: the same job under a new token,
        so the server's counts stay per stored job."""
        old = token_of(spec)
        new = self.new_token()
        s = dict(spec)
        if s["kind"] == "fetch":
            s["url"] = s["url"].replace(f"/{old}", f"/{new}", 1)
        else:
            s["value"] = new
            if "fail" in s:
                s["fail"] = f"boom {new}"
        return s

    def submitter(self, index: int, deadline: float) -> None:
        rng = random.Random(self.seed * 1000 + index)
        conns = self.connections()
        try:
            for _ in range(10 * self.args.jobs):  # bounded; each round acknowledges >= 1 job
                if self.stop.is_set() or time.monotonic() > deadline:
                    return
                with self.lock:
                    have = len(self.acked)
                if have >= self.args.jobs:
                    return
                if not self.may_submit(have):
                    time.sleep(0.01)
                    continue
                n = 1 if rng.random() < 0.3 else rng.randint(2, 50)
                specs = [self.make_spec(rng) for _ in range(n)]
                self.submit(conns, specs, deadline)
        finally:
            for c in conns.values():
                c.close()

    def post(self, conn: Conn, body: bytes) -> tuple[int, bytes]:
        return conn.request("POST", "/v1/jobs", body)

    def submit(self, conns: dict[int, Conn], specs: list[dict], deadline: float) -> None:
        single = len(specs) == 1
        for _ in range(100000):  # bounded by the deadline too
            if time.monotonic() > deadline or self.stop.is_set():
                return
            conn, node = self.target(conns)
            body = json.dumps(specs[0] if single else {"jobs": specs}, separators=(",", ":")).encode()
            try:
                status, data = self.post(conn, body)
            except (OSError, HTTPError, ValueError) as e:
                # Not acknowledged: jobd is down, or the kill cut the answer off. Keyless
                # specs go again under new tokens; keyed ones unchanged.
                self.submit_failed(e, conn, node, specs)
                specs = [s if "key" in s else self.retoken(s) for s in specs]
                time.sleep(0.05)
                continue
            if status in (429, 503):  # nothing stored
                with self.lock:
                    self.busy_answers += 1
                time.sleep(0.1)
                continue
            try:
                ids = submit_ids(status, data, len(specs))
            except BadAnswer as e:
                with self.lock:
                    self.bad_answers.append(f"{node.name}: {e}" if node else str(e))
                return
            self.acknowledge(ids, specs, node)
            return

    def submit_failed(self, error: Exception, conn: Conn, node, specs: list[dict]) -> None:
        with self.lock:
            self.failed_submits += 1
            self.cut_off_submits += conn.sent

    def acknowledge(self, ids: list[int], specs: list[dict], node) -> None:
        """Records ids as acknowledged (in self.acked and acked.log: "id kind token[ node]")."""
        with self.lock:
            for jid, spec in zip(ids, specs):
                token = token_of(spec)
                if jid not in self.acked:
                    self.acked[jid] = (spec["kind"], token) + ((node.index,) if node else ())
                    self.acked_log.write(f"{jid} {spec['kind']} {token}{f' {node.name}' if node else ''}\n")
                if self.recent is not None:
                    self.recent.append(jid)

    def guarded(self, errors: list[str], fn, *fargs) -> threading.Thread:
        """A thread running fn(*fargs); an exception is appended to errors and stops the run."""
        def body():
            try:
                fn(*fargs)
            except Exception as e:  # reported, and the run fails
                errors.append(f"{fn.__name__}: {e!r}")
                self.stop.set()
        return threading.Thread(target=body, daemon=True)

    def drain(self, socket_path: str | None, errors: list[str], interval: float, settled=None) -> bool:
        """GET /v1/stats every interval s until queued = running = 0 and settled() (when
        given) returns None, not a dict for the last stats, within --drain-timeout;
        what goes wrong is appended to errors. Whether it drained."""
        drained, last = False, None
        drain_deadline = time.monotonic() + self.args.drain_timeout
        conn = Conn(socket_path) if socket_path else None
        while conn and not errors and time.monotonic() < drain_deadline:
            try:
                status, data = conn.request("GET", "/v1/stats")
                last = json.loads(data)
                if status == 200 and last.get("queued") == 0 and last.get("running") == 0:
                    left = settled() if settled else None
                    if left is None:
                        drained = True
                        break
                    last = dict(last, **left)
            except (OSError, HTTPError, ValueError, RuntimeError) as e:
                errors.append(f"stats: {e!r}")
                break
            time.sleep(interval)
        if conn:
            conn.close()
        if not drained and not errors:
            errors.append(f"the queue did not drain within {self.args.drain_timeout}s: {last}")
        return drained

    def close_clients(self) -> dict[str, int]:
        """Closes acked.log and the page server; the server's requests per token."""
        self.acked_log.close()
        hits = self.pages.snapshot()
        self.pages.close()
        return hits

    @staticmethod
    def threads_done(threads: list[threading.Thread], errors: list[str]) -> None:
        for t in threads:
            if t.is_alive():
                errors.append("a client thread did not finish before its deadline")
                break

    def submit_errors(self, errors: list[str]) -> None:
        if len(self.acked) < self.args.jobs:
            errors.append(f"only {len(self.acked)} of {self.args.jobs} jobs were acknowledged")
        if self.bad_answers:
            errors.append(f"{len(self.bad_answers)} bad submit answers, e.g. {self.bad_answers[0]}")


class Soak(Workload):
    def __init__(self, args, workdir: str):
        super().__init__(args, args.seed, workdir)
        binary = os.path.join(workdir, "jobd")
        shutil.copy2(args.jobd, binary)
        self.jobd = Jobd(binary, workdir, args.workers)
        self.pages = PageServer()
        self.recent = collections.deque(maxlen=400)
        self.inflight = 0  # submits between send and answer
        self.kills_mid_submit = 0
        self.cancel_acked: set[int] = set()
        self.cancel_running: dict[int, float] = {}  # id -> wall time of the first 'running' answer
        self.cancel_requests = 0
        self.kills = 0
        self.restart_s: list[float] = []
        self.kill_plan = (0, time.monotonic(), 1.0)  # (kills done, cycle start, planned uptime)
        self.kills_done = threading.Event()
        self.submitters_done = threading.Event()

    # -- workload ------------------------------------------------------------------------
    def make_spec(self, rng: random.Random) -> dict:
        token = self.new_token()
        spec: dict = {}
        if rng.random() < 0.6:
            r = rng.random()
            page = ("ok" if r < 0.5 else "slow" if r < 0.65 else "flaky" if r < 0.8 else "fail" if r < 0.93
                    else "missing")
            query = ""
            if page == "slow":
                query = f"ms={rng.randint(500, 2000)}"
                if rng.random() < 0.3:
                    spec["timeout"] = 1.0
            spec.update({"kind": "fetch", "url": self.pages.url(page, token, query)})
        else:
            r = rng.random()
            seconds = 0 if r < 0.5 else round(rng.uniform(0, 0.5), 3) if r < 0.8 else round(rng.uniform(0.5, 2), 3)
            spec.update({"kind": "delay", "seconds": seconds, "value": token})
            if rng.random() < 0.25:
                spec["fail"] = f"boom {token}"
        spec["max_attempts"] = rng.choice([1, 1, 2, 3, 4])
        if rng.random() < 0.6:
            spec["priority"] = rng.randint(-5, 5)
        if rng.random() < 0.1:
            spec["run_at"] = rfc3339(time.time() + rng.uniform(1, 5))
        if rng.random() < 0.2:
            spec["key"] = f"soak-{token}"
        if rng.random() < 0.03:
            spec["on_interrupt"] = "fail"
        return spec

    def allowed(self) -> int:
        """How many jobs may be acknowledged by now: the share of --jobs that matches the
        share of the kill schedule elapsed (plus a little slack)."""
        if self.kills_done.is_set():
            return self.args.jobs
        k, start, uptime = self.kill_plan
        # Past the planned uptime (the killer waiting for a submit in flight) it grows on.
        frac = (k + min(1.5, max(0.0, (time.monotonic() - start) / uptime))) / self.args.kills
        return min(self.args.jobs, int(self.args.jobs * frac) + 20)

    def may_submit(self, have: int) -> bool:
        return have < self.allowed()

    def connections(self) -> dict[int, Conn]:
        return {0: Conn(self.jobd.socket)}

    def target(self, conns: dict[int, Conn]) -> tuple[Conn, None]:
        return conns[0], None

    def post(self, conn: Conn, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.inflight += 1
        try:
            return super().post(conn, body)
        finally:
            with self.lock:
                self.inflight -= 1

    def canceller(self, deadline: float) -> None:
        rng = random.Random(self.args.seed * 1000 + 999)
        conn = Conn(self.jobd.socket)
        try:
            for _ in range(10 * self.args.jobs):  # bounded
                if self.stop.is_set() or self.submitters_done.is_set() or time.monotonic() > deadline:
                    return
                time.sleep(rng.uniform(0.005, 0.03))
                with self.lock:
                    if not self.recent or self.cancel_requests * 15 >= len(self.acked):
                        continue
                    jid = rng.choice(self.recent)
                    self.cancel_requests += 1
                try:
                    status, data = conn.request("POST", f"/v1/jobs/{jid}/cancel")
                except (OSError, HTTPError, ValueError):
                    continue
                if status == 200:
                    state = json.loads(data).get("state")
                    with self.lock:
                        if state == "cancelled":
                            self.cancel_acked.add(jid)
                        else:
                            self.cancel_running.setdefault(jid, time.time())
        finally:
            conn.close()

    def killer(self, deadline: float) -> None:
        rng = random.Random(self.args.seed * 1000 + 777)
        for k in range(self.args.kills):
            if self.stop.is_set() or time.monotonic() > deadline:
                return
            uptime = rng.uniform(self.args.min_uptime, self.args.max_uptime)
            start = time.monotonic()
            self.kill_plan = (k, start, uptime)
            while time.monotonic() < start + uptime and not self.stop.is_set():
                time.sleep(min(0.01, max(0.0, start + uptime - time.monotonic())))
            if rng.random() < 0.5:
                # Every other kill waits (at most 0.5 s) for a submit in flight and lands
                # 0-3 ms into it: before the commit, between commit and answer, or mid-answer.
                for _ in range(1000):
                    with self.lock:
                        busy = self.inflight > 0
                    if busy:
                        time.sleep(rng.uniform(0, 0.003))
                        self.kills_mid_submit += 1
                        break
                    time.sleep(0.0005)
            self.jobd.kill()
            self.kills += 1
            with self.lock:
                acked = len(self.acked)
            ready = self.jobd.start()
            self.restart_s.append(ready)
            if (k + 1) % max(1, self.args.kills // 10) == 0 or k + 1 == self.args.kills:
                log(f"kill {k + 1}/{self.args.kills} after {uptime:.2f}s up; acknowledged {acked}; "
                    f"restart ready in {ready:.2f}s")
        self.kill_plan = (self.args.kills, time.monotonic(), 1.0)

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> int:
        a = self.args
        t_start = time.monotonic()
        kill_deadline = t_start + a.kill_phase_timeout
        self.jobd.start()
        log(f"jobd {self.jobd.proc.pid} up; page server on 127.0.0.1:{self.pages.port}; workdir {self.workdir}")
        errors: list[str] = []
        subs = [self.guarded(errors, self.submitter, i, kill_deadline + a.drain_timeout) for i in range(3)]
        canc = self.guarded(errors, self.canceller, kill_deadline + a.drain_timeout)
        kill = self.guarded(errors, self.killer, kill_deadline)
        for t in subs + [canc, kill]:
            t.start()
        kill.join(timeout=a.kill_phase_timeout + 120)
        self.kills_done.set()
        for t in subs:
            t.join(timeout=max(1.0, kill_deadline + a.drain_timeout - time.monotonic()))
        self.submitters_done.set()
        canc.join(timeout=30)
        t_submitted = time.monotonic()
        log(f"kills={self.kills}; acknowledged {len(self.acked)}; draining")

        drained = self.drain(self.jobd.socket, errors, 0.1)
        t_drained = time.monotonic()
        rc = self.jobd.stop()
        if rc != 0:
            errors.append(f"jobd exited {rc} after SIGTERM; log: {self.jobd.tail_log()}")
        hits = self.close_clients()
        seconds = time.monotonic() - t_start
        v = self.verify(hits)
        self.threads_done(subs + [canc, kill], errors)
        if self.kills < a.kills:
            errors.append(f"only {self.kills} of {a.kills} kills happened")
        self.submit_errors(errors)
        ok = (not errors and v["lost"] == 0 and v["stuck"] == 0 and v["unexplained_duplicates"] == 0
              and v["integrity"] == "ok" and v["inconsistent"] == 0 and v["cancel_lost"] == 0)
        report(errors, v, ("lost_ids", "stuck_ids", "dup_examples", "inconsistent_examples", "cancel_lost_ids"))
        restart = sorted(self.restart_s) or [0.0]
        print(f"kills={self.kills} jobs={len(self.acked)} lost={v['lost']} stuck={v['stuck']} "
              f"unexplained_duplicates={v['unexplained_duplicates']} integrity={v['integrity']} "
              f"inconsistent={v['inconsistent']} cancel_lost={v['cancel_lost']} bad_answers={len(self.bad_answers)} "
              f"stored={v['stored']} stored_unacknowledged={v['unacked']} succeeded={v['succeeded']} "
              f"failed={v['failed']} cancelled={v['cancelled']} "
              f"failed_on_interrupt_fail={v['failed_interrupted_policy_fail']} "
              f"failed_interrupted_10x={v['failed_interrupted_10x']} "
              f"attempts={v['attempts']} interrupted_attempts={v['interrupted']} "
              f"jobs_with_interrupted_attempt={v['jobs_interrupted']} retried_jobs={v['retried']} "
              f"duplicate_runs_explained={v['dup_runs']} "
              f"server_requests={v['requests']} cancel_acknowledged={len(self.cancel_acked)} "
              f"cancel_running={len(self.cancel_running)} cancel_running_overtaken={v['cancel_overtaken']} "
              f"cancel_running_rerun={v['cancel_rerun']} "
              f"kills_mid_submit={self.kills_mid_submit} failed_submits={self.failed_submits} "
              f"cut_off_submits={self.cut_off_submits} busy_answers={self.busy_answers} "
              f"restart_p50_s={restart[len(restart) // 2]:.2f} restart_max_s={restart[-1]:.2f} "
              f"drained={'yes' if drained else 'no'} submit_s={t_submitted - t_start:.1f} "
              f"drain_s={t_drained - t_submitted:.1f} seconds={seconds:.1f} seed={a.seed} "
              f"result={'PASS' if ok else 'FAIL'}", flush=True)
        return 0 if ok else 1

    # -- verification ----------------------------------------------------------------------
    def verify(self, hits: dict[str, int]) -> dict:
        v = collections.Counter()
        out: dict = {"lost_ids": [], "stuck_ids": [], "dup_examples": [], "inconsistent_examples": [],
                     "cancel_lost_ids": []}
        db = sqlite3.connect(f"file:{self.jobd.database}?mode=ro", uri=True, timeout=30)
        try:
            out["integrity"] = ",".join(r[0] for r in db.execute("PRAGMA integrity_check").fetchall())
            jobs = {r[0]: r[1:] for r in db.execute(
                "SELECT id, kind, state, spec, max_attempts, attempt_count, error_code, on_interrupt, "
                "interrupted_count FROM jobs")}
            attempts: dict[int, list[tuple]] = collections.defaultdict(list)
            for r in db.execute("SELECT job_id, number, outcome, error_code, error_http_status, started_at "
                                "FROM attempts ORDER BY job_id, number"):
                attempts[r[0]].append(r[1:])
        finally:
            db.close()
        stuck, running = stored_totals(out, jobs, attempts, hits, self.acked, outcome=1)
        out["stuck"], out["stuck_ids"] = len(stuck) + len(running), stuck
        tokens: set[str] = set()
        dups, incons = [], []
        for jid, (kind, state, spec_text, max_attempts, attempt_count, error_code, on_interrupt,
                  interrupted_count) in jobs.items():
            v[state] += 1
            if state == "failed" and error_code == "interrupted":
                # on_interrupt: fail, or interrupted JobStore.maxInterruptions (10) times
                v["failed_interrupted_policy_fail" if on_interrupt == "fail" else "failed_interrupted_10x"] += 1
            atts = attempts.get(jid, [])
            token = token_of(json.loads(spec_text))
            tokens.add(token)
            outcomes = [a[1] for a in atts]
            count_outcomes(v, outcomes)
            seen = hits.get(token, 0)
            why, used = unexplained_runs([a[:4] for a in atts], max_attempts, kind, seen)
            if kind == "fetch":
                v["dup_runs"] += max(0, seen - used)  # runs beyond the counted attempts
            if why:
                dups.append((jid, why))
            bad = numbering_problems([a[0] for a in atts], attempt_count)
            if (state == "succeeded") != (bool(outcomes) and outcomes[-1] == "succeeded"):
                bad.append(f"state {state} with attempts {outcomes}")
            answered = sum(a[1] == "succeeded" or a[3] is not None for a in atts)
            if kind == "fetch" and answered > seen:
                bad.append(f"{answered} HTTP answers recorded, {seen} requests seen")
            if bad:
                incons.append((jid, bad))
        dups += orphan_tokens(hits, tokens)
        out["unexplained_duplicates"], out["dup_examples"] = len(dups), dups
        out["inconsistent"], out["inconsistent_examples"] = len(incons), incons
        cancel_lost = sorted(j for j in self.cancel_acked if jobs.get(j, (None, None))[1] != "cancelled")
        out["cancel_lost"], out["cancel_lost_ids"] = len(cancel_lost), cancel_lost
        overtaken = sorted(j for j in set(self.cancel_running) - self.cancel_acked
                           if jobs.get(j, (None, None))[1] != "cancelled")
        rerun = [j for j in overtaken if any(a[4] > self.cancel_running[j] for a in attempts.get(j, []))]
        out["cancel_overtaken"], out["cancel_rerun"] = len(overtaken), len(rerun)
        for j in rerun[:5]:
            log(f"cancel answered 'running' for job {j} at {self.cancel_running[j]:.3f}; a later attempt started "
                f"and it ended {jobs[j][1]}; attempts {[(a[0], a[1], round(a[4], 3)) for a in attempts[j]]}")
        for key in ("succeeded", "failed", "cancelled", "failed_interrupted_policy_fail", "failed_interrupted_10x",
                    "interrupted", "jobs_interrupted",
                    "retried", "dup_runs"):
            out[key] = v[key]
        return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jobd", required=True, help="the jobd binary (copied into the temp directory)")
    p.add_argument("--kills", type=int, default=12, help="SIGKILLs (default %(default)s)")
    p.add_argument("--jobs", type=int, default=3000, help="jobs to acknowledge (default %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="workload and kill-timing seed (default: random)")
    p.add_argument("--min-uptime", type=float, default=0.3, help="shortest uptime before a kill, s")
    p.add_argument("--max-uptime", type=float, default=3.0, help="longest uptime before a kill, s")
    p.add_argument("--workers", type=int, default=64, help="jobd's worker limit (default %(default)s)")
    p.add_argument("--kill-phase-timeout", type=float, default=None,
                   help="deadline of the kill phase, s (default: max-uptime + 1.5 s per kill, + 30)")
    p.add_argument("--drain-timeout", type=float, default=None,
                   help="deadline of the final submits and of the drain, s (default 60, 300 from 20 kills)")
    p.add_argument("--tmp", default=None, help="where the temp directory goes (default $TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the temp directory (also kept on failure)")
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randint(1, 999999)
    if args.kills < 1 or args.jobs < 1 or not 0 < args.min_uptime <= args.max_uptime:
        p.error("--kills and --jobs must be >= 1, and 0 < --min-uptime <= --max-uptime")
    if args.kill_phase_timeout is None:
        args.kill_phase_timeout = args.kills * (args.max_uptime + 1.5) + 30
    if args.drain_timeout is None:
        args.drain_timeout = 300.0 if args.kills >= 20 else 60.0
    if not os.access(args.jobd, os.X_OK):
        sys.exit(f"soak.py: no jobd binary at {args.jobd}")
    workdir = tempfile.mkdtemp(prefix="jobd-soak-", dir=args.tmp)
    log(f"soak: kills={args.kills} jobs={args.jobs} seed={args.seed} jobd={args.jobd}")
    rc = 1
    soak = None
    try:
        soak = Soak(args, workdir)
        rc = soak.run()
    finally:
        _stop_all_children()
        if rc == 0 and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir} (jobd.log, jobd.sqlite, acked.log)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
