"""The Prometheus signal source against a real Prometheus server (Debian's `prometheus`),
started on loopback and scraping the emulator's per-pod metrics; plus the pod endpoint
source (an agent's /demand through pods/proxy). Per-signal health lands in AgentPolicy
status and the demand in ServiceBudget status."""

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

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, cond, market, policy, scenario, workload  # noqa: E402

PROM = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Prometheus:
    def __init__(self, emu):
        self.tmp = tempfile.mkdtemp(prefix="mbcas-prom-")
        self.port = free_port()
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: emulator
  scheme: https
  metrics_path: /_emulator/metrics
  authorization:
    credentials_file: %s
  tls_config:
    ca_file: %s
  static_configs:
  - targets: ['127.0.0.1:%d']
""" % (os.path.join(emu.dir, "admin.token"), os.path.join(emu.dir, "ca.crt"), emu.port))
        self.log = open(os.path.join(self.tmp, "log"), "w")
        self.proc = subprocess.Popen(
            [PROM, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(self.tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def address(self):
        return "http://127.0.0.1:%d" % self.port

    def query(self, q):
        url = self.address + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
        with urllib.request.urlopen(url, timeout=5) as r:
            import json
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


SIGNALS = [
    {"name": "latency", "prometheus": {
        "address": "PROM",
        "query": 'max(mbcas_sim_pod_demand{namespace="$namespace",workload="$service"})'},
     "target": 1},
    {"name": "agent", "pod": {"port": 8080, "path": "/demand", "format": "Demand"}},
    {"name": "scrape", "pod": {"port": 8080, "path": "/metrics", "format": "Prometheus",
                               "metric": "mbcas_sim_pod_demand"}, "target": 1},
]


@unittest.skipUnless(os.path.exists(PROM), "prometheus not installed")
class PrometheusSignal(unittest.TestCase):
    def test_prometheus_and_pod_signals(self):
        sc = scenario([workload("web", 1, {"constant": 50})],
                      objects=[market(), budget("web", 100, cpu={"min": "200m", "max": "2"}, policy="sig")],
                      nodes=1, cpu="4")
        with Cluster(sc) as c:
            prom = Prometheus(c.emu)
            try:
                import copy
                sig = copy.deepcopy(SIGNALS)
                sig[0]["prometheus"]["address"] = prom.address
                st, body = c.create(policy("sig", sig, half_life="0", staleAfter="1m"))
                self.assertEqual(st, 201, body)

                def has_series():
                    try:
                        r = prom.query('mbcas_sim_pod_demand{workload="web"}')
                        return r["data"]["result"]
                    except OSError:
                        return None
                c.wait(has_series, timeout=60, what="Prometheus scraping the emulator")
                op = c.operator("--clearing-interval=1s")

                def healthy():
                    ap = c.ap("sig")
                    return ap if ap.get("status", {}).get("healthySignals") == 3 else None
                ap = c.wait(healthy, timeout=30, what="three healthy signals")
                sigs = {s["name"]: s for s in ap["status"]["signals"]}
                self.assertTrue(sigs["latency"]["healthy"])
                self.assertEqual(cond(ap, "Ready")["status"], "True")
                # demand = max of the three pressures, each ~ 0.5 / 1 core = 0.5
                d = float(c.sb("web")["status"]["demand"])
                self.assertGreater(d, 0.2)
                self.assertLess(d, 0.9)
                # Prometheus down: the signal turns unhealthy with an error, the others carry on
                prom.stop()
                prom = None

                def latency_down():
                    s = {x["name"]: x for x in c.ap("sig")["status"]["signals"]}
                    return s if not s["latency"]["healthy"] else None
                s = c.wait(latency_down, timeout=30, what="the Prometheus signal unhealthy")
                self.assertIn("prometheus", s["latency"].get("lastError", ""))
                self.assertTrue(s["agent"]["healthy"])
                self.assertEqual(op.stop(), 0)
            finally:
                if prom:
                    prom.stop()


if __name__ == "__main__":
    import urllib.parse  # noqa: F401
    unittest.main()
