#!/usr/bin/env python3
"""Hostile clients against a running jobd, for the record (issue 6).

Runs each attack at full size against the daemon on --socket, while a separate client
probes GET /v1/health on a fresh connection every few milliseconds, and prints one line
per attack:

  attack=NAME survived=yes health_p50_ms=… health_p99_ms=… health_max_ms=… peak_rss_mb=… (details)

survived=yes means: the process is alive, every probe during the attack was answered
200, and a probe after it is too. peak_rss_mb is VmHWM from /proc/PID/status; before
each attack the peak is reset (`echo 5 > /proc/PID/clear_refs`, same user or root), so
each line shows that attack's own peak (else the peak since the daemon started). Freed
memory is not always returned to the system, so a peak is at least the resident size
left by the attacks before (rss_before_mb); for each attack's own figure, restart jobd
between attacks and run them one at a time (--only NAME).

Attacks: flood (10,000 idle connections), slowloris (1,000 connections trickling a
request head one byte a second), huge_headers (1 MiB header), big_body (Content-Length
1 GiB, a few KiB sent), batch (100,000 jobs in one submit), malformed (invalid UTF-8 in
a JSON string, and broken JSON).

Usage: scripts/attack.py --socket PATH --pid PID [--only NAME,...] [--probes N]
Python 3 standard library only. The test suite's version is
Tests/EndToEndTests/HostileClientTests.swift (the same attacks, shorter, with assertions).
"""

import argparse
import json
import multiprocessing
import os
import resource
import select
import socket
import statistics
import sys
import threading
import time


def connect(path, timeout=10.0):
    """A connected socket; the connect blocks while jobd's listen backlog is full (a
    non-blocking connect to a Unix socket fails with EAGAIN instead)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(None)
    s.connect(path)
    s.settimeout(timeout)
    return s


def read_response(s, deadline):
    """Reads one HTTP response; returns (status, headers, body, closed_after)."""
    data = b""
    while b"\r\n\r\n" not in data:
        s.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            raise EOFError("connection closed before a response head: %r" % data[:200])
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        s.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def closed_by_peer(s, timeout):
    """True when the peer closes (EOF or reset) within timeout, reading what is left."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            if not s.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def health_once(path):
    start = time.monotonic()
    s = connect(path, timeout=5.0)
    try:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status, _, body = read_response(s, start + 5.0)
    finally:
        s.close()
    elapsed = (time.monotonic() - start) * 1000
    if status != 200 or b'"status"' not in body:
        raise RuntimeError("health answered %d %r" % (status, body[:200]))
    return elapsed


class Prober:
    """GET /v1/health on a fresh connection every `interval` s until stopped.

    A process of its own, so the attack's threads (and Python's GIL) cannot delay it:
    the latencies are jobd's.
    """

    def __init__(self, path, interval=0.01):
        self.path = path
        self.interval = interval
        self.latencies = []
        self.failures = []
        context = multiprocessing.get_context("fork")
        self.stop_event = context.Event()
        self.count = context.Value("i", 0)
        self.receiver, sender = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run, args=(sender,), daemon=True)

    def start(self):
        self.process.start()

    def _run(self, sender):
        latencies, failures = [], []
        while not self.stop_event.is_set():
            try:
                latencies.append(health_once(self.path))
            except Exception as error:  # noqa: BLE001 - every failure counts
                failures.append(repr(error))
            with self.count.get_lock():
                self.count.value += 1
            self.stop_event.wait(self.interval)
        sender.send((latencies, failures))

    def probes(self):
        return self.count.value

    def stop(self):
        self.stop_event.set()
        self.latencies, self.failures = self.receiver.recv()
        self.process.join()


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])  # kB
    return 0


def reset_peak(pid):
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Attack:
    """Base: `start` begins the attack in threads, `stop` ends it and returns details."""

    name = "?"

    def __init__(self, path):
        self.path = path
        self.stop_event = threading.Event()
        self.threads = []
        self.errors = []
        self.lock = threading.Lock()

    def spawn(self, target, count=1):
        for _ in range(count):
            t = threading.Thread(target=self._guard, args=(target,), daemon=True)
            t.start()
            self.threads.append(t)

    def _guard(self, target):
        try:
            target()
        except Exception as error:  # noqa: BLE001
            with self.lock:
                self.errors.append(repr(error))

    def finished(self):
        """True when the attack has done what it set out to do (else it runs on)."""
        return True

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join()
        return self.details()

    def details(self):
        return ""


