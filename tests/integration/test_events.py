"""Kubernetes Events: the real daemon, the Cloudflare stand-in and the Lease stand-in's events API.

The daemon runs as it would in a pod (POD_NAME, POD_NAMESPACE and POD_UID from the environment,
as the downward API sets them; the service account token in a file; the API server's CA made at
test time) and records its zone outcomes as core/v1 Events on that Pod. Every wait is for
something the daemon or a stand-in did (a stored Event, a request, a log line, a metric).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import ORC_BIN, IntegrationTest, ZONE, ZONE_B, http, ips, wait_for
from lease_standin import LeaseStandIn, make_ca

NS = "apps"
POD = "web-7d9f-x2k4q"
UID = "5b1c0d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"
ZONE_C = "2222222222222222222222222222222b"
ZONE_D = "3333333333333333333333333333333c"
TOKEN = "sa-token-events-0123456789"
FAST = {"lease_duration": "3s", "renew_deadline": "2s", "retry_period": "500ms"}
POD_ENV = {"POD_NAME": POD, "POD_NAMESPACE": NS, "POD_UID": UID}


class EventsTest(IntegrationTest):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="orc-events-ca-")
        cls.cert = make_ca(cls.certs)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.kube = LeaseStandIn(self.workdir, {POD: TOKEN}, cert=self.cert)
        self.addCleanup(self.kube.stop)

    # -- setting up ----------------------------------------------------------------------------

    def fleet(self, faults=None):
        """ZONE: 5 of 20 stale (applied); ZONE_B: 10 of 20 stale, over the guard (blocked);
        ZONE_C: suspended with 5 stale; ZONE_D: its listing refused (failed)."""
        zones = {ZONE: ips(0, 20), ZONE_B: ips(0, 20, "10.30"), ZONE_C: ips(0, 20, "10.40"),
                 ZONE_D: ips(0, 20, "10.50")}
        faults = [{"operation": "list", "zone": ZONE_D, "status": 403, "times": -1}] + (faults or [])
        api = self.standin(zones=zones, faults=faults)
        desired = {"zones": [
            {"zone_id": ZONE, "origins": ips(0, 15)},
            {"zone_id": ZONE_B, "origins": ips(0, 10, "10.30")},
            {"zone_id": ZONE_C, "origins": ips(0, 15, "10.40"),
             "suspend": {"reason": "incident 4711", "until": "2099-01-01T01:00:00+01:00"}},
            {"zone_id": ZONE_D, "origins": ips(0, 20, "10.50")},
        ]}
        return api, json.dumps(desired)

    def reconciler(self, api, desired, leader_election=True, events=None, config=None):
        token_file = os.path.join(self.workdir, "sa-token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token_file, 0o600)
        cfg = {
            "reconcile": {"interval": "1s", "settle_period": "200ms"},
            "leader_election": {"enabled": leader_election, "namespace": NS,
                                "identity": POD, "api_server": self.kube.url,
                                "token_file": token_file, "ca_file": self.kube.ca_file, **FAST},
        }
        if events is not None:
            cfg["events"] = {"enabled": events}
        for section, values in (config or {}).items():
            cfg.setdefault(section, {}).update(values)
        return self.daemon(api, desired, flavor="origin-v2", config=cfg)

    def events(self, reason=None):
        return [e for e in self.kube.events(NS) if reason is None or e["reason"] == reason]

    def one(self, reason, zone):
        found = [e for e in self.events(reason) if f"zone {zone}" in e["message"]]
        self.assertEqual(len(found), 1, f"{reason} for {zone}: {found}")
        return found[0]

    def counted(self, reason, zone, count):
        """Waits for the Event `reason` about `zone` to reach `count`."""
        return wait_for(lambda: [e for e in self.events(reason)
                                 if f"zone {zone}" in e["message"] and e["count"] >= count],
                        15, f"{reason} for {zone} with count {count}")[0]

    # -- the tests -----------------------------------------------------------------------------

    def test_outcomes_become_events_on_the_pod_and_a_repeat_counts_on_the_same_event(self):
        api, desired = self.fleet()
        d = self.reconciler(api, desired).start(env=POD_ENV)
        d.wait_log(rf"kubernetes events: recorded on pod {NS}/{POD} through https://127\.0\.0\.1:")
        # The same outcome in the next cycle: one Event, its count 2 (a PATCH, not a POST).
        blocked = self.counted("ZoneBlocked", ZONE_B, 2)
        suspended = self.counted("ZoneSuspended", ZONE_C, 2)
        failed = self.counted("ZoneFailed", ZONE_D, 2)
        applied = self.one("ZoneApplied", ZONE)  # the next cycles find it in line: no repeat
        self.assertEqual(applied["count"], 1)
        self.assertEqual(applied["type"], "Normal")
        self.assertEqual(applied["message"], f"zone {ZONE}: applied: 5 deleted")
        self.assertEqual(blocked["type"], "Warning")
        self.assertIn(f"zone {ZONE_B}: safety guard blocked the prune: ", blocked["message"])
        self.assertIn(f"--force-zone {ZONE_B}", blocked["message"])
        self.assertEqual(suspended["type"], "Normal")
        self.assertEqual(suspended["message"],
                         f"zone {ZONE_C}: suspended (reason: incident 4711, until "
                         f"2099-01-01T00:00:00Z): nothing sent; pending: 0 creates, 0 updates, "
                         f"5 deletes")
        self.assertEqual(failed["type"], "Warning")
        self.assertIn(f"zone {ZONE_D}: reconcile failed: listing mappings: HTTP 403",
                      failed["message"])
        # Distinct outcomes are distinct Events, each once, each about this Pod.
        names = set()
        for reason, zone in (("ZoneApplied", ZONE), ("ZoneBlocked", ZONE_B),
                             ("ZoneSuspended", ZONE_C), ("ZoneFailed", ZONE_D)):
            e = self.one(reason, zone)
            names.add(e["metadata"]["name"])
            self.assertRegex(e["metadata"]["name"], rf"^{POD}\.[0-9a-f]+$")
            self.assertEqual(e["involvedObject"], {"apiVersion": "v1", "kind": "Pod",
                                                   "namespace": NS, "name": POD, "uid": UID})
            self.assertEqual(e["source"], {"component": "origin-reconciler"})
            self.assertEqual(e["reportingComponent"], "origin-reconciler")
            self.assertEqual(e["reportingInstance"], POD)
            self.assertLessEqual(e["firstTimestamp"], e["lastTimestamp"])
        self.assertEqual(len(names), 4)
        self.assertEqual(blocked["firstTimestamp"], self.one("ZoneBlocked", ZONE_B)["firstTimestamp"])

        requests = self.kube.requests("events")
        posts = [r for r in requests if r["method"] == "POST"]
        patches = [r for r in requests if r["method"] == "PATCH"]
        self.assertEqual(len(posts), 4, posts)
        self.assertTrue(all(r["status"] == 201 for r in posts), posts)
        self.assertGreaterEqual(len(patches), 3)
        for r in patches:
            self.assertEqual(r["status"], 200, r)
            self.assertEqual(r["content_type"], "application/strategic-merge-patch+json")
            self.assertGreaterEqual(r["count"], 2)
        self.assertTrue(all(r["client"] == POD for r in requests), "the service account's token")
        wait_for(lambda: (d.metric("origin_reconciler_events_sent_total", operation="create") == 4
                          and d.metric("origin_reconciler_events_sent_total",
                                       operation="patch") >= 3),
                 10, "the events counted on /metrics")
        self.assertEqual(d.metric("origin_reconciler_events_dropped_total", reason="failed"), 0)
        self.assertEqual(d.metric("origin_reconciler_events_dropped_total", reason="queue_full"),
                         0)

        # A desired-state change that removes too much is held: the leader says so on its Pod.
        d.write_desired(json.dumps({"zones": [
            {"zone_id": ZONE, "origins": ips(0, 5)},
            {"zone_id": ZONE_B, "origins": ips(0, 10, "10.30")},
            {"zone_id": ZONE_C, "origins": ips(0, 15, "10.40"),
             "suspend": {"reason": "incident 4711", "until": "2099-01-01T01:00:00+01:00"}},
            {"zone_id": ZONE_D, "origins": ips(0, 20, "10.50")},
        ]}))
        held = wait_for(lambda: self.events("DesiredStateHeld"), 10, "the held change's Event")[0]
        self.assertEqual(held["type"], "Warning")
        self.assertEqual(held["message"],
                         f"zone {ZONE}: desired-state change held: 10 of its 15 desired origins "
                         f"removed (66.7%); the desired state in force stays until the file has "
                         f"been unchanged for 10m (or SIGHUP confirms it)")
        self.assertNotIn(TOKEN, d.log_text())
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(), 0)

    def test_a_failing_events_api_does_not_fail_a_cycle_and_is_warned_about_once(self):
        api, desired = self.fleet()
        self.kube.set_faults([{"resource": "events", "status": 500}])
        d = self.reconciler(api, desired).start(env=POD_ENV)
        # Three zones a cycle make an Event each; each is tried three times (1 s, then 2 s apart)
        # and given up.
        wait_for(lambda: (d.metric("origin_reconciler_events_dropped_total", reason="failed")
                          or 0) >= 3, 20, "three events given up")
        self.assertEqual(api.live(ZONE), set(ips(0, 15)), "the zone was pruned all the same")
        d.wait_log(r"cycle done: 4 zones: 1 ok, 1 failed, 1 blocked, 0 dry-run, 1 suspended", 10)
        warnings = re.findall(r"kubernetes event \w+ \S+ not recorded: HTTP 500: InternalError: "
                              r"Internal error occurred: injected fault; reconciling is not "
                              r"affected", d.log_text())
        self.assertEqual(len(warnings), 1, "warned once a minute, not once per event")
        status, body = http("GET", d.status_base + "/healthz")
        self.assertEqual(status, 200, body)
        self.assertEqual(d.metric("origin_reconciler_events_sent_total", operation="create"), 0)
        self.assertEqual(self.events(), [])
        self.assertGreaterEqual(len(self.kube.requests("events")), 9)
        # The API server is back: the next outcomes are recorded.
        self.kube.set_faults([])
        self.counted("ZoneBlocked", ZONE_B, 1)
        self.assertNotIn(TOKEN, d.log_text())

    def test_a_stalled_events_api_neither_slows_the_cycles_nor_holds_the_shutdown(self):
        api, desired = self.fleet()
        self.kube.set_faults([{"resource": "events", "latency_ms": 60000}])
        d = self.reconciler(api, desired).start(env=POD_ENV)
        wait_for(self.kube.held, 10, "an Event request held by the stalled API server")
        cycles = len(re.findall(r"cycle done", d.log_text()))
        started = time.monotonic()
        d.wait_log(r"cycle done", timeout=10, count=cycles + 2)  # interval 1 s
        self.assertLess(time.monotonic() - started, 6, "cycles went on at their interval")
        self.assertGreaterEqual(self.kube.held(), 1, "still waiting on the events API")
        took = self.seconds_to_exit_on_sigterm(d, "the events API stalled", timeout=15)
        self.assertLessEqual(took, 3.0, d.log_text()[-1500:])
        d.wait_log(r"shutdown: \d+ kubernetes events not recorded", timeout=1)

    def test_events_enabled_false_sends_none_with_leader_election_on(self):
        api, desired = self.fleet()
        d = self.reconciler(api, desired, events=False).start(env=POD_ENV)
        d.wait_log(r"became leader")
        d.wait_log(r"cycle done", count=2)
        self.assertEqual(self.kube.requests("events"), [])
        self.assertNotIn("kubernetes events:", d.log_text())
        self.assertNotIn("origin_reconciler_events_sent_total", d.metrics())

    def test_events_on_by_leader_election_outside_a_pod_are_off_with_a_warning(self):
        if os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/namespace"):
            self.skipTest("this machine runs in a pod: its namespace file is there")
        api, desired = self.fleet()
        d = self.reconciler(api, desired).start(env={"POD_NAME": POD})
        d.wait_log(r"became leader")
        d.wait_log(r"cycle done", count=2)
        self.assertIn(f"{d.config_path}: events are on with leader_election.enabled (set "
                      "events.enabled: false to turn them off), but $POD_NAMESPACE is not set "
                      "and the pod's namespace cannot be read from ", d.log_text())
        self.assertIn("; no Kubernetes Events are recorded", d.log_text())
        self.assertEqual(self.kube.requests("events"), [])

    def test_events_enabled_true_without_leader_election_and_none_from_once(self):
        api, desired = self.fleet()
        d = self.reconciler(api, desired, leader_election=False, events=True)
        run = d.run_once(env=POD_ENV)
        self.assertEqual(run.returncode, 1, run.stderr[-2000:])  # ZONE_D failed
        self.assertEqual(self.kube.requests(None), [], "--once is a person's run: no Events")
        d.start(env=POD_ENV)
        self.counted("ZoneBlocked", ZONE_B, 2)
        self.assertEqual(self.kube.requests("leases"), [], "no leader election")

    def test_check_config_names_the_file_line_key_and_value_of_a_bad_events_setting(self):
        api, desired = self.fleet()
        d = self.reconciler(api, desired)
        with open(d.config_path) as f:
            text = f.read()
        # JSON is YAML: a plain (unquoted) scalar on a line of its own is the mistake.
        with open(d.config_path, "w") as f:
            f.write(text.rstrip()[:-1] + ',\n"events": {\n"enabled": maybe}}\n')
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--check-config"],
                             capture_output=True, text=True, timeout=30, env=d.env(POD_ENV))
        self.assertEqual(run.returncode, 2, run.stdout + run.stderr)
        line = text.rstrip()[:-1].count("\n") + 3
        self.assertIn(f"{d.config_path}:{line}: events.enabled: must be true or false (got "
                      f"'maybe')", run.stderr)

    def test_events_on_outside_a_pod_is_a_start_up_error_naming_what_is_missing(self):
        if os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/namespace"):
            self.skipTest("this machine runs in a pod: its namespace file is there")
        api, desired = self.fleet()
        d = self.reconciler(api, desired, leader_election=False, events=True)
        env = d.env({"POD_NAME": POD})
        run = subprocess.run([ORC_BIN, "--config", d.config_path], capture_output=True,
                             text=True, timeout=30, env=env)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn(f"{d.config_path}: events.enabled is true, but $POD_NAMESPACE is not set "
                      "and the pod's namespace cannot be read from "
                      "/var/run/secrets/kubernetes.io/serviceaccount/namespace", run.stderr)
        self.assertEqual(api.requests(), [], "nothing was sent")


if __name__ == "__main__":
    unittest.main(verbosity=2)
