"""A small CEL (Common Expression Language) evaluator for CRD x-kubernetes-validations rules.

Tokenizer + Pratt parser + tree-walking evaluator. Supported subset:

* literals: int, uint (`1u`), double, string ('..', "..", r'..', usual escapes), bytes are not,
  true/false/null, lists `[a, b]`, maps `{k: v}`;
* operators: `!` and unary `-`, `* / %`, `+ -` (int, double, string and list concatenation,
  duration arithmetic), `< <= > >= == !=` (numbers compare across int/double as cel-go does),
  `in` (list membership, map key), `&&` / `||` (commutative with errors, like CEL), `? :`;
* member access `a.b` (error "no such key" when absent), index `a[i]` / `m['k']`;
* macros: has(a.b), all, exists, exists_one, map (2 and 3 arguments), filter;
* functions: size, int, uint, double, string, bool, type-free `dyn`, duration, quantity;
  methods: size, startsWith, endsWith, contains, matches, lowerAscii, upperAscii, trim,
  split, join, sum, min, max, isSorted, indexOf, lastIndexOf; on durations
  getHours/getMinutes/getSeconds/getMilliseconds; on quantities (Kubernetes library)
  compareTo, isLessThan, isGreaterThan, add, sub, asInteger, asApproximateFloat, isInteger, sign.

Not supported (raise Unsupported, so the caller can skip the rule): bytes, timestamps,
optional types, type(), regex capture functions, the url/ip/cidr/format/semver libraries.

Values are plain Python: None, bool, int, float, str, list, dict, plus Duration and Quantity.
`compile_rule(text)` -> Program (raises Unsupported on syntax it does not know);
`Program.eval(variables)` -> value (raises EvalError with cel-go's wording, or Unsupported).
"""

import math
import re
from fractions import Fraction


class Unsupported(Exception):
    """The expression uses syntax or a function this evaluator does not implement."""


class EvalError(Exception):
    """A CEL runtime error (no such key, no such overload, division by zero...)."""


# ------------------------------------------------------------------ value types
class Duration:
    __slots__ = ("ns",)

    def __init__(self, ns):
        self.ns = int(ns)

    def __eq__(self, o):
        return isinstance(o, Duration) and o.ns == self.ns

    def __hash__(self):
        return hash(self.ns)

    def __lt__(self, o):
        return self.ns < _same(self, o).ns

    def __le__(self, o):
        return self.ns <= _same(self, o).ns

    def __gt__(self, o):
        return self.ns > _same(self, o).ns

    def __ge__(self, o):
        return self.ns >= _same(self, o).ns

    def __repr__(self):
        return "duration(%dns)" % self.ns


def _same(a, b):
    if type(a) is not type(b):
        raise EvalError("no such overload")
    return b


_DUR_UNIT = {"ns": 1, "us": 10 ** 3, "\u00b5s": 10 ** 3, "\u03bcs": 10 ** 3, "ms": 10 ** 6,
             "s": 10 ** 9, "m": 60 * 10 ** 9, "h": 3600 * 10 ** 9}
_DUR_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_duration(s):
    """Go's time.ParseDuration (what CEL's duration() accepts)."""
    orig = s
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return Duration(0)
    if not s:
        raise EvalError('time: invalid duration "%s"' % orig)
    pos, total = 0, Fraction(0)
    while pos < len(s):
        m = _DUR_PART.match(s, pos)
        if not m or m.group(1) in ("", "."):
            raise EvalError('time: invalid duration "%s"' % orig)
        total += Fraction(m.group(1)) * _DUR_UNIT[m.group(2)]
        pos = m.end()
    return Duration(sign * int(total))


