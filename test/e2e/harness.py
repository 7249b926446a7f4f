"""End-to-end harness: the API-server emulator (test/apiserver) + the mbcas-operator binary
+ kubectl 1.33, for the integration tests in this folder.

    with Cluster(scenario) as c:            # emulator with CRDs and the scenario's objects
        op = c.operator("--clearing-interval=1s")
        c.wait(lambda: c.sb("web").get("status", {}).get("lastDecision"))
        op.stop()

Every run lives in its own temporary folder (never a fixed path: tests run in parallel).
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MBCAS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "test", "apiserver"))

import yaml  # noqa: E402  (python3-yaml)
from emutest import Emu  # noqa: E402


def operator_binary():
    b = os.environ.get("MBCAS_OPERATOR")
    if b:
        return b
    build = os.environ.get("MBCAS_BUILD_DIR") or os.path.join(SRC, "build")
    return os.path.join(build, "operator", "mbcas-operator")


def crds():
    out = []
    for p in sorted(glob.glob(os.path.join(SRC, "crds", "mbcas.io_*.yaml"))):
        with open(p) as f:
            out.append(yaml.safe_load(f))
    return out


def market(name="m", mode="Enforce", **spec):
    s = {"mode": mode, "clearingInterval": "15s",
         "guardrails": {"maxStepPercent": 1000, "cooldown": "0s", "deadBand": "0"}}
    s.update(spec)
    return {"apiVersion": "mbcas.io/v1alpha1", "kind": "ScalingMarket",
            "metadata": {"name": name}, "spec": s}


def budget(name, budget_, market_="m", ns="shop", cpu=None, replicas=None, policy=None,
           container=None, target=None):
    spec = {"marketRef": {"name": market_},
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target or name},
            "budget": budget_}
    if cpu:
        spec["cpu"] = cpu
    if replicas:
        spec["replicas"] = replicas
    if policy:
        spec["agentPolicyRef"] = {"name": policy}
    if container:
        spec["container"] = container
    return {"apiVersion": "mbcas.io/v1alpha1", "kind": "ServiceBudget",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def policy(name, signals, ns="shop", half_life="2s", **spec):
    s = {"signals": signals, "smoothing": {"halfLife": half_life}}
    s.update(spec)
    return {"apiVersion": "mbcas.io/v1alpha1", "kind": "AgentPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": s}


def workload(name, replicas, load, ns="shop", limit="1", request="250m", cpr=0.01,
             container="app"):
    return {"kind": "Deployment", "namespace": ns, "name": name, "replicas": replicas,
            "labels": {"app": name},
            "containers": [{"name": container, "image": "registry.example/%s:1" % name,
                            "resources": {"requests": {"cpu": request, "memory": "64Mi"},
                                          "limits": {"cpu": limit, "memory": "64Mi"}}}],
            "cpuPerRequest": cpr, "load": load}


def scenario(workloads, objects=(), nodes=1, cpu="4", settings=None):
    st = {"timeScale": 1, "tickInterval": 0.2, "startupDelay": "0s", "resizeDelay": "200ms",
          "warmStart": True}
    st.update(settings or {})
    return {"namespaces": ["shop"], "settings": st,
            "nodes": [{"prefix": "node", "count": nodes, "cpu": cpu, "memory": "16Gi"}],
            "workloads": list(workloads), "objects": crds() + list(objects)}


class Operator:
    def __init__(self, cluster, args, env=None):
        self.c = cluster
        self.logpath = os.path.join(cluster.emu.tmp, "operator-%d.log" % len(cluster.ops))
        self.log = open(self.logpath, "w")
        e = dict(os.environ)
        e.pop("MBCAS_TEST_CRASH_AFTER_STATUS", None)
        e.update(env or {})
        cmd = [operator_binary(), "--kubeconfig=" + cluster.kubeconfig,
               "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
               "--log-level=debug"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=e)

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=30):
        return self.proc.wait(timeout)

    def stop(self, timeout=15):
        """SIGTERM; returns the exit code (the operator must stop cleanly)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("operator did not stop within %ss" % timeout)
        self.log.close()
        return self.proc.returncode

    def logtext(self):
        with open(self.logpath) as f:
            return f.read()

    def metrics_port(self):
        for line in self.logtext().splitlines():
            if 'msg="serving metrics"' in line:
                return int(line.rsplit("port=", 1)[1].split()[0])
        return None


