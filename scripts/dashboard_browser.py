#!/usr/bin/env python3
"""Drives jobd's web dashboard in headless Chromium over the DevTools protocol (stdlib only).

The end-to-end tests (Tests/EndToEndTests/Dashboard*Tests.swift) and
scripts/dashboard-screenshots.sh run it; each command prints one JSON object on stdout.

    pages URL [--screenshots DIR] [--job ID] [--batch ID]
        Opens URL (jobctl dashboard's, with the token), visits every page, and reports
        each page's console errors, exceptions and failed loads; saves a PNG per page.
    live URL --socket PATH
        Opens the job list, then submits a job over jobd's socket and reports how long
        until its row is on screen.
    xss URL --job ID --expect TEXT
        Opens the job's page and reports whether the result's text contains TEXT, and
        whether any JavaScript dialog (alert) opened.
    perf URL [--runs N --hold SECONDS --jobd-pid PID]
        Reports how long the overview and the first page of the job list take to show
        their data after a full page load (from navigation start, Performance API; the
        median of N), and the job list reached from the overview (from the route change),
        then keeps the overview open for SECONDS and reports jobd's CPU use meanwhile
        (utime + stime from /proc/PID/stat).
    seed DATABASE --count N
        Copies job 1 of a stopped jobd's SQLite database N times (new ids; states mixed:
        succeeded, failed, cancelled: nothing for jobd to run), for the 1,000,000-job measurements.

A minimal RFC 6455 client talks to Chromium's --remote-debugging-port; Chromium runs
with a throw-away profile and is killed at the end.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PAGES = [("overview", "#/"), ("jobs", "#/jobs"), ("job", "#/jobs/{job}"), ("batches", "#/batches"),
         ("batch", "#/batches/{batch}"), ("schedules", "#/schedules")]


class WebSocket:
    """Just enough RFC 6455 for DevTools: text frames, masked sends, ping/pong, close."""

    def __init__(self, url, timeout=30):
        parts = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the DevTools socket closed during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError("no websocket upgrade: " + head.decode(errors="replace"))

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the DevTools socket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def receive(self, timeout):
        """The next text message, or None when nothing arrives within timeout seconds."""
        self.sock.settimeout(timeout)
        message = b""
        try:
            while True:
                first, second = self._read(2)
                opcode, length = first & 0x0F, second & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._read(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._read(8))[0]
                if second & 0x80:
                    mask = self._read(4)
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(length)))
                else:
                    payload = self._read(length)
                if opcode == 0x9:
                    self._send_frame(0xA, payload)
                elif opcode == 0x8:
                    raise ConnectionError("DevTools closed the websocket")
                elif opcode in (0x0, 0x1, 0x2):
                    message += payload
                    if first & 0x80:
                        return message.decode()
        except socket.timeout:
            if message:
                raise
            return None


class Browser:
    """One headless Chromium with one page, and the DevTools events seen so far."""

    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="jobd-chromium-")
        binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not binary:
            raise SystemExit("chromium is not installed (Debian: apt-get install chromium)")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--mute-audio", f"--window-size={width},{height}",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = self.process.stderr.readline().decode(errors="replace")
            if not line and self.process.poll() is not None:
                raise SystemExit("chromium exited before DevTools listened")
            if "DevTools listening on ws://" in line:
                port = int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        if port is None:
            raise SystemExit("chromium's DevTools did not start within 60 s")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def close(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, params=None, timeout=60):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.ws.receive(max(0.01, deadline - time.monotonic()))
            if text is None:
                break
            message = json.loads(text)
            if message.get("id") == mine:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.on_event(message)
        raise TimeoutError(f"{method}: no answer within {timeout} s")

    def on_event(self, message):
        self.events.append(message)
        if message["method"] == "Page.javascriptDialogOpening":
            # Dismiss it so the page goes on; the event stays recorded.
            self.ws.send(json.dumps({"id": 0, "method": "Page.handleJavaScriptDialog", "params": {"accept": False}}))

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=30, interval=0.01):
        """Polls expression until it is truthy; returns its value and the seconds waited.

        While a navigation replaces the document an evaluation can fail (no context yet):
        that counts as not yet."""
        start = time.monotonic()
        while True:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None
            if value:
                return value, time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"not within {timeout} s: {expression}")
            time.sleep(interval)

    def loaded_generation(self):
        return self.evaluate("document.body ? (document.body.dataset.loaded || '') : ''")

    def show(self, hash_route, page, timeout=30):
        """Routes the open dashboard to hash_route and waits until that page has its data."""
        before = self.loaded_generation()
        self.evaluate(f"location.hash = {json.dumps(hash_route)}")
        self.wait_for(f"document.body.dataset.page === {json.dumps(page)} && "
                      f"(document.body.dataset.loaded || '') !== {json.dumps(before)}", timeout)

    def open(self, url, page="overview", timeout=60):
        self.call("Page.navigate", {"url": url})
        self.wait_for(f"document.readyState === 'complete' && document.body && "
                      f"document.body.dataset.page === {json.dumps(page)} && !!document.body.dataset.loaded", timeout)

    def reload(self, page, timeout=60):
        """Reloads the page (a full navigation, the cookie kept) and waits for page's data."""
        before = self.evaluate("performance.timeOrigin")
        self.call("Page.reload", {"ignoreCache": False})
        self.wait_for(f"performance.timeOrigin !== {before!r} && document.readyState === 'complete' && "
                      f"document.body && document.body.dataset.page === {json.dumps(page)} && "
                      "!!document.body.dataset.loaded", timeout)

    def problems(self, since=0):
        """Console errors, uncaught exceptions, failed loads and dialogs since event index since."""
        found = []
        for event in self.events[since:]:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append("exception: " + str(details.get("exception", {}).get("description", details.get("text"))))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append("load failed: " + str(params.get("errorText")))
            elif method == "Page.javascriptDialogOpening":
                found.append("dialog: " + str(params.get("message")))
        return found

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))


