"""Benchmark of the simulated cluster alone (in-process Store + Cluster, no HTTP).

    /usr/bin/python3 test/apiserver/cluster_bench.py [--nodes 5000] [--pods 100000] [--full-pods]

Builds NODES nodes (32 CPU) and PODS pods in 100 Deployments (warm start), then times one idle
tick, a scale-down by 500 pods, a PodMetrics list of every pod, a NodeMetrics list and the
Prometheus exposition. Prints one line per figure; peak RSS from getrusage.
"""

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from store import Store  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=100000)
    ap.add_argument("--full-pods", action="store_true",
                    help="admission-mutated pods (token volume etc.) instead of lean ones")
    a = ap.parse_args()
    deployments = 100
    per = max(1, a.pods // deployments)
    sc = {"settings": {"podAdmission": a.full_pods, "warmStart": True},
          "nodes": [{"prefix": "node", "count": a.nodes, "cpu": "32", "memory": "128Gi"}],
          "workloads": [{"name": "svc-%03d" % i, "namespace": "ns-%02d" % (i % 10),
                         "replicas": per, "load": 10 * (i + 1),
                         "containers": [{"name": "app", "resources": {
                             "requests": {"cpu": "100m", "memory": "64Mi"},
                             "limits": {"cpu": "200m", "memory": "64Mi"}}}]}
                        for i in range(deployments)]}
    store = Store()
    t0 = time.perf_counter()
    c = cluster.Cluster(store, sc, {})
    c.start(threads=False)
    print("start (nodes + pods, warm): %.1f s for %d nodes, %d pods"
          % (time.perf_counter() - t0, len(c.nodes), len(c.pods)))

    def timed(label, fn):
        t = time.perf_counter()
        r = fn()
        print("%s: %.3f s" % (label, time.perf_counter() - t))
        return r
    timed("idle tick", c.step)
    d = store.get(cluster.DEPLOY, "ns-00", "svc-000")
    gone = min(per, 500)
    d["spec"]["replicas"] = per - gone
    store.update(cluster.DEPLOY, d)
    timed("tick deleting %d pods" % gone, c.step)
    timed("PodMetrics list, all namespaces",
          lambda: c.handle_metrics("GET", "/apis/metrics.k8s.io/v1beta1/pods", {}))
    timed("PodMetrics list, one namespace",
          lambda: c.handle_metrics("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/ns-01/pods",
                                   {}))
    timed("NodeMetrics list", lambda: c.handle_metrics("GET", "/apis/metrics.k8s.io/v1beta1/nodes",
                                                        {}))
    timed("Prometheus exposition", c.handle_prom_scrape)
    print("peak RSS: %d MiB; errors: %d"
          % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, c.errors))
    return 0 if c.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
