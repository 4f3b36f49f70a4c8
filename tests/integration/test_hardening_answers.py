"""Hostile and odd API answers: IPv4-mapped IPv6 listings, listings padded to dilute the safety
guard, crafted batch answers, and a paged listing whose page count changes under it.

Every configuration names its API generation (`flavor`): the tests do not depend on the default.
"""

import ipaddress
import json
import os
import unittest

from harness import ZONE, IntegrationTest, ips

V1, V2 = "cache-v1", "origin-v2"


def ip_key(flavor):
    return "origin-ip" if flavor == V1 else "origin_ip"


def mapping(ip, flavor):
    return {ip_key(flavor): ip, "vendor": "aws", "region": "us-east-1"}


def success(value, flavor):
    """A successful answer carrying `value`: generation 1 wraps it in the setting object,
    generation 2 answers it as the result itself."""
    env = {"success": True, "errors": [], "messages": []}
    if flavor == V1:
        env["result"] = {"id": "origin_public_cloud_region", "editable": True,
                         "modified_on": None, "value": value}
    else:
        env["result"] = value
    return env


def list_answer(listed, flavor, page=1, total_pages=1, per_page=100, total_count=None):
    """A successful list answer naming `listed`, in either generation's shape."""
    items = [mapping(ip, flavor) for ip in listed]
    env = success(items, flavor)
    if flavor != V1:
        env["result_info"] = {"page": page, "per_page": per_page, "count": len(items),
                              "total_count": len(items) if total_count is None else total_count,
                              "total_pages": total_pages}
    return json.dumps(env)


def batch_answer(succeeded, failed, flavor):
    """A successful batch delete answer; `failed` is [(ip, error)]."""
    value = {"succeeded": [mapping(ip, flavor) for ip in succeeded],
             "failed": [{ip_key(flavor): ip, "error": error} for ip, error in failed]}
    return json.dumps(success(value, flavor))


def origins_yaml(origins, manage_cidrs=None):
    """Desired state text for ZONE (JSON is YAML)."""
    zone = {"zone_id": ZONE, "origins": origins}
    if manage_cidrs:
        zone["manage_cidrs"] = manage_cidrs
    return json.dumps({"zones": [zone]})


