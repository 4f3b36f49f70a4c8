"""The container image, built with podman from deploy/Dockerfile and run against the stand-in.

1. A Debian bookworm base image made here, without any registry: `mmdebstrap --variant=minbase
   bookworm` with this machine's own apt sources, then `podman import`. It is kept in podman's
   image store (localhost/origin-reconciler-base:bookworm) and reused by later runs;
   ORC_REBUILD_BASE=1 makes it again.
2. `podman --runtime runc build --network=host` of deploy/Dockerfile (runc: crun refuses
   cgroup v1/hybrid hosts; --network=host: the build stage installs Debian's packages).
   CONTAINERS_CONF names a file with `default_ulimits = []`, which avoids a setrlimit refusal
   where the container runs without the privilege to raise limits.
3. The image's size: at most 30 MB.
4. The image run the way deploy/kubernetes runs it: its non-root user, a read-only root file
   system, no capabilities, the configuration mounted read-only at /etc/origin-reconciler, the
   host's network so that it reaches the stand-in on 127.0.0.1. It must prune a zone, serve
   /metrics and /healthz, and exit 0 within 2 s of SIGTERM.

Exits 77 (ctest: skipped), saying why, where podman is missing or cannot run containers.
Usage: ORC_BIN=... STANDIN_BIN=... python3 tests/deploy/test_image.py
"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from harness import (TOKEN, ZONE, Reporter, StandIn, daemon_config, http, ips,  # noqa: E402
                     wait_for)

BASE_IMAGE = "localhost/origin-reconciler-base:bookworm"
IMAGE = "localhost/origin-reconciler:test"
MAX_IMAGE_BYTES = 30_000_000  # 30 MB, as podman and the README count
NONROOT_UID = 65532
STOP_WITHIN_S = 2.0

REPORT = Reporter("test_image", "the container image test")
log, skip = REPORT.log, REPORT.skip


class Podman:
    def __init__(self, workdir):
        self.conf = os.path.join(workdir, "containers.conf")
        with open(self.conf, "w") as f:
            f.write("[containers]\ndefault_ulimits = []\n")
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)

    def argv(self, *args):
        return ["podman", "--runtime", "runc", *args]

    def run(self, *args, check=True, capture=True, timeout=600):
        return subprocess.run(self.argv(*args), env=self.env, check=check, text=True,
                              capture_output=capture, timeout=timeout)

    def popen(self, *args, **kwargs):
        return subprocess.Popen(self.argv(*args), env=self.env, **kwargs)

    def image_exists(self, name):
        return self.run("image", "exists", name, check=False).returncode == 0


def debian_sources():
    """This machine's apt sources files for Debian bookworm (deb822 or one-line), as
    mmdebstrap MIRROR arguments: the image is built from wherever this machine gets Debian."""
    files = []
    candidates = [pathlib.Path("/etc/apt/sources.list")]
    candidates += sorted(pathlib.Path("/etc/apt/sources.list.d").glob("*.sources"))
    candidates += sorted(pathlib.Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        active = [line for line in text.splitlines() if line.strip() and
                  not line.lstrip().startswith("#")]
        body = "\n".join(active)
        # Debian's own archive only: third-party repositories need keys the chroot lacks.
        signed_by = re.findall(r"(?i)signed-by[:=]\s*(\S+)", body)
        if "bookworm" in body and all("debian-archive-keyring" in s for s in signed_by):
            files.append(str(path))
    return files


def ensure_base_image(podman, workdir):
    if podman.image_exists(BASE_IMAGE) and os.environ.get("ORC_REBUILD_BASE") != "1":
        log(f"base image {BASE_IMAGE} is cached")
        return
    if shutil.which("mmdebstrap") is None:
        skip("mmdebstrap is not installed (scripts/install-deps --all)")
    sources = debian_sources()
    if not sources:
        skip("no Debian bookworm apt sources on this machine for mmdebstrap")
    tarball = os.path.join(workdir, "base.tar")
    log(f"making {BASE_IMAGE}: mmdebstrap --variant=minbase bookworm ({', '.join(sources)})")
    started = time.monotonic()
    subprocess.run(["mmdebstrap", "--variant=minbase", "--quiet", "bookworm", tarball, *sources],
                   check=True, timeout=900)
    podman.run("import", "--quiet", tarball, BASE_IMAGE)
    os.unlink(tarball)
    log(f"base image made in {time.monotonic() - started:.0f}s")


class ImageTest(unittest.TestCase):
    podman = None
    workdir = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="orc-image-")
        cls.podman = Podman(cls.workdir)
        ensure_base_image(cls.podman, cls.workdir)
        started = time.monotonic()
        build = cls.podman.run("build", "--network=host", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
                               "-f", str(ROOT / "deploy" / "Dockerfile"), "-t", IMAGE, str(ROOT),
                               check=False, timeout=1200)
        if build.returncode != 0:
            sys.stderr.write(build.stdout[-8000:] + build.stderr[-8000:])
            raise AssertionError(f"podman build failed with status {build.returncode}")
        log(f"image built in {time.monotonic() - started:.0f}s")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def inspect(self, fmt, name=IMAGE, kind="image"):
        return self.podman.run(kind, "inspect", "--format", fmt, name).stdout.strip()

    def test_image_is_small(self):
        size = int(self.inspect("{{.Size}}"))
        log(f"image size: {size} bytes ({size / 1e6:.1f} MB)")
        self.assertLessEqual(size, MAX_IMAGE_BYTES, f"the image is {size / 1e6:.1f} MB")

    def test_image_config(self):
        self.assertEqual(self.inspect("{{.Config.User}}"), f"{NONROOT_UID}:{NONROOT_UID}")
        self.assertEqual(self.inspect("{{json .Config.Entrypoint}}"),
                         '["/usr/bin/origin-reconciler"]')

    def test_runs_prunes_serves_and_stops(self):
        work = tempfile.mkdtemp(prefix="run-", dir=self.workdir)
        standin = StandIn(work, zones={ZONE: ips(0, 20)})
        self.addCleanup(standin.stop)
        desired = ips(0, 15)

        etc = os.path.join(work, "etc")
        os.mkdir(etc)
        # The generation explicit, whatever the daemon's default is.
        config = daemon_config(standin.api_base, "cache-v1", {
            "cloudflare": {"token_file": "/etc/origin-reconciler/token"},
            "reconcile": {"retry": {"max_attempts": 3, "initial_backoff": "10ms",
                                    "max_backoff": "50ms"}},
        })
        files = {"config.yaml": json.dumps(config, indent=2),
                 "desired.yaml": json.dumps({"zones": [{"zone_id": ZONE, "origins": desired}]}),
                 "token": TOKEN + "\n"}
        for name, text in files.items():
            with open(os.path.join(etc, name), "w") as f:
                f.write(text)
            os.chmod(os.path.join(etc, name), 0o644)  # the container's uid is not ours
        os.chmod(etc, 0o755)
        os.chmod(work, 0o755)

        name = f"orc-image-test-{os.getpid()}"
        stderr_path = os.path.join(work, "container.stderr")
        stderr = open(stderr_path, "w")
        self.addCleanup(stderr.close)
        proc = self.podman.popen(
            "run", "--rm", "--name", name, "--network=host", "--read-only",
            "--cap-drop=ALL", "--security-opt=no-new-privileges",
            "--volume", f"{etc}:/etc/origin-reconciler:ro", IMAGE,
            stdout=subprocess.DEVNULL, stderr=stderr)
        self.addCleanup(lambda: proc.poll() is None and self.podman.run(
            "rm", "--force", "--time", "0", name, check=False))

        def log_text():
            with open(stderr_path) as f:
                return f.read()

        def metrics_port():
            if proc.poll() is not None:
                raise AssertionError(f"container exited with {proc.returncode}:\n{log_text()}")
            m = re.search(r"serving /metrics and /healthz on 127\.0\.0\.1:(\d+)", log_text())
            return int(m.group(1)) if m else None

        port = wait_for(metrics_port, timeout=30, what="the daemon's status server")
        base = f"http://127.0.0.1:{port}"

        # It prunes the zone down to the desired state.
        wait_for(lambda: standin.live() == set(desired), timeout=30,
                 what="the stand-in's zone pruned to the desired state")
        wait_for(lambda: re.search(r"pruned=5\b", log_text()), timeout=10,
                 what="the cycle's log line")

        status, text = http("GET", base + "/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(text, rf'origin_reconciler_pruned_total\{{zone="{ZONE}"\}} 5\b')
        self.assertRegex(text, r"origin_reconciler_desired_state_valid 1\b")
        status, text = http("GET", base + "/healthz")
        self.assertEqual(status, 200, text)

        # As its non-root user, on a read-only root file system.
        users = self.podman.run("top", name, "user", "huser").stdout.split()
        self.assertIn(str(NONROOT_UID), users, f"podman top: {users}")
        self.assertNotIn("root", users)
        self.assertEqual(self.inspect("{{.HostConfig.ReadonlyRootfs}}", name, "container"),
                         "true")

        # SIGTERM: exit status 0 within 2 s.
        started = time.monotonic()
        self.podman.run("kill", "--signal", "TERM", name)
        try:
            status = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail(f"still running 10 s after SIGTERM:\n{log_text()}")
        took = time.monotonic() - started
        log(f"stopped {took:.2f}s after SIGTERM, status {status}")
        self.assertEqual(status, 0, log_text())
        self.assertLessEqual(took, STOP_WITHIN_S)


def main():
    if shutil.which("podman") is None:
        skip("podman is not installed (scripts/install-deps --all installs it)")
    if shutil.which("runc") is None:
        skip("runc is not installed (scripts/install-deps --all installs it)")
    for var in ("STANDIN_BIN",):
        if not os.path.exists(os.environ.get(var, "")):
            print(f"test_image: {var} must name the built binary", file=sys.stderr)
            sys.exit(2)
    with tempfile.TemporaryDirectory() as tmp:
        probe = Podman(tmp).run("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if probe.returncode != 0:
        skip(f"podman cannot run here: {probe.stderr.strip()[-500:]}")
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
