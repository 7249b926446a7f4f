#!/usr/bin/python3
"""Raw-HTTP tests of the emulator beyond the recorded cases: scenario loading, RBAC from the
scenario, faults, watch semantics, selectors, pagination, cascading deletion, patches,
server-side apply, dry-run, CRD lifecycle and validation keywords."""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emutest import Emu, header  # noqa: E402

RBAC = "rbac.authorization.k8s.io/v1"

THING_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "things.demo.test"},
    "spec": {"group": "demo.test", "scope": "Namespaced",
             "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object",
                                        "x-kubernetes-validations": [
                                            # guarded: on the real server `self.min`
                                            # on an absent field is a "no such key" error
                                            {"rule": "!has(self.min) || !has(self.max) || "
                                                     "self.min <= self.max",
                                             "message": "min must not exceed max"}],
                                        "properties": {
                                            "min": {"type": "integer"},
                                            "max": {"type": "integer"},
                                            "name": {"type": "string", "pattern": "^[a-z]+$",
                                                     "maxLength": 8, "minLength": 2},
                                            "port": {"x-kubernetes-int-or-string": True},
                                            "tags": {"type": "array", "maxItems": 2,
                                                     "items": {"type": "string"}},
                                            "free": {"type": "object",
                                                     "x-kubernetes-preserve-unknown-fields":
                                                         True},
                                            "note": {"type": "string", "nullable": True},
                                            "ratio": {"type": "number",
                                                      "exclusiveMaximum": True,
                                                      "maximum": 1}}},
                               "status": {"type": "object", "properties": {
                                   "phase": {"type": "string"},
                                   "count": {"type": "integer"}}}}}}}]}}

SCENARIO = {
    "namespaces": ["team-a", "team-b"],
    "serviceAccounts": ["team-a/reader", {"namespace": "team-b", "name": "ops"}],
    "objects": [
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "pod-reader"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": RBAC, "kind": "RoleBinding",
         "metadata": {"name": "reader-pods", "namespace": "team-a"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "pod-reader"},
         "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "team-a"}]},
        {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "resizer",
                                                         "namespace": "team-b"},
         "rules": [{"apiGroups": [""], "resources": ["pods/resize"], "verbs": ["patch"]},
                   {"apiGroups": ["apps"], "resources": ["deployments/scale"],
                    "verbs": ["get", "update", "patch"]}]},
        {"apiVersion": RBAC, "kind": "RoleBinding",
         "metadata": {"name": "ops-resize", "namespace": "team-b"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "resizer"},
         "subjects": [{"kind": "ServiceAccount", "name": "ops", "namespace": "team-b"}]},
        THING_CRD,
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1",
                                                         "labels": {"zone": "a"}}},
    ],
}


