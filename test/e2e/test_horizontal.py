"""A load spike makes a service scale out after its pods hit their cap, and scale in later,
within the replica bounds."""

import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, market, pod_limit, policy, scenario, workload  # noqa: E402

# 1 pod capped at 1 core; the spike wants ~3 cores for 25 s, then the load almost stops.
SPIKE = {"steps": [{"t": 0, "value": 300}, {"t": 25, "value": 2}]}
CPU_SIGNAL = [{"name": "cpu", "resource": {"name": "cpu", "relativeTo": "Limit"}, "target": 0.9}]


def sc():
    m = market(horizontal={"enabled": True, "scaleOutDemand": 0.85, "scaleOutWindow": "2s",
                           "scaleInDemand": 0.3, "scaleInWindow": "4s", "cooldown": "3s"})
    return scenario([workload("burst", 1, SPIKE)],
                    objects=[m, policy("fast", CPU_SIGNAL, half_life="1s"),
                             budget("burst", 100, cpu={"min": "200m", "max": "1"}, policy="fast",
                                    replicas={"min": 1, "max": 3})],
                    nodes=2, cpu="4")


class Horizontal(unittest.TestCase):
    def test_scale_out_then_in(self):
        with Cluster(sc()) as c:
            op = c.operator("--clearing-interval=1s")
            seen = []

            def replicas():
                r = c.deployment("burst")["spec"]["replicas"]
                seen.append(r)
                return r
            c.wait(lambda: replicas() >= 2, timeout=30, what="scale-out")
            # pods were at their cap (1 core) when it scaled out
            sb = c.sb("burst")
            self.assertGreaterEqual(sb["status"]["desiredReplicas"], 2)
            self.assertIn("scale-out", " ".join(h.get("reason", "") for h in sb["status"].get("history", [])))
            self.assertTrue(all(pod_limit(p) <= 1000 for p in c.pods("burst")))
            c.wait(lambda: replicas() == 1, timeout=60, what="scale-in after the spike")
            self.assertLessEqual(max(seen), 3)
            self.assertGreaterEqual(min(seen), 1)
            events = [e["reason"] for e in c.events("burst")]
            self.assertIn("Scaled", events)
            self.assertEqual(op.stop(), 0)


def sc_burst():
    # replicas fixed at 1: only the in-place burst (ServiceBudget spec.cpu.base) acts
    m = market()
    return scenario([workload("pulse", 1, SPIKE)],
                    objects=[m, policy("fast", CPU_SIGNAL, half_life="1s"),
                             budget("pulse", 100, cpu={"min": "200m", "base": "1", "max": "2"},
                                    policy="fast", replicas={"min": 1, "max": 1})],
                    nodes=2, cpu="4")


class Burst(unittest.TestCase):
    def test_burst_above_base_and_back(self):
        """A pressed pod grows in place above its base (up to max, the same pod),
        and falls back to the base, never below it, once the spike is over."""
        with Cluster(sc_burst()) as c:
            op = c.operator("--clearing-interval=1s")
            limits, names = [], set()

            def limit():
                ps = c.pods("pulse")
                v = pod_limit(ps[0]) if ps else 0
                if ps:
                    names.add(ps[0]["metadata"]["name"])
                limits.append(v)
                return v
            c.wait(lambda: limit() > 1000, timeout=30, what="in-place growth above the base")
            c.wait(lambda: limit() == 1000, timeout=60, what="back to the base after the spike")
            self.assertLessEqual(max(limits), 2000)                 # never above max
            self.assertGreaterEqual(min(v for v in limits if v), 1000)  # never below base
            self.assertEqual(len(names), 1, names)  # in place: the same pod throughout
            self.assertIn("Resized", [e["reason"] for e in c.events("pulse")])
            self.assertEqual(op.stop(), 0)


if __name__ == "__main__":
    unittest.main()
