"""Usage model of the simulated cluster: workload loads and the per-pod queueing model.

Units
  * A workload's load is a request rate in requests/s (``unit: rps``, the default) or a CPU
    demand in cores (``unit: cores``, converted to requests/s with ``cpuPerRequest``).
  * ``cpuPerRequest`` (CPU-seconds per request, default 0.01) is the service cost: a pod with
    an effective CPU allocation of ``a`` cores serves at most mu = a / cpuPerRequest
    requests/s (further capped by ``perPodCapacity`` requests/s when given).
  * Each Ready pod of a workload receives lambda = load(t) / readyPods requests/s.
  * CPU usage of a pod = min(lambda * cpuPerRequest, a)   (a = CPU limit; without a limit the
    node's allocatable CPU).
  * Queue/latency, M/M/1-ish: rho = lambda / mu. Steady part L_ss = r/(1-r) with r=min(rho,0.99);
    a fluid backlog q grows at (lambda - mu)/s while overloaded and drains at (mu - lambda)/s
    (capped at maxQueue, excess dropped). Queue length L = L_ss + q; latency W = L / min(lambda, mu)
    (Little's law), 1/mu when idle. Demand (the agent's /demand) = min(1, rho), 1 while q > 0.

Loads (a workload's ``load`` key):
  constant:   {constant: 40}            or just a number
  steps:      {steps: [{t: 0, value: 10}, {t: 60, value: 80}], repeat: 300}  (t in simulated s)
  trace:      {trace: nasa_http_1995_jul.csv, column: requests, peak: 100 | scale: 0.5,
               speedup: 60, offset: 0, loop: true}
              A relative trace path is looked up beside the scenario file, then in the shared
              traces folder ($MBCAS_SHARED_DIR/traces or ../shared/traces beside the checkout).
              speedup = trace seconds per simulated second; offset = trace second at t=0.
              Each row holds from its t_seconds to the next row (step function).
  any form may add ``unit: cores`` (values are CPU cores instead of requests/s).
"""

import bisect
import csv
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


class LoadError(ValueError):
    pass


def _num(v, what):
    try:
        return float(v)
    except (TypeError, ValueError):
        raise LoadError("%s: not a number: %r" % (what, v))


def trace_dirs(scenario_path=None):
    dirs = []
    if scenario_path:
        dirs.append(os.path.dirname(os.path.abspath(scenario_path)))
    env = os.environ.get("MBCAS_SHARED_DIR")
    if env:
        dirs.append(os.path.join(env, "traces"))
    # test/apiserver -> checkout -> ../shared/traces
    dirs.append(os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "traces")))
    dirs.append(os.path.join(HERE, "scenarios"))
    return dirs


def find_trace(path, scenario_path=None):
    if os.path.isabs(path):
        if os.path.exists(path):
            return path
        raise LoadError("trace file not found: %s" % path)
    for d in trace_dirs(scenario_path):
        p = os.path.join(d, path)
        if os.path.exists(p):
            return p
    raise LoadError("trace file not found: %s (looked in %s)"
                    % (path, ", ".join(trace_dirs(scenario_path))))


_TRACE_CACHE = {}


def read_trace(path, column=None):
    """-> (times list, values list) of one numeric column of a trace CSV."""
    key = (path, column)
    if key in _TRACE_CACHE:
        return _TRACE_CACHE[key]
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        if column is None:
            if len(header) < 2:
                raise LoadError("%s: no load column" % path)
            ci = 1
        elif isinstance(column, int):
            ci = column
        elif column in header:
            ci = header.index(column)
        else:
            raise LoadError("%s: no column %r (have %s)" % (path, column, ", ".join(header)))
        ts, vs = [], []
        for row in rd:
            if not row:
                continue
            ts.append(float(row[0]))
            vs.append(float(row[ci]))
    if not ts:
        raise LoadError("%s: no rows" % path)
    _TRACE_CACHE[key] = (ts, vs)
    return ts, vs


