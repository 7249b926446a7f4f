"""CRD structural-schema handling: defaulting, pruning and validation of custom resources.

Supported keywords: type (object/array/string/integer/number/boolean), properties, items,
additionalProperties (schema or bool), required, enum, minimum/maximum (+exclusive*),
multipleOf, pattern, minLength/maxLength, minItems/maxItems, uniqueItems, minProperties/
maxProperties, nullable, default, format (int32/int64 range only), x-kubernetes-int-or-string,
x-kubernetes-preserve-unknown-fields, x-kubernetes-embedded-resource.
x-kubernetes-list-type set/map (uniqueness, "Duplicate value"), x-kubernetes-validations (CEL,
evaluated by cel.py; rules outside its subset are logged once and accepted, see docs/testing.md).
Errors are collected as causes and reported as 422 Invalid in the real server's format.
"""

import json
import re
import sys

import cel
from store import ApiError

META_FIELDS = {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
               "generation", "creationTimestamp", "deletionTimestamp",
               "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
               "finalizers", "managedFields"}


def go_value(v):
    """Render a value the way Go's %#v / field.Invalid prints it in messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)
    if v is None:
        return "null"
    return json.dumps(v, separators=(",", ":"))


def _type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _type_ok(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or \
            (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    return True


class Cause:
    def __init__(self, reason, message, field):
        self.reason, self.message, self.field = reason, message, field

    def to_dict(self):
        return {"reason": self.reason, "message": self.message, "field": self.field}


# ------------------------------------------------------------------ defaulting
def apply_defaults(obj, schema):
    if not isinstance(schema, dict):
        return obj
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        for k, sub in props.items():
            if k not in obj and isinstance(sub, dict) and "default" in sub:
                obj[k] = json.loads(json.dumps(sub["default"]))
        for k, v in list(obj.items()):
            if k in props:
                apply_defaults(v, props[k])
            elif isinstance(schema.get("additionalProperties"), dict):
                apply_defaults(v, schema["additionalProperties"])
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for x in obj:
            apply_defaults(x, schema["items"])
    return obj


# ------------------------------------------------------------------ pruning
def prune(obj, schema, path, unknown, root=False):
    """Drop fields not in the schema; records their paths in unknown (list)."""
    if not isinstance(schema, dict):
        return
    if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
        return
    if isinstance(obj, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        embedded = schema.get("x-kubernetes-embedded-resource")
        for k in list(obj.keys()):
            p = "%s.%s" % (path, k) if path else k
            if (root or embedded) and k in ("apiVersion", "kind"):
                continue
            if (root or embedded) and k == "metadata":
                if isinstance(obj[k], dict):
                    for mk in list(obj[k].keys()):
                        if mk not in META_FIELDS:
                            unknown.append("%s.%s" % (p, mk))
                            del obj[k][mk]
                continue
            if props is not None and k in props:
                prune(obj[k], props[k], p, unknown)
            elif isinstance(addl, dict):
                prune(obj[k], addl, p, unknown)
            elif addl is True or schema.get("x-kubernetes-preserve-unknown-fields"):
                continue
            elif props is not None or addl is False or schema.get("type") == "object":
                unknown.append(p)
                del obj[k]
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, x in enumerate(obj):
            prune(x, schema["items"], "%s[%d]" % (path, i), unknown)


# ------------------------------------------------------------------ validation
def validate(obj, schema, path, causes):
    if not isinstance(schema, dict):
        return
    if obj is None:
        if schema.get("nullable"):
            return
        t = schema.get("type")
        if t and not schema.get("x-kubernetes-int-or-string"):
            causes.append(Cause("FieldValueTypeInvalid",
                                'Invalid value: "null": %s in body must be of type %s: "null"'
                                % (path, t), path))
        return
    t = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(obj, str) or _type_ok("integer", obj)):
            causes.append(Cause("FieldValueTypeInvalid",
                                'Invalid value: "%s": %s in body must be of type integer,string: "%s"'
                                % (_type_name(obj), path, _type_name(obj)), path))
            return
    elif t and not _type_ok(t, obj):
        causes.append(Cause("FieldValueTypeInvalid",
                            'Invalid value: "%s": %s in body must be of type %s: "%s"'
                            % (_type_name(obj), path, t, _type_name(obj)), path))
        return
    if "enum" in schema and obj not in schema["enum"]:
        causes.append(Cause("FieldValueNotSupported", "Unsupported value: %s: supported values: %s"
                            % (go_value(obj), ", ".join(go_value(e) for e in schema["enum"])),
                            path))
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        if "maximum" in schema:
            mx = schema["maximum"]
            if schema.get("exclusiveMaximum") and obj >= mx:
                causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should be "
                                    "less than %s" % (go_value(obj), path, go_value(mx)), path))
            elif obj > mx:
                causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should be "
                                    "less than or equal to %s" % (go_value(obj), path,
                                                                  go_value(mx)), path))
        if "minimum" in schema:
            mn = schema["minimum"]
            if schema.get("exclusiveMinimum") and obj <= mn:
                causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should be "
                                    "greater than %s" % (go_value(obj), path, go_value(mn)), path))
            elif obj < mn:
                causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should be "
                                    "greater than or equal to %s" % (go_value(obj), path,
                                                                     go_value(mn)), path))
        if schema.get("multipleOf"):
            m = schema["multipleOf"]
            if (obj / m) != int(obj / m):
                causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should be "
                                    "a multiple of %s" % (go_value(obj), path, go_value(m)), path))
    if isinstance(obj, str):
        if "maxLength" in schema and len(obj) > schema["maxLength"]:
            causes.append(Cause("FieldValueTooLong", "Too long: may not be more than %d bytes"
                                % schema["maxLength"], path))
        if "minLength" in schema and len(obj) < schema["minLength"]:
            causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should be at "
                                "least %d chars long" % (go_value(obj), path,
                                                         schema["minLength"]), path))
        if "pattern" in schema:
            try:
                ok = re.search(schema["pattern"], obj) is not None
            except re.error:
                ok = True
            if not ok:
                causes.append(Cause("FieldValueInvalid", "Invalid value: %s: %s in body should "
                                    "match '%s'" % (go_value(obj), path, schema["pattern"]), path))
    if isinstance(obj, list):
        if "maxItems" in schema and len(obj) > schema["maxItems"]:
            causes.append(Cause("FieldValueTooMany", "Too many: %d: must have at most %d items"
                                % (len(obj), schema["maxItems"]), path))
        if "minItems" in schema and len(obj) < schema["minItems"]:
            causes.append(Cause("FieldValueInvalid", "Invalid value: %d: %s in body should have "
                                "at least %d items" % (len(obj), path, schema["minItems"]), path))
        if schema.get("uniqueItems"):
            seen = []
            for i, x in enumerate(obj):
                if x in seen:
                    causes.append(Cause("FieldValueDuplicate", "Duplicate value: %s"
                                        % go_value(x), "%s[%d]" % (path, i)))
                seen.append(x)
        if isinstance(schema.get("items"), dict):
            for i, x in enumerate(obj):
                validate(x, schema["items"], "%s[%d]" % (path, i), causes)
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        for r in schema.get("required") or []:
            if r not in obj:
                p = "%s.%s" % (path, r) if path else r
                causes.append(Cause("FieldValueRequired", "Required value", p))
        if "maxProperties" in schema and len(obj) > schema["maxProperties"]:
            causes.append(Cause("FieldValueTooMany", "Too many: %d: must have at most %d items"
                                % (len(obj), schema["maxProperties"]), path))
        for k, v in obj.items():
            p = "%s.%s" % (path, k) if path else k
            if k in props:
                validate(v, props[k], p, causes)
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(v, schema["additionalProperties"], p, causes)


_CEL_MSG = {"FieldValueInvalid": 'Invalid value: "%s": %s', "FieldValueForbidden": "Forbidden: %s",
            "FieldValueRequired": "Required value: %s", "FieldValueDuplicate":
            'Duplicate value: "%s"'}

_CEL_SKIPPED = set()   # rules already reported as not evaluated (logged once each)
_CEL_PROGRAMS = {}     # rule text -> cel.Program, or None when outside the subset


def _cel_skip(text, why):
    if text not in _CEL_SKIPPED:
        _CEL_SKIPPED.add(text)
        sys.stderr.write("apiserver emulator: CEL rule not evaluated (%s): %s\n" % (why, text))


def _cel_program(text):
    if text not in _CEL_PROGRAMS:
        try:
            _CEL_PROGRAMS[text] = cel.compile_rule(text)
        except cel.Unsupported as e:
            _CEL_PROGRAMS[text] = None
            _cel_skip(text, e)
        except Exception as e:  # noqa: BLE001 - a parser bug must not take the server down
            _CEL_PROGRAMS[text] = None
            _cel_skip(text, "parser error %r" % e)
    return _CEL_PROGRAMS[text]


def _cel_field(path, field_path):
    """The rule's path plus its fieldPath (".a.b", "['a'].b" or "[0]" forms)."""
    fp = re.sub(r"\['([^']*)'\]", r".\1", field_path or "")
    if not fp:
        return path
    if not path:
        return fp.lstrip(".")
    return path + fp


