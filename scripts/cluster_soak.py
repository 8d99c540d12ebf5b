#!/usr/bin/env python3
"""jobd cluster kill soak (issue 11): 3 nodes on one PostgreSQL, one killed with SIGKILL mid-run.

What runs (stdlib only; scripts/cluster-soak.sh wraps it; the submit loop, the jobd process,
Conn, PageServer, log, the child tracking and the shared checks come from scripts/soak.py):

- PostgreSQL: a private cluster per seed, Debian's server (/usr/lib/postgresql/<newest>/bin,
  or $JOBD_PG_BIN): `initdb -U jobd --auth=trust` into <workdir>/pg (run as `postgres`
  through `runuser` when this runs as root), postgresql.auto.conf with
  listen_addresses='127.0.0.1', a free port, unix_socket_directories=<workdir>/pg/sock,
  fsync=on, max_connections=300; `pg_ctl start -w` (output to <workdir>/pg/server.log,
  a file: the postmaster inherits it), then `CREATE DATABASE jobd`. At exit, also on
  SIGINT/SIGTERM/SIGHUP: `pg_ctl stop -m immediate` (else SIGKILL to the postmaster's PID
  from postmaster.pid), and the directory is removed after a pass.
- 3 jobd nodes (the binary copied into the temporary directory first: a rebuild of the
  shared .build cannot swap it): `jobd --socket <workdir>/nN.sock --database-url
  postgres://jobd@127.0.0.1:PORT/jobd?sslmode=disable --node-name node-N`, $JOBD_CONFIG a
  temporary YAML: workers 64, fetch.timeout 10 s, retry.base 0.2 s, retry.cap 2 s, grace
  10 s, node.lease --lease (3 s), log level info (<workdir>/node-N.log). Ready when GET
  /v1/health answers 200 (within 60 s).
- soak.PageServer on 127.0.0.1 for the fetches; every URL carries a token unique per job
  spec and the server counts requests per token.
- 3 submitters (keep-alive connections, one per node each) send singles (30 %) and batches
  of 2-50 specs, each batch to the next live node round-robin: 60 % delays of 0-200 ms
  (max_attempts 1-2), 15 % delays of 0-200 ms with `fail` (the retryable `job_failed`;
  max_attempts 2-3), 25 % fetches (ok 50 %, max_attempts 1-2; flaky 30 %: 503 twice per
  token, then 200, max_attempts 1-4; fail 20 %: always 500, max_attempts 1-3); priority
  -3..3 on 30 %, an idempotency `key` on 10 %. An id is *acknowledged* only when a
  200/201 answer was read in full. A submit that fails (node dead, answer cut off, 30 s
  without an answer) goes to the next live node: keyed specs unchanged, keyless ones under
  fresh tokens (a copy stored without an answer keeps its own token and is checked like
  every stored job). 429/503 answers are sent again after 0.1 s.
- The kill: submits may run ahead to 60 % of --jobs until it happens. Once half are
  acknowledged and every node runs attempts (psql on running `jobs`, within 60 s), the victim
  (node-1..3, chosen by the seed; it may be the leader) gets SIGKILL by its PID and is
  reaped; kill time = time.time() just before the signal. The rest of the jobs go to the
  two survivors only; the victim is not restarted.
- Drain: GET /v1/stats on a survivor every 0.2 s until queued = running = 0 and psql
  finds no job or attempt left unfinished (within --drain-timeout, 300 s); then SIGTERM
  to each survivor (each must exit 0) and the database is read with psql.

Checks (each must be 0; else result=FAIL and exit status 1):

- lost: acknowledged ids with no row in `jobs`.
- stuck: stored jobs not succeeded/failed/cancelled, plus attempts still `running`.
- unexplained_duplicates: as soak.py's (a)-(d), per job, attempts ordered by number:
  (a) an attempt other than the last is not `interrupted` and not `failed` with a
  retryable error; (b) more than one `succeeded` attempt; (c) more non-interrupted
  attempts than max_attempts; (d) fetches: more server requests for the token than
  attempt rows. Each token the server saw that no stored job carries counts once more.
- stale_finishes: attempts of the killed node with an outcome other than `interrupted`
  and finished_at after the moment the killed process was reaped (a finish written by an
  attempt that no longer owned its job); jobs whose state disagrees with their last
  attempt (succeeded needs a last attempt succeeded and a result; failed a last attempt
  failed with the job's error code, or interrupted with on_interrupt fail / 10
  interruptions; no job here is cancelled); attempt numbers not 1..n, or attempt_count
  not the number of rows.
- rescue_late: the killed node's rescued attempts (outcome interrupted) must have
  finished_at - kill time <= lease + 2 s (rescue_seconds_max, rescue_seconds_p50).
- no_rescue: at least one rescued attempt is needed, else the kill found the node idle
  and the run proves nothing (a failed run of the harness, not of jobd).
- wrong_outcome: a job ended otherwise than its spec says (delay: succeeded; delay with
  fail: failed job_failed; ok page: succeeded; fail page: failed http_status 500; flaky
  with max_attempts >= 3: succeeded); retries_lost: a job failed with a retryable error
  while it had attempts left.
- also: all jobs acknowledged, the queue drained, the survivors exit 0 after SIGTERM,
  every thread done before its deadline, no bad submit answer (other than
  200/201/429/503 or not one id per spec).

Extras on the line: the victim, whether it led, the leader after, attempts running on
the victim right after the kill, interrupted attempts of the survivors (a survivor that
missed its own lease renewal under load; reported, not a failure), submits cut off or
timed out, stored/unacknowledged counts, phase durations.

Output: progress on stderr ("# ..."), one line per seed on stdout, e.g.

    nodes=3 jobs=2000 killed=node-2 lease=3 rescued_attempts=64 rescue_seconds_max=3.1
      rescue_seconds_p50=3.0 lost=0 stuck=0 unexplained_duplicates=0 stale_finishes=0 ...
      seconds=41.0 seed=7 result=PASS

and with --seeds K > 1 a final line `seeds=K passed=P failed=F ... result=PASS|FAIL`.
A seed's directory (node logs, acked.log, the PostgreSQL data and server.log) is removed
after a pass and kept and named after a failure (or with --keep).

Usage: cluster_soak.py --jobd PATH [--jobs N] [--seed S] [--seeds K] [--lease S]
                       [--workers N] [--submit-timeout S] [--drain-timeout S]
                       [--tmp DIR] [--keep]
"""
from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import glob
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402  (the shared workload, checks, jobd process, child tracking)
from soak import TERMINAL, Conn, PageServer, log, retryable, token_of  # noqa: E402