_QTY = re.compile(r"^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_QSUF = {"": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QBIN = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


class Quantity:
    """A Kubernetes resource.Quantity (exact value as a Fraction)."""
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = Fraction(v)

    @staticmethod
    def parse(s):
        m = _QTY.match(s) if isinstance(s, str) else None
        if not m:
            raise EvalError("quantities must match the regular expression "
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        num = Fraction(m.group(2))
        if m.group(1) == "-":
            num = -num
        suf = m.group(3) or ""
        if suf in _QSUF:
            return Quantity(num * Fraction(10) ** _QSUF[suf])
        if suf in _QBIN:
            return Quantity(num * 2 ** _QBIN[suf])
        return Quantity(num * Fraction(10) ** int(suf[1:]))

    def __eq__(self, o):
        return isinstance(o, Quantity) and o.v == self.v

    def __hash__(self):
        return hash(self.v)

    def __repr__(self):
        return "quantity(%s)" % self.v


# ------------------------------------------------------------------ tokenizer
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
            |0[xX][0-9a-fA-F]+[uU]?|[0-9]+[uU]?)
  | (?P<str>[rR]?(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,\[\](){}])
""", re.X | re.S)

_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b",
        "f": "\f", "v": "\v", "`": "`", "?": "?"}


def _unescape(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in _ESC:
            out.append(_ESC[n])
            i += 2
        elif n in "xX":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif n == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif n == "U":
            out.append(chr(int(body[i + 2:i + 10], 16)))
            i += 10
        elif n in "0123":
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        else:
            raise Unsupported("bad escape \\%s" % n)
    return "".join(out)


def tokenize(text):
    toks, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise Unsupported("unexpected character %r at %d" % (text[pos], pos))
        pos = m.end()
        kind = m.lastgroup
        v = m.group(kind)
        if kind == "ws":
            continue
        if kind == "num":
            if v[-1] in "uU":
                toks.append(("lit", int(v[:-1], 0)))
            elif v[:2] in ("0x", "0X"):
                toks.append(("lit", int(v, 16)))
            elif any(c in v for c in ".eE"):
                toks.append(("lit", float(v)))
            else:
                toks.append(("lit", int(v)))
        elif kind == "str":
            raw = v[0] in "rR"
            if raw:
                v = v[1:]
            q = 3 if v[:3] in ("'''", '"""') else 1
            body = v[q:-q]
            toks.append(("lit", body if raw else _unescape(body)))
        elif kind == "id":
            if v in ("true", "false"):
                toks.append(("lit", v == "true"))
            elif v == "null":
                toks.append(("lit", None))
            elif v == "in":
                toks.append(("op", "in"))
            else:
                toks.append(("id", v))
        else:
            toks.append(("op", v))
    toks.append(("eof", None))
    return toks


# ------------------------------------------------------------------ parser (Pratt)
# AST nodes are tuples: ("lit", v) ("id", name) ("sel", obj, field) ("idx", obj, key)
# ("call", name, target|None, [args]) ("un", op, x) ("bin", op, a, b) ("cond", c, a, b)
# ("list", [items]) ("map", [(k, v)]) ("has", sel-node) ("macro", name, target, var, [args])
_BP = {"?": 1, "||": 2, "&&": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4,
       "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_MACROS = {"all", "exists", "exists_one", "map", "filter"}


class _Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, op):
        t = self.next()
        if t != ("op", op):
            raise Unsupported("expected %r, got %r" % (op, t[1]))

    def parse(self):
        e = self.expr(0)
        if self.peek()[0] != "eof":
            raise Unsupported("unexpected %r" % (self.peek()[1],))
        return e

    def expr(self, rbp):
        left = self.unary()
        while True:
            t = self.peek()
            if t[0] != "op" or t[1] not in _BP or _BP[t[1]] <= rbp:
                return left
            op = t[1]
            self.next()
            if op == "?":
                a = self.expr(0)
                self.expect(":")
                b = self.expr(0)  # right associative, lowest precedence
                left = ("cond", left, a, b)
            else:
                right = self.expr(_BP[op])
                left = ("bin", op, left, right)

    def unary(self):
        t = self.peek()
        if t == ("op", "!"):
            self.next()
            return ("un", "!", self.unary())
        if t == ("op", "-"):
            self.next()
            x = self.unary()
            if x[0] == "lit" and isinstance(x[1], (int, float)) and not isinstance(x[1], bool):
                return ("lit", -x[1])
            return ("un", "-", x)
        return self.postfix(self.primary())

    def args(self, close):
        out = []
        if self.peek() == ("op", close):
            self.next()
            return out
        while True:
            out.append(self.expr(0))
            t = self.next()
            if t == ("op", close):
                return out
            if t != ("op", ","):
                raise Unsupported("expected ',' or %r" % close)

    def primary(self):
        t = self.next()
        if t[0] == "lit":
            return t
        if t[0] == "id":
            if self.peek() == ("op", "("):
                self.next()
                args = self.args(")")
                if t[1] == "has":
                    if len(args) != 1 or args[0][0] != "sel":
                        raise Unsupported("has() needs a field selection")
                    return ("has", args[0])
                return ("call", t[1], None, args)
            return ("id", t[1])
        if t == ("op", "("):
            e = self.expr(0)
            self.expect(")")
            return e
        if t == ("op", "["):
            return ("list", self.args("]"))
        if t == ("op", "{"):
            items = []
            if self.peek() == ("op", "}"):
                self.next()
                return ("map", items)
            while True:
                k = self.expr(0)
                self.expect(":")
                items.append((k, self.expr(0)))
                n = self.next()
                if n == ("op", "}"):
                    return ("map", items)
                if n != ("op", ","):
                    raise Unsupported("expected ',' or '}'")
        if t == ("op", "."):
            raise Unsupported("leading-dot identifiers are not supported")
        raise Unsupported("unexpected %r" % (t[1],))

    def postfix(self, e):
        while True:
            t = self.peek()
            if t == ("op", "."):
                self.next()
                n = self.next()
                if n[0] != "id":
                    raise Unsupported("expected a field name after '.'")
                if self.peek() == ("op", "("):
                    self.next()
                    args = self.args(")")
                    if n[1] in _MACROS:
                        if not args or args[0][0] != "id":
                            raise Unsupported("macro %s needs a variable" % n[1])
                        e = ("macro", n[1], e, args[0][1], args[1:])
                    else:
                        e = ("call", n[1], e, args)
                else:
                    e = ("sel", e, n[1])
            elif t == ("op", "["):
                self.next()
                k = self.expr(0)
                self.expect("]")
                e = ("idx", e, k)
            else:
                return e


# ------------------------------------------------------------------ evaluator
def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_name(v):
    if v is None:
        return "null_type"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, Duration):
        return "google.protobuf.Duration"
    if isinstance(v, Quantity):
        return "kubernetes.Quantity"
    return type(v).__name__