def base_of(url):
    parts = urllib.parse.urlparse(url)
    return f"{parts.scheme}://{parts.netloc}/ui/"


def submit_over_socket(socket_path, body):
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(socket_path)
    data = json.dumps(body).encode()
    connection.sendall(b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                       b"Content-Type: application/json\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    answer = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
    connection.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    if b" 201 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError("submit refused: " + answer.decode(errors="replace"))
    return json.loads(payload)["id"]


def command_pages(args, browser):
    report = {"pages": {}, "problems": {}}
    mark = len(browser.events)
    browser.open(args.url)
    for name, route in PAGES:
        route = route.format(job=args.job or 1, batch=args.batch or 1)
        if name != "overview":
            browser.show(route, "jobs" if name.startswith("job") else "batches" if name.startswith("batch") else name)
        # Let the charts' and tables' layout settle before the picture.
        time.sleep(0.3)
        report["pages"][name] = browser.evaluate("document.getElementById('main').innerText.slice(0, 2000)")
        report["problems"][name] = browser.problems(mark)
        mark = len(browser.events)
        if args.screenshots:
            browser.screenshot(os.path.join(args.screenshots, f"dashboard-{name}.png"))
    return report


def command_live(args, browser):
    browser.open(args.url)
    browser.show("#/jobs", "jobs")
    submitted = time.monotonic()
    job = submit_over_socket(args.socket, {"kind": "delay", "seconds": 30, "tags": ["live-check"]})
    _, waited = browser.wait_for(f"!!document.querySelector('#job-list tr[data-job=\"{int(job)}\"]')", timeout=30,
                                 interval=0.005)
    return {"job": job, "seconds_to_row": time.monotonic() - submitted, "polled_seconds": waited,
            "problems": browser.problems()}


def command_xss(args, browser):
    browser.open(args.url)
    browser.show(f"#/jobs/{int(args.job)}", "jobs")
    text = browser.evaluate("(document.getElementById('job-result') || {}).textContent || ''")
    scripts = browser.evaluate("document.querySelectorAll('#main script').length")
    time.sleep(0.5)
    browser.call("Runtime.evaluate", {"expression": "1"})  # drains pending events
    dialogs = [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]
    return {"result_text": text, "contains": args.expect in text, "script_elements": scripts,
            "dialogs": len(dialogs), "problems": browser.problems()}


def command_perf(args, browser):
    """Full page loads (reloads with the cookie, as a user reopening the dashboard) of the
    overview and of the job list, and the job list reached from the overview."""
    browser.open(args.url)  # trades the token for the cookie
    runs = []
    for _ in range(args.runs):
        browser.reload("overview")
        overview = browser.evaluate("JD.timings['#/'].sinceNavigation")
        document = browser.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")
        browser.show("#/jobs", "jobs")
        jobs_route = browser.evaluate("JD.timings['#/jobs'].route")
        browser.reload("jobs")
        jobs_fresh = browser.evaluate("JD.timings['#/jobs'].sinceNavigation")
        runs.append({"overview_ms": overview, "html_response_end_ms": document, "jobs_route_ms": jobs_route,
                     "jobs_fresh_ms": jobs_fresh})
        browser.show("#/", "overview")
    report = {"runs": runs, "problems": browser.problems()}
    median = lambda values: sorted(values)[len(values) // 2]
    report["overview_ms"] = median([r["overview_ms"] for r in runs])
    report["jobs_ms"] = median([r["jobs_fresh_ms"] for r in runs])
    report["jobs_route_ms"] = median([r["jobs_route_ms"] for r in runs])
    if args.hold and args.jobd_pid:
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu():
            with open(f"/proc/{args.jobd_pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        start_cpu, start = cpu(), time.monotonic()
        time.sleep(args.hold)
        used, elapsed = cpu() - start_cpu, time.monotonic() - start
        report["idle"] = {"seconds": elapsed, "jobd_cpu_seconds": used, "jobd_cpu_percent": 100 * used / elapsed,
                          "page_still_live": browser.evaluate("document.getElementById('live').textContent")}
    return report


def command_seed(args):
    database = sqlite3.connect(args.database)
    columns = [row[1] for row in database.execute("PRAGMA table_info(jobs)") if row[1] not in ("id", "key")]
    template = database.execute("SELECT id FROM jobs ORDER BY id LIMIT 1").fetchone()
    if template is None:
        raise SystemExit("the database holds no job to copy")
    chosen = []
    for column in columns:
        if column == "state":
            chosen.append("CASE WHEN n.i % 50 = 0 THEN 'failed' WHEN n.i % 97 = 0 THEN 'cancelled' ELSE 'succeeded' END")
        elif column == "created_at" or column == "updated_at":
            chosen.append(f"t.{column} - (1000001 - n.i) * 0.01")
        else:
            chosen.append(f"t.{column}")
    started = time.monotonic()
    database.execute("PRAGMA synchronous = OFF")
    database.execute(
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {int(args.count)}) "
        f"INSERT INTO jobs ({', '.join(columns)}) SELECT {', '.join(chosen)} FROM n, jobs AS t WHERE t.id = {template[0]}")
    database.commit()
    total = database.execute("SELECT count(*) FROM jobs").fetchone()[0]
    database.close()
    return {"inserted": args.count, "jobs": total, "seconds": time.monotonic() - started}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pages = commands.add_parser("pages")
    pages.add_argument("url")
    pages.add_argument("--screenshots")
    pages.add_argument("--job", type=int)
    pages.add_argument("--batch", type=int)
    live = commands.add_parser("live")
    live.add_argument("url")
    live.add_argument("--socket", required=True)
    xss = commands.add_parser("xss")
    xss.add_argument("url")
    xss.add_argument("--job", required=True, type=int)
    xss.add_argument("--expect", required=True)
    perf = commands.add_parser("perf")
    perf.add_argument("url")
    perf.add_argument("--runs", type=int, default=3)
    perf.add_argument("--hold", type=float, default=0)
    perf.add_argument("--jobd-pid", type=int)
    seed = commands.add_parser("seed")
    seed.add_argument("database")
    seed.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.command == "seed":
        print(json.dumps(command_seed(args)))
        return
    browser = Browser()
    try:
        report = {"pages": command_pages, "live": command_live, "xss": command_xss, "perf": command_perf}[args.command](
            args, browser)
    finally:
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
