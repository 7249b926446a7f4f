"""Label and field selectors with the real server's grammar and error messages.

(Not named selectors.py: that would shadow the standard library module used by http.server.)
"""

import re

from store import ApiError


class Requirement:
    def __init__(self, key, op, values):
        self.key, self.op, self.values = key, op, values

    def matches(self, labels):
        has = self.key in labels
        v = labels.get(self.key)
        if self.op in ("=", "=="):
            return has and v == self.values[0]
        if self.op == "!=":
            return not has or v != self.values[0]
        if self.op == "in":
            return has and v in self.values
        if self.op == "notin":
            return not has or v not in self.values
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in (">", "<"):
            try:
                n = int(v)
            except (TypeError, ValueError):
                return False
            return n > int(self.values[0]) if self.op == ">" else n < int(self.values[0])
        return False


_TOKEN = re.compile(r"\s*(\(|\)|,|==|=|!=|!|[^\s(),=!]+)")


def _bad(msg):
    return ApiError(400, "BadRequest", "unable to parse requirement: " + msg)


def parse_label_selector(s):
    """Parse a label selector string into a list of Requirements (AND)."""
    if s is None or not s.strip():
        return []
    toks = []
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            break
        if m.group(1) == "":
            break
        toks.append(m.group(1))
        pos = m.end()
        if not s[pos:].strip():
            break
    reqs = []
    i = 0

    def peek():
        return toks[i] if i < len(toks) else ""

    while i < len(toks):
        neg = False
        if peek() == "!":
            neg = True
            i += 1
        key = peek()
        i += 1
        if not key or key in ("(", ")", ",", "=", "==", "!="):
            raise _bad("found '%s', expected: identifier" % key)
        if neg:
            reqs.append(Requirement(key, "!", []))
        else:
            op = peek()
            if op in ("", ","):
                reqs.append(Requirement(key, "exists", []))
            elif op in ("=", "==", "!=", ">", "<"):
                i += 1
                val = peek()
                if val in (",", ")", "("):
                    val = ""
                else:
                    i += 1
                reqs.append(Requirement(key, op, [val]))
            elif op.lower() in ("in", "notin"):
                i += 1
                if peek() != "(":
                    raise _bad("found '%s', expected: '('" % peek())
                i += 1
                vals = []
                while True:
                    t = peek()
                    if t == "":
                        raise _bad("found '', expected: ',' or ')'")
                    if t == ")":
                        i += 1
                        break
                    if t == ",":
                        i += 1
                        continue
                    vals.append(t)
                    i += 1
                    if peek() not in (",", ")"):
                        raise _bad("found '%s', expected: ',' or ')'" % peek())
                reqs.append(Requirement(key, op.lower(), vals))
            else:
                raise _bad("found '%s', expected: in, notin, =, ==, !=, gt, lt" % op)
        if i < len(toks):
            if peek() != ",":
                raise _bad("found '%s', expected: ','" % peek())
            i += 1
    return reqs


def label_selector_from_dict(sel):
    """metav1.LabelSelector (matchLabels/matchExpressions) -> requirements."""
    reqs = []
    for k, v in sorted((sel or {}).get("matchLabels", {}).items()):
        reqs.append(Requirement(k, "=", [v]))
    for e in (sel or {}).get("matchExpressions", []) or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists",
              "DoesNotExist": "!"}.get(e.get("operator"), "exists")
        reqs.append(Requirement(e.get("key"), op, e.get("values") or []))
    return reqs


def selector_string(sel):
    """metav1.LabelSelector -> the string form used in Scale.status.selector."""
    parts = []
    for k, v in sorted((sel or {}).get("matchLabels", {}).items()):
        parts.append("%s=%s" % (k, v))
    for e in (sel or {}).get("matchExpressions", []) or []:
        op = e.get("operator")
        vals = ",".join(sorted(e.get("values") or []))
        if op == "In":
            parts.append("%s in (%s)" % (e["key"], vals))
        elif op == "NotIn":
            parts.append("%s notin (%s)" % (e["key"], vals))
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts)


def matches_labels(reqs, obj):
    if not reqs:
        return True
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


# ------------------------------------------------------------------ field selectors
def parse_field_selector(s):
    """-> list of (path, op, value), op in '=', '!='."""
    out = []
    if s is None or not s.strip():
        return out
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        if "!=" in part:
            k, v = part.split("!=", 1)
            op = "!="
        elif "==" in part:
            k, v = part.split("==", 1)
            op = "="
        elif "=" in part:
            k, v = part.split("=", 1)
            op = "="
        else:
            raise ApiError(400, "BadRequest",
                           "invalid selector: '%s'; can't understand '%s'" % (s, part))
        out.append((k.strip(), op, v.strip()))
    return out


# fields each resource supports beyond metadata.name / metadata.namespace
FIELD_SUPPORT = {
    ("", "pods"): {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                   "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                   "status.nominatedNodeName"},
    ("", "events"): {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion",
                     "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                     "reportingComponent", "source", "type"},
    ("events.k8s.io", "events"): {"regarding.kind", "regarding.namespace", "regarding.name",
                                  "regarding.uid", "reason", "type", "reportingController"},
    ("", "nodes"): {"spec.unschedulable"},
    ("", "namespaces"): {"status.phase"},
    ("", "secrets"): {"type"},
}


def validate_field_selector(key, rt_kind, reqs, api_version):
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_SUPPORT.get(key, set())
    for (path, _op, _v) in reqs:
        if path not in allowed:
            raise ApiError(400, "BadRequest",
                           'field label not supported: %s' % path)


def _field_value(obj, path):
    if path == "source" and "source" in obj:
        return (obj.get("source") or {}).get("component", "")
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def matches_fields(reqs, obj):
    for (path, op, v) in reqs:
        fv = _field_value(obj, path)
        if op == "=" and fv != v:
            return False
        if op == "!=" and fv == v:
            return False
    return True
