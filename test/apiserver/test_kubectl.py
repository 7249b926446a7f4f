#!/usr/bin/python3
"""kubectl 1.33 against the emulator: CRDs and custom resources end to end, compared with the
recorded kubectl-*.out.txt of ../shared/kube-api-reference where the command is the same."""

import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emutest import Emu, find_kubectl  # noqa: E402

REF = os.path.join(os.environ.get("MBCAS_SHARED_DIR") or
                   os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared"),
                   "kube-api-reference")


def ref_out(name):
    with open(os.path.join(REF, name)) as f:
        return f.read()


def widget_crd():
    with open(os.path.join(REF, "01-crd-widget-create.json")) as f:
        return json.load(f)["request"]["body"]


GADGET = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
          "metadata": {"name": "gadgets.example.test"},
          "spec": {"group": "example.test", "scope": "Cluster",
                   "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget",
                             "listKind": "GadgetList", "shortNames": ["gd"],
                             "categories": ["toys"]},
                   "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                       "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                           "type": "object", "properties": {"model": {"type": "string"},
                                                            "power": {"type": "integer"}}}}}}}]}}


def widget(name, size, replicas=None, labels=None):
    o = {"apiVersion": "example.test/v1", "kind": "Widget", "metadata": {"name": name},
         "spec": {"size": size}}
    if replicas is not None:
        o["spec"]["replicas"] = replicas
    if labels:
        o["metadata"]["labels"] = labels
    return o


