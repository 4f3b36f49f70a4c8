"""Inputs under careless hands: a desired-state file read while it is being written, large
removals held until confirmed, files that vanish or are not regular files, token file
permissions, out-of-range numbers, and --once stopped by a signal."""

import json
import os
import signal
import stat
import subprocess
import time
import unittest

from harness import (ORC_BIN, SANITIZED, TOKEN, ZONE, ZONE_B, IntegrationTest, http, ips,
                     run_measured, wait_for)

FAST_SETTLE = {"reconcile": {"settle_period": "200ms"}}


def desired_text(ip_list, zone=ZONE):
    return "zones:\n" f"  - zone_id: {zone}\n" "    origins:\n" + "".join(
        f"      - {ip}\n" for ip in ip_list)


def healthz(d):
    status, body = http("GET", d.status_base + "/healthz", timeout=5)
    return status, json.loads(body)


# When the loop takes, holds, confirms or drops a change, and that it reports an invalid or
# missing file once, is unit-tested in simulated time (tests/unit/service_loop_test.cpp). These
# tests keep what needs the real binary: real files written, renamed, deleted or swapped for a
# FIFO on disk, real signals, and the daemon's own logs, metrics and /healthz.
class SettledReadsTest(IntegrationTest):
    def start_at_8_mappings(self, hold_confirm_period):
        """A stand-in and a desired state of the same 8 mappings (fewer than 10: the safety guard
        alone would let any removal through), the daemon's first cycle done."""
        api = self.standin(zones={ZONE: ips(0, 8)})
        d = self.daemon(api, {ZONE: ips(0, 8)},
                        config={"reconcile": {"settle_period": "200ms",
                                              "hold_confirm_period": hold_confirm_period}})
        d.start().wait_log("cycle done")
        return api, d

    def test_a_slowly_streamed_file_never_deletes_a_finally_desired_origin(self):
        # A settle period of 1 s. The file is rewritten in place over 1.3 s (a chunk of two
        # origins every 100 ms: ten chunks to a settle period), as
        # `generate > desired.yaml` or an editor would; every prefix cut at a line end is valid
        # YAML that lacks trailing origins, and early ones would remove less than the safety
        # guard's 30 % of the live mappings.
        live, final = ips(0, 100), ips(0, 95)
        api = self.standin(zones={ZONE: live})
        d = self.daemon(api, {ZONE: live}, config={"reconcile": {"settle_period": "1s"}}).start()
        d.wait_log("cycle done")
        lines = desired_text(final).splitlines(keepends=True)
        head, rest = lines[:3 + 70], lines[3 + 70:]
        started = time.monotonic()
        with open(d.desired_path, "w") as f:  # truncates in place: no rename
            f.write("".join(head))
            f.flush()
            while rest:
                time.sleep(0.1)
                chunk, rest = rest[:2], rest[2:]
                f.write("".join(chunk))
                f.flush()
        took = time.monotonic() - started
        self.assertGreaterEqual(took, 1.2, "the file must be streamed for longer than the "
                                          "settle period")
        stale = set(live) - set(final)
        wait_for(lambda: not api.live() & stale, 15, "the prune of the origins no longer wanted")
        sent = [ip for r in api.requests("batch_delete") for ip in r["ips"]]
        print(f"\nstreamed over {took:.1f} s; deleted {sorted(sent)}")
        self.assertFalse(set(sent) & set(final),
                         f"finally-desired origins were deleted: {sorted(set(sent) & set(final))}")
        self.assertEqual(sorted(sent), sorted(stale))
        self.assertEqual(api.live(), set(final))
        log = d.log_text()
        self.assertEqual(log.count("desired state reloaded (file changed)"), 1, log)
        self.assertNotIn("desired state not reloaded", log, "no prefix was even parsed")

    def test_a_large_removal_is_held_until_unchanged_for_the_confirmation_period(self):
        # Fewer than 10 live mappings: the safety guard would let this through at once.
        api, d = self.start_at_8_mappings(hold_confirm_period="2s")
        self.assertEqual(d.metric("origin_reconciler_desired_state_held"), 0)
        d.write_desired({ZONE: ips(0, 4)})
        d.wait_log("desired state change held")
        t_held = time.monotonic()
        log = d.log_text()
        self.assertIn(f"zone {ZONE}: 4 of 8 desired origins removed (50.0%)", log)
        self.assertIn("SIGHUP", log)
        self.assertIn("stays unchanged for 2s", log)
        # While held: the gauge says so, the file counts as valid, the state in force is the
        # previous one, and /healthz is healthy and says what is going on.
        self.assertEqual(d.metric("origin_reconciler_desired_state_held"), 1)
        self.assertEqual(d.metric("origin_reconciler_desired_state_valid"), 1)
        status, body = healthz(d)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["desired_state"], "held")
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["zones"], 1)
        self.assertEqual(api.requests("batch_delete"), [], "deleted while held")
        self.assertEqual(len(api.live()), 8)

        wait_for(lambda: api.live() == set(ips(0, 4)), 10, "the prune after the confirmation")
        waited = time.monotonic() - t_held
        print(f"\nheld change took effect {waited:.1f} s after it was held")
        self.assertGreater(waited, 1.5, "acted on before the confirmation period was over")
        self.assertIn("desired state reloaded (held change confirmed: unchanged for 2s)",
                      d.log_text())
        self.assertEqual(d.metric("origin_reconciler_desired_state_held"), 0)
        self.assertEqual(healthz(d)[1]["desired_state"], "valid")


