"""The fleet benchmark (scripts/bench --fleet).

1. Fleet: ZONES zones x MAPPINGS mappings, a STALE fraction of each zone no longer desired,
   generation 2 (origin-v2, 100 per page). `origin-reconciler --once` against cf-standin with
   no rate limit on either side (cloudflare.requests_per_second: 0, the stand-in without
   --rate-limit), so it measures the client; then, against the same stand-in re-seeded, the
   one-pass script a user would write on Cloudflare's official Node.js SDK (bench/fleet_sdk.mjs,
   npm `cloudflare` 7.3.0: list, diff, batch delete) with the same concurrency. Prints requests
   against the minimum, wall time, CPU time (user + system) and maximum RSS of each process,
   and the ratios SDK / daemon.
2. Change latency: LATENCY_ZONES zones of 10 mappings at Cloudflare's real budget (the daemon's
   defaults, 4 requests per second; cf-standin --rate-limit 1200). A quarter of the way into a
   cycle the desired state of the first zone (already reconciled in that cycle) drops 2 of its
   10 origins (written, then renamed over the file); prints the seconds from that write to the
   stand-in's answer to the zone's last batch delete.

Loopback only. Absolute figures depend on the machine; compare the ratios of one run.

usage: fleet_run.py ORC_BIN STANDIN_BIN [--zones N] [--mappings M] [--stale F]
                    [--concurrency C] [--latency-zones Z] [--interval SECONDS] [--no-sdk]
                    [--no-latency]
"""

import argparse
import datetime
import ipaddress
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_verdict import conclude

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SDK_VERSION = "7.3.0"  # generation 2, as pinned by tests/conformance


def zone_ids(n, base):
    return [f"{base + z:032x}" for z in range(n)]


def ipv4(start, i):
    return str(ipaddress.IPv4Address(start) + i)


class Standin:
    def __init__(self, binary, work, seed, token, extra=()):
        self.port_file = os.path.join(work, "standin.port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.seed = seed
        with open(os.path.join(work, "seed.json"), "w") as f:
            json.dump(seed, f)
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--port-file", self.port_file, "--seed",
             os.path.join(work, "seed.json"), "--token", token, *extra],
            stderr=open(os.path.join(work, "standin.log"), "a"))
        for _ in range(1200):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        self.base = "http://127.0.0.1:" + open(self.port_file).read().strip()
        self.api_base = self.base + "/client/v4"

    def admin(self, method, what, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/__admin/{what}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())

    def reset(self):
        self.admin("PUT", "state", self.seed)
        self.admin("DELETE", "requests")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def measure(argv, env, log_path):
    """Runs argv; returns (exit status, wall s, cpu s, max RSS MB)."""
    began = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - began
    return (os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024)


def count_requests(log):
    by_op = {}
    for r in log:
        by_op[r["operation"]] = by_op.get(r["operation"], 0) + 1
    return len(log), by_op, sum(1 for r in log if r["status"] != 200)


def fleet(a, work, token):
    zones = zone_ids(a.zones, 0xf1000)
    keep_n = a.mappings - int(round(a.mappings * a.stale))
    stale_n = a.mappings - keep_n
    seed = {"zones": {z: {"generate": {"count": a.mappings, "start": "10.0.0.1",
                                       "vendor": "aws", "region": "us-east-1"}}
                      for z in zones}}
    keep = [ipv4("10.0.0.1", i) for i in range(keep_n)]
    desired_path = os.path.join(work, "desired.json")
    with open(desired_path, "w") as f:  # JSON is YAML: the daemon reads the same file
        json.dump({"zones": [{"zone_id": z, "origins": keep} for z in zones]}, f)
    size_mb = os.path.getsize(desired_path) / 1e6
    pages = max(1, math.ceil(a.mappings / 100))
    minimum = a.zones * (pages + math.ceil(stale_n / 100))
    print(f"fleet: {a.zones} zones x {a.mappings} mappings, {stale_n} stale each "
          f"({a.zones * stale_n} in all); desired state {size_mb:.1f} MB; origin-v2, "
          f"concurrency {a.concurrency}; no rate limit; minimum {minimum} requests "
          f"({pages} list pages and {math.ceil(stale_n / 100)} batch deletes per zone)",
          flush=True)

    api = Standin(a.standin, work, seed, token)
    rows = {}
    try:
        with open(os.path.join(work, "config.yaml"), "w") as f:
            json.dump({"cloudflare": {"api_base": api.api_base, "api_flavor": "origin-v2",
                                      "requests_per_second": 0, "request_timeout": "5m"},
                       "reconcile": {"desired_state": desired_path, "max_delete_fraction": 1,
                                     "concurrency": a.concurrency},
                       "listen": "127.0.0.1:0"}, f)
        env = dict(os.environ, CLOUDFLARE_API_TOKEN=token)
        api.admin("DELETE", "requests")
        status, wall, cpu, rss = measure(
            [a.orc, "--config", os.path.join(work, "config.yaml"), "--once"], env,
            os.path.join(work, "daemon.log"))
        total, by_op, not_ok = count_requests(api.admin("GET", "requests"))
        left = sum(len(v) for v in api.admin("GET", "state")["zones"].values())
        rows["origin-reconciler"] = (status, total, by_op, not_ok, wall, cpu, rss, left)

        if not a.no_sdk:
            sdk_dir = subprocess.run([os.path.join(ROOT, "tests", "conformance", "install-sdk"),
                                      SDK_VERSION], check=True, capture_output=True,
                                     text=True).stdout.strip()
            api.reset()
            status, wall, cpu, rss = measure(
                ["node", os.path.join(HERE, "fleet_sdk.mjs"), sdk_dir, api.api_base,
                 desired_path, str(a.concurrency)], env, os.path.join(work, "sdk.log"))
            total, by_op, not_ok = count_requests(api.admin("GET", "requests"))
            left = sum(len(v) for v in api.admin("GET", "state")["zones"].values())
            rows[f"SDK {SDK_VERSION} script"] = (status, total, by_op, not_ok, wall, cpu, rss,
                                                 left)
    finally:
        api.stop()

    print(f"{'':22s} {'exit':>4s} {'requests':>9s} {'/min':>6s} {'wall s':>8s} {'CPU s':>8s} "
          f"{'max RSS MB':>10s} {'left':>9s}  by operation")
    for name, (status, total, by_op, not_ok, wall, cpu, rss, left) in rows.items():
        ops = ", ".join(f"{k} {v}" for k, v in sorted(by_op.items()))
        print(f"{name:22s} {status:4d} {total:9d} {total / minimum:6.3f} {wall:8.2f} "
              f"{cpu:8.2f} {rss:10.1f} {left:9d}  {ops}" + (f"; {not_ok} not 200" if not_ok else ""))
    expected_left = a.zones * keep_n
    ok = all(r[0] == 0 and r[7] == expected_left for r in rows.values())
    if len(rows) == 2:
        (_, _, _, _, dw, dc, dr, _), (_, _, _, _, sw, sc, sr, _) = rows.values()
        print(f"SDK script / origin-reconciler: wall {sw / dw:.2f}x, CPU {sc / dc:.2f}x, "
              f"max RSS {sr / dr:.2f}x")
    print(f"(mappings left: {expected_left} expected)", flush=True)
    return ok


