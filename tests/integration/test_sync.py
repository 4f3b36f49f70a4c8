"""The sync policy end to end: creates and updates through the batch upsert of both API
generations, in as few requests as possible, and prune left exactly as it was."""

import json
import unittest

from harness import ZONE, ZONE_B, IntegrationTest, ips, wait_for

FLAVORS = ("cache-v1", "origin-v2")


def mapping(ip, vendor, region):
    return {"ip": ip, "vendor": vendor, "region": region}


def scenario():
    """300 live mappings: 150 as desired, 50 in the wrong region, 100 stale; 120 new origins.

    Returns (seed mappings, desired origins)."""
    live = ips(0, 300)
    seed = [mapping(ip, "aws", "us-east-1") for ip in live]
    desired = [mapping(ip, "aws", "us-east-1") for ip in live[:150]]
    desired += [mapping(ip, "aws", "eu-west-1") for ip in live[150:200]]
    desired += [mapping(ip, "gcp", "us-central1") for ip in ips(0, 120, prefix="10.30")]
    return seed, desired


class SyncTest(IntegrationTest):
    def state(self, api, zone=ZONE):
        """{ip: (vendor, region)} as the stand-in holds it."""
        zones = api.admin("GET", "state")["zones"]
        return {m["ip"]: (m["vendor"], m["region"]) for m in zones.get(zone, [])}

    def start_api(self, zones):
        """`zones`: {zone: [mapping, ...]}."""
        return self.standin(seed={"zones": zones})

    def check_sync_reaches_the_desired_state(self, flavor):
        seed, desired = scenario()
        api = self.start_api({ZONE: seed})
        d = self.daemon(api, {ZONE: desired}, flavor=flavor,
                        config={"reconcile": {"policy": "sync", "max_delete_fraction": 0.5}})
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)

        self.assertEqual(self.state(api),
                         {o["ip"]: (o["vendor"], o["region"]) for o in desired},
                         "exactly the desired state")
        ops = [r["operation"] for r in api.requests()]
        lists = 1 if flavor == "cache-v1" else 3  # 300 mappings at per_page=100
        self.assertEqual(ops, ["list"] * lists + ["supported_regions", "batch_upsert",
                                                  "batch_upsert", "batch_delete"],
                         "one listing, one region read, upserts first, then deletes")
        upserts = api.requests("batch_upsert")
        self.assertEqual([len(r["ips"]) for r in upserts], [100, 70])
        self.assertEqual([r["succeeded"] for r in upserts], [100, 70])
        self.assertEqual(len({ip for r in upserts for ip in r["ips"]}), 170)
        deletes = api.requests("batch_delete")
        sent = {ip for r in deletes for ip in r["ips"]}
        self.assertEqual(sent, set(ips(200, 100)))
        self.assertFalse(sent & {o["ip"] for o in desired}, "a desired IP was sent in a delete")
        self.assertTrue(all(r["flavor"] == flavor for r in api.requests()))
        self.assertIn("pruned=100", run.stdout)

        # A second run finds the zone in line: one listing (320 mappings), nothing else.
        before = len(api.requests())
        again = d.run_once()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual([r["operation"] for r in api.requests()[before:]],
                         ["list"] * (1 if flavor == "cache-v1" else 4))

    def test_sync_generation_1(self):
        self.check_sync_reaches_the_desired_state("cache-v1")

    def test_sync_generation_2(self):
        self.check_sync_reaches_the_desired_state("origin-v2")

    def test_prune_deletes_only_the_stale_in_both_generations(self):
        for flavor in FLAVORS:
            with self.subTest(flavor=flavor):
                seed, desired = scenario()
                api = self.start_api({ZONE: seed})
                d = self.daemon(api, {ZONE: desired}, flavor=flavor,
                                config={"reconcile": {"max_delete_fraction": 0.5}})
                run = d.run_once()
                self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
                self.assertEqual(self.state(api),
                                 {m["ip"]: (m["vendor"], m["region"]) for m in seed[:200]},
                                 "the 100 stale deleted; nothing created, nothing updated")
                self.assertEqual({r["operation"] for r in api.requests()},
                                 {"list", "batch_delete"})
                self.assertEqual(len(api.requests("batch_delete")), 1)

    def test_a_zone_may_sync_while_the_daemon_prunes(self):
        seed, desired = scenario()
        api = self.start_api({ZONE: seed, ZONE_B: seed})
        d = self.daemon(api, json.dumps({"zones": [
            {"zone_id": ZONE, "policy": "sync", "origins": desired},
            {"zone_id": ZONE_B, "origins": desired}]}),
            config={"reconcile": {"max_delete_fraction": 0.5}})
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(len(self.state(api, ZONE)), 320)
        self.assertEqual(len(self.state(api, ZONE_B)), 200)
        self.assertEqual({r["zone"] for r in api.requests("batch_upsert")}, {ZONE})

    def test_an_unsupported_region_is_reported_and_not_sent(self):
        api = self.start_api({ZONE: [mapping(ip, "aws", "us-east-1") for ip in ips(0, 10)]})
        desired = [mapping(ip, "aws", "us-east-1") for ip in ips(0, 10)]
        desired.append(mapping("10.30.0.1", "aws", "mars-north-1"))
        desired.append(mapping("10.30.0.2", "oci", "uk-london-1"))
        d = self.daemon(api, {ZONE: desired}, config={"reconcile": {"policy": "sync"}})
        d.start()
        d.wait_log(r"10\.30\.0\.1 names region 'mars-north-1' of vendor aws, which the API "
                   r"does not list as supported; not sent")
        d.wait_log(r"zone [0-9a-f]+: in line: .* unsupported_region=1 ")
        # The metrics follow the zone's log line.
        wait_for(lambda: d.metric("origin_reconciler_upserted_total", zone=ZONE) == 1, 10,
                 "the zone's metrics")
        sent = [ip for r in api.requests("batch_upsert") for ip in r["ips"]]
        self.assertEqual(sent, ["10.30.0.2"])
        self.assertEqual(set(self.state(api)), set(ips(0, 10)) | {"10.30.0.2"})
        self.assertEqual(d.metric("origin_reconciler_unsupported_region_origins", zone=ZONE), 1)
        self.assertEqual(d.metric("origin_reconciler_mappings", zone=ZONE, state="missing"), 2)
        self.assertEqual(d.metric("origin_reconciler_upserted_total", zone=ZONE), 1)
        self.assertEqual(d.metric("origin_reconciler_api_requests_total",
                                  operation="batch_upsert", code="200"), 1)
        self.assertEqual(d.metric("origin_reconciler_api_requests_total",
                                  operation="supported_regions", code="200"), 1)

    def test_a_refused_item_is_reported_and_the_rest_applied(self):
        for flavor in FLAVORS:
            with self.subTest(flavor=flavor):
                api = self.start_api(
                    {ZONE: [mapping(ip, "aws", "us-east-1") for ip in ips(0, 12)]})
                api.set_faults([{"operation": "batch_upsert", "times": -1,
                                 "fail_ips": {"10.20.0.3": "origin is in maintenance"}}])
                desired = [mapping(ip, "aws", "us-east-1") for ip in ips(0, 10)]
                desired[3] = mapping("10.20.0.3", "aws", "eu-west-1")
                desired.append(mapping("10.30.0.1", "gcp", "us-central1"))
                d = self.daemon(api, {ZONE: desired}, flavor=flavor,
                                config={"reconcile": {"policy": "sync"}})
                run = d.run_once()
                self.assertEqual(run.returncode, 1, "an item not applied fails the run")
                self.assertIn("10.20.0.3 was not created or updated: origin is in maintenance",
                              run.stderr)
                state = self.state(api)
                self.assertEqual(state["10.20.0.3"], ("aws", "us-east-1"))
                self.assertEqual(state["10.30.0.1"], ("gcp", "us-central1"))
                self.assertNotIn("10.20.0.11", state, "the deletes still went out")

    @staticmethod
    def empty_listing(flavor):
        """A fault answering one listing as an empty zone: generation 1's 404 with code 1142,
        generation 2's empty page."""
        if flavor == "cache-v1":
            return {"status": 404, "body": json.dumps(
                {"success": False, "errors": [{"code": 1142, "message": "not found"}],
                 "messages": [], "result": None})}
        return {"body": json.dumps(
            {"success": True, "errors": [], "messages": [], "result": [],
             "result_info": {"page": 1, "per_page": 100, "count": 0, "total_count": 0,
                             "total_pages": 1}})}

    def test_one_empty_listing_does_not_turn_blocked_updates_into_creates(self):
        # 20 live on aws, a wrong desired state moving all 20 to gcp: the update guard blocks
        # it; one empty listing must not make it 20 creates that no guard counts.
        for flavor in FLAVORS:
            with self.subTest(flavor=flavor):
                seed = [mapping(ip, "aws", "us-east-1") for ip in ips(0, 20)]
                api = self.start_api({ZONE: seed})
                api.set_faults([{"operation": "list", "times": 1, **self.empty_listing(flavor)}])
                desired = [mapping(ip, "gcp", "us-central1") for ip in ips(0, 20)]
                d = self.daemon(api, {ZONE: desired}, flavor=flavor,
                                config={"reconcile": {"policy": "sync"}})
                run = d.run_once()
                self.assertEqual(run.returncode, 3, run.stdout + run.stderr)
                self.assertIn("the listing is empty, but the plan would create 20; listing "
                              "again before planning", run.stderr)
                self.assertIn("would update 20 of 20 live mappings", run.stderr)
                self.assertEqual(api.requests("batch_upsert"), [])
                self.assertEqual(self.state(api), {m["ip"]: ("aws", "us-east-1") for m in seed})

    def test_creates_replacing_what_the_last_listing_had_are_guarded_like_updates(self):
        # The daemon remembers each zone's last listing: when even the second listing of a
        # cycle is empty, re-creating the 20 mappings elsewhere counts as 20 updates.
        flavor = "origin-v2"
        seed = [mapping(ip, "aws", "us-east-1") for ip in ips(0, 20)]
        api = self.start_api({ZONE: seed})
        desired = [mapping(ip, "gcp", "us-central1") for ip in ips(0, 20)]
        d = self.daemon(api, {ZONE: desired}, flavor=flavor,
                        config={"reconcile": {"policy": "sync", "interval": "1s"}})
        d.start()
        d.wait_log(r"safety guard blocked the changes: would update 20 of 20")
        api.set_faults([{"operation": "list", "times": 2, **self.empty_listing(flavor)}])
        d.wait_log(r"the listing is empty, but the last listing had 20 mappings; listing again")
        d.wait_log(r"would update 20 of 20 live mappings .* \(counted against the last listing, "
                   r"20 mappings: this one has 0 and the plan would re-create them")
        # And the cycle after it, with a true listing, is blocked as before.
        d.wait_log(r"safety guard blocked the changes: would update 20 of 20", count=3)
        self.assertEqual(api.requests("batch_upsert"), [])
        self.assertEqual(self.state(api), {m["ip"]: ("aws", "us-east-1") for m in seed})

    def test_an_upsert_answer_naming_none_of_the_ips_fails_the_run(self):
        for flavor in FLAVORS:
            with self.subTest(flavor=flavor):
                api = self.start_api({ZONE: [mapping(ip, "aws", "us-east-1")
                                             for ip in ips(0, 3)]})
                key = "origin-ip" if flavor == "cache-v1" else "origin_ip"
                value = {"succeeded": [{key: "10.99.0.1", "vendor": "gcp",
                                        "region": "us-central1"}], "failed": []}
                if flavor == "cache-v1":
                    result = {"id": "origin_public_cloud_region", "editable": True,
                              "modified_on": None, "value": value}
                else:
                    result = value
                api.set_faults([{"operation": "batch_upsert", "times": -1, "body": json.dumps(
                    {"success": True, "errors": [], "messages": [], "result": result})}])
                desired = [mapping(ip, "aws", "us-east-1") for ip in ips(0, 3)]
                desired.append(mapping("10.30.0.1", "gcp", "us-central1"))
                d = self.daemon(api, {ZONE: desired}, flavor=flavor,
                                config={"reconcile": {"policy": "sync"}})
                run = d.run_once()
                self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
                self.assertIn("10.30.0.1 was not created or updated: the answer does not name it",
                              run.stderr)
                self.assertNotIn("in line", run.stderr + run.stdout)

    def test_nothing_is_created_from_an_invalid_desired_state(self):
        api = self.start_api({ZONE: [mapping(ip, "aws", "us-east-1") for ip in ips(0, 10)]})
        for bad in (
                [mapping("10.30.0.1", "gcp", "us-central1"), mapping("10.30.0.2", "ibm", "x")],
                [mapping("10.30.0.1", "gcp", "us-central1"), mapping("10.30.0.300", "aws", "x")],
        ):
            with self.subTest(bad=bad[1]):
                d = self.daemon(api, {ZONE: bad}, config={"reconcile": {"policy": "sync"}})
                run = d.run_once()
                self.assertEqual(run.returncode, 2, run.stderr)
                self.assertIn("desired.yaml", run.stderr)
        d = self.daemon(api, json.dumps({"zones": [
            {"zone_id": ZONE, "policy": "synk", "origins": [mapping("10.30.0.1", "gcp",
                                                                      "us-central1")]}]}))
        run = d.run_once()
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("zones[0].policy: must be prune or sync", run.stderr)
        self.assertEqual(api.requests(), [], "nothing read, nothing sent")
        self.assertEqual(set(self.state(api)), set(ips(0, 10)))


if __name__ == "__main__":
    unittest.main()
