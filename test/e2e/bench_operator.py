"""Operator benchmark (not part of ctest): event-to-status latency and resource use of
mbcas-operator against the API-server emulator with many participant pods.

    /usr/bin/python3 test/e2e/bench_operator.py --pods 1000  --samples 30 --duration 0
    /usr/bin/python3 test/e2e/bench_operator.py --pods 10000 --samples 30 --duration 600
    (--mode Enforce adds the pods/resize calls; default Recommend; --op-arg=--status-writers=1
    passes a flag to the operator, repeatable)

Event-to-status latency: a ServiceBudget's spec.budget is changed (a new generation);
the time until its status.observedGeneration shows that generation - i.e. the watch
event, the market's re-clearing and the status write - measured by polling GET every
10 ms. Resource use: RSS (VmRSS, sampled every 5 s) and CPU (utime+stime from
/proc/PID/stat) of the operator over --duration seconds at a 15 s clearing interval.
Set MBCAS_BUILD_DIR to pick the build (RelWithDebInfo recommended).
"""

import argparse
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Cluster, budget, market, scenario  # noqa: E402


def build_scenario(pods, budgets, mode):
    per = max(1, pods // budgets)
    wl = []
    objs = [market(mode=mode, clearingInterval="15s", guardrails={"maxStepPercent": 50, "cooldown": "30s",
                                                       "deadBand": "5%"})]
    for i in range(budgets):
        name = "svc-%03d" % i
        wl.append({"kind": "Deployment", "namespace": "shop", "name": name, "replicas": per,
                   "labels": {"app": name},
                   "containers": [{"name": "app", "resources": {
                       "requests": {"cpu": "100m", "memory": "64Mi"},
                       "limits": {"cpu": "200m", "memory": "64Mi"}}}],
                   "cpuPerRequest": 0.01, "load": 10 * per * (1 + i % 3)})
        objs.append(budget(name, 100 + 10 * (i % 7), cpu={"min": "50m", "max": "1"}))
    nodes = max(1, (pods + 49) // 50)
    sc = scenario(wl, objects=objs, nodes=nodes, cpu="32",
                  settings={"tickInterval": 2, "podAdmission": False, "startupDelay": "0s"})
    return sc


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / ticks


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--budgets", type=int, default=100)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--duration", type=int, default=0, help="seconds of RSS/CPU sampling")
    ap.add_argument("--mode", default="Recommend", choices=["Enforce", "Recommend"],
                    help="market mode (Recommend: everything but the resize calls)")
    ap.add_argument("--op-arg", action="append", default=[],
                    help="extra operator flag, e.g. --op-arg=--kube-api-qps=20 (repeatable)")
    a = ap.parse_args()
    t0 = time.monotonic()
    with Cluster(build_scenario(a.pods, a.budgets, a.mode)) as c:
        print("emulator ready in %.1fs (%d pods, %d ServiceBudgets, mode %s)" % (
            time.monotonic() - t0, a.pods, a.budgets, a.mode))
        op = c.operator("--log-level=info", *a.op_arg)
        pid = op.proc.pid
        t1 = time.monotonic()
        c.wait(lambda: c.sm().get("status", {}).get("lastClearingTime"), timeout=600, interval=1,
               what="first clearing")
        print("first clearing done %.1fs after start; participants=%s" % (
            time.monotonic() - t1, c.sm()["status"].get("participants")))
        lat = []
        for i in range(a.samples):
            name = "svc-%03d" % (i % a.budgets)
            path = "/apis/mbcas.io/v1alpha1/namespaces/shop/servicebudgets/" + name
            st, body = c.patch(path, {"spec": {"budget": 200 + i}})
            assert st == 200, body
            gen = body["metadata"]["generation"]
            s = time.monotonic()
            while True:
                sb = c.get(path) or {}
                if sb.get("status", {}).get("observedGeneration") == gen:
                    break
                if time.monotonic() - s > 120:
                    raise SystemExit("no status for %s gen %d after 120 s" % (name, gen))
                time.sleep(0.01)
            lat.append(time.monotonic() - s)
            time.sleep(0.5)
        if lat:
            print("event-to-status latency over %d changes: p50 %.3fs p99 %.3fs max %.3fs mean %.3fs" % (
                len(lat), pct(lat, 50), pct(lat, 99), max(lat), statistics.mean(lat)))
        if a.duration > 0:
            rss = []
            cpu0, w0 = proc_cpu_seconds(pid), time.monotonic()
            while time.monotonic() - w0 < a.duration:
                rss.append(proc_rss_kib(pid))
                time.sleep(5)
            cpu1, w1 = proc_cpu_seconds(pid), time.monotonic()
            print("over %.0fs: RSS max %.1f MiB, mean %.1f MiB; CPU %.2f%% of one core" % (
                w1 - w0, max(rss) / 1024.0, statistics.mean(rss) / 1024.0,
                100.0 * (cpu1 - cpu0) / (w1 - w0)))
        print("operator RSS at end: %.1f MiB" % (proc_rss_kib(pid) / 1024.0))
        secs = []
        with open(op.logpath) as f:
            for line in f:
                if "market cleared" in line and "seconds=" in line:
                    secs.append(float(line.split("seconds=")[1].split()[0].strip('"')))
        if secs:
            print("clearings: %d, seconds to the decisions written: p50 %.3f max %.3f" % (
                len(secs), pct(secs, 50), max(secs)))
        code = op.stop(timeout=30)
        print("operator exit code %d" % code)


if __name__ == "__main__":
    main()
