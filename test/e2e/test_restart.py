"""The operator killed between the status write and actuation, then restarted, completes
the recorded decision without a double step; SIGTERM stops it cleanly; leader election
uses a Lease."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, cpu_milli, market, pod_limit, scenario, workload  # noqa: E402


def sc():
    # One step of at most 500m per clearing: a double step would be visible.
    m = market(guardrails={"maxStepCPU": "500m", "maxStepPercent": 1000, "cooldown": "0s",
                           "deadBand": "0"})
    return scenario([workload("web", 1, {"constant": 300})],
                    objects=[m, budget("web", 300, cpu={"min": "200m", "max": "3"})],
                    nodes=1, cpu="4")


class Restart(unittest.TestCase):
    def test_crash_between_status_and_actuation(self):
        with Cluster(sc()) as c:
            before = pod_limit(c.pods("web")[0])
            op = c.operator("--clearing-interval=1h", env={"MBCAS_TEST_CRASH_AFTER_STATUS": "1"})
            self.assertEqual(op.wait_exit(30), 3)  # the test crash point
            st = c.sb("web")["status"]
            self.assertEqual(st["lastDecision"]["outcome"], "Pending")
            pending = cpu_milli(st["allocations"][0]["cpu"])
            decision = st["lastDecision"]["id"]
            self.assertEqual(pending, before + 500)
            self.assertEqual(pod_limit(c.pods("web")[0]), before)  # not actuated yet
            op.stop()
            # restart: completes the same decision, exactly once
            op2 = c.operator("--clearing-interval=1h")
            c.wait(lambda: c.sb("web")["status"]["lastDecision"]["outcome"] == "Applied", timeout=20,
                   what="the pending decision completed")
            self.assertEqual(c.sb("web")["status"]["lastDecision"]["id"], decision)
            self.assertEqual(pod_limit(c.pods("web")[0]), pending)
            self.assertIn("resuming decision", op2.logtext())
            time.sleep(2)  # no further step within the interval
            self.assertEqual(pod_limit(c.pods("web")[0]), pending)
            self.assertEqual(op2.stop(), 0)

    def test_leader_election_and_sigterm(self):
        with Cluster(sc()) as c:
            op = c.operator("--clearing-interval=1s", "--leader-elect",
                            "--leader-election-namespace=default", "--leader-election-id=mbcas-leader")
            c.wait(lambda: c.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/mbcas-leader"),
                   timeout=20, what="the Lease")
            c.wait(lambda: c.sb("web").get("status", {}).get("lastDecision"), timeout=20)
            # a second replica waits: it never clears while the first holds the Lease
            op2 = c.operator("--clearing-interval=1s", "--leader-elect",
                             "--leader-election-namespace=default")
            time.sleep(3)
            self.assertIn("waiting for leadership", op2.logtext())
            self.assertNotIn("market cleared", op2.logtext())
            t0 = time.monotonic()
            self.assertEqual(op.stop(), 0)
            self.assertLess(time.monotonic() - t0, 10)
            # the Lease was released on the way out: the second replica takes over
            c.wait(lambda: "market cleared" in op2.logtext(), timeout=30, what="failover")
            self.assertEqual(op2.stop(), 0)


if __name__ == "__main__":
    unittest.main()
