"""crdschema.py - a small validator for our CRDs' structural schemas (test tool).

Checks what the Kubernetes API server checks for these CRDs: OpenAPI types (with
x-kubernetes-int-or-string), required, enum, minimum/maximum/exclusiveMinimum,
minLength/maxLength, pattern, minItems/maxItems, list-map key uniqueness, after
applying defaults (including `default: {}` on objects). x-kubernetes-validations (CEL)
rules are evaluated by Python twins in CEL_TWINS, keyed by the exact rule text: a rule
in a CRD without a twin is an error, so the CRDs and this file cannot drift apart
silently.

validate(crd, obj) -> list of (field, message), field as the API server names it
("spec.cpu.min", "spec.signals[0]").
"""
import copy
import re
from decimal import Decimal, InvalidOperation

_QTY = re.compile(r'^([+-]?)(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$')
_SUFFIX = {'': 0, 'n': -9, 'u': -6, 'm': -3, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18}
_BIN = {'Ki': 10, 'Mi': 20, 'Gi': 30, 'Ti': 40, 'Pi': 50, 'Ei': 60}


def quantity(v):
    """Exact value of a Kubernetes quantity (int or string) as a Decimal."""
    if isinstance(v, bool):
        raise ValueError('not a quantity')
    if isinstance(v, int):
        return Decimal(v)
    m = _QTY.match(v)
    if not m:
        raise ValueError('not a quantity: %r' % v)
    num = Decimal(m.group(1) + m.group(2))
    suf = m.group(6) or ''
    if suf in _SUFFIX:
        return num.scaleb(_SUFFIX[suf])
    if suf in _BIN:
        return num * (2 ** _BIN[suf])
    return num.scaleb(int(suf[1:]))


_DUR = re.compile(r'([0-9]*(?:\.[0-9]*)?)(ms|us|µs|ns|s|m|h)')
_UNIT = {'ns': Decimal('1e-9'), 'us': Decimal('1e-6'), 'µs': Decimal('1e-6'), 'ms': Decimal('1e-3'),
         's': Decimal(1), 'm': Decimal(60), 'h': Decimal(3600)}