EXAMPLES = ("lost_ids", "stuck_ids", "dup_examples", "stale_examples", "late_examples", "wrong_examples",
            "retries_lost_examples", "survivor_interrupted_examples")

NODES = 3
SIGINT_EXIT = 130


# ---------------------------------------------------------------------------------------
# A private PostgreSQL cluster.


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def find_pg_bin() -> str:
    if os.environ.get("JOBD_PG_BIN"):
        return os.environ["JOBD_PG_BIN"]
    versions = sorted((int(os.path.basename(p)) for p in glob.glob("/usr/lib/postgresql/*")
                       if os.path.basename(p).isdigit()))
    for v in reversed(versions):
        b = f"/usr/lib/postgresql/{v}/bin"
        if os.access(f"{b}/initdb", os.X_OK):
            return b
    sys.exit("cluster_soak.py: PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb "
             "(apt-get install postgresql, or set JOBD_PG_BIN)")


class Postgres:
    def __init__(self, bin_dir: str, directory: str):
        self.bin = bin_dir
        self.dir = directory
        self.data = os.path.join(directory, "data")
        self.sock = os.path.join(directory, "sock")
        self.logfile = os.path.join(directory, "server.log")
        self.outfile = os.path.join(directory, "tools.log")
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.port = 0
        self.started = False

    def _cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [os.path.join(self.bin, tool), *args]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def _tool(self, tool: str, *args: str, timeout: float = 120) -> None:
        """Runs a PostgreSQL tool with its output appended to a file (never a pipe: pg_ctl
        start leaves the postmaster running with what it inherited)."""
        with open(self.outfile, "ab") as out:
            rc = subprocess.run(self._cmd(tool, *args), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                cwd=self.dir, timeout=timeout).returncode
        if rc != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} exited {rc}: {self.tail()}")

    def tail(self, n: int = 3000) -> str:
        text = ""
        for path in (self.outfile, self.logfile):
            with contextlib.suppress(OSError), open(path, "rb") as f:
                text += f"\n--- {path}:\n" + f.read()[-n:].decode(errors="replace")
        return text

    def start(self) -> None:
        os.makedirs(self.sock, exist_ok=True)
        if self.run_as:
            subprocess.run(["chown", "-R", self.run_as, self.dir], check=True, timeout=60)
        self._tool("initdb", "-D", self.data, "-U", "jobd", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.port = free_port()
        with open(os.path.join(self.data, "postgresql.auto.conf"), "w") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.sock}'\nfsync = on\nmax_connections = 300\n"
                    "shared_buffers = 128MB\nlog_min_messages = warning\n")
        if self.run_as:
            subprocess.run(["chown", "-R", self.run_as, self.dir], check=True, timeout=60)
        self.started = True  # from here on, stop() has something to stop
        self._tool("pg_ctl", "-D", self.data, "-l", self.logfile, "-w", "-t", "60", "start", timeout=90)
        self.psql("CREATE DATABASE jobd", database="postgres")

    def url(self) -> str:
        return f"postgres://jobd@127.0.0.1:{self.port}/jobd?sslmode=disable"

    def psql(self, sql: str, database: str = "jobd", timeout: float = 120) -> list[list[str]]:
        cmd = self._cmd("psql", "-X", "-h", self.sock, "-p", str(self.port), "-U", "jobd", "-d", database,
                        "-qAt", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql)
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.dir,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"psql exited {r.returncode}: {r.stderr.strip()[:500]} (query: {sql[:200]})")
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        try:
            self._tool("pg_ctl", "-D", self.data, "-w", "-t", "30", "-s", "stop", "-m", "immediate", timeout=60)
            return
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log(f"pg_ctl stop failed ({e}); SIGKILL to the postmaster")
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                pid = int(f.readline().strip())
            os.kill(pid, signal.SIGKILL)  # the postmaster this script started, by its PID


