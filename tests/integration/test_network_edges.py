"""The daemon's network edges under hostile or careless conditions, over loopback only:
answers that echo the token, forge log lines or are huge; gzip bombs; proxies in the
environment; a listen address that cannot be bound; slow and idle clients on /healthz."""

import http.server
import json
import os
import re
import resource
import socket
import subprocess
import threading
import time
import urllib.request
import zlib

from harness import ORC_BIN, SANITIZED, TOKEN, ZONE, IntegrationTest, LoopbackServer, ips
from harness import http as request

MiB = 1024 * 1024


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


class AnswerServer:
    """A tiny HTTP server on 127.0.0.1 whose every GET gets `answer(handler)`; counts requests."""

    def __init__(self, answer):
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                outer.requests += 1
                try:
                    answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the daemon stopped reading, as it should

            def log_message(self, *args):
                pass

        self._server = LoopbackServer(Handler)
        self.api_base = f"http://127.0.0.1:{self._server.port}/client/v4"

    def stop(self):
        self._server.stop()


def gzip_bomb(decoded_bytes):
    """gzip of `decoded_bytes` zero bytes, made in pieces (about 1 MB per GB)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    chunk = bytes(MiB)
    parts = [comp.compress(chunk) for _ in range(decoded_bytes // MiB)]
    parts.append(comp.flush())
    return b"".join(parts)


class EchoedSecretsTest(IntegrationTest):
    """An error answer echoing the token, forging a log line and carrying a 20 MB message."""

    FORGED = "2026-01-01T00:00:00.000Z info  zone forged: in line"

    def hostile_standin(self):
        body = json.dumps({
            "success": False,
            "errors": [
                {"code": 6003, "message": f"Invalid header: Authorization: Bearer {TOKEN}\n"
                                          + self.FORGED},
                {"code": 6003, "message": "m" * (20 * MiB) + TOKEN},
            ],
            "messages": [], "result": None})
        return self.standin(zones={ZONE: ips(0, 20)},
                            faults=[{"operation": "list", "status": 400, "body": body,
                                     "times": -1}])

    def config(self, fmt):
        # Room for the 20 MB message to reach the redaction (the default cap would stop it).
        # A generous timeout: the stand-in takes a while to send 20 MB on a busy machine.
        return {"log": {"level": "info", "format": fmt},
                "cloudflare": {"max_response_bytes": 64 * MiB, "request_timeout": "60s"}}

    def assert_clean(self, text, what):
        self.assertNotIn(TOKEN, text, what)
        for line in text.splitlines():
            self.assertFalse(line.startswith(self.FORGED[:24]), f"{what}: forged line {line!r}")
            self.assertLess(len(line), 8192 + 256, f"{what}: a {len(line)}-byte line")

    def test_token_never_appears_in_logs_report_or_metrics(self):
        s = self.hostile_standin()
        for fmt in ("text", "json"):
            d = self.daemon(s, {ZONE: ips(0, 10)}, config=self.config(fmt))
            r = d.run_once()
            self.assertEqual(r.returncode, 1, r.stderr[-2000:])
            self.assertIn("[redacted]", r.stderr)
            self.assertIn("more bytes]", r.stderr)
            self.assert_clean(r.stderr, f"{fmt} log")
            self.assert_clean(r.stdout, "--once report")
            self.assertIn("[redacted]", r.stdout)
            if fmt == "json":
                for line in r.stderr.splitlines():
                    json.loads(line)  # every line one JSON object: nothing forged or broken

        d = self.daemon(s, {ZONE: ips(0, 10)}, config=self.config("text")).start()
        d.wait_log(r"reconcile failed", timeout=90)
        self.assert_clean(d.metrics(), "/metrics")
        status, health = request("GET", d.status_base + "/healthz")
        self.assert_clean(health, "/healthz")
        d.stop()
        self.assert_clean(d.log_text(), "daemon log")


class BindFailureTest(IntegrationTest):
    def run_with_listen(self, listen):
        s = self.standin(zones={ZONE: []})
        d = self.daemon(s, {ZONE: []}, config={"listen": listen})
        return subprocess.run([ORC_BIN, "--config", d.config_path], capture_output=True,
                              text=True, timeout=30, env=d.env())

    def test_a_port_in_use_exits_2_with_the_address_and_the_reason(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        try:
            r = self.run_with_listen(f"127.0.0.1:{port}")
        finally:
            taken.close()
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}: Address already in use", r.stderr)
        self.assertNotIn("terminate called", r.stderr)

    def test_an_address_of_another_host_exits_2(self):
        r = self.run_with_listen("192.0.2.1:9464")  # TEST-NET-1: never bound, never contacted
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot listen on 192.0.2.1:9464: Cannot assign requested address",
                      r.stderr)
        self.assertNotIn("terminate called", r.stderr)


class BoundedAnswersTest(IntegrationTest):
    """A gzip bomb and a 100 MB answer fail that request; the daemon stays under 100 MB."""

    def run_against(self, answer):
        server = AnswerServer(answer)
        self.addCleanup(server.stop)
        s = self.standin(zones={})  # only for the harness; the daemon talks to `server`
        d = self.daemon(s, {ZONE: ips(0, 10)})
        with open(d.config_path) as f:
            cfg = json.load(f)
        cfg["cloudflare"]["api_base"] = server.api_base
        with open(d.config_path, "w") as f:
            json.dump(cfg, f)
        d.start()
        d.wait_log(r"reconcile failed", timeout=60)
        hwm = vm_hwm_kib(d.proc.pid)
        log = d.log_text()
        d.stop()
        return server, log, hwm

    def assert_refused_within_the_bound(self, answer):
        """The request fails as too large, is not retried, and the daemon's peak resident set
        stays under 100 MB."""
        server, log, hwm = self.run_against(answer)
        self.assertIn("answer larger than cloudflare.max_response_bytes", log)
        if not SANITIZED:
            self.assertLess(hwm, 100 * 1024, f"VmHWM {hwm} KiB")
        self.assertEqual(server.requests, 1, "a too-large answer is not retried")

    def test_a_gzip_bomb_fails_the_request_within_the_memory_bound(self):
        bomb = gzip_bomb(1024 * MiB)  # about 1 MB on the wire, 1 GiB decoded

        def answer(h):
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(bomb)))
            h.end_headers()
            h.wfile.write(bomb)

        self.assert_refused_within_the_bound(answer)

    def test_a_100_mb_answer_fails_the_request_within_the_memory_bound(self):
        def answer(h):
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.end_headers()  # no Content-Length: read until the connection closes
            chunk = b"x" * MiB
            for _ in range(100):
                h.wfile.write(chunk)

        self.assert_refused_within_the_bound(answer)


class ProxyTest(IntegrationTest):
    """http_proxy/https_proxy/ALL_PROXY never see a loopback or plain-http API request."""

    def test_proxies_in_the_environment_are_not_used_for_the_api(self):
        contacted = []
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.2)
        stop = threading.Event()

        def record():
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except socket.timeout:
                    continue
                conn.settimeout(1)
                try:
                    contacted.append(conn.recv(4096))
                except OSError:
                    contacted.append(b"")
                conn.close()

        t = threading.Thread(target=record, daemon=True)
        t.start()
        proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
        try:
            s = self.standin(zones={ZONE: ips(0, 20)})
            d = self.daemon(s, {ZONE: ips(0, 18)})
            r = d.run_once(env={"http_proxy": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy,
                                "HTTPS_PROXY": proxy, "ALL_PROXY": proxy, "all_proxy": proxy,
                                "no_proxy": "", "NO_PROXY": ""})
        finally:
            stop.set()
            t.join()
            listener.close()
        self.assertEqual(contacted, [], "the proxy was contacted")
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertEqual(len(s.live()), 18)


class StatusListenerTest(IntegrationTest):
    """/healthz keeps answering while clients misbehave."""

    def setUp(self):
        super().setUp()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096 and hard >= 4096:
            resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
        self.sockets = []

    def tearDown(self):
        for c in self.sockets:
            c.close()
        super().tearDown()

    def running(self):
        s = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(s, {ZONE: ips(0, 10)}).start()
        d.wait_log(r"cycle done")
        host, port = d.status_base[len("http://"):].split(":")
        return d, (host, int(port))

    def connect(self, address):
        c = socket.create_connection(address, timeout=5)
        self.sockets.append(c)
        return c

    def healthz_seconds(self, d):
        started = time.monotonic()
        status, body = request("GET", d.status_base + "/healthz", timeout=5)
        self.assertEqual(status, 200, body)
        return time.monotonic() - started

    def test_64_slow_loris_connections_leave_healthz_answering(self):
        d, address = self.running()
        for c in [self.connect(address) for _ in range(64)]:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for i in range(3):  # trickle more header bytes meanwhile
            for c in self.sockets:
                c.sendall(f"X-{i}: y\r\n".encode())
            self.assertLess(self.healthz_seconds(d), 1.0)
        status, text = request("GET", d.status_base + "/metrics", timeout=5)
        self.assertEqual(status, 200)

    def test_2000_idle_connections_leave_healthz_answering(self):
        d, address = self.running()
        for _ in range(2000):
            self.connect(address)
        self.assertLess(self.healthz_seconds(d), 1.0)
        if not SANITIZED:
            self.assertLess(vm_hwm_kib(d.proc.pid), 100 * 1024)

    def test_a_request_body_is_refused_not_buffered(self):
        d, address = self.running()
        c = self.connect(address)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1500000000\r\n\r\n")
        answer = c.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        self.assertLess(self.healthz_seconds(d), 1.0)


class StandInCompressionTest(IntegrationTest):
    """The stand-in answers uncompressed whatever the client accepts: compressing is its own CPU,
    not the client's, and at brotli's slowest level it was what the fleet benchmark measured."""

    def test_an_answer_is_not_compressed_for_a_client_that_accepts_br_and_gzip(self):
        api = self.standin(zones={ZONE: ips(0, 200)})
        for accepted in ("br", "gzip, deflate", "br, gzip, deflate, zstd"):
            with self.subTest(accepted=accepted):
                req = urllib.request.Request(
                    f"{api.api_base}/zones/{ZONE}/origin/cloud_regions?per_page=100",
                    headers={"Authorization": f"Bearer {TOKEN}", "Accept-Encoding": accepted})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    self.assertIsNone(resp.headers.get("Content-Encoding"))
                    body = resp.read()
                    self.assertEqual(int(resp.headers["Content-Length"]), len(body))
                self.assertEqual(len(json.loads(body)["result"]), 100)
