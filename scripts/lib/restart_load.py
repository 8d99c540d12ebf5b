#!/usr/bin/env python3
"""Submits jobs from concurrent clients, one new connection per request, while jobd restarts.

    restart_load.py SOCKET CLIENTS MARK_FILE

Each client loops: connect to the Unix socket, POST /v1/jobs (a delay of 0 s) with
`Connection: close`, read the whole answer. It prints "flowing" once a job was created;
the caller restarts jobd and then creates MARK_FILE. The clients stop once 200 jobs were
created after the mark (or after 60 s), then every created id is read back
(GET /v1/jobs/ID must answer 200). The last line is the summary, key=value.
"""
import json
import os
import socket
import sys
import threading
import time

path, clients, mark = sys.argv[1], int(sys.argv[2]), sys.argv[3]
body = b'{"kind":"delay","seconds":0}'
request = (
    b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
)
lock = threading.Lock()
stats = {"requests": 0, "created": 0, "after_mark": 0, "errors": 0, "status503": 0, "other": 0}
errors = {}
ids = []
slowest = 0.0
stop = threading.Event()
flowing = threading.Event()
deadline = time.monotonic() + 60


def exchange(data):
    """One request on a new connection: (status, body)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(path)
        connection.sendall(data)
        received = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    if not head:
        raise ConnectionError("empty reply")
    return int(head.split(b" ", 2)[1]), rest


def client():
    global slowest
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, answer = exchange(request)
        except Exception as error:  # refused, reset, timeout, empty reply: all count
            with lock:
                stats["requests"] += 1
                stats["errors"] += 1
                name = type(error).__name__
                errors[name] = errors.get(name, 0) + 1
            continue
        elapsed = time.monotonic() - started
        with lock:
            stats["requests"] += 1
            slowest = max(slowest, elapsed)
            if status == 201:
                stats["created"] += 1
                ids.append(json.loads(answer)["id"])
                flowing.set()
                if os.path.exists(mark):
                    stats["after_mark"] += 1
            elif status == 503:
                stats["status503"] += 1
            else:
                stats["other"] += 1


threads = [threading.Thread(target=client) for _ in range(clients)]
for thread in threads:
    thread.start()
if flowing.wait(20):
    print("flowing", flush=True)
while time.monotonic() < deadline:
    with lock:
        if stats["after_mark"] >= 200:
            break
    time.sleep(0.01)
stop.set()
for thread in threads:
    thread.join()

missing = []
lookups = list(ids)


def verify():
    while True:
        with lock:
            if not lookups:
                return
            job = lookups.pop()
        try:
            status, _ = exchange(b"GET /v1/jobs/%d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % job)
        except Exception:
            status = 0
        if status != 200:
            with lock:
                missing.append(job)


checkers = [threading.Thread(target=verify) for _ in range(clients)]
for thread in checkers:
    thread.start()
for thread in checkers:
    thread.join()
summary = dict(stats, verified=len(ids) - len(missing), missing=len(missing), slowest_ms=int(slowest * 1000))
summary["error_kinds"] = ",".join("%s:%d" % item for item in sorted(errors.items())) or "none"
print(" ".join("%s=%s" % item for item in summary.items()), flush=True)