class VanishingAndOddFilesTest(IntegrationTest):
    def test_a_deleted_desired_file_is_reported_once_and_the_last_state_kept(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 10)}, config=FAST_SETTLE).start()
        d.wait_log("cycle done")
        os.remove(d.desired_path)
        wait_for(lambda: d.metric("origin_reconciler_desired_state_valid") == 0, 10,
                 "desired_state_valid == 0")
        d.wait_log("cannot be read")  # logged just after the gauge is set
        log = d.log_text()
        gone = [l for l in log.splitlines() if "cannot be read" in l]
        self.assertEqual(len(gone), 1, log)
        self.assertIn(d.desired_path, gone[0])
        self.assertIn("No such file or directory", gone[0])
        self.assertIn("keeping the last valid desired state (1 zones)", gone[0])
        status, body = healthz(d)
        self.assertEqual(status, 200)
        self.assertEqual(body["desired_state"], "unreadable")
        self.assertEqual(body["zones"], 1)
        self.assertIsNone(d.proc.poll())

        # Back, unchanged: one line, valid again, nothing to reload.
        d.write_desired({ZONE: ips(0, 10)})
        wait_for(lambda: d.metric("origin_reconciler_desired_state_valid") == 1, 10,
                 "desired_state_valid == 1")
        d.wait_log("is back")
        log = d.log_text()
        self.assertEqual(log.count("is back"), 1, log)
        self.assertEqual(api.requests("batch_delete"), [])
        # And changes are taken again.
        d.write_desired({ZONE: ips(0, 9)})
        wait_for(lambda: api.live() == set(ips(0, 9)), 10, "the prune after the edit")

    def test_a_fifo_swapped_in_while_running_is_an_error_not_a_hang(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 10)}, config=FAST_SETTLE).start()
        d.wait_log("cycle done")
        fifo = d.desired_path + ".fifo"
        os.mkfifo(fifo)
        os.replace(fifo, d.desired_path)
        wait_for(lambda: d.metric("origin_reconciler_desired_state_valid") == 0, 10,
                 "desired_state_valid == 0")
        d.signal(signal.SIGHUP)  # would block on open() if the FIFO were opened for reading
        d.wait_log(r"desired state not reloaded \(SIGHUP\).*is a FIFO, not a regular file")
        status, body = healthz(d)
        self.assertEqual(status, 200)
        self.assertEqual(body["desired_state"], "unreadable")
        log = d.log_text()
        lines = [l for l in log.splitlines() if "is a FIFO, not a regular file" in l]
        self.assertEqual(len(lines), 2, log)  # the poll's warning, the SIGHUP's error
        self.assertIn(d.desired_path, lines[0])
        self.assertEqual(api.requests("batch_delete"), [])
        d.write_desired({ZONE: ips(0, 9)})
        wait_for(lambda: api.live() == set(ips(0, 9)), 10, "the prune after the fix")
        self.assertEqual(d.metric("origin_reconciler_desired_state_valid"), 1)

    def test_odd_files_at_start_up_are_errors_naming_the_file(self):
        api = self.standin(zones={ZONE: ips(0, 3)})
        d = self.daemon(api, {ZONE: ips(0, 3)})
        fifo = os.path.join(self.workdir, "fifo")
        os.mkfifo(fifo)
        folder = os.path.join(self.workdir, "folder")
        os.mkdir(folder)
        with open(d.config_path) as f:
            base = json.load(f)

        def run_with(cfg, config_path=None, *flags):
            path = config_path or os.path.join(self.workdir, "odd.yaml")
            if config_path is None:
                with open(path, "w") as f:
                    json.dump(cfg, f)
            return subprocess.run([ORC_BIN, "--config", path, "--once", *flags],
                                  capture_output=True, text=True, timeout=10,
                                  env=d.env({"CLOUDFLARE_API_TOKEN": ""}))

        with_token = json.loads(json.dumps(base))
        with_token["cloudflare"]["token_file"] = "token"
        with open(os.path.join(self.workdir, "token"), "w") as f:
            f.write(TOKEN)
        os.chmod(os.path.join(self.workdir, "token"), 0o600)
        cases = []
        for what, value in (("a FIFO", fifo), ("a directory", folder),
                            ("a character device", "/dev/zero")):
            cfg = json.loads(json.dumps(with_token))
            cfg["reconcile"]["desired_state"] = value
            cases.append((f"desired state {what}", cfg, None, value, what))
            cfg = json.loads(json.dumps(with_token))
            cfg["cloudflare"]["token_file"] = value
            cases.append((f"token file {what}", cfg, None, value, what))
        cases.append(("config a FIFO", None, fifo, fifo, "a FIFO"))
        for name, cfg, config_path, path, what in cases:
            with self.subTest(name):
                started = time.monotonic()
                run = run_with(cfg, config_path)
                self.assertLess(time.monotonic() - started, 5)
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertIn(path, run.stderr)
                if name == "desired state a directory":
                    # A directory of desired-state files, but an empty one: refused, since a
                    # mount that failed must not pass for "manage nothing".
                    self.assertIn("holds no desired-state files", run.stderr)
                else:
                    self.assertIn(f"is {what}, not a regular file", run.stderr)
        self.assertEqual(api.requests(), [])