def _overload(op, *vals):
    return EvalError("no such overload: %s(%s)" % (op, ", ".join(_type_name(v) for v in vals)))


def _eq(a, b):
    if _is_num(a) and _is_num(b):
        return a == b
    if type(a) is not type(b):
        return False  # heterogeneous equality: different kinds are simply not equal
    if isinstance(a, list):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    return a == b


def _cmp(op, a, b):
    ok = (_is_num(a) and _is_num(b)) or (type(a) is type(b) and
                                         isinstance(a, (str, bool, Duration)))
    if not ok:
        raise _overload({"<": "_<_", "<=": "_<=_", ">": "_>_", ">=": "_>=_"}[op], a, b)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


_INT_MIN, _INT_MAX = -(2 ** 63), 2 ** 63 - 1


def _checked(v):
    if _is_int(v) and not _INT_MIN <= v <= _INT_MAX:
        raise EvalError("integer overflow")
    return v


def _arith(op, a, b):
    if _is_int(a) and _is_int(b):
        if op == "+":
            return _checked(a + b)
        if op == "-":
            return _checked(a - b)
        if op == "*":
            return _checked(a * b)
        if b == 0:
            raise EvalError("division by zero" if op == "/" else "modulus by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # truncates like Go
        return _checked(q) if op == "/" else a - b * q
    if isinstance(a, float) and isinstance(b, float) and op != "%":
        if op == "/":
            if b == 0:
                return math.copysign(math.inf, a) if a != 0 else math.nan
            return a / b
        return {"+": a + b, "-": a - b, "*": a * b}[op]
    if op == "+" and type(a) is type(b) and isinstance(a, (str, list)):
        return a + b
    if op in "+-" and isinstance(a, Duration) and isinstance(b, Duration):
        return Duration(a.ns + b.ns if op == "+" else a.ns - b.ns)
    raise _overload({"+": "_+_", "-": "_-_", "*": "_*_", "/": "_/_", "%": "_%_"}[op], a, b)


def _size(v):
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise _overload("size", v)


def _to_string(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_int(v):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v)
    if isinstance(v, Duration):
        s = Fraction(v.ns, 10 ** 9)
        return ("%s" % (s.numerator if s.denominator == 1 else float(s))) + "s"
    raise _overload("string", v)


def _to_int(v):
    if _is_int(v):
        return v
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v) or not _INT_MIN <= v <= _INT_MAX:
            raise EvalError("integer overflow")
        return int(v)
    if isinstance(v, str):
        try:
            return _checked(int(v))
        except ValueError:
            raise EvalError("invalid integer: %s" % v)
    if isinstance(v, Duration):
        return v.ns // 10 ** 9
    raise _overload("int", v)


