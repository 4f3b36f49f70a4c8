"""A team's first day and a growing organisation: --export of the live state, zones by name,
a directory of desired-state files, and runs limited to some zones (--zone)."""

import json
import os
import re
import signal
import subprocess
import unittest

from harness import ORC_BIN, ZONE, ZONE_B, IntegrationTest, wait_for

ZONE_C = "2222222222222222222222222222222c"
VENDORS = [("aws", "us-east-1"), ("aws", "eu-west-1"), ("azure", "westeurope"),
           ("gcp", "us-central1"), ("oci", "us-ashburn-1")]


def hand_made(zone_index, count):
    """`count` mappings as people make them: mixed vendors and regions, IPv4 and IPv6, some
    written in odd spellings (upper case, uncompressed zeros, IPv4-mapped IPv6)."""
    out = []
    for i in range(count):
        vendor, region = VENDORS[(i * 7 + zone_index) % len(VENDORS)]
        if i % 5 == 0:
            ip = f"2001:DB8:{zone_index}:0:0:0:0:{i:x}"
        elif i % 17 == 0:
            ip = f"::FFFF:10.{zone_index}.{i // 256}.{i % 256}"
        else:
            ip = f"10.{zone_index}.{i // 256}.{i % 256}"
        out.append({"ip": ip, "vendor": vendor, "region": region})
    return out