class LargeDesiredStateTest(IntegrationTest):
    def test_a_large_desired_state_is_held_in_less_than_its_text(self):
        # 300 zones x 3,150 IPv4 origins (about 13 MB of JSON, 18 MB of block YAML): the file
        # is read as it streams, on RapidJSON when written as JSON and on libyaml otherwise,
        # and the origins take 4 bytes each (about 3.8 MB).
        # When an origin was a 24-byte struct, or the text was copied to be hashed, the peak
        # grew by more than twice the file; holding the text whole while it is parsed would
        # add the file once more.
        api = self.standin(zones={})
        d = self.daemon(api, {ZONE: ["192.0.2.1"]}, flavor="origin-v2")
        keep = ips(0, 3150)
        sizes, peaks = {}, {}

        def write(path, zones, as_json):
            ids = [f"{0xf1000 + z:032x}" for z in range(zones)]
            with open(path, "w") as f:
                if as_json:
                    json.dump({"zones": [{"zone_id": z, "origins": keep} for z in ids]}, f)
                    return
                f.write("zones:\n")
                for z in ids:
                    f.write(f"  - zone_id: {z}\n    origins:\n")
                    f.writelines(f"      - {ip}\n" for ip in keep)

        for name, zones, as_json in (("tiny", 1, True), ("large", 300, True),
                                     ("large-yaml", 300, False)):
            path = os.path.join(self.workdir, name + (".json" if as_json else ".yaml"))
            write(path, zones, as_json)
            sizes[name] = os.path.getsize(path)
            config = os.path.join(self.workdir, name + "-config.yaml")
            with open(d.config_path) as f:
                cfg = json.load(f)
            cfg["reconcile"]["desired_state"] = path
            with open(config, "w") as f:
                json.dump(cfg, f)
            status, err, peaks[name] = run_measured([ORC_BIN, "--config", config,
                                                     "--check-config"], d.env())
            self.assertEqual(status, 0, err)
        for name in ("large", "large-yaml"):
            grown = peaks[name] - peaks["tiny"]
            print(f"\ndesired state of {sizes[name] / 1e6:.1f} MB ({name}): peak RSS "
                  f"{peaks[name] / 1e6:.1f} MB, {grown / 1e6:.1f} MB above a tiny one's "
                  f"({grown / sizes[name]:.2f} x the file)")
            self.assertGreater(sizes[name], 12_000_000)
            if not SANITIZED:  # the sanitizers' shadow memory and quarantine are not the reader's
                self.assertLess(grown, 0.6 * sizes["large"],
                                f"the desired state ({name}) took more than 0.6 times the JSON "
                                f"file's size")


