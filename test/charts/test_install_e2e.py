"""Install end to end: render config/default with kubectl 1.33, apply it to the emulator,
and run the operator under exactly that RBAC (the emulator enforces it for service-account
tokens) through a contention scenario. A missing permission must fail: the second test
removes pods/resize from the ClusterRole and checks the operator is refused and says so.
"""
import os
import subprocess
import sys
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MBCAS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "test", "e2e"))
from harness import (Cluster, Operator, budget, cpu_milli, market, operator_binary,  # noqa: E402
                     pod_limit, policy, scenario, workload)

NS = "mbcas-system"
SA = "mbcas-controller-manager"
CPU_SIGNAL = [{"name": "cpu", "resource": {"name": "cpu", "relativeTo": "Limit"}, "target": 0.9}]


def base_scenario():
    sc = scenario([workload("web", 1, {"constant": 300}), workload("api", 1, {"constant": 300})],
                  nodes=1, cpu="4")
    # the CRDs come from config/default, not from the scenario
    sc["objects"] = []
    return sc


def install(c):
    rendered = c.kubectl("kustomize", os.path.join(SRC, "config", "default")).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    kinds = sorted({d["kind"] for d in docs})
    assert "ClusterRole" in kinds and "CustomResourceDefinition" in kinds, kinds
    c.kubectl("apply", "-f", "-", input=rendered)
    c.kubectl("wait", "--for=condition=Established", "crd/servicebudgets.mbcas.io", "--timeout=30s")
    return docs


def sa_kubeconfig(c):
    """A kubeconfig for the operator's ServiceAccount: same cluster, its bearer token."""
    with open(c.kubeconfig) as f:
        admin = yaml.safe_load(f)
    token = c.emu.token_of(NS, SA)
    cluster = admin["clusters"][0]
    kc = {"apiVersion": "v1", "kind": "Config", "clusters": [cluster],
          "users": [{"name": "sa", "user": {"token": token}}],
          "contexts": [{"name": "sa", "context": {"cluster": cluster["name"], "user": "sa"}}],
          "current-context": "sa"}
    path = os.path.join(c.emu.tmp, "sa-kubeconfig")
    with open(path, "w") as f:
        yaml.safe_dump(kc, f)
    return path


def enrol(c):
    for obj in (market(reserve="0"), policy("fast", CPU_SIGNAL, half_life="1s"),
                budget("web", 300, cpu={"min": "200m", "max": "3"}, policy="fast"),
                budget("api", 100, cpu={"min": "200m", "max": "3"}, policy="fast")):
        st, body = c.create(obj)
        assert st == 201, body


def start_operator(c, kubeconfig):
    """The operator binary with the service account's kubeconfig only (harness.Operator
    would pass the admin one)."""
    op = Operator.__new__(Operator)
    op.c = c
    op.logpath = os.path.join(c.emu.tmp, "operator-sa.log")
    op.log = open(op.logpath, "w")
    env = dict(os.environ, POD_NAMESPACE=NS)
    env.pop("KUBECONFIG", None)
    op.proc = subprocess.Popen(
        [operator_binary(), "--kubeconfig=" + kubeconfig,
         "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
         "--log-level=debug", "--leader-elect", "--leader-election-id=mbcas-leader",
         "--clearing-interval=1s"], stdout=op.log, stderr=subprocess.STDOUT, env=env)
    c.ops.append(op)
    return op


class InstallE2E(unittest.TestCase):
    def test_operator_runs_under_shipped_rbac(self):
        with Cluster(base_scenario()) as c:
            install(c)
            kc = sa_kubeconfig(c)
            # the token really is restricted: it may not read secrets
            self.assertNotEqual(c.kubectl("--kubeconfig", kc, "get", "secrets", "-A", check=False).returncode, 0)
            enrol(c)
            op = start_operator(c, kc)

            def contended_split():
                w, a = c.pods("web"), c.pods("api")
                if len(w) != 1 or len(a) != 1:
                    return None
                s = (pod_limit(w[0]), pod_limit(a[0]))
                return s if s[0] > 2 * s[1] and s[0] + s[1] >= 3800 else None

            web, api = c.wait(contended_split, timeout=60, what="resizes under the shipped RBAC")
            self.assertLessEqual(web + api, 4000)
            lease = c.get("/apis/coordination.k8s.io/v1/namespaces/%s/leases/mbcas-leader" % NS)
            self.assertIsNotNone(lease, "leader Lease not created in %s" % NS)
            sb = c.wait(lambda: c.sb("web").get("status", {}).get("lastDecision"), timeout=30,
                        what="status written")
            self.assertTrue(sb.get("reason"))
            log = op.logtext()
            self.assertNotIn("forbidden", log.lower(), "operator hit a permission it lacks:\n" + log[-3000:])
            self.assertEqual(op.stop(), 0)

    def test_missing_permission_fails_visibly(self):
        with Cluster(base_scenario()) as c:
            docs = install(c)
            role = next(d for d in docs if d["kind"] == "ClusterRole")
            role["rules"] = [r for r in role["rules"] if "pods/resize" not in r["resources"]]
            role["metadata"].pop("annotations", None)
            c.kubectl("apply", "-f", "-", input=yaml.safe_dump(role))
            kc = sa_kubeconfig(c)
            enrol(c)
            op = start_operator(c, kc)
            # the operator decides (status) but every resize is refused with 403, and it says so
            c.wait(lambda: "forbidden" in op.logtext().lower() or any(
                   (a.get("outcome") or "").lower() in ("failed", "forbidden")
                   for a in c.sb("web").get("status", {}).get("allocations", [])),
                   timeout=60, what="a visible permission failure")
            before = [pod_limit(p) for p in c.pods("web")]
            self.assertEqual(before, [cpu_milli("1")], "a pod was resized without pods/resize permission")
            self.assertEqual(op.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
