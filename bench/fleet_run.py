"""The fleet benchmark (scripts/bench --fleet).

1. Fleet: ZONES zones x MAPPINGS mappings, a STALE fraction of each zone no longer desired, in
   one API generation (origin-v2: 100 per page; cache-v1: the whole zone in one answer).
   `origin-reconciler --once` against cf-standin with no rate limit on either side
   (cloudflare.requests_per_second: 0, the stand-in without --rate-limit), so it measures the
   client; then, against the same stand-in re-seeded, the one-pass script a user would write
   on Cloudflare's official Node.js SDK (bench/fleet_sdk.mjs, npm `cloudflare` 7.3.0 for
   origin-v2, 6.0.0 for cache-v1: list, diff, batch delete) with the same concurrency. Prints
   requests against the minimum, wall time, CPU time (user + system) and maximum RSS of each
   process, and the ratios SDK / daemon. Each side runs --repeat times (3 unless told), in
   turn, so that a slower spell of a shared machine falls on both alike: wall and CPU time are
   the medians of its runs, max RSS the largest. Then `--check-config` on the same files (CPU,
   peak RSS) and the parse line: its CPU per MB against Python's C JSON parser reading the same
   file in the same run (a change that makes the desired-state parse slower raises it).
   At 1,000 zones x 3,500 it also runs the daemon as a service: a cycle, then the last zone
   drops one origin and SIGHUP reloads the file, and the zone is pruned; prints the maximum
   RSS over all of it (the RSS bound holds across a reload too).
   --matrix runs the three sizes the README reports (50 x 1,000; 100 x 3,500; 1,000 x 3,500)
   in both generations and ends with one summary table and the targets each row meets.
2. Change latency: LATENCY_ZONES zones of 10 mappings at Cloudflare's real budget (the daemon's
   defaults, 4 requests per second; cf-standin --rate-limit 1200). A quarter of the way into a
   cycle the desired state of the first zone (already reconciled in that cycle) drops 2 of its
   10 origins (written, then renamed over the file); prints the seconds from that write to the
   stand-in's answer to the zone's last batch delete.

Loopback only. Absolute figures depend on the machine; compare the ratios of one run.

usage: fleet_run.py ORC_BIN STANDIN_BIN [--zones N] [--mappings M] [--stale F]
                    [--generation origin-v2|cache-v1] [--matrix] [--concurrency C]
                    [--latency-zones Z] [--interval SECONDS] [--no-sdk] [--no-latency]
                    [--repeat N]
"""