class Flood(Attack):
    name = "flood"

    def __init__(self, path, count=10_000):
        super().__init__(path)
        self.count = count
        self.sockets = []
        self.refused = 0
        self.done = threading.Event()

    def start(self):
        self.spawn(self.open_all)

    def open_all(self):
        start = time.monotonic()
        for _ in range(self.count):
            if self.stop_event.is_set():
                break
            try:
                s = connect(self.path, timeout=30.0)
                self.sockets.append(s)
            except OSError:
                self.refused += 1
        self.open_seconds = time.monotonic() - start
        self.done.set()

    def finished(self):
        return self.done.is_set()

    def details(self):
        # Still open, from the server's side: nothing readable (no 503, no EOF).
        still_open = 0
        for s in self.sockets:
            s.setblocking(False)
            try:
                data = s.recv(1)
                if data:
                    self.refused += 1  # a 503 too_many_connections
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
            s.close()
        return "connections=%d held_open=%d refused=%d opened_in_s=%.2f" % (
            len(self.sockets),
            still_open,
            self.refused,
            getattr(self, "open_seconds", float("nan")),
        )


class Slowloris(Attack):
    name = "slowloris"

    def __init__(self, path, count=1000, interval=1.0, give_up=120.0):
        super().__init__(path)
        self.count = count
        self.interval = interval
        self.give_up = give_up
        self.lifetimes = []
        self.done = threading.Event()

    def start(self):
        self.spawn(self.run)

    def run(self):
        opened = {}
        for _ in range(self.count):
            s = connect(self.path, timeout=30.0)
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            s.setblocking(False)
            opened[s] = time.monotonic()
        next_byte = time.monotonic() + self.interval
        end = time.monotonic() + self.give_up
        while opened and time.monotonic() < end and not self.stop_event.is_set():
            readable, _, _ = select.select(list(opened), [], [], max(0.0, min(0.2, next_byte - time.monotonic())))
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self.lifetimes.append(time.monotonic() - opened.pop(s))
                    s.close()
            if time.monotonic() >= next_byte:
                for s in list(opened):
                    try:
                        s.send(b"a")
                    except OSError:
                        self.lifetimes.append(time.monotonic() - opened.pop(s))
                        s.close()
                next_byte += self.interval
        self.still_open = len(opened)
        for s in opened:
            s.close()
        self.done.set()

    def finished(self):
        return self.done.is_set()

    def details(self):
        closed = len(self.lifetimes)
        longest = max(self.lifetimes) if self.lifetimes else float("nan")
        return "connections=%d closed_by_jobd=%d longest_s=%.1f" % (self.count, closed, longest)


class Repeat(Attack):
    """Runs `one()` in `threads` threads until stopped; counts the outcomes."""

    threads_count = 4
    minimum = 5

    def __init__(self, path):
        super().__init__(path)
        self.outcomes = {}
        self.times = []

    def start(self):
        self.spawn(self.loop, self.threads_count)

    def loop(self):
        while not self.stop_event.is_set():
            start = time.monotonic()
            try:
                outcome = self.one()
            except Exception as error:  # noqa: BLE001
                outcome = "error:" + type(error).__name__
            with self.lock:
                self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
                self.times.append((time.monotonic() - start) * 1000)

    def finished(self):
        with self.lock:
            return sum(self.outcomes.values()) >= self.minimum

    def details(self):
        outcomes = ",".join("%s:%d" % item for item in sorted(self.outcomes.items()))
        return "requests=%d outcomes=%s answer_p50_ms=%.1f answer_max_ms=%.1f" % (
            sum(self.outcomes.values()),
            outcomes,
            statistics.median(self.times) if self.times else float("nan"),
            max(self.times) if self.times else float("nan"),
        )


class HugeHeaders(Repeat):
    name = "huge_headers"

    def one(self):
        s = connect(self.path)
        try:
            try:
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nX-Huge: " + b"a" * (1 << 20) + b"\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # jobd answered and closed before the header ended
            status, headers, _ = read_response(s, time.monotonic() + 10)
            closed = closed_by_peer(s, 5)
            return "%d%s" % (status, "+closed" if closed else "+open")
        finally:
            s.close()


