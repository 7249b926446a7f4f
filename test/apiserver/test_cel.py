#!/usr/bin/python3
"""Unit tests of cel.py (the emulator's CEL subset) and of its use by validation.py:
x-kubernetes-validations on every rule of crds/*.yaml, list-type map/set uniqueness."""

import glob
import io
import os
import sys
import unittest
from contextlib import redirect_stderr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cel  # noqa: E402
import validation  # noqa: E402

SRC = os.environ.get("MBCAS_SOURCE_DIR", os.path.join(HERE, "..", ".."))


def ev(text, **variables):
    return cel.compile_rule(text).eval(variables)


class ParseTest(unittest.TestCase):
    def test_literals(self):
        self.assertEqual(ev("1"), 1)
        self.assertEqual(ev("2u"), 2)
        self.assertEqual(ev("0x10"), 16)
        self.assertEqual(ev("1.5"), 1.5)
        self.assertEqual(ev("1e3"), 1000.0)
        self.assertEqual(ev("'a\\'b'"), "a'b")
        self.assertEqual(ev('"x\\ny"'), "x\ny")
        self.assertEqual(ev("r'a\\n'"), "a\\n")
        self.assertEqual(ev("'''multi'line'''"), "multi'line")
        self.assertIs(ev("true"), True)
        self.assertIsNone(ev("null"))
        self.assertEqual(ev("[1, 'a', [true]]"), [1, "a", [True]])
        self.assertEqual(ev("{'a': 1}"), {"a": 1})
        self.assertEqual(ev("-3"), -3)

    def test_precedence(self):
        self.assertEqual(ev("1 + 2 * 3"), 7)
        self.assertEqual(ev("(1 + 2) * 3"), 9)
        self.assertEqual(ev("10 - 4 - 3"), 3)
        self.assertIs(ev("1 < 2 == true"), True)
        self.assertIs(ev("true || false && false"), True)
        self.assertEqual(ev("false ? 1 : true ? 2 : 3"), 2)
        self.assertEqual(ev("1 > 2 || 2 > 1 ? 'y' : 'n'"), "y")
        self.assertIs(ev("!true || !false"), True)
        self.assertEqual(ev("-(1 + 2)"), -3)

    def test_unsupported_syntax(self):
        for text in ("self.a ++ 1", "self.", "a ? b", "b'bytes'", "self.a)", ".x", "a @ b", ""):
            with self.assertRaises(cel.Unsupported, msg=text):
                cel.compile_rule(text)