def cel_rule(rule, obj, path, causes, schema=None, old=None):
    """Evaluate one x-kubernetes-validations rule with `self` bound to obj (the node the
    schema carrying the rule describes), as the API server does. A failed rule adds a cause at
    path + fieldPath with the rule's reason and message (messageExpression when it yields a
    non-empty string), a runtime error adds `<error> evaluating rule: <rule>` at the node path.
    Transition rules (using oldSelf) are evaluated only when old is given; rules outside the
    evaluator's subset are logged once and accepted."""
    text = rule.get("rule", "")
    prog = _cel_program(text)
    if prog is None:
        return
    if "oldSelf" in prog.idents and old is None:
        return  # a transition rule: not checked on create (nor here without the old object)
    typ = (schema or {}).get("type") or ("object" if isinstance(obj, dict) else
                                          "array" if isinstance(obj, list) else _type_name(obj))
    variables = {"self": cel.from_json(obj, schema)}
    if old is not None:
        variables["oldSelf"] = cel.from_json(old, schema)
    try:
        ok = prog.eval(variables)
        if not isinstance(ok, bool):
            raise cel.EvalError("no such overload")
    except cel.Unsupported as e:
        _cel_skip(text, e)
        return
    except cel.EvalError as e:
        detail = str(e)
        if detail.startswith("no such overload"):
            detail = ("'%s': call arguments did not match a supported operator, function or "
                      "macro signature for rule: %s" % (detail, text.strip()))
        else:
            detail = "%s evaluating rule: %s" % (detail, text.strip())
        causes.append(Cause("FieldValueInvalid", _CEL_MSG["FieldValueInvalid"] % (typ, detail),
                            path))
        return
    except Exception as e:  # noqa: BLE001 - an evaluator bug must not take the server down
        _cel_skip(text, "evaluator error %r" % e)
        return
    if ok:
        return
    msg = (rule.get("message") or "").strip() or "failed rule: %s" % text.strip()
    if rule.get("messageExpression"):
        mprog = _cel_program(rule["messageExpression"])
        try:
            m = mprog.eval(variables) if mprog is not None else None
        except Exception:  # noqa: BLE001 - the message falls back to `message`
            m = None
        if isinstance(m, str) and m.strip() and "\n" not in m:
            msg = m.strip()
    field = _cel_field(path, rule.get("fieldPath"))
    reason = rule.get("reason") or "FieldValueInvalid"
    if reason == "FieldValueForbidden":
        text_ = _CEL_MSG[reason] % msg
    elif reason == "FieldValueRequired":
        text_ = _CEL_MSG[reason] % msg
    elif reason == "FieldValueDuplicate":
        text_ = _CEL_MSG[reason] % typ
    else:
        reason = "FieldValueInvalid"
        text_ = _CEL_MSG[reason] % (typ, msg)
    causes.append(Cause(reason, text_, field))


