/* clearing.c - exact clearing of one node's CPU market (see clearing.h).
 *
 * Sections: validation; the radix sort of breakpoints; the water-filling sweep; the
 * largest-remainder rounding; the public entry point that picks the case (empty,
 * uncontended, floors exceed, contended with or without the zero-bid phase).
 *
 * The sweep keeps the constant part of g(p) = sum clamp(p*b_i, m_i, M_i) as an exact
 * integer and only locates the linear piece that crosses C; the slope of that piece is
 * then summed afresh (long double, input order) so no cancellation error accumulates. */
#include "clearing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds keep every sum of millicores far from int64 overflow. */
#define CLEARING_MAX_M (INT64_C(1) << 40)
#define CLEARING_MAX_N ((size_t)1 << 22)

enum { ST_FLOOR = 0, ST_BETWEEN = 1, ST_CAP = 2 };

typedef struct event {
  uint64_t key;   /* bit pattern of a non-negative double: orders like the value */
  double dslope;  /* change of the slope of g when p passes this breakpoint */
  int64_t dconst; /* change of the constant part of g */
} event;

/* One participant's working data. */
typedef struct work {
  double exact;
  int64_t lo, hi; /* integer bounds for rounding */
  int64_t base;
  double frac;
  uint8_t state;
} work;

/* ---- validation ---------------------------------------------------------------- */

static mbcas_rc validate(const clearing_participant *p, size_t n, mbcas_err *err) {
  if (n > CLEARING_MAX_N)
    return mbcas_err_set(err, MBCAS_EINVAL, "participants", "more than %zu participants",
                         CLEARING_MAX_N);
  if (n > 0 && !p)
    return mbcas_err_set(err, MBCAS_EINVAL, "participants", "NULL with n > 0");
  for (size_t i = 0; i < n; i++) {
    char f[64];
    if (!(p[i].bid >= 0) || !isfinite(p[i].bid)) {
      snprintf(f, sizeof f, "participants[%zu].bid", i);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "must be finite and >= 0");
    }
    if (p[i].floor_m < 0 || p[i].floor_m > CLEARING_MAX_M) {
      snprintf(f, sizeof f, "participants[%zu].floor_m", i);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "must be in [0, 2^40]");
    }
    if (p[i].cap_m < p[i].floor_m || p[i].cap_m > CLEARING_MAX_M) {
      snprintf(f, sizeof f, "participants[%zu].cap_m", i);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "must be >= floor_m and <= 2^40");
    }
  }
  return MBCAS_OK;
}

/* ---- radix sort ---------------------------------------------------------------- */

static uint64_t dkey(double v) {
  uint64_t k;
  if (v == 0) v = 0; /* -0 -> +0 */
  memcpy(&k, &v, sizeof k);
  return k;
}

/* Stable LSD radix sort of a[0..n) by key, 8 bits a pass, skipping passes where every
 * key has the same byte. tmp has n entries. Returns the array holding the result. */
