#!/usr/bin/python3
"""check_nash.py - independent check of clearing_solve against the Eisenberg-Gale program.

For seeded random markets, the allocation of clearing_solve (printed by the C driver
market_clearing_driver) must match the maximiser of  sum_i b_i * log(x_i)  subject to
m_i <= x_i <= M_i and sum_i x_i <= C, computed two other ways:
  1. exact rational bisection on the price (fractions.Fraction, no floating point), using
     only the KKT characterisation x_i = clamp(p*b_i, m_i, M_i), sum x_i = C;
  2. scipy.optimize.minimize (SLSQP, a generic constrained solver) on the program itself.
Every integer allocation must be within 1 millicore of both, and the C allocation's
objective must be at least scipy's (the solver cannot beat the exact optimum).
Also checks the special cases by rule: uncontended (caps), floors exceeding C (scaled),
and three markets of 20,000 participants against a vectorised float bisection.

Usage: check_nash.py DRIVER [N_INSTANCES]    (run by ctest as market_nash_check)
"""
import json
import math
import random
import subprocess
import sys
import warnings
from fractions import Fraction

import numpy as np
from scipy.optimize import minimize


def gen(rng, n, regime):
    parts = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.3:
            b = 10 ** rng.uniform(-3, 3)
        elif kind < 0.5:
            b = float(rng.randint(1, 3))
        else:
            b = rng.uniform(0.05, 10)
        f = 0 if rng.random() < 0.2 else rng.randint(0, 300)
        c = f + (0 if rng.random() < 0.1 else rng.randint(1, 2000))
        parts.append((rng.getrandbits(63), b, f, c))
    sf = sum(p[2] for p in parts)
    sc = sum(p[3] for p in parts)
    if regime == "floors":
        cap = rng.randint(0, max(sf - 1, 0))
    elif regime == "uncontended":
        cap = sc + rng.randint(0, 500)
    else:
        cap = rng.randint(sf, max(sc - 1, sf))
    return parts, cap


def bisect_exact(parts, cap, iters=110):
    """Price p with sum clamp(p b, m, M) = cap, by bisection in exact rationals."""
    bs = [(Fraction(b), Fraction(m), Fraction(M)) for _, b, m, M in parts]

    def g(p):
        return sum(min(max(p * b, m), M) for b, m, M in bs)

    lo, hi = Fraction(0), max(M / b for b, m, M in bs)
    capf = Fraction(cap)
    for _ in range(iters):
        mid = (lo + hi) / 2
        if g(mid) < capf:
            lo = mid
        else:
            hi = mid
        # keep the fractions small: round the bracket outward to 2^-80 relative
        scale = Fraction(1, 2 ** 80) * (hi if hi > 0 else 1)
        lo = Fraction(math.floor(lo / scale)) * scale
        hi = Fraction(math.ceil(hi / scale)) * scale
    p = (lo + hi) / 2
    return [float(min(max(p * b, m), M)) for b, m, M in bs]


def solve_scipy(parts, cap):
    """Generic solver on the free variables (m < M); fixed ones (m == M) are constants."""
    free = [i for i, p in enumerate(parts) if p[2] < p[3]]
    x = np.array([float(p[2]) for p in parts])
    if not free:
        return x, None
    xf, res = solve_scipy_free([parts[i] for i in free], cap - sum(p[2] for p in parts if p[2] == p[3]))
    x[free] = xf
    return x, res


def solve_scipy_free(parts, cap):
    b = np.array([p[1] for p in parts])
    b = b / b.sum()  # same maximiser, better scaled objective
    lo = np.array([max(p[2], 1e-3) for p in parts], dtype=float)
    hi = np.array([p[3] for p in parts], dtype=float)
    s = 1000.0  # work in cores for conditioning
    lo_s, hi_s, cap_s = lo / s, hi / s, cap / s
    x0 = np.clip(lo_s + (hi_s - lo_s) * (cap_s - lo_s.sum()) / max(hi_s.sum() - lo_s.sum(), 1e-12),
                 lo_s, hi_s)
    res = minimize(lambda x: -np.dot(b, np.log(x)), x0, jac=lambda x: -b / x, method="SLSQP",
                   bounds=list(zip(lo_s, hi_s)),
                   constraints=[{"type": "eq", "fun": lambda x: cap_s - x.sum(),
                                 "jac": lambda x: -np.ones_like(x)}],
                   options={"ftol": 1e-16, "maxiter": 1000})
    return res.x * s, res


