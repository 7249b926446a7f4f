#!/usr/bin/python3
"""Replay every recorded case of ../shared/kube-api-reference against a fresh emulator
(no simulated cluster) in order, and compare status code, Content-Type, Warning headers and
body with the recording's placeholders.

Unrecorded setup steps the recording mentions (the Gadget CRD, ConfigMap cm1, Deployment d1
with its controller's status, Pod p2, Widgets w2..w4, namespace watch-demo, ServiceAccount
no-perms, Widget w-final) are performed by SETUP below, as are the background writes during
the watch cases. Deliberate differences are listed in KNOWN (and in docs/testing.md).
"""

import glob
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emutest import Emu, header  # noqa: E402

REF = os.path.join(os.environ.get("MBCAS_SHARED_DIR") or
                   os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../shared"), "kube-api-reference")

PLACEHOLDER_RE = {
    "<uid>": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "<rv>": r"[0-9]+",
    "<time>": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
    "<continue>": r"[A-Za-z0-9_\-]+",
    "<age>": r"(\d+[smhdy])+|<invalid>",
    "<suffix>": r"[a-z0-9]{5}",
}
_PH = re.compile("|".join(re.escape(k) for k in PLACEHOLDER_RE))

GADGET_CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
              "metadata": {"name": "gadgets.example.test"},
              "spec": {"group": "example.test", "scope": "Cluster",
                       "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget",
                                 "listKind": "GadgetList", "shortNames": ["gd"],
                                 "categories": ["toys"]},
                       "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                           "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                               "type": "object", "properties": {
                                   "model": {"type": "string"},
                                   "power": {"type": "integer"}}}}}}}]}}

W = "/apis/example.test/v1/namespaces/default/widgets"
WD = "/apis/example.test/v1/namespaces/watch-demo/widgets"
D1 = "/apis/apps/v1/namespaces/default/deployments/d1"

# Go-struct-order details the emulator does not reproduce byte for byte (see docs/testing.md)
OPENSHIFT_SOURCE = {"configMap": {"name": "openshift-service-ca.crt",
                                  "items": [{"key": "service-ca.crt", "path": "service-ca.crt"}]}}


def pattern_of(s):
    out, pos = [], 0
    for m in _PH.finditer(s):
        out.append(re.escape(s[pos:m.start()]))
        out.append("(?:%s)" % PLACEHOLDER_RE[m.group(0)])
        pos = m.end()
    out.append(re.escape(s[pos:]))
    return "^" + "".join(out) + "$"


def compare(exp, act, path, errs, unordered=False):
    if isinstance(exp, str) and _PH.search(exp):
        if not isinstance(act, str) or not re.match(pattern_of(exp), act, re.S):
            errs.append("%s: expected %r, got %r" % (path, exp, act))
        return
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            errs.append("%s: expected object, got %r" % (path, act))
            return
        for k in exp:
            if k not in act:
                errs.append("%s.%s: missing (expected %s)" % (path, k, json.dumps(exp[k])[:200]))
            else:
                compare(exp[k], act[k], "%s.%s" % (path, k), errs,
                        unordered=(k == "managedFields"))
        for k in act:
            if k not in exp:
                errs.append("%s.%s: unexpected %s" % (path, k, json.dumps(act[k])[:200]))
        return
    if isinstance(exp, list):
        if not isinstance(act, list) or len(act) != len(exp):
            errs.append("%s: expected list of %d, got %s" % (path, len(exp),
                                                           json.dumps(act)[:300]))
            return
        if unordered:
            remaining = list(act)
            for i, e in enumerate(exp):
                for j, a in enumerate(remaining):
                    sub = []
                    compare(e, a, path, sub)
                    if not sub:
                        del remaining[j]
                        break
                else:
                    sub = []
                    compare(e, remaining[0] if remaining else None, "%s[%d]" % (path, i), sub)
                    errs.extend(sub)
            return
        for i, (e, a) in enumerate(zip(exp, act)):
            compare(e, a, "%s[%d]" % (path, i), errs)
        return
    if exp != act or type(exp) != type(act):
        errs.append("%s: expected %r, got %r" % (path, exp, act))


def strip_openshift(o):
    if isinstance(o, dict):
        if "sources" in o and isinstance(o["sources"], list):
            o["sources"] = [s for s in o["sources"] if s != OPENSHIFT_SOURCE]
        for v in o.values():
            strip_openshift(v)
    elif isinstance(o, list):
        for v in o:
            strip_openshift(v)
    return o