def _to_double(v):
    if _is_num(v):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise EvalError("invalid double: %s" % v)
    raise _overload("double", v)


def _need(name, v, t):
    if not isinstance(v, t) or (t is int and isinstance(v, bool)):
        raise _overload(name, v)
    return v


def _num_list(name, lst):
    if not lst:
        return lst
    if not (all(_is_int(x) for x in lst) or all(isinstance(x, float) for x in lst) or
            all(isinstance(x, Duration) for x in lst) or all(isinstance(x, str) for x in lst)):
        raise _overload(name, lst)
    return lst


def _method(name, target, args):
    t = target
    if isinstance(t, Quantity):
        if name in ("compareTo", "isLessThan", "isGreaterThan", "add", "sub"):
            if len(args) != 1:
                raise _overload(name, t, *args)
            o = args[0]
            if name in ("add", "sub") and _is_int(o):
                o = Quantity(o)
            if not isinstance(o, Quantity):
                raise _overload(name, t, o)
            if name == "compareTo":
                return (t.v > o.v) - (t.v < o.v)
            if name == "isLessThan":
                return t.v < o.v
            if name == "isGreaterThan":
                return t.v > o.v
            return Quantity(t.v + o.v if name == "add" else t.v - o.v)
        if args:
            raise _overload(name, t, *args)
        if name == "isInteger":
            return t.v.denominator == 1 and _INT_MIN <= t.v <= _INT_MAX
        if name == "asInteger":
            if t.v.denominator != 1 or not _INT_MIN <= t.v <= _INT_MAX:
                raise EvalError("cannot convert value to integer")
            return int(t.v)
        if name == "asApproximateFloat":
            return float(t.v)
        if name == "sign":
            return (t.v > 0) - (t.v < 0)
        raise Unsupported("quantity method %s" % name)
    if isinstance(t, Duration) and not args:
        div = {"getHours": 3600 * 10 ** 9, "getMinutes": 60 * 10 ** 9, "getSeconds": 10 ** 9,
               "getMilliseconds": 10 ** 6}.get(name)
        if div is None:
            raise Unsupported("duration method %s" % name)
        return int(t.ns / div)
    if name == "size" and not args:
        return _size(t)
    if isinstance(t, str):
        if name in ("startsWith", "endsWith", "contains", "matches"):
            if len(args) != 1 or not isinstance(args[0], str):
                raise _overload(name, t, *args)
            a = args[0]
            if name == "startsWith":
                return t.startswith(a)
            if name == "endsWith":
                return t.endswith(a)
            if name == "contains":
                return a in t
            try:
                return re.search(a, t) is not None
            except re.error as e:
                raise EvalError("invalid regular expression: %s" % e)
        if name == "lowerAscii" and not args:
            return "".join(c.lower() if c.isascii() else c for c in t)
        if name == "upperAscii" and not args:
            return "".join(c.upper() if c.isascii() else c for c in t)
        if name == "trim" and not args:
            return t.strip()
        if name == "split" and len(args) == 1 and isinstance(args[0], str):
            return t.split(args[0]) if args[0] else list(t)
        if name in ("indexOf", "lastIndexOf") and len(args) == 1 and isinstance(args[0], str):
            return t.find(args[0]) if name == "indexOf" else t.rfind(args[0])
        raise Unsupported("string method %s/%d" % (name, len(args)))
    if isinstance(t, list):
        if name == "sum" and not args:
            _num_list("sum", t)
            if any(isinstance(x, str) for x in t):
                raise _overload("sum", t)
            if t and isinstance(t[0], Duration):
                return Duration(sum(x.ns for x in t))
            total = 0.0 if t and isinstance(t[0], float) else 0
            for x in t:
                total = _arith("+", total, x)
            return total
        if name in ("min", "max") and not args:
            if not t:
                raise EvalError("%s called on empty list" % name)
            _num_list(name, t)
            return min(t) if name == "min" else max(t)
        if name == "isSorted" and not args:
            _num_list(name, t)
            return all(t[i] <= t[i + 1] for i in range(len(t) - 1))
        if name == "join" and len(args) <= 1:
            sep = args[0] if args else ""
            if not all(isinstance(x, str) for x in t) or not isinstance(sep, str):
                raise _overload("join", t, *args)
            return sep.join(t)
        if name in ("indexOf", "lastIndexOf") and len(args) == 1:
            idx = [i for i, x in enumerate(t) if _eq(x, args[0])]
            return (idx[0] if name == "indexOf" else idx[-1]) if idx else -1
        raise Unsupported("list method %s/%d" % (name, len(args)))
    raise Unsupported("method %s on %s" % (name, _type_name(t)))