def bisect_float(parts, cap, iters=200):
    """Vectorised float bisection on the price, for large markets."""
    b = np.array([p[1] for p in parts])
    m = np.array([p[2] for p in parts], dtype=float)
    M = np.array([p[3] for p in parts], dtype=float)
    lo, hi = 0.0, float(np.max(M / b))
    for _ in range(iters):
        mid = (lo + hi) / 2
        if np.clip(mid * b, m, M).sum() < cap:
            lo = mid
        else:
            hi = mid
    return np.clip((lo + hi) / 2 * b, m, M)


def objective(parts, x):
    return sum(p[1] * math.log(max(v, 1e-12)) for p, v in zip(parts, x))


def main():
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # SLSQP clipping notes
    driver = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(20261123)
    cases = []
    for t in range(count):
        regime = "contended" if t % 10 < 8 else ("floors" if t % 10 == 8 else "uncontended")
        cases.append((regime, *gen(rng, rng.randint(1, 40), regime)))
    big = [gen(rng, 20000, "contended") for _ in range(3)]  # radix path, realistic size
    for parts, cap in big:
        cases.append(("big", parts, cap))
    text = []
    for _, parts, cap in cases:
        text.append(f"{len(parts)} {cap}")
        text.extend(f"{k} {b!r} {f} {c}" for k, b, f, c in parts)
    out = subprocess.run([driver], input="\n".join(text) + "\n", capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(out) == len(cases), (len(out), len(cases))
    worst_bisect = worst_scipy = worst_big = 0.0
    checked = 0
    for (regime, parts, cap), line in zip(cases, out):  # noqa: C901
        r = json.loads(line)
        assert r["rc"] == 0, r
        alloc, exact = r["alloc"], r["exact"]
        assert sum(alloc) <= cap
        sf, sc = sum(p[2] for p in parts), sum(p[3] for p in parts)
        if regime != "big":
            regime = "floors" if sf > cap else ("uncontended" if sc <= cap else "contended")
        if regime == "uncontended":
            assert alloc == [p[3] for p in parts], (parts, cap, alloc)
            continue
        if regime == "floors":
            assert sum(alloc) == cap
            for p, a in zip(parts, alloc):
                assert abs(a - p[2] * cap / sf) < 1, (p, a)
            continue
        if regime == "big":  # float bisection only (exact rationals would be slow here)
            x = bisect_float(parts, cap)
            dev = float(np.max(np.abs(np.array(alloc) - x)))
            assert dev < 1, dev
            assert sum(alloc) == cap
            worst_big = max(worst_big, dev)
            continue
        if cap == 0:  # the only feasible point
            assert alloc == [0] * len(parts)
            continue
        x = bisect_exact(parts, cap)
        for a, e, v in zip(alloc, exact, x):
            assert abs(e - v) < 1e-6 * (1 + v), (parts, cap, e, v)
            assert abs(a - v) < 1, (parts, cap, a, v)
            worst_bisect = max(worst_bisect, abs(a - v))
        xs, res = solve_scipy(parts, cap)
        # SLSQP may stop with 'positive directional derivative' at its precision limit;
        # what counts is the distance to our answer, checked next.
        for a, v in zip(alloc, xs):
            assert abs(a - v) < 1, (parts, cap, a, v, "scipy")
            worst_scipy = max(worst_scipy, abs(a - v))
        # the exact optimum is at least as good as the generic solver's answer
        oc, os_ = objective(parts, exact), objective(parts, xs)
        assert oc >= os_ - 1e-9 * (1 + abs(os_)), (oc, os_, sum(xs) - cap, parts, cap)
        checked += 1
    print(f"checked {checked} contended markets (+{len(cases) - checked} special) ; "
          f"max |alloc - bisection| = {worst_bisect:.4f}m, max |alloc - scipy| = {worst_scipy:.4f}m, "
          f"3 markets of 20,000: max |alloc - float bisection| = {worst_big:.4f}m")


if __name__ == "__main__":
    main()