def unmapped(ip):
    """The IPv4 address an IPv4-mapped IPv6 address maps; any other text unchanged."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def spellings(i):
    """Ten ways to write the IPv6 address 2001:db8::i (1 <= i <= 0xffff)."""
    return [f"2001:db8::{i:x}", f"2001:DB8::{i:X}", f"2001:0db8::{i:x}", f"2001:db8:0::{i:x}",
            f"2001:db8:0:0::{i:x}", f"2001:db8:0:0:0::{i:x}", f"2001:db8:0:0:0:0::{i:x}",
            f"2001:db8:0:0:0:0:0:{i:x}", f"2001:0DB8:0000:0000:0000:0000:0000:{i:04X}",
            f"2001:Db8::{i:04x}"]


class AnswersTest(IntegrationTest):
    """Runs each generation in a directory of its own (port file, seed, configuration)."""

    def setUp(self):
        super().setUp()
        self._root = self.workdir

    def tearDown(self):
        self.workdir = self._root
        super().tearDown()

    def use_dir(self, name):
        self.workdir = os.path.join(self._root, name)
        os.makedirs(self.workdir)


class MappedAddressTest(AnswersTest):
    def test_mapped_live_records_never_delete_a_desired_origin(self):
        # The stand-in keeps ::ffff:a.b.c.d and a.b.c.d apart, as an API that does not fold
        # them would; the desired state names some origins in their mapped form.
        for flavor in (V1, V2):
            with self.subTest(flavor=flavor):
                self.use_dir(flavor)
                v4 = ips(0, 20)
                mapped_twins = ["::ffff:10.20.0.1", "::ffff:10.20.0.2"]
                stale_mapped = "::ffff:10.20.0.40"
                api = self.standin(zones={ZONE: v4 + mapped_twins + [stale_mapped]})
                desired = v4[:18] + ["::ffff:10.20.0.18", "0:0:0:0:0:FFFF:0A14:0013"]
                d = self.daemon(api, origins_yaml(desired), flavor=flavor)
                run = d.run_once()
                self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
                sent = [ip for r in api.requests("batch_delete") for ip in r["ips"]]
                wanted = {unmapped(ip) for ip in desired}
                self.assertFalse({unmapped(ip) for ip in sent} & wanted,
                                 f"a desired origin was sent in a delete: {sent}")
                # The stale mapped record is deleted as the API spelled it, and it is gone.
                self.assertEqual(sent, [stale_mapped])
                self.assertEqual(api.live(), set(v4 + mapped_twins))
                self.assertIn("pruned=1 ", run.stdout)

    def test_a_listing_in_mapped_spellings_keeps_every_desired_origin(self):
        # An API that answers in IPv4-mapped form, spelled every which way.
        for flavor in (V1, V2):
            with self.subTest(flavor=flavor):
                self.use_dir(flavor)
                desired = ips(0, 12)
                spellings = [f"::ffff:{ip}" for ip in desired[:4]]
                spellings += [f"::FFFF:{ip}" for ip in desired[4:8]]
                spellings += ["0:0:0:0:0:ffff:a14:%x" % i for i in range(8, 12)]
                listed = spellings + ["::ffff:10.20.0.99"]
                api = self.standin(zones={ZONE: desired + ["::ffff:10.20.0.99"]},
                                   faults=[{"operation": "list", "times": -1,
                                            "body": list_answer(listed, flavor)}])
                d = self.daemon(api, {ZONE: desired}, flavor=flavor)
                run = d.run_once()
                self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
                sent = [ip for r in api.requests("batch_delete") for ip in r["ips"]]
                self.assertEqual(sent, ["::ffff:10.20.0.99"], "only the stale one, as listed")
                self.assertTrue(set(desired) <= api.live())


class GuardDilutionTest(AnswersTest):
    def check_blocked(self, flavor, listed, desired, seeded):
        api = self.standin(zones={ZONE: seeded},
                           faults=[{"operation": "list", "times": -1,
                                    "body": list_answer(listed, flavor)}])
        d = self.daemon(api, desired, flavor=flavor)
        run = d.run_once()
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)
        self.assertEqual(api.requests("batch_delete"), [], "the guard let a delete through")
        self.assertEqual(api.live(), set(seeded))
        self.assertIn("safety guard blocked", run.stderr)
        return run

    def test_repeating_the_desired_ips_does_not_dilute_the_guard(self):
        # 100 distinct live, 51 desired: a 49 % prune. Each desired IP listed ten times, spelled
        # ten ways, made it look like 49 of 559 (8.8 %), under the 30 % guard.
        for flavor in (V1, V2):
            with self.subTest(flavor=flavor):
                self.use_dir(flavor)
                live = [f"2001:db8::{i:x}" for i in range(1, 101)]
                keep = live[:51]
                listed = [s for i in range(1, 52) for s in spellings(i)] + live[51:]
                run = self.check_blocked(flavor, listed, {ZONE: keep}, live)
                self.assertIn("would delete 49 of 100 live mappings (49.0%", run.stderr)

    def test_junk_and_out_of_scope_entries_do_not_dilute_the_guard(self):
        for flavor in (V1, V2):
            with self.subTest(flavor=flavor):
                self.use_dir(flavor)
                live, keep = ips(0, 20), ips(0, 10)
                listed = (live + ["not-an-ip", "10.20.0.300", "../x", ""] * 20
                          + ips(0, 200, prefix="10.99") + [f"::ffff:{ip}" for ip in keep] * 5)
                desired = origins_yaml(keep, manage_cidrs=["10.20.0.0/16"])
                run = self.check_blocked(flavor, listed, desired, live)
                self.assertIn("would delete 10 of 20 live mappings (50.0%", run.stderr)

    def test_an_honest_listing_at_the_fraction_still_prunes(self):
        api = self.standin(zones={ZONE: ips(0, 100)})
        d = self.daemon(api, {ZONE: ips(0, 70)}, flavor=V2)
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(api.live(), set(ips(0, 70)))


class CraftedBatchAnswerTest(AnswersTest):
    CRAFTED_FAILED = [
        ("../../user/tokens/verify", "internal error"),
        ("../../../../../../user/tokens/verify", "internal error"),
        ("10.20.0.8/../../../../../user/tokens/verify", "internal error"),
        ("%2e%2e/%2e%2e/user/tokens/verify", "internal error"),
        ("?page=1", "internal error"),
        ("10.20.0.250", "internal error"),  # an address, but not one we asked about
        ("::FFFF:10.20.0.9", "internal error"),  # requested, spelled otherwise
    ]

    def test_crafted_failed_entries_cause_no_request_outside_the_zone(self):
        for flavor in (V1, V2):
            with self.subTest(flavor=flavor):
                self.use_dir(flavor)
                collection = ("/cache/origin_cloud_regions" if flavor == V1
                              else "/origin/cloud_regions")
                answer = batch_answer(["10.20.0.7", "10.20.0.200", "10.20.0.201", "10.20.0.202"],
                                      self.CRAFTED_FAILED, flavor)
                api = self.standin(zones={ZONE: ips(0, 10)},
                                   faults=[{"operation": "batch_delete", "times": -1,
                                            "body": answer}])
                d = self.daemon(api, {ZONE: ips(0, 7)}, flavor=flavor)
                run = d.run_once()
                prefix = f"/client/v4/zones/{ZONE}{collection}"
                for r in api.requests():
                    self.assertTrue(r["path"] == prefix or r["path"].startswith(prefix + "/"),
                                    f"a request left the zone's mapping paths: {r['method']} "
                                    f"{r['path']}")
                # The only follow-up check is of the requested IP the answer said failed.
                self.assertEqual([r["path"] for r in api.requests("get")],
                                 [prefix + "/10.20.0.9"])
                # Unrequested 'succeeded' entries are not counted: only 10.20.0.7 was asked for.
                self.assertIn("pruned=1 ", run.stdout)
                self.assertIn("not deleted 10.20.0.9: internal error", run.stdout)
                self.assertIn("were not in the request", run.stderr)
                self.assertIn("'../../user/tokens/verify'", run.stderr)
                self.assertEqual(run.returncode, 1, "10.20.0.9 is still there")


class PagedListingTest(IntegrationTest):
    def test_a_shrinking_page_count_fails_the_listing_and_deletes_nothing(self):
        # 250 mappings, 3 pages of 100; page 2 claims there are only 2 pages. Taken as
        # complete, the first 200 would make a plan: 50 stale, within the guard.
        live, keep = ips(0, 250), ips(0, 150)
        page2 = list_answer(ips(100, 100), V2, page=2, total_pages=2, total_count=200)
        api = self.standin(zones={ZONE: live},
                           faults=[{"operation": "list", "skip": 1, "times": -1,
                                    "body": page2}])
        d = self.daemon(api, {ZONE: keep}, flavor=V2)
        run = d.run_once()
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertEqual(api.requests("batch_delete"), [])
        self.assertEqual(api.live(), set(live))
        self.assertIn("changed while it was read", run.stderr)
        self.assertIn("will retry next cycle", run.stderr)


if __name__ == "__main__":
    unittest.main()
