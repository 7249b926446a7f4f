"""minihelm.py - render this project's Helm chart without helm (test-only).

helm cannot be installed on our machines, so the chart tests render templates with
this small subset of Go templates + Sprig: actions with {{- -}} trimming, comments,
define/include, if/else if/else/with/range-free blocks, variables ($x := ...),
pipelines, parentheses, and the functions the chart uses (default, trunc,
trimSuffix, contains, printf, replace, quote, toYaml, nindent, indent, and, or,
not, eq). Anything else raises, so a template that uses more fails loudly here
rather than rendering wrongly. It is deliberately strict, not complete.
"""
import re
import yaml

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


class TemplateError(Exception):
    pass


def _tokenize(src):
    """Split into text and action tokens, applying {{- and -}} whitespace trimming."""
    out, pos = [], 0
    for m in ACTION.finditer(src):
        text = src[pos:m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        out.append(("text", text))
        out.append(("action", m.group(2)))
        pos = m.end()
        if m.group(3):
            while pos < len(src) and src[pos] in " \t\r\n":
                pos += 1
    out.append(("text", src[pos:]))
    return out


def _parse(tokens, i=0, stop=("end",)):
    """Nested node list: ("text", s) | ("expr", e) | ("if", [(cond, body)...], else) | ..."""
    nodes = []
    while i < len(tokens):
        kind, val = tokens[i]
        if kind == "text":
            nodes.append(("text", val))
            i += 1
            continue
        word = val.split(None, 1)[0] if val else ""
        if val.startswith("/*"):
            i += 1
            continue
        if word in ("end", "else"):
            return nodes, i
        if word in ("if", "with"):
            branches, else_body = [], None
            cond = val[len(word):].strip()
            body, i = _parse(tokens, i + 1)
            branches.append((cond, body))
            while tokens[i][1].startswith("else"):
                rest = tokens[i][1][4:].strip()
                if rest.startswith("if "):
                    body, i = _parse(tokens, i + 1)
                    branches.append((rest[3:].strip(), body))
                else:
                    else_body, i = _parse(tokens, i + 1)
            nodes.append((word, branches, else_body))
            i += 1  # the end
            continue
        if word == "define":
            name = val[len("define"):].strip().strip('"')
            body, i = _parse(tokens, i + 1)
            nodes.append(("define", name, body))
            i += 1
            continue
        nodes.append(("expr", val))
        i += 1
    return nodes, i


def _split_pipeline(expr):
    parts, depth, cur, q = [], 0, "", False
    for ch in expr:
        if ch == '"' and not cur.endswith("\\"):
            q = not q
        if not q:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "|" and depth == 0:
                parts.append(cur.strip())
                cur = ""
                continue
        cur += ch
    parts.append(cur.strip())
    return parts


def _args(s):
    toks, i = [], 0
    while i < len(s):
        c = s[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j = i + 1
            while s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            toks.append(("str", s[i + 1:j].encode().decode("unicode_escape")))
            i = j + 1
        elif c == "(":
            depth, j = 1, i + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(s[j], 0)
                j += 1
            toks.append(("sub", s[i + 1:j - 1]))
            i = j
        else:
            j = i
            while j < len(s) and not s[j].isspace():
                j += 1
            toks.append(("word", s[i:j]))
            i = j
    return toks


def _to_yaml(v):
    if v in (None, {}, []):
        return "{}" if v == {} else ("[]" if v == [] else "null")
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(n, s):
    return "\n".join((" " * n + line) if line else line for line in str(s).split("\n"))


class Renderer:
    def __init__(self, values, release_name="mbcas", namespace="mbcas-system", chart=None):
        self.root = {
            "Values": values,
            "Release": {"Name": release_name, "Namespace": namespace, "Service": "Helm"},
            "Chart": chart or {},
            "Files": None,
        }
        self.defines = {}
        self.files = {}

    def load(self, src):
        nodes, _ = _parse(_tokenize(src))
        return nodes

    def collect_defines(self, nodes):
        for n in nodes:
            if n[0] == "define":
                self.defines[n[1]] = n[2]

    # --- evaluation ---------------------------------------------------------------
    def _field(self, dot, path):
        cur = self.root if path.startswith(".") and path[1:2].isupper() and path.split(".")[1] in self.root else dot
        parts = [p for p in path.split(".") if p]
        if cur is self.root:
            pass
        for p in parts:
            if cur is None:
                return None
            if isinstance(cur, dict):
                cur = cur.get(p)
            else:
                raise TemplateError("cannot read field %r of %r" % (p, cur))
        return cur

    def _value(self, tok, dot, env):
        kind, v = tok
        if kind == "str":
            return v
        if kind == "sub":
            return self.pipeline(v, dot, env)
        if v == ".":
            return dot
        if v.startswith("$"):
            name, _, rest = v.partition(".")
            base = env[name]
            return self._field(base, "." + rest) if rest else base
        if v.startswith("."):
            return self._field(dot, v)
        if re.fullmatch(r"-?\d+", v):
            return int(v)
        if v in ("true", "false"):
            return v == "true"
        if v == "nil":
            return None
        return ("func", v)

    def _call(self, name, args, dot, env):
        f = {
            "default": lambda d, v=None: v if v not in (None, "", {}, [], False, 0) else d,
            "trunc": lambda n, s: str(s)[:n],
            "trimSuffix": lambda suf, s: s[: -len(suf)] if suf and str(s).endswith(suf) else s,
            "contains": lambda sub, s: sub in str(s),
            "printf": lambda fmt, *a: fmt.replace("%s", "{}").format(*a),
            "replace": lambda old, new, s: str(s).replace(old, new),
            "quote": lambda s: '"%s"' % s,
            "toYaml": _to_yaml,
            "nindent": lambda n, s: "\n" + _indent(n, s),
            "indent": _indent,
            "and": lambda *a: next((x for x in a if not x), a[-1]),
            "or": lambda *a: next((x for x in a if x), a[-1]),
            "not": lambda x: not x,
            "eq": lambda a, b: a == b,
            "include": lambda name_, ctx: self.render_nodes(self.defines[name_], ctx, {}),
        }.get(name)
        if f is None:
            raise TemplateError("unsupported function %r" % name)
        if name == "include" and args[0] not in self.defines:
            raise TemplateError("include of undefined template %r" % args[0])
        return f(*args)

    def command(self, cmd, dot, env, piped=None, has_pipe=False):
        toks = _args(cmd)
        first = self._value(toks[0], dot, env)
        args = [self._value(t, dot, env) for t in toks[1:]]
        if has_pipe:
            args.append(piped)
        if isinstance(first, tuple) and first[0] == "func":
            if first[1] == ".Files.Get" or (first[1] == "Get"):
                raise TemplateError("unsupported")
            return self._call(first[1], args, dot, env)
        if args:
            raise TemplateError("value %r given arguments" % cmd)
        return first

    def pipeline(self, expr, dot, env):
        m = re.match(r"^(\$\w+)\s*:?=\s*(.*)$", expr, re.S)
        if m:
            env[m.group(1)] = self.pipeline(m.group(2), dot, env)
            return ""
        if expr.startswith(".Files.Get "):
            path = self._value(_args(expr[len(".Files.Get "):].split("|")[0])[0], dot, env)
            val = self.files.get(path, "")
            rest = _split_pipeline(expr)[1:]
            for cmd in rest:
                val = self.command(cmd, dot, env, val, True)
            return val
        val, has = None, False
        for cmd in _split_pipeline(expr):
            val = self.command(cmd, dot, env, val, has)
            has = True
        return val

    def render_nodes(self, nodes, dot, env):
        out = []
        for n in nodes:
            if n[0] == "text":
                out.append(n[1])
            elif n[0] == "expr":
                v = self.pipeline(n[1], dot, env)
                out.append("" if v is None else (str(v).lower() if isinstance(v, bool) else str(v)))
            elif n[0] in ("if", "with"):
                for cond, body in n[1]:
                    v = self.pipeline(cond, dot, env)
                    if v not in (None, False, "", 0, {}, []):
                        out.append(self.render_nodes(body, v if n[0] == "with" else dot, env))
                        break
                else:
                    if n[2] is not None:
                        out.append(self.render_nodes(n[2], dot, env))
        return "".join(out)


def render_chart(chart_dir, values_override=None, release="mbcas", namespace="mbcas-system"):
    """Render every template of chart_dir; return {template name: rendered text}."""
    import os
    with open(os.path.join(chart_dir, "values.yaml")) as f:
        values = yaml.safe_load(f)
    for k, v in (values_override or {}).items():
        cur = values
        keys = k.split(".")
        for p in keys[:-1]:
            cur = cur.setdefault(p, {})
        cur[keys[-1]] = v
    with open(os.path.join(chart_dir, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    chart = {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]}
    r = Renderer(values, release, namespace, chart)
    tdir = os.path.join(chart_dir, "templates")
    for root, _, files in os.walk(chart_dir):
        for fn in files:
            p = os.path.join(root, fn)
            rel = os.path.relpath(p, chart_dir)
            if not rel.startswith("templates"):
                with open(p) as f:
                    try:
                        r.files[rel] = f.read()
                    except UnicodeDecodeError:
                        pass
    parsed = {}
    for fn in sorted(os.listdir(tdir)):
        with open(os.path.join(tdir, fn)) as f:
            nodes = r.load(f.read())
        r.collect_defines(nodes)
        parsed[fn] = nodes
    return {fn: r.render_nodes(nodes, r.root, {}) for fn, nodes in parsed.items()
            if not fn.startswith("_")}