def _function(name, args):
    if name == "size" and len(args) == 1:
        return _size(args[0])
    if name == "int" and len(args) == 1:
        return _to_int(args[0])
    if name == "uint" and len(args) == 1:
        v = _to_int(args[0])
        if v < 0:
            raise EvalError("unsigned integer overflow")
        return v
    if name == "double" and len(args) == 1:
        return _to_double(args[0])
    if name == "string" and len(args) == 1:
        return _to_string(args[0])
    if name == "bool" and len(args) == 1:
        v = args[0]
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v in ("true", "True", "TRUE", "t", "1", "false", "False",
                                        "FALSE", "f", "0"):
            return v in ("true", "True", "TRUE", "t", "1")
        raise _overload("bool", v)
    if name == "dyn" and len(args) == 1:
        return args[0]
    if name == "duration" and len(args) == 1:
        if isinstance(args[0], Duration):
            return args[0]
        return parse_duration(_need("duration", args[0], str))
    if name == "quantity" and len(args) == 1:
        return Quantity.parse(_need("quantity", args[0], str))
    if name == "isQuantity" and len(args) == 1:
        try:
            Quantity.parse(_need("isQuantity", args[0], str))
            return True
        except EvalError:
            return False
    if name == "matches" and len(args) == 2:
        return _method("matches", args[0], args[1:])
    raise Unsupported("function %s/%d" % (name, len(args)))


class Program:
    def __init__(self, text):
        self.text = text
        self.ast = _Parser(text).parse()
        self.idents = set()
        self._collect(self.ast)

    def _collect(self, n):
        if isinstance(n, tuple):
            if n and n[0] == "id":
                self.idents.add(n[1])
            for x in n[1:]:
                self._collect(x)
        elif isinstance(n, list):
            for x in n:
                self._collect(x)

    def eval(self, variables):
        return _Eval(variables).ev(self.ast)


def compile_rule(text):
    """Parse a CEL expression; raises Unsupported when it is outside the subset."""
    return Program(text)