_clusters: list[Postgres] = []


def _stop_clusters() -> None:
    soak._stop_all_children()  # the nodes first, then their database
    for pg in list(_clusters):
        with contextlib.suppress(Exception):
            pg.stop()
    _clusters.clear()


atexit.register(_stop_clusters)


# ---------------------------------------------------------------------------------------
# A jobd node.


class Node(soak.JobdProcess):
    def __init__(self, index: int, binary: str, workdir: str, url: str, args):
        super().__init__(binary, os.path.join(workdir, f"n{index}.sock"), os.path.join(workdir, f"node-{index}.yaml"),
                         os.path.join(workdir, f"node-{index}.log"))
        self.index = index
        self.name = f"node-{index}"
        self.url = url
        self.alive = False
        with open(self.config, "w") as f:
            f.write(f"workers: {args.workers}\n"
                    + soak.JOBD_TIMINGS +
                    f"node:\n  lease: {args.lease:g}\n"
                    "log:\n  level: info\n")

    def spawn(self) -> None:
        super().spawn("--socket", self.socket, "--database-url", self.url, "--node-name", self.name)

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.wait_healthy(timeout, 0.02)
        self.alive = True

    def stop(self, timeout: float = 60.0) -> int:
        if not self.alive:
            return 0
        rc = super().stop(timeout)
        self.alive = False
        return rc


# ---------------------------------------------------------------------------------------
# One seed's run.