class BigBody(Repeat):
    name = "big_body"

    def one(self):
        s = connect(self.path)
        try:
            s.sendall(
                b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1073741824\r\n\r\n"
            )
            try:
                s.sendall(b"[" + b" " * 8190)
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, headers, body = read_response(s, time.monotonic() + 10)
            closed = closed_by_peer(s, 5)
            code = json.loads(body)["error"]["code"] if body else ""
            return "%d/%s%s" % (status, code, "+closed" if closed else "+open")
        finally:
            s.close()


def batch_body(count):
    spec = b'{"kind":"delay","seconds":0}'
    return b'{"jobs":[' + b",".join([spec] * count) + b"]}"


class Batch(Repeat):
    name = "batch"
    threads_count = 2
    minimum = 2
    body = batch_body(100_000)

    def one(self):
        s = connect(self.path, timeout=30)
        try:
            s.sendall(
                b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(self.body)).encode()
                + b"\r\n\r\n"
                + self.body
            )
            status, _, body = read_response(s, time.monotonic() + 30)
            return "%d/%s" % (status, json.loads(body)["error"]["code"] if status >= 400 else "ok")
        finally:
            s.close()


class Malformed(Repeat):
    name = "malformed"
    bodies = [
        # Invalid UTF-8 inside JSON strings: bad bytes, an overlong "/", a cut sequence.
        b'{"kind":"delay","seconds":1,"key":"bad \xff\xfe \xc3\x28"}',
        b'{"kind":"fetch","url":"http://example.com/\xc0\xaf"}',
        b'{"kind":"delay","seconds":1,"key":"cut \xe2\x82"}',
        # Malformed JSON.
        b'{"kind":"delay","seconds":1,',
        b'{"kind":"delay","seconds":1}}}',
        b'{"jobs":[{"kind":"delay","seconds":1}',
        b"\x00\x01\x02 not json",
        b'"\\ud800',
    ]

    def __init__(self, path):
        super().__init__(path)
        self.index = 0

    def one(self):
        with self.lock:
            body = self.bodies[self.index % len(self.bodies)]
            self.index += 1
        s = connect(self.path)
        try:
            s.sendall(
                b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            status, _, reply = read_response(s, time.monotonic() + 10)
            return "%d/%s" % (status, json.loads(reply)["error"]["code"] if status >= 400 else "ok")
        finally:
            s.close()


ATTACKS = {
    "flood": Flood,
    "slowloris": Slowloris,
    "huge_headers": HugeHeaders,
    "big_body": BigBody,
    "batch": Batch,
    "malformed": Malformed,
}


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def run_attack(name, path, pid, probes):
    attack = ATTACKS[name](path)
    rss_before = status_field(pid, "VmRSS") / 1024
    peak_reset = reset_peak(pid)
    prober = Prober(path)
    attack.start()
    prober.start()
    # At least `probes` probes, and until the attack has done its part.
    while (prober.probes() < probes or not attack.finished()) and alive(pid):
        time.sleep(0.01)
    prober.stop()
    details = attack.stop()
    survived = alive(pid) and not prober.failures
    try:
        health_once(path)
    except Exception as error:  # noqa: BLE001
        survived = False
        prober.failures.append("after: " + repr(error))
    latencies = prober.latencies
    peak = status_field(pid, "VmHWM") / 1024 if alive(pid) else float("nan")
    line = (
        "attack=%s survived=%s probes=%d health_p50_ms=%.1f health_p99_ms=%.1f health_max_ms=%.1f "
        "peak_rss_mb=%.1f%s rss_before_mb=%.1f %s"
        % (
            name,
            "yes" if survived else "no",
            len(latencies) + len(prober.failures),
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
            max(latencies) if latencies else float("nan"),
            peak,
            "" if peak_reset else " (peak since start)",
            rss_before,
            details,
        )
    )
    print(line, flush=True)
    for failure in prober.failures[:5]:
        print("  probe failure: " + failure, flush=True)
    for error in attack.errors[:5]:
        print("  attack error: " + error, flush=True)
    return survived


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--pid", required=True, type=int)
    parser.add_argument("--only", default=",".join(ATTACKS), help="comma-separated attack names")
    parser.add_argument("--probes", type=int, default=200, help="health probes per attack (at least)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ok = True
    for name in args.only.split(","):
        if name not in ATTACKS:
            parser.error("unknown attack %s (known: %s)" % (name, ", ".join(ATTACKS)))
        ok = run_attack(name, args.socket, args.pid, args.probes) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
