"""Retries, partial failures and the --once exit codes, against injected faults."""

import unittest

from harness import ZONE, ZONE_B, IntegrationTest, ips, run_once_meanwhile


class RetryTest(IntegrationTest):
    def test_429_with_retry_after_is_honoured(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "batch_delete", "status": 429, "retry_after": 1,
                                    "times": 1}])
        d = self.daemon(api, {ZONE: ips(0, 8)})
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        deletes = api.requests("batch_delete")
        self.assertEqual([r["status"] for r in deletes], [429, 200])
        waited_ms = deletes[1]["mono_ms"] - deletes[0]["mono_ms"]
        self.assertGreaterEqual(waited_ms, 1000, "Retry-After: 1 was not honoured")
        self.assertIn("HTTP 429", run.stderr)
        self.assertEqual(len(api.live()), 8)

    def test_server_errors_then_success(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "list", "status": 503, "times": 2},
                                   {"operation": "batch_delete", "status": 500, "times": 1}])
        d = self.daemon(api, {ZONE: ips(0, 8)})
        run = d.run_once()
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual([r["status"] for r in api.requests("list")], [503, 503, 200])
        self.assertEqual([r["status"] for r in api.requests("batch_delete")], [500, 200])
        self.assertEqual(len(api.live()), 8)

    def test_malformed_answers_are_retried(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "list", "body": "<html>oops</html>", "times": 1},
                                   {"operation": "batch_delete", "truncate": True, "times": 1}])
        d = self.daemon(api, {ZONE: ips(0, 8)})
        run = d.run_once()
        # The truncated answer hid a delete that happened; the retry finds those items gone.
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(len(api.requests("batch_delete")), 2)
        self.assertEqual(len(api.live()), 8)

    def test_success_false_in_a_200_is_not_success(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "batch_delete", "success_false": True,
                                    "times": -1}])
        d = self.daemon(api, {ZONE: ips(0, 8)})
        run = d.run_once()
        self.assertEqual(run.returncode, 1)
        self.assertEqual(len(api.requests("batch_delete")), 4, "max_attempts=4")

    def test_gives_up_after_max_attempts_and_other_zones_carry_on(self):
        api = self.standin(zones={ZONE: ips(0, 10), ZONE_B: ips(0, 10)},
                           faults=[{"operation": "list", "zone": ZONE, "status": 502,
                                    "times": -1}])
        d = self.daemon(api, {ZONE: ips(0, 8), ZONE_B: ips(0, 8)})
        run = d.run_once()
        self.assertEqual(run.returncode, 1)
        self.assertEqual(len([r for r in api.requests("list") if r["zone"] == ZONE]), 4)
        self.assertEqual(len(api.live(ZONE)), 10)
        self.assertEqual(len(api.live(ZONE_B)), 8)
        self.assertIn(f"zone {ZONE}: failure", run.stdout)

    def test_client_errors_are_not_retried(self):
        api = self.standin(zones={ZONE: ips(0, 10)})
        d = self.daemon(api, {ZONE: ips(0, 8)})
        run = d.run_once(env={"CLOUDFLARE_API_TOKEN": "wrong-token"})
        self.assertEqual(run.returncode, 1)
        self.assertEqual([r["status"] for r in api.requests()], [403])
        self.assertIn("HTTP 403", run.stderr)

    def test_transport_errors_are_retried_then_reported(self):
        api = self.standin(zones={})
        port = api.base.rsplit(":", 1)[1]
        api.stop()  # nothing listens there any more
        d = self.daemon(api, {ZONE: []})
        run = d.run_once()
        self.assertEqual(run.returncode, 1)
        self.assertEqual(run.stderr.count("retrying"), 3, run.stderr)
        self.assertIn(port, run.stderr)


class PartialFailureTest(IntegrationTest):
    def test_failed_items_are_reported_not_counted(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "batch_delete",
                                    "fail_ips": {"10.20.0.9": "internal error"}}])
        d = self.daemon(api, {ZONE: ips(0, 7)})
        run = d.run_once()
        self.assertEqual(run.returncode, 1, run.stdout)
        self.assertIn("pruned=2", run.stdout)
        self.assertIn("not deleted 10.20.0.9: internal error", run.stdout)
        self.assertIn("10.20.0.9 was not deleted: internal error", run.stderr)
        self.assertIn("10.20.0.9", api.live())
        # The follow-up GET found it still there.
        self.assertEqual([r["path"].rsplit("/", 1)[1] for r in api.requests("get")], ["10.20.0.9"])

    def test_items_another_actor_removed_meanwhile_are_not_failures(self):
        api = self.standin(zones={ZONE: ips(0, 10)},
                           faults=[{"operation": "batch_delete", "latency_ms": 1500}])
        d = self.daemon(api, {ZONE: ips(0, 7)})
        # While the batch is held up, someone else deletes one of the stale mappings.
        def delete_one_meanwhile():
            status, _ = api.call("DELETE", f"zones/{ZONE}/cache/origin_cloud_regions/10.20.0.8")
            self.assertEqual(status, 200)

        run = run_once_meanwhile(d, api, delete_one_meanwhile)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("pruned=2 already_gone=1 not_deleted=0", run.stdout)
        self.assertEqual(api.live(), set(ips(0, 7)))


class ExitCodeTest(IntegrationTest):
    def test_exit_codes(self):
        api = self.standin(zones={ZONE: ips(0, 20)})
        # 0: in line already.
        self.assertEqual(self.daemon(api, {ZONE: ips(0, 20)}).run_once().returncode, 0)
        # 3: guard blocked, nothing failed.
        self.assertEqual(self.daemon(api, {ZONE: ips(0, 5)}).run_once().returncode, 3)
        # 1: a failure outranks a block.
        api.set_faults([{"operation": "list", "zone": ZONE_B, "status": 400, "times": -1}])
        both = self.daemon(api, {ZONE: ips(0, 5), ZONE_B: []}).run_once()
        self.assertEqual(both.returncode, 1)
        # 2: usage error.
        d = self.daemon(api, {ZONE: []})
        self.assertEqual(d.run_once("--no-such-flag").returncode, 2)


if __name__ == "__main__":
    unittest.main()
