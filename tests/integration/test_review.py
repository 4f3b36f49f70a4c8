"""A team's review workflow end to end, against the stand-in: the drift check for CI
(--dry-run --detailed-exitcode), the plan as Markdown for a merge request, and reviewed plans
applied again after a partial failure."""

import datetime
import json
import os
import re
import subprocess
import unittest

from harness import ORC_BIN, ZONE, ZONE_B, IntegrationTest, ips, wait_for

CHANGES_PENDING = 4
EXPECTED_DIR = os.path.join(os.path.dirname(__file__), "expected")


def mapping(ip, vendor="aws", region="us-east-1"):
    return {"ip": ip, "vendor": vendor, "region": region}


class DriftCheckTest(IntegrationTest):
    """--dry-run --detailed-exitcode: 0 nothing to do, 4 changes pending, under both policies;
    1, 2 and 3 keep their meaning and win over 4."""

    def prune(self, live, desired):
        self.api = self.standin(zones={ZONE: live})
        return self.daemon(self.api, {ZONE: desired}, flavor="origin-v2")

    def sync(self, live, desired):
        self.api = self.standin(seed={"zones": {ZONE: live}})
        return self.daemon(self.api, {ZONE: desired}, flavor="origin-v2",
                           config={"reconcile": {"policy": "sync"}})

    def drift(self, d, *flags):
        run = d.run_once("--dry-run", "--detailed-exitcode", *flags)
        self.assertEqual([r["operation"] for r in self.api.requests()
                          if r["operation"].startswith("batch")], [], "a dry run writes nothing")
        return run

    def test_prune_in_line_is_zero(self):
        d = self.prune(ips(0, 10), ips(0, 10))
        run = self.drift(d)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("stale=0", run.stdout)

    def test_prune_with_stale_mappings_is_four(self):
        d = self.prune(ips(0, 12), ips(0, 10))
        run = self.drift(d)
        self.assertEqual(run.returncode, CHANGES_PENDING, run.stdout + run.stderr)
        self.assertIn("would delete 10.20.0.11", run.stdout)
        # Without the option a dry run still exits 0.
        self.assertEqual(d.run_once("--dry-run").returncode, 0)
        # The JSON plan carries the same verdict.
        run = self.drift(d, "--output", "json")
        self.assertEqual(run.returncode, CHANGES_PENDING, run.stderr)
        self.assertEqual(json.loads(run.stdout)["summary"]["deletes"], 2)

    def test_sync_in_line_is_zero(self):
        live = [mapping(ip) for ip in ips(0, 10)]
        d = self.sync(live, live)
        run = self.drift(d)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)

    def test_sync_with_a_create_or_an_update_pending_is_four(self):
        live = [mapping(ip) for ip in ips(0, 10)]
        d = self.sync(live, live + [mapping("10.30.0.1", "gcp", "us-central1")])
        run = self.drift(d)
        self.assertEqual(run.returncode, CHANGES_PENDING, run.stdout + run.stderr)
        self.assertIn("would create 10.30.0.1 gcp/us-central1", run.stdout)

        moved = live[:9] + [mapping(live[9]["ip"], "aws", "eu-west-1")]
        d.write_desired({ZONE: moved})
        run = self.drift(d)
        self.assertEqual(run.returncode, CHANGES_PENDING, run.stdout + run.stderr)
        self.assertIn("would update 10.20.0.9 aws/us-east-1 -> aws/eu-west-1", run.stdout)

    def test_a_block_is_three_not_four(self):
        d = self.prune(ips(0, 20), ips(0, 10))  # 50 % stale > 30 %
        run = self.drift(d)
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)

    def test_a_failure_is_one_not_four(self):
        self.api = self.standin(zones={ZONE: ips(0, 12)},
                                faults=[{"operation": "list", "zone": ZONE_B, "status": 403,
                                         "times": -1}])
        d = self.daemon(self.api, {ZONE: ips(0, 10), ZONE_B: ips(0, 1)}, flavor="origin-v2")
        run = self.drift(d)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)

    def test_it_goes_with_dry_run_only_and_implies_once(self):
        d = self.prune(ips(0, 12), ips(0, 10))
        run = d.run_once("--detailed-exitcode")
        self.assertEqual(run.returncode, 2)
        self.assertIn("--detailed-exitcode goes with --dry-run", run.stderr)
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--dry-run",
                              "--detailed-exitcode"], capture_output=True, text=True,
                             env=d.env(), timeout=60)
        self.assertEqual(run.returncode, CHANGES_PENDING, run.stderr)


