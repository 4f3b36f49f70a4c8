"""The main path, end to end: the real daemon binary against the stand-in, --once."""

import unittest

from harness import ZONE, ZONE_B, IntegrationTest, ips


class PruneTest(IntegrationTest):
    def check_prune_1000_to_750(self, flavor):
        live, keep = ips(0, 1000), ips(0, 750)
        api = self.standin(zones={ZONE: live})
        d = self.daemon(api, {ZONE: keep}, flavor=flavor)

        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        deletes = api.requests("batch_delete")
        self.assertEqual(len(deletes), 3, "250 stale IPs take exactly 3 batch deletes")
        self.assertEqual(sorted(len(r["ips"]) for r in deletes), [50, 100, 100])
        sent = [ip for r in deletes for ip in r["ips"]]
        self.assertFalse(set(sent) & set(keep), "a desired IP was sent in a delete")
        self.assertEqual(sorted(sent), sorted(set(live) - set(keep)))
        self.assertEqual(api.live(), set(keep))
        self.assertIn("pruned=250", run.stdout)
        self.assertTrue(all(r["flavor"] == flavor for r in api.requests()))
        return api

    def test_cache_v1_prunes_in_three_batches(self):
        api = self.check_prune_1000_to_750("cache-v1")
        self.assertEqual(len(api.requests("list")), 1, "gen 1 lists without paging")

    def test_origin_v2_pages_through_the_list_then_prunes(self):
        api = self.check_prune_1000_to_750("origin-v2")
        lists = api.requests("list")
        self.assertEqual(len(lists), 10, "1,000 mappings at per_page=100")
        self.assertEqual({r["query"] for r in lists},
                         {f"page={n}&per_page=100" for n in range(1, 11)})

    def test_listing_is_complete_before_any_delete(self):
        api = self.standin(zones={ZONE: ips(0, 450)})
        d = self.daemon(api, {ZONE: ips(0, 400)}, flavor="origin-v2",
                        config={"cloudflare": {"page_size": 50}})
        self.assertEqual(d.run_once().returncode, 0)
        ops = [r["operation"] for r in api.requests()]
        self.assertEqual(ops, ["list"] * 9 + ["batch_delete"])

    def test_batch_size_setting(self):
        api = self.standin(zones={ZONE: ips(0, 100)})
        d = self.daemon(api, {ZONE: ips(0, 75)}, config={"reconcile": {"batch_size": 10}})
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual([len(r["ips"]) for r in api.requests("batch_delete")], [10, 10, 5])

    def test_ipv6_is_compared_canonically(self):
        api = self.standin(zones={ZONE: ["2001:db8::1", "2001:db8::2", "2001:db8::3"]})
        d = self.daemon(api, {ZONE: ["2001:DB8:0:0::1", "2001:0db8::2"]})
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(api.live(), {"2001:db8::1", "2001:db8::2"})

    def test_manage_cidrs_limits_what_is_pruned(self):
        api = self.standin(zones={ZONE: ["192.0.2.1", "192.0.2.2", "198.51.100.1"]})
        d = self.daemon(api, f"zones:\n  - zone_id: {ZONE}\n    origins: [192.0.2.1]\n"
                             "    manage_cidrs: [192.0.2.0/24]\n")
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual(api.live(), {"192.0.2.1", "198.51.100.1"})

    def test_unlisted_zones_are_never_touched(self):
        api = self.standin(zones={ZONE: ips(0, 4), ZONE_B: ips(0, 4)})
        d = self.daemon(api, {ZONE: ips(0, 3)})
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual(len(api.live(ZONE_B)), 4)
        self.assertTrue(all(r["zone"] == ZONE for r in api.requests()))

    def check_emptied_gen1_zone(self, list_status, standin_args=()):
        api = self.standin(zones={ZONE: ips(0, 5)}, extra_args=standin_args)
        d = self.daemon(api, {ZONE: []})
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual(api.live(), set())
        # The zone has no mappings now; either answer means "nothing to prune".
        again = d.run_once()
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(api.requests("list")[-1]["status"], list_status)
        self.assertIn("live=0", again.stdout)
        self.assertEqual(len(api.requests("batch_delete")), 1)

    def test_empty_origins_prunes_every_mapping_and_gen1_then_lists_an_empty_value(self):
        self.check_emptied_gen1_zone(200)  # the schema: 200 with "value": []

    def test_emptied_gen1_zone_answering_404_1142_is_empty_too(self):
        # The seed documents' answer: the setting is gone, 404 with code 1142.
        self.check_emptied_gen1_zone(404, standin_args=["--v1-empty-zone-404"])

    def test_second_run_changes_nothing(self):
        api = self.standin(zones={ZONE: ips(0, 20)})
        d = self.daemon(api, {ZONE: ips(0, 15)})
        self.assertEqual(d.run_once().returncode, 0)
        before = len(api.requests("batch_delete"))
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual(len(api.requests("batch_delete")), before)

    def test_several_zones_in_one_pass(self):
        api = self.standin(zones={ZONE: ips(0, 10), ZONE_B: ips(0, 10, prefix="10.30")})
        d = self.daemon(api, {ZONE: ips(0, 8), ZONE_B: ips(0, 9, prefix="10.30")})
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(len(api.live(ZONE)), 8)
        self.assertEqual(len(api.live(ZONE_B)), 9)

    def test_legacy_global_key_authentication(self):
        api = self.standin(zones={ZONE: ips(0, 3)},
                           extra_args=["--email", "ops@example.com", "--key", "legacy-key-1"])
        d = self.daemon(api, {ZONE: ips(0, 2)})
        run = d.run_once(env={"CLOUDFLARE_API_TOKEN": "", "CLOUDFLARE_EMAIL": "ops@example.com",
                              "CLOUDFLARE_API_KEY": "legacy-key-1"})
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual({r["auth"] for r in api.requests()}, {"global_key"})


class DryRunAndGuardTest(IntegrationTest):
    def test_dry_run_prints_the_plan_and_writes_nothing(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)})
        run = d.run_once("--dry-run")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("live=10 desired=8 stale=2", run.stdout)
        self.assertIn("would delete 10.20.0.8", run.stdout)
        self.assertIn("would delete 10.20.0.9", run.stdout)
        self.assertEqual([r["method"] for r in api.requests()], ["GET"])
        self.assertEqual(len(api.live()), 10)

    def test_dry_run_from_the_configuration(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)}, config={"reconcile": {"dry_run": True}})
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual(api.requests("batch_delete"), [])

    def test_safety_guard_blocks_then_force_lifts_it(self):
        api = self.standin(zones={ZONE: ips(0, 20)})
        d = self.daemon(api, {ZONE: ips(0, 10)})  # 50% stale > 30%
        blocked = d.run_once()
        self.assertEqual(blocked.returncode, 3, blocked.stdout + blocked.stderr)
        self.assertIn("safety guard", blocked.stderr)
        self.assertEqual(api.requests("batch_delete"), [])
        self.assertEqual(len(api.live()), 20)

        forced = d.run_once("--force")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assertEqual(api.live(), set(ips(0, 10)))

    def test_guard_ignores_small_zones(self):
        api = self.standin(zones={ZONE: ips(0, 9)})
        d = self.daemon(api, {ZONE: []})
        self.assertEqual(d.run_once().returncode, 0)
        self.assertEqual(api.live(), set())


if __name__ == "__main__":
    unittest.main()
