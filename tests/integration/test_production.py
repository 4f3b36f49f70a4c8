"""The daemon under the real production surroundings, reproduced on loopback and on disk.

- systemd's notify protocol: a real AF_UNIX datagram socket as NOTIFY_SOCKET, read the way
  the service manager reads it (with the sender's credentials);
- systemd credentials: $CREDENTIALS_DIRECTORY/cloudflare-api-token, no token in the env;
- a Kubernetes ConfigMap volume updated the kubelet's way (`..data` symlink swapped atomically);
- a real Prometheus scraping /metrics, and promtool linting it;
- the Grafana dashboard (deploy/grafana/): every panel's PromQL evaluated by that Prometheus
  after it scraped the daemon through a prune, a retry, a rate limit, a failed item and a
  safety block, and each must return data.

Everything talks to 127.0.0.1 or a socket in the test's work dir only.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import (TOKEN, ZONE, ZONE_B, Daemon, IntegrationTest, http, ips, stop_process,
                     wait_for)

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                         "grafana", "origin-reconciler.json")
WATCHDOG_USEC = 200_000  # 200 ms: the daemon must ping every ~100 ms


class NotifySocket:
    """What systemd does for NOTIFY_SOCKET: a datagram socket, each datagram one or more
    newline-separated assignments, and the sender's pid taken from SCM_CREDENTIALS (which is
    how NotifyAccess=main decides whom to believe)."""

    def __init__(self, path, on_message=None):
        self.path = path
        self.on_message = on_message  # called on the receiver thread: (assignment) -> None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.lock = threading.Lock()
        self.messages = []  # (monotonic time, sender pid, assignment), one per assignment
        self.found_empty = 0.0  # monotonic time the receiver last found nothing to read
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        creds_size = struct.calcsize("3i")
        while not self._stop.is_set():
            try:
                data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(creds_size))
            except socket.timeout:
                with self.lock:
                    self.found_empty = time.monotonic()
                continue
            except OSError:
                return
            now = time.monotonic()
            pid = None
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", payload[:creds_size])[0]
            for assignment in data.decode(errors="replace").split("\n"):
                if not assignment:
                    continue
                with self.lock:
                    self.messages.append((now, pid, assignment))
                if self.on_message:
                    self.on_message(assignment)

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def assignments(self):
        return [a for _, _, a in self.snapshot()]

    def times_of(self, assignment, since=0.0):
        return [t for t, _, a in self.snapshot() if a == assignment and t >= since]

    def wait(self, predicate, timeout=10.0, what="a notification"):
        return wait_for(lambda: predicate(self.snapshot()), timeout, what)

    def wait_read_to_end(self, since, timeout=5.0):
        """Waits until the socket has been found empty after `since` (a monotonic time): every
        datagram sent before then has been read."""
        def empty_since():
            with self.lock:
                return self.found_empty > since
        wait_for(empty_since, timeout, "the notify socket read to the end")

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def status_port_from_log(daemon):
    m = re.search(r"serving /metrics and /healthz on 127\.0\.0\.1:(\d+)", daemon.log_text())
    return int(m.group(1)) if m else None


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def desired_yaml(ip_list):
    return "zones:\n" f"  - zone_id: {ZONE}\n" "    origins:\n" + "".join(
        f"      - {ip}\n" for ip in ip_list)


class SystemdNotifyTest(IntegrationTest):
    def notify_socket(self, **kwargs):
        ns = NotifySocket(os.path.join(self.workdir, "notify.sock"), **kwargs)
        self.addCleanup(ns.close)
        return ns

    def test_ready_status_reload_and_stopping(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)}, config={"reconcile": {"interval": "2s"}})

        # The moment READY=1 is read, /healthz must already answer: probe it from the
        # receiving thread before looking at anything else.
        probe = {}

        def on_message(assignment):
            if assignment != "READY=1" or "healthz" in probe:
                return
            port = status_port_from_log(d)
            if port is None:
                probe["healthz"] = "READY=1 before the 'serving /metrics' log line"
                return
            try:
                probe["healthz"] = http("GET", f"http://127.0.0.1:{port}/healthz", timeout=2)
            except OSError as e:
                probe["healthz"] = f"GET /healthz failed right after READY=1: {e!r}"

        ns = self.notify_socket(on_message=on_message)
        t_start = time.monotonic()
        d.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)})
        pid = d.proc.pid

        ns.wait(lambda m: any(a == "READY=1" for _, _, a in m), what="READY=1")
        wait_for(lambda: "healthz" in probe, 5, "the /healthz probe after READY=1")
        t_ready = ns.times_of("READY=1")[0]
        print(f"\nnotify: READY=1 {t_ready - t_start:.3f} s after spawn; "
              f"/healthz right then: {probe['healthz']!r:.80}")
        self.assertIsInstance(probe["healthz"], tuple, probe["healthz"])
        self.assertEqual(probe["healthz"][0], 200, probe["healthz"])
        self.assertIn('"status":"ok"', probe["healthz"][1])

        # STATUS= after the cycle, with its result.
        cycle_status = ns.wait(
            lambda m: [a for _, _, a in m if a.startswith("STATUS=") and "pruned" in a],
            what="a STATUS= line with the cycle result")[0]
        print(f"notify: {cycle_status}")
        self.assertRegex(cycle_status, r"^STATUS=last cycle: 1 zones: 1 ok, 0 failed\b")
        self.assertIn("2 pruned", cycle_status)
        self.assertEqual(len(api.live()), 8)
        statuses = [a for a in ns.assignments() if a.startswith("STATUS=")]
        self.assertGreaterEqual(len(statuses), 1)

        # SIGHUP: RELOADING=1 (with MONOTONIC_USEC, on CLOCK_MONOTONIC) then READY=1 again.
        d.write_desired({ZONE: ips(0, 7)})
        t_hup = time.monotonic()
        d.signal(signal.SIGHUP)
        ns.wait(lambda m: [1 for t, _, a in m if t >= t_hup and a == "READY=1"],
                what="READY=1 after SIGHUP")
        after_hup = [(t, a) for t, _, a in ns.snapshot() if t >= t_hup]
        names = [a.split("=", 1)[0] for _, a in after_hup if not a.startswith("WATCHDOG=")]
        print(f"notify after SIGHUP: {[a for _, a in after_hup if a != 'WATCHDOG=1'][:4]}")
        self.assertIn("RELOADING", names)
        self.assertLess(names.index("RELOADING"), names.index("READY"),
                        f"READY=1 must follow RELOADING=1: {names}")
        usec = [a for _, a in after_hup if a.startswith("MONOTONIC_USEC=")]
        self.assertEqual(len(usec), 1, after_hup)
        self.assertLess(abs(int(usec[0].split("=", 1)[1]) / 1e6 - t_hup), 5.0,
                        "MONOTONIC_USEC is not CLOCK_MONOTONIC microseconds")
        wait_for(lambda: api.live() == set(ips(0, 7)), what="the prune after SIGHUP")
        self.assertIn("desired state reloaded (SIGHUP)", d.log_text())

        # SIGTERM: STOPPING=1, exit status 0.
        t_term = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=10), 0, d.log_text())
        ns.wait_read_to_end(time.monotonic())  # the daemon has exited: nothing more comes
        after_term = [a for t, _, a in ns.snapshot() if t >= t_term]
        print(f"notify after SIGTERM: {after_term}")
        self.assertIn("STOPPING=1", after_term)
        self.assertNotIn("READY=1", after_term)

        # Every datagram came from the main pid (NotifyAccess=main would drop others).
        senders = {p for _, p, _ in ns.snapshot()}
        self.assertEqual(senders, {pid}, f"datagram senders {senders}, daemon pid {pid}")
        self.assertEqual(ns.assignments().count("READY=1"), 2, ns.assignments())

    def test_watchdog_pings_at_half_watchdog_usec(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)}, config={"reconcile": {"interval": "2s"}})
        ns = self.notify_socket()
        d.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)})
        ns.wait(lambda m: [1 for _, _, a in m if a.startswith("STATUS=last cycle")],
                what="the first cycle's STATUS=")
        # Eight pings of the loop between cycles (interval 2 s): systemd kills the service
        # when two pings are more than WATCHDOG_USEC apart. (The cadence over hours, and no
        # pings once stalled, are unit-tested in simulated time: service_loop_test.cpp.)
        t0 = time.monotonic()
        pings = ns.wait(lambda m: (lambda p: p[:8] if len(p) >= 8 else None)(
            [t for t, _, a in m if a == "WATCHDOG=1" and t >= t0]), what="eight WATCHDOG=1")
        in_first_half = [t for t in pings if t < t0 + 0.5]
        edges = [t0] + pings
        max_gap = max(b - a for a, b in zip(edges, edges[1:]))
        print(f"\nwatchdog: {len(in_first_half)} pings in 0.5 s, {len(pings)} in "
              f"{pings[-1] - t0:.2f} s, longest gap {max_gap * 1000:.0f} ms "
              f"(WATCHDOG_USEC {WATCHDOG_USEC // 1000} ms)")
        self.assertGreaterEqual(
            len(in_first_half), 3,
            f"WATCHDOG_USEC={WATCHDOG_USEC}: expected a WATCHDOG=1 every ~"
            f"{WATCHDOG_USEC // 2000} ms, got pings at "
            f"{[round((t - t0) * 1000) for t in pings]} ms")
        self.assertLess(max_gap, WATCHDOG_USEC / 1e6,
                        f"a {max_gap * 1000:.0f} ms gap between pings: systemd would kill it")
        self.assertIsNone(d.proc.poll())

    def test_no_watchdog_pings_for_another_pid(self):
        # WATCHDOG_PID names some other process: the watchdog is not this daemon's to ping.
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)}, config={"reconcile": {"interval": "1s"}})
        ns = self.notify_socket()
        d.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": str(WATCHDOG_USEC),
                     "WATCHDOG_PID": str(os.getpid())})
        # The loop through a whole interval, ten pings' worth at WATCHDOG_USEC / 2: from the
        # first cycle's STATUS= to the second one's.
        ns.wait(lambda m: [1 for _, _, a in m if a.startswith("STATUS=last cycle")][1:],
                what="the second cycle's STATUS=")
        ns.wait_read_to_end(time.monotonic())
        print(f"\nwatchdog for WATCHDOG_PID={os.getpid()} (not the daemon): "
              f"{ns.assignments().count('WATCHDOG=1')} pings")
        self.assertIn("READY=1", ns.assignments())
        self.assertNotIn("WATCHDOG=1", ns.assignments())


class NoTokenInEnvDaemon(Daemon):
    """The environment systemd gives the unit: no CLOUDFLARE_* at all."""

    def env(self, extra=None):
        env = super().env(extra)
        if env.get("CLOUDFLARE_API_TOKEN") == TOKEN:
            del env["CLOUDFLARE_API_TOKEN"]
        return env


class SystemdCredentialsTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self._read_only_dirs = []

    def tearDown(self):
        for path in self._read_only_dirs:  # writable again, so the work dir can be removed
            os.chmod(path, 0o700)
        super().tearDown()

    def test_token_from_credentials_directory(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        creds = os.path.join(self.workdir, "credentials", "origin-reconciler.service")
        os.makedirs(creds)
        token_file = os.path.join(creds, "cloudflare-api-token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")  # as `LoadCredential=` copies an edited file: newline included
        os.chmod(token_file, 0o400)
        os.chmod(creds, 0o500)
        self._read_only_dirs.append(creds)

        d = NoTokenInEnvDaemon(self.workdir, api.api_base, {ZONE: ips(0, 7)})
        self._daemons.append(d)
        self.assertNotIn("CLOUDFLARE_API_TOKEN", d.env({"CREDENTIALS_DIRECTORY": creds}))
        d.start(env={"CREDENTIALS_DIRECTORY": creds})
        wait_for(lambda: api.live() == set(ips(0, 7)), what="the prune")
        wait_for(lambda: d.metric("origin_reconciler_pruned_total", zone=ZONE) == 3,
                 what="pruned_total == 3")

        log = d.log_text()
        source = re.search(r"credentials from (.*?), interval", log)
        print(f"\ncredentials: from {source.group(1) if source else '?'}")
        self.assertIn(f"credentials from systemd credential {token_file}", log)
        reqs = api.requests()
        self.assertTrue(reqs)
        print(f"credentials: stand-in saw {[(r['operation'], r['auth'], r['status']) for r in reqs]}")
        self.assertEqual({(r["auth"], r["status"]) for r in reqs}, {("token", 200)})
        self.assertNotIn(TOKEN, log)


class KubernetesConfigMapTest(IntegrationTest):
    """A ConfigMap volume as the kubelet lays it out and updates it (AtomicWriter)."""

    def kubelet_write(self, volume, files, stamp):
        """The kubelet's atomic update: a new timestamped folder, `..data_tmp` pointing at it,
        renamed over `..data`, then the old folder removed. First time: the user-visible
        symlinks `<name> -> ..data/<name>`."""
        folder = f"..2026_11_23_10_{stamp:02d}_00.00000000{stamp}"
        os.makedirs(os.path.join(volume, folder))
        for name, text in files.items():
            with open(os.path.join(volume, folder, name), "w") as f:
                f.write(text)
        data = os.path.join(volume, "..data")
        old = os.readlink(data) if os.path.islink(data) else None
        tmp = os.path.join(volume, "..data_tmp")
        os.symlink(folder, tmp)
        os.rename(tmp, data)  # atomic symlink swap
        for name in files:
            link = os.path.join(volume, name)
            if not os.path.lexists(link):
                os.symlink(os.path.join("..data", name), link)
        if old is not None:
            shutil.rmtree(os.path.join(volume, old))
        return folder

    def test_configmap_update_is_picked_up_without_a_restart(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        # The harness' own files in the work dir keep every IP: if the daemon read them
        # instead of the ConfigMap's, nothing would ever be pruned.
        d = self.daemon(api, {ZONE: ips(0, 10)})
        with open(d.config_path) as f:
            cfg = json.load(f)
        cfg["reconcile"].update({"desired_state": "desired.yaml", "interval": "1h",
                                 "settle_period": "200ms"})
        try:
            import yaml
            config_text = yaml.safe_dump(cfg, sort_keys=False)
        except ImportError:
            config_text = json.dumps(cfg, indent=2)

        volume = os.path.join(self.workdir, "etc-origin-reconciler")
        os.makedirs(volume)
        self.kubelet_write(volume, {"config.yaml": config_text,
                                    "desired.yaml": desired_yaml(ips(0, 8))}, 1)
        self.assertEqual(os.readlink(os.path.join(volume, "config.yaml")), "..data/config.yaml")
        d.config_path = os.path.join(volume, "config.yaml")

        d.start()
        pid = d.proc.pid
        d.wait_log("cycle done")
        self.assertEqual(api.live(), set(ips(0, 8)))
        self.assertIn(f"desired state {volume}/desired.yaml", d.log_text())
        deletes = len(api.requests("batch_delete"))

        # 1. A ConfigMap edit: fewer IPs.
        t = time.monotonic()
        self.kubelet_write(volume, {"config.yaml": config_text,
                                    "desired.yaml": desired_yaml(ips(0, 6))}, 2)
        wait_for(lambda: api.live() == set(ips(0, 6)), 10, "the prune after the ConfigMap swap")
        print(f"\nconfigmap: swap #1 acted on after {time.monotonic() - t:.1f} s, same pid")
        self.assertEqual(d.proc.pid, pid)
        self.assertIsNone(d.proc.poll())
        self.assertIn("desired state reloaded (file changed)", d.log_text())
        self.assertEqual(d.metric("origin_reconciler_desired_state_valid"), 1)
        deletes = len(api.requests("batch_delete"))

        # 2. A broken ConfigMap (a bad IP among fewer good ones): kept out, nothing deleted.
        self.kubelet_write(volume, {"config.yaml": config_text,
                                    "desired.yaml": desired_yaml(ips(0, 3) + ["10.20.0.300"])}, 3)
        wait_for(lambda: d.metric("origin_reconciler_desired_state_valid") == 0, 10,
                 "desired_state_valid == 0 after the broken swap")
        d.wait_log("desired state not reloaded")
        # (That the same broken file is reported once, not every poll, is unit-tested.)
        log = d.log_text()
        print(f"configmap: broken swap -> valid=0, "
              f"{log.count('desired state not reloaded')} 'not reloaded' line(s)")
        broken = [l for l in log.splitlines() if "desired state not reloaded" in l]
        self.assertEqual(len(broken), 1, log)
        self.assertIn("10.20.0.300", broken[0])
        self.assertIn("desired.yaml", broken[0])
        self.assertEqual(api.live(), set(ips(0, 6)))
        self.assertEqual(len(api.requests("batch_delete")), deletes)
        self.assertIsNone(d.proc.poll())
        self.assertEqual(d.metric("origin_reconciler_desired_state_valid"), 0)

        # 3. Fixed: recovers.
        self.kubelet_write(volume, {"config.yaml": config_text,
                                    "desired.yaml": desired_yaml(ips(0, 5))}, 4)
        wait_for(lambda: api.live() == set(ips(0, 5)), 10, "the prune after the fix")
        wait_for(lambda: d.metric("origin_reconciler_desired_state_valid") == 1, 5,
                 "desired_state_valid == 1")
        print("configmap: fixed swap -> valid=1, live set now 5 IPs, same pid")
        self.assertEqual(d.proc.pid, pid)
        self.assertEqual(sorted(os.listdir(volume)),
                         ["..2026_11_23_10_04_00.000000004", "..data", "config.yaml",
                          "desired.yaml"])


class PrometheusTest(IntegrationTest):
    def start_prometheus(self, target):
        cfg_path = os.path.join(self.workdir, "prometheus.yml")
        with open(cfg_path, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: origin-reconciler\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        log_path = os.path.join(self.workdir, "prometheus.log")
        for _ in range(5):
            port = free_loopback_port()
            log = open(log_path, "a")
            proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={cfg_path}",
                 f"--storage.tsdb.path={os.path.join(self.workdir, 'tsdb')}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.addCleanup(self.stop_prometheus, proc, log)
            base = f"http://127.0.0.1:{port}"

            def ready():
                if proc.poll() is not None:
                    return "exited"
                try:
                    return "ready" if http("GET", base + "/-/ready", timeout=2)[0] == 200 else None
                except OSError:
                    return None

            if wait_for(ready, 60, "Prometheus /-/ready") == "ready":
                return base
            with open(log_path) as f:
                if "address already in use" not in f.read():
                    break
        with open(log_path) as f:
            self.fail(f"Prometheus did not start:\n{f.read()[-2000:]}")

    @staticmethod
    def stop_prometheus(proc, log):
        stop_process(proc, timeout=10)
        log.close()

    @staticmethod
    def query(base, promql):
        status, body = http("GET", base + "/api/v1/query?" +
                            urllib.parse.urlencode({"query": promql}), timeout=5)
        if status != 200:
            return None
        doc = json.loads(body)
        return doc["data"]["result"] if doc.get("status") == "success" else None

    @unittest.skipUnless(os.access(PROMETHEUS, os.X_OK),
                         f"{PROMETHEUS} is not installed (apt-get install prometheus)")
    def test_real_prometheus_scrapes_the_daemon(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 7)}, config={"reconcile": {"interval": "2s"}}).start()
        wait_for(lambda: d.metric("origin_reconciler_pruned_total", zone=ZONE) == 3,
                 what="pruned_total == 3")
        target = d.status_base.removeprefix("http://")

        t0 = time.monotonic()
        base = self.start_prometheus(target)
        print(f"\nprometheus: ready after {time.monotonic() - t0:.1f} s")

        def up():
            r = self.query(base, 'up{job="origin-reconciler"}')
            return r if r and r[0]["value"][1] == "1" else None

        r = wait_for(up, 60, 'up{job="origin-reconciler"} == 1')
        print(f"prometheus: up == 1 after {time.monotonic() - t0:.1f} s")
        self.assertEqual(len(r), 1)
        self.assertEqual(r[0]["metric"]["instance"], target)

        def pruned():
            r = self.query(base, "origin_reconciler_pruned_total")
            return r if r else None

        r = wait_for(pruned, 60, "origin_reconciler_pruned_total in Prometheus")
        print(f"prometheus: origin_reconciler_pruned_total = "
              f"{[(s['metric'].get('zone'), s['value'][1]) for s in r]} "
              f"after {time.monotonic() - t0:.1f} s")
        self.assertEqual([(s["metric"]["zone"], s["metric"]["job"], s["value"][1]) for s in r],
                         [(ZONE, "origin-reconciler", "3")])

        status, body = http("GET", base + "/api/v1/targets")
        self.assertEqual(status, 200)
        targets = json.loads(body)["data"]["activeTargets"]
        self.assertEqual([(t["health"], t["lastError"]) for t in targets], [("up", "")],
                         targets)
        # The histogram made it in whole: a quantile over it is computable.
        r = self.query(base, "histogram_quantile(0.5, "
                             "rate(origin_reconciler_api_request_duration_seconds_bucket"
                             '{operation="list"}[1m]))')
        self.assertIsNotNone(r)

    @unittest.skipUnless(os.access(PROMTOOL, os.X_OK),
                         f"{PROMTOOL} is not installed (apt-get install prometheus)")
    def test_promtool_finds_nothing_to_lint(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "list", "status": 429, "retry_after": 0,
                                    "times": 1}])
        d = self.daemon(api, {ZONE: ips(0, 7)}).start()
        wait_for(lambda: d.metric("origin_reconciler_pruned_total", zone=ZONE) == 3,
                 what="pruned_total == 3")
        text = d.metrics()
        run = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=30)
        families = len(re.findall(r"^# TYPE ", text, re.M))
        print(f"\npromtool check metrics: exit {run.returncode}, {families} families, "
              f"output {(run.stdout + run.stderr).strip()!r}")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(run.stdout.strip(), "")
        self.assertEqual(run.stderr.strip(), "")


def dashboard_panels(dashboard):
    """Every panel that is not a row, including those inside collapsed rows."""
    for panel in dashboard["panels"]:
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def grafana_expr(expr, job):
    """A panel's PromQL with Grafana's variables replaced the way Grafana does for an
    "All" selection (allValue .+) and a 1 s scrape interval."""
    return (expr.replace("$job", job).replace("$zone", ".+")
            .replace("$__rate_interval", "1m").replace("$__interval", "5s"))


class GrafanaDashboardTest(IntegrationTest):
    start_prometheus = PrometheusTest.start_prometheus
    stop_prometheus = staticmethod(PrometheusTest.stop_prometheus)
    query = staticmethod(PrometheusTest.query)

    def test_dashboard_is_importable(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        for key in ("title", "uid", "schemaVersion", "panels", "templating"):
            self.assertIn(key, dashboard)
        ids = [p["id"] for p in dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        variables = {v["name"] for v in dashboard["templating"]["list"]}
        self.assertEqual(variables, {"datasource", "job", "zone"})
        panels = list(dashboard_panels(dashboard))
        self.assertGreaterEqual(len(panels), 8)
        for panel in panels:
            self.assertTrue(panel.get("targets"), f"panel {panel['title']!r} has no query")
            self.assertEqual(panel["datasource"]["uid"], "${datasource}", panel["title"])
            for target in panel["targets"]:
                self.assertEqual(target["datasource"]["uid"], "${datasource}", panel["title"])
        rows = [p["title"] for p in dashboard["panels"] if p.get("type") == "row"]
        self.assertEqual(len(rows), 4, rows)

    @unittest.skipUnless(os.access(PROMETHEUS, os.X_OK),
                         f"{PROMETHEUS} is not installed (apt-get install prometheus)")
    def test_every_panel_returns_data_from_prometheus(self):
        """Prometheus scrapes the daemon from before the prune starts: zone A goes from nothing
        stale to 3 stale (a 429 on its listing, a 503 and a failed item on its deletes, pruned
        by the next cycle), zone B to 15 stale of 20 (blocked by the safety guard)."""
        zone_a, zone_b = ips(0, 10), ips(100, 20)
        api = self.standin(
            zones={ZONE: zone_a, ZONE_B: zone_b},
            faults=[{"operation": "list", "zone": ZONE, "status": 429, "retry_after": 0,
                     "times": 1},
                    {"operation": "batch_delete", "status": 503, "times": 1},
                    {"operation": "batch_delete", "fail_ips": {zone_a[9]: "internal error"},
                     "times": 1}])
        d = self.daemon(api, {ZONE: zone_a, ZONE_B: zone_b},
                        config={"reconcile": {"interval": "1s"}}).start()
        d.wait_log(r"cycle done", timeout=20)
        scrape_target = d.status_base.removeprefix("http://")
        t0 = time.monotonic()
        base = self.start_prometheus(scrape_target)
        wait_for(lambda: self.query(base, 'up{job="origin-reconciler"} == 1'), 60,
                 "Prometheus scraping the daemon")

        # The prune, while Prometheus scrapes.
        d.write_desired({ZONE: zone_a[:7], ZONE_B: zone_b[:5]})
        d.signal(signal.SIGHUP)
        wait_for(lambda: d.metric("origin_reconciler_pruned_total", zone=ZONE) == 3, 30,
                 "zone A pruned (3)")
        self.assertEqual(api.live(ZONE), set(zone_a[:7]))
        self.assertEqual(api.live(ZONE_B), set(zone_b), "zone B must be blocked, not pruned")
        wait_for(lambda: self.query(base, f'origin_reconciler_pruned_total{{zone="{ZONE}"}} == 3'),
                 30, "the prune scraped by Prometheus")
        # The cycle after the last deletion lists the zone in line.
        wait_for(lambda: self.query(
            base, f'origin_reconciler_mappings{{zone="{ZONE}", state="stale"}} == 0'),
            30, "zone A listed with nothing stale, scraped by Prometheus")
        print(f"\ndashboard: prune scraped {time.monotonic() - t0:.1f} s after Prometheus start")

        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        empty = []
        results = {}
        for panel in dashboard_panels(dashboard):
            for target in panel["targets"]:
                expr = grafana_expr(target["expr"], "origin-reconciler")
                try:
                    r = wait_for(lambda: self.query(base, expr), 15, f"data for {expr}")
                except AssertionError:
                    r = self.query(base, expr)
                    empty.append(f"{panel['title']} [{target['refId']}]: {expr} -> {r!r}")
                    continue
                results[(panel["title"], target["refId"])] = r
                print(f"dashboard: {panel['title']} [{target['refId']}]: {len(r)} series")
        self.assertEqual(empty, [], "panels without data:\n" + "\n".join(empty))

        # The data says what happened.
        def by(title, label, ref="A"):
            return {s["metric"].get(label): float(s["value"][1]) for s in results[(title, ref)]}

        state = {(s["metric"]["zone"], s["metric"]["state"]): float(s["value"][1])
                 for s in results[("Zone state", "A")]}
        self.assertEqual(state[(ZONE, "stale")], 0)
        self.assertEqual(state[(ZONE_B, "stale")], 15)
        self.assertGreater(by("Safety blocks", "zone").get(ZONE_B, 0), 0)
        self.assertIn(ZONE, by("Last success age", "zone"))
        reasons = {s["metric"]["reason"] for s in results[("Retries", "A")]}
        self.assertLessEqual({"rate_limited", "server_error"}, reasons)
        codes = {s["metric"]["code"] for s in results[("API requests by code", "A")]}
        self.assertLessEqual({"200", "429", "503"}, codes)
        self.assertEqual(by("Desired state valid", "instance"), {scrape_target: 1.0})


if __name__ == "__main__":
    unittest.main()
