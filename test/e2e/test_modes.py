"""Single writer (HPA on the same Deployment: Conflict, no writes to it), Recommend mode
(status only), and invalid resources (Invalid condition + Event, others unaffected)."""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, cond, market, pod_limit, scenario, workload  # noqa: E402

LOAD = {"constant": 300}


def sc(mode="Enforce", extra=()):
    return scenario(
        [workload("web", 1, LOAD), workload("api", 1, LOAD)],
        objects=[market(mode=mode, horizontal={"enabled": True, "scaleOutWindow": "0s", "cooldown": "0s"}),
                 budget("web", 300, cpu={"min": "200m", "max": "3"}, replicas={"min": 1, "max": 4}),
                 budget("api", 100, cpu={"min": "200m", "max": "3"}, replicas={"min": 1, "max": 4})]
        + list(extra),
        nodes=1, cpu="4")


HPA = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
       "metadata": {"name": "web", "namespace": "shop"},
       "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 3,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                    "type": "Utilization", "averageUtilization": 80}}}]}}


class Modes(unittest.TestCase):
    def test_hpa_conflict_no_writes(self):
        with Cluster(sc(extra=[HPA])) as c:
            web_before = [(p["metadata"]["name"], pod_limit(p)) for p in c.pods("web")]
            gen_before = c.deployment("web")["metadata"]["generation"]
            op = c.operator("--clearing-interval=1s")
            c.wait(lambda: cond(c.sb("web"), "Conflict").get("status") == "True", timeout=20,
                   what="Conflict condition")
            # api still takes part, and grows into what web does not take
            c.wait(lambda: c.sb("api").get("status", {}).get("lastDecision"), timeout=20)
            time.sleep(3)  # a few more cycles
            self.assertEqual(cond(c.sb("web"), "Conflict")["reason"], "HorizontalPodAutoscaler")
            self.assertEqual(cond(c.sb("web"), "Ready")["status"], "False")
            web_after = [(p["metadata"]["name"], pod_limit(p)) for p in c.pods("web")]
            self.assertEqual(web_before, web_after)
            self.assertEqual(c.deployment("web")["metadata"]["generation"], gen_before)
            self.assertNotIn("/deployments/web/scale", op.logtext())
            reasons = [e["reason"] for e in c.events("web")]
            self.assertIn("Conflict", reasons)
            self.assertEqual(op.stop(), 0)

    def test_recommend_writes_status_only(self):
        with Cluster(sc(mode="Recommend")) as c:
            before = {a: [pod_limit(p) for p in c.pods(a)] for a in ("web", "api")}
            op = c.operator("--clearing-interval=1s")
            sb = c.wait(lambda: (lambda s: s if s.get("status", {}).get("lastDecision") else None)(c.sb("web")),
                        timeout=20, what="a decision in status")
            time.sleep(3)
            sb = c.sb("web")
            self.assertEqual(sb["status"]["lastDecision"]["outcome"], "Recommended")
            self.assertEqual(sb["status"]["allocations"][0]["outcome"], "Recommended")
            self.assertEqual(sb["status"]["allocations"][0]["cpu"], "3")
            self.assertEqual(cond(sb, "Actuated")["reason"], "Recommend")
            after = {a: [pod_limit(p) for p in c.pods(a)] for a in ("web", "api")}
            self.assertEqual(before, after)
            self.assertEqual(c.deployment("web")["spec"]["replicas"], 1)
            self.assertEqual(c.deployment("api")["spec"]["replicas"], 1)
            self.assertEqual(op.stop(), 0)

    def test_invalid_isolated(self):
        with Cluster(sc()) as c:
            op = c.operator("--clearing-interval=1s")
            st, body = c.create(budget("lost", 100, market_="nope"))
            self.assertEqual(st, 201, body)
            # floor above cap: the API server itself refuses it (CRD validation)...
            st, body = c.create(budget("bad", 100, cpu={"min": "2", "max": "1"}))
            if st == 201:
                # ...or, if it got in, the operator marks it Invalid
                c.wait(lambda: cond(c.sb("bad"), "Invalid").get("status") == "True", timeout=20)
                self.assertIn("spec.cpu.min", cond(c.sb("bad"), "Invalid")["message"])
            else:
                self.assertEqual(st, 422, body)
                self.assertIn("spec.cpu.min", body["message"])
            c.wait(lambda: cond(c.sb("lost"), "Invalid").get("reason") == "MarketNotFound", timeout=20)
            c.wait(lambda: [e for e in c.events("lost") if e["reason"] == "Invalid"], timeout=10,
                   what="an Invalid Event")
            # the others are unaffected
            c.wait(lambda: c.sb("web").get("status", {}).get("lastDecision", {}).get("outcome")
                   in ("Applied", "Unchanged"), timeout=20, what="web still decided and actuated")
            self.assertEqual(cond(c.sb("web"), "Ready")["status"], "True")
            self.assertGreater(max(pod_limit(p) for p in c.pods("web")), 1000)
            self.assertEqual(op.stop(), 0)


if __name__ == "__main__":
    unittest.main()