class Load:
    """load(t) -> requests/s (or cores, see unit) at simulated second t."""

    def __init__(self, spec, scenario_path=None):
        self.spec = spec
        self.unit = "rps"
        self.kind = "constant"
        self.value = 0.0
        if spec is None:
            return
        if isinstance(spec, (int, float, str)) and not isinstance(spec, bool):
            self.value = _num(spec, "load")
            return
        if not isinstance(spec, dict):
            raise LoadError("load: expected a number or a mapping")
        self.unit = spec.get("unit", "rps")
        if self.unit not in ("rps", "cores"):
            raise LoadError("load.unit: must be rps or cores, not %r" % self.unit)
        if "constant" in spec:
            self.value = _num(spec["constant"], "load.constant")
        elif "steps" in spec:
            self.kind = "steps"
            steps = sorted(((_num(s.get("t", 0), "load.steps[].t"),
                             _num(s.get("value", 0), "load.steps[].value"))
                            for s in spec["steps"] or []), key=lambda x: x[0])
            if not steps:
                raise LoadError("load.steps: empty")
            self.ts = [s[0] for s in steps]
            self.vs = [s[1] for s in steps]
            self.repeat = _num(spec["repeat"], "load.repeat") if spec.get("repeat") else 0.0
        elif "trace" in spec:
            self.kind = "trace"
            path = find_trace(str(spec["trace"]), scenario_path)
            ts, vs = read_trace(path, spec.get("column"))
            self.ts = ts
            factor = 1.0
            if "peak" in spec:
                mx = max(vs)
                factor = _num(spec["peak"], "load.peak") / mx if mx > 0 else 0.0
            elif "scale" in spec:
                factor = _num(spec["scale"], "load.scale")
            self.vs = [v * factor for v in vs]
            self.speedup = _num(spec.get("speedup", 1), "load.speedup")
            self.offset = _num(spec.get("offset", 0), "load.offset")
            self.loop = bool(spec.get("loop", True))
            step = (ts[-1] - ts[0]) / (len(ts) - 1) if len(ts) > 1 else 1.0
            self.span = ts[-1] - ts[0] + step
            self.path = path
        elif "value" in spec:
            self.value = _num(spec["value"], "load.value")
        else:
            raise LoadError("load: needs constant, steps or trace")

    def __call__(self, t):
        if self.kind == "constant":
            return self.value
        if self.kind == "steps":
            if self.repeat > 0 and t >= 0:
                t = math.fmod(t, self.repeat)
            i = bisect.bisect_right(self.ts, t) - 1
            return self.vs[i] if i >= 0 else 0.0
        # trace
        tt = self.offset + t * self.speedup
        if self.loop and self.span > 0:
            tt = self.ts[0] + math.fmod(tt - self.ts[0], self.span)
            if tt < self.ts[0]:
                tt += self.span
        i = bisect.bisect_right(self.ts, tt) - 1
        if i < 0:
            return self.vs[0]
        return self.vs[min(i, len(self.vs) - 1)]


class QueueState:
    """The per-pod fluid backlog, integrated lazily (only when someone looks or something
    that changes the pod's rates happens)."""

    __slots__ = ("q", "t", "dropped", "served")

    def __init__(self, t):
        self.q = 0.0
        self.t = t
        self.dropped = 0.0
        self.served = 0.0


MAX_SUBSTEPS = 20


def advance(qs, t, rate_fn, mu, step, max_queue, const_rate=None):
    """Integrate backlog qs from qs.t to t. rate_fn(t) -> arrivals/s; mu -> service rate.
    const_rate: the arrival rate when it is constant over the interval (closed form)."""
    dt = t - qs.t
    if dt <= 0:
        return
    if const_rate is not None:
        lam = const_rate
        q = qs.q
        if lam >= mu:
            qs.served += mu * dt
            q += (lam - mu) * dt
        else:
            drain = min(q, (mu - lam) * dt)
            qs.served += lam * dt + drain
            q -= drain
        if q > max_queue:
            qs.dropped += q - max_queue
            q = max_queue
        qs.q = q if q > 1e-9 else 0.0
        qs.t = t
        return
    n = max(1, min(MAX_SUBSTEPS, int(math.ceil(dt / max(step, 1e-6)))))
    h = dt / n
    q = qs.q
    tt = qs.t
    for _ in range(n):
        lam = rate_fn(tt + h / 2)
        served = min(mu, lam + q / h) if mu > 0 else 0.0
        q = q + (lam - served) * h
        qs.served += served * h
        if q > max_queue:
            qs.dropped += q - max_queue
            q = max_queue
        if q < 1e-9:
            q = 0.0
        tt += h
    qs.q = q
    qs.t = t


def pod_figures(lam, mu, q, cpu_per_request, alloc):
    """-> dict(rate, cpu, queue, latency, demand, mu) for arrival rate lam, service rate mu,
    backlog q, cost per request and effective CPU allocation (cores)."""
    cpu = min(lam * cpu_per_request, alloc) if alloc > 0 else 0.0
    if mu <= 0:
        return {"rate": lam, "cpu": cpu, "queue": q + (1.0 if lam > 0 else 0.0),
                "latency": float("inf") if lam > 0 else 0.0, "demand": 1.0 if lam > 0 else 0.0,
                "mu": 0.0}
    rho = lam / mu
    r = min(rho, 0.99)
    lss = r / (1.0 - r)
    qlen = lss + q
    x = min(lam, mu)
    latency = qlen / x if x > 0 else 1.0 / mu
    demand = 1.0 if q > 0 else min(1.0, rho)
    return {"rate": lam, "cpu": cpu, "queue": qlen, "latency": latency, "demand": demand,
            "mu": mu}
