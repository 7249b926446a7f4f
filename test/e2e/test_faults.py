"""With dropped watches, 429, 409 and 500 injected, the loop goes on and nothing is lost:
every service still gets its decision applied, and a spec change made during the faults
is still picked up."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, cond, market, pod_limit, scenario, workload  # noqa: E402


def sc():
    return scenario([workload("web", 1, {"constant": 300}), workload("api", 1, {"constant": 300})],
                    objects=[market(),
                             budget("web", 300, cpu={"min": "200m", "max": "3"}),
                             budget("api", 100, cpu={"min": "200m", "max": "3"})],
                    nodes=1, cpu="4")


class Faults(unittest.TestCase):
    def test_loop_survives_faults(self):
        with Cluster(sc()) as c:
            c.fault([{"status": 429, "retryAfter": 1, "count": 4, "path": "servicebudgets"},
                     {"status": 500, "count": 4, "path": "/resize"},
                     {"status": 503, "count": 4, "path": "/scale"},
                     {"conflictFraction": 0.5, "count": 20, "path": "/status"},
                     {"dropWatches": True, "count": 6}])
            op = c.operator("--clearing-interval=1s")

            def settled():
                w, a = c.pods("web"), c.pods("api")
                return w and a and pod_limit(w[0]) == 3000 and pod_limit(a[0]) == 1000
            c.wait(settled, timeout=60, what="allocations applied despite faults")
            # a spec change made while watches drop, resourceVersions expire (410) and
            # reads fail is not lost: web's cap goes down to 2
            c.fault({"dropWatches": True})
            st, body = c.patch("/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/web",
                               {"spec": {"cpu": {"min": "200m", "max": "2"}}})
            self.assertEqual(st, 200, body)
            c.fault({"expireResourceVersions": True})
            c.fault({"status": 500, "count": 3, "path": "servicebudgets"})
            c.wait(lambda: pod_limit(c.pods("web")[0]) == 2000, timeout=60,
                   what="the new cap applied after watch drops and 410s")
            c.wait(lambda: c.sb("web").get("status", {}).get("observedGeneration") == 2, timeout=20)
            self.assertTrue(op.alive())
            self.assertEqual(cond(c.sb("web"), "Ready")["status"], "True")
            time.sleep(1)
            self.assertEqual(op.stop(), 0)


if __name__ == "__main__":
    unittest.main()