class ZonesTest(IntegrationTest):
    def write(self, name, text):
        path = os.path.join(self.workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        return path

    def state(self, api, zone):
        zones = api.admin("GET", "state")["zones"]
        return {m["ip"]: (m["vendor"], m["region"]) for m in zones.get(zone, [])}

    # --- export --------------------------------------------------------------------------

    def test_export_then_dry_run_changes_nothing_and_is_stable(self):
        seed = {z: hand_made(i + 1, 500) for i, z in enumerate((ZONE, ZONE_B, ZONE_C))}
        api = self.standin(seed={"zones": seed})
        d = self.daemon(api, {ZONE: []}, flavor="origin-v2")
        out_a = os.path.join(self.workdir, "export-a.yaml")
        first = self._export(d, out_a, ZONE, ZONE_B, ZONE_C)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("3 zones, 1500 origins written to", first.stderr)
        out_b = os.path.join(self.workdir, "export-b.yaml")
        second = self._export(d, out_b, ZONE_C, ZONE, ZONE_B)
        self.assertEqual(second.returncode, 0, second.stderr)
        with open(out_a, "rb") as a, open(out_b, "rb") as b:
            text = a.read()
            self.assertEqual(text, b.read(), "two exports of the same state differ")
        self.assertTrue(text.startswith(b"# Desired state exported by origin-reconciler"))
        self.assertIn(api.api_base.encode(), text.splitlines()[1])
        self.assertEqual([r["operation"] for r in api.requests()], ["list"] * 30,
                         "500 mappings a zone, 100 a page: 5 list requests a zone")

        # The exported file is a valid desired state, and reconciling against it right away
        # changes nothing, under either policy.
        os.replace(out_a, d.desired_path)
        check = d.run_once("--check-config")
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("3 zones", check.stdout)
        before = len(api.requests())
        for policy in ("prune", "sync"):
            with self.subTest(policy=policy):
                with open(d.config_path) as f:
                    cfg = json.load(f)
                cfg["reconcile"]["policy"] = policy
                with open(d.config_path, "w") as f:
                    json.dump(cfg, f)
                dry = d.run_once("--dry-run")
                self.assertEqual(dry.returncode, 0, dry.stderr[-2000:])
                for zone in (ZONE, ZONE_B, ZONE_C):
                    self.assertRegex(dry.stdout + dry.stderr,
                                     f"zone {zone}: dry_run live=500 desired=500 stale=0")
                self.assertNotRegex(dry.stdout, r"create=[1-9]|update=[1-9]")
        self.assertEqual({r["operation"] for r in api.requests()[before:]}, {"list"})

    def _export(self, d, out, *zones):
        flags = ["--export", out]
        for z in zones:
            flags += ["--zone", z]
        return subprocess.run([ORC_BIN, "--config", d.config_path, *flags], capture_output=True,
                              text=True, timeout=120, env=d.env())

    def test_export_of_full_zones_sends_the_minimum_list_requests(self):
        api = self.standin(seed={"zones": {
            z: {"generate": {"count": 3500, "start": f"10.{i}.0.1", "vendor": "aws",
                             "region": "us-east-1"}}
            for i, z in enumerate((ZONE, ZONE_B, ZONE_C))}})
        d = self.daemon(api, {ZONE: [], ZONE_B: [], ZONE_C: []}, flavor="origin-v2")
        out = os.path.join(self.workdir, "export.yaml")
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--export", out],
                             capture_output=True, text=True, timeout=120, env=d.env())
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual([r["operation"] for r in api.requests()], ["list"] * 105,
                         "35 pages of 100 for each of the 3 zones the desired state names")
        with open(out) as f:
            self.assertEqual(sum(1 for line in f if line.startswith("      - {ip: ")), 10500)

    def test_export_to_standard_output_writes_nothing_when_a_zone_cannot_be_listed(self):
        api = self.standin(seed={"zones": {ZONE: hand_made(1, 20)}},
                           faults=[{"operation": "list", "zone": ZONE_B, "status": 403,
                                    "times": -1}])
        d = self.daemon(api, {ZONE: []}, flavor="origin-v2")
        run = subprocess.run([ORC_BIN, "--config", d.config_path, "--export", "-", "--zone", ZONE,
                              "--zone", ZONE_B], capture_output=True, text=True, timeout=60,
                             env=d.env())
        self.assertEqual(run.returncode, 1)
        self.assertEqual(run.stdout, "", "a partial export was written")
        self.assertIn(f"zone {ZONE_B}: listing mappings failed: HTTP 403", run.stderr)
        ok = subprocess.run([ORC_BIN, "--config", d.config_path, "--export", "-", "--zone", ZONE],
                            capture_output=True, text=True, timeout=60, env=d.env())
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(sum(1 for line in ok.stdout.splitlines() if "{ip: " in line), 20)

    # --- zones by name -------------------------------------------------------------------

    def names_file(self, names):
        return self.write("zone-names.json", json.dumps(names))

    def test_zones_by_name_reconcile_like_zones_by_id(self):
        seed = {ZONE: [{"ip": f"10.0.0.{i}", "vendor": "aws", "region": "us-east-1"}
                       for i in range(1, 21)],
                ZONE_B: [{"ip": f"10.0.1.{i}", "vendor": "aws", "region": "us-east-1"}
                         for i in range(1, 21)]}
        names = self.names_file({ZONE: "example.com", ZONE_B: "example.net",
                                 ZONE_C: "example.org"})
        ends = []
        for by_name in (False, True):
            with self.subTest(by_name=by_name):
                api = self.standin(seed={"zones": seed}, extra_args=("--zone-names", names))
                first = {"zone": "Example.COM"} if by_name else {"zone_id": ZONE}
                desired = json.dumps({"zones": [
                    dict(first, origins=[f"10.0.0.{i}" for i in range(1, 16)]),
                    {"zone_id": ZONE_B, "origins": [f"10.0.1.{i}" for i in range(1, 18)]}]})
                d = self.daemon(api, desired, config={"reconcile": {"max_delete_fraction": 0.5}})
                run = d.run_once()
                self.assertEqual(run.returncode, 0, run.stderr[-2000:])
                ends.append((self.state(api, ZONE), self.state(api, ZONE_B)))
                writes = [(r["operation"], r["zone"]) for r in api.requests()
                          if r["operation"] == "batch_delete"]
                self.assertEqual(sorted(writes), sorted([("batch_delete", ZONE),
                                                         ("batch_delete", ZONE_B)]))
                lookups = api.requests("zones")
                self.assertEqual(len(lookups), 1 if by_name else 0)
                if by_name:
                    self.assertIn("name=example.com", lookups[0]["query"])
                    self.assertIn(f"zone {ZONE} (example.com): in line:", run.stderr)
        self.assertEqual(ends[0], ends[1])

    def test_a_name_that_cannot_be_resolved_stops_before_any_write(self):
        seed = {ZONE: [{"ip": f"10.0.0.{i}", "vendor": "aws", "region": "us-east-1"}
                       for i in range(1, 21)]}
        names = self.names_file({ZONE: "example.com", ZONE_B: "twice.example",
                                 ZONE_C: "twice.example"})
        cases = [
            ("unknown.example", (), "no zone of that name can be read with this API token"),
            ("twice.example", (), "the name belongs to 2 zones"),
            ("example.com", ("--deny-zone-read",), "the API token may not read zones"),
        ]
        for name, extra, why in cases:
            with self.subTest(name=name, extra=extra):
                api = self.standin(seed={"zones": seed},
                                   extra_args=("--zone-names", names, *extra))
                desired = ("zones:\n"
                           f"  - zone_id: {ZONE_B}\n"
                           "    origins: []\n"
                           f"  - zone: {name}\n"
                           "    origins: [10.0.0.1]\n")
                d = self.daemon(api, desired)
                run = d.run_once()
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertRegex(run.stderr,
                                 re.escape(f"{d.desired_path}:4: zone '{name}': ") + re.escape(why))
                self.assertEqual({r["operation"] for r in api.requests()}, {"zones"},
                                 "only the lookup was sent")
                self.assertEqual(len(self.state(api, ZONE)), 20)

    # --- a directory of desired-state files ------------------------------------------------

    def team_file(self, zone, keep):
        return json.dumps({"zones": [{"zone_id": zone, "origins": keep}]})

    def test_a_directory_of_files_is_one_desired_state(self):
        seed = {z: [{"ip": f"10.{i}.0.{j}", "vendor": "aws", "region": "us-east-1"}
                    for j in range(1, 21)]
                for i, z in enumerate((ZONE, ZONE_B, ZONE_C))}
        api = self.standin(seed={"zones": seed})
        self.write("desired.d/team-a.yaml", self.team_file(ZONE, [f"10.0.0.{j}"
                                                                 for j in range(1, 19)]))
        self.write("desired.d/team-b.yaml", self.team_file(ZONE_B, [f"10.1.0.{j}"
                                                                   for j in range(1, 21)]))
        self.write("desired.d/team-c.yaml", self.team_file(ZONE_C, [f"10.2.0.{j}"
                                                                   for j in range(1, 21)]))
        # Not part of the desired state: hidden files, editor backups, other extensions.
        self.write("desired.d/.team-d.yaml", "not: [valid")
        self.write("desired.d/team-a.yaml~", "not: [valid")
        self.write("desired.d/README.md", "# the teams' files")
        # One zone at a time, so that the order in which zones are taken shows.
        cfg = {"reconcile": {"desired_state": "desired.d", "settle_period": "300ms",
                             "interval": "1h", "concurrency": 1}}
        d = self.daemon(api, "zones: []\n", config=cfg)
        d.start()
        d.wait_log(r"cycle done: 3 zones: 3 ok")
        self.assertEqual(len(self.state(api, ZONE)), 18)

        # Team B edits its file: its zone goes first, before the next full cycle.
        before = len(api.requests())
        self.write("desired.d/team-b.yaml", self.team_file(ZONE_B, [f"10.1.0.{j}"
                                                                   for j in range(1, 16)]))
        d.signal(signal.SIGHUP)
        wait_for(lambda: len(self.state(api, ZONE_B)) == 15, 30, "team B's zone pruned")
        after = api.requests()[before:]
        self.assertEqual(after[0]["zone"], ZONE_B, "the changed zone was not reconciled first")

        # A half-written file deletes nothing (it does not parse: the last valid state stays).
        before = len(api.requests())
        self.write("desired.d/team-c.yaml", '{"zones": [{"zone_id": "' + ZONE_C +
                   '", "origins": ["10.2.0.1"')
        d.wait_log(r"desired state not reloaded \(file changed\): .*team-c\.yaml")
        d.signal(signal.SIGHUP)
        d.wait_log(r"desired state not reloaded \(SIGHUP\): .*team-c\.yaml")
        self.assertEqual(len(self.state(api, ZONE_C)), 20)
        self.assertEqual([r for r in api.requests()[before:] if r["operation"] == "batch_delete"],
                         [])

    def test_the_same_zone_in_two_files_is_refused_naming_both(self):
        api = self.standin(seed={"zones": {ZONE: [{"ip": "10.0.0.1", "vendor": "aws",
                                                   "region": "us-east-1"}]}})
        a = self.write("desired.d/team-a.yaml", self.team_file(ZONE, []))
        b = self.write("desired.d/team-b.yaml", self.team_file(ZONE, ["10.0.0.1"]))
        d = self.daemon(api, "zones: []\n", config={"reconcile": {"desired_state": "desired.d"}})
        run = d.run_once()
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn(f"{b}: zones[0]: zone {ZONE} is also in {a} (zones[0]); a zone belongs to "
                      "one file", run.stderr)
        self.assertEqual(api.requests(), [])

    # --- runs limited to some zones ------------------------------------------------------

    def test_zone_flag_limits_a_run_to_the_named_zones(self):
        seed = {z: [{"ip": f"10.{i}.0.{j}", "vendor": "aws", "region": "us-east-1"}
                    for j in range(1, 21)]
                for i, z in enumerate((ZONE, ZONE_B, ZONE_C))}
        names = self.names_file({ZONE_C: "example.org"})
        api = self.standin(seed={"zones": seed}, extra_args=("--zone-names", names))
        desired = json.dumps({"zones": [
            {"zone_id": ZONE, "origins": [f"10.0.0.{j}" for j in range(1, 19)]},
            {"zone_id": ZONE_B, "origins": [f"10.1.0.{j}" for j in range(1, 19)]},
            {"zone": "example.org", "origins": [f"10.2.0.{j}" for j in range(1, 19)]}]})
        d = self.daemon(api, desired)
        dry = d.run_once("--dry-run", "--zone", ZONE_B.upper())
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertEqual({r["zone"] for r in api.requests() if r["zone"]}, {ZONE_B})
        before = len(api.requests())
        run = d.run_once("--zone", "example.org", "--zone", ZONE)
        self.assertEqual(run.returncode, 0, run.stderr)
        touched = {r["zone"] for r in api.requests()[before:] if r["zone"]}
        self.assertEqual(touched, {ZONE, ZONE_C})
        self.assertEqual(len(self.state(api, ZONE_B)), 20, "a zone not named was changed")
        self.assertEqual(len(self.state(api, ZONE_C)), 18)
        # The JSON plan names the zone written by name.
        doc = json.loads(d.run_once("--dry-run", "--output", "json", "--zone", ZONE_C).stdout)
        self.assertEqual([(z["zone_id"], z.get("zone_name")) for z in doc["zones"]],
                         [(ZONE_C, "example.org")])
        # A reviewed plan of every zone, applied one zone at a time.
        plan = os.path.join(self.workdir, "plan.json")
        made = d.run_once("--dry-run", "--plan-out", plan)
        self.assertEqual(made.returncode, 0, made.stderr)
        before = len(api.requests())
        applied = d.run_once("--apply-plan", plan, "--zone", ZONE_B)
        self.assertEqual(applied.returncode, 0, applied.stdout + applied.stderr)
        self.assertEqual({r["zone"] for r in api.requests()[before:] if r["zone"]}, {ZONE_B})
        self.assertEqual(len(self.state(api, ZONE_B)), 18)
        unknown = d.run_once("--zone", "nope.example")
        self.assertEqual(unknown.returncode, 2)
        self.assertIn("--zone 'nope.example': no such zone in", unknown.stderr)
        # The service itself always manages every zone of the desired state.
        refused = subprocess.run([ORC_BIN, "--config", d.config_path, "--zone", ZONE],
                                 capture_output=True, text=True, timeout=30, env=d.env())
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("--zone goes with --once, --dry-run, --apply-plan or --export",
                      refused.stderr)


if __name__ == "__main__":
    unittest.main()