def cel_subset(rule, obj, path, causes):
    """Compatibility name: evaluate one rule on an object node (see cel_rule)."""
    cel_rule(rule, obj, path, causes, {"type": "object"})


def has_cel_rules(schema):
    if not isinstance(schema, dict):
        return False
    if schema.get("x-kubernetes-validations"):
        return True
    subs = list((schema.get("properties") or {}).values())
    for k in ("items", "additionalProperties"):
        if isinstance(schema.get(k), dict):
            subs.append(schema[k])
    return any(has_cel_rules(x) for x in subs)


def validate_cel(obj, schema, path, causes):
    """Every x-kubernetes-validations rule, a node's own rules before its children's."""
    if not isinstance(schema, dict) or obj is None:
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        cel_rule(rule, obj, path, causes, schema)
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for k, v in obj.items():
            p = "%s.%s" % (path, k) if path else k
            if k in props:
                validate_cel(v, props[k], p, causes)
            elif isinstance(addl, dict):
                validate_cel(v, addl, p, causes)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, x in enumerate(obj):
            validate_cel(x, schema["items"], "%s[%d]" % (path, i), causes)


def validate_list_types(obj, schema, path, causes):
    """x-kubernetes-list-type set (unique items) and map (unique x-kubernetes-list-map-keys)."""
    if not isinstance(schema, dict) or obj is None:
        return
    if isinstance(obj, list):
        lt = schema.get("x-kubernetes-list-type")
        if lt == "set":
            seen = []
            for i, x in enumerate(obj):
                if any(x == y and type(x) is type(y) for y in seen):
                    causes.append(Cause("FieldValueDuplicate", "Duplicate value: %s"
                                        % go_value(x), "%s[%d]" % (path, i)))
                else:
                    seen.append(x)
        elif lt == "map":
            keys = schema.get("x-kubernetes-list-map-keys") or []
            seen = []
            for i, x in enumerate(obj):
                if not isinstance(x, dict):
                    continue
                km = {k: x[k] for k in sorted(keys) if k in x}  # Go's JSON sorts map keys
                if km in seen:
                    causes.append(Cause("FieldValueDuplicate", "Duplicate value: %s"
                                        % go_value(km), "%s[%d]" % (path, i)))
                else:
                    seen.append(km)
        if isinstance(schema.get("items"), dict):
            for i, x in enumerate(obj):
                validate_list_types(x, schema["items"], "%s[%d]" % (path, i), causes)
    elif isinstance(obj, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for k, v in obj.items():
            p = "%s.%s" % (path, k) if path else k
            if k in props:
                validate_list_types(v, props[k], p, causes)
            elif isinstance(addl, dict):
                validate_list_types(v, addl, p, causes)


# OpenAPI failures that stop CEL evaluation (apiextensions-apiserver's hasBlockingErr)
_CEL_BLOCKING = {"FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong",
                 "FieldValueTooMany", "FieldValueTypeInvalid"}
_CEL_BLOCKED_MSG = ('Invalid value: "null": some validation rules were not checked because the '
                    'object was invalid; correct the existing errors to complete validation')


def validate_all(body, schema, causes):
    """Schema validation, then list-type uniqueness, then the CEL rules unless a blocking
    OpenAPI error was found (then one `<nil>` cause says the rules were not checked)."""
    validate(body, schema, "", causes)
    validate_list_types(body, schema, "", causes)
    if not has_cel_rules(schema):
        return
    if any(c.reason in _CEL_BLOCKING for c in causes):
        causes.append(Cause("FieldValueInvalid", _CEL_BLOCKED_MSG, "<nil>"))
        return
    validate_cel(body, schema, "", causes)


def invalid_error(kind, group, name, causes):
    qual = "%s.%s" % (kind, group) if group else kind
    parts = ["%s: %s" % (c.field, c.message) for c in causes]
    if len(parts) == 1:
        summary = parts[0]
    else:
        summary = "[" + ", ".join(parts) + "]"
    details = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [c.to_dict() for c in causes]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (qual, name, summary), details)


