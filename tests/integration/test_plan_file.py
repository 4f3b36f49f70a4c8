"""Plans as documents: --dry-run --output json, --plan-out, --once --apply-plan, against the
stand-in. The JSON Schema kept in the repository (schemas/plan.schema.json) is checked with
python3-jsonschema (Debian's package; scripts/install-deps installs it)."""

import copy
import datetime
import hashlib
import json
import os
import re
import subprocess
import unittest

import jsonschema

from harness import ORC_BIN, SANITIZED, ZONE, ZONE_B, IntegrationTest, ips, run_measured

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "schemas", "plan.schema.json")
ZONE_C = "2222222222222222222222222222222b"


def load_schema():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate(doc):
    jsonschema.Draft202012Validator(load_schema()).validate(doc)


def utc(delta):
    t = datetime.datetime.now(datetime.timezone.utc) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(value):
    """The canonical text of the plan format: compact, keys sorted, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def large_plan(zones, per_zone, created_at):
    """A valid sync plan of `zones` zones, each with `per_zone` changes (a third each creates
    of IPv6 origins, updates and deletes), checksums computed here from the format's
    definition, written as --plan-out writes (indented by two)."""
    out, totals = [], {"creates": 0, "updates": 0, "deletes": 0}
    n = per_zone // 3
    for z in range(zones):
        zone_id = f"{0xb000 + z:032x}"
        creates = sorted(({"ip": f"2001:db8:{z:x}:{i:x}::{i:x}", "vendor": "gcp",
                           "region": "us-central1"} for i in range(n)), key=lambda m: m["ip"])
        updates = sorted(({"from": {"ip": f"10.{z % 256}.{i // 256}.{i % 256}", "vendor": "aws",
                                    "region": "us-east-1"},
                           "to": {"ip": f"10.{z % 256}.{i // 256}.{i % 256}", "vendor": "aws",
                                  "region": "eu-west-1"}} for i in range(n)),
                         key=lambda u: u["from"]["ip"])
        deletes = sorted(f"172.{16 + z % 16}.{i // 256}.{i % 256}" for i in range(n))
        checksum = sha256(canonical({"creates": creates, "deletes": deletes, "updates": updates,
                                     "zone_id": zone_id}))
        out.append({"zone_id": zone_id, "status": "planned", "policy": "sync",
                    "counts": {"live": 2 * n, "desired": 2 * n, "out_of_scope": 0,
                               "unparseable": 0, "creates": n, "updates": n, "deletes": n},
                    "creates": creates, "updates": updates, "deletes": deletes,
                    "unsupported": [], "checksum": checksum})
        for k in totals:
            totals[k] += n
    doc = {"format": "origin-reconciler-plan", "version": 1,
           "generator": "origin-reconciler 0.1.0", "created_at": created_at,
           "api_flavor": "origin-v2", "config": "config.yaml",
           "desired_state": {"path": "desired.yaml", "sha256": "sha256:" + "0" * 64},
           "force": False,
           "summary": {"zones": zones, "planned": zones, "blocked": 0, "failed": 0, **totals},
           "zones": out,
           "checksum": sha256(canonical([{"checksum": z["checksum"], "zone_id": z["zone_id"]}
                                         for z in out]))}
    return json.dumps(doc, indent=2) + "\n"


class PlanFileTest(IntegrationTest):
    def two_zones(self, flavor="origin-v2", faults=None):
        """ZONE: 12 live, 10 desired (2 stale). ZONE_B: 10 live, 9 desired (1 stale)."""
        self.api = self.standin(zones={ZONE: ips(0, 12), ZONE_B: ips(0, 10, prefix="10.30")},
                                faults=faults)
        return self.daemon(self.api, {ZONE: ips(0, 10), ZONE_B: ips(0, 9, prefix="10.30")},
                           flavor=flavor)

    def plan(self, d, *flags):
        path = os.path.join(self.workdir, "plan.json")
        run = d.run_once("--dry-run", "--plan-out", path, *flags)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        with open(path) as f:
            return path, json.load(f), run

    def write_plan(self, doc, name="edited.json"):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    # --- the document ---

    def test_dry_run_json_is_one_document_valid_against_the_schema(self):
        faults = [{"operation": "list", "zone": ZONE_C, "status": 403, "times": -1}]
        self.api = self.standin(zones={ZONE: ips(0, 12)}, faults=faults)
        d = self.daemon(self.api, {ZONE: ips(0, 10), ZONE_C: ips(0, 1)}, flavor="origin-v2")
        run = d.run_once("--dry-run", "--output", "json")
        self.assertEqual(run.returncode, 1, run.stderr)  # ZONE_C could not be listed
        doc = json.loads(run.stdout)  # standard output holds the document alone
        validate(doc)
        self.assertEqual(doc["format"], "origin-reconciler-plan")
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["api_flavor"], "origin-v2")
        self.assertEqual(doc["config"], d.config_path)
        self.assertEqual(doc["desired_state"]["path"], d.desired_path)
        import hashlib
        with open(d.desired_path, "rb") as f:
            self.assertEqual(doc["desired_state"]["sha256"],
                             "sha256:" + hashlib.sha256(f.read()).hexdigest())
        self.assertRegex(doc["generator"], r"^origin-reconciler \d+\.\d+\.\d+$")
        created = datetime.datetime.strptime(doc["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        self.assertLess(abs((now - created).total_seconds()), 120)
        zone, failed = doc["zones"]
        self.assertEqual(zone["zone_id"], ZONE)
        self.assertEqual(zone["status"], "planned")
        self.assertEqual(zone["deletes"], ["10.20.0.10", "10.20.0.11"])
        self.assertEqual(zone["creates"], [])
        self.assertEqual(zone["updates"], [])
        self.assertEqual(zone["counts"], {"live": 12, "desired": 10, "out_of_scope": 0,
                                          "unparseable": 0, "creates": 0, "updates": 0,
                                          "deletes": 2})
        canonical = json.dumps({"creates": [], "deletes": zone["deletes"], "updates": [],
                                "zone_id": ZONE}, separators=(",", ":"), sort_keys=True)
        self.assertEqual(zone["checksum"], "sha256:" + hashlib.sha256(canonical.encode()).hexdigest())
        self.assertEqual(failed["zone_id"], ZONE_C)
        self.assertEqual(failed["status"], "failed")
        self.assertIsNone(failed["checksum"])
        self.assertIn("HTTP 403", failed["reason"])
        self.assertEqual(doc["summary"], {"zones": 2, "planned": 1, "blocked": 0, "failed": 1,
                                          "creates": 0, "updates": 0, "deletes": 2})
        self.assertEqual(self.api.requests("batch_delete"), [])

    def test_schema_is_not_vacuous(self):
        d = self.two_zones()
        run = d.run_once("--dry-run", "--output", "json")
        doc = json.loads(run.stdout)
        validate(doc)
        for edit in (lambda x: x.pop("checksum"),
                     lambda x: x.update(extra=1),
                     lambda x: x["zones"][0].pop("deletes"),
                     lambda x: x["zones"][0]["deletes"].append(5),
                     lambda x: x["zones"][0].update(status="done"),
                     lambda x: x["zones"][0]["counts"].update(live=-1),
                     lambda x: x.update(created_at="yesterday")):
            bad = copy.deepcopy(doc)
            edit(bad)
            with self.assertRaises(jsonschema.ValidationError):
                validate(bad)

    def test_blocked_zone_is_in_the_document_with_its_reason(self):
        self.api = self.standin(zones={ZONE: ips(0, 20)})
        d = self.daemon(self.api, {ZONE: ips(0, 10)})  # 50% stale > 30%
        run = d.run_once("--dry-run", "--output", "json")
        self.assertEqual(run.returncode, 3, run.stderr)
        doc = json.loads(run.stdout)
        validate(doc)
        self.assertEqual(doc["zones"][0]["status"], "blocked")
        self.assertIn("max_delete_fraction", doc["zones"][0]["reason"])
        self.assertEqual(len(doc["zones"][0]["deletes"]), 10)

    def test_plan_out_writes_the_document_and_prints_the_text_plan(self):
        d = self.two_zones()
        path, doc, run = self.plan(d)
        validate(doc)
        self.assertIn("would delete 10.20.0.10", run.stdout)
        self.assertIn(f"plan checksum {doc['checksum']}\n", run.stdout)
        self.assertEqual([f for f in os.listdir(os.path.dirname(path)) if f.endswith(".tmp")],
                         [])
        self.assertEqual(self.api.requests("batch_delete"), [])
        # The same plan twice: the same checksums (created_at aside, the same document).
        again = json.loads(d.run_once("--dry-run", "--output", "json").stdout)
        self.assertEqual(again["checksum"], doc["checksum"])
        self.assertEqual([z["checksum"] for z in again["zones"]],
                         [z["checksum"] for z in doc["zones"]])

    # --- applying a reviewed plan ---

    def test_apply_plan_applies_a_fresh_plan(self):
        d = self.two_zones()
        path, doc, _ = self.plan(d)
        self.api.admin("DELETE", "requests")
        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn(f"plan file {path}: made {doc['created_at']}", run.stdout)
        self.assertEqual(self.api.live(ZONE), set(ips(0, 10)))
        self.assertEqual(self.api.live(ZONE_B), set(ips(0, 9, prefix="10.30")))
        self.assertEqual(len(self.api.requests("batch_delete")), 2)

    def test_apply_plan_refuses_a_zone_whose_mapping_changed_in_between(self):
        d = self.two_zones()
        path, _, _ = self.plan(d)
        # Someone adds a mapping to ZONE after the review: ZONE's plan now deletes 3, not 2.
        state = self.api.admin("GET", "state")
        state["zones"][ZONE].append({"ip": "10.20.0.99", "vendor": "aws", "region": "us-east-1"})
        self.api.admin("PUT", "state", state)
        self.api.admin("DELETE", "requests")

        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn(f"zone {ZONE}: not applied", run.stdout)
        self.assertIn("deletes: 10.20.0.99 is in the plan now but not in the plan file",
                      run.stdout)
        self.assertIn("reviewed plan: 1 zones not applied", run.stdout)
        sent = [r for r in self.api.requests("batch_delete")]
        self.assertEqual([r["zone"] for r in sent], [ZONE_B], "nothing is sent in ZONE")
        self.assertEqual(len(self.api.live(ZONE)), 13)
        self.assertEqual(self.api.live(ZONE_B), set(ips(0, 9, prefix="10.30")))

    def test_apply_plan_applies_what_is_left_when_a_stale_mapping_is_gone(self):
        d = self.two_zones()
        path, _, _ = self.plan(d)
        # Someone removed one of the two stale mappings after the review: what is left is a
        # part of the reviewed plan, and is applied.
        state = self.api.admin("GET", "state")
        state["zones"][ZONE] = [m for m in state["zones"][ZONE] if m["ip"] != "10.20.0.10"]
        self.api.admin("PUT", "state", state)
        self.api.admin("DELETE", "requests")
        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("resumed: 1 of the 2 reviewed changes left", run.stdout)
        sent = self.api.requests("batch_delete")
        self.assertEqual(sorted((r["zone"], tuple(r["ips"])) for r in sent),
                         sorted([(ZONE, ("10.20.0.11",)), (ZONE_B, ("10.30.0.9",))]))
        self.assertEqual(self.api.live(ZONE), set(ips(0, 10)))

    def test_apply_plan_refuses_zones_the_file_does_not_plan(self):
        d = self.two_zones()
        path, doc, _ = self.plan(d)
        # The plan was made for ZONE alone (a desired state with one zone then).
        doc["zones"] = [doc["zones"][0]]
        partial = dict(doc)
        partial["summary"] = dict(doc["summary"], zones=1, planned=1, deletes=2)
        import hashlib
        listing = json.dumps([{"checksum": doc["zones"][0]["checksum"], "zone_id": ZONE}],
                             separators=(",", ":"), sort_keys=True)
        partial["checksum"] = "sha256:" + hashlib.sha256(listing.encode()).hexdigest()
        run = d.run_once("--apply-plan", self.write_plan(partial))
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertRegex(run.stdout, f"zone {ZONE_B}: not applied live=10 .*requests=0 "
                         r"\(the zone is not in the plan file\)")
        self.assertEqual([r["zone"] for r in self.api.requests("batch_delete")], [ZONE])

    def test_apply_plan_refuses_zones_the_desired_state_no_longer_has(self):
        d = self.two_zones()
        path, _, _ = self.plan(d)
        d.write_desired({ZONE: ips(0, 10)})
        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn(f"zone {ZONE_B}: not applied (the zone is in the plan file but not in the "
                      "desired state)", run.stdout)
        self.assertEqual([r["zone"] for r in self.api.requests("batch_delete")], [ZONE])

    # --- sync: creates and updates in the plan ---

    def sync_zone(self, flavor="origin-v2"):
        """ZONE, 12 live (aws/us-east-1); under sync the desired state keeps 10 of them, moves
        10.20.0.5 to eu-west-1 and adds 10.20.1.0 on gcp/us-central1."""
        self.api = self.standin(zones={ZONE: ips(0, 12)})
        origins = ips(0, 10)
        origins[5] = {"ip": "10.20.0.5", "vendor": "aws", "region": "eu-west-1"}
        origins.append({"ip": "10.20.1.0", "vendor": "gcp", "region": "us-central1"})
        desired = json.dumps({"zones": [{"zone_id": ZONE, "policy": "sync", "origins": origins}]})
        return self.daemon(self.api, desired, flavor=flavor)

    def check_sync_plan_applied(self, flavor):
        d = self.sync_zone(flavor)
        text = d.run_once("--dry-run")
        self.assertEqual(text.returncode, 0, text.stdout + text.stderr)
        self.assertIn("  would create 10.20.1.0 gcp/us-central1\n"
                      "  would update 10.20.0.5 aws/us-east-1 -> aws/eu-west-1\n"
                      "  would delete 10.20.0.10\n", text.stdout)
        path, doc, _ = self.plan(d)
        validate(doc)
        zone = doc["zones"][0]
        self.assertEqual(zone["policy"], "sync")
        self.assertEqual(zone["creates"],
                         [{"ip": "10.20.1.0", "vendor": "gcp", "region": "us-central1"}])
        self.assertEqual(zone["updates"], [
            {"from": {"ip": "10.20.0.5", "vendor": "aws", "region": "us-east-1"},
             "to": {"ip": "10.20.0.5", "vendor": "aws", "region": "eu-west-1"}}])
        self.assertEqual(zone["deletes"], ["10.20.0.10", "10.20.0.11"])
        self.assertEqual(doc["summary"]["creates"], 1)
        self.assertEqual(doc["summary"]["updates"], 1)
        self.assertEqual(self.api.requests("batch_upsert"), [])

        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        state = {m["ip"]: (m["vendor"], m["region"])
                 for m in self.api.admin("GET", "state")["zones"][ZONE]}
        self.assertEqual(set(state), set(ips(0, 10)) | {"10.20.1.0"})
        self.assertEqual(state["10.20.0.5"], ("aws", "eu-west-1"))
        self.assertEqual(state["10.20.1.0"], ("gcp", "us-central1"))
        self.assertEqual(len(self.api.requests("batch_upsert")), 1)
        self.assertEqual(len(self.api.requests("batch_delete")), 1)

    def test_sync_plan_has_creates_updates_and_deletes_and_applies_them(self):
        self.check_sync_plan_applied("origin-v2")

    def test_sync_plan_applied_with_generation_1(self):
        self.check_sync_plan_applied("cache-v1")

    def test_a_region_the_api_does_not_list_is_held_back_in_the_document(self):
        self.api = self.standin(zones={ZONE: ips(0, 2)})
        origins = ips(0, 2) + [{"ip": "10.20.1.1", "vendor": "aws", "region": "mars-north-1"}]
        d = self.daemon(self.api, json.dumps(
            {"zones": [{"zone_id": ZONE, "policy": "sync", "origins": origins}]}),
            flavor="origin-v2")
        run = d.run_once("--dry-run", "--output", "json")
        doc = json.loads(run.stdout)
        validate(doc)
        self.assertEqual(doc["zones"][0]["creates"], [])
        self.assertEqual(doc["zones"][0]["unsupported"],
                         [{"ip": "10.20.1.1", "vendor": "aws", "region": "mars-north-1"}])

    def test_sync_apply_plan_refuses_when_a_mapping_changed_region_in_between(self):
        d = self.sync_zone()
        path, _, _ = self.plan(d)
        state = self.api.admin("GET", "state")
        for m in state["zones"][ZONE]:
            if m["ip"] == "10.20.0.5":
                m["region"] = "us-west-2"  # someone moved it by hand after the review
        self.api.admin("PUT", "state", state)
        self.api.admin("DELETE", "requests")

        run = d.run_once("--apply-plan", path)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn(f"zone {ZONE}: not applied", run.stdout)
        self.assertIn("(the plan now differs from the plan file: updates: the plan file has "
                      "10.20.0.5 aws/us-east-1 -> aws/eu-west-1, the plan now 10.20.0.5 "
                      "aws/us-west-2 -> aws/eu-west-1)", run.stdout)
        self.assertEqual(self.api.requests("batch_upsert"), [])
        self.assertEqual(self.api.requests("batch_delete"), [])
        self.assertEqual(len(self.api.live(ZONE)), 12)

    def test_apply_plan_refuses_an_expired_plan_before_any_request(self):
        d = self.two_zones()
        path, doc, _ = self.plan(d)
        self.api.admin("DELETE", "requests")
        doc["created_at"] = utc(datetime.timedelta(hours=-2))
        old = self.write_plan(doc)
        run = d.run_once("--apply-plan", old)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertRegex(run.stderr, re.escape(old) + r": created_at: the plan is \d+(s|m|h) old, "
                         r"older than --plan-max-age 1h \(got '")
        self.assertEqual(self.api.requests(), [], "an expired plan sends nothing")
        # A longer --plan-max-age takes it.
        run = d.run_once("--apply-plan", old, "--plan-max-age", "3h")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(self.api.live(ZONE), set(ips(0, 10)))

    def test_apply_plan_refuses_a_plan_from_the_future(self):
        d = self.two_zones()
        _, doc, _ = self.plan(d)
        self.api.admin("DELETE", "requests")
        doc["created_at"] = utc(datetime.timedelta(minutes=10))
        run = d.run_once("--apply-plan", self.write_plan(doc))
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("created_at: lies in the future", run.stderr)
        self.assertEqual(self.api.requests(), [])

    def test_apply_plan_refuses_a_plan_for_another_api_generation(self):
        d = self.two_zones(flavor="cache-v1")
        _, doc, _ = self.plan(d)
        self.api.admin("DELETE", "requests")
        doc["api_flavor"] = "origin-v2"
        run = d.run_once("--apply-plan", self.write_plan(doc))
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("api_flavor: the plan was made for another API generation than cache-v1 "
                      "(got 'origin-v2')", run.stderr)
        self.assertEqual(self.api.requests(), [])

    def test_an_edited_or_broken_plan_file_is_an_error_naming_file_key_and_value(self):
        d = self.two_zones()
        path, doc, _ = self.plan(d)
        self.api.admin("DELETE", "requests")
        edited = copy.deepcopy(doc)
        edited["zones"][0]["deletes"].append("10.20.0.1")  # a desired IP smuggled in
        edited["zones"][0]["counts"]["deletes"] = 3
        edited["summary"]["deletes"] = 4
        cases = [
            (self.write_plan(edited, "edited.json"),
             "edited.json: zones[0].checksum: does not match the zone's changes"),
            (self.write_plan(dict(doc, version=7), "v7.json"),
             "v7.json: version: this origin-reconciler reads version 1 (got '7')"),
            (self.write_plan(dict(doc, extra=True), "extra.json"), "extra.json: extra: unknown key"),
            (os.path.join(self.workdir, "missing.json"),
             "missing.json: cannot read the plan file: No such file or directory"),
        ]
        with open(os.path.join(self.workdir, "cut.json"), "w") as f:
            f.write(json.dumps(doc)[:100])
        cases.append((os.path.join(self.workdir, "cut.json"),
                      "cut.json: not a plan document: parse error at line 1, column 101"))
        for path, message in cases:
            run = d.run_once("--apply-plan", path)
            self.assertEqual(run.returncode, 2, run.stdout + run.stderr)
            self.assertIn(message, run.stderr)
        self.assertEqual(self.api.requests(), [], "nothing is sent for a broken plan file")

    def test_a_deeply_nested_or_non_utf8_plan_file_is_refused_with_a_message(self):
        d = self.two_zones()
        self.api.admin("DELETE", "requests")
        deep = os.path.join(self.workdir, "deep.json")
        with open(deep, "w") as f:  # 200 kB: a field nested 100,000 levels
            f.write('{"format": "origin-reconciler-plan", "version": 1, "extra": ' +
                    "[" * 100000 + "]" * 100000 + "}")
        run = d.run_once("--apply-plan", deep)
        self.assertEqual(run.returncode, 2, run.stdout + run.stderr)
        self.assertIn("deep.json: not a plan document: nested deeper than 64 levels", run.stderr)
        odd = os.path.join(self.workdir, "odd.json")
        with open(odd, "wb") as f:
            f.write(b'{"format": \xff\xfe}')
        # Bytes, not text: a raw 0xff must be seen as such, not fail the decoding.
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--once", "--apply-plan", odd],
                             capture_output=True, timeout=60, env=d.env())
        raw = run.stderr
        self.assertEqual(run.returncode, 2, raw)
        self.assertIn(b"odd.json: not a plan document: parse error at line 1", raw)
        self.assertIn(b"\\xff", raw)
        self.assertNotIn(b"\xff", raw, "a byte that is not UTF-8 reached the terminal raw")
        self.assertEqual(self.api.requests(), [], "nothing is sent for a broken plan file")

    def test_a_plan_dated_beyond_the_clocks_range_is_refused(self):
        # 2262-04-12 wraps the clock's nanoseconds into the past, 1677-09-21 into the future:
        # either would pass the age check.
        d = self.two_zones()
        _, doc, _ = self.plan(d)
        self.api.admin("DELETE", "requests")
        for date in ("2262-04-12T00:00:00Z", "1677-09-21T00:00:00Z"):
            run = d.run_once("--apply-plan", self.write_plan(dict(doc, created_at=date)))
            self.assertEqual(run.returncode, 2, run.stdout + run.stderr)
            self.assertIn(f"created_at: must be a UTC time like 2026-12-02T01:30:00Z "
                          f"(got '{date}')", run.stderr)
        self.assertEqual(self.api.requests(), [], "nothing is sent for such a plan")

    def test_plan_out_never_writes_through_a_link_planted_beside_it(self):
        d = self.two_zones()
        target = os.path.join(self.workdir, "precious")
        with open(target, "w") as f:
            f.write("precious\n")
        path = os.path.join(self.workdir, "plan.json")
        os.symlink(target, path + ".tmp")  # where the plan used to be written first
        run = d.run_once("--dry-run", "--plan-out", path)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        with open(target) as f:
            self.assertEqual(f.read(), "precious\n", "the link's target was overwritten")
        with open(path) as f:
            validate(json.load(f))
        self.assertTrue(os.path.islink(path + ".tmp"))

    def test_a_large_plan_is_read_in_memory_about_its_size(self):
        # A plan of 60 zones x 3,500 changes (about 30 MB as --plan-out writes it), two hours
        # old: read whole and checked (every checksum) before the age refuses it, so the peak
        # is the reading's. Before the reader was streamed, it built a tree of the whole
        # document: 6 to 13 times the file.
        api = self.standin(zones={})
        d = self.daemon(api, {ZONE: []}, flavor="origin-v2")
        created = utc(datetime.timedelta(hours=-2))
        sizes, peaks = {}, {}
        for name, zones, per_zone in (("tiny", 1, 3), ("large", 60, 3500)):
            path = os.path.join(self.workdir, name + ".json")
            with open(path, "w") as f:
                f.write(large_plan(zones, per_zone, created))
            sizes[name] = os.path.getsize(path)
            status, err, peaks[name] = run_measured(
                [ORC_BIN, "--config", d.config_path, "--once", "--apply-plan", path], d.env())
            self.assertEqual(status, 1, err)
            self.assertIn(f"{name}.json: created_at: the plan is", err)
            self.assertIn("older than --plan-max-age 1h", err)
        grown = peaks["large"] - peaks["tiny"]
        print(f"\nplan of {sizes['large'] / 1e6:.1f} MB: peak RSS {peaks['large'] / 1e6:.1f} MB, "
              f"{grown / 1e6:.1f} MB above a tiny plan's ({grown / sizes['large']:.2f} x the file)")
        self.assertGreater(sizes["large"], 25_000_000)
        if not SANITIZED:  # the sanitizers' shadow memory and quarantine are not the reader's
            self.assertLess(grown, 2 * sizes["large"],
                            "reading the plan took more than twice the file's size")
        # As strict at that size: one changed byte is found by its zone's checksum.
        path = os.path.join(self.workdir, "large.json")
        with open(path, "r+") as f:
            text = f.read()
            at = text.index('"172.24.')
            f.seek(at + 1)
            f.write("9")
        status, err, _ = run_measured(
            [ORC_BIN, "--config", d.config_path, "--once", "--apply-plan", path], d.env())
        self.assertEqual(status, 2, err)
        self.assertRegex(err, r"large\.json: zones\[\d+\]\.checksum: does not match the zone's "
                              r"changes \(computed sha256:[0-9a-f]{64}\): the file was edited")
        self.assertEqual(api.requests(), [], "nothing is sent for a plan that is refused")

    def test_usage_errors(self):
        d = self.two_zones()
        for flags, message in (
                (["--apply-plan", "p.json", "--dry-run"], "does not go with --dry-run"),
                (["--output", "json"], "--output json goes with --dry-run"),
                (["--output", "yaml", "--dry-run"], "--output: must be text, json or markdown (got 'yaml')"),
                (["--plan-out", "p.json"], "--plan-out goes with --dry-run"),
                (["--plan-max-age", "1h"], "--plan-max-age goes with --apply-plan"),
                (["--apply-plan", "p.json", "--plan-max-age", "soon"],
                 "--plan-max-age: must be a duration of at least 1s, like 30m or 1h (got 'soon')")):
            run = d.run_once(*flags)
            self.assertEqual(run.returncode, 2, flags)
            self.assertIn(message, run.stderr, flags)
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--apply-plan", "p.json"],
                             capture_output=True, text=True, env=d.env())
        self.assertEqual(run.returncode, 2)
        self.assertIn("--apply-plan goes with --once", run.stderr)
        self.assertEqual(self.api.requests(), [])

    def test_plan_out_alone_is_one_pass(self):
        d = self.two_zones()
        path = os.path.join(self.workdir, "plan.json")
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--dry-run", "--plan-out", path],
                             capture_output=True, text=True, env=d.env(), timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(path) as f:
            validate(json.load(f))

    def test_help_names_the_plan_options(self):
        out = subprocess.run([ORC_BIN, "--help"], capture_output=True, text=True)
        for word in ("--output FORMAT", "--plan-out FILE", "--apply-plan FILE",
                     "--plan-max-age DURATION"):
            self.assertIn(word, out.stdout)


if __name__ == "__main__":
    unittest.main()