class TokenFileAndNumbersTest(IntegrationTest):
    def test_a_token_file_others_can_read_is_a_warning_and_strict_makes_it_an_error(self):
        api = self.standin(zones={ZONE: ips(0, 3)})
        token_path = os.path.join(self.workdir, "token")
        with open(token_path, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token_path, 0o644)
        d = self.daemon(api, {ZONE: ips(0, 3)}, config={"cloudflare": {"token_file": "token"}})
        no_env = {"CLOUDFLARE_API_TOKEN": ""}

        run = d.run_once(env=no_env)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertRegex(run.stderr, r"warn.*cloudflare\.token_file .*token: the token is "
                                     r"readable by .*every other user \(mode 0644\)")
        check = d.run_once("--check-config", env=no_env)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("warning: ", check.stdout)
        strict = d.run_once("--check-config", "--strict", env=no_env)
        self.assertEqual(strict.returncode, 2, strict.stdout)
        self.assertIn(token_path, strict.stderr)
        self.assertIn("an error with --strict", strict.stderr)
        for text in (run.stderr, check.stdout, strict.stderr):
            self.assertNotIn(TOKEN, text)

        os.chmod(token_path, 0o600)
        self.assertEqual(d.run_once("--check-config", "--strict", env=no_env).returncode, 0)
        self.assertNotIn("readable by", d.run_once(env=no_env).stderr)
        # --strict belongs to --check-config.
        self.assertEqual(d.run_once("--strict", env=no_env).returncode, 2)
        help_text = subprocess.run([ORC_BIN, "--help"], capture_output=True, text=True).stdout
        self.assertIn("--strict", help_text)

    def test_a_tiny_request_rate_is_refused(self):
        api = self.standin(zones={ZONE: ips(0, 3)})
        d = self.daemon(api, {ZONE: []}, config={"cloudflare": {"requests_per_second": 1e-300}})
        run = d.run_once()
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("cloudflare.requests_per_second: must be between 0.01 and 1000", run.stderr)
        self.assertEqual(api.requests(), [])


class OnceStoppedTest(IntegrationTest):
    def test_once_stopped_by_sigterm_exits_0_and_reports_the_zones_not_done(self):
        api = self.standin(zones={ZONE: ips(0, 10), ZONE_B: ips(100, 10)},
                           faults=[{"operation": "list", "zone": ZONE, "latency_ms": 1500}])
        d = self.daemon(api, {ZONE: ips(0, 8), ZONE_B: ips(100, 8)},
                        config={"reconcile": {"concurrency": 1}})
        stderr = open(d.stderr_path, "w")
        self.addCleanup(stderr.close)
        proc = subprocess.Popen([ORC_BIN, "--config", d.config_path, "--once"],
                                stdout=subprocess.PIPE, stderr=stderr, text=True, env=d.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        api.wait_received("list", ZONE)  # the listing of the first zone, now held up
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        print(f"\n--once report after SIGTERM:\n{out}")
        self.assertEqual(proc.returncode, 0, d.log_text())
        # The listing in flight was finished; nothing new was sent after the signal.
        self.assertEqual(api.requests("batch_delete"), [])
        self.assertEqual(len(api.live(ZONE)), 10)
        self.assertEqual(len(api.live(ZONE_B)), 10)
        self.assertIn(f"zone {ZONE}: stopped live=10 desired=8 stale=2", out)
        self.assertIn(f"zone {ZONE_B}: not started (stopped before it was reconciled)", out)
        self.assertIn("stopped by a signal: 1 zones cut short, 1 not started", out)
        self.assertIn("stopped (exit status 0)", d.log_text())

    def test_once_stopped_after_a_real_failure_still_exits_1(self):
        api = self.standin(zones={ZONE: ips(0, 10), ZONE_B: ips(100, 10)},
                           faults=[{"operation": "list", "zone": ZONE, "status": 403,
                                    "times": -1},
                                   {"operation": "list", "zone": ZONE_B, "latency_ms": 1500}])
        d = self.daemon(api, {ZONE: ips(0, 8), ZONE_B: ips(100, 8)},
                        config={"reconcile": {"concurrency": 1}})
        proc = subprocess.Popen([ORC_BIN, "--config", d.config_path, "--once"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=d.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        # The first zone failed; the second one's listing is held up in the stand-in.
        api.wait_received("list", ZONE_B)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn(f"zone {ZONE}: failure", out)
        self.assertIn(f"zone {ZONE_B}: stopped", out)


if __name__ == "__main__":
    unittest.main()