class EvalTest(unittest.TestCase):
    def test_self_fields_and_has(self):
        s = {"a": 1, "b": {"c": "x"}}
        self.assertIs(ev("has(self.a) && !has(self.z)", self=s), True)
        self.assertIs(ev("has(self.b.c)", self=s), True)
        self.assertEqual(ev("self.b['c']", self=s), "x")
        with self.assertRaisesRegex(cel.EvalError, "no such key: z"):
            ev("self.z == 1", self=s)
        with self.assertRaisesRegex(cel.EvalError, "no such key: c"):
            ev("self.z.c", self={"z": {}})

    def test_logic_absorbs_errors_like_cel(self):
        s = {}
        self.assertIs(ev("self.x == 1 || true", self=s), True)
        self.assertIs(ev("false && self.x == 1", self=s), False)
        self.assertIs(ev("self.x == 1 && false", self=s), False)
        with self.assertRaises(cel.EvalError):
            ev("self.x == 1 || false", self=s)

    def test_numbers(self):
        self.assertEqual(ev("7 / 2"), 3)
        self.assertEqual(ev("-7 / 2"), -3)
        self.assertEqual(ev("-7 % 2"), -1)
        self.assertEqual(ev("7.0 / 2.0"), 3.5)
        self.assertIs(ev("1 == 1.0"), True)
        self.assertIs(ev("1 < 1.5"), True)
        with self.assertRaisesRegex(cel.EvalError, "no such overload"):
            ev("1 + 1.0")
        with self.assertRaisesRegex(cel.EvalError, "division by zero"):
            ev("1 / 0")
        with self.assertRaisesRegex(cel.EvalError, "integer overflow"):
            ev("9223372036854775807 + 1")
        with self.assertRaisesRegex(cel.EvalError, "no such overload"):
            ev("'a' < 1")

    def test_strings_and_lists(self):
        self.assertEqual(ev("'ab' + 'c'"), "abc")
        self.assertEqual(ev("[1] + [2]"), [1, 2])
        self.assertIs(ev("'b' in ['a', 'b']"), True)
        self.assertIs(ev("'k' in {'k': 1}"), True)
        self.assertEqual(ev("size('héllo')"), 5)
        self.assertEqual(ev("'abc'.size()"), 3)
        self.assertIs(ev("'https://x'.startsWith('https://')"), True)
        self.assertIs(ev("'abc'.endsWith('bc') && 'abc'.contains('b')"), True)
        self.assertIs(ev("'abc'.matches('^a.c$')"), True)
        self.assertEqual(ev("'AbC'.lowerAscii() + 'x'.upperAscii()"), "abcX")
        self.assertEqual(ev("'a,b'.split(',')"), ["a", "b"])
        self.assertEqual(ev("['a', 'b'].join('-')"), "a-b")
        self.assertEqual(ev("string(12) + string(1.5) + string(2.0) + string(true)"),
                         "121.52true")
        self.assertEqual(ev("int('42') + int(2.9)"), 44)
        self.assertEqual(ev("double(1)"), 1.0)
        with self.assertRaisesRegex(cel.EvalError, "index out of bounds"):
            ev("[1][1]")

    def test_macros(self):
        s = {"l": [{"n": "a", "w": 0.5}, {"n": "b", "w": 0.5}], "m": {"x": 1, "y": 2}}
        self.assertIs(ev("self.l.all(e, e.w > 0.0)", self=s), True)
        self.assertIs(ev("self.l.exists(e, e.n == 'b')", self=s), True)
        self.assertIs(ev("self.l.exists_one(e, e.w == 0.5)", self=s), False)
        self.assertEqual(ev("self.l.map(e, e.n)", self=s), ["a", "b"])
        self.assertEqual(ev("self.l.map(e, e.n == 'a', e.w)", self=s), [0.5])
        self.assertEqual(ev("self.l.filter(e, e.n != 'a').size()", self=s), 1)
        self.assertEqual(ev("self.l.map(e, e.w).sum()", self=s), 1.0)
        self.assertEqual(ev("[1, 2, 3].sum()"), 6)
        self.assertEqual(ev("[].sum()"), 0)
        self.assertEqual(ev("[3, 1].min() + [3, 1].max()"), 4)
        self.assertIs(ev("[1, 2, 2].isSorted()"), True)
        self.assertEqual(ev("self.m.all(k, k.size() == 1)", self=s), True)
        # an error on one element is absorbed when another decides the result
        self.assertIs(ev("[{}, {'a': 1}].exists(e, e.a == 1)"), True)
        with self.assertRaises(cel.EvalError):
            ev("[{}, {'a': 2}].exists(e, e.a == 1)")
        # the macro variable does not leak
        with self.assertRaisesRegex(cel.EvalError, "no such attribute: e"):
            ev("[1].all(e, true) && e == 1")
        with self.assertRaisesRegex(cel.EvalError, "no such overload"):
            ev("[1.0, 2].sum()")

    def test_duration(self):
        self.assertIs(ev("duration('90s') == duration('1m30s')"), True)
        self.assertIs(ev("duration('1.5h') > duration('89m')"), True)
        self.assertIs(ev("duration('500ms') < duration('1s')"), True)
        self.assertIs(ev("duration('0') < duration('1ns')"), True)
        self.assertEqual(ev("duration('2h30m').getMinutes()"), 150)
        self.assertEqual(ev("duration('1m') + duration('1s')"), cel.Duration(61 * 10 ** 9))
        self.assertEqual(ev("string(duration('1m'))"), "60s")
        for bad in ("'15 seconds'", "''", "'1'", "'1d'"):
            with self.assertRaisesRegex(cel.EvalError, "invalid duration", msg=bad):
                ev("duration(%s)" % bad)
        with self.assertRaisesRegex(cel.EvalError, "no such overload"):
            ev("duration('1s') < 1")

    def test_quantity(self):
        self.assertEqual(ev("quantity('1').compareTo(quantity('1000m'))"), 0)
        self.assertEqual(ev("quantity('1500m').compareTo(quantity('1'))"), 1)
        self.assertIs(ev("quantity('1Ki').isGreaterThan(quantity('1k'))"), True)
        self.assertIs(ev("quantity('100m').isLessThan(quantity('0.2'))"), True)
        self.assertIs(ev("quantity('1e3') == quantity('1k')"), True)
        self.assertEqual(ev("quantity('2').add(quantity('500m')).asApproximateFloat()"), 2.5)
        self.assertEqual(ev("quantity('2').sub(1).asInteger()"), 1)
        self.assertIs(ev("quantity('1500m').isInteger()"), False)
        self.assertEqual(ev("quantity('-5m').sign()"), -1)
        self.assertIs(ev("isQuantity('1.5Gi') && !isQuantity('lots')"), True)
        with self.assertRaisesRegex(cel.EvalError, "quantities must match"):
            ev("quantity('lots')")
        with self.assertRaisesRegex(cel.EvalError, "cannot convert"):
            ev("quantity('1500m').asInteger()")

    def test_unsupported_functions_raise_unsupported(self):
        with self.assertRaises(cel.Unsupported):
            ev("timestamp('2020-01-01T00:00:00Z') > timestamp('2019-01-01T00:00:00Z')")
        with self.assertRaises(cel.Unsupported):
            ev("self.x.bogus()", self={"x": "s"})

    def test_from_json_types(self):
        schema = {"type": "object", "properties": {
            "w": {"type": "number"}, "n": {"type": "integer"},
            "l": {"type": "array", "items": {"type": "number"}},
            "q": {"x-kubernetes-int-or-string": True}}}
        v = cel.from_json({"w": 1, "n": 2.0, "l": [1, 0.5], "q": 3}, schema)
        self.assertIsInstance(v["w"], float)
        self.assertIsInstance(v["n"], int)
        self.assertEqual([type(x) for x in v["l"]], [float, float])
        self.assertIsInstance(v["q"], int)


