"""Which API generation the daemon speaks, and "absent means absent" in both of them."""

import json
import unittest

from harness import ZONE, IntegrationTest, ips, run_once_meanwhile

PATHS = {"cache-v1": "cache/origin_cloud_regions", "origin-v2": "origin/cloud_regions"}
EOL_WARNING = "cache-v1 (/zones/{zone}/cache/origin_cloud_regions) reached end of life"


class DefaultGenerationTest(IntegrationTest):
    def test_a_config_without_api_flavor_talks_generation_2(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)}, flavor=None)
        with open(d.config_path) as f:
            self.assertNotIn("api_flavor", json.load(f)["cloudflare"])
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        requests = api.requests()
        self.assertEqual([r["operation"] for r in requests], ["list", "batch_delete"])
        for r in requests:
            self.assertTrue(r["path"].startswith(f"/client/v4/zones/{ZONE}/origin/cloud_regions"),
                            r["path"])
            self.assertEqual(r["flavor"], "origin-v2")
        self.assertEqual(len(api.live()), 8)
        self.assertNotIn("end of life", run.stderr)

    def test_cache_v1_still_works_with_one_warning(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)}, flavor="cache-v1")
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual({r["flavor"] for r in api.requests()}, {"cache-v1"})
        self.assertEqual(len(api.live()), 8)
        self.assertEqual(run.stderr.count(EOL_WARNING), 1, run.stderr)
        self.assertIn("set 'api_flavor: origin-v2'", run.stderr)
        # --check-config says so too; a configuration without the key does not.
        checked = d.run_once("--check-config")
        self.assertEqual(checked.returncode, 0, checked.stderr)
        self.assertIn("warning: " + d.config_path, checked.stdout)
        self.assertIn(EOL_WARNING, checked.stdout)
        fresh = self.daemon(api, {ZONE: []}, flavor=None).run_once("--check-config")
        self.assertIn("api origin-v2", fresh.stdout)
        self.assertNotIn("end of life", fresh.stdout + fresh.stderr)


class AlreadyGoneTest(IntegrationTest):
    """A batch item fails with a text that does not say "not found"; the follow-up GET answers
    404 with code 1142 (the schema's "no mapping for that IP"): the item is already gone."""

    def check_failed_item_whose_get_says_1142(self, flavor):
        gone = "10.20.0.9"
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "batch_delete", "latency_ms": 1500,
                                    "fail_ips": {gone: "internal error"}}])
        d = self.daemon(api, {ZONE: ips(0, 7)}, flavor=flavor)
        # Once listed (the batch is then held up), someone else deletes the mapping the batch
        # will fail on; the forced failure applies whether or not it is still there.
        mapping_path = f"zones/{ZONE}/{PATHS[flavor]}/{gone}"

        def delete_gone_meanwhile():
            status, _ = api.call("DELETE", mapping_path)
            self.assertEqual(status, 200)

        run = run_once_meanwhile(d, api, delete_gone_meanwhile)

        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("pruned=2 already_gone=1 not_deleted=0", run.stdout)
        self.assertEqual(api.live(), set(ips(0, 7)))
        [batch] = [r for r in api.requests("batch_delete") if r["fault"]]
        self.assertEqual(batch["failed"], 1)
        gets = api.requests("get")
        self.assertEqual([(r["path"].rsplit("/", 1)[1], r["status"]) for r in gets], [(gone, 404)])
        # The answer that GET had: 404 with code 1142.
        status, body = api.call("GET", mapping_path)
        self.assertEqual((status, [e["code"] for e in json.loads(body)["errors"]]), (404, [1142]))

    def test_generation_2(self):
        self.check_failed_item_whose_get_says_1142("origin-v2")

    def test_generation_1(self):
        self.check_failed_item_whose_get_says_1142("cache-v1")


if __name__ == "__main__":
    unittest.main()
