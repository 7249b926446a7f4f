"""Golden: `kubectl describe servicebudget` (kubectl 1.33) shows the reasoning, allocations,
conditions and Events readably, and `kubectl get sm,sb,ap` shows the printer columns.
Volatile parts (times, ages, uids, resourceVersions, decision ids, pod name hashes) are
normalized. Regenerate with MBCAS_UPDATE_GOLDEN=1 after an intended change, and review."""

import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, market, policy, scenario, workload  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
CPU_SIGNAL = [{"name": "cpu", "resource": {"name": "cpu", "relativeTo": "Limit"}, "target": 0.9}]


def sc():
    # Both services saturate whatever they get (usage == limit), so demand stays 1 and the
    # decisions do not depend on timing: web 3 cores (its cap), api 1 core.
    return scenario([workload("web", 1, {"constant": 600}), workload("api", 1, {"constant": 600})],
                    objects=[market(), policy("cpu-limit", CPU_SIGNAL, half_life="0"),
                             budget("web", 300, cpu={"min": "200m", "max": "3"}, policy="cpu-limit"),
                             budget("api", 100, cpu={"min": "200m", "max": "3"}, policy="cpu-limit")],
                    nodes=1, cpu="4")


RULES = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<id>"),
    (re.compile(r"\b(web|api)-[a-z0-9]{6,10}-[a-z0-9]{5}\b"), r"\1-<pod>"),
    (re.compile(r"(?m)^(\s*(Creation Timestamp|Resource Version|UID|Generation):\s*).*$"), r"\1<x>"),
    (re.compile(r"(?<![\w.])\d+(m\d+)?s(?=\s|$)"), "<age>"),  # ages under an hour: "7s", "1m5s"
    (re.compile(r"(?<=\S) {2,}"), "  "),  # column widths follow the ages: collapse padding
]


def normalize(text):
    for rx, rep in RULES:
        text = rx.sub(rep, text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


class Golden(unittest.TestCase):
    def check(self, name, text):
        path = os.path.join(GOLDEN, name)
        if os.environ.get("MBCAS_UPDATE_GOLDEN") == "1":
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        with open(path) as f:
            want = f.read()
        self.maxDiff = None
        self.assertEqual(want, text)

    def test_describe_and_get(self):
        with Cluster(sc()) as c:
            op = c.operator("--clearing-interval=1s")
            c.wait(lambda: c.sb("web").get("status", {}).get("lastDecision", {}).get("outcome") == "Unchanged"
                   and c.sb("api").get("status", {}).get("lastDecision", {}).get("outcome") == "Unchanged"
                   and c.ap("cpu-limit").get("status", {}).get("healthySignals") == 1,
                   timeout=30, what="a settled market")
            time.sleep(1.5)
            op.stop()
            d = c.kubectl("describe", "servicebudget", "web", "-n", "shop").stdout
            self.check("describe-servicebudget.txt", normalize(d))
            g = c.kubectl("get", "sm,sb,ap", "-A").stdout
            self.check("get-sm-sb-ap.txt", normalize(g))
            w = c.kubectl("get", "sb", "-n", "shop", "-o", "wide").stdout
            self.check("get-sb-wide.txt", normalize(w))


if __name__ == "__main__":
    unittest.main()
