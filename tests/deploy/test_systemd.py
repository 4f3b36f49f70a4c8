"""The Debian package under a real systemd, followed as the README tells a new user.

1. A Debian bookworm tree made here, without any registry: `mmdebstrap --variant=minbase
   bookworm` from this machine's own apt sources, with systemd as init, curl, and every package
   the .deb depends on and the stand-in links (the container has no network to fetch them).
   It is kept under ~/.cache/origin-reconciler/nspawn/ ($XDG_CACHE_HOME, or $ORC_NSPAWN_CACHE),
   named after that package list, and reused by later runs; ORC_REBUILD_BASE=1 makes it again.
2. The project's .deb, built with `cpack -G DEB` from the build directory.
3. The tree booted with `systemd-nspawn --boot --private-network --keep-unit --register=no
   --volatile=overlay`: systemd 252 as the container's PID 1, only a loopback interface, the
   cached tree read-only under a throw-away overlay, the .deb and the stand-in bind-mounted
   read-only. (--keep-unit and --register=no: the host's PID 1 need not be systemd.) Every
   command runs inside through nsenter; all traffic stays on the container's loopback.
4. In the container, in order: `apt-get install ./origin-reconciler_*.deb` (not enabled, not
   started); `--check-config` as root before and after the token is in place (it checks the
   unit's LoadCredential= source); the Cloudflare stand-in as a transient unit on 127.0.0.1;
   `systemctl enable --now` (Type=notify: active only once ready) and the zone pruned; the
   token read through the credential; `systemctl reload` with a valid desired state (pruned
   again) and an invalid one (`journalctl -p err` shows it: journald priorities); `/` and
   `/run` read-only for the service user (tried from inside the service's own mount
   namespace, as its user); a watchdog kill (SIGSTOP, WatchdogSec=3s from a drop-in) and the
   restart; `systemctl stop` in the middle of a cycle (exit 0, no error-level line, the zone
   interrupted rather than failed); `apt-get remove` and `apt-get purge`.

Every wait is for an event (a unit state, a journal line, a request the stand-in logged) with a
deadline. Exits 77 (ctest: skipped), saying why, where it cannot run: not root, no
systemd-nspawn or mmdebstrap, no Debian bookworm apt sources, or a machine where nspawn cannot
boot a container.
Usage: ORC_BUILD_DIR=build STANDIN_BIN=build/standin/cf-standin python3 tests/deploy/test_systemd.py
"""

import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "deploy"))
from harness import TOKEN, ZONE, Reporter, ips, stop_process, wait_for  # noqa: E402
from test_image import debian_sources  # noqa: E402

UNIT = "origin-reconciler.service"
STANDIN_PORT = 8080
# What the container needs besides the .deb's own dependencies: systemd as init, curl for
# /metrics and the stand-in's admin API.
SYSTEM_PACKAGES = ["systemd", "systemd-sysv", "dbus", "curl"]
# Inside the container: a plain environment, not this process's.
CONTAINER_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "TERM": "dumb",
                 "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0", "DEBIAN_FRONTEND": "noninteractive"}
SEED_IPS = ips(0, 20)

REPORT = Reporter("test_systemd", "the real-systemd test")
log, skip = REPORT.log, REPORT.skip