class MarkdownPlanTest(IntegrationTest):
    """--dry-run --output markdown: what a merge-request comment shows, compared with the
    checked-in example (tests/integration/expected/plan.md). Only what differs from run to run
    is replaced before the comparison: the time, the version and the work folder."""

    def normalized(self, text, workdir):
        text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<created_at>", text)
        text = re.sub(r"origin-reconciler \d+\.\d+\.\d+", "origin-reconciler <version>", text)
        # mkdtemp's names may hold "_", which the Markdown escapes.
        return text.replace(workdir.replace("_", "\\_"), "<workdir>").replace(workdir,
                                                                             "<workdir>")

    def test_a_zone_with_creates_updates_and_deletes_matches_the_example(self):
        live = [mapping(ip) for ip in ips(0, 12)]
        desired = live[:9] + [mapping("10.20.0.9", "aws", "eu-west-1"),
                              mapping("10.30.0.1", "gcp", "us-central1")]
        self.api = self.standin(seed={"zones": {ZONE: live,
                                                ZONE_B: [mapping(ip, "gcp", "europe-west1")
                                                         for ip in ips(0, 3, prefix="10.40")]}})
        d = self.daemon(self.api, {ZONE: desired, ZONE_B: ips(0, 3, prefix="10.40")},
                        flavor="origin-v2", config={"reconcile": {"policy": "sync"}})
        run = d.run_once("--dry-run", "--output", "markdown")
        self.assertEqual(run.returncode, 0, run.stderr)
        got = self.normalized(run.stdout, self.workdir)
        path = os.path.join(EXPECTED_DIR, "plan.md")
        if os.environ.get("ORC_UPDATE_EXPECTED") == "1":
            with open(path, "w") as f:
                f.write(got)
        with open(path) as f:
            self.assertEqual(got, f.read())
        # The checksum is the plan's: the same as the JSON plan's.
        doc = json.loads(d.run_once("--dry-run", "--output", "json").stdout)
        self.assertTrue(run.stdout.endswith(f"Plan checksum: `{doc['checksum']}`\n"))
        self.assertEqual(self.api.requests("batch_upsert") + self.api.requests("batch_delete"),
                         [])

    def test_markdown_goes_with_dry_run(self):
        self.api = self.standin(zones={ZONE: ips(0, 2)})
        d = self.daemon(self.api, {ZONE: ips(0, 2)}, flavor="origin-v2")
        run = d.run_once("--output", "markdown")
        self.assertEqual(run.returncode, 2)
        self.assertIn("--output markdown goes with --dry-run", run.stderr)
        run = d.run_once("--dry-run", "--output", "yaml")
        self.assertEqual(run.returncode, 2)
        self.assertIn("--output: must be text, json or markdown (got 'yaml')", run.stderr)


