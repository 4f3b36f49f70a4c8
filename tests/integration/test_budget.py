"""The shared API budget against the stand-in's enforced sliding window (--rate-limit).

Cloudflare's window is 5 minutes; these tests stay short by raising requests_per_second so the
5-minute cap (1,200 less the 5 % headroom: 1,140) is reached in seconds, and then check that
the daemon stops there: zero 429 answers, never more than the cap in the window, and a stop
request ends the minutes-long wait at once.
"""

import re
import signal
import time
import unittest

from harness import IntegrationTest, ips, iso_seconds, max_in_any, wait_for

ZONES = [f"{i:032x}" for i in range(0xb0, 0xb4)]
RATE = 200   # requests per second: the cap is reached in about 6 s
CAP = 1140   # min(200 x 300, 1200) less 5 %
QUIET_S = 0.5  # how long nothing may arrive once the cap is reached: about 100 requests' time


class BudgetTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        # 4 zones of 360 mappings, 350 stale each, deleted one per request: 1,404 requests,
        # more than one window's worth, asked for by 4 zones at once.
        self.seed = {z: ips(0, 360) for z in ZONES}
        self.desired = {z: ips(0, 10) for z in ZONES}
        self.config = {"cloudflare": {"requests_per_second": RATE},
                       "reconcile": {"batch_size": 1, "concurrency": 4,
                                     "max_delete_fraction": 1}}

    def wait_until_still(self, api, count):
        """Waits for `count` answered requests, then checks that no more arrives for a while
        (a fixed wait: what is proved is that nothing happens). A daemon going past its cap
        would send its next request within a few ms at RATE per second, dozens in QUIET_S."""
        wait_for(lambda: len(api.requests()) >= count, timeout=40,
                 what=f"{count} requests at the stand-in")
        time.sleep(QUIET_S)
        log = api.requests()
        self.assertEqual(len(api.received()), len(log), "a request arrived, not answered yet")
        return log

    def test_cap_is_reached_without_a_429_and_held(self):
        api = self.standin(zones=self.seed, extra_args=("--rate-limit", "1200"))
        d = self.daemon(api, self.desired, config=self.config).start()
        log = self.wait_until_still(api, CAP)

        self.assertEqual(len(log), CAP, "the daemon went past its 5-minute cap")
        self.assertEqual([r for r in log if r["status"] == 429], [])
        times = [r["mono_ms"] for r in log]
        self.assertEqual(max_in_any(times, 300_000), CAP)
        # The daemon starts at most RATE per second; arrival jitter can move a few more into a
        # second as the stand-in sees it (at 200 per second, 40 ms of jitter on a busy machine
        # is 8 requests), but never a burst.
        self.assertLessEqual(max_in_any(times, 1000), RATE + 8)
        self.assertLess(max(times) - min(times), 30_000, "the cap was not reached at speed")
        self.assertEqual(d.metric("origin_reconciler_api_budget_window_requests"), CAP)
        self.assertEqual(d.metric("origin_reconciler_api_budget_window_limit"), CAP)

        # The daemon now waits almost 5 minutes for the window; a stop ends that at once.
        started = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(len(api.requests()), CAP)

    def test_a_429_pauses_every_zone_and_halves_the_budget(self):
        # Another client on the same token: one 429 with Retry-After 2 on the 17th delete.
        api = self.standin(zones=self.seed,
                           faults=[{"operation": "batch_delete", "skip": 16, "status": 429,
                                    "retry_after": 2}])
        d = self.daemon(api, self.desired, config=self.config).start()
        log = self.wait_until_still(api, CAP // 2)

        self.assertEqual(len(log), CAP // 2, "the budget was not halved after the 429")
        limited = [r for r in log if r["status"] == 429]
        self.assertEqual(len(limited), 1)
        # The daemon logs when it read the 429 and paused every zone. Until the Retry-After has
        # passed a zone may only finish what it had on its way then: one request at most for
        # each of the other zones, however late a busy machine delivers it. A zone that went
        # on sending would add dozens.
        paused = iso_seconds(re.search(r"^(\S+) warning API budget halved", d.log_text(),
                                       re.M).group(1))
        during = [round(iso_seconds(r["time"]) - paused, 3) for r in log
                  if paused < iso_seconds(r["time"]) < paused + 2 - 0.01]
        print(f"\narrivals during the Retry-After, seconds after the pause: {during}")
        self.assertLessEqual(len(during), self.config["reconcile"]["concurrency"] - 1,
                             f"arrivals during the Retry-After, seconds after the pause: {during}")
        t429 = limited[0]["mono_ms"]
        self.assertGreater(len([r for r in log if r["mono_ms"] - t429 >= 2000]), 500)
        self.assertEqual(d.metric("origin_reconciler_api_budget_window_limit"), CAP // 2)
        self.assertEqual(d.metric("origin_reconciler_api_budget_window_requests"), CAP // 2)
        self.assertIn("API budget halved to 570 requests per 5 minutes", d.log_text())


if __name__ == "__main__":
    unittest.main()
