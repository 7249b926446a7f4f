"""Under contention on a node, allocations follow budgets and demand within floors and caps,
never above capacity; when contention ends they relax within the guardrails."""

import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Cluster, budget, cond, cpu_milli, market, pod_limit, policy,  # noqa: E402
                     scenario, workload)

# One 4-CPU node. web and api each want ~3 cores for the first 20 s; then web goes quiet.
WEB_LOAD = {"steps": [{"t": 0, "value": 300}, {"t": 20, "value": 5}]}
API_LOAD = {"constant": 300}
CPU_SIGNAL = [{"name": "cpu", "resource": {"name": "cpu", "relativeTo": "Limit"}, "target": 0.9}]


def sc():
    return scenario(
        [workload("web", 1, WEB_LOAD), workload("api", 1, API_LOAD)],
        objects=[market(reserve="0"),
                 policy("fast", CPU_SIGNAL, half_life="1s"),
                 budget("web", 300, cpu={"min": "200m", "max": "3"}, policy="fast"),
                 budget("api", 100, cpu={"min": "200m", "max": "3"}, policy="fast")],
        nodes=1, cpu="4")


class Contention(unittest.TestCase):
    def test_follow_budgets_then_relax(self):
        with Cluster(sc()) as c:
            op = c.operator("--clearing-interval=1s")
            capacity = 4000

            def split():
                w, a = c.pods("web"), c.pods("api")
                if len(w) != 1 or len(a) != 1:
                    return None
                return pod_limit(w[0]), pod_limit(a[0])

            # contended: both at full demand -> 3:1 by budget, sum = capacity
            got = c.wait(lambda: (lambda s: s if s and s[0] > 2 * s[1] and s[0] + s[1] >= 3800 else None)(split()),
                         timeout=30, what="allocations following budgets")
            web, api = got
            self.assertLessEqual(web + api, capacity)
            self.assertGreaterEqual(min(web, api), 200)
            self.assertLessEqual(max(web, api), 3000)
            self.assertAlmostEqual(web / api, 3.0, delta=0.5)
            sm = c.sm()
            self.assertEqual(cond(sm, "Contended").get("status"), "True")
            for n in sm["status"]["nodes"]:
                self.assertLessEqual(cpu_milli(n["allocated"]), cpu_milli(n["capacity"]))
            sbw = c.sb("web")
            self.assertIn("budget share", sbw["status"]["lastDecision"]["reason"])
            self.assertEqual(sbw["status"]["budgetShare"], "0.75")

            # contention ends: web idles, api grows to its cap; never above capacity
            def relaxed():
                s = split()
                self.assertLessEqual(sum(s or (0, 0)), capacity)
                return s if s and s[1] >= 2900 else None
            web, api = c.wait(relaxed, timeout=40, what="api relaxing to its cap")
            self.assertGreaterEqual(web, 200)
            self.assertLessEqual(api, 3000)
            self.assertEqual(op.stop(), 0)


if __name__ == "__main__":
    unittest.main()
