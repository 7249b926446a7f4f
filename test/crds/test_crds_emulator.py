"""test_crds_emulator.py - the CRDs against the API-server emulator (test/apiserver/) and
kubectl 1.33 (env KUBECTL):

- `kubectl apply -f crds/ -f config/samples/` installs everything. As against a real API
  server, custom resources in the same command as their CRD can fail the first time
  ("ensure CRDs are installed first"), so we wait for Established and run it again; the
  second run must succeed.
- `kubectl get mbcas -A` lists the three kinds with their printer columns;
  `kubectl explain servicebudget.spec` shows the field descriptions.
- every test/crds/invalid/ example is refused with 422 naming the field of its
  "# expect-field:" line, whatever its "# rule:" (schema, cel or listmap): the emulator
  evaluates every CEL rule of crds/*.yaml (test/apiserver/cel.py) and enforces list-map key
  uniqueness, as the C validator does (test_crds_examples.c).
Skips when the emulator is not in the tree yet.
"""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import yaml

SRC = os.environ.get('MBCAS_SOURCE_DIR', os.path.join(os.path.dirname(__file__), '..', '..'))
EMU = os.path.join(SRC, 'test', 'apiserver', 'apiserver.py')
KUBECTL = os.environ.get('KUBECTL', 'kubectl')
CRDS = ['mbcas.io_scalingmarkets.yaml', 'mbcas.io_servicebudgets.yaml', 'mbcas.io_agentpolicies.yaml']
PLURAL = {'ScalingMarket': 'scalingmarkets', 'ServiceBudget': 'servicebudgets', 'AgentPolicy': 'agentpolicies'}


def header(path, key):
    with open(path) as fh:
        for line in fh:
            if line.startswith('# %s: ' % key):
                return line.split(': ', 1)[1].strip()
    return None


