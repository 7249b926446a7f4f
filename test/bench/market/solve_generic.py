#!/usr/bin/python3
"""solve_generic.py - the benchmark's reference: the same markets solved by a generic
convex solver (scipy.optimize.minimize), to put the exact C clearing side by side.

Reads instances in market_clearing_driver's input format (as dumped by bench_market
--dump) and maximises sum b_i log x_i s.t. m_i <= x_i <= M_i, sum x_i = C with
  SLSQP         (dense active-set SQP; used up to 1,000 variables), or
  trust-constr  (interior point with a sparse constraint and a diagonal Hessian).
Prints per file: instances, solver, median seconds per instance, and the largest
deviation from the C allocations (market_clearing_driver run on the same file).

Usage: solve_generic.py DRIVER FILE [--method M] [--limit K]
"""
import json
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, minimize


def read(path, limit):
    out = []
    with open(path) as f:
        tok = f.read().split()
    i = 0
    while i < len(tok) and (limit is None or len(out) < limit):
        n, cap = int(tok[i]), int(tok[i + 1])
        i += 2
        rows = np.array(tok[i:i + 4 * n], dtype=object).reshape(n, 4) if n else np.zeros((0, 4))
        i += 4 * n
        out.append((n, cap, rows))
    return out


def solve(n, cap, rows, method):
    b = rows[:, 1].astype(float)
    m = rows[:, 2].astype(float)
    M = rows[:, 3].astype(float)
    free = (m < M) & (b > 0)
    fixed = cap - m[~free].sum()
    bf = b[free] / b[free].sum()
    s = 1000.0
    lo = np.maximum(m[free], 1e-3) / s
    hi = M[free] / s
    c = fixed / s
    x0 = np.clip(lo + (hi - lo) * (c - lo.sum()) / max(hi.sum() - lo.sum(), 1e-12), lo, hi)
    f = lambda x: -np.dot(bf, np.log(x))
    g = lambda x: -bf / x
    t0 = time.perf_counter()
    if method == "SLSQP":
        r = minimize(f, x0, jac=g, method="SLSQP", bounds=list(zip(lo, hi)),
                     constraints=[{"type": "eq", "fun": lambda x: c - x.sum(),
                                   "jac": lambda x: -np.ones_like(x)}],
                     options={"ftol": 1e-12, "maxiter": 2000})
    else:
        from scipy.sparse import csr_matrix, diags
        A = csr_matrix(np.ones((1, len(lo))))
        r = minimize(f, x0, jac=g, hess=lambda x: diags(bf / x ** 2), method="trust-constr",
                     bounds=Bounds(lo, hi), constraints=[LinearConstraint(A, c, c)],
                     options={"gtol": 1e-10, "xtol": 1e-12, "maxiter": 5000})
    dt = time.perf_counter() - t0
    x = m.copy()
    x[free] = r.x * s
    return dt, x


def main():
    warnings.filterwarnings("ignore")
    driver, path = sys.argv[1], sys.argv[2]
    method, limit = "SLSQP", None
    args = sys.argv[3:]
    while args:
        if args[0] == "--method":
            method = args[1]
        elif args[0] == "--limit":
            limit = int(args[1])
        args = args[2:]
    inst = read(path, limit)
    text = "\n".join(f"{n} {cap}\n" + "\n".join(" ".join(r) for r in rows) for n, cap, rows in inst)
    c_out = [json.loads(l) for l in subprocess.run([driver], input=text + "\n", text=True,
                                                   capture_output=True, check=True).stdout.splitlines()]
    times, dev = [], 0.0
    for (n, cap, rows), co in zip(inst, c_out):
        dt, x = solve(n, cap, rows, method)
        times.append(dt)
        dev = max(dev, float(np.max(np.abs(x - np.array(co["exact"])))))
    c_ns = statistics.median(co["ns"] for co in c_out)
    print(json.dumps({"file": path, "instances": len(inst), "method": method,
                      "median_s": statistics.median(times), "total_s": sum(times),
                      "c_driver_cold_median_ns": c_ns, "max_dev_m": dev}))


if __name__ == "__main__":
    main()