class ResumablePlanTest(IntegrationTest):
    """--apply-plan after a partial failure applies what is left of the reviewed plan, then
    reports it already applied; a change the review did not see still refuses the zone."""

    def setup_zone(self):
        # 12 live, 6 desired: 6 deletes, sent two at a time.
        self.api = self.standin(zones={ZONE: ips(0, 12)})
        d = self.daemon(self.api, {ZONE: ips(0, 6)}, flavor="origin-v2",
                        config={"reconcile": {"batch_size": 2, "max_delete_fraction": 0.6}})
        path = os.path.join(self.workdir, "plan.json")
        run = d.run_once("--dry-run", "--plan-out", path)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        return d, path

    def test_partial_failure_then_the_remainder_then_already_applied(self):
        d, path = self.setup_zone()
        # The second batch delete is refused (403 is not retried): the first two deletes are
        # made, the last four are not.
        self.api.set_faults([{"operation": "batch_delete", "zone": ZONE, "skip": 1, "times": 1,
                              "status": 403}])
        self.api.admin("DELETE", "requests")
        first = d.run_once("--apply-plan", path)
        self.assertEqual(first.returncode, 1, first.stdout + first.stderr)
        self.assertEqual(len(self.api.live(ZONE)), 10)
        self.assertEqual(len(self.api.requests("batch_delete")), 2)

        self.api.admin("DELETE", "requests")
        second = d.run_once("--apply-plan", path)
        self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
        self.assertIn("resumed: 4 of the 6 reviewed changes left, the others are in place",
                      second.stdout)
        self.assertEqual(self.api.live(ZONE), set(ips(0, 6)))
        sent = [ip for r in self.api.requests("batch_delete") for ip in r["ips"]]
        self.assertEqual(len(sent), 4)
        self.assertFalse(set(sent) & set(ips(0, 6)), "a desired IP was sent in a delete")

        self.api.admin("DELETE", "requests")
        third = d.run_once("--apply-plan", path)
        self.assertEqual(third.returncode, 0, third.stdout + third.stderr)
        self.assertIn("already applied: the 6 changes of the reviewed plan are in place",
                      third.stdout)
        self.assertIn("reviewed plan: already applied, nothing was left to send", third.stdout)
        self.assertEqual(self.api.requests("batch_delete"), [])

    def test_a_change_the_review_did_not_see_still_refuses_the_zone(self):
        d, path = self.setup_zone()
        state = self.api.admin("GET", "state")
        state["zones"][ZONE] = [m for m in state["zones"][ZONE] if m["ip"] != "10.20.0.11"]
        state["zones"][ZONE].append({"ip": "10.20.0.99", "vendor": "aws", "region": "us-east-1"})
        self.api.admin("PUT", "state", state)
        self.api.admin("DELETE", "requests")
        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("deletes: 10.20.0.99 is in the plan now but not in the plan file",
                      run.stdout)
        self.assertEqual(self.api.requests("batch_delete"), [])


ZONE_C = "2222222222222222222222222222222b"


