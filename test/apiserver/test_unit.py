#!/usr/bin/python3
"""In-process unit tests of the emulator's modules (store, selectors, patches, validation,
managed fields, protobuf decoding, quantities, tables)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import admission  # noqa: E402
import k8sselectors as sel  # noqa: E402
import kproto  # noqa: E402
import managed  # noqa: E402
import patch  # noqa: E402
import table  # noqa: E402
import validation  # noqa: E402
from store import ApiError, Store, decode_continue, encode_continue  # noqa: E402

PODS = ("", "pods")
CMS = ("", "configmaps")


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.s = Store(history=5, start_rv=100)
        self.events = []
        self.s.subscribe(lambda t, k, o: self.events.append((t, k, o["metadata"]["name"])))

    def test_create_get_update_delete(self):
        o = self.s.create(CMS, {"metadata": {"name": "a", "namespace": "x"}, "data": {}})
        md = o["metadata"]
        self.assertEqual(md["resourceVersion"], "101")
        self.assertNotIn("generation", md)  # configmaps have none
        self.assertEqual(len(md["uid"]), 36)
        with self.assertRaises(ApiError) as e:
            self.s.create(CMS, {"metadata": {"name": "a", "namespace": "x"}})
        self.assertEqual(e.exception.code, 409)
        self.assertEqual(e.exception.reason, "AlreadyExists")
        g = self.s.get(CMS, "x", "a")
        g["data"]["k"] = "v"
        self.assertEqual(self.s.get(CMS, "x", "a")["data"], {})  # get returns a copy
        u = self.s.update(CMS, g)
        self.assertEqual(u["metadata"]["resourceVersion"], "102")
        g["data"]["k"] = "w"
        with self.assertRaises(ApiError) as e:
            self.s.update(CMS, g)  # g still carries rv 101
        self.assertEqual(e.exception.code, 409)
        del g["metadata"]["resourceVersion"]
        self.s.update(CMS, g)  # unconditional
        last, gone = self.s.delete(CMS, "x", "a")
        self.assertTrue(gone)
        self.assertIsNone(self.s.get(CMS, "x", "a"))
        self.assertEqual([t for t, _k, _n in self.events],
                         ["ADDED", "MODIFIED", "MODIFIED", "DELETED"])
        with self.assertRaises(ApiError) as e:
            self.s.delete(CMS, "x", "a")
        self.assertEqual(e.exception.code, 404)

    def test_status_and_generation(self):
        p = self.s.create(PODS, {"metadata": {"name": "p", "namespace": "d"},
                                 "spec": {"a": 1}, "status": {"phase": "Pending"}})
        self.assertEqual(p["metadata"]["generation"], 1)
        p["status"] = {"phase": "Running"}
        p["metadata"]["labels"] = {"x": "y"}
        p = self.s.update(PODS, p)  # main write: status ignored, labels do not bump
        self.assertEqual((p["status"]["phase"], p["metadata"]["generation"]), ("Pending", 1))
        p["status"] = {"phase": "Running"}
        p["spec"] = {"a": 2}
        p = self.s.update(PODS, p, subresource="status")  # status write: spec ignored
        self.assertEqual((p["status"]["phase"], p["spec"]["a"]), ("Running", 1))
        p["spec"] = {"a": 2}
        p = self.s.update(PODS, p)
        self.assertEqual(p["metadata"]["generation"], 2)
        p["spec"] = {"a": 3}
        p["status"] = {"phase": "Succeeded"}
        p = self.s.update(PODS, p, subresource="all")
        self.assertEqual((p["spec"]["a"], p["status"]["phase"]), (3, "Succeeded"))
        before = p["metadata"]["resourceVersion"]
        self.assertEqual(self.s.update(PODS, p)["metadata"]["resourceVersion"], before)

    def test_finalizers_and_owners(self):
        owner = self.s.create(CMS, {"metadata": {"name": "o", "namespace": "x"}})
        ref = [{"uid": owner["metadata"]["uid"], "kind": "ConfigMap", "name": "o"}]
        self.s.create(CMS, {"metadata": {"name": "d", "namespace": "x",
                                         "ownerReferences": ref, "finalizers": ["f"]}})
        self.s.delete(CMS, "x", "o")
        d = self.s.get(CMS, "x", "d")
        self.assertIn("deletionTimestamp", d["metadata"])  # kept by its finalizer
        d["metadata"]["finalizers"] = []
        self.s.update(CMS, d)
        self.assertIsNone(self.s.get(CMS, "x", "d"))

    def test_watch_window_and_list_page(self):
        w, init = self.s.watch(CMS, None, None)
        self.assertEqual(init, [])
        for i in range(8):
            self.s.create(CMS, {"metadata": {"name": "c%d" % i, "namespace": "n%d" % (i % 2)}})
        evs = [w.get(timeout=1) for _ in range(8)]
        self.assertEqual([e[0] for e in evs], ["ADDED"] * 8)
        w.close()
        with self.assertRaises(ApiError) as e:
            self.s.watch(CMS, None, "101")  # history 5: rv 101 fell out
        self.assertEqual(e.exception.code, 410)
        _w2, init = self.s.watch(CMS, "n1", "105")
        self.assertEqual([o["metadata"]["name"] for _t, _k, o, _rv, _p in init], ["c5", "c7"])
        _w2.close()
        items, rv, last, remaining = self.s.list_page(CMS, None, None, 3, None)
        self.assertEqual([o["metadata"]["name"] for o in items], ["c0", "c2", "c4"])
        self.assertEqual((last, remaining), (("n0", "c4"), 5))
        items, rv, last, remaining = self.s.list_page(CMS, "n1", None, 0, None)
        self.assertEqual(len(items), 4)
        self.assertIsNone(last)
        self.s.compact()
        with self.assertRaises(ApiError):
            self.s.watch(CMS, None, "107")

    def test_continue_token(self):
        tok = encode_continue(42, "w2")
        self.assertEqual(decode_continue(tok), (42, "w2"))
        self.assertTrue(tok.startswith("eyJ2Ijoib"))
        with self.assertRaises(ApiError):
            decode_continue("!!!")


class SelectorTest(unittest.TestCase):
    def test_label_selectors(self):
        labels = {"metadata": {"labels": {"app": "web", "tier": "front"}}}
        for s, want in (("app=web", True), ("app!=web", False), ("app in (a,web)", True),
                        ("tier notin (front)", False), ("app,!missing", True),
                        ("missing", False), ("", True), ("app==web,tier=front", True)):
            self.assertEqual(sel.matches_labels(sel.parse_label_selector(s), labels), want, s)
        with self.assertRaises(ApiError) as e:
            sel.parse_label_selector("app in (demo")
        self.assertEqual(e.exception.message,
                         "unable to parse requirement: found '', expected: ',' or ')'")
        reqs = sel.label_selector_from_dict({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front"]}]})
        self.assertTrue(sel.matches_labels(reqs, labels))
        self.assertEqual(sel.selector_string({"matchLabels": {"b": "2", "a": "1"}}), "a=1,b=2")

    def test_field_selectors(self):
        pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "n"},
               "status": {"phase": "Running"}}
        r = sel.parse_field_selector("spec.nodeName=n,status.phase!=Pending")
        self.assertTrue(sel.matches_fields(r, pod))
        self.assertFalse(sel.matches_fields(sel.parse_field_selector("metadata.name=q"), pod))
        with self.assertRaises(ApiError):
            sel.validate_field_selector(PODS, "Pod", sel.parse_field_selector("spec.x=1"), "v1")


class PatchTest(unittest.TestCase):
    def test_merge(self):
        self.assertEqual(patch.merge_patch({"a": {"b": 1, "c": 2}, "l": [1]},
                                           {"a": {"b": None}, "l": [2]}),
                         {"a": {"c": 2}, "l": [2]})

    def test_json_patch(self):
        doc = {"a": [1, 2], "b": {"c": 1}}
        out = patch.json_patch(doc, [{"op": "add", "path": "/a/1", "value": 9},
                                     {"op": "move", "from": "/b/c", "path": "/d"},
                                     {"op": "test", "path": "/d", "value": 1},
                                     {"op": "copy", "from": "/d", "path": "/e"}])
        self.assertEqual(out, {"a": [1, 9, 2], "b": {}, "d": 1, "e": 1})
        self.assertEqual(doc["a"], [1, 2])
        with self.assertRaises(ApiError):
            patch.json_patch(doc, [{"op": "replace", "path": "/zz", "value": 1}])

    def test_strategic(self):
        t = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}],
                      "tolerations": [{"key": "x"}]},
             "metadata": {"finalizers": ["f1"]}}
        out = patch.strategic_merge(t, {"spec": {"containers": [
            {"name": "b", "image": "2"}, {"name": "a", "$patch": "delete"}],
            "tolerations": [{"key": "y"}]}, "metadata": {"finalizers": ["f2"]}})
        self.assertEqual(out["spec"]["containers"], [{"name": "b", "image": "2"}])
        self.assertEqual(out["spec"]["tolerations"], [{"key": "y"}])
        self.assertEqual(out["metadata"]["finalizers"], ["f1", "f2"])


class ValidationTest(unittest.TestCase):
    SCHEMA = {"type": "object", "properties": {"spec": {"type": "object", "required": ["n"],
                                                        "properties": {
                                                            "n": {"type": "integer",
                                                                  "minimum": 1, "default": 3},
                                                            "s": {"type": "string",
                                                                  "enum": ["a", "b"]}}}}}

    def test_defaults_prune_validate(self):
        obj = {"spec": {"s": "a", "x": 1}, "y": 2}
        unknown = []
        validation.prune(obj, self.SCHEMA, "", unknown, root=True)
        self.assertEqual(sorted(unknown), ["spec.x", "y"])
        validation.apply_defaults(obj, self.SCHEMA)
        self.assertEqual(obj, {"spec": {"s": "a", "n": 3}})
        causes = []
        validation.validate({"spec": {"n": 0, "s": "c"}}, self.SCHEMA, "", causes)
        self.assertEqual([c.reason for c in causes],
                         ["FieldValueInvalid", "FieldValueNotSupported"])
        err = validation.invalid_error("Thing", "demo.test", "t", causes)
        self.assertTrue(err.message.startswith('Thing.demo.test "t" is invalid: [spec.n: '))
        self.assertEqual(validation.go_value(1.0), "1")


class JsonPathCelTest(unittest.TestCase):
    def test_get_path(self):
        o = {"status": {"conditions": [{"type": "A", "status": "False"},
                                       {"type": "Ready", "status": "True"}]},
             "spec": {"l": [1, 2]}}
        self.assertEqual(validation.get_path(o, '.status.conditions[?(@.type=="Ready")].status'),
                         (True, "True"))
        self.assertEqual(validation.get_path(o, ".spec.l[1]"), (True, 2))
        self.assertEqual(validation.get_path(o, ".spec.l[*]"), (True, 1))
        self.assertEqual(validation.get_path(o, ".spec.nope"), (False, None))

    def test_cel_subset(self):
        causes = []
        rule = {"rule": "!has(self.max) || self.min <= self.max", "message": "bad",
                "fieldPath": ".min", "reason": "FieldValueForbidden"}
        validation.cel_subset(rule, {"min": 1}, "spec", causes)
        validation.cel_subset(rule, {"min": 1, "max": 2}, "spec", causes)
        self.assertEqual(causes, [])
        validation.cel_subset(rule, {"min": 3, "max": 2}, "spec", causes)
        self.assertEqual(causes[0].to_dict(), {"reason": "FieldValueForbidden",
                                               "message": "Forbidden: bad",
                                               "field": "spec.min"})
        validation.cel_subset({"rule": "size(self.x) > 0"}, {"x": []}, "spec", causes)
        self.assertEqual(causes[1].to_dict(), {"reason": "FieldValueInvalid",
                                               "message": 'Invalid value: "object": failed rule: '
                                                          'size(self.x) > 0', "field": "spec"})
        validation.cel_subset({"rule": "self.x.bogusFunction()"}, {"x": []}, "spec", causes)
        validation.cel_subset({"rule": "self.x ++ 1"}, {"x": []}, "spec", causes)
        self.assertEqual(len(causes), 2)  # outside the subset -> logged and not evaluated


class ManagedFieldsTest(unittest.TestCase):
    def test_update_moves_ownership(self):
        old = {"apiVersion": "x/v1", "kind": "W", "metadata": {"name": "a"},
               "spec": {"a": 1, "b": 1}}
        managed.update_managed_fields(None, old, "m1", "Update", None, "x/v1", False)
        self.assertEqual(old["metadata"]["managedFields"][0]["fieldsV1"],
                         {"f:spec": {".": {}, "f:a": {}, "f:b": {}}})
        new = {"apiVersion": "x/v1", "kind": "W", "metadata": dict(old["metadata"]),
               "spec": {"a": 2, "b": 1}}
        managed.update_managed_fields(old, new, "m2", "Update", None, "x/v1", False)
        mf = {m["manager"]: m["fieldsV1"] for m in new["metadata"]["managedFields"]}
        self.assertEqual(mf["m1"], {"f:spec": {".": {}, "f:b": {}}})
        self.assertEqual(mf["m2"], {"f:spec": {"f:a": {}}})
        paths = managed.field_paths({"kind": "Pod", "metadata": {"finalizers": ["a/b"]},
                                     "spec": {"containers": [{"name": "c", "image": "i"}]}},
                                    True, "main")
        self.assertIn(("f:metadata", "f:finalizers", 'v:"a/b"'), paths)
        self.assertIn(("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"), paths)


class AdmissionTest(unittest.TestCase):
    def test_quantities_and_qos(self):
        q = admission.parse_quantity
        self.assertEqual(q("200m"), q("0.2"))
        self.assertEqual(q("1Gi"), 1024 ** 3)
        self.assertEqual(q("1e3"), 1000)
        guaranteed = {"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}
        self.assertEqual(admission.qos_class(guaranteed), "Guaranteed")
        self.assertEqual(admission.qos_class({"containers": [{}]}), "BestEffort")
        self.assertEqual(admission.qos_class(
            {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}), "Burstable")

    def test_resize_only_takes_resources(self):
        old = {"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                                      "requests": {"cpu": "1",
                                                                   "memory": "1Gi"}}}]},
            "status": {"qosClass": "Guaranteed"}}
        new = admission.apply_resize(old, {"spec": {"containers": [
            {"name": "c", "image": "b", "resources": {"limits": {"cpu": "2",
                                                                 "memory": "1Gi"}}}]}})
        c = new["spec"]["containers"][0]
        self.assertEqual((c["image"], c["resources"]["requests"]["cpu"]), ("a", "2"))
        admission.validate_resize(old, new)
        lower = admission.apply_resize(old, {"spec": {"containers": [
            {"name": "c", "resources": {"limits": {"cpu": "1", "memory": "512Mi"},
                                        "requests": {"cpu": "1", "memory": "512Mi"}}}]}})
        with self.assertRaises(ApiError) as e:
            admission.validate_resize(old, lower)
        self.assertIn("memory limits cannot be decreased", e.exception.message)


class ProtoTableTest(unittest.TestCase):
    def test_kproto_configmap(self):
        def fld(n, payload):
            return bytes([(n << 3) | 2, len(payload)]) + payload
        meta = fld(1, b"cm1") + fld(11, fld(1, b"app") + fld(2, b"x"))
        raw = fld(1, meta) + fld(2, fld(1, b"k") + fld(2, b"v"))
        body = kproto.MAGIC + fld(1, fld(1, b"v1") + fld(2, b"ConfigMap")) + fld(2, raw)
        self.assertEqual(kproto.decode(body), {"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "cm1",
                                                            "labels": {"app": "x"}},
                                               "data": {"k": "v"}})
        with self.assertRaises(ApiError) as e:
            kproto.decode(kproto.MAGIC + fld(1, fld(2, b"Deployment")))
        self.assertEqual(e.exception.code, 415)

    def test_human_duration(self):
        self.assertEqual([table.human_duration(s) for s in (5, 119, 150, 700, 3 * 3600 + 60,
                                                            30 * 3600, 3 * 86400)],
                         ["5s", "119s", "2m30s", "11m", "3h1m", "30h", "3d"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