class _Eval:
    def __init__(self, variables):
        self.scopes = [dict(variables)]

    def lookup(self, name):
        for s in reversed(self.scopes):
            if name in s:
                return s[name]
        raise EvalError("no such attribute: %s" % name)

    def ev(self, n):
        k = n[0]
        if k == "lit":
            return n[1]
        if k == "id":
            return self.lookup(n[1])
        if k == "sel":
            o = self.ev(n[1])
            if isinstance(o, dict):
                if n[2] not in o:
                    raise EvalError("no such key: %s" % n[2])
                return o[n[2]]
            raise EvalError("no such overload: field selection %s on %s"
                            % (n[2], _type_name(o)))
        if k == "idx":
            o, key = self.ev(n[1]), self.ev(n[2])
            if isinstance(o, list):
                if not _is_num(key) or (isinstance(key, float) and not key.is_integer()):
                    raise _overload("_[_]", o, key)
                i = int(key)
                if not 0 <= i < len(o):
                    raise EvalError("index out of bounds: %d" % i)
                return o[i]
            if isinstance(o, dict):
                if isinstance(key, str) and key in o:
                    return o[key]
                raise EvalError("no such key: %s" % (key,))
            raise _overload("_[_]", o, key)
        if k == "has":
            sel = n[1]
            o = self.ev(sel[1])
            if isinstance(o, dict):
                return sel[2] in o
            raise EvalError("invalid type for field selection.")
        if k == "un":
            x = self.ev(n[2])
            if n[1] == "!":
                if not isinstance(x, bool):
                    raise _overload("!_", x)
                return not x
            if _is_int(x):
                return _checked(-x)
            if isinstance(x, float):
                return -x
            if isinstance(x, Duration):
                return Duration(-x.ns)
            raise _overload("-_", x)
        if k == "bin":
            return self.binary(n[1], n[2], n[3])
        if k == "cond":
            c = self.ev(n[1])
            if not isinstance(c, bool):
                raise _overload("_?_:_", c)
            return self.ev(n[2] if c else n[3])
        if k == "list":
            return [self.ev(x) for x in n[1]]
        if k == "map":
            return {self.ev(a): self.ev(b) for a, b in n[1]}
        if k == "call":
            if n[2] is None:
                return _function(n[1], [self.ev(a) for a in n[3]])
            return _method(n[1], self.ev(n[2]), [self.ev(a) for a in n[3]])
        if k == "macro":
            return self.macro(n[1], self.ev(n[2]), n[3], n[4])
        raise Unsupported("node %s" % k)

    def logical(self, op, a, b):
        stop = op == "||"   # the value that decides the result
        err = None
        for side in (a, b):
            try:
                v = self.ev(side)
            except EvalError as e:
                err = err or e
                continue
            if not isinstance(v, bool):
                err = err or _overload("_%s_" % op, v)
                continue
            if v is stop:
                return stop
        if err:
            raise err
        return not stop

    def binary(self, op, a, b):
        if op in ("&&", "||"):
            return self.logical(op, a, b)
        x, y = self.ev(a), self.ev(b)
        if op == "==":
            return _eq(x, y)
        if op == "!=":
            return not _eq(x, y)
        if op in ("<", "<=", ">", ">="):
            return _cmp(op, x, y)
        if op == "in":
            if isinstance(y, list):
                return any(_eq(x, e) for e in y)
            if isinstance(y, dict):
                return x in y if isinstance(x, str) else False
            raise _overload("@in", x, y)
        return _arith(op, x, y)

    def macro(self, name, target, var, args):
        if isinstance(target, dict):
            items = list(target.keys())
        elif isinstance(target, list):
            items = target
        else:
            raise _overload(name, target)
        need = {"all": 1, "exists": 1, "exists_one": 1, "filter": 1, "map": (1, 2)}[name]
        if len(args) not in (need if isinstance(need, tuple) else (need,)):
            raise Unsupported("macro %s with %d arguments" % (name, len(args) + 1))
        self.scopes.append({})
        try:
            if name in ("all", "exists"):
                return self._quantifier(name == "all", items, var, args[0])
            out, count = [], 0
            for it in items:
                self.scopes[-1][var] = it
                if name == "map":
                    if len(args) == 2:
                        c = self.ev(args[0])
                        if not isinstance(c, bool):
                            raise _overload("map", c)
                        if c:
                            out.append(self.ev(args[1]))
                    else:
                        out.append(self.ev(args[0]))
                    continue
                c = self.ev(args[0])
                if not isinstance(c, bool):
                    raise _overload(name, c)
                if name == "filter" and c:
                    out.append(it)
                count += c
            return count == 1 if name == "exists_one" else out
        finally:
            self.scopes.pop()

    def _quantifier(self, is_all, items, var, pred):
        err = None
        for it in items:
            self.scopes[-1][var] = it
            try:
                c = self.ev(pred)
            except EvalError as e:
                err = err or e
                continue
            if not isinstance(c, bool):
                err = err or _overload("all" if is_all else "exists", c)
                continue
            if c is not is_all:
                return c
        if err:
            raise err
        return is_all


# ------------------------------------------------------------------ schema-typed values
def from_json(value, schema):
    """The CEL view of a JSON value under its structural schema: `type: number` values are
    doubles (a YAML `1` is 1.0), `integer` values ints, everything else as is."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        return {k: from_json(v, props.get(k, addl if isinstance(addl, dict) else None))
                for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v, schema.get("items")) for v in value]
    if schema.get("x-kubernetes-int-or-string"):
        return value
    t = schema.get("type")
    if t == "number" and _is_num(value):
        return float(value)
    if t == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