class ZoneGuardTest(IntegrationTest):
    """Per-zone thresholds in the desired state, --force-zone for one zone, and a reviewed plan
    as the approval of a blocked zone."""

    def three_zones(self):
        # Each zone would delete 3 of 20 (15 %): under the configuration's 30 %. ZONE and
        # ZONE_C have their own max_delete_fraction of 10 %, ZONE_B has none.
        self.api = self.standin(zones={ZONE: ips(0, 20), ZONE_B: ips(0, 20, prefix="10.30"),
                                       ZONE_C: ips(0, 20, prefix="10.40")})
        desired = {"zones": [
            {"zone_id": ZONE, "max_delete_fraction": 0.1, "origins": ips(0, 17)},
            {"zone_id": ZONE_B, "origins": ips(0, 17, prefix="10.30")},
            {"zone_id": ZONE_C, "max_delete_fraction": 0.1, "origins": ips(0, 17, prefix="10.40")},
        ]}
        return self.daemon(self.api, json.dumps(desired), flavor="origin-v2")

    def deleted_in(self, zone):
        return [ip for r in self.api.requests("batch_delete") if r["zone"] == zone
                for ip in r["ips"]]

    def test_own_threshold_blocks_one_zone_and_force_zone_lifts_exactly_one(self):
        d = self.three_zones()
        run = d.run_once()
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)
        self.assertIn(f"zone {ZONE}: blocked", run.stdout)
        self.assertIn(f"zone {ZONE_C}: blocked", run.stdout)
        self.assertIn("above max_delete_fraction 10.0% (the zone's own threshold)", run.stdout)
        self.assertIn(f"origin-reconciler --once --force-zone {ZONE}", run.stderr)
        self.assertEqual(len(self.deleted_in(ZONE_B)), 3, "the global threshold lets ZONE_B go")
        self.assertEqual(self.deleted_in(ZONE), [])
        self.assertEqual(self.deleted_in(ZONE_C), [])

        self.api.admin("DELETE", "requests")
        run = d.run_once("--force-zone", ZONE.upper())
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)  # ZONE_C still blocked
        self.assertIn(f"safety guards lifted for zone {ZONE} (--force-zone)", run.stderr)
        self.assertEqual(sorted(self.deleted_in(ZONE)), sorted(ips(17, 3)))
        self.assertEqual(self.deleted_in(ZONE_C), [])
        self.assertEqual(len(self.api.live(ZONE_C)), 20)

    def test_force_zone_must_name_a_zone_of_the_desired_state(self):
        d = self.three_zones()
        run = d.run_once("--force-zone", "3" * 32)
        self.assertEqual(run.returncode, 2)
        self.assertIn(f"--force-zone '{'3' * 32}': no such zone in {d.desired_path} (give a "
                      "zone_id or zone name it lists)", run.stderr)
        # A name the desired state does not write with zone: (its zones are written by id).
        run = d.run_once("--force-zone", ZONE, "--force-zone", "example.com")
        self.assertEqual(run.returncode, 2)
        self.assertIn(f"--force-zone 'example.com': no such zone in {d.desired_path}", run.stderr)
        run = d.run_once("--force-zone", "not a zone!")
        self.assertEqual(run.returncode, 2)
        self.assertIn("--force-zone: must be a zone id (32 hexadecimal characters) or a zone name "
                      "(got 'not a zone!')", run.stderr)
        self.assertEqual(self.api.requests(), [])

    def test_force_zone_takes_names_and_ids_mixed(self):
        # ZONE and ZONE_C are written by name; each has its own 10 % threshold that blocks the
        # deletion of 3 of its 20 mappings.
        names = os.path.join(self.workdir, "zone-names.json")
        with open(names, "w") as f:
            json.dump({ZONE: "example.com", ZONE_C: "example.org"}, f)
        self.api = self.standin(zones={ZONE: ips(0, 20), ZONE_B: ips(0, 20, prefix="10.30"),
                                       ZONE_C: ips(0, 20, prefix="10.40")},
                                extra_args=("--zone-names", names))
        desired = {"zones": [
            {"zone": "example.com", "max_delete_fraction": 0.1, "origins": ips(0, 17)},
            {"zone_id": ZONE_B, "max_delete_fraction": 0.1, "origins": ips(0, 17, prefix="10.30")},
            {"zone": "example.org", "max_delete_fraction": 0.1,
             "origins": ips(0, 17, prefix="10.40")},
        ]}
        d = self.daemon(self.api, json.dumps(desired), flavor="origin-v2")
        run = d.run_once("--force-zone", "EXAMPLE.com", "--force-zone", ZONE_B)
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)  # example.org still blocked
        self.assertIn(f"safety guards lifted for zone {ZONE} (example.com) (--force-zone)",
                      run.stderr)
        self.assertIn(f"safety guards lifted for zone {ZONE_B} (--force-zone)", run.stderr)
        self.assertEqual(sorted(self.deleted_in(ZONE)), sorted(ips(17, 3)))
        self.assertEqual(sorted(self.deleted_in(ZONE_B)), sorted(ips(17, 3, prefix="10.30")))
        self.assertEqual(self.deleted_in(ZONE_C), [])
        self.assertIn(f"zone {ZONE_C} (example.org): blocked", run.stdout)
        # A name no zone of the desired state has: refused before anything is sent in a zone.
        self.api.admin("DELETE", "requests")
        run = d.run_once("--force-zone", "example.net")
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn(f"--force-zone 'example.net': no such zone in {d.desired_path}", run.stderr)
        self.assertEqual({r["operation"] for r in self.api.requests()} - {"zones"}, set())

    def test_a_reviewed_plan_that_lists_a_blocked_zones_changes_approves_it(self):
        d = self.three_zones()
        path = os.path.join(self.workdir, "plan.json")
        run = d.run_once("--dry-run", "--plan-out", path)
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)
        with open(path) as f:
            doc = json.load(f)
        blocked = doc["zones"][0]
        self.assertEqual(blocked["status"], "blocked")
        self.assertIn("apply it (--once --apply-plan plan.json)", blocked["reason"])
        # Only ZONE's changes are in the reviewed plan as they were: ZONE_C gets a new stale
        # mapping, so its recomputed plan is not the reviewed one and stays untouched.
        state = self.api.admin("GET", "state")
        state["zones"][ZONE_C].append({"ip": "10.40.0.99", "vendor": "aws",
                                       "region": "us-east-1"})
        self.api.admin("PUT", "state", state)
        self.api.admin("DELETE", "requests")
        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)  # ZONE_C not applied
        self.assertIn(f"zone {ZONE}: safety guard lifted for this zone (approved by the "
                      "reviewed plan)", run.stderr)
        self.assertEqual(sorted(self.deleted_in(ZONE)), sorted(ips(17, 3)))
        self.assertEqual(len(self.deleted_in(ZONE_B)), 3)
        self.assertEqual(self.deleted_in(ZONE_C), [])


