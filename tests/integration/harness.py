"""Runs the real origin-reconciler binary against the bundled Cloudflare API stand-in.

Loopback only: the stand-in binds 127.0.0.1 on a free port it reports through a port file,
and the daemon's status server binds 127.0.0.1:0 and logs the port it got.
Binaries come from the environment (set by ctest): ORC_BIN and STANDIN_BIN.
"""

import calendar
import http.client as http_client
import http.server as http_server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

ORC_BIN = os.environ.get("ORC_BIN", "build/daemon/origin-reconciler")
STANDIN_BIN = os.environ.get("STANDIN_BIN", "build/standin/cf-standin")
# Built with ASan and UBSan: the runtime's shadow memory and quarantine of freed blocks add to
# the resident set, so memory bounds are a property of the release build only.
SANITIZED = os.environ.get("ORC_SANITIZED") == "1"
TOKEN = "it-token-0123456789abcdef"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
ZONE_B = "1111111111111111111111111111111a"


def ips(start, count, prefix="10.20"):
    """`count` consecutive IPv4 addresses from prefix.0.0 + start."""
    out = []
    for i in range(start, start + count):
        out.append(f"{prefix}.{i // 256}.{i % 256}")
    return out


def max_in_any(times_ms, span_ms):
    """The most of `times_ms` (request-log arrival times) in any window [t, t + span_ms)."""
    times_ms = sorted(times_ms)
    best, j = 0, 0
    for i, t in enumerate(times_ms):
        j = max(j, i)
        while j < len(times_ms) and times_ms[j] < t + span_ms:
            j += 1
        best = max(best, j - i)
    return best


def iso_seconds(text):
    """A log time ("2026-03-01T12:00:00.123Z": the stand-in's, the daemon's) as Unix seconds."""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$", text)
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    return calendar.timegm((y, mo, d, h, mi, s)) + float(m.group(7) or 0)


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_once_meanwhile(daemon, standin, meanwhile, timeout=30):
    """Runs `daemon.run_once()` on a thread and, once `standin` has logged the run's list
    request, calls `meanwhile()` (a latency fault on what follows gives it the time to act).
    Returns the finished run."""
    result = {}
    runner = threading.Thread(target=lambda: result.update(run=daemon.run_once()))
    runner.start()
    try:
        wait_for(lambda: standin.requests("list"), what="the run's list request")
        meanwhile()
    finally:
        runner.join(timeout)
    return result["run"]