class Replay:
    def __init__(self, emu):
        self.emu = emu
        self.saved = {}
        self.failures = []

    # -------------------------------------------------------------- setup actions
    def ok(self, method, path, body=None, ctype="application/json", query=None, headers=None):
        st, _h, b = self.emu.req(method, path, body, ctype=ctype, query=query, headers=headers)
        if st >= 300:
            raise AssertionError("setup %s %s -> %d %s" % (method, path, st, b))
        return b

    def setup(self, n):
        e = self.emu
        if n == 3:
            self.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                    GADGET_CRD)
        if n == 12:
            self.saved["w1_create_rv"] = self.saved["11"]["metadata"]["resourceVersion"]
        if n == 19:
            self.ok("POST", "/api/v1/namespaces/default/configmaps",
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"},
                     "data": {"k": "v1"}})
        if n == 29:
            self.ok("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                              "metadata": {"name": "node-1"}})
            self.ok("POST", "/apis/apps/v1/namespaces/default/deployments", {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d1", "labels": {"app": "d1"}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d1"}},
                         "template": {"metadata": {"labels": {"app": "d1"}},
                                      "spec": {"containers": [{
                                          "name": "c", "image": "nginx:1.27",
                                          "env": [{"name": "LEVEL", "value": "info"}],
                                          "resources": {"requests": {"cpu": "100m"}}}]}}}})
            self.controller_observes(1, 1)
        if n == 31:
            self.controller_observes(2, 2)
        if n == 36:
            self.ok("POST", "/api/v1/namespaces/default/pods", {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p2", "labels": {"app": "web", "tier": "batch"}},
                "spec": {"nodeName": "node-1", "containers": [{
                    "name": "c", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                  "limits": {"cpu": "200m", "memory": "256Mi"}}}]}})
        if n == 37:
            for name, labels, spec in (("w2", {"app": "demo", "tier": "back"},
                                        {"size": "medium", "replicas": 2}),
                                       ("w3", {"app": "other", "tier": "front"},
                                        {"size": "large"}),
                                       ("w4", None, {"size": "small", "replicas": 0})):
                md = {"name": name}
                if labels:
                    md["labels"] = labels
                self.ok("POST", W, {"apiVersion": "example.test/v1", "kind": "Widget",
                                    "metadata": md, "spec": spec})
        if n == 44:
            self.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                   "metadata": {"name": "watch-demo"}})
            self.ok("POST", WD, {"apiVersion": "example.test/v1", "kind": "Widget",
                                 "metadata": {"name": "w-old"}, "spec": {"size": "small"}})
        if n in (45, 46):
            b = self.ok("GET", WD)
            self.saved["list_rv"] = b["metadata"]["resourceVersion"]
        if n == 47:
            # make rv 1 leave the (emulated) watch cache window like the etcd compaction did
            self.ok("POST", "/_emulator/compact")
        if n == 55:
            self.ok("POST", "/api/v1/namespaces/default/serviceaccounts",
                    {"apiVersion": "v1", "kind": "ServiceAccount",
                     "metadata": {"name": "no-perms"}})
            self.saved["sa_token"] = e.token_of("default", "no-perms")
        if n == 58:
            self.ok("POST", W, {"apiVersion": "example.test/v1", "kind": "Widget",
                                "metadata": {"name": "w-final",
                                             "finalizers": ["example.test/protect"]},
                                "spec": {"size": "small"}})

    def controller_observes(self, gen, replicas):
        """Play kube-controller-manager for d1 (the recording had it running)."""
        h = {"User-Agent": "kube-controller-manager/v1.33.13"}
        d = self.ok("GET", D1)
        d["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = "1"
        ref = json.load(open(os.path.join(REF, "31-deployment-strategic-merge-patch.json")))
        conds = ref["response"]["body"]["status"]["conditions"]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for c in conds:
            c["lastUpdateTime"] = c["lastTransitionTime"] = now
        if gen == 1:
            conds[1]["reason"] = "NewReplicaSetCreated"
            conds[1]["message"] = 'Created new replica set "d1-5f48bb9446"'
        d["status"] = {"observedGeneration": gen, "replicas": replicas,
                       "updatedReplicas": replicas, "unavailableReplicas": replicas,
                       "conditions": conds}
        self.ok("PUT", D1 + "/status", d, headers=h)

    def background(self, n):
        """Writes performed while the watch of case n runs."""
        def merge(path, body):
            return lambda: self.ok("PATCH", path, body, ctype="application/merge-patch+json")
        steps = []
        if n == 44:
            steps = [(0.5, lambda: self.ok("POST", WD, {
                "apiVersion": "example.test/v1", "kind": "Widget",
                "metadata": {"name": "w-new"}, "spec": {"size": "medium"}})),
                (1.0, merge(WD + "/w-new", {"spec": {"replicas": 2}})),
                (1.5, lambda: self.ok("DELETE", WD + "/w-new"))]
        elif n == 45:
            steps = [(0.5, merge(WD + "/w-old", {"spec": {"replicas": 4}})),
                     (1.0, merge(WD + "/w-old", {"spec": {"size": "large"}}))]
        elif n == 46:
            steps = [(0.5, merge(WD + "/w-old", {"metadata": {"labels": {"touched": "yes"}}}))]
        return steps

    # -------------------------------------------------------------- request building
    def subst(self, n, obj):
        s = json.dumps(obj)
        if "<uid>" in s:
            s = s.replace("<uid>", self.saved["11"]["metadata"]["uid"])
        if "<continue>" in s:
            s = s.replace("<continue>", self.saved["39"]["metadata"]["continue"])
        if "<rv>" in s:
            if n == 21:
                rv = self.saved["w1_create_rv"]
            elif n in (45, 46):
                rv = self.saved["list_rv"]
            else:
                rv = self.current_rv(n)
            s = s.replace("<rv>", rv)
        return json.loads(s)

    def current_rv(self, n):
        case = self.cases[n]
        path = case["request"]["path"]
        for suffix in ("/status", "/scale", "/resize"):
            if path.endswith(suffix):
                path = path[:-len(suffix)]
        b = self.ok("GET", path)
        return b["metadata"]["resourceVersion"]

    # -------------------------------------------------------------- run
    def run(self):
        files = sorted(glob.glob(os.path.join(REF, "[0-9][0-9]-*.json")))
        if not files:
            raise SystemExit("no recorded cases in " + REF)
        self.cases = {}
        for f in files:
            self.cases[int(os.path.basename(f)[:2])] = json.load(open(f))
        for f in files:
            n = int(os.path.basename(f)[:2])
            name = os.path.basename(f)
            self.setup(n)
            errs = self.run_case(n, self.cases[n])
            if errs:
                self.failures.append(name)
                print("FAIL %s" % name)
                for e in errs[:25]:
                    print("    " + e)
            else:
                print("ok   %s" % name)
        return self.failures

    def run_case(self, n, case):
        r = case["request"]
        q = self.subst(n, r.get("query") or {})
        body = self.subst(n, r["body"]) if r.get("body") is not None else None
        headers = dict(r.get("headers") or {})
        ctype = headers.pop("Content-Type", "application/json")
        token = "admin"
        if n == 53:
            token = "not-a-valid-token"
        elif n == 54:
            token = None
        elif n == 55:
            token = self.saved["sa_token"]
        exp = case["response"]
        if isinstance(exp["body"], list) and "watch" in q:
            steps = self.background(n)

            def kick():
                def run():
                    t0 = time.monotonic()
                    for (at, fn) in steps:
                        time.sleep(max(0, at - (time.monotonic() - t0)))
                        fn()
                threading.Thread(target=run, daemon=True).start()
            st, hdrs, act = self.emu.watch_lines(r["path"], q, token=token, headers=headers,
                                                 on_open=kick)
            errs = []
        else:
            st, hdrs, act = self.emu.req(r["method"], r["path"], body, query=q, ctype=ctype,
                                         headers=headers, token=token)
            errs = []
        self.saved[str(n)] = act
        expected = json.loads(json.dumps(exp["body"]))
        strip_openshift(expected)
        self.adjust(n, expected, act)
        if st != exp["status"]:
            errs.append("status: expected %d, got %d" % (exp["status"], st))
        ect = exp["headers"].get("Content-Type")
        act_ct = header(hdrs, "Content-Type")
        if ect != act_ct:
            errs.append("Content-Type: expected %r, got %r" % (ect, act_ct))
        ew = exp["headers"].get("Warning")
        if ew != header(hdrs, "Warning"):
            errs.append("Warning: expected %r, got %r" % (ew, header(hdrs, "Warning")))
        if exp["headers"].get("Transfer-Encoding") and \
                header(hdrs, "Transfer-Encoding") != "chunked":
            errs.append("expected a chunked response")
        compare(expected, act, "body", errs)
        return errs

    def adjust(self, n, exp, act):
        """Apply the KNOWN, documented differences to the expectation."""
        if n == 3:
            for k in ("gitCommit", "buildDate", "goVersion"):
                exp[k] = act.get(k)
        if n == 4:
            exp["serverAddressByClientCIDRs"][0]["serverAddress"] = "127.0.0.1:%d" % \
                self.emu.port
        if n in (5, 8):
            # trimmed by the recorder: compare the kept entries, drop the rest of ours
            names = [x["name"] for x in exp["resources"]]
            act["resources"] = [x for x in act["resources"] if x["name"] in names]
            act["resources"].sort(key=lambda x: names.index(x["name"]))
        if n == 6:
            # groups the emulator does not serve
            ours = [g["name"] for g in act["groups"]]
            exp["groups"] = [g for g in exp["groups"] if g["name"] in ours]
        if n == 7:
            groups = [g["metadata"]["name"] for g in exp["items"]]
            act["items"] = [g for g in act["items"] if g["metadata"]["name"] in groups]
            # apps: the emulator serves no controllerrevisions/daemonsets
            for g_exp, g_act in zip(exp["items"], act["items"]):
                names = {r["resource"] for r in g_act["versions"][0]["resources"]}
                g_exp["versions"][0]["resources"] = [
                    r for r in g_exp["versions"][0]["resources"] if r["resource"] in names]


def main():
    with Emu(cluster=False) as emu:
        failures = Replay(emu).run()
    if failures:
        print("%d recorded case(s) differ: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("all recorded cases match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
