"""test_crds_schema.py - config/samples/ validate against crds/ (crdschema.py: OpenAPI +
Python twins of the CEL rules); every test/crds/invalid/ example fails with exactly one
error, on the field its "# expect-field:" line names; every CEL rule has a twin."""
import glob
import json
import os
import subprocess
import sys
import unittest

import yaml

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crdschema  # noqa: E402

STATUS_TOOL = sys.argv.pop(1) if len(sys.argv) > 1 and os.path.isfile(sys.argv[1]) else None
SRC = os.environ.get('MBCAS_SOURCE_DIR', os.path.join(os.path.dirname(__file__), '..', '..'))


def load_crds():
    crds = {}
    for f in sorted(glob.glob(os.path.join(SRC, 'crds', '*.yaml'))):
        with open(f) as fh:
            c = yaml.safe_load(fh)
        if c.get('kind') == 'CustomResourceDefinition':  # skip kustomization.yaml
            crds[c['spec']['names']['kind']] = c
    return crds


def expected_field(path):
    with open(path) as fh:
        for line in fh:
            if line.startswith('# expect-field: '):
                return line[len('# expect-field: '):].strip()
    return None


class CrdSchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.crds = load_crds()

    def test_three_kinds(self):
        self.assertEqual(sorted(self.crds), ['AgentPolicy', 'ScalingMarket', 'ServiceBudget'])

    def test_every_cel_rule_has_a_twin(self):
        for kind, crd in self.crds.items():
            for rule in crdschema.cel_rules(crdschema.schema_of(crd)):
                self.assertIn(rule, crdschema.CEL_TWINS, '%s: CEL rule without Python twin' % kind)

    def test_samples_validate(self):
        n = 0
        for f in sorted(glob.glob(os.path.join(SRC, 'config', 'samples', '*.yaml'))):
            with open(f) as fh:
                for doc in yaml.safe_load_all(fh):
                    if not doc or doc.get('apiVersion') != 'mbcas.io/v1alpha1':
                        continue
                    errs = crdschema.validate(self.crds[doc['kind']], doc)
                    self.assertEqual(errs, [], '%s %s' % (os.path.basename(f), doc['metadata']['name']))
                    n += 1
        self.assertEqual(n, 7)

    def test_samples_namespace_first(self):
        """kubectl applies files in name order: the Namespace file must sort first."""
        files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(SRC, 'config', 'samples', '*.yaml')))
        with open(os.path.join(SRC, 'config', 'samples', files[0])) as fh:
            self.assertEqual(yaml.safe_load(fh)['kind'], 'Namespace')

    def test_invalid_examples(self):
        files = sorted(glob.glob(os.path.join(SRC, 'test', 'crds', 'invalid', '*.yaml')))
        self.assertGreaterEqual(len(files), 20)
        for f in files:
            want = expected_field(f)
            self.assertIsNotNone(want, f)
            with open(f) as fh:
                doc = yaml.safe_load(fh)
            errs = crdschema.validate(self.crds[doc['kind']], doc)
            self.assertEqual([e[0] for e in errs], [want], '%s: %s' % (os.path.basename(f), errs))

    def test_reference_doc_lists_every_field(self):
        with open(os.path.join(SRC, 'docs', 'crd-reference.md')) as fh:
            doc = fh.read()

        def paths(schema, prefix):
            for k, p in schema.get('properties', {}).items():
                fp = prefix + '.' + k
                yield fp
                sub = p.get('items', p) if p.get('type') == 'array' else p
                yield from paths(sub, fp + ('[]' if p.get('type') == 'array' else ''))

        for kind, crd in self.crds.items():
            schema = crdschema.schema_of(crd)
            for part in ('spec', 'status'):
                for fp in paths(schema['properties'][part], part):
                    self.assertIn('`%s`' % fp, doc, '%s: %s missing from docs/crd-reference.md' % (kind, fp))

    @unittest.skipUnless(STATUS_TOOL, 'pass the crds_status_samples binary as argument')
    def test_c_status_serialization_matches_schema(self):
        """What api/v1alpha1 writes into status (every field set, lists full) is accepted."""
        out = subprocess.run([STATUS_TOOL], capture_output=True, text=True, check=True).stdout
        statuses = json.loads(out)
        for kind, status in statuses.items():
            crd = self.crds[kind]
            schema = crdschema.schema_of(crd)['properties']['status']
            errs = []
            crdschema._check(schema, status, 'status', errs)
            self.assertEqual(errs, [], kind)
            # and every status field the C side writes is declared in the CRD
            for key in status:
                self.assertIn(key, schema['properties'], '%s: status.%s not in the CRD' % (kind, key))

    def test_quantity_and_duration_helpers(self):
        q = crdschema.quantity
        self.assertEqual(q('250m'), q('0.25'))
        self.assertEqual(q('1Ki'), 1024)
        self.assertEqual(q('1e3'), 1000)
        self.assertEqual(q(2), 2)
        self.assertRaises(ValueError, q, '1 Gi')
        d = crdschema.duration
        self.assertEqual(d('2m30s'), 150)
        self.assertEqual(d('250ms'), crdschema.Decimal('0.25'))
        self.assertRaises(ValueError, d, '15')

    def test_defaults_applied(self):
        crd = self.crds['ScalingMarket']
        o = crdschema.apply_defaults(crdschema.schema_of(crd), {'spec': {}})
        self.assertEqual(o['spec']['clearingInterval'], '15s')
        self.assertEqual(o['spec']['guardrails']['deadBand'], '5%')
        self.assertEqual(o['spec']['horizontal']['scaleOutDemand'], 0.85)


if __name__ == '__main__':
    unittest.main(verbosity=2)