def duration(s):
    """Go time.ParseDuration, in seconds (Decimal)."""
    if s == '0':
        return Decimal(0)
    pos, total = 0, Decimal(0)
    while pos < len(s):
        m = _DUR.match(s, pos)
        if not m or m.group(1) in ('', '.'):
            raise ValueError('bad duration %r' % s)
        total += Decimal(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if not s:
        raise ValueError('empty duration')
    return total


def _has(o, k):
    return isinstance(o, dict) and k in o


# Python twins of every CEL rule in crds/, keyed by rule text.
CEL_TWINS = {
    "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)":
        lambda s: (_has(s, 'values') and len(s['values']) > 0) if s['operator'] in ('In', 'NotIn')
        else (not _has(s, 'values') or len(s['values']) == 0),
    "duration(self) >= duration('1s') && duration(self) <= duration('1h')":
        lambda s: duration('1s') <= duration(s) <= duration('1h'),
    "self.scaleInDemand < self.scaleOutDemand":
        lambda s: s['scaleInDemand'] < s['scaleOutDemand'],
    "!has(self.max) || quantity(string(self.min)).compareTo(quantity(string(self.max))) <= 0":
        lambda s: not _has(s, 'max') or quantity(s['min']) <= quantity(s['max']),
    "!has(self.base) || (has(self.max) && quantity(string(self.min)).compareTo(quantity(string(self.base))) <= 0 && quantity(string(self.base)).compareTo(quantity(string(self.max))) <= 0)":
        lambda s: not _has(s, 'base') or (_has(s, 'max') and quantity(s['min']) <= quantity(s['base']) <= quantity(s['max'])),
    "!has(self.max) || self.min <= self.max":
        lambda s: not _has(s, 'max') or s['min'] <= s['max'],
    "self.combine != 'WeightedSum' || (self.signals.map(s, s.weight).sum() >= 0.999 && self.signals.map(s, s.weight).sum() <= 1.001)":
        lambda s: s['combine'] != 'WeightedSum' or 0.999 <= sum(x['weight'] for x in s['signals']) <= 1.001,
    "(has(self.resource) ? 1 : 0) + (has(self.prometheus) ? 1 : 0) + (has(self.pod) ? 1 : 0) == 1":
        lambda s: sum(1 for k in ('resource', 'prometheus', 'pod') if _has(s, k)) == 1,
    "has(self.target) || (has(self.pod) && self.pod.format == 'Demand')":
        lambda s: _has(s, 'target') or (_has(s, 'pod') and s['pod']['format'] == 'Demand'),
    "self.format != 'Prometheus' || has(self.metric)":
        lambda s: s['format'] != 'Prometheus' or _has(s, 'metric'),
    "duration(self.horizon) < duration(self.seasonPeriod)":
        lambda s: duration(s['horizon']) < duration(s['seasonPeriod']),
    "!has(self.leadTime) || duration(self.leadTime) <= duration(self.horizon)":
        lambda s: not _has(s, 'leadTime') or duration(s['leadTime']) <= duration(s['horizon']),
    "duration(self) >= duration('1s')":
        lambda s: duration(s) >= duration('1s'),
    "duration(self) >= duration('1m') && duration(self) <= duration('168h')":
        lambda s: duration('1m') <= duration(s) <= duration('168h'),
}


def schema_of(crd):
    return crd['spec']['versions'][0]['schema']['openAPIV3Schema']


def cel_rules(schema):
    """Every CEL rule text in a schema."""
    out = []
    for r in schema.get('x-kubernetes-validations', []):
        out.append(r['rule'])
    for p in schema.get('properties', {}).values():
        out += cel_rules(p)
    if 'items' in schema:
        out += cel_rules(schema['items'])
    if isinstance(schema.get('additionalProperties'), dict):
        out += cel_rules(schema['additionalProperties'])
    return out


def apply_defaults(schema, v):
    if isinstance(v, dict):
        for k, ps in schema.get('properties', {}).items():
            if k not in v and 'default' in ps:
                v[k] = copy.deepcopy(ps['default'])
            if k in v:
                v[k] = apply_defaults(ps, v[k])
    elif isinstance(v, list) and 'items' in schema:
        v = [apply_defaults(schema['items'], x) for x in v]
    return v


def _join(path, key):
    return key if not path else path + '.' + key


def _check(schema, v, path, errs):
    ios = schema.get('x-kubernetes-int-or-string')
    t = schema.get('type')
    if v is None:
        errs.append((path, 'must not be null'))
        return
    if ios:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            errs.append((path, 'must be of type integer,string'))
            return
    elif t == 'object' and not isinstance(v, dict):
        errs.append((path, 'must be of type object')); return
    elif t == 'array' and not isinstance(v, list):
        errs.append((path, 'must be of type array')); return
    elif t == 'string' and not isinstance(v, str):
        errs.append((path, 'must be of type string')); return
    elif t == 'integer' and (isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))):
        errs.append((path, 'must be of type integer')); return
    elif t == 'number' and (isinstance(v, bool) or not isinstance(v, (int, float))):
        errs.append((path, 'must be of type number')); return
    elif t == 'boolean' and not isinstance(v, bool):
        errs.append((path, 'must be of type boolean')); return
    n_before = len(errs)
    if 'enum' in schema and v not in schema['enum']:
        errs.append((path, 'Unsupported value: %r' % (v,)))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 'minimum' in schema:
            if schema.get('exclusiveMinimum') and not v > schema['minimum']:
                errs.append((path, 'should be greater than %s' % schema['minimum']))
            elif not schema.get('exclusiveMinimum') and not v >= schema['minimum']:
                errs.append((path, 'should be greater than or equal to %s' % schema['minimum']))
        if 'maximum' in schema and not v <= schema['maximum']:
            errs.append((path, 'should be less than or equal to %s' % schema['maximum']))
    if isinstance(v, str):
        if 'maxLength' in schema and len(v.encode()) > schema['maxLength']:
            errs.append((path, 'Too long'))
        if 'minLength' in schema and len(v) < schema['minLength']:
            errs.append((path, 'should be at least %d chars long' % schema['minLength']))
        if 'pattern' in schema and not re.search(schema['pattern'], v):
            errs.append((path, 'should match %r' % schema['pattern']))
    if isinstance(v, list):
        if 'minItems' in schema and len(v) < schema['minItems']:
            errs.append((path, 'should have at least %d items' % schema['minItems']))
        if 'maxItems' in schema and len(v) > schema['maxItems']:
            errs.append((path, 'Too many'))
        for i, x in enumerate(v):
            _check(schema['items'], x, '%s[%d]' % (path, i), errs)
        if schema.get('x-kubernetes-list-type') == 'map':
            keys = schema['x-kubernetes-list-map-keys']
            seen = set()
            for i, x in enumerate(v):
                if isinstance(x, dict):
                    k = tuple(x.get(kk) for kk in keys)
                    if k in seen:
                        errs.append(('%s[%d]' % (path, i), 'Duplicate value'))
                    seen.add(k)
    if isinstance(v, dict):
        props = schema.get('properties', {})
        for r in schema.get('required', []):
            if r not in v:
                errs.append((_join(path, r), 'Required value'))
        for k, x in v.items():
            if k in props:
                _check(props[k], x, _join(path, k), errs)
            elif isinstance(schema.get('additionalProperties'), dict):
                _check(schema['additionalProperties'], x, _join(path, k), errs)
    # CEL runs only on values that passed the schema below them
    if len(errs) == n_before:
        for rule in schema.get('x-kubernetes-validations', []):
            twin = CEL_TWINS.get(rule['rule'])
            if twin is None:
                errs.append((path, 'no Python twin for CEL rule %r' % rule['rule']))
                continue
            try:
                ok = twin(v)
            except (KeyError, ValueError, InvalidOperation, TypeError) as e:
                ok = False
                rule = dict(rule, message='%s (%s)' % (rule['message'], e))
            if not ok:
                fp = rule.get('fieldPath', '')
                errs.append((path + fp if fp.startswith('.') else path, rule['message']))


def validate(crd, obj):
    """Errors of obj against crd (defaults applied to a copy first)."""
    schema = schema_of(crd)
    o = apply_defaults(schema, copy.deepcopy(obj))
    errs = []
    for k in ('spec', 'status'):
        if k in schema.get('properties', {}):
            if k in o:
                _check(schema['properties'][k], o[k], k, errs)
            elif k in schema.get('required', []):
                errs.append((k, 'Required value'))
    return errs