class ClusterSoak(soak.Workload):
    token_prefix = "c"

    def __init__(self, args, seed: int, workdir: str, binary: str, pg_bin: str):
        super().__init__(args, seed, workdir)
        self.pg = Postgres(pg_bin, os.path.join(workdir, "pg"))
        self.binary = binary
        self.nodes: list[Node] = []
        self.rr = 0
        self.specs: dict[str, dict] = {}  # token -> spec, every spec ever sent
        self.timed_out_submits = 0
        self.killed = threading.Event()
        self.victim: Node | None = None
        self.kill_time = 0.0
        self.reaped_time = 0.0
        self.kill_acked = 0
        self.running_at_kill: dict[str, int] = {}
        self.leader_before = ""
        self.leader_after = ""

    # -- workload ------------------------------------------------------------------------
    def make_spec(self, rng: random.Random) -> dict:
        token = self.new_token()
        r = rng.random()
        seconds = 0 if rng.random() < 0.15 else round(rng.uniform(0, 0.2), 3)
        if r < 0.60:
            spec = {"kind": "delay", "seconds": seconds, "value": token, "max_attempts": rng.choice([1, 1, 2])}
        elif r < 0.75:
            spec = {"kind": "delay", "seconds": seconds, "value": token, "fail": f"boom {token}",
                    "max_attempts": rng.choice([2, 3])}
        else:
            q = rng.random()
            page, attempts = (("ok", [1, 2]) if q < 0.5 else ("flaky", [1, 2, 3, 4]) if q < 0.8 else ("fail", [1, 2, 3]))
            spec = {"kind": "fetch", "url": self.pages.url(page, token), "max_attempts": rng.choice(attempts)}
        if rng.random() < 0.3:
            spec["priority"] = rng.randint(-3, 3)
        if rng.random() < 0.1:
            spec["key"] = f"csoak-{token}"
        with self.lock:
            self.specs[token] = spec
        return spec

    def retoken(self, spec: dict) -> dict:
        s = super().retoken(spec)
        with self.lock:
            self.specs[token_of(s)] = s
        return s

    def live_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.alive and n is not self.victim]

    def next_node(self) -> Node:
        with self.lock:
            live = self.live_nodes()
            self.rr += 1
            return live[self.rr % len(live)]

    def may_submit(self, have: int) -> bool:
        return have < int(self.args.jobs * 0.6) or self.killed.is_set()  # until the kill, up to 60 %

    def connections(self) -> dict[int, Conn]:
        return {n.index: Conn(n.socket) for n in self.nodes}

    def target(self, conns: dict[int, Conn]) -> tuple[Conn, Node]:
        node = self.next_node()  # each batch to the next live node
        return conns[node.index], node

    def submit_failed(self, error: Exception, conn: Conn, node: Node, specs: list[dict]) -> None:
        super().submit_failed(error, conn, node, specs)
        if isinstance(error, TimeoutError):
            with self.lock:
                self.timed_out_submits += 1
            log(f"a submit of {len(specs)} specs to {node.name} got no answer in {conn.timeout:.0f}s")

    def running_per_node(self) -> dict[str, int]:
        # Schema v3: a running attempt lives on its job's row until it ends.
        rows = self.pg.psql("SELECT node_name, count(*) FROM jobs WHERE state = 'running' GROUP BY node_name")
        return {r[0]: int(r[1]) for r in rows}

    def killer(self, deadline: float) -> None:
        half = self.args.jobs // 2
        while time.monotonic() < deadline and not self.stop.is_set():
            with self.lock:
                if len(self.acked) >= half:
                    break
            time.sleep(0.01)
        else:
            raise RuntimeError(f"half the jobs were not acknowledged within the submit deadline ({len(self.acked)})")
        busy_deadline = time.monotonic() + 60
        running: dict[str, int] = {}
        while time.monotonic() < busy_deadline and not self.stop.is_set():
            running = self.running_per_node()
            if all(running.get(n.name, 0) > 0 for n in self.nodes):
                break
            time.sleep(0.05)
        else:
            log(f"not every node ran attempts within 60 s ({running}); killing anyway")
        rows = self.pg.psql("SELECT name FROM leader")
        self.leader_before = rows[0][0] if rows else ""
        with self.lock:
            self.kill_acked = len(self.acked)
            victim = self.nodes[random.Random(self.seed * 1000 + 555).randrange(NODES)]
            self.victim = victim  # from now on no submit goes to it
        self.kill_time = time.time()
        victim.kill()
        self.reaped_time = time.time()
        victim.alive = False
        self.killed.set()
        self.running_at_kill = self.running_per_node()
        log(f"SIGKILL {victim.name} (pid {victim.proc.pid}{', the leader' if self.leader_before == victim.name else ''}) "
            f"with {self.kill_acked} acknowledged; running then: {running}; right after: {self.running_at_kill}")

    def unfinished_in_db(self) -> dict | None:
        """None once no job or attempt is left unfinished in the database (the drain's last check)."""
        left = self.pg.psql("SELECT (SELECT count(*) FROM jobs WHERE state NOT IN "
                            "('succeeded','failed','cancelled')) + (SELECT count(*) FROM attempts "
                            "WHERE outcome = 'running')")  # always 0 on schema v3 (a CHECK), kept as a guard
        return None if left and left[0][0] == "0" else {"unfinished_in_db": left}

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> int:
        a = self.args
        t_start = time.monotonic()
        _clusters.append(self.pg)
        self.pg.start()
        t_pg = time.monotonic()
        self.pages = PageServer()
        self.nodes = [Node(i, self.binary, self.workdir, self.pg.url(), a) for i in range(1, NODES + 1)]
        for n in self.nodes:
            n.spawn()
        for n in self.nodes:
            n.wait_ready()
        t_up = time.monotonic()
        log(f"seed {self.seed}: PostgreSQL on 127.0.0.1:{self.pg.port} ({t_pg - t_start:.1f}s), nodes "
            f"{[n.proc.pid for n in self.nodes]} up ({t_up - t_pg:.1f}s), page server on 127.0.0.1:{self.pages.port}, "
            f"workdir {self.workdir}")
        errors: list[str] = []
        submit_deadline = time.monotonic() + a.submit_timeout
        subs = [self.guarded(errors, self.submitter, i, submit_deadline) for i in range(3)]
        kill = self.guarded(errors, self.killer, submit_deadline)
        for t in subs + [kill]:
            t.start()
        kill.join(timeout=max(1.0, submit_deadline + 90 - time.monotonic()))
        for t in subs:
            t.join(timeout=max(1.0, submit_deadline + 30 - time.monotonic()))
        t_submitted = time.monotonic()
        log(f"acknowledged {len(self.acked)}; draining")

        survivors = self.live_nodes()
        drained = self.drain(survivors[0].socket if survivors else None, errors, 0.2, self.unfinished_in_db)
        t_drained = time.monotonic()
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            rows = self.pg.psql("SELECT name FROM leader")  # a leader that stops gracefully resigns
            self.leader_after = rows[0][0] if rows else ""
        for n in survivors:
            rc = n.stop()
            if rc != 0:
                errors.append(f"{n.name} exited {rc} after SIGTERM; log: {n.tail_log()}")
        hits = self.close_clients()
        self.threads_done(subs + [kill], errors)
        if self.victim is None or not self.killed.is_set():
            errors.append("no node was killed")
        self.submit_errors(errors)
        v = self.verify(hits)
        seconds = time.monotonic() - t_start
        if v["rescued"] == 0:
            errors.append("no rescued attempt: the killed node ran nothing when it died (a failed run of the "
                          "harness, not a finding about jobd)")
        checks = ("lost", "stuck", "unexplained_duplicates", "stale_finishes", "rescue_late", "wrong_outcome",
                  "retries_lost")
        ok = not errors and all(v[c] == 0 for c in checks)
        soak.report(errors, v, EXAMPLES)
        victim = self.victim.name if self.victim else "none"
        print(f"nodes={NODES} jobs={len(self.acked)} killed={victim} lease={a.lease:g} "
              f"rescued_attempts={v['rescued']} rescue_seconds_max={v['rescue_max']:.2f} "
              f"rescue_seconds_p50={v['rescue_p50']:.2f} lost={v['lost']} stuck={v['stuck']} "
              f"unexplained_duplicates={v['unexplained_duplicates']} stale_finishes={v['stale_finishes']} "
              f"rescue_late={v['rescue_late']} wrong_outcome={v['wrong_outcome']} retries_lost={v['retries_lost']} "
              f"bad_answers={len(self.bad_answers)} killed_was_leader={'yes' if self.leader_before == victim else 'no'} "
              f"leader_after={v['leader_after'] or 'none'} acked_at_kill={self.kill_acked} "
              f"running_on_victim_after_kill={self.running_at_kill.get(victim, 0)} "
              f"survivor_interrupted={v['survivor_interrupted']} stored={v['stored']} "
              f"stored_unacknowledged={v['unacked']} succeeded={v['succeeded']} failed={v['failed']} "
              f"cancelled={v['cancelled']} attempts={v['attempts']} interrupted_attempts={v['interrupted']} "
              f"retried_jobs={v['retried']} duplicate_runs_explained={v['dup_runs']} server_requests={v['requests']} "
              f"failed_submits={self.failed_submits} cut_off_submits={self.cut_off_submits} "
              f"timed_out_submits={self.timed_out_submits} busy_answers={self.busy_answers} "
              f"drained={'yes' if drained else 'no'} setup_s={t_up - t_start:.1f} "
              f"submit_s={t_submitted - t_up:.1f} drain_s={t_drained - t_submitted:.1f} seconds={seconds:.1f} "
              f"seed={self.seed} result={'PASS' if ok else 'FAIL'}", flush=True)
        return 0 if ok else 1

    # -- verification ----------------------------------------------------------------------
    def verify(self, hits: dict[str, int]) -> dict:
        v = collections.Counter()
        out: dict = {k: [] for k in EXAMPLES}
        jobs = {}
        for r in self.pg.psql(
                "SELECT id, kind, state, max_attempts, attempt_count, interrupted_count, on_interrupt, "
                "coalesce(error_code, ''), coalesce(error_http_status::text, ''), (result IS NOT NULL)::int, "
                "coalesce(spec::jsonb ->> 'url', spec::jsonb ->> 'value', '') FROM jobs"):
            jobs[int(r[0])] = (r[1], r[2], int(r[3]), int(r[4]), int(r[5]), r[6], r[7] or None,
                               int(r[8]) if r[8] else None, r[9] == "1", r[10])
        attempts: dict[int, list[tuple]] = collections.defaultdict(list)
        for r in self.pg.psql(
                "SELECT job_id, number, coalesce(node_name, ''), extract(epoch FROM started_at), "
                "coalesce(extract(epoch FROM finished_at)::text, ''), outcome, coalesce(error_code, ''), "
                "coalesce(error_http_status::text, '') FROM attempts ORDER BY job_id, number, id"):
            attempts[int(r[0])].append((int(r[1]), r[2], float(r[3]), float(r[4]) if r[4] else None, r[5],
                                        r[6] or None, int(r[7]) if r[7] else None))
        out["leader_after"] = self.leader_after
        victim = self.victim.name if self.victim else None
        stuck, running = soak.stored_totals(out, jobs, attempts, hits, self.acked, outcome=4)
        out["stuck"], out["stuck_ids"] = len(stuck) + len(running), stuck + [(j, a[0], a[1]) for j, a in running]
        orphan_attempts = sorted(set(attempts) - set(jobs))
        tokens: set[str] = set()
        dups, stale, late, wrong, gave_up = [], [], [], [], []
        rescue: list[float] = []
        bound = self.args.lease + self.args.rescue_slack
        for jid, (kind, state, max_attempts, attempt_count, interrupted_count, on_interrupt, error_code,
                  error_status, has_result, url_or_value) in jobs.items():
            v[state] += 1
            atts = attempts.get(jid, [])
            token = url_or_value.split("/")[4] if kind == "fetch" else url_or_value
            tokens.add(token)
            soak.count_outcomes(v, [a[4] for a in atts])
            # unexplained duplicates, soak.py's (a)-(d)
            seen = hits.get(token, 0)
            why, used = soak.unexplained_runs([(a[0], a[4], a[5], a[6]) for a in atts], max_attempts, kind, seen,
                                              places=[f" on {a[1]}" for a in atts])
            if kind == "fetch":
                v["dup_runs"] += max(0, seen - used)
            if why:
                dups.append((jid, why, self.describe(atts)))
            # stale finishes and consistency
            bad = []
            for a in atts:
                if a[1] == victim and a[4] != "interrupted" and a[3] is not None and a[3] > self.reaped_time:
                    bad.append(f"attempt {a[0]} of the killed {victim} ended {a[4]} "
                               f"{a[3] - self.kill_time:+.3f}s after the kill")
                if a[4] == "interrupted" and a[1] == victim and a[3] is not None:
                    delay = a[3] - self.kill_time
                    rescue.append(delay)
                    if delay > bound or delay < 0:
                        late.append((jid, a[0], round(delay, 3)))
                elif a[4] == "interrupted":
                    v["survivor_interrupted"] += 1
                    if len(out["survivor_interrupted_examples"]) < 10:
                        out["survivor_interrupted_examples"].append((jid, a[0], a[1]))
            bad += soak.numbering_problems([a[0] for a in atts], attempt_count)
            lastatt = atts[-1] if atts else None
            if state == "succeeded":
                if not lastatt or lastatt[4] != "succeeded" or not has_result:
                    bad.append(f"succeeded (result {'set' if has_result else 'null'}) with last attempt "
                               f"{lastatt[4] if lastatt else None}")
            elif state == "failed":
                if not lastatt:
                    bad.append("failed with no attempt")
                elif lastatt[4] == "failed":
                    if lastatt[5] != error_code:
                        bad.append(f"failed {error_code} with last attempt failed {lastatt[5]}")
                elif lastatt[4] == "interrupted":
                    if error_code != "interrupted" or not (on_interrupt == "fail" or interrupted_count >= 10):
                        bad.append(f"failed {error_code} after an interruption ({interrupted_count}, {on_interrupt})")
                else:
                    bad.append(f"failed with last attempt {lastatt[4]}")
            elif state == "cancelled":
                bad.append(f"cancelled, though nothing cancels here (last attempt {lastatt[4] if lastatt else None})")
            elif lastatt and lastatt[4] != "running" and state == "running":
                bad.append(f"running with last attempt {lastatt[4]}")
            if bad:
                stale.append((jid, bad, self.describe(atts)))
            # outcomes the spec decides
            spec = self.specs.get(token)
            if spec is not None and state in TERMINAL:
                expect = None
                if kind == "delay":
                    expect = ("failed", "job_failed") if "fail" in spec else ("succeeded", None)
                else:
                    page = spec["url"].split("/")[3]
                    if page == "ok":
                        expect = ("succeeded", None)
                    elif page == "fail":
                        expect = ("failed", "http_status")
                    elif page == "flaky" and max_attempts >= 3:
                        expect = ("succeeded", None)
                if expect and not (state == "failed" and error_code == "interrupted") and \
                        (state, error_code if state == "failed" else None) != expect:
                    wrong.append((jid, spec.get("url", spec.get("value")), state, error_code, self.describe(atts)))
            if state == "failed" and error_code != "interrupted" and retryable(error_code, error_status) \
                    and used < max_attempts:
                gave_up.append((jid, f"failed {error_code} after {used} of {max_attempts}", self.describe(atts)))
        dups += soak.orphan_tokens(hits, tokens)
        stale += [(j, ["attempt rows of a job that is not stored"]) for j in orphan_attempts]
        rescue.sort()
        out["rescued"] = len(rescue)
        out["rescue_max"] = rescue[-1] if rescue else 0.0
        out["rescue_p50"] = statistics.median(rescue) if rescue else 0.0
        out["rescue_late"], out["late_examples"] = len(late), late
        out["unexplained_duplicates"], out["dup_examples"] = len(dups), dups
        out["stale_finishes"], out["stale_examples"] = len(stale), stale
        out["wrong_outcome"], out["wrong_examples"] = len(wrong), wrong
        out["retries_lost"], out["retries_lost_examples"] = len(gave_up), gave_up
        for key in ("succeeded", "failed", "cancelled", "interrupted", "retried", "dup_runs", "survivor_interrupted"):
            out[key] = v[key]
        return out

    def describe(self, atts: list[tuple]) -> list[str]:
        return [f"#{a[0]} {a[1]} {a[4]}{' ' + a[5] if a[5] else ''} start{a[2] - self.kill_time:+.3f} "
                f"end{(a[3] - self.kill_time) if a[3] else float('nan'):+.3f}" for a in atts]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jobd", required=True, help="the jobd binary (copied into the temp directory)")
    p.add_argument("--jobs", type=int, default=10000, help="jobs to acknowledge per seed (default %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="the first seed (default: random)")
    p.add_argument("--seeds", type=int, default=1, help="seeds to run in a row: seed, seed+1, ... (default 1)")
    p.add_argument("--lease", type=float, default=3.0, help="node.lease, s (default %(default)s)")
    p.add_argument("--rescue-slack", type=float, default=2.0,
                   help="rescue_late counts rescues later than lease + this after the kill, s (default %(default)s; "
                        "cluster-soak.sh's CI version passes 15 unless JOBDTEST_STRICT_TIMING=1, since a loaded "
                        "machine's timers run late; rescue_seconds_max is printed either way)")
    p.add_argument("--workers", type=int, default=64, help="each node's worker limit (default %(default)s)")
    p.add_argument("--submit-timeout", type=float, default=None,
                   help="deadline of the submits, s (default 120 + jobs/25)")
    p.add_argument("--drain-timeout", type=float, default=300.0, help="deadline of the drain, s (default 300)")
    p.add_argument("--tmp", default=None, help="where the temp directory goes (default $TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the temp directories (also kept on failure)")
    args = p.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randint(1, 999999)
    if args.jobs < 10 or args.seeds < 1 or not 1 <= args.lease <= 3600:
        p.error("--jobs must be >= 10, --seeds >= 1, --lease 1-3600")
    if args.submit_timeout is None:
        args.submit_timeout = 120 + args.jobs / 25
    if not os.access(args.jobd, os.X_OK):
        sys.exit(f"cluster_soak.py: no jobd binary at {args.jobd}")
    pg_bin = find_pg_bin()
    top = tempfile.mkdtemp(prefix="jobd-csoak-", dir=args.tmp)
    os.chmod(top, 0o755)  # the postgres user must reach <top>/sN/pg
    binary = os.path.join(top, "jobd")
    shutil.copy2(args.jobd, binary)
    log(f"cluster soak: nodes={NODES} jobs={args.jobs} seeds={args.seeds} from seed {args.seed} lease={args.lease:g} "
        f"jobd={args.jobd} postgres={pg_bin}")
    t0 = time.monotonic()
    results: list[tuple[int, int, float]] = []
    kept: list[str] = []
    try:
        for k in range(args.seeds):
            seed = args.seed + k
            workdir = os.path.join(top, f"s{seed}")
            os.makedirs(workdir)
            os.chmod(workdir, 0o755)
            t = time.monotonic()
            rc = 1
            run = None
            try:
                run = ClusterSoak(args, seed, workdir, binary, pg_bin)
                rc = run.run()
            except Exception as e:  # a failed set-up or check: this seed fails, the next one runs
                log(f"ERROR seed {seed}: {e!r}")
                print(f"nodes={NODES} seed={seed} error={type(e).__name__} result=FAIL", flush=True)
            finally:
                _stop_clusters()
                if run is not None and run.pages is not None:
                    with contextlib.suppress(Exception):
                        run.pages.close()
            results.append((seed, rc, time.monotonic() - t))
            if rc == 0 and not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                kept.append(workdir)
                log(f"kept {workdir} (node-N.log, acked.log, pg/data, pg/server.log)")
    finally:
        _stop_clusters()
        if not kept and not args.keep:
            shutil.rmtree(top, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(binary)
    failed = [s for s, rc, _ in results if rc != 0]
    if args.seeds > 1:
        times = [d for _, _, d in results]
        print(f"seeds={len(results)} passed={len(results) - len(failed)} failed={len(failed)} "
              f"failed_seeds={','.join(map(str, failed)) or 'none'} jobs_per_seed={args.jobs} "
              f"seed_seconds_max={max(times):.1f} seconds={time.monotonic() - t0:.1f} "
              f"result={'PASS' if not failed and len(results) == args.seeds else 'FAIL'}", flush=True)
    return 0 if not failed and len(results) == args.seeds else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _stop_clusters()
        sys.exit(SIGINT_EXIT)