static event *radix_sort(event *a, event *tmp, size_t n) {
  if (n < 64) { /* insertion sort: stable */
    for (size_t i = 1; i < n; i++) {
      event e = a[i];
      size_t j = i;
      while (j > 0 && a[j - 1].key > e.key) {
        a[j] = a[j - 1];
        j--;
      }
      a[j] = e;
    }
    return a;
  }
  size_t cnt[8][256];
  memset(cnt, 0, sizeof cnt);
  for (size_t i = 0; i < n; i++)
    for (int b = 0; b < 8; b++) cnt[b][(a[i].key >> (8 * b)) & 0xff]++;
  event *src = a, *dst = tmp;
  for (int b = 0; b < 8; b++) {
    if (cnt[b][(src[0].key >> (8 * b)) & 0xff] == n) continue;
    size_t sum = 0;
    for (int d = 0; d < 256; d++) {
      size_t c = cnt[b][d];
      cnt[b][d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) dst[cnt[b][(src[i].key >> (8 * b)) & 0xff]++] = src[i];
    event *t = src;
    src = dst;
    dst = t;
  }
  return src;
}

/* ---- water-filling ------------------------------------------------------------- */

/* Solve sum clamp(p*b_i, m_i, M_i) = K over the participants idx[0..m) (all b_i > 0),
 * given sum m_i <= K <= sum M_i. Sets w[i].exact/state; returns p. ev/tmp: 2m entries.
 * The sweep reads the sorted events sequentially (each carries its own deltas), so it
 * never jumps around the participant arrays; the state of each participant on the
 * crossing piece is then read off its breakpoint keys in one input-order pass. */
static double water_fill(work *w, const clearing_participant *p, const uint32_t *idx,
                         size_t m, const double *bids, int64_t K, event *ev, event *tmp) {
  int64_t cst = 0;
  for (size_t j = 0; j < m; j++) {
    uint32_t i = idx[j];
    double b = bids ? bids[j] : p[i].bid;
    ev[2 * j] = (event){dkey((double)p[i].floor_m / b), b, -p[i].floor_m};
    ev[2 * j + 1] = (event){dkey((double)p[i].cap_m / b), -b, p[i].cap_m};
    cst += p[i].floor_m;
  }
  double price = 0;
  if (cst < K) {
    event *s = radix_sort(ev, tmp, 2 * m);
    /* Sweep: before the events at value v, g(v) = cst + slope*v. Stop at the first event
     * value with g(v) >= K; the answer lies on the piece just before it. */
    long double slope = 0;
    size_t k = 0;
    uint64_t stop = UINT64_MAX; /* events with key < stop are processed */
    double v = 0;
    while (k < 2 * m) {
      uint64_t key = s[k].key;
      double vk;
      memcpy(&vk, &key, sizeof vk);
      if ((long double)cst + slope * (long double)vk >= (long double)K) {
        stop = key;
        v = vk;
        break;
      }
      while (k < 2 * m && s[k].key == key) {
        cst += s[k].dconst;
        slope += s[k].dslope;
        k++;
      }
      v = vk;
    }
    /* States on the crossing piece, and its exact slope summed afresh in input order. */
    long double sl = 0;
    int64_t c2 = 0;
    for (size_t j = 0; j < m; j++) {
      uint32_t i = idx[j];
      double b = bids ? bids[j] : p[i].bid;
      if (dkey((double)p[i].cap_m / b) < stop) {
        c2 += p[i].cap_m;
      } else if (dkey((double)p[i].floor_m / b) < stop) {
        sl += b;
      } else {
        c2 += p[i].floor_m;
      }
    }
    if (sl > 0) {
      price = (double)(((long double)K - (long double)c2) / sl);
      if (price > v) price = v;
    } else {
      price = v;
    }
    if (price < 0) price = 0;
  }
  for (size_t j = 0; j < m; j++) {
    uint32_t i = idx[j];
    double b = bids ? bids[j] : p[i].bid;
    double x = price * b;
    double fl = (double)p[i].floor_m, cp = (double)p[i].cap_m;
    if (x <= fl) {
      x = fl;
      w[i].state = ST_FLOOR;
    } else if (x >= cp) {
      x = cp;
      w[i].state = ST_CAP;
    } else {
      w[i].state = ST_BETWEEN;
    }
    w[i].exact = x;
  }
  return price;
}

/* ---- rounding ------------------------------------------------------------------ */

typedef struct rcand {
  double frac;
  uint64_t key;
  uint32_t idx;
} rcand;

/* Strict total order: larger fraction first, then smaller key, then smaller index. */
static int rc_before(const rcand *a, const rcand *b) {
  if (a->frac != b->frac) return a->frac > b->frac;
  if (a->key != b->key) return a->key < b->key;
  return a->idx < b->idx;
}

static int rc_cmp(const void *x, const void *y) {
  const rcand *a = x, *b = y;
  return rc_before(a, b) ? -1 : (rc_before(b, a) ? 1 : 0);
}

/* Rearrange c so that its first r entries are the r first in rc order (as a set). */
static void select_top(rcand *c, size_t n, size_t r) {
  if (r == 0 || r >= n) return;
  size_t lo = 0, hi = n; /* the boundary r lies in [lo, hi) */
  int budget = 64;
  while (hi - lo > 16 && budget-- > 0) {
    rcand *a = &c[lo], *b = &c[lo + (hi - lo) / 2], *d = &c[hi - 1];
    rcand piv; /* median of three */
    if (rc_before(a, b))
      piv = rc_before(b, d) ? *b : (rc_before(a, d) ? *d : *a);
    else
      piv = rc_before(a, d) ? *a : (rc_before(b, d) ? *d : *b);
    /* three-way partition: [lo, lt) before pivot, [lt, gt) equal, [gt, hi) after */
    size_t lt = lo, i = lo, gt = hi;
    while (i < gt) {
      if (rc_before(&c[i], &piv)) {
        rcand t = c[i]; c[i] = c[lt]; c[lt] = t;
        lt++; i++;
      } else if (rc_before(&piv, &c[i])) {
        gt--;
        rcand t = c[i]; c[i] = c[gt]; c[gt] = t;
      } else {
        i++;
      }
    }
    if (r < lt) hi = lt;
    else if (r >= gt) lo = gt;
    else return;
  }
  qsort(c + lo, hi - lo, sizeof *c, rc_cmp);
}

/* Integer allocations summing to target (when the bounds allow): floor of each exact
 * value within [lo, hi], then +1 to the largest fractions (or -1 from the smallest). */
static void round_alloc(work *w, const clearing_participant *p, size_t n, int64_t target,
                        rcand *cand, clearing_alloc *out) {
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    double f = floor(w[i].exact);
    int64_t b = (int64_t)f;
    if (b < w[i].lo) b = w[i].lo;
    if (b > w[i].hi) b = w[i].hi;
    w[i].base = b;
    w[i].frac = w[i].exact - (double)b;
    sum += b;
  }
  int64_t r = target - sum;
  while (r > 0) { /* normally one pass */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (w[i].base < w[i].hi)
        cand[m++] = (rcand){w[i].frac, p[i].key, (uint32_t)i};
    if (m == 0) break;
    size_t take = (size_t)r < m ? (size_t)r : m;
    select_top(cand, m, take);
    for (size_t j = 0; j < take; j++) {
      w[cand[j].idx].base++;
      w[cand[j].idx].frac -= 1;
      out[cand[j].idx].flags |= CLEARING_ROUNDED_UP;
    }
    r -= (int64_t)take;
  }
  while (r < 0) { /* only after floating-point overshoot: take from smallest fractions */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (w[i].base > w[i].lo)
        cand[m++] = (rcand){-w[i].frac, p[i].key, (uint32_t)i};
    if (m == 0) break;
    size_t take = (size_t)(-r) < m ? (size_t)(-r) : m;
    select_top(cand, m, take);
    for (size_t j = 0; j < take; j++) {
      w[cand[j].idx].base--;
      w[cand[j].idx].frac += 1;
    }
    r += (int64_t)take;
  }
  for (size_t i = 0; i < n; i++) {
    out[i].alloc_m = w[i].base;
    out[i].exact_m = w[i].exact;
  }
}

