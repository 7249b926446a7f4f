#!/usr/bin/python3
"""Scale benchmark of the API-server emulator (not part of ctest).

A scenario with NODES nodes and PODS pods (objects in the scenario file, simulated cluster
off) is loaded; then: resident memory, a full paginated LIST of all pods (limit 500), and 5
concurrent watchers on all pods while deletecollection requests remove NS_DELETE namespaces'
pods. Reports events/s delivered to the watchers (sum over the 5) and per watcher.

    /usr/bin/python3 test/bench/apiserver_scale.py [--nodes 5000] [--pods 100000]
"""

import argparse
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APISERVER = os.path.join(ROOT, "test", "apiserver", "apiserver.py")


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def scenario(nodes, pods, namespaces):
    objs = []
    for i in range(nodes):
        objs.append({"apiVersion": "v1", "kind": "Node",
                     "metadata": {"name": "node-%05d" % i, "labels": {"zone": "z%d" % (i % 3)}},
                     "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                                "allocatable": {"cpu": "32", "memory": "128Gi",
                                                "pods": "110"}}})
    for i in range(pods):
        objs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": "pod-%06d" % i, "namespace": "ns-%03d" % (i % namespaces),
                                  "labels": {"app": "svc-%d" % (i % 200)}},
                     "spec": {"nodeName": "node-%05d" % (i % nodes), "containers": [{
                         "name": "c", "image": "nginx:1.27", "resources": {
                             "requests": {"cpu": "100m", "memory": "64Mi"},
                             "limits": {"cpu": "200m", "memory": "128Mi"}}}]}})
    return {"namespaces": ["ns-%03d" % i for i in range(namespaces)], "objects": objs}


class Client:
    def __init__(self, d):
        with open(os.path.join(d, "port")) as f:
            self.port = int(f.read())
        with open(os.path.join(d, "admin.token")) as f:
            self.token = f.read().strip()
        self.ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))

    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=600)

    def get(self, path, query=None, method="GET"):
        c = self.conn()
        c.request(method, path + ("?" + urllib.parse.urlencode(query) if query else ""),
                  headers={"Authorization": "Bearer " + self.token})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, json.loads(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=100000)
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument("--delete-namespaces", type=int, default=10)
    ap.add_argument("--watchers", type=int, default=5)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="emu-bench-")
    sc = os.path.join(tmp, "scenario.json")
    with open(sc, "w") as f:
        json.dump(scenario(a.nodes, a.pods, a.namespaces), f)
    d = os.path.join(tmp, "state")
    t0 = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/python3", APISERVER, "--dir", d, "--scenario", sc,
                             "--no-cluster", "--history", str(a.pods + 10000)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while not os.path.exists(os.path.join(d, "ready")):
            if proc.poll() is not None:
                raise SystemExit("emulator exited")
            time.sleep(0.2)
        load_s = time.monotonic() - t0
        rss_loaded = rss_mb(proc.pid)
        cl = Client(d)
        # paginated list of all pods
        t1 = time.monotonic()
        n, pages, cont = 0, 0, None
        while True:
            q = {"limit": "500"}
            if cont:
                q["continue"] = cont
            st, b = cl.get("/api/v1/pods", q)
            assert st == 200, b
            n += len(b["items"])
            pages += 1
            cont = b["metadata"].get("continue")
            if not cont:
                break
        list_s = time.monotonic() - t1
        assert n == a.pods, (n, a.pods)
        rv = b["metadata"]["resourceVersion"]
        # watchers
        per_ns = a.pods // a.namespaces
        expected = per_ns * a.delete_namespaces
        counts = [0] * a.watchers
        done_at = [None] * a.watchers
        started = threading.Barrier(a.watchers + 1)

        def watch(i):
            c = cl.conn()
            c.request("GET", "/api/v1/pods?watch=1&resourceVersion=%s&timeoutSeconds=600" % rv,
                      headers={"Authorization": "Bearer " + cl.token})
            r = c.getresponse()
            started.wait()
            while counts[i] < expected:
                line = r.readline()
                if not line:
                    break
                if line.strip():
                    counts[i] += 1
            done_at[i] = time.monotonic()
            c.close()
        ths = [threading.Thread(target=watch, args=(i,)) for i in range(a.watchers)]
        for t in ths:
            t.start()
        started.wait()
        t2 = time.monotonic()
        for i in range(a.delete_namespaces):
            st, _b = cl.get("/api/v1/namespaces/ns-%03d/pods" % i, method="DELETE")
            assert st == 200
        writes_s = time.monotonic() - t2
        for t in ths:
            t.join()
        rss_peak = rss_mb(proc.pid)
        watch_s = max(done_at) - t2
        total = sum(counts)
        print(json.dumps({
            "nodes": a.nodes, "pods": a.pods, "load_seconds": round(load_s, 1),
            "rss_mb_after_load": round(rss_loaded), "list_pages": pages,
            "list_seconds": round(list_s, 2), "pods_listed_per_s": round(n / list_s),
            "watchers": a.watchers, "events_per_watcher": expected,
            "events_delivered": total, "deletecollection_seconds": round(writes_s, 2),
            "watch_seconds": round(watch_s, 2),
            "events_per_s_total": round(total / watch_s),
            "events_per_s_per_watcher": round(expected / watch_s),
            "rss_mb_after_watch": round(rss_peak)}, indent=1))
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    sys.exit(main())