@unittest.skipUnless(os.path.exists(EMU), 'API-server emulator not in the tree yet')
class EmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='mbcas-crds-')
        cls.log = open(os.path.join(cls.dir, 'emulator.log'), 'w')
        cls.proc = subprocess.Popen(['/usr/bin/python3', EMU, '--port', '0', '--dir', cls.dir, '--no-cluster'],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(cls.dir, 'ready')):
            if cls.proc.poll() is not None or time.monotonic() > deadline:
                cls.tearDownClass()
                raise RuntimeError('emulator did not start; see its log')
            time.sleep(0.1)
        cls.env = dict(os.environ, KUBECONFIG=os.path.join(cls.dir, 'kubeconfig'), HOME=cls.dir)
        with open(os.path.join(cls.dir, 'port')) as fh:
            cls.base = 'https://127.0.0.1:%s' % fh.read().strip()
        with open(os.path.join(cls.dir, 'admin.token')) as fh:
            cls.token = fh.read().strip()
        cls.ctx = ssl.create_default_context(cafile=os.path.join(cls.dir, 'ca.crt'))
        cls.install()

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.terminate()
            try:
                cls.proc.wait(10)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        cls.log.close()
        if os.environ.get('MBCAS_KEEP_TMP'):
            print('emulator dir kept:', cls.dir)
        else:
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def kubectl(cls, *args, check=True):
        p = subprocess.run([KUBECTL] + list(args), env=cls.env, cwd=SRC, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError('kubectl %s: rc=%d\n%s\n%s' % (' '.join(args), p.returncode, p.stdout, p.stderr))
        return p

    @classmethod
    def install(cls):
        cls.first = cls.kubectl('apply', '-f', 'crds/', '-f', 'config/samples/', check=False)
        cls.kubectl('wait', '--for=condition=Established', '--timeout=30s',
                    *['crd/%s.mbcas.io' % p for p in PLURAL.values()])
        cls.second = cls.kubectl('apply', '-f', 'crds/', '-f', 'config/samples/', check=False)

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={'Authorization': 'Bearer ' + self.token,
                                              'Content-Type': 'application/json', 'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                return r.status, json.loads(r.read() or b'{}')
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b'{}')

    def test_apply_crds_and_samples(self):
        self.assertIn('customresourcedefinition.apiextensions.k8s.io/servicebudgets.mbcas.io',
                      self.first.stdout + self.first.stderr)
        self.assertEqual(self.second.returncode, 0, self.second.stdout + self.second.stderr)
        for name in ('scalingmarket.mbcas.io/general-purpose', 'servicebudget.mbcas.io/frontend',
                     'servicebudget.mbcas.io/backend', 'servicebudget.mbcas.io/database',
                     'agentpolicy.mbcas.io/frontend-latency', 'agentpolicy.mbcas.io/backend-queue',
                     'agentpolicy.mbcas.io/database-cpu'):
            self.assertIn(name, self.second.stdout)
        # the API server applied the CRD defaults
        sm = json.loads(self.kubectl('get', 'scalingmarket', 'general-purpose', '-o', 'json').stdout)
        self.assertEqual(sm['spec']['mechanism'], 'ProportionalShare')
        db = json.loads(self.kubectl('get', 'servicebudget', 'database', '-n', 'shop', '-o', 'json').stdout)
        self.assertEqual(db['spec']['targetRef']['kind'], 'Deployment')

    def test_get_category_and_short_names(self):
        out = self.kubectl('get', 'mbcas', '-A').stdout
        for col in ('MODE', 'NODES', 'PARTICIPANTS', 'CONTENDED', 'LAST CLEARING', 'MARKET', 'BUDGET',
                    'DEMAND', 'BID', 'CPU', 'REPLICAS', 'READY', 'SIGNALS', 'HEALTHY'):
            self.assertIn(col, out)
        for name in ('general-purpose', 'frontend', 'backend', 'database', 'frontend-latency', 'backend-queue',
                     'database-cpu'):
            self.assertIn(name, out)
        self.assertIn('Enforce', out)
        sb = self.kubectl('get', 'sb', '-n', 'shop').stdout
        self.assertRegex(sb, r'backend\s+general-purpose\s+500')
        self.assertIn('general-purpose', self.kubectl('get', 'sm').stdout)
        self.assertIn('database-cpu', self.kubectl('get', 'ap', '-n', 'shop').stdout)

    def test_explain(self):
        out = self.kubectl('explain', 'servicebudget.spec').stdout
        for field in ('marketRef', 'targetRef', 'agentPolicyRef', 'budget', 'cpu', 'replicas', 'container'):
            self.assertIn(field, out)
        self.assertIn('scaling out does not', out.replace('\n', ' ').replace('  ', ' '))

    def test_status_subresource(self):
        st, obj = self.request('GET', '/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/frontend')
        self.assertEqual(st, 200)
        obj['status'] = {'observedGeneration': obj['metadata'].get('generation', 1), 'demand': '0.62',
                         'cpu': '1500m', 'currentReplicas': 2,
                         'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'Participating',
                                         'message': 'in market general-purpose', 'observedGeneration': 1,
                                         'lastTransitionTime': '2026-11-23T19:00:00Z'}]}
        st, out = self.request('PUT', '/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/frontend/status', obj)
        self.assertEqual(st, 200, out)
        self.assertEqual(out['status']['demand'], '0.62')
        got = self.kubectl('get', 'sb', 'frontend', '-n', 'shop').stdout
        self.assertRegex(got, r'frontend\s+general-purpose\s+300\s+0.62\s+\S*\s*1500m\s+2\s+True')

    def test_invalid_examples(self):
        d = os.path.join(SRC, 'test', 'crds', 'invalid')
        files = sorted(f for f in os.listdir(d) if f.endswith('.yaml'))
        self.assertGreaterEqual(len(files), 20)
        self.kubectl('create', 'namespace', 'default', check=False)
        wrong, rejected = [], []
        for f in files:
            path = os.path.join(d, f)
            want, rule = header(path, 'expect-field'), header(path, 'rule')
            self.assertIn(rule, ('schema', 'cel', 'listmap'), f)
            with open(path) as fh:
                obj = yaml.safe_load(fh)
            ns = obj['metadata'].get('namespace')
            url = '/apis/mbcas.io/v1alpha1/%s%s' % ('namespaces/%s/' % ns if ns else '', PLURAL[obj['kind']])
            st, body = self.request('POST', url + '?dryRun=All', obj)
            causes = body.get('details', {}).get('causes', [])
            fields = [c.get('field') for c in causes]
            if st != 422 or want not in fields:
                wrong.append('%s (%s): want 422 on %s, got %s %s' % (f, rule, want, st, body.get('message')))
                continue
            rejected.append(f)
            msg = [c['message'] for c in causes if c.get('field') == want][0]
            if rule == 'cel':
                self.assertRegex(msg, r'^Invalid value: "(object|string)": ', f)
            elif rule == 'listmap':
                self.assertRegex(msg, r'^Duplicate value: \{"', f)
        self.assertEqual(wrong, [])
        self.assertEqual(len(rejected), len(files))
        kinds = [header(os.path.join(d, f), 'rule') for f in files]
        self.assertGreaterEqual(kinds.count('schema'), 12)
        self.assertGreaterEqual(kinds.count('cel'), 8)
        self.assertGreaterEqual(kinds.count('listmap'), 1)
        sys.stderr.write('emulator rejected %d/%d invalid examples\n' % (len(rejected), len(files)))

    def test_kubectl_reports_the_field(self):
        p = self.kubectl('apply', '--dry-run=server', '-f', 'test/crds/invalid/sb-budget-not-a-quantity.yaml',
                         check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('spec.budget', p.stderr)


if __name__ == '__main__':
    unittest.main(verbosity=2)