_JP_TOKEN = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\[\*\]|"
                       r"\[\?\(@\.([A-Za-z0-9_\-]+)\s*==\s*[\"']([^\"']*)[\"']\)\]")


def get_path(obj, jsonpath):
    """Resolve a JSONPath subset: .a.b, [N], [*], [?(@.k=="v")]; first match wins.

    Returns (found, value)."""
    cur = [obj]
    pos = 0
    jp = jsonpath.strip()
    if jp.startswith("{") and jp.endswith("}"):
        jp = jp[1:-1]
    while pos < len(jp):
        m = _JP_TOKEN.match(jp, pos)
        if not m:
            return False, None
        pos = m.end()
        nxt = []
        for c in cur:
            if m.group(1) is not None:
                if isinstance(c, dict) and m.group(1) in c:
                    nxt.append(c[m.group(1)])
            elif m.group(2) is not None:
                i = int(m.group(2))
                if isinstance(c, list) and i < len(c):
                    nxt.append(c[i])
            elif m.group(3) is not None:
                if isinstance(c, list):
                    nxt.extend(x for x in c if isinstance(x, dict) and
                               str(x.get(m.group(3))) == m.group(4))
            elif isinstance(c, list):
                nxt.extend(c)
            elif isinstance(c, dict):
                nxt.extend(c.values())
        cur = nxt
        if not cur:
            return False, None
    return True, cur[0]


