"""Simulated cluster through a real emulator process (apiserver.py): raw HTTPS and kubectl 1.33.

Waiting is done by polling the emulator's state (with a generous bound), never by asserting on
elapsed time."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from emutest import Emu, find_kubectl  # noqa: E402
from test_cluster import parse_prom  # noqa: E402

SCENARIO = {
    "namespaces": ["shop"],
    "settings": {"timeScale": 10, "tickInterval": 0.05, "startupDelay": "2s",
                 "resizeDelay": "2s", "warmStart": False},
    "nodes": [{"prefix": "node", "count": 2, "cpu": "4", "memory": "8Gi"}],
    "workloads": [
        {"namespace": "shop", "name": "web", "replicas": 2, "cpuPerRequest": 0.01,
         "load": {"constant": 100},
         "containers": [{"name": "app", "resources": {
             "requests": {"cpu": "500m", "memory": "256Mi"},
             "limits": {"cpu": "1", "memory": "256Mi"}}}]},
        {"kind": "StatefulSet", "namespace": "shop", "name": "db", "replicas": 1,
         "cpuPerRequest": 0.05, "load": {"constant": 10},
         "containers": [{"name": "db", "resources": {
             "requests": {"cpu": "1", "memory": "1Gi"},
             "limits": {"cpu": "1", "memory": "1Gi"}}}]},
    ],
}

MAX_WAIT = 30.0  # seconds; only a bound for polling, never asserted on


def cond(pod, ctype):
    for c in pod.get("status", {}).get("conditions") or []:
        if c["type"] == ctype:
            return c
    return None


class TestClusterHTTP(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emu(scenario=SCENARIO, cluster=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def get(self, path, query=None):
        st, _, body = self.emu.req("GET", path, query=query)
        return st, body

    def wait(self, fn, what):
        deadline = time.monotonic() + MAX_WAIT
        last = None
        while time.monotonic() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(0.05)
        self.fail("timed out waiting for %s (last: %r)" % (what, last))

    def pods(self, selector="app=web"):
        st, body = self.get("/api/v1/namespaces/shop/pods", {"labelSelector": selector})
        self.assertEqual(st, 200)
        return body["items"]

    def ready_pods(self, n, selector="app=web"):
        def check():
            ps = self.pods(selector)
            ok = [p for p in ps if (cond(p, "Ready") or {}).get("status") == "True"]
            return ps if len(ok) == n and len(ps) == n else None
        return self.wait(check, "%d ready pods (%s)" % (n, selector))

    def test_1_deployment_pods_ready_and_metrics(self):
        pods = self.ready_pods(2)
        for p in pods:
            self.assertTrue(p["spec"]["nodeName"].startswith("node-"))
            self.assertEqual(p["status"]["phase"], "Running")
            self.assertEqual(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet")
        st, dep = self.get("/apis/apps/v1/namespaces/shop/deployments/web")
        self.wait(lambda: self.get("/apis/apps/v1/namespaces/shop/deployments/web")[1]
                  .get("status", {}).get("availableReplicas") == 2, "deployment status")
        st, scale = self.get("/apis/apps/v1/namespaces/shop/deployments/web/scale")
        self.assertEqual((st, scale["status"]["replicas"], scale["status"]["selector"]),
                         (200, 2, "app=web"))
        st, body = self.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
                            {"labelSelector": "app=web"})
        self.assertEqual((st, body["kind"]), (200, "PodMetricsList"))
        self.assertEqual([i["containers"][0]["usage"]["cpu"] for i in body["items"]],
                         ["500000000n", "500000000n"])   # 100 rps / 2 * 0.01 cpu-s
        st, body = self.get("/apis/metrics.k8s.io/v1beta1/nodes")
        self.assertEqual((st, len(body["items"])), (200, 2))

    def test_2_pod_proxy_metrics_and_demand(self):
        name = self.ready_pods(2)[0]["metadata"]["name"]
        st, hdrs, body = self.emu.req("GET", "/api/v1/namespaces/shop/pods/%s:8080/proxy/metrics"
                                      % name, raw=True)
        self.assertEqual(st, 200)
        types, samples = parse_prom(body.decode())
        vals = {n: v for n, _, v in samples}
        self.assertAlmostEqual(vals["mbcas_sim_pod_requests_per_second"], 50.0)
        self.assertAlmostEqual(vals["mbcas_sim_pod_cpu_usage_cores"], 0.5)
        self.assertAlmostEqual(vals["mbcas_sim_pod_latency_seconds"], 0.02)
        st, _, body = self.emu.req("GET", "/api/v1/namespaces/shop/pods/%s/proxy/demand" % name)
        self.assertEqual(st, 200)
        self.assertAlmostEqual(body["demand"], 0.5)
        st, _, body = self.emu.req("GET", "/_emulator/metrics", raw=True)
        self.assertEqual(st, 200)
        types, samples = parse_prom(body.decode())
        pods = {lb["pod"] for n, lb, v in samples if n == "mbcas_sim_pod_cpu_usage_cores"}
        self.assertIn(name, pods)

    def test_3_resize_through_api(self):
        web = self.ready_pods(2)
        self.ready_pods(1, "app=db")
        everyone = self.pods("app in (web,db)")
        per_node = {}
        for p in everyone:
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        # a web pod that shares its node (3 pods on 2 nodes): a big resize is Deferred there
        name = [p for p in web if per_node[p["spec"]["nodeName"]] > 1][0]["metadata"]["name"]
        patch = {"spec": {"containers": [{"name": "app", "resources": {
            "requests": {"cpu": "750m"}, "limits": {"cpu": "1500m"}}}]}}
        st, _, body = self.emu.req("PATCH", "/api/v1/namespaces/shop/pods/%s/resize" % name,
                                   body=patch, ctype="application/strategic-merge-patch+json")
        self.assertEqual(st, 200, body)

        def done():
            _, p = self.get("/api/v1/namespaces/shop/pods/" + name)
            cs = p["status"]["containerStatuses"][0]
            if cs.get("resources", {}).get("limits", {}).get("cpu") == "1500m":
                return p
            return None
        p = self.wait(done, "resize actuated")
        cs = p["status"]["containerStatuses"][0]
        self.assertEqual(cs["allocatedResources"]["cpu"], "750m")
        self.assertEqual(cs["resources"]["requests"]["cpu"], "750m")
        self.assertIsNone(cond(p, "PodResizeInProgress"))
        # infeasible: more than a node has
        patch = {"spec": {"containers": [{"name": "app", "resources": {
            "requests": {"cpu": "5"}, "limits": {"cpu": "6"}}}]}}
        st, _, body = self.emu.req("PATCH", "/api/v1/namespaces/shop/pods/%s/resize" % name,
                                   body=patch, ctype="application/strategic-merge-patch+json")
        self.assertEqual(st, 200, body)

        def pending():
            _, p = self.get("/api/v1/namespaces/shop/pods/" + name)
            return cond(p, "PodResizePending")
        c = self.wait(pending, "PodResizePending")
        self.assertEqual((c["status"], c["reason"]), ("True", "Infeasible"))
        # deferred: fits the node but not beside the others
        patch = {"spec": {"containers": [{"name": "app", "resources": {
            "requests": {"cpu": "3900m"}, "limits": {"cpu": "4"}}}]}}
        self.emu.req("PATCH", "/api/v1/namespaces/shop/pods/%s/resize" % name, body=patch,
                     ctype="application/strategic-merge-patch+json")
        c = self.wait(lambda: (pending() or {}).get("reason") == "Deferred" and pending(),
                      "Deferred")
        self.assertIn("Node didn't have enough resource: cpu, requested: 3900", c["message"])
        # give it back: the condition clears
        patch = {"spec": {"containers": [{"name": "app", "resources": {
            "requests": {"cpu": "750m"}, "limits": {"cpu": "1500m"}}}]}}
        self.emu.req("PATCH", "/api/v1/namespaces/shop/pods/%s/resize" % name, body=patch,
                     ctype="application/strategic-merge-patch+json")
        self.wait(lambda: pending() is None, "no PodResizePending")

    def test_4_statefulset(self):
        pods = self.ready_pods(1, "app=db")
        self.assertEqual(pods[0]["metadata"]["name"], "db-0")

    @unittest.skipIf(find_kubectl() is None, "kubectl 1.33 not found")
    def test_5_kubectl_scale_top_and_resize(self):
        self.ready_pods(2)
        self.emu.kubectl("-n", "shop", "scale", "deployment/web", "--replicas=4")
        pods = self.ready_pods(4)
        out = self.emu.kubectl("-n", "shop", "top", "pods", "-l", "app=web").stdout
        self.assertIn("CPU(cores)", out)
        self.assertIn("250m", out)  # 100 rps / 4 pods * 0.01
        out = self.emu.kubectl("top", "nodes").stdout
        self.assertIn("node-0", out)
        name = pods[-1]["metadata"]["name"]
        self.emu.kubectl("-n", "shop", "patch", "pod", name, "--subresource", "resize",
                         "--patch", json.dumps({"spec": {"containers": [{"name": "app",
                                                "resources": {"limits": {"cpu": "800m"}}}]}}))

        def done():
            _, p = self.get("/api/v1/namespaces/shop/pods/" + name)
            cs = p["status"]["containerStatuses"][0]
            return cs.get("resources", {}).get("limits", {}).get("cpu") == "800m"
        self.wait(done, "kubectl resize actuated")
        self.emu.kubectl("-n", "shop", "scale", "deployment/web", "--replicas=2")
        self.ready_pods(2)
        out = self.emu.kubectl("-n", "shop", "rollout", "status", "deployment/web",
                               "--timeout=30s").stdout
        self.assertIn('deployment "web" successfully rolled out', out)
        out = self.emu.kubectl("-n", "shop", "get", "events",
                               "--field-selector", "reason=ScalingReplicaSet").stdout
        self.assertIn("Scaled up replica set web-", out)

    @unittest.skipIf(shutil.which("prometheus") is None, "prometheus not installed")
    def test_6_real_prometheus_scrapes(self):
        self.ready_pods(2)
        tmp = tempfile.mkdtemp(prefix="mbcas-prom-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            json.dump({"global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                       "scrape_configs": [{
                           "job_name": "mbcas-emulator", "scheme": "https",
                           "metrics_path": "/_emulator/metrics",
                           "authorization": {"credentials_file":
                                             os.path.join(self.emu.dir, "admin.token")},
                           "tls_config": {"ca_file": os.path.join(self.emu.dir, "ca.crt")},
                           "static_configs": [{"targets": ["127.0.0.1:%d" % self.emu.port]}]}]},
                      f)
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["prometheus", "--config.file=" + cfg,
                                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=log, stderr=subprocess.STDOUT)

        def stop():
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        q = urllib.parse.urlencode({"query": 'mbcas_sim_pod_cpu_usage_cores{workload="web"}'})

        def query():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/query?%s" % (port, q),
                                            timeout=5) as r:
                    res = json.loads(r.read())["data"]["result"]
            except (OSError, ValueError, KeyError):
                return None
            return res if len(res) >= 2 else None
        res = self.wait(query, "Prometheus to scrape the emulator")
        for series in res:
            m = series["metric"]
            self.assertEqual((m["namespace"], m["workload"], m["job"]),
                             ("shop", "web", "mbcas-emulator"))
            self.assertTrue(m["pod"].startswith("web-"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