class SuspendTest(IntegrationTest):
    """A zone's suspend: in the desired state: listed, planned and measured, nothing sent, and
    reconciled again once its until has passed."""

    def test_a_suspended_zone_sends_nothing_shows_its_drift_and_resumes_after_until(self):
        self.api = self.standin(zones={ZONE: ips(0, 12), ZONE_B: ips(0, 12, prefix="10.30")})
        until = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
                 + datetime.timedelta(seconds=4))
        until_text = until.strftime("%Y-%m-%dT%H:%M:%SZ")
        desired = {"zones": [
            {"zone_id": ZONE, "origins": ips(0, 10),
             "suspend": {"reason": "incident 4711", "until": until_text}},
            {"zone_id": ZONE_B, "origins": ips(0, 10, prefix="10.30")},
        ]}
        d = self.daemon(self.api, json.dumps(desired), flavor="origin-v2",
                        config={"reconcile": {"interval": "1s"}})
        # A dry run plans it like any zone.
        run = d.run_once("--dry-run", "--detailed-exitcode")
        self.assertEqual(run.returncode, 4, run.stdout + run.stderr)
        self.assertIn("would delete 10.20.0.11", run.stdout)

        d.start()
        d.wait_log(r"zone " + ZONE + r": suspended \(reason: incident 4711, until "
                   + until_text + r"\)")
        wait_for(lambda: d.metric("origin_reconciler_zone_suspended", zone=ZONE) == 1,
                 what="the suspended gauge")
        self.assertEqual(d.metric("origin_reconciler_mappings", zone=ZONE, state="stale"), 2)
        self.assertEqual(d.metric("origin_reconciler_zone_suspended_until_timestamp_seconds",
                                  zone=ZONE), until.timestamp())
        self.assertIsNone(d.metric("origin_reconciler_zone_suspended", zone=ZONE_B))
        wait_for(lambda: len(self.api.live(ZONE_B)) == 10, what="ZONE_B pruned")
        self.assertEqual([r for r in self.api.requests("batch_delete") if r["zone"] == ZONE], [],
                         "nothing is sent in a suspended zone")
        self.assertEqual(len(self.api.live(ZONE)), 12)

        # Its until passes: a warning, the zone is pruned, the gauge drops to 0.
        d.wait_log(r"zone " + ZONE + r": its suspension \(incident 4711\) ended at "
                   + until_text, timeout=15)
        wait_for(lambda: self.api.live(ZONE) == set(ips(0, 10)), timeout=10, what="ZONE pruned")
        wait_for(lambda: d.metric("origin_reconciler_zone_suspended", zone=ZONE) == 0,
                 what="the gauge at 0")
        sent = [ip for r in self.api.requests("batch_delete") if r["zone"] == ZONE
                for ip in r["ips"]]
        self.assertEqual(sorted(sent), ["10.20.0.10", "10.20.0.11"])

    def test_suspend_needs_a_reason_and_an_rfc3339_time(self):
        self.api = self.standin(zones={ZONE: ips(0, 2)})
        desired = {"zones": [{"zone_id": ZONE, "origins": [],
                              "suspend": {"reason": "x", "until": "next week"}}]}
        d = self.daemon(self.api, json.dumps(desired), flavor="origin-v2")
        run = d.run_once()
        self.assertEqual(run.returncode, 2)
        self.assertIn("zones[0].suspend.until: must be an RFC 3339 time like "
                      "2026-12-24T00:00:00Z or 2026-12-24T01:00:00+01:00: the date must be "
                      "YYYY-MM-DD (got 'next week')", run.stderr)
        self.assertEqual(self.api.requests(), [])


if __name__ == "__main__":
    unittest.main()