def rfc3339_seconds(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def change_latency(a, work, token):
    zones = zone_ids(a.latency_zones, 0xf2000)
    seed = {"zones": {z: {"generate": {"count": 10, "start": "10.1.0.1", "vendor": "aws",
                                       "region": "us-east-1"}} for z in zones}}
    origins = [ipv4("10.1.0.1", i) for i in range(10)]
    desired_path = os.path.join(work, "latency-desired.json")

    def write_desired(first_zone_origins):
        doc = {"zones": [{"zone_id": z, "origins": first_zone_origins if i == 0 else origins}
                         for i, z in enumerate(zones)]}
        with open(desired_path + ".tmp", "w") as f:
            json.dump(doc, f)
        os.replace(desired_path + ".tmp", desired_path)

    write_desired(origins)
    api = Standin(a.standin, work, seed, token, ("--rate-limit", "1200"))
    print(f"\nchange latency: {a.latency_zones} zones x 10 mappings at the default 4 requests/s "
          f"(cf-standin --rate-limit 1200), interval {a.interval}s, settle_period 2s "
          f"(default); a full cycle is at least {a.latency_zones / 4:.0f} s", flush=True)
    daemon = None
    try:
        cfg = os.path.join(work, "latency-config.yaml")
        with open(cfg, "w") as f:
            json.dump({"cloudflare": {"api_base": api.api_base, "api_flavor": "origin-v2"},
                       "reconcile": {"desired_state": desired_path,
                                     "interval": f"{a.interval}s"},
                       "listen": "127.0.0.1:0"}, f)
        env = dict(os.environ, CLOUDFLARE_API_TOKEN=token)
        daemon = subprocess.Popen([a.orc, "--config", cfg], env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(work, "latency-daemon.log"), "w"))
        quarter = max(1, a.latency_zones // 4)
        while len(api.admin("GET", "requests")) < quarter:
            time.sleep(0.2)
        write_desired(origins[:8])  # the first zone drops 2 of its 10 origins
        written = time.time()
        deadline = time.monotonic() + a.latency_zones / 4 * 2 + a.interval + 120
        done = None
        while time.monotonic() < deadline and done is None:
            time.sleep(0.2)
            for r in api.admin("GET", "requests"):
                if r["zone"] == zones[0] and r["operation"] == "batch_delete" \
                        and r["status"] == 200:
                    done = rfc3339_seconds(r["time"])
        log = api.admin("GET", "requests")
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait()
        api.stop()
    limited = sum(1 for r in log if r["status"] == 429)
    if done is None:
        print("change latency: the changed zone was not pruned in time; NOT OK")
        return False
    print(f"change latency: {done - written:.1f} s from the write of the changed file to the "
          f"zone's last delete (429 answers: {limited})", flush=True)
    return limited == 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("orc")
    p.add_argument("standin")
    p.add_argument("--zones", type=int, default=20)
    p.add_argument("--mappings", type=int, default=200)
    p.add_argument("--stale", type=float, default=0.25)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--latency-zones", type=int, default=40)
    p.add_argument("--interval", type=int, default=10)
    p.add_argument("--no-sdk", action="store_true")
    p.add_argument("--no-latency", action="store_true")
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="orc-fleet.")
    token = secrets.token_hex(16)
    print(f"machine: {os.cpu_count()} CPUs, {os.uname().machine}, "
          f"load {os.getloadavg()[0]:.1f}; work dir {work}", flush=True)
    ok = fleet(a, work, token)
    if not a.no_latency:
        ok = change_latency(a, work, token) and ok
    return conclude(ok, work)


if __name__ == "__main__":
    sys.exit(main())