class Cluster:
    def __init__(self, sc, args=()):
        self.emu = Emu(scenario=sc, cluster=True, args=args)
        self.ops = []

    def __enter__(self):
        self.emu.start()
        self.kubeconfig = os.path.join(self.emu.dir, "kubeconfig")
        return self

    def __exit__(self, *exc):
        for op in self.ops:
            if op.alive():
                op.proc.kill()
                op.proc.wait()
            if not op.log.closed:
                op.log.close()
        if exc[0] is not None:
            for op in self.ops:
                try:
                    sys.stderr.write("---- operator log (tail)\n" + op.logtext()[-6000:] + "\n")
                except OSError:
                    pass
        self.emu.stop()

    def operator(self, *args, env=None):
        op = Operator(self, args, env)
        self.ops.append(op)
        return op

    # -------------------------------------------------------------- reads
    def get(self, path):
        st, _, body = self.emu.req("GET", path)
        if st != 200:
            return None
        return body

    def sb(self, name, ns="shop"):
        return self.get("/apis/mbcas.io/v1alpha1/namespaces/%s/servicebudgets/%s" % (ns, name)) or {}

    def sm(self, name="m"):
        return self.get("/apis/mbcas.io/v1alpha1/scalingmarkets/%s" % name) or {}

    def ap(self, name, ns="shop"):
        return self.get("/apis/mbcas.io/v1alpha1/namespaces/%s/agentpolicies/%s" % (ns, name)) or {}

    def pods(self, app, ns="shop"):
        st, _, body = self.emu.req("GET", "/api/v1/namespaces/%s/pods" % ns,
                                   query={"labelSelector": "app=" + app})
        items = (body or {}).get("items", []) if st == 200 else []
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def deployment(self, name, ns="shop"):
        return self.get("/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, name)) or {}

    def events(self, name, ns="shop"):
        body = self.get("/api/v1/namespaces/%s/events" % ns) or {}
        return [e for e in body.get("items", []) if e.get("involvedObject", {}).get("name") == name]

    def create(self, obj):
        md = obj["metadata"]
        api = obj["apiVersion"]
        plural = {"ServiceBudget": "servicebudgets", "AgentPolicy": "agentpolicies",
                  "ScalingMarket": "scalingmarkets",
                  "HorizontalPodAutoscaler": "horizontalpodautoscalers"}[obj["kind"]]
        base = ("/apis/%s" % api) if "/" in api else "/api/%s" % api
        if md.get("namespace"):
            base += "/namespaces/%s" % md["namespace"]
        st, _, body = self.emu.req("POST", base + "/" + plural, body=obj)
        return st, body

    def patch(self, path, patch):
        st, _, body = self.emu.req("PATCH", path, body=patch, ctype="application/merge-patch+json")
        return st, body

    def fault(self, f):
        st, _, body = self.emu.req("POST", "/_emulator/faults", body=f)
        assert st == 200, body

    def kubectl(self, *args, **kw):
        return self.emu.kubectl(*args, **kw)

    def wait(self, cond, timeout=60, interval=0.25, what="condition"):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            last = cond()
            if last:
                return last
            for op in self.ops:
                if not op.alive() and op.proc.returncode not in (0, 3):
                    raise AssertionError("operator exited with %s:\n%s" % (op.proc.returncode, op.logtext()[-4000:]))
            time.sleep(interval)
        raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def cpu_milli(q):
    q = str(q)
    if q.endswith("m"):
        return int(q[:-1])
    return int(round(float(q) * 1000))


def pod_limit(pod, container=None):
    for c in pod["spec"]["containers"]:
        if container is None or c["name"] == container:
            return cpu_milli(c["resources"]["limits"]["cpu"])
    raise KeyError(container)


def cond(obj, type_):
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == type_:
            return c
    return {}
