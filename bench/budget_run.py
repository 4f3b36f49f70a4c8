"""The API budget at full size (scripts/bench --budget).

One cycle of ZONES zones x 1,000 mappings, 250 of them stale in each (1,300 requests at
cache-v1: a list and three batch deletes per zone), run with `origin-reconciler --once` at the
default settings (4 requests per second, 5 % headroom) against `cf-standin --rate-limit 1200`,
Cloudflare's own sliding 5-minute window. Prints, from the stand-in's request log: the
requests, the 429 answers, the most requests in any 300-second and any 1-second window, and the
wall time against the bound requests / requests_per_second. Loopback only.

usage: budget_run.py ORC_BIN STANDIN_BIN [ZONES]
"""

import ipaddress
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

# The request-log window count the integration tests use.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from harness import max_in_any  # noqa: E402

from bench_verdict import conclude  # noqa: E402

RATE = 4.0  # the default cloudflare.requests_per_second
MAPPINGS, STALE = 1000, 250


def main():
    orc_bin, standin_bin = sys.argv[1], sys.argv[2]
    zones = int(sys.argv[3]) if len(sys.argv) > 3 else 325
    work = tempfile.mkdtemp(prefix="orc-budget.")
    ids = [f"{0xbd000 + z:032x}" for z in range(zones)]
    start = ipaddress.IPv4Address("10.0.0.1")
    with open(os.path.join(work, "seed.json"), "w") as f:
        json.dump({"zones": {z: {"generate": {"count": MAPPINGS, "start": str(start),
                                              "vendor": "aws", "region": "us-east-1"}}
                             for z in ids}}, f)
    keep = [str(start + i) for i in range(MAPPINGS - STALE)]
    with open(os.path.join(work, "desired.yaml"), "w") as f:  # JSON is YAML
        json.dump({"zones": [{"zone_id": z, "origins": keep} for z in ids]}, f)
    token = secrets.token_hex(16)
    with open(os.path.join(work, "token"), "w") as f:
        f.write(token)
    os.chmod(os.path.join(work, "token"), 0o600)

    log_path = os.path.join(work, "requests.jsonl")
    port_file = os.path.join(work, "port")
    standin = subprocess.Popen(
        [standin_bin, "--listen", "127.0.0.1:0", "--port-file", port_file, "--seed",
         os.path.join(work, "seed.json"), "--token", token, "--rate-limit", "1200",
         "--request-log", log_path], stderr=open(os.path.join(work, "standin.log"), "w"))
    try:
        for _ in range(600):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        port = open(port_file).read().strip()
        with open(os.path.join(work, "config.yaml"), "w") as f:
            json.dump({"cloudflare": {"api_base": f"http://127.0.0.1:{port}/client/v4",
                                      "api_flavor": "cache-v1",
                                      "token_file": os.path.join(work, "token")},
                       "reconcile": {"desired_state": "desired.yaml"},
                       "listen": "127.0.0.1:0"}, f)
        print(f"{zones} zones x {MAPPINGS} mappings, {STALE} stale each; "
              f"cf-standin --rate-limit 1200; work dir {work}", flush=True)
        began = time.monotonic()
        run = subprocess.run([orc_bin, "--config", os.path.join(work, "config.yaml"), "--once"],
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(work, "daemon.log"), "w"))
        wall = time.monotonic() - began
    finally:
        standin.terminate()
        standin.wait()

    log = [json.loads(line) for line in open(log_path)]
    times = sorted(r["mono_ms"] for r in log)
    limited = sum(1 for r in log if r["status"] == 429)
    bound = len(log) / RATE
    print(f"daemon exit status:          {run.returncode}")
    print(f"requests:                    {len(log)}")
    print(f"429 answers:                 {limited}")
    print(f"most in any 300 s window:    {max_in_any(times, 300_000)} (Cloudflare: 1200)")
    print(f"most in any 1 s window:      {max_in_any(times, 1000)} (rate: {RATE:g}/s)")
    print(f"wall time:                   {wall:.1f} s")
    print(f"bound (requests / rate):     {bound:.1f} s")
    print(f"wall / bound:                {wall / bound:.3f}")
    ok = run.returncode == 0 and limited == 0 and max_in_any(times, 300_000) <= 1200 \
        and wall <= 1.1 * bound
    return conclude(ok, work, "verdict:                     ")


if __name__ == "__main__":
    sys.exit(main())
