"""Static checks of the install artefacts: Helm chart, kustomize config, dashboard.

helm is not installable here, so templates are rendered with minihelm.py (a strict
subset of Go templates that fails on anything it does not know).
"""
import json
import os
import subprocess
import sys
import unittest

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minihelm  # noqa: E402

SRC = os.environ.get("MBCAS_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(SRC, "charts", "mbcas")
KUBECTL = os.environ.get("KUBECTL", "kubectl")
ALL_ON = {"podDisruptionBudget.enabled": True, "grafanaDashboard.enabled": True,
          "metrics.serviceMonitor.enabled": True, "clearingInterval": "30s",
          "watchNamespace": "shop", "podAnnotations": {"a": "b"}}


def load_all(text):
    return [d for d in yaml.safe_load_all(text) if d]


def render(overrides=None):
    out = minihelm.render_chart(CHART, overrides)
    docs = []
    for name, text in sorted(out.items()):
        if name.endswith(".yaml"):
            docs += load_all(text)
    return docs, out


def by_key(docs):
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


class ChartTest(unittest.TestCase):
    def test_chart_crds_identical_to_crds_dir(self):
        src = sorted(f for f in os.listdir(os.path.join(SRC, "crds")) if f.startswith("mbcas.io_"))
        chart = sorted(os.listdir(os.path.join(CHART, "crds")))
        self.assertEqual(len(src), 3, "three CRDs expected in crds/")
        self.assertEqual(src, chart)
        for f in src:
            with open(os.path.join(SRC, "crds", f), "rb") as a, open(os.path.join(CHART, "crds", f), "rb") as b:
                self.assertEqual(a.read(), b.read(), f + " differs between crds/ and the chart")

    def test_cluster_role_rules_identical_to_config_rbac(self):
        with open(os.path.join(SRC, "config", "rbac", "role.yaml")) as f:
            kust_role = yaml.safe_load(f)
        docs, _ = render()
        role = by_key(docs)[("ClusterRole", "mbcas-manager-role")]
        self.assertEqual(role["rules"], kust_role["rules"])
        # least privilege: no wildcards, no write verbs on specs of our CRDs or workloads
        for rule in role["rules"]:
            self.assertNotIn("*", rule["verbs"])
            self.assertNotIn("*", rule["resources"])
            if rule["apiGroups"][0] not in ("", "apps", "mbcas.io"):
                continue
            for res in rule["resources"]:
                if res in ("scalingmarkets", "servicebudgets", "agentpolicies", "deployments", "statefulsets", "pods"):
                    self.assertEqual(sorted(rule["verbs"]), ["get", "list", "watch"], res)

    def test_values_valid_against_schema(self):
        with open(os.path.join(CHART, "values.schema.json")) as f:
            schema = json.load(f)
        with open(os.path.join(CHART, "values.yaml")) as f:
            values = yaml.safe_load(f)
        jsonschema.validate(values, schema)
        for bad in ({"replicaCount": 0}, {"logLevel": "loud"}, {"unknownKey": 1},
                    {"clearingInterval": "fast"}, {"image": {"repository": "", "pullPolicy": "IfNotPresent"}},
                    {"statusWriters": 0}, {"statusWriters": 33}, {"kubeAPI": {"qps": 0, "burst": 10}},
                    {"kubeAPI": {"qps": 10}}):
            v = dict(values)
            v.update(bad)
            with self.assertRaises(jsonschema.ValidationError, msg=str(bad)):
                jsonschema.validate(v, schema)

    def test_every_template_renders_to_wellformed_yaml(self):
        for overrides in (None, ALL_ON, {"rbac.create": False, "serviceAccount.create": False,
                                        "leaderElection.enabled": False, "metrics.service.enabled": False}):
            docs, out = render(overrides)
            self.assertTrue(docs)
            for d in docs:
                self.assertIn("apiVersion", d)
                self.assertIn("kind", d)
                self.assertTrue(d["metadata"]["name"])
            self.assertIn("kubectl", out["NOTES.txt"])
        kinds = {d["kind"] for d in render(ALL_ON)[0]}
        self.assertTrue({"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                         "Deployment", "Service", "ServiceMonitor", "PodDisruptionBudget", "ConfigMap"} <= kinds)
        dash = by_key(render(ALL_ON)[0])[("ConfigMap", "mbcas-grafana-dashboard")]
        self.assertEqual(json.loads(dash["data"]["mbcas-dashboard.json"])["uid"], "mbcas-market")
        args = by_key(render(ALL_ON)[0])[("Deployment", "mbcas-controller-manager")]["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertIn("--clearing-interval=30s", args)
        self.assertIn("--namespace=shop", args)
        self.assertIn("--kube-api-qps=200", args)
        self.assertIn("--kube-api-burst=400", args)
        self.assertIn("--status-writers=8", args)
        # the values reach the flags (not hard-coded defaults)
        args = by_key(render({"kubeAPI.qps": 50, "kubeAPI.burst": 70, "statusWriters": 3})[0])[
            ("Deployment", "mbcas-controller-manager")]["spec"]["template"]["spec"]["containers"][0]["args"]
        for a in ("--kube-api-qps=50", "--kube-api-burst=70", "--status-writers=3"):
            self.assertIn(a, args)

    def test_deployment_is_hardened(self):
        dep = by_key(render()[0])[("Deployment", "mbcas-controller-manager")]
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(dep["spec"]["replicas"], 2)
        self.assertIn("--leader-elect", c["args"])
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertEqual(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"])
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertIn("requests", c["resources"])

    def test_dashboard_identical_in_config_and_chart(self):
        with open(os.path.join(SRC, "config", "grafana", "mbcas-dashboard.json"), "rb") as a, \
             open(os.path.join(CHART, "dashboards", "mbcas-dashboard.json"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_kustomize_renders_same_objects_as_chart(self):
        res = subprocess.run([KUBECTL, "kustomize", os.path.join(SRC, "config", "default")],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        kust = by_key(load_all(res.stdout))
        chart = by_key(render()[0])
        kust_objs = {k: v for k, v in kust.items() if k[0] not in ("Namespace", "CustomResourceDefinition")}
        self.assertEqual(sorted(kust_objs), sorted(chart))
        self.assertEqual(len([k for k in kust if k[0] == "CustomResourceDefinition"]), 3)
        for key, k in kust_objs.items():
            c = chart[key]
            self.assertEqual(k["metadata"].get("namespace"), c["metadata"].get("namespace"), key)
            for field in ("spec", "rules", "roleRef", "subjects"):
                self.assertEqual(k.get(field), c.get(field), "%s %s differs" % (key, field))


if __name__ == "__main__":
    unittest.main(verbosity=2)