def run_measured(args, env, timeout=120):
    """Runs `args` under GNU time: (exit status, stderr, the process's peak resident set in
    bytes). Not os.wait4: a child's ru_maxrss starts from the memory of the process that forked
    it (the test, which made the input), which GNU time, small, does not add."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        run = subprocess.run(["/usr/bin/time", "-q", "-f", "%M", "-o", report.name, *args],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, errors="replace", timeout=timeout)
        return run.returncode, run.stderr, int(report.read().split()[-1]) * 1024


def http(method, url, body=None, headers=None, timeout=10):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def stop_process(proc, timeout):
    """Asks `proc` to stop (SIGTERM) if it still runs, and kills it if it has not exited within
    `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Reporter:
    """How a test that needs more than the build machine may have (a container runtime, a
    systemd container) reports: progress on standard error under the test's name, and a skip
    with the exit status ctest counts as skipped (SKIP_RETURN_CODE) when it cannot run here."""

    SKIP = 77

    def __init__(self, name, what):
        self.name, self.what = name, what  # what: "the ... test", for the skip notice

    def log(self, message):
        print(f"{self.name}: {message}", file=sys.stderr, flush=True)

    def skip(self, reason):
        print(f"\n*** SKIPPED: {self.what} did not run: {reason} ***\n", file=sys.stderr,
              flush=True)
        sys.exit(self.SKIP)


class QuietHandler(http_server.BaseHTTPRequestHandler):
    """A request handler for the tests' own servers: HTTP/1.1, as the API servers the daemon
    talks to speak it, and no access log on standard error."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class LoopbackServer:
    """An HTTP server on a free loopback port: `handler` (a BaseHTTPRequestHandler class)
    answers each request on a thread of its own until stop(). `server_class` may be a
    ThreadingHTTPServer that does more (wraps connections in TLS, say)."""

    def __init__(self, handler, server_class=http_server.ThreadingHTTPServer):
        self.server = server_class(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def relay(handler, target, path, header_names):
    """Sends the request `handler` is serving (its method, its body and those of its headers
    whose lower-case names are in `header_names`) to `target` ("host:port") at `path`, as a tap
    between the daemon and a stand-in does; returns the answer's status, headers (a list of
    (name, value)) and body."""
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else None
    sent = {k: v for k, v in handler.headers.items() if k.lower() in header_names}
    conn = http_client.HTTPConnection(target, timeout=30)
    try:
        conn.request(handler.command, path, body=body, headers=sent)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheaders(), data
    finally:
        conn.close()


def send_answer(handler, status, headers, data):
    """Answers the request `handler` is serving: `status`, `headers` ((name, value) pairs), the
    Content-Length of `data`, then `data`."""
    handler.send_response(status)
    for k, v in headers:
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class OtherClient:
    """Another tool on the same token: one generation-1 list request of `zone` every `period`
    seconds until stopped, steady, never catching up: a thread held up on a loaded machine
    would otherwise send its missed requests in a burst, which is not the client a test
    describes. `statuses` are the answers' HTTP statuses."""

    def __init__(self, api_base, zone, period, token=TOKEN):
        self.url = f"{api_base}/zones/{zone}/cache/origin_cloud_regions"
        self.period = period
        self.token = token
        self.statuses = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        next_at = time.monotonic()
        while not self._stop.is_set():
            status, _ = http("GET", self.url, headers={"Authorization": f"Bearer {self.token}"})
            self.statuses.append(status)
            next_at = max(next_at + self.period, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)


class StandIn:
    """The Cloudflare API stand-in, seeded with {zone: [ip, ...]} or a seed document."""

    def __init__(self, workdir, zones=None, seed=None, faults=None, token=TOKEN, extra_args=()):
        self.workdir = workdir
        self.token = token
        seed_doc = seed or {"zones": {z: [{"ip": ip, "vendor": "aws", "region": "us-east-1"}
                                          for ip in zone_ips]
                                      for z, zone_ips in (zones or {}).items()}}
        seed_path = os.path.join(workdir, "seed.json")
        with open(seed_path, "w") as f:
            json.dump(seed_doc, f)
        port_file = os.path.join(workdir, "standin.port")
        # A second stand-in in the same work dir must not be taken for the first one.
        if os.path.exists(port_file):
            os.remove(port_file)
        args = [STANDIN_BIN, "--listen", "127.0.0.1:0", "--port-file", port_file,
                "--seed", seed_path, "--token", token, *extra_args]
        if faults is not None:
            faults_path = os.path.join(workdir, "faults.json")
            with open(faults_path, "w") as f:
                json.dump({"rules": faults}, f)
            args += ["--faults", faults_path]
        self.log = open(os.path.join(workdir, "standin.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        # Generous: under ASan on a busy machine, loading a 20 MB fault rule takes seconds.
        # A stand-in that exits fails the wait at once.
        port = wait_for(lambda: self._port_or_exit(port_file), timeout=60.0,
                        what="the stand-in's port file")
        self.base = f"http://127.0.0.1:{port}"
        self.api_base = self.base + "/client/v4"

    def _port_or_exit(self, path):
        if self.proc.poll() is not None:
            self.log.flush()
            with open(self.log.name) as f:
                raise AssertionError(f"the stand-in exited {self.proc.returncode}: {f.read()[-2000:]}")
        return self._read_port(path)

    @staticmethod
    def _read_port(path):
        try:
            with open(path) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None

    def admin(self, method, path, body=None):
        status, text = http(method, self.base + "/__admin/" + path, body)
        assert status == 200, f"admin {method} {path}: {status} {text}"
        return json.loads(text) if text.strip().startswith(("{", "[")) else text

    def call(self, method, path, body=None):
        """(status, text) of one authenticated API request; `path` follows /client/v4/."""
        return http(method, f"{self.api_base}/{path}", body,
                    headers={"Authorization": f"Bearer {self.token}"})

    def live(self, zone=ZONE):
        return {m["ip"] for m in self.admin("GET", "state")["zones"].get(zone, [])}

    def requests(self, operation=None):
        """The answered requests (one entry each), oldest first."""
        log = self.admin("GET", "requests")
        return [r for r in log if operation is None or r.get("operation") == operation]

    def received(self, operation=None, zone=None):
        """The requests that have arrived, answered or not (a latency fault holds a request
        between the two), oldest first; never counted in `requests()`."""
        log = self.admin("GET", "requests?event=received")
        return [r for r in log if operation in (None, r.get("operation"))
                and zone in (None, r.get("zone"))]

    def wait_received(self, operation=None, zone=None, match=None, count=1, timeout=10.0):
        """Waits until `count` requests of `operation` for `zone` (None: any) that `match` (a
        predicate on the entry, optional) have arrived; returns those arrivals."""
        def arrived():
            got = [r for r in self.received(operation, zone) if match is None or match(r)]
            return got if len(got) >= count else None
        what = " ".join(x for x in (operation or "request", zone and f"of zone {zone}") if x)
        return wait_for(arrived, timeout, what=f"{count} x {what} received by the stand-in")

    def set_faults(self, rules):
        self.admin("PUT", "faults", {"rules": rules})

    def stop(self):
        stop_process(self.proc, timeout=5)
        self.log.close()


def daemon_config(api_base, flavor="cache-v1", config=None):
    """The daemon's configuration as a dict: quick retries, the status server on a free loopback
    port, text logs. `flavor` is written as cloudflare.api_flavor (None leaves the key out);
    each section of `config` is merged into the one of that name, key by key."""
    cfg = {
        "cloudflare": {"api_base": api_base, "api_flavor": flavor,
                       "request_timeout": "5s", "requests_per_second": 200},
        "reconcile": {"desired_state": "desired.yaml", "interval": "1h",
                      "retry": {"max_attempts": 4, "initial_backoff": "10ms",
                                "max_backoff": "50ms"}},
        "listen": "127.0.0.1:0",
        "log": {"level": "info", "format": "text"},
    }
    if flavor is None:
        del cfg["cloudflare"]["api_flavor"]
    for section, values in (config or {}).items():
        if isinstance(values, dict) and isinstance(cfg.get(section), dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    return cfg


class Daemon:
    """A configuration + desired state on disk, and the daemon run against them.

    `flavor` is written as cloudflare.api_flavor; None leaves the key out (the default)."""

    def __init__(self, workdir, api_base, desired, flavor="cache-v1", config=None):
        self.workdir = workdir
        self.config_path = os.path.join(workdir, "config.yaml")
        self.desired_path = os.path.join(workdir, "desired.yaml")
        self.write_desired(desired)
        cfg = daemon_config(api_base, flavor, config)
        # JSON is YAML: no YAML library needed to write the configuration.
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=2)
        self.proc = None
        self.stderr_path = os.path.join(workdir, "daemon.stderr")

    def write_desired(self, desired, path=None):
        """`desired` is {zone: [ip | {ip, vendor, region}]} or raw YAML text."""
        if isinstance(desired, str):
            text = desired
        else:
            text = json.dumps({"zones": [{"zone_id": z, "origins": o} for z, o in desired.items()]})
        path = path or self.desired_path
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic, like a careful deploy tool

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CLOUDFLARE_", "NOTIFY_SOCKET", "WATCHDOG_", "CREDENTIALS_"))}
        env["CLOUDFLARE_API_TOKEN"] = TOKEN
        env.update(extra or {})
        return env

    def run_once(self, *flags, env=None, timeout=60):
        return subprocess.run([ORC_BIN, "--config", self.config_path, "--once", *flags],
                              capture_output=True, text=True, timeout=timeout, env=self.env(env))

    def start(self, *flags, env=None):
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([ORC_BIN, "--config", self.config_path, *flags],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     env=self.env(env))
        port = wait_for(self._metrics_port, what="the daemon's status server")
        self.status_base = f"http://127.0.0.1:{port}"
        return self

    def log_text(self):
        with open(self.stderr_path) as f:
            return f.read()

    def _metrics_port(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log_text()}")
        m = re.search(r"serving /metrics and /healthz on 127\.0\.0\.1:(\d+)", self.log_text())
        return int(m.group(1)) if m else None

    def metrics(self):
        status, text = http("GET", self.status_base + "/metrics")
        assert status == 200, status
        return text

    def metric(self, name, **labels):
        """The value of one sample, or None."""
        for line in self.metrics().splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            m = re.match(r"([a-z_]+)(\{(.*)\})? (\S+)$", line)
            if not m or m.group(1) != name:
                continue
            got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
            if all(got.get(k) == v for k, v in labels.items()):
                return float(m.group(4))
        return None

    def wait_log(self, pattern, timeout=10.0, count=1):
        return wait_for(lambda: len(re.findall(pattern, self.log_text())) >= count,
                        timeout, what=f"log line /{pattern}/ x{count}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, timeout=10)
            self.stderr.close()


class IntegrationTest(unittest.TestCase):
    """Gives each test a work dir, and stops what it started even when it fails."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="orc-it-")
        self._standins = []
        self._daemons = []
        self._problems_before = self._problem_count()

    def tearDown(self):
        for d in self._daemons:
            d.stop()
        for s in self._standins:
            s.stop()
        if self._problem_count() == self._problems_before:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print(f"\n(kept {self.workdir} for inspection)")

    def seconds_to_exit_on_sigterm(self, daemon, what, timeout):
        """Sends `daemon` SIGTERM and checks that it exits with status 0 within `timeout`
        seconds; prints how long it took (with `what`, the condition it was stopped in) for the
        record, and returns it."""
        stopped_at = time.monotonic()
        daemon.signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=timeout), 0)
        took = time.monotonic() - stopped_at
        print(f"\nSIGTERM to exit with {what}: {took:.2f} s")
        return took

    def _problem_count(self):
        """Failures and errors recorded so far (this test's own are recorded before tearDown)."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return 0
        if hasattr(outcome, "errors"):  # Python < 3.11
            return sum(1 for _, exc in outcome.errors if exc is not None)
        result = outcome.result
        return len(result.failures) + len(result.errors)

    def standin(self, **kwargs):
        s = StandIn(self.workdir, **kwargs)
        self._standins.append(s)
        return s

    def daemon(self, standin, desired, **kwargs):
        d = Daemon(self.workdir, standin.api_base, desired, **kwargs)
        self._daemons.append(d)
        return d