class ValidationTest(unittest.TestCase):
    def causes(self, obj, schema):
        out = []
        validation.validate_all(obj, schema, out)
        return [c.to_dict() for c in out]

    def test_rule_at_node_with_field_path_reason_and_messages(self):
        schema = {"type": "object", "properties": {"spec": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"},
                           "d": {"type": "string", "x-kubernetes-validations": [
                               {"rule": "duration(self) >= duration('1s')"}]}},
            "x-kubernetes-validations": [
                {"rule": "self.a < self.b", "message": " a below b ", "fieldPath": ".a"},
                {"rule": "self.a != 5", "reason": "FieldValueForbidden", "message": "no 5"},
                {"rule": "self.a != 6", "reason": "FieldValueRequired", "message": "no 6",
                 "fieldPath": "['b']"},
                {"rule": "self.a != 7", "reason": "FieldValueDuplicate"},
                {"rule": "self.a != 8", "message": "static",
                 "messageExpression": "'a is ' + string(self.a)"},
                {"rule": "self.a != 9", "message": "static",
                 "messageExpression": "self.nope + 'x'"}]}}}
        self.assertEqual(self.causes({"spec": {"a": 1, "b": 2, "d": "2s"}}, schema), [])
        self.assertEqual(self.causes({"spec": {"a": 3, "b": 2, "d": "10ms"}}, schema), [
            {"reason": "FieldValueInvalid", "message": 'Invalid value: "object": a below b',
             "field": "spec.a"},
            {"reason": "FieldValueInvalid",
             "message": "Invalid value: \"string\": failed rule: duration(self) >= duration('1s')",
             "field": "spec.d"}])
        self.assertEqual(self.causes({"spec": {"a": 5, "b": 9}}, schema)[0],
                         {"reason": "FieldValueForbidden", "message": "Forbidden: no 5",
                          "field": "spec"})
        self.assertEqual(self.causes({"spec": {"a": 6, "b": 9}}, schema)[0],
                         {"reason": "FieldValueRequired", "message": "Required value: no 6",
                          "field": "spec.b"})
        self.assertEqual(self.causes({"spec": {"a": 7, "b": 9}}, schema)[0],
                         {"reason": "FieldValueDuplicate", "message": 'Duplicate value: "object"',
                          "field": "spec"})
        self.assertEqual(self.causes({"spec": {"a": 8, "b": 9}}, schema)[0]["message"],
                         'Invalid value: "object": a is 8')
        self.assertEqual(self.causes({"spec": {"a": 9, "b": 10}}, schema)[0]["message"],
                         'Invalid value: "object": static')

    def test_runtime_error_is_reported_at_the_node(self):
        schema = {"type": "object", "properties": {"spec": {
            "type": "object", "properties": {"a": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "self.a > 0", "fieldPath": ".a"}]}}}
        self.assertEqual(self.causes({"spec": {}}, schema), [
            {"reason": "FieldValueInvalid",
             "message": 'Invalid value: "object": no such key: a evaluating rule: self.a > 0',
             "field": "spec"}])

    def test_blocking_openapi_error_skips_cel(self):
        schema = {"type": "object", "properties": {"spec": {
            "type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "false"}]}}}
        got = self.causes({"spec": {}}, schema)
        self.assertEqual([c["field"] for c in got], ["spec.a", "<nil>"])
        self.assertIn("some validation rules were not checked", got[1]["message"])

    def test_unsupported_rule_logged_once_and_accepted(self):
        schema = {"type": "object", "properties": {"spec": {
            "type": "object", "x-kubernetes-validations": [
                {"rule": "timestamp(self.t) > timestamp('2000-01-01T00:00:00Z')"},
                {"rule": "self.x ** 2"}]}}}
        err = io.StringIO()
        with redirect_stderr(err):
            self.assertEqual(self.causes({"spec": {"t": "x"}}, schema), [])
            self.assertEqual(self.causes({"spec": {"t": "y"}}, schema), [])
        self.assertEqual(err.getvalue().count("CEL rule not evaluated"), 2)

    def test_transition_rules_need_the_old_object(self):
        causes = []
        validation.cel_rule({"rule": "self == oldSelf", "message": "immutable"}, "b", "spec.x",
                            causes, {"type": "string"})
        self.assertEqual(causes, [])
        validation.cel_rule({"rule": "self == oldSelf", "message": "immutable"}, "b", "spec.x",
                            causes, {"type": "string"}, old="a")
        self.assertEqual(causes[0].to_dict()["message"], 'Invalid value: "string": immutable')

    def test_list_types(self):
        schema = {"type": "object", "properties": {
            "m": {"type": "array", "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["port", "name"],
                  "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                             "port": {"type": "integer"}}}},
            "s": {"type": "array", "x-kubernetes-list-type": "set",
                  "items": {"type": "string"}},
            "a": {"type": "array", "x-kubernetes-list-type": "atomic",
                  "items": {"type": "string"}}}}
        obj = {"m": [{"name": "a", "port": 1}, {"name": "a", "port": 2},
                     {"name": "a", "port": 1}],
               "s": ["x", "y", "x"], "a": ["x", "x"]}
        self.assertEqual(self.causes(obj, schema), [
            {"reason": "FieldValueDuplicate", "message": 'Duplicate value: {"name":"a","port":1}',
             "field": "m[2]"},
            {"reason": "FieldValueDuplicate", "message": 'Duplicate value: "x"', "field": "s[2]"}])


class CrdRulesTest(unittest.TestCase):
    """Every rule in crds/*.yaml is inside the subset (parses and never raises Unsupported on
    the samples), so the emulator checks all of them."""

    def test_every_crd_rule_parses(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("python3-yaml missing")
        rules = []

        def walk(s):
            if isinstance(s, dict):
                rules.extend(r["rule"] for r in s.get("x-kubernetes-validations") or [])
                for v in s.values():
                    walk(v)
            elif isinstance(s, list):
                for v in s:
                    walk(v)
        for f in sorted(glob.glob(os.path.join(SRC, "crds", "*.yaml"))):
            with open(f) as fh:
                crd = yaml.safe_load(fh)
            for v in crd["spec"]["versions"]:
                walk(v["schema"]["openAPIV3Schema"])
        self.assertGreaterEqual(len(rules), 10)
        for r in rules:
            cel.compile_rule(r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