def set_path(obj, jsonpath, value):
    parts = [x for x in jsonpath.split(".") if x]
    cur = obj
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def check_custom_resource(rt, obj, field_validation="Warn"):
    """Default, prune and validate a custom resource in place.

    Returns the list of Warning header values; raises ApiError 422 (invalid) or 400 (strict)."""
    version = (obj.get("apiVersion") or "").split("/")[-1] or rt.version
    schema = None
    for v in rt.crd.get("spec", {}).get("versions", []):
        if v.get("name") == version:
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
    warnings = []
    if schema:
        unknown = []
        prune(obj, schema, "", unknown, root=True)
        unknown.sort()
        if unknown and field_validation == "Strict":
            if len(unknown) == 1:
                msg = 'strict decoding error: unknown field "%s"' % unknown[0]
            else:
                msg = "strict decoding error: " + ", ".join('unknown field "%s"' % u
                                                             for u in unknown)
            raise ApiError(400, "BadRequest", "%s in version \"%s\" cannot be handled as a %s: %s"
                           % (rt.kind, version, rt.kind, msg))
        if field_validation != "Ignore":
            warnings = ['299 - "unknown field \\"%s\\""' % u for u in unknown]
        apply_defaults(obj, schema)
        causes = []
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        validate_all(body, schema, causes)
    else:
        causes = []
    if rt.scale:
        found, val = get_path(obj, rt.scale["spec"])
        if found and not (isinstance(val, int) and not isinstance(val, bool)):
            causes.append(Cause("FieldValueInvalid",
                                "Invalid value: 0: %s accessor error: %s is of the type %s, "
                                "expected int64" % (rt.scale["spec"], val if not isinstance(val, str)
                                                    else val, _go_type(val)),
                                rt.scale["spec"]))
    if causes:
        raise invalid_error(rt.kind, rt.group, obj.get("metadata", {}).get("name", ""), causes)
    return warnings


def _go_type(v):
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    return "%T"