import argparse
import datetime
import ipaddress
import json
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_verdict import conclude

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SDK_VERSIONS = {"origin-v2": "7.3.0", "cache-v1": "6.0.0"}  # as pinned by tests/conformance
MATRIX = [(50, 1000), (100, 3500), (1000, 3500)]


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
        # A JSON type: urllib's default (a form) is refused by cpp-httplib past 8 KB.
        req = urllib.request.Request(f"{self.base}/__admin/{what}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())

    def reset(self):
        self.admin("PUT", "state", self.seed)
        self.admin("DELETE", "requests")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def timed(argv, env, stdout):
    """Runs argv under GNU time; returns (exit status, wall s, CPU s, max RSS MiB). Not
    os.wait4: a child's ru_maxrss starts from the memory of the process that forked it (this
    one, holding the stand-in's state), which GNU time, small, does not add."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        began = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-q", "-f", "%x %U %S %M", "-o", report.name,
                               *argv], env=env, stdout=stdout, stderr=subprocess.STDOUT)
        wall = time.monotonic() - began
        fields = report.read().split()
    if len(fields) != 4:
        return proc.returncode, wall, float("nan"), float("nan")
    status, user, system, rss_kb = fields
    # GNU time counts in hundredths of a second: a floor keeps the ratios finite.
    return int(status), wall, max(float(user) + float(system), 0.01), int(rss_kb) / 1024


def measure(argv, env, log_path):
    """Runs argv; returns (exit status, wall s, cpu s, max RSS MiB)."""
    with open(log_path, "w") as log:
        return timed(argv, env, log)


def write_desired(path, zones, keep, changed=None):
    """The desired state: every zone keeps `keep`, but the zones `changed` maps by index to
    their own origins; written beside the file and renamed over it. JSON is YAML: the daemon
    reads the same file as the SDK script."""
    doc = {"zones": [{"zone_id": z, "origins": keep} for z in zones]}
    for i, origins in (changed or {}).items():
        doc["zones"][i]["origins"] = origins
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f)
    os.replace(path + ".tmp", path)


def reload_peak(a, api, config, env, desired_path, zones, keep, log_path):
    """Runs the daemon as a service against a fresh seed: its first cycle, then the last zone
    drops one origin and SIGHUP reloads the file, and the daemon prunes it. Returns its maximum
    RSS in MiB over all of that (GNU time), or None when a step did not happen in time. The
    file is as it was when it returns."""
    api.reset()
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report, \
            open(log_path, "w") as log:
        timer = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M", "-o", report.name, a.orc,
                                  "--config", config], env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        ok = False
        try:
            def logged(text):
                with open(log_path) as f:
                    return f.read().count(text)

            def wait(predicate, seconds):
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    if predicate():
                        return True
                    if timer.poll() is not None:
                        return False
                    time.sleep(0.1)
                return False

            if wait(lambda: logged("cycle done:") >= 1, 600):
                write_desired(desired_path, zones, keep, {len(zones) - 1: keep[:-1]})
                deletes_before = sum(1 for r in api.admin("GET", "requests")
                                     if r["zone"] == zones[-1] and r["operation"] == "batch_delete")
                with open(f"/proc/{timer.pid}/task/{timer.pid}/children") as f:
                    daemon_pid = int(f.read().split()[0])
                os.kill(daemon_pid, signal.SIGHUP)
                ok = wait(lambda: logged("desired state reloaded") >= 1, 600) and wait(
                    lambda: sum(1 for r in api.admin("GET", "requests")
                                if r["zone"] == zones[-1] and r["operation"] == "batch_delete")
                    > deletes_before, 600)
                os.kill(daemon_pid, signal.SIGTERM)
        finally:
            write_desired(desired_path, zones, keep)
            if timer.poll() is None:
                try:
                    timer.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    timer.kill()
                    timer.wait()
        fields = report.read().split()
    if not ok or not fields:
        return None
    return int(fields[-1]) / 1024


def count_requests(log):
    by_op = {}
    for r in log:
        by_op[r["operation"]] = by_op.get(r["operation"], 0) + 1
    return len(log), by_op, sum(1 for r in log if r["status"] != 200)


def cpu_of(argv, env=None):
    """(exit status, CPU s, max RSS MiB) of a command whose output is not wanted."""
    status, _, cpu, rss = timed(argv, env, subprocess.DEVNULL)
    return status, cpu, rss


def fleet(a, work, token, zones_n, mappings, generation):
    """One fleet run; returns a dict of its figures (None for a side not run)."""
    zones = zone_ids(zones_n, 0xf1000)
    keep_n = mappings - int(round(mappings * a.stale))
    stale_n = mappings - keep_n
    seed = {"zones": {z: {"generate": {"count": mappings, "start": "10.0.0.1",
                                       "vendor": "aws", "region": "us-east-1"}}
                      for z in zones}}
    keep = [ipv4("10.0.0.1", i) for i in range(keep_n)]
    desired_path = os.path.join(work, "desired.json")
    write_desired(desired_path, zones, keep)
    size_mb = os.path.getsize(desired_path) / 1e6
    deletes = math.ceil(stale_n / 100)
    pages = max(1, math.ceil(mappings / 100)) if generation == "origin-v2" else 1
    minimum = zones_n * (pages + deletes)
    print(f"\nfleet: {zones_n} zones x {mappings} mappings, {stale_n} stale each "
          f"({zones_n * stale_n} in all); desired state {size_mb:.1f} MB; {generation}, "
          f"concurrency {a.concurrency}; no rate limit; minimum {minimum} requests "
          f"({pages} list {'pages' if pages > 1 else 'request'} and {deletes} batch deletes "
          f"per zone)", flush=True)

    api = Standin(a.standin, work, seed, token)
    config = os.path.join(work, "config.yaml")
    env = dict(os.environ, CLOUDFLARE_API_TOKEN=token)
    try:
        with open(config, "w") as f:
            json.dump({"cloudflare": {"api_base": api.api_base, "api_flavor": generation,
                                      "requests_per_second": 0, "request_timeout": "5m"},
                       "reconcile": {"desired_state": desired_path, "max_delete_fraction": 1,
                                     "concurrency": a.concurrency},
                       "listen": "127.0.0.1:0"}, f)
        def run_daemon(first):
            if first:
                api.admin("DELETE", "requests")  # the seed as it came
            else:
                api.reset()
            status, wall, cpu, rss = measure([a.orc, "--config", config, "--once"], env,
                                             os.path.join(work, "daemon.log"))
            total, by_op, not_ok = count_requests(api.admin("GET", "requests"))
            left = sum(len(v) for v in api.admin("GET", "state")["zones"].values())
            return status, total, by_op, not_ok, wall, cpu, rss, left

        runs = {"origin-reconciler": [run_daemon(True)]}

        # The RSS bound holds across a reload too: measured where the issue sets it.
        reload_rss = None
        if zones_n >= 1000 and mappings >= 3500:
            with open(config) as f:
                service = json.load(f)
            service["reconcile"]["interval"] = "1h"
            service_config = os.path.join(work, "service-config.yaml")
            with open(service_config, "w") as f:
                json.dump(service, f)
            reload_rss = reload_peak(a, api, service_config, env, desired_path, zones, keep,
                                     os.path.join(work, "reload.log"))
            print("daemon as a service, a cycle then a SIGHUP reload (the last zone drops one "
                  "origin) and its prune: " + ("did not finish; see reload.log" if reload_rss is
                                               None else f"max RSS {reload_rss:.1f} MiB"),
                  flush=True)

        run_sdk = None
        if not a.no_sdk:
            version = SDK_VERSIONS[generation]
            sdk_dir = subprocess.run([os.path.join(ROOT, "tests", "conformance", "install-sdk"),
                                      version], check=True, capture_output=True,
                                     text=True).stdout.strip()

            def run_sdk():
                api.reset()
                status, wall, cpu, rss = measure(
                    ["node", os.path.join(HERE, "fleet_sdk.mjs"), sdk_dir, api.api_base,
                     desired_path, str(a.concurrency), generation], env,
                    os.path.join(work, "sdk.log"))
                total, by_op, not_ok = count_requests(api.admin("GET", "requests"))
                left = sum(len(v) for v in api.admin("GET", "state")["zones"].values())
                return status, total, by_op, not_ok, wall, cpu, rss, left

            runs[f"SDK {version} script"] = [run_sdk()]
        # Turn about, so that a slower spell of the machine falls on both sides alike.
        for _ in range(a.repeat - 1):
            runs["origin-reconciler"].append(run_daemon(False))
            if run_sdk is not None:
                runs[f"SDK {version} script"].append(run_sdk())
    finally:
        api.stop()

    # Each side: the median wall and CPU time of its runs, the largest RSS, and its requests
    # and what it left (the same in every run, or the run is not ok).
    expected_left = zones_n * keep_n
    rows = {}
    all_ok = True
    for name, side in runs.items():
        all_ok = all_ok and all(r[0] == 0 and r[7] == expected_left and r[1] == side[0][1]
                                for r in side)
        status = next((r[0] for r in side if r[0] != 0), 0)
        _, total, by_op, not_ok, _, _, _, left = side[-1]
        wall = statistics.median(r[4] for r in side)
        cpu = statistics.median(r[5] for r in side)
        rss = max(r[6] for r in side)
        rows[name] = (status, total, by_op, not_ok, wall, cpu, rss, left)
        if len(side) > 1:
            print(f"{name}: {len(side)} runs, CPU " +
                  " ".join(f"{r[5]:.2f}" for r in side) + " s, wall " +
                  " ".join(f"{r[4]:.2f}" for r in side) + " s, max RSS " +
                  " ".join(f"{r[6]:.1f}" for r in side) + " MiB")

    print(f"{'':22s} {'exit':>4s} {'requests':>9s} {'/min':>6s} {'wall s':>8s} {'CPU s':>8s} "
          f"{'max RSS MiB':>11s} {'left':>9s}  by operation")
    for name, (status, total, by_op, not_ok, wall, cpu, rss, left) in rows.items():
        ops = ", ".join(f"{k} {v}" for k, v in sorted(by_op.items()))
        print(f"{name:22s} {status:4d} {total:9d} {total / minimum:6.3f} {wall:8.2f} "
              f"{cpu:8.2f} {rss:11.1f} {left:9d}  {ops}" + (f"; {not_ok} not 200" if not_ok else ""))
    result = {"zones": zones_n, "mappings": mappings, "generation": generation,
              "ok": all_ok, "minimum": minimum}
    d = rows["origin-reconciler"]
    result["daemon"] = {"requests": d[1], "wall": d[4], "cpu": d[5], "rss": d[6],
                        "reload_rss": reload_rss}
    if zones_n >= 1000 and mappings >= 3500 and reload_rss is None:
        result["ok"] = False
    result["sdk"] = None
    if len(rows) == 2:
        (_, _, _, _, dw, dc, dr, _), (_, st, _, _, sw, sc, sr, _) = rows.values()
        result["sdk"] = {"requests": st, "wall": sw, "cpu": sc, "rss": sr}
        print(f"SDK script / origin-reconciler: wall {sw / dw:.2f}x, CPU {sc / dc:.2f}x, "
              f"max RSS {sr / dr:.2f}x")
    print(f"(mappings left: {expected_left} expected)", flush=True)

    # --check-config reads the same configuration and desired state, and nothing else.
    status, cc_cpu, cc_rss = cpu_of([a.orc, "--config", config, "--check-config"], env)
    # Python's own start-up taken away, so the reference is the parse alone.
    _, json_cpu, _ = cpu_of([sys.executable, "-c",
                             "import json, sys; json.load(open(sys.argv[1]))", desired_path])
    _, startup_cpu, _ = cpu_of([sys.executable, "-c", "import json, sys"])
    json_cpu = max(json_cpu - startup_cpu, 0.001)
    result["check_config"] = {"cpu": cc_cpu, "rss": cc_rss, "json_cpu": json_cpu,
                              "mb": size_mb}
    result["ok"] = result["ok"] and status == 0
    print(f"--check-config: exit {status}, {cc_cpu:.2f} s CPU, {cc_rss:.1f} MiB peak")
    # GNU time counts hundredths of a second: below a few of them the ratio says nothing.
    ratio = (f"ratio {cc_cpu / json_cpu:.2f}x (compare it with an earlier run's at this size: "
             f"higher means a slower parse)" if json_cpu >= 0.05 and cc_cpu >= 0.05
             else "no ratio: too little CPU to time at this size")
    print(f"parse: --check-config {size_mb / cc_cpu:.1f} MB/s of CPU on a {size_mb:.1f} MB "
          f"desired state; Python's C JSON parser on the same file {json_cpu:.2f} s CPU; {ratio}",
          flush=True)
    return result


def targets(r):
    """The issue's targets for one row: a list of (what, met)."""
    d, s, cc = r["daemon"], r["sdk"], r["check_config"]
    out = [("requests = minimum", d["requests"] == r["minimum"])]
    if s is not None:
        need = 5 if r["zones"] >= 1000 else 8
        out += [(f"CPU >= {need}x below SDK", s["cpu"] >= need * d["cpu"]),
                ("RSS >= 4x below SDK", s["rss"] >= 4 * d["rss"]),
                ("wall <= SDK", d["wall"] <= s["wall"])]
    if r["zones"] >= 1000 and r["mappings"] >= 3500:
        out += [("daemon RSS <= 120 MB", d["rss"] * 1.048576 <= 120),
                ("... and across a SIGHUP reload",
                 d["reload_rss"] is not None and d["reload_rss"] * 1.048576 <= 120),
                ("--check-config <= 2 s CPU", cc["cpu"] <= 2),
                ("--check-config <= 200 MB", cc["rss"] * 1.048576 <= 200)]
    return out


def summary(results):
    print("\nsummary (one run of this script; CPU = user + system, median of each side's runs; "
          "max RSS, the largest; SDK / daemon ratios)")
    print(f"{'fleet':>12s} {'generation':>10s} {'daemon CPU':>10s} {'SDK CPU':>8s} {'ratio':>6s} "
          f"{'daemon RSS':>10s} {'SDK RSS':>8s} {'ratio':>6s} {'daemon wall':>11s} "
          f"{'SDK wall':>8s} {'check-config':>15s}")
    for r in results:
        d, s, cc = r["daemon"], r["sdk"], r["check_config"]
        sdk = s or {"cpu": float("nan"), "rss": float("nan"), "wall": float("nan")}
        print(f"{r['zones']:>5d} x {r['mappings']:<4d} {r['generation']:>10s} "
              f"{d['cpu']:9.2f}s {sdk['cpu']:7.2f}s {sdk['cpu'] / d['cpu']:5.1f}x "
              f"{d['rss']:7.1f}MiB {sdk['rss']:5.1f}MiB {sdk['rss'] / d['rss']:5.1f}x "
              f"{d['wall']:10.2f}s {sdk['wall']:7.2f}s {cc['cpu']:5.2f}s {cc['rss']:6.1f}MiB")
    print("\ntargets")
    for r in results:
        marks = ", ".join(f"{what}: {'met' if met else 'NOT met'}" for what, met in targets(r))
        print(f"{r['zones']} x {r['mappings']} {r['generation']}: {marks}")


def rfc3339_seconds(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def change_latency(a, work, token):
    zones = zone_ids(a.latency_zones, 0xf2000)
    seed = {"zones": {z: {"generate": {"count": 10, "start": "10.1.0.1", "vendor": "aws",
                                       "region": "us-east-1"}} for z in zones}}
    origins = [ipv4("10.1.0.1", i) for i in range(10)]
    desired_path = os.path.join(work, "latency-desired.json")

    write_desired(desired_path, zones, origins)
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
        # The first zone drops 2 of its 10 origins.
        write_desired(desired_path, zones, origins, {0: origins[:8]})
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
    p.add_argument("--generation", choices=sorted(SDK_VERSIONS), default="origin-v2")
    p.add_argument("--matrix", action="store_true")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--latency-zones", type=int, default=40)
    p.add_argument("--interval", type=int, default=10)
    p.add_argument("--no-sdk", action="store_true")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    if a.repeat < 1:
        p.error("--repeat must be at least 1")
    work = tempfile.mkdtemp(prefix="orc-fleet.")
    token = secrets.token_hex(16)
    print(f"machine: {os.cpu_count()} CPUs, {os.uname().machine}, "
          f"load {os.getloadavg()[0]:.1f}; work dir {work}", flush=True)
    runs = [(z, m, g) for z, m in MATRIX for g in ("origin-v2", "cache-v1")] if a.matrix \
        else [(a.zones, a.mappings, a.generation)]
    results = [fleet(a, work, token, z, m, g) for z, m, g in runs]
    ok = all(r["ok"] for r in results)
    if len(results) > 1 or not a.no_sdk:
        summary(results)
    if not a.no_latency:
        ok = change_latency(a, work, token) and ok
    return conclude(ok, work)


if __name__ == "__main__":
    sys.exit(main())