def pod(name, ns="default", labels=None, node=None, cpu="100m"):
    o = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
         "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "resources": {
             "requests": {"cpu": cpu, "memory": "64Mi"},
             "limits": {"cpu": cpu, "memory": "64Mi"}}}]}}
    if labels:
        o["metadata"]["labels"] = labels
    if node:
        o["spec"]["nodeName"] = node
    return o


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emu(scenario=SCENARIO, cluster=False,
                      args=["--history", "50", "--bookmark-interval", "1"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.req("DELETE", "/_emulator/faults")

    def r(self, *a, **kw):
        return self.emu.req(*a, **kw)

    def ok(self, *a, **kw):
        st, h, b = self.emu.req(*a, **kw)
        self.assertLess(st, 300, "%s %s -> %d %s" % (a[0], a[1], st, b))
        return b

    # -------------------------------------------------------------- scenario + auth
    def test_scenario_loaded(self):
        names = [n["metadata"]["name"] for n in self.ok("GET", "/api/v1/namespaces")["items"]]
        for n in ("default", "kube-system", "team-a", "team-b"):
            self.assertIn(n, names)
        self.ok("GET", "/api/v1/nodes/n1")
        self.ok("GET", "/apis/demo.test/v1/namespaces/team-a/things")
        # the default ServiceAccount per namespace, like the SA controller
        for _ in range(50):
            st, _h, _b = self.r("GET", "/api/v1/namespaces/team-a/serviceaccounts/default")
            if st == 200:
                break
            time.sleep(0.05)
        self.assertEqual(st, 200)

    def test_rbac_from_scenario(self):
        tok = self.emu.token_of("team-a", "reader")
        st, _h, b = self.r("GET", "/api/v1/namespaces/team-a/pods", token=tok)
        self.assertEqual(st, 200)
        st, _h, b = self.r("GET", "/api/v1/namespaces/team-b/pods", token=tok)
        self.assertEqual(st, 403)
        self.assertEqual(b["message"], 'pods is forbidden: User "system:serviceaccount:team-a:'
                         'reader" cannot list resource "pods" in API group "" in the namespace '
                         '"team-b"')
        st, _h, b = self.r("POST", "/api/v1/namespaces/team-a/pods", pod("x", "team-a"),
                           token=tok)
        self.assertEqual(st, 403)
        st, _h, b = self.r("GET", "/api/v1/nodes", token=tok)
        self.assertEqual(b["message"], 'nodes is forbidden: User "system:serviceaccount:team-a:'
                         'reader" cannot list resource "nodes" in API group "" at the cluster '
                         'scope')
        # discovery is open to any authenticated user
        st, _h, _b = self.r("GET", "/apis", token=tok)
        self.assertEqual(st, 200)
        # subresource rules
        self.ok("POST", "/api/v1/namespaces/team-b/pods", pod("rp", "team-b", node="n1"))
        ops = self.emu.token_of("team-b", "ops")
        st, _h, b = self.r("PATCH", "/api/v1/namespaces/team-b/pods/rp/resize",
                           {"spec": {"containers": [{"name": "c", "resources": {
                               "requests": {"cpu": "200m"}, "limits": {"cpu": "200m"}}}]}},
                           ctype="application/strategic-merge-patch+json", token=ops)
        self.assertEqual(st, 200, b)
        st, _h, b = self.r("PATCH", "/api/v1/namespaces/team-b/pods/rp",
                           {"metadata": {"labels": {"a": "b"}}},
                           ctype="application/merge-patch+json", token=ops)
        self.assertEqual(st, 403)
        self.assertEqual(b["details"], {"name": "rp", "kind": "pods"})

    def test_unauthenticated(self):
        st, _h, b = self.r("GET", "/api/v1/pods", token="bogus")
        self.assertEqual((st, b["reason"]), (401, "Unauthorized"))
        st, _h, b = self.r("GET", "/version", token=None)
        self.assertEqual(st, 200)
        st, _h, b = self.r("POST", "/_emulator/faults", {"status": 500},
                           token=self.emu.token_of("team-a", "reader"))
        self.assertEqual(st, 403)

    # -------------------------------------------------------------- faults
    def test_fault_429_then_recovers(self):
        self.ok("POST", "/_emulator/faults", {"status": 429, "retryAfter": 1, "count": 2,
                                              "path": "/api/v1/namespaces/default/configmaps"})
        for _ in range(2):
            st, h, b = self.r("GET", "/api/v1/namespaces/default/configmaps")
            self.assertEqual(st, 429)
            self.assertEqual(header(h, "Retry-After"), "1")
            self.assertEqual(b["reason"], "TooManyRequests")
            self.assertEqual(b["details"], {"retryAfterSeconds": 1})
        st, _h, _b = self.r("GET", "/api/v1/namespaces/default/configmaps")
        self.assertEqual(st, 200)
        # other paths were never affected
        self.ok("GET", "/api/v1/namespaces")

    def test_fault_503_verb_filter_and_list(self):
        self.ok("POST", "/_emulator/faults", [{"status": 503, "count": 5, "verb": "create"},
                                              {"latencyMs": 1, "path": "/api/v1/nodes"}])
        self.assertEqual(len(self.ok("GET", "/_emulator/faults")["faults"]), 2)
        self.ok("GET", "/api/v1/nodes")
        st, _h, b = self.r("POST", "/api/v1/namespaces/default/configmaps",
                           {"metadata": {"name": "f503"}})
        self.assertEqual((st, b["reason"]), (503, "ServiceUnavailable"))
        self.ok("DELETE", "/_emulator/faults")
        self.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "f503"}})

    def test_fault_conflicts(self):
        self.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "cf"}})
        self.ok("POST", "/_emulator/faults", {"conflictFraction": 1.0})
        st, _h, b = self.r("PATCH", "/api/v1/namespaces/default/configmaps/cf",
                           {"data": {"a": "b"}}, ctype="application/merge-patch+json")
        self.assertEqual((st, b["reason"]), (409, "Conflict"))
        self.ok("GET", "/api/v1/namespaces/default/configmaps/cf")  # reads unaffected

    def test_fault_drop_watches(self):
        got = {}

        def watch():
            got["res"] = self.emu.watch_lines("/api/v1/namespaces/default/configmaps",
                                              {"watch": "1", "timeoutSeconds": "30"})
        t = threading.Thread(target=watch)
        t.start()
        for _ in range(100):
            if self.ok("GET", "/_emulator/stats")["watches"] > 0:
                break
            time.sleep(0.05)
        self.ok("POST", "/_emulator/faults", {"dropWatches": True})
        t.join(20)
        self.assertFalse(t.is_alive(), "watch was not dropped")
        self.assertEqual(got["res"][0], 200)

    def test_fault_expire_resource_versions(self):
        b = self.ok("GET", "/api/v1/namespaces/default/configmaps")
        rv = b["metadata"]["resourceVersion"]
        self.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "exp"}})
        self.ok("POST", "/_emulator/faults", {"expireResourceVersions": True})
        st, _h, ev = self.emu.watch_lines("/api/v1/namespaces/default/configmaps",
                                          {"watch": "1", "resourceVersion": rv,
                                           "timeoutSeconds": "5"})
        self.assertEqual(st, 200)
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["type"], "ERROR")
        self.assertEqual(ev[0]["object"]["code"], 410)
        self.assertRegex(ev[0]["object"]["message"], r"^too old resource version: \d+ \(\d+\)$")

    def test_fault_spec_shorthand(self):
        import faults
        self.assertEqual(faults.parse_spec("status=429,retryAfter=2,count=3,path=/api"),
                         {"status": 429, "retryAfter": 2, "count": 3, "path": "/api"})
        self.assertEqual(faults.parse_spec('{"latencyMs": 5}'), {"latencyMs": 5})
        st, _h, b = self.r("POST", "/_emulator/faults", {"bogus": 1})
        self.assertEqual(st, 400)

    # -------------------------------------------------------------- watch
    def test_watch_history_window_and_events(self):
        rv = self.ok("GET", "/api/v1/namespaces/default/configmaps")["metadata"][
            "resourceVersion"]
        # watch from rv with a label selector: only matching objects
        res = {}

        def watch():
            res["w"] = self.emu.watch_lines("/api/v1/namespaces/default/configmaps",
                                            {"watch": "1", "resourceVersion": rv,
                                             "labelSelector": "w=yes", "timeoutSeconds": "2"})
        t = threading.Thread(target=watch)
        t.start()
        self.ok("POST", "/api/v1/namespaces/default/configmaps",
                {"metadata": {"name": "wa", "labels": {"w": "yes"}}})
        self.ok("POST", "/api/v1/namespaces/default/configmaps",
                {"metadata": {"name": "wb", "labels": {"w": "no"}}})
        self.ok("DELETE", "/api/v1/namespaces/default/configmaps/wa")
        # wb enters the selection (ADDED) then leaves it (DELETED, with its new state)
        self.ok("PATCH", "/api/v1/namespaces/default/configmaps/wb",
                {"metadata": {"labels": {"w": "yes"}}}, ctype="application/merge-patch+json")
        self.ok("PATCH", "/api/v1/namespaces/default/configmaps/wb",
                {"metadata": {"labels": {"w": "gone"}}}, ctype="application/merge-patch+json")
        t.join(10)
        st, _h, ev = res["w"]
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in ev],
                         [("ADDED", "wa"), ("DELETED", "wa"), ("ADDED", "wb"),
                          ("DELETED", "wb")])
        self.assertEqual(ev[3]["object"]["metadata"]["labels"], {"w": "gone"})
        self.assertEqual(ev[0]["object"]["kind"], "ConfigMap")
        # --history 50: 60 more writes push rv out of the window
        for i in range(60):
            self.ok("PUT", "/api/v1/namespaces/default/configmaps/wb",
                    {"metadata": {"name": "wb"}, "data": {"i": str(i)}})
        st, _h, ev = self.emu.watch_lines("/api/v1/namespaces/default/configmaps",
                                          {"watch": "1", "resourceVersion": rv,
                                           "timeoutSeconds": "2"})
        self.assertEqual(ev[0]["type"], "ERROR")
        self.assertEqual(ev[0]["object"]["reason"], "Expired")
        st, _h, b = self.r("GET", "/api/v1/namespaces/default/configmaps",
                           query={"resourceVersion": rv, "resourceVersionMatch": "Exact"})
        self.assertEqual(st, 410)

    def test_watch_ends_when_client_leaves(self):
        c = self.emu.conn()
        c.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=300",
                  headers={"Authorization": "Bearer " + self.emu.token})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        for _ in range(100):
            if self.ok("GET", "/_emulator/stats")["watches"] > 0:
                break
            time.sleep(0.05)
        before = self.ok("GET", "/_emulator/stats")["watches"]
        r.close()
        c.close()
        for _ in range(100):  # the server notices within its 1 s poll
            if self.ok("GET", "/_emulator/stats")["watches"] < before:
                break
            time.sleep(0.1)
        self.assertLess(self.ok("GET", "/_emulator/stats")["watches"], before)

    def test_watch_bookmarks_periodic_and_initial_events(self):
        self.ok("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "bm"}})
        st, _h, ev = self.emu.watch_lines(
            "/api/v1/namespaces/default/configmaps",
            {"watch": "1", "sendInitialEvents": "true", "allowWatchBookmarks": "true",
             "resourceVersionMatch": "NotOlderThan", "timeoutSeconds": "2"})
        types = [e["type"] for e in ev]
        self.assertIn("ADDED", types)
        marks = [e for e in ev if e["type"] == "BOOKMARK"]
        self.assertTrue(marks)
        self.assertEqual(marks[0]["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"})
        self.assertEqual(set(marks[0]["object"]), {"apiVersion", "kind", "metadata"})

    # -------------------------------------------------------------- lists
    def test_selectors_and_pagination(self):
        for i in range(7):
            ns = "team-a" if i % 2 else "team-b"
            self.ok("POST", "/api/v1/namespaces/%s/pods" % ns,
                    pod("sel-%d" % i, ns, labels={"app": "sel", "idx": str(i)},
                        node="n1" if i < 3 else None))
        pods = lambda **q: [p["metadata"]["name"] for p in  # noqa: E731
                            self.ok("GET", "/api/v1/pods", query=q)["items"]]
        self.assertEqual(sorted(pods(labelSelector="app=sel,idx in (1,2,9)")),
                         ["sel-1", "sel-2"])
        self.assertEqual(len(pods(labelSelector="app==sel,idx notin (1,2)")), 5)
        self.assertEqual(pods(labelSelector="app=sel,!nothere,idx!=0,idx=3"), ["sel-3"])
        self.assertEqual(len(pods(labelSelector="app,idx")), 7)
        self.assertEqual(sorted(pods(fieldSelector="spec.nodeName=n1", labelSelector="app=sel")),
                         ["sel-0", "sel-1", "sel-2"])
        self.assertEqual(len(pods(fieldSelector="status.phase=Pending,spec.nodeName!=n1",
                                  labelSelector="app=sel")), 4)
        self.assertEqual(pods(fieldSelector="metadata.namespace=team-a,metadata.name=sel-5"),
                         ["sel-5"])
        st, _h, b = self.r("GET", "/api/v1/pods", query={"fieldSelector": "spec.bogus=1"})
        self.assertEqual(st, 400)
        # all-namespace pagination: sorted by namespace/name, no duplicates, exact count
        seen, cont, pages = [], None, 0
        while True:
            q = {"limit": "3", "labelSelector": "app=sel"}
            if cont:
                q["continue"] = cont
            b = self.ok("GET", "/api/v1/pods", query=q)
            pages += 1
            seen += ["%s/%s" % (p["metadata"]["namespace"], p["metadata"]["name"])
                     for p in b["items"]]
            cont = b["metadata"].get("continue")
            # like the real server: no remainingItemCount when a selector is used
            self.assertNotIn("remainingItemCount", b["metadata"])
            if not cont:
                break
        self.assertEqual(pages, 3)
        total = len(self.ok("GET", "/api/v1/namespaces/team-a/pods")["items"])
        b = self.ok("GET", "/api/v1/namespaces/team-a/pods", query={"limit": "1"})
        self.assertEqual(b["metadata"]["remainingItemCount"], total - 1)
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(len(set(seen)), 7)
        # Table for pods
        t = self.ok("GET", "/api/v1/namespaces/team-a/pods",
                    headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
        self.assertEqual(t["kind"], "Table")
        self.assertEqual(t["columnDefinitions"][0]["name"], "Name")

    # -------------------------------------------------------------- writes
    def test_cascading_and_orphan_deletion(self):
        owner = self.ok("POST", "/api/v1/namespaces/default/configmaps",
                        {"metadata": {"name": "owner"}})
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
               "uid": owner["metadata"]["uid"]}
        for n in ("dep1", "dep2"):
            self.ok("POST", "/api/v1/namespaces/default/configmaps",
                    {"metadata": {"name": n, "ownerReferences": [ref]}})
        self.ok("DELETE", "/api/v1/namespaces/default/configmaps/owner")
        for n in ("dep1", "dep2"):
            self.assertEqual(self.r("GET", "/api/v1/namespaces/default/configmaps/" + n)[0], 404)
        owner = self.ok("POST", "/api/v1/namespaces/default/configmaps",
                        {"metadata": {"name": "owner2"}})
        ref["uid"] = owner["metadata"]["uid"]
        self.ok("POST", "/api/v1/namespaces/default/configmaps",
                {"metadata": {"name": "dep3", "ownerReferences": [ref]}})
        self.ok("DELETE", "/api/v1/namespaces/default/configmaps/owner2",
                {"propagationPolicy": "Orphan"})
        d = self.ok("GET", "/api/v1/namespaces/default/configmaps/dep3")
        self.assertNotIn("ownerReferences", d["metadata"])

    def test_namespace_deletion_removes_contents(self):
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
        self.ok("POST", "/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "c"}})
        self.ok("DELETE", "/api/v1/namespaces/doomed")
        self.assertEqual(self.r("GET", "/api/v1/namespaces/doomed/configmaps/c")[0], 404)
        st, _h, b = self.r("POST", "/api/v1/namespaces/doomed/configmaps",
                           {"metadata": {"name": "c"}})
        self.assertEqual((st, b["message"]), (404, 'namespaces "doomed" not found'))

    def test_generation_and_dry_run(self):
        d = self.ok("POST", "/apis/apps/v1/namespaces/default/deployments", {
            "metadata": {"name": "gen"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
        self.assertEqual(d["metadata"]["generation"], 1)
        self.assertEqual(d["spec"]["replicas"], 1)
        d = self.ok("PATCH", "/apis/apps/v1/namespaces/default/deployments/gen",
                    {"metadata": {"labels": {"x": "y"}}}, ctype="application/merge-patch+json")
        self.assertEqual(d["metadata"]["generation"], 1)
        d2 = self.ok("PATCH", "/apis/apps/v1/namespaces/default/deployments/gen",
                     {"spec": {"replicas": 3}}, ctype="application/merge-patch+json",
                     query={"dryRun": "All"})
        self.assertEqual(d2["spec"]["replicas"], 3)
        d = self.ok("GET", "/apis/apps/v1/namespaces/default/deployments/gen")
        self.assertEqual((d["spec"]["replicas"], d["metadata"]["generation"]), (1, 1))
        self.ok("DELETE", "/apis/apps/v1/namespaces/default/deployments/gen",
                query={"dryRun": "All"})
        self.ok("GET", "/apis/apps/v1/namespaces/default/deployments/gen")
        # statefulset scale subresource
        self.ok("POST", "/apis/apps/v1/namespaces/default/statefulsets", {
            "metadata": {"name": "ss"},
            "spec": {"serviceName": "ss", "selector": {"matchLabels": {"s": "s"}},
                     "template": {"metadata": {"labels": {"s": "s"}},
                                  "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
        sc = self.ok("PUT", "/apis/apps/v1/namespaces/default/statefulsets/ss/scale",
                     {"apiVersion": "autoscaling/v1", "kind": "Scale",
                      "metadata": {"name": "ss", "namespace": "default"},
                      "spec": {"replicas": 4}})
        self.assertEqual(sc["spec"]["replicas"], 4)
        self.assertEqual(sc["status"]["selector"], "s=s")
        st, _h, b = self.r("PATCH", "/apis/apps/v1/namespaces/default/statefulsets/ss/scale",
                           {"spec": {"replicas": -1}}, ctype="application/merge-patch+json")
        self.assertEqual(st, 422)

    def test_json_patch_and_strategic(self):
        self.ok("POST", "/api/v1/namespaces/default/pods", pod("jp", labels={"a": "1"}))
        p = self.ok("PATCH", "/api/v1/namespaces/default/pods/jp",
                    [{"op": "add", "path": "/metadata/labels/b", "value": "2"},
                     {"op": "remove", "path": "/metadata/labels/a"}],
                    ctype="application/json-patch+json")
        self.assertEqual(p["metadata"]["labels"], {"b": "2"})
        st, _h, b = self.r("PATCH", "/api/v1/namespaces/default/pods/jp",
                           [{"op": "remove", "path": "/metadata/labels/zzz"}],
                           ctype="application/json-patch+json")
        self.assertEqual(st, 500)
        self.assertIn("remove operation does not apply", b["message"])
        p = self.ok("PATCH", "/api/v1/namespaces/default/pods/jp",
                    {"spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}},
                    ctype="application/strategic-merge-patch+json")
        c = p["spec"]["containers"][0]
        self.assertEqual((c["image"], c["resources"]["limits"]["cpu"]), ("nginx:1.28", "100m"))
        st, _h, b = self.r("PATCH", "/api/v1/namespaces/default/pods/jp", {"x": 1},
                           ctype="text/plain")
        self.assertEqual(st, 415)

    def test_binding_and_resize_rules(self):
        self.ok("POST", "/api/v1/namespaces/default/pods", pod("bp"))
        self.ok("POST", "/api/v1/namespaces/default/pods/bp/binding",
                {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bp"},
                 "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}})
        p = self.ok("GET", "/api/v1/namespaces/default/pods/bp")
        self.assertEqual(p["spec"]["nodeName"], "n1")
        st, _h, _b = self.r("POST", "/api/v1/namespaces/default/pods/bp/binding",
                            {"target": {"name": "n1"}})
        self.assertEqual(st, 409)
        # resize keeps QoS Guaranteed when both change together
        p = self.ok("PATCH", "/api/v1/namespaces/default/pods/bp/resize",
                    {"spec": {"containers": [{"name": "c", "resources": {
                        "requests": {"cpu": "1", "memory": "64Mi"},
                        "limits": {"cpu": "1", "memory": "64Mi"}}}]}},
                    ctype="application/strategic-merge-patch+json")
        self.assertEqual(p["status"]["qosClass"], "Guaranteed")
        self.assertEqual(p["spec"]["containers"][0]["resources"]["requests"]["cpu"], "1")
        # PUT on /resize works too (kubectl-style full object)
        p["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "2", "memory": "64Mi"},
                                                   "limits": {"cpu": "2", "memory": "64Mi"}}
        p = self.ok("PUT", "/api/v1/namespaces/default/pods/bp/resize", p)
        self.assertEqual(p["spec"]["containers"][0]["resources"]["limits"]["cpu"], "2")

    def test_server_side_apply_status(self):
        self.ok("POST", "/apis/demo.test/v1/namespaces/default/things",
                {"apiVersion": "demo.test/v1", "kind": "Thing", "metadata": {"name": "t1"},
                 "spec": {"min": 1, "max": 2}})
        body = "apiVersion: demo.test/v1\nkind: Thing\nmetadata:\n  name: t1\n" \
               "status:\n  phase: Ready\n  count: 3\n"
        st, _h, b = self.r("PATCH", "/apis/demo.test/v1/namespaces/default/things/t1/status",
                           body, ctype="application/apply-patch+yaml")
        self.assertEqual(st, 422)  # fieldManager required
        t = self.ok("PATCH", "/apis/demo.test/v1/namespaces/default/things/t1/status", body,
                    ctype="application/apply-patch+yaml",
                    query={"fieldManager": "ctrl", "force": "true"})
        self.assertEqual(t["status"], {"phase": "Ready", "count": 3})
        mf = [m for m in t["metadata"]["managedFields"] if m["manager"] == "ctrl"]
        self.assertEqual((mf[0]["operation"], mf[0]["subresource"]), ("Apply", "status"))
        # apply creates when absent
        t = self.ok("PATCH", "/apis/demo.test/v1/namespaces/default/things/t2",
                    "apiVersion: demo.test/v1\nkind: Thing\nmetadata:\n  name: t2\n"
                    "spec:\n  min: 0\n", ctype="application/apply-patch+yaml",
                    query={"fieldManager": "ctrl"})
        self.assertEqual(t["metadata"]["name"], "t2")

    def test_crd_validation_keywords(self):
        base = "/apis/demo.test/v1/namespaces/default/things"

        def make(spec, name="v", **q):
            return self.r("POST", base, {"apiVersion": "demo.test/v1", "kind": "Thing",
                                         "metadata": {"name": name}, "spec": spec}, query=q)
        st, _h, b = make({"min": 5, "max": 1})
        self.assertEqual(st, 422)
        self.assertEqual(b["details"]["causes"][0]["field"], "spec")
        self.assertIn("min must not exceed max", b["message"])
        st, _h, b = make({"name": "ABC"})
        self.assertIn("spec.name in body should match '^[a-z]+$'", b["message"])
        st, _h, b = make({"name": "abcdefghij"})
        self.assertEqual(b["details"]["causes"][0]["reason"], "FieldValueTooLong")
        st, _h, b = make({"name": "a"})
        self.assertIn("should be at least 2 chars long", b["message"])
        st, _h, b = make({"tags": ["a", "b", "c"]})
        self.assertEqual(b["details"]["causes"][0]["message"],
                         "Too many: 3: must have at most 2 items")
        st, _h, b = make({"ratio": 1})
        self.assertIn("should be less than 1", b["message"])
        st, _h, b = make({"port": True})
        self.assertEqual(st, 422)
        st, _h, b = make({"port": "http", "free": {"any": {"thing": 1}}, "note": None,
                          "extra": 1}, name="okthing")
        self.assertEqual(st, 201, b)
        self.assertEqual(b["spec"]["free"], {"any": {"thing": 1}})
        self.assertNotIn("extra", b["spec"])
        st, _h, b = make({"extra": 1}, name="strict", fieldValidation="Strict")
        self.assertEqual(st, 400)
        self.assertIn('strict decoding error: unknown field "spec.extra"', b["message"])

    def test_crd_delete_removes_resource(self):
        crd = json.loads(json.dumps(THING_CRD))
        crd["metadata"]["name"] = "temps.demo.test"
        crd["spec"]["names"] = {"plural": "temps", "singular": "temp", "kind": "Temp"}
        self.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        self.ok("POST", "/apis/demo.test/v1/namespaces/default/temps",
                {"apiVersion": "demo.test/v1", "kind": "Temp", "metadata": {"name": "x"}})
        names = [r["name"] for r in self.ok("GET", "/apis/demo.test/v1")["resources"]]
        self.assertIn("temps", names)
        self.ok("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                "temps.demo.test")
        st, _h, _b = self.r("GET", "/apis/demo.test/v1/namespaces/default/temps")
        self.assertEqual(st, 404)
        names = [r["name"] for r in self.ok("GET", "/apis/demo.test/v1")["resources"]]
        self.assertNotIn("temps", names)

    def test_finalizer_blocks_deletion_of_builtin(self):
        self.ok("POST", "/api/v1/namespaces/default/configmaps",
                {"metadata": {"name": "fin", "finalizers": ["x/y"]}})
        b = self.ok("DELETE", "/api/v1/namespaces/default/configmaps/fin")
        self.assertIn("deletionTimestamp", b["metadata"])
        b = self.ok("GET", "/api/v1/namespaces/default/configmaps/fin")
        b["metadata"]["finalizers"] = []
        self.ok("PUT", "/api/v1/namespaces/default/configmaps/fin", b)
        self.assertEqual(self.r("GET", "/api/v1/namespaces/default/configmaps/fin")[0], 404)

    def test_metrics_without_cluster(self):
        st, _h, _b = self.r("GET", "/apis/metrics.k8s.io/v1beta1/nodes")
        self.assertEqual(st, 404)
        groups = [g["name"] for g in self.ok("GET", "/apis")["groups"]]
        self.assertNotIn("metrics.k8s.io", groups)

    def test_partial_object_metadata(self):
        h = {"Accept": "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"}
        b = self.ok("GET", "/api/v1/namespaces", headers=h)
        self.assertEqual(b["kind"], "PartialObjectMetadataList")
        self.assertEqual(set(b["items"][0]), {"kind", "apiVersion", "metadata"})
        h = {"Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"}
        b = self.ok("GET", "/api/v1/namespaces/default", headers=h)
        self.assertEqual((b["kind"], b["metadata"]["name"]), ("PartialObjectMetadata",
                                                             "default"))

    def test_chunked_request_body(self):
        c = self.emu.conn()
        body = json.dumps({"metadata": {"name": "chunky"}, "data": {"a": "b"}}).encode()
        c.putrequest("POST", "/api/v1/namespaces/default/configmaps")
        c.putheader("Authorization", "Bearer " + self.emu.token)
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for part in (body[:10], body[10:]):
            c.send(b"%x\r\n%s\r\n" % (len(part), part))
        c.send(b"0\r\n\r\n")
        r = c.getresponse()
        self.assertEqual(r.status, 201, r.read())
        r.read()
        c.close()
        self.assertEqual(self.ok("GET", "/api/v1/namespaces/default/configmaps/chunky")["data"],
                         {"a": "b"})

    def test_openapi(self):
        idx = self.ok("GET", "/openapi/v3")
        self.assertIn("apis/demo.test/v1", idx["paths"])
        url = idx["paths"]["apis/demo.test/v1"]["serverRelativeURL"]
        doc = self.ok("GET", url.split("?")[0])
        self.assertIn("test.demo.v1.Thing", doc["components"]["schemas"])
        st, h, raw = self.r("GET", "/openapi/v2", raw=True, headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
        self.assertEqual(st, 200)
        self.assertTrue(raw.startswith(b"\x0a\x032.0"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