def as_regex(text):
    """Recorded output -> regex (placeholders and column padding after them)."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        parts = re.split(r"(<time>|<age>|<rv>|<uid>)", line)
        rx = ""
        for p in parts:
            if p == "<age>":
                rx += r"(\d+[smhdy])+ *"
            elif p == "<time>":
                rx += r"\S+"
            elif p == "<rv>":
                rx += r"\d+"
            elif p == "<uid>":
                rx += r"[0-9a-f-]{36}"
            else:
                rx += re.escape(p.rstrip(" ")) + (r" *" if p.endswith(" ") else "")
        lines.append(rx.rstrip())
    return "^" + r"\s*\n".join(lines) + r"\s*$"


@unittest.skipIf(find_kubectl() is None, "kubectl 1.33 not found")
class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emu(cluster=False).start()
        cls.tmp = cls.emu.tmp

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def k(self, *args, **kw):
        return self.emu.kubectl(*args, **kw)

    def write(self, name, obj):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            json.dump(obj, f)
        return p

    def assertMatchesRecorded(self, out, recorded):
        self.assertRegex(out, as_regex(ref_out(recorded)), "output differs from " + recorded)

    # ------------------------------------------------------------------ setup via kubectl
    def test_00_crds_and_widgets(self):
        p = self.k("apply", "-f", self.write("crd.json", widget_crd()))
        self.assertIn("customresourcedefinition.apiextensions.k8s.io/widgets.example.test "
                      "created", p.stdout)
        self.k("apply", "-f", self.write("gadget.json", GADGET))
        self.k("wait", "--for=condition=Established", "crd/widgets.example.test",
               "--timeout=10s")
        for w in (widget("w1", "small", 5, {"app": "demo"}), widget("w2", "medium", 2),
                  widget("w3", "large")):
            self.k("create", "-f", self.write(w["metadata"]["name"] + ".json", w))
        p = self.k("get", "widgets")
        self.assertMatchesRecorded(p.stdout, "kubectl-01-get-widgets.out.txt")
        # warm discovery cache: same output
        p = self.k("get", "widgets")
        self.assertMatchesRecorded(p.stdout, "kubectl-02-get-widgets-warm-cache.out.txt")

    def test_01_short_name_and_yaml(self):
        p = self.k("get", "wd", "w1", "-o", "json")
        o = json.loads(p.stdout)
        self.assertEqual(o["spec"], {"color": "blue", "replicas": 5, "size": "small"})
        p = self.k("get", "wd", "w1", "-o", "jsonpath={.metadata.generation}")
        self.assertEqual(p.stdout, "1")

    def test_02_watch(self):
        cmd = [self.emu.kubectl_bin, "--kubeconfig", os.path.join(self.emu.dir, "kubeconfig"),
               "--cache-dir", os.path.join(self.tmp, "kcache"), "get", "widgets", "-w"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        guard = threading.Timer(30, proc.terminate)  # never hang the suite on a lost event
        guard.start()
        try:
            lines = []
            # the initial list: header + 3 rows
            while len(lines) < 4:
                line = proc.stdout.readline()
                if not line:
                    self.fail("kubectl get -w ended early: %s" % proc.stderr.read())
                lines.append(line)
            self.k("patch", "widget", "w2", "--type", "merge", "-p", '{"spec":{"replicas":3}}')
            lines.append(proc.stdout.readline())
        finally:
            guard.cancel()
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()
        self.assertMatchesRecorded("".join(lines), "kubectl-03-get-widgets-watch.out.txt")

    def test_03_describe(self):
        self.emu.req("POST", "/api/v1/namespaces/default/events", {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "w1.scaled.1"},
            "involvedObject": {"apiVersion": "example.test/v1", "kind": "Widget", "name": "w1",
                               "namespace": "default",
                               "uid": self.emu.req("GET", "/apis/example.test/v1/namespaces/"
                                                   "default/widgets/w1")[2]["metadata"]["uid"]},
            "reason": "Scaled", "message": "Widget w1 scaled to 5 replicas", "type": "Normal",
            "source": {"component": "widget-controller"},
            "firstTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lastTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "count": 1})
        p = self.k("describe", "widget", "w1")
        self.assertIn("Name:         w1", p.stdout)
        self.assertIn("API Version:  example.test/v1", p.stdout)
        self.assertRegex(p.stdout, r"Size:\s+small")
        self.assertRegex(p.stdout, r"Normal\s+Scaled\s+\S+\s+widget-controller\s+Widget w1 "
                         r"scaled to 5 replicas")

    def test_04_apply_twice(self):
        w = widget("w-apply", "medium", 2, {"app": "demo"})
        p = self.k("apply", "-f", self.write("wa.json", w))
        self.assertMatchesRecorded(p.stdout, "kubectl-05-apply-first.out.txt")
        w["spec"]["replicas"] = 3
        p = self.k("apply", "-f", self.write("wa.json", w))
        self.assertMatchesRecorded(p.stdout, "kubectl-06-apply-second.out.txt")
        o = json.loads(self.k("get", "widget", "w-apply", "-o", "json").stdout)
        self.assertEqual(o["spec"]["replicas"], 3)
        self.assertEqual(o["metadata"]["generation"], 2)
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration",
                      o["metadata"]["annotations"])

    def test_05_explain(self):
        p = self.k("explain", "widget.spec")
        self.assertEqual(p.stdout, ref_out("kubectl-07-explain-widget-spec.out.txt"))

    def test_06_scale(self):
        p = self.k("scale", "widget", "w1", "--replicas=3")
        self.assertMatchesRecorded(p.stdout, "kubectl-08-scale-widget.out.txt")
        o = json.loads(self.k("get", "widget", "w1", "-o", "json").stdout)
        self.assertEqual(o["spec"]["replicas"], 3)

    def test_07_patch_status(self):
        p = self.k("patch", "widget", "w1", "--subresource", "status", "--type", "merge", "-p",
                   '{"status":{"phase":"Ready","replicas":3}}')
        self.assertMatchesRecorded(p.stdout, "kubectl-10-patch-widget-status.out.txt")
        o = json.loads(self.k("get", "widget", "w1", "-o", "json").stdout)
        self.assertEqual(o["status"], {"phase": "Ready", "replicas": 3})
        # a main-resource patch does not touch status
        self.k("patch", "widget", "w1", "--type", "merge", "-p", '{"status":{"phase":"X"}}')
        o = json.loads(self.k("get", "widget", "w1", "-o", "json").stdout)
        self.assertEqual(o["status"]["phase"], "Ready")

    def test_08_patch_resize(self):
        self.emu.req("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                               "metadata": {"name": "node-1"}})
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1",
                                                                "labels": {"app": "web"}},
               "spec": {"nodeName": "node-1", "containers": [{
                   "name": "c", "image": "nginx:1.27",
                   "resources": {"requests": {"cpu": "200m", "memory": "64Mi"},
                                 "limits": {"cpu": "200m", "memory": "64Mi"}}}]}}
        self.k("create", "-f", self.write("p1.json", pod))
        p = self.k("patch", "pod", "p1", "--subresource", "resize", "-p",
                   '{"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"500m"},'
                   '"limits":{"cpu":"500m"}}}]}}')
        self.assertMatchesRecorded(p.stdout, "kubectl-09-patch-pod-resize.out.txt")
        o = json.loads(self.k("get", "pod", "p1", "-o", "json").stdout)
        self.assertEqual(o["spec"]["containers"][0]["resources"]["limits"]["cpu"], "500m")
        self.assertEqual(o["metadata"]["generation"], 2)
        # QoS change is refused with 422
        p = self.k("patch", "pod", "p1", "--subresource", "resize", "-p",
                   '{"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"100m"}}}'
                   ']}}', check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('The Pod "p1" is invalid: spec: Invalid value: "Guaranteed": Pod QOS Class '
                      'may not change as a result of resizing', p.stderr)
        # the main resource refuses resource changes
        p = self.k("patch", "pod", "p1", "-p", '{"spec":{"containers":[{"name":"c","resources":'
                   '{"requests":{"cpu":"600m"},"limits":{"cpu":"600m"}}}]}}', check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("pod updates may not change fields", p.stderr)

    def test_09_get_multi_and_category(self):
        self.k("create", "-f", self.write("g1.json", {
            "apiVersion": "example.test/v1", "kind": "Gadget", "metadata": {"name": "g1"},
            "spec": {"model": "x1", "power": 3}}))
        p = self.k("get", "widget,gadget")
        self.assertMatchesRecorded(p.stdout, "kubectl-11-get-widget-gadget.out.txt")
        p = self.k("get", "toys")
        self.assertMatchesRecorded(p.stdout, "kubectl-12-get-category.out.txt")

    def test_10_schema_violation_422(self):
        p = self.k("create", "-f", self.write("bad.json", widget("w-bad", "huge")), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('The Widget "w-bad" is invalid: spec.size: Unsupported value: "huge": '
                      'supported values: "small", "medium", "large"', p.stderr)
        p = self.k("create", "-f", self.write("bad2.json", widget("w-bad", "small", 11)),
                   check=False)
        self.assertIn("spec.replicas in body should be less than or equal to 10", p.stderr)

    def test_11_stale_update_409(self):
        o = json.loads(self.k("get", "widget", "w2", "-o", "json").stdout)
        self.k("patch", "widget", "w2", "--type", "merge", "-p", '{"spec":{"color":"red"}}')
        p = self.k("replace", "-f", self.write("stale.json", o), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('Error from server (Conflict): error when replacing', p.stderr)
        self.assertIn('Operation cannot be fulfilled on widgets.example.test "w2": the object '
                      'has been modified; please apply your changes to the latest version and '
                      'try again', p.stderr)

    def test_12_rbac(self):
        self.k("create", "serviceaccount", "no-perms")
        tok = self.k("create", "token", "no-perms").stdout.strip()
        self.assertTrue(tok)
        p = self.k("get", "widgets", "--token", tok, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('Error from server (Forbidden): widgets.example.test is forbidden: User '
                      '"system:serviceaccount:default:no-perms" cannot list resource "widgets" '
                      'in API group "example.test" in the namespace "default"', p.stderr)
        self.k("create", "role", "widget-reader", "--verb=get,list,watch",
               "--resource=widgets.example.test")
        self.k("create", "rolebinding", "rb", "--role=widget-reader",
               "--serviceaccount=default:no-perms")
        p = self.k("get", "widgets", "--token", tok)
        self.assertIn("w1", p.stdout)
        p = self.k("delete", "widget", "w3", "--token", tok, check=False)
        self.assertIn("cannot delete resource", p.stderr)
        p = self.k("auth", "can-i", "list", "widgets.example.test", "--token", tok, check=False)
        self.assertIn("yes", p.stdout)

    def test_13_expired_watch_410(self):
        self.emu.req("POST", "/_emulator/compact")
        p = self.k("get", "--raw", "/apis/example.test/v1/namespaces/default/widgets"
                   "?watch=1&resourceVersion=1&timeoutSeconds=3")
        ev = json.loads(p.stdout.strip().splitlines()[0])
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual(ev["object"]["code"], 410)
        self.assertEqual(ev["object"]["reason"], "Expired")

    def test_14_client_cert_context(self):
        p = self.k("get", "namespaces", "-o", "name", context="cert")
        self.assertIn("namespace/default", p.stdout)

    def test_15_delete(self):
        p = self.k("delete", "widget", "w1")
        self.assertMatchesRecorded(p.stdout, "kubectl-13-delete-widget.out.txt")
        p = self.k("get", "widget", "w1", check=False)
        self.assertIn('Error from server (NotFound): widgets.example.test "w1" not found',
                      p.stderr)

    def test_16_builtin_kinds(self):
        dep = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": {"app": "web"}},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
        self.k("apply", "-f", self.write("dep.json", dep))
        p = self.k("scale", "deployment", "web", "--replicas=4")
        self.assertIn("deployment.apps/web scaled", p.stdout)
        o = json.loads(self.k("get", "deploy", "web", "-o", "json").stdout)
        self.assertEqual(o["spec"]["replicas"], 4)
        dep["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
        self.k("apply", "-f", self.write("dep.json", dep))
        o = json.loads(self.k("get", "deploy", "web", "-o", "json").stdout)
        self.assertEqual(o["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28")
        p = self.k("get", "deploy")
        self.assertRegex(p.stdout, r"NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE")
        self.k("create", "configmap", "cm1", "--from-literal=a=b")
        self.assertIn("cm1", self.k("get", "cm").stdout)
        self.k("delete", "deploy", "web")


if __name__ == "__main__":
    unittest.main(verbosity=2)