def cache_dir():
    if os.environ.get("ORC_NSPAWN_CACHE"):
        return pathlib.Path(os.environ["ORC_NSPAWN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "origin-reconciler" / "nspawn"


def build_deb(build_dir, out):
    """The project's .deb, made by CPack as the README's steps make it."""
    run = subprocess.run(["cpack", "-G", "DEB", "-B", out], cwd=build_dir, text=True,
                         capture_output=True, timeout=600)
    if run.returncode != 0:
        raise AssertionError(f"cpack -G DEB failed:\n{run.stdout[-4000:]}{run.stderr[-4000:]}")
    debs = sorted(pathlib.Path(out).glob("*.deb"))
    if len(debs) != 1:
        raise AssertionError(f"expected one .deb from cpack, got {debs}")
    return debs[0]


def deb_depends(deb):
    """The package names the .deb depends on (the first of alternatives, versions dropped)."""
    text = subprocess.run(["dpkg-deb", "--field", str(deb), "Depends"], check=True, text=True,
                          capture_output=True).stdout
    return [item.split("|")[0].split("(")[0].strip() for item in text.split(",") if item.strip()]


def library_packages(binary):
    """The Debian packages holding the shared libraries `binary` loads (found on this machine,
    where it was built)."""
    out = subprocess.run(["ldd", binary], check=True, text=True, capture_output=True).stdout
    packages = set()
    for line in out.splitlines():
        parts = line.split("=>")
        if len(parts) != 2 or not parts[1].strip().startswith("/"):
            continue
        path = parts[1].split()[0]
        for candidate in (path, os.path.realpath(path), "/usr" + os.path.realpath(path)):
            owner = subprocess.run(["dpkg", "-S", candidate], text=True, capture_output=True)
            if owner.returncode == 0:
                packages.add(owner.stdout.split(":")[0])
                break
    return sorted(packages)


def ensure_tree(packages):
    """The cached bookworm tree with `packages`, made by mmdebstrap when missing."""
    key = hashlib.sha256(" ".join(["bookworm", *sorted(packages)]).encode()).hexdigest()[:12]
    cache = cache_dir()
    tree = cache / f"bookworm-{key}"
    done = cache / f"bookworm-{key}.done"
    if done.exists() and tree.is_dir() and os.environ.get("ORC_REBUILD_BASE") != "1":
        log(f"bookworm tree {tree} is cached")
        return tree
    if shutil.which("mmdebstrap") is None:
        skip("mmdebstrap is not installed (scripts/install-deps --all)")
    sources = debian_sources()
    if not sources:
        skip("no Debian bookworm apt sources on this machine for mmdebstrap")
    cache.mkdir(parents=True, exist_ok=True)
    for old in cache.glob("bookworm-*"):  # trees of other package lists: not needed again
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    making = cache / f"bookworm-{key}.making"
    shutil.rmtree(making, ignore_errors=True)
    log(f"making {tree}: mmdebstrap --variant=minbase bookworm with {', '.join(sorted(packages))}")
    started = time.monotonic()
    subprocess.run(["mmdebstrap", "--variant=minbase", "--quiet",
                    "--include=" + ",".join(sorted(packages)), "bookworm", str(making), *sources],
                   check=True, timeout=1800)
    making.rename(tree)
    done.write_text(" ".join(sorted(packages)) + "\n")
    log(f"tree made in {time.monotonic() - started:.0f}s")
    return tree


class Container:
    """A booted systemd-nspawn container: commands run inside through nsenter."""

    def __init__(self, tree, share, workdir):
        self.console_path = os.path.join(workdir, "nspawn.log")
        self.console = open(self.console_path, "w")
        self.name = f"orc-systemd-{os.getpid()}"
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--directory", str(tree), "--machine", self.name,
             "--boot", "--private-network", "--keep-unit", "--register=no",
             "--volatile=overlay", "--console=passive", f"--bind-ro={share}:/mnt/orc"],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT)
        self.leader = None

    def console_text(self):
        with open(self.console_path, errors="replace") as f:
            return f.read()

    def _find_leader(self):
        """The container's PID 1, as seen here: the child of systemd-nspawn."""
        if self.proc.poll() is not None:
            return None
        try:
            children = pathlib.Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    def boot(self, timeout=90):
        """Waits for systemd in the container to finish starting up. None, or why it could not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"systemd-nspawn exited with status {self.proc.returncode}: " + \
                    self.console_text()[-2000:]
            if self.leader is None:
                self.leader = self._find_leader()
            if self.leader is not None:
                state = self.sh("systemctl is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return None
            time.sleep(0.2)  # polling the container's state: it announces nothing here
        return f"the container did not finish booting within {timeout}s: " + \
            self.console_text()[-2000:]

    def sh(self, script, check=True, input=None, timeout=120):
        """Runs `script` with /bin/sh inside the container, as its root."""
        run = subprocess.run(
            ["nsenter", "--target", str(self.leader), "--mount", "--uts", "--ipc", "--net",
             "--pid", "--root", "--wd", "--", "/bin/sh", "-c", script],
            input=input, text=True, capture_output=True, timeout=timeout, env=CONTAINER_ENV)
        if check and run.returncode != 0:
            raise AssertionError(f"in the container: {script}\nexit {run.returncode}\n"
                                 f"{run.stdout[-4000:]}{run.stderr[-4000:]}")
        return run

    def write(self, path, text, mode="0644"):
        tmp = path + ".tmp"
        self.sh(f"cat > {tmp} && chmod {mode} {tmp} && mv {tmp} {path}", input=text)

    def stop(self):
        stop_process(self.proc, timeout=60)  # SIGTERM: nspawn asks the container to power off
        self.console.close()


def deadline_for(what, predicate, timeout):
    started = time.monotonic()
    value = wait_for(predicate, timeout=timeout, what=what)
    log(f"{what}: {time.monotonic() - started:.1f}s")
    return value


class SystemdTest(unittest.TestCase):
    """One container for the class; the tests run in the order of their names, each on what
    the ones before left (as a person following the README would)."""

    c = None
    deb = None
    workdir = None
    started = None

    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        build_dir = os.environ.get("ORC_BUILD_DIR")
        standin = os.environ.get("STANDIN_BIN")
        if not build_dir or not standin:
            raise AssertionError("ORC_BUILD_DIR and STANDIN_BIN must be set (ctest sets them)")
        cls.workdir = tempfile.mkdtemp(prefix="orc-systemd-")
        share = os.path.join(cls.workdir, "share")
        os.mkdir(share)
        cls.deb = build_deb(build_dir, os.path.join(cls.workdir, "cpack"))
        shutil.copy(cls.deb, share)
        shutil.copy(standin, os.path.join(share, "cf-standin"))
        with open(os.path.join(share, "seed.json"), "w") as f:
            json.dump({"zones": {ZONE: [{"ip": ip, "vendor": "aws", "region": "us-east-1"}
                                        for ip in SEED_IPS]}}, f)
        os.chmod(share, 0o755)
        packages = sorted(set(SYSTEM_PACKAGES + deb_depends(cls.deb) + library_packages(standin)))
        tree = ensure_tree(packages)
        booting = time.monotonic()
        cls.c = Container(tree, share, cls.workdir)
        why = cls.c.boot()
        if why is not None:
            cls.c.stop()
            skip(f"systemd-nspawn could not boot a container on this machine: {why}")
        log(f"container booted in {time.monotonic() - booting:.1f}s "
            f"(systemd {cls.c.sh('systemctl --version').stdout.split()[1]})")

    @classmethod
    def tearDownClass(cls):
        if cls.c is not None:
            cls.c.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)
        log(f"whole test: {time.monotonic() - cls.started:.0f}s")

    # --- helpers -------------------------------------------------------------------------------

    def sh(self, script, **kwargs):
        return self.c.sh(script, **kwargs)

    def show(self, prop, unit=UNIT):
        return self.sh(f"systemctl show -p {prop} --value {unit}").stdout.strip()

    def journal(self, args=""):
        return self.sh(f"journalctl -u {UNIT} --no-pager -q -o cat {args}").stdout

    def admin(self, method, path, body=None):
        data = "" if body is None else f"--data-binary @- -H 'Content-Type: application/json'"
        run = self.sh(f"curl -sS -f -X {method} {data} http://127.0.0.1:{STANDIN_PORT}/__admin/{path}",
                      input=None if body is None else json.dumps(body))
        return json.loads(run.stdout) if run.stdout.strip().startswith(("{", "[")) else run.stdout

    def live(self):
        return {m["ip"] for m in self.admin("GET", "state")["zones"].get(ZONE, [])}

    def write_desired(self, origins):
        self.c.write("/etc/origin-reconciler/desired.yaml",
                     json.dumps({"zones": [{"zone_id": ZONE, "origins": origins}]}))

    def metric(self, name):
        text = self.sh("curl -sS -f http://127.0.0.1:9464/metrics").stdout
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def cursor(self):
        out = self.sh("journalctl --show-cursor -n 0 --no-pager -q").stdout
        return out.strip().split("cursor: ", 1)[1] if "cursor: " in out else ""

    # --- the steps -----------------------------------------------------------------------------

    def test_01_install_the_package(self):
        run = self.sh(f"cd /mnt/orc && apt-get install -y ./{self.deb.name}")
        self.assertIn("origin-reconciler: not started", run.stdout + run.stderr)
        self.assertEqual(self.show("UnitFileState"), "disabled")
        self.assertEqual(self.sh(f"systemctl is-active {UNIT}", check=False).stdout.strip(),
                         "inactive")

    def test_02_check_config_speaks_of_the_units_credential(self):
        # As the README says: root, no token anywhere in its environment; none created yet.
        run = self.sh("origin-reconciler --check-config", check=False)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("under systemd the unit hands the token over with LoadCredential=",
                      run.stdout)
        self.assertIn("LoadCredential=cloudflare-api-token:/etc/origin-reconciler/"
                      "cloudflare-api-token in /lib/systemd/system/origin-reconciler.service",
                      run.stdout)
        self.assertIn("does not exist", run.stdout)
        # The README's steps: the token, 0600, then the check passes.
        self.sh("install -m 0600 /dev/null /etc/origin-reconciler/cloudflare-api-token")
        self.c.write("/etc/origin-reconciler/cloudflare-api-token", TOKEN + "\n", mode="0600")
        run = self.sh("origin-reconciler --check-config", check=False)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertRegex(run.stdout, r"credentials: systemd credential cloudflare-api-token .*"
                                     r"/etc/origin-reconciler/cloudflare-api-token: ok")
        self.assertNotIn(TOKEN, run.stdout + run.stderr)

    def test_03_start_prunes_and_reads_the_credential(self):
        self.sh(f"systemd-run --unit=cf-standin --property=Type=exec /mnt/orc/cf-standin "
                f"--listen 127.0.0.1:{STANDIN_PORT} --seed /mnt/orc/seed.json --token {TOKEN}")
        deadline_for("the stand-in answering", lambda: self.sh(
            f"curl -sf http://127.0.0.1:{STANDIN_PORT}/__admin/healthz", check=False
        ).returncode == 0, 20)
        config = {
            "cloudflare": {"api_base": f"http://127.0.0.1:{STANDIN_PORT}/client/v4",
                           "request_timeout": "10s", "requests_per_second": 50},
            "reconcile": {"desired_state": "desired.yaml", "interval": "2s", "batch_size": 1,
                          "settle_period": "200ms",
                          "retry": {"max_attempts": 3, "initial_backoff": "100ms",
                                    "max_backoff": "500ms"}},
            "listen": "127.0.0.1:9464",
            "log": {"level": "info"},  # format: auto, the default: the journal under systemd
        }
        self.c.write("/etc/origin-reconciler/config.yaml", json.dumps(config, indent=2))
        self.write_desired(ips(0, 15))
        started = time.monotonic()
        # Type=notify: `enable --now` returns once the daemon said READY=1.
        self.sh(f"systemctl enable --now {UNIT}")
        log(f"systemctl enable --now returned after {time.monotonic() - started:.1f}s")
        self.assertEqual(self.show("ActiveState"), "active")
        deadline_for("the zone pruned to 15", lambda: len(self.live()) == 15, 30)
        self.assertEqual(self.live(), set(ips(0, 15)))
        self.assertEqual(self.metric("origin_reconciler_fleet_pruned_total"), 5)
        status = deadline_for("STATUS= with the last cycle", lambda: "last cycle:" in self.show(
            "StatusText") and self.show("StatusText"), 20)
        self.assertIn("1 ok, 0 failed", status)
        log_text = self.journal()
        self.assertIn("credentials from systemd credential "
                      f"/run/credentials/{UNIT}/cloudflare-api-token", log_text)
        self.assertNotIn(TOKEN, log_text)
        # Every request carried the token and was accepted.
        self.assertEqual({r["status"] for r in self.admin("GET", "requests")}, {200})

    def test_04_the_journal_has_priorities_and_fields(self):
        lines = [json.loads(line) for line in self.sh(
            f"journalctl -u {UNIT} --no-pager -q -o json").stdout.splitlines() if line.strip()]
        in_line = [e for e in lines if "in line" in e.get("MESSAGE", "")]
        self.assertTrue(in_line, "no 'in line' record")
        self.assertEqual(in_line[0].get("PRIORITY"), "6")
        self.assertEqual(in_line[0].get("SYSLOG_IDENTIFIER"), "origin-reconciler")
        self.assertEqual(in_line[0].get("ZONE"), ZONE)
        self.assertIn("in line", self.journal(f"ZONE={ZONE}"))
        self.assertEqual(self.journal("-p warning"), "", "a warning or error while all is well")

    def test_05_reload_takes_a_valid_state_and_an_invalid_one_is_an_error(self):
        self.write_desired(ips(0, 12))
        self.sh(f"systemctl reload {UNIT}")
        deadline_for("the zone pruned to 12 after the reload", lambda: len(self.live()) == 12, 30)
        self.assertEqual(self.show("ActiveState"), "active")
        # An invalid desired state: rejected, kept the last valid one, logged as an error.
        self.c.write("/etc/origin-reconciler/desired.yaml",
                     f"zones:\n  - zone_id: {ZONE[:-1]}\n    origins: []\n")
        self.sh(f"systemctl reload {UNIT}")
        err = deadline_for("the invalid desired state under journalctl -p err", lambda: self.sh(
            f"journalctl -u {UNIT} -p err --no-pager -q -o cat").stdout, 20)
        self.assertIn("desired state not reloaded (SIGHUP)", err)
        self.assertIn(ZONE[:-1], err)
        self.assertEqual(self.metric("origin_reconciler_desired_state_valid"), 0)
        self.assertEqual(len(self.live()), 12)
        self.write_desired(ips(0, 12))
        self.sh(f"systemctl reload {UNIT}")
        deadline_for("the desired state valid again",
                     lambda: self.metric("origin_reconciler_desired_state_valid") == 1, 20)

    def test_06_nothing_but_its_state_directory_is_writable_for_the_service_user(self):
        pid = self.show("MainPID")
        status = self.sh(f"cat /proc/{pid}/status").stdout
        uid = next(l.split()[1] for l in status.splitlines() if l.startswith("Uid:"))
        gid = next(l.split()[1] for l in status.splitlines() if l.startswith("Gid:"))
        self.assertNotEqual(uid, "0")
        for path in ("/", "/etc", "/usr", "/var/lib", "/run", "/run/lock", "/run/systemd"):
            with self.subTest(path=path):
                # From inside the service's own mount namespace, as its user.
                run = self.sh(f"nsenter --target {pid} --mount --setuid {uid} --setgid {gid} -- "
                              f"/bin/sh -c 'touch {path.rstrip('/')}/.orc-probe'", check=False)
                self.assertNotEqual(run.returncode, 0, f"{path} is writable for the service")
                self.assertIn("Read-only file system", run.stderr)
        # But for its state directory, where it keeps the API user's budget across restarts.
        run = self.sh(f"nsenter --target {pid} --mount --setuid {uid} --setgid {gid} -- "
                      f"/bin/sh -c 'touch /var/lib/origin-reconciler/.orc-probe && "
                      f"rm /var/lib/origin-reconciler/.orc-probe'", check=False)
        self.assertEqual(run.returncode, 0, f"the state directory is not writable: {run.stderr}")

    def test_07_the_watchdog_kills_a_hung_daemon_and_systemd_restarts_it(self):
        self.sh(f"mkdir -p /etc/systemd/system/{UNIT}.d")  # as `systemctl edit` would
        self.c.write(f"/etc/systemd/system/{UNIT}.d/watchdog.conf",
                     "[Service]\nWatchdogSec=3s\nRestartSec=1s\nLimitCORE=0\n")
        self.sh("systemctl daemon-reload")
        self.sh(f"systemctl restart {UNIT}")
        before = self.show("MainPID")
        restarts = int(self.show("NRestarts"))
        hung_at = time.monotonic()
        self.sh(f"kill -STOP {before}")
        deadline_for("systemd's watchdog timeout", lambda: "Watchdog timeout" in self.sh(
            f"journalctl -u {UNIT} --no-pager -q -o cat --since=-60s").stdout, 30)
        deadline_for("the restarted daemon active", lambda: int(self.show("NRestarts")) > restarts
                     and self.show("ActiveState") == "active", 30)
        log(f"hung to running again: {time.monotonic() - hung_at:.1f}s")
        self.assertNotEqual(self.show("MainPID"), before)

    def test_08_stop_in_the_middle_of_a_cycle_is_not_a_failure(self):
        # Three stale mappings, deleted one a request, each held up 3 s in the stand-in: once
        # the first delete is answered, the second is on its way, and the third must wait.
        self.admin("PUT", "faults", {"rules": [{"operation": "batch_delete", "latency_ms": 3000,
                                                "times": -1}]})
        self.admin("DELETE", "requests")  # the zone is in line: nothing to delete until now
        self.write_desired(ips(0, 9))
        cursor = self.cursor()
        self.sh(f"systemctl reload {UNIT}")  # take it now: a cycle starts at once
        deadline_for("the first of three deletes answered", lambda: any(
            r.get("operation") == "batch_delete" for r in self.admin("GET", "requests")), 30)
        stopped_at = time.monotonic()
        run = self.sh(f"systemctl stop {UNIT}", check=False)
        log(f"systemctl stop took {time.monotonic() - stopped_at:.1f}s")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(self.show("Result"), "success")
        self.assertEqual(self.show("ExecMainStatus"), "0")
        after = self.sh(f"journalctl -u {UNIT} --no-pager -q -o cat --after-cursor='{cursor}'"
                        ).stdout
        errors = self.sh(f"journalctl -u {UNIT} -p err --no-pager -q -o cat "
                         f"--after-cursor='{cursor}'").stdout
        self.assertEqual(errors, "", f"error-level lines at the stop:\n{after}")
        self.assertIn(f"zone {ZONE}: interrupted: ", after)
        self.assertIn("0 failed, 0 blocked, 0 dry-run, 1 interrupted;", after)
        self.assertNotIn("reconcile failed", after)
        self.admin("PUT", "faults", {"rules": []})

    def test_09_remove_then_purge(self):
        self.sh("apt-get remove -y origin-reconciler")
        self.assertNotEqual(self.sh("test -e /usr/bin/origin-reconciler", check=False).returncode, 0)
        self.assertNotEqual(self.sh(f"test -e /lib/systemd/system/{UNIT}", check=False)
                            .returncode, 0)
        self.assertEqual(self.sh("test -f /etc/origin-reconciler/config.yaml", check=False)
                         .returncode, 0, "remove keeps the conffiles")
        self.assertEqual(self.sh("dpkg-query -W -f='${db:Status-Abbrev}' origin-reconciler")
                         .stdout.strip(), "rc")
        self.sh("apt-get purge -y origin-reconciler")
        self.assertNotEqual(self.sh("test -e /etc/origin-reconciler/config.yaml", check=False)
                            .returncode, 0)
        self.assertNotEqual(self.sh("dpkg-query -W origin-reconciler", check=False).returncode, 0)
        for state in ("/var/lib/origin-reconciler", "/var/lib/private/origin-reconciler"):
            self.assertNotEqual(self.sh(f"test -e {state}", check=False).returncode, 0,
                                f"purge leaves {state}")
        # The token is the operator's file: left alone.
        self.assertEqual(self.sh("test -f /etc/origin-reconciler/cloudflare-api-token",
                                 check=False).returncode, 0)
        self.assertIn(self.sh(f"systemctl is-enabled {UNIT}", check=False).stdout.strip(),
                      ("", "not-found"))


def main():
    if sys.platform != "linux" or os.geteuid() != 0:
        skip("systemd-nspawn needs root")
    if shutil.which("systemd-nspawn") is None:
        skip("systemd-nspawn is not installed (scripts/install-deps --all: systemd-container)")
    if shutil.which("nsenter") is None:
        skip("nsenter is not installed (util-linux)")
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