/* ---- public -------------------------------------------------------------------- */

int64_t clearing_capacity(int64_t allocatable_m, int64_t reserve_m, int64_t non_participant_m) {
  if (allocatable_m <= 0) return 0;
  if (reserve_m < 0) reserve_m = 0;
  if (non_participant_m < 0) non_participant_m = 0;
  if (reserve_m >= allocatable_m) return 0;
  int64_t c = allocatable_m - reserve_m;
  return non_participant_m >= c ? 0 : c - non_participant_m;
}

mbcas_rc clearing_solve(clearing_alloc *out, clearing_result *res,
                        const clearing_participant *p, size_t n, int64_t capacity_m,
                        mbcas_err *err) {
  if (!res || (n > 0 && !out))
    return mbcas_err_set(err, MBCAS_EINVAL, "", "out and res are required");
  mbcas_rc rc = validate(p, n, err);
  if (rc != MBCAS_OK) return rc;
  int64_t C = capacity_m < 0 ? 0 : capacity_m;
  clearing_result r;
  memset(&r, 0, sizeof r);
  r.capacity_m = C;
  r.floor_scale = 1;
  if (n == 0) {
    r.flags = CLEARING_EMPTY;
    *res = r;
    return MBCAS_OK;
  }
  /* one block: work[n], idx[n], cand[n], events 2 x 2n */
  size_t bytes = n * (sizeof(work) + sizeof(uint32_t) + sizeof(rcand) + 4 * sizeof(event) +
                      sizeof(double));
  unsigned char *mem = malloc(bytes);
  if (!mem) return mbcas_err_set(err, MBCAS_ENOMEM, "", "clearing scratch");
  event *ev = (event *)mem;
  event *tmp = ev + 2 * n;
  work *w = (work *)(tmp + 2 * n);
  rcand *cand = (rcand *)(w + n);
  double *zw = (double *)(cand + n); /* zero-bid phase weights */
  uint32_t *idx = (uint32_t *)(zw + n);

  memset(out, 0, n * sizeof *out); /* padding too: byte-identical output */
  int64_t sum_f = 0, sum_c = 0, sum_fz = 0, sum_cp = 0;
  size_t n_pos = 0;
  for (size_t i = 0; i < n; i++) {
    sum_f += p[i].floor_m;
    sum_c += p[i].cap_m;
    if (p[i].bid > 0) {
      n_pos++;
      sum_cp += p[i].cap_m;
    } else {
      sum_fz += p[i].floor_m;
    }
    w[i].lo = p[i].floor_m;
    w[i].hi = p[i].cap_m;
    out[i].flags = p[i].bid > 0 ? 0 : CLEARING_ZERO_BID;
  }
  double max_ratio = 0; /* smallest price capping every positive bidder */
  for (size_t i = 0; i < n; i++)
    if (p[i].bid > 0) {
      double q = (double)p[i].cap_m / p[i].bid;
      if (q > max_ratio) max_ratio = q;
    }
  int64_t target;
  if (sum_f > C) { /* floors alone exceed capacity: scale them down */
    r.flags = CLEARING_FLOORS_EXCEED | CLEARING_CONTENDED;
    r.floor_scale = (double)C / (double)sum_f;
    for (size_t i = 0; i < n; i++) {
      w[i].exact = (double)((long double)p[i].floor_m * C / sum_f);
      w[i].lo = 0;
      w[i].hi = p[i].floor_m;
      w[i].state = ST_FLOOR;
      out[i].flags |= CLEARING_FLOOR_SCALED;
    }
    target = C;
  } else if (sum_c <= C) { /* every cap fits */
    r.flags = CLEARING_UNCONTENDED;
    r.price = max_ratio;
    for (size_t i = 0; i < n; i++) {
      w[i].exact = (double)p[i].cap_m;
      w[i].state = ST_CAP;
    }
    target = sum_c;
  } else {
    r.flags = CLEARING_CONTENDED;
    target = C;
    if (sum_cp + sum_fz >= C) { /* positive bidders share C minus the zero bidders' floors */
      size_t m = 0;
      for (size_t i = 0; i < n; i++) {
        if (p[i].bid > 0) {
          idx[m++] = (uint32_t)i;
        } else {
          w[i].exact = (double)p[i].floor_m;
          w[i].state = ST_FLOOR;
        }
      }
      r.price = water_fill(w, p, idx, m, NULL, C - sum_fz, ev, tmp);
    } else { /* positive bidders all capped; zero bidders share the rest by cap */
      r.flags |= CLEARING_ZERO_BID_PHASE;
      r.price = max_ratio;
      size_t m = 0;
      for (size_t i = 0; i < n; i++) {
        if (p[i].bid > 0) {
          w[i].exact = (double)p[i].cap_m;
          w[i].state = ST_CAP;
        } else if (p[i].cap_m > 0) { /* weight = cap: splitting a pod gains nothing */
          zw[m] = (double)p[i].cap_m;
          idx[m++] = (uint32_t)i;
        } else {
          w[i].exact = 0;
          w[i].state = ST_FLOOR;
        }
      }
      water_fill(w, p, idx, m, zw, C - sum_cp, ev, tmp);
    }
  }
  round_alloc(w, p, n, target, cand, out);
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    total += out[i].alloc_m;
    if (r.flags & CLEARING_FLOORS_EXCEED) continue;
    if (w[i].state == ST_FLOOR) {
      out[i].flags |= CLEARING_AT_FLOOR;
      r.n_at_floor++;
    }
    if (w[i].state == ST_CAP || p[i].cap_m == p[i].floor_m) {
      out[i].flags |= CLEARING_AT_CAP;
      r.n_at_cap++;
    }
    if (w[i].state == ST_BETWEEN) {
      out[i].flags |= CLEARING_BETWEEN;
      r.n_between++;
    }
  }
  r.allocated_m = total;
  *res = r;
  free(mem);
  return MBCAS_OK;
}
