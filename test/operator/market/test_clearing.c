/* test_clearing.c - clearing_solve and clearing_capacity: hand-made cases, then
 * property tests over thousands of seeded random markets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clearing.h"
#include "mtest.h"

#define MAXN 64
#define N_MARKETS 4000

/* ---- hand-made cases ------------------------------------------------------------ */

static void test_capacity(void **state) {
  (void)state;
  assert_int_equal(clearing_capacity(4000, 500, 1000), 2500);
  assert_int_equal(clearing_capacity(4000, 5000, 0), 0);
  assert_int_equal(clearing_capacity(4000, 0, 4001), 0);
  assert_int_equal(clearing_capacity(-1, 0, 0), 0);
  assert_int_equal(clearing_capacity(4000, -7, -9), 4000);
  assert_int_equal(clearing_capacity(INT64_MAX, 0, 0), INT64_MAX);
}

static void test_empty(void **state) {
  (void)state;
  clearing_result r;
  assert_int_equal(clearing_solve(NULL, &r, NULL, 0, 1000, NULL), MBCAS_OK);
  assert_int_equal(r.flags, CLEARING_EMPTY);
  assert_int_equal(r.allocated_m, 0);
  assert_int_equal(r.capacity_m, 1000);
  assert_true(r.price == 0 && r.floor_scale == 1);
}

static void test_proportional(void **state) {
  (void)state;
  /* bids 1:3, no binding bounds, C = 1000 -> 250 / 750, price 250 */
  clearing_participant p[2] = {{1, 1.0, 0, 5000}, {2, 3.0, 0, 5000}};
  clearing_alloc a[2];
  clearing_result r;
  assert_int_equal(clearing_solve(a, &r, p, 2, 1000, NULL), MBCAS_OK);
  assert_int_equal(a[0].alloc_m, 250);
  assert_int_equal(a[1].alloc_m, 750);
  assert_true(fabs(r.price - 250) < 1e-9);
  assert_true(r.flags & CLEARING_CONTENDED);
  assert_int_equal(r.n_between, 2);
  assert_true(a[0].flags & CLEARING_BETWEEN);
}

static void test_caps_and_floors_bind(void **state) {
  (void)state;
  /* C = 1000; A capped at 100, C floored at 300; B gets the rest */
  clearing_participant p[3] = {{1, 5.0, 0, 100}, {2, 1.0, 0, 2000}, {3, 0.01, 300, 2000}};
  clearing_alloc a[3];
  clearing_result r;
  assert_int_equal(clearing_solve(a, &r, p, 3, 1000, NULL), MBCAS_OK);
  assert_int_equal(a[0].alloc_m, 100);
  assert_int_equal(a[1].alloc_m, 600);
  assert_int_equal(a[2].alloc_m, 300);
  assert_true(a[0].flags & CLEARING_AT_CAP);
  assert_true(a[2].flags & CLEARING_AT_FLOOR);
  assert_true(fabs(r.price - 600) < 1e-9);
  assert_int_equal(r.n_at_cap, 1);
  assert_int_equal(r.n_at_floor, 1);
}

static void test_uncontended(void **state) {
  (void)state;
  clearing_participant p[2] = {{1, 1.0, 100, 400}, {2, 0.0, 0, 500}};
  clearing_alloc a[2];
  clearing_result r;
  assert_int_equal(clearing_solve(a, &r, p, 2, 2000, NULL), MBCAS_OK);
  assert_int_equal(a[0].alloc_m, 400);
  assert_int_equal(a[1].alloc_m, 500);
  assert_int_equal(r.flags, CLEARING_UNCONTENDED);
  assert_int_equal(r.allocated_m, 900);
  assert_true(fabs(r.price - 400) < 1e-9);
}

static void test_floors_exceed(void **state) {
  (void)state;
  /* floors 300+300+400 = 1000 > C = 500: scaled by 0.5 */
  clearing_participant p[3] = {{9, 1, 300, 900}, {8, 1, 300, 900}, {7, 1, 400, 900}};
  clearing_alloc a[3];
  clearing_result r;
  assert_int_equal(clearing_solve(a, &r, p, 3, 500, NULL), MBCAS_OK);
  assert_true(r.flags & CLEARING_FLOORS_EXCEED);
  assert_true(fabs(r.floor_scale - 0.5) < 1e-12);
  assert_int_equal(a[0].alloc_m, 150);
  assert_int_equal(a[1].alloc_m, 150);
  assert_int_equal(a[2].alloc_m, 200);
  assert_true(a[0].flags & CLEARING_FLOOR_SCALED);
  /* odd capacity: remainder goes to the smallest key among equal fractions */
  assert_int_equal(clearing_solve(a, &r, p, 3, 501, NULL), MBCAS_OK);
  assert_int_equal(r.allocated_m, 501);
  /* exact: 150.3, 150.3, 200.4 -> 200 gets it (largest fraction) */
  assert_int_equal(a[2].alloc_m, 201);
  /* zero capacity: everyone 0 */
  assert_int_equal(clearing_solve(a, &r, p, 3, -5, NULL), MBCAS_OK);
  assert_int_equal(r.capacity_m, 0);
  for (int i = 0; i < 3; i++) assert_int_equal(a[i].alloc_m, 0);
}

static void test_ties_by_key(void **state) {
  (void)state;
  /* three equal bids, C = 100: 33.33 each; one extra millicore to the smallest key */
  clearing_participant p[3] = {{30, 2, 0, 1000}, {10, 2, 0, 1000}, {20, 2, 0, 1000}};
  clearing_alloc a[3];
  clearing_result r;
  assert_int_equal(clearing_solve(a, &r, p, 3, 100, NULL), MBCAS_OK);
  assert_int_equal(a[0].alloc_m, 33);
  assert_int_equal(a[1].alloc_m, 34);
  assert_int_equal(a[2].alloc_m, 33);
  assert_true(a[1].flags & CLEARING_ROUNDED_UP);
  /* equal keys: input order decides */
  p[1].key = 30;
  p[2].key = 30;
  assert_int_equal(clearing_solve(a, &r, p, 3, 101, NULL), MBCAS_OK);
  assert_int_equal(a[0].alloc_m, 34);
  assert_int_equal(a[1].alloc_m, 34);
  assert_int_equal(a[2].alloc_m, 33);
}

static void test_zero_bids(void **state) {
  (void)state;
  /* phase 1: positive bidder takes everything above the zero bidder's floor */
  clearing_participant p[3] = {{1, 0, 100, 1000}, {2, 1, 0, 1000}, {3, 0, 0, 1000}};
  clearing_alloc a[3];
  clearing_result r;
  assert_int_equal(clearing_solve(a, &r, p, 3, 800, NULL), MBCAS_OK);
  assert_int_equal(a[0].alloc_m, 100);
  assert_int_equal(a[1].alloc_m, 700);
  assert_int_equal(a[2].alloc_m, 0);
  assert_true(a[0].flags & CLEARING_ZERO_BID);
  assert_false(r.flags & CLEARING_ZERO_BID_PHASE);
  /* phase 2: positive bidder capped at 1000; zero bidders share 1500-1000 by
   * water-filling weighted by their caps (equal here) -> 250/250 */
  assert_int_equal(clearing_solve(a, &r, p, 3, 1500, NULL), MBCAS_OK);
  assert_true(r.flags & CLEARING_ZERO_BID_PHASE);
  assert_int_equal(a[1].alloc_m, 1000);
  assert_int_equal(a[0].alloc_m, 250);
  assert_int_equal(a[2].alloc_m, 250);
  assert_int_equal(r.allocated_m, 1500);
  /* all zero bids, contended */
  p[1].bid = 0;
  assert_int_equal(clearing_solve(a, &r, p, 3, 600, NULL), MBCAS_OK);
  assert_int_equal(r.allocated_m, 600);
  assert_int_equal(a[0].alloc_m, 200);
  assert_true(r.price == 0);
}

static void test_invalid(void **state) {
  (void)state;
  clearing_participant p[2] = {{1, 1, 0, 100}, {2, -1, 0, 100}};
  clearing_alloc a[2] = {{77, 0, 0}, {77, 0, 0}};
  clearing_result r = {0};
  mbcas_err e;
  assert_int_equal(clearing_solve(a, &r, p, 2, 100, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "participants[1].bid");
  assert_int_equal(a[0].alloc_m, 77); /* untouched */
  p[1].bid = NAN;
  assert_int_equal(clearing_solve(a, &r, p, 2, 100, &e), MBCAS_EINVAL);
  p[1].bid = INFINITY;
  assert_int_equal(clearing_solve(a, &r, p, 2, 100, &e), MBCAS_EINVAL);
  p[1].bid = 1;
  p[1].cap_m = -1;
  assert_int_equal(clearing_solve(a, &r, p, 2, 100, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "participants[1].cap_m");
  p[1].floor_m = 50;
  p[1].cap_m = 40;
  assert_int_equal(clearing_solve(a, &r, p, 2, 100, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "participants[1].cap_m");
  p[1].floor_m = -1;
  assert_int_equal(clearing_solve(a, &r, p, 2, 100, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "participants[1].floor_m");
  assert_int_equal(clearing_solve(a, NULL, p, 2, 100, NULL), MBCAS_EINVAL);
  assert_int_equal(clearing_solve(a, &r, NULL, 2, 100, NULL), MBCAS_EINVAL);
}

static void test_large_radix_path(void **state) {
  (void)state;
  /* n >= 64 takes the radix sort; identical bids must still get identical shares */
  enum { N = 1000 };
  clearing_participant *p = calloc(N, sizeof *p);
  clearing_alloc *a = calloc(N, sizeof *a);
  clearing_result r;
  for (int i = 0; i < N; i++) p[i] = (clearing_participant){(uint64_t)i, 1.0 + (i % 2), 10, 500};
  /* 500 bids of 1 and 500 of 2; C = 150000 -> price 100: 100m and 200m */
  assert_int_equal(clearing_solve(a, &r, p, N, 150000, NULL), MBCAS_OK);
  assert_true(fabs(r.price - 100) < 1e-9);
  for (int i = 0; i < N; i++) assert_int_equal(a[i].alloc_m, i % 2 ? 200 : 100);
  free(p);
  free(a);
}

/* ---- random markets ------------------------------------------------------------- */

static size_t gen(mrng *r, clearing_participant *p, int64_t *cap) {
  size_t n = (size_t)mrng_int(r, 0, MAXN);
  int mode = (int)mrng_int(r, 0, 3);
  int64_t sf = 0, sc = 0;
  for (size_t i = 0; i < n; i++) {
    double b;
    int64_t z = mrng_int(r, 0, 9);
    if (z == 0) b = 0;
    else if (mode == 0) b = 0.01 + 10 * mrng_unit(r);
    else if (mode == 1) b = pow(10, -3 + 6 * mrng_unit(r));
    else if (mode == 2) b = (double)mrng_int(r, 1, 3); /* many ties */
    else b = 0.5 + mrng_unit(r);
    int64_t f = mrng_int(r, 0, 4) == 0 ? 0 : mrng_int(r, 0, 300);
    int64_t c = f + (mrng_int(r, 0, 9) == 0 ? 0 : mrng_int(r, 0, 2000));
    p[i] = (clearing_participant){mrng_next(r), b, f, c};
    sf += f;
    sc += c;
  }
  int64_t k = mrng_int(r, 0, 9);
  if (k == 0) *cap = mrng_int(r, 0, sf + 1);       /* floors may exceed */
  else if (k == 1) *cap = sc + mrng_int(r, 0, 500); /* uncontended */
  else *cap = sf + mrng_int(r, 0, sc - sf > 0 ? sc - sf : 0);
  return n;
}

static void check_props(const clearing_participant *p, size_t n, int64_t C,
                        const clearing_alloc *a, const clearing_result *r) {
  int64_t sf = 0, sc = 0, sum = 0;
  if (n == 0) {
    assert_int_equal(r->flags, CLEARING_EMPTY);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    sf += p[i].floor_m;
    sc += p[i].cap_m;
    sum += a[i].alloc_m;
    assert_true(fabs((double)a[i].alloc_m - a[i].exact_m) < 1.0);
  }
  assert_int_equal(sum, r->allocated_m);
  assert_true(sum <= C);
  if (sf > C) {
    assert_true(r->flags & CLEARING_FLOORS_EXCEED);
    assert_int_equal(sum, C);
    for (size_t i = 0; i < n; i++) {
      assert_true(a[i].alloc_m >= 0 && a[i].alloc_m <= p[i].floor_m);
      /* scaled floors are proportional to floors */
      assert_true(fabs(a[i].exact_m - (double)p[i].floor_m * r->floor_scale) < 1e-6);
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    assert_true(a[i].alloc_m >= p[i].floor_m);
    assert_true(a[i].alloc_m <= p[i].cap_m);
  }
  if (sc <= C) {
    assert_true(r->flags & CLEARING_UNCONTENDED);
    for (size_t i = 0; i < n; i++) assert_int_equal(a[i].alloc_m, p[i].cap_m);
    return;
  }
  /* contended: work-conserving and the KKT conditions of max sum b log x */
  assert_int_equal(sum, C);
  assert_true(r->flags & CLEARING_CONTENDED);
  if (r->flags & CLEARING_ZERO_BID_PHASE) {
    for (size_t i = 0; i < n; i++)
      if (p[i].bid > 0) assert_int_equal(a[i].alloc_m, p[i].cap_m);
    return;
  }
  double pr = r->price;
  for (size_t i = 0; i < n; i++) {
    if (p[i].bid == 0) {
      assert_int_equal(a[i].alloc_m, p[i].floor_m);
      continue;
    }
    double want = pr * p[i].bid, tol = 1e-9 * (1 + want);
    double x = a[i].exact_m;
    if (x > p[i].floor_m && x < p[i].cap_m) assert_true(fabs(x - want) <= tol);
    if (x == p[i].floor_m && p[i].floor_m < p[i].cap_m) assert_true(want <= x + tol);
    if (x == p[i].cap_m && p[i].floor_m < p[i].cap_m) assert_true(want >= x - tol);
  }
  /* equal bids between the bounds: equal exact shares, integers within 1 */
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (p[i].bid == p[j].bid && (a[i].flags & CLEARING_BETWEEN) &&
          (a[j].flags & CLEARING_BETWEEN)) {
        assert_true(a[i].exact_m == a[j].exact_m);
        assert_true(llabs(a[i].alloc_m - a[j].alloc_m) <= 1);
      }
}

static void test_random_properties(void **state) {
  (void)state;
  clearing_participant p[MAXN];
  clearing_alloc a[MAXN], a2[MAXN];
  clearing_result r, r2;
  mrng rng = {42};
  for (int t = 0; t < N_MARKETS; t++) {
    int64_t C;
    size_t n = gen(&rng, p, &C);
    memset(a, 0xA5, sizeof a);
    memset(a2, 0x5A, sizeof a2);
    assert_int_equal(clearing_solve(a, &r, p, n, C, NULL), MBCAS_OK);
    check_props(p, n, C, a, &r);
    /* byte-identical repeat */
    assert_int_equal(clearing_solve(a2, &r2, p, n, C, NULL), MBCAS_OK);
    assert_memory_equal(a, a2, n * sizeof *a);
    assert_memory_equal(&r, &r2, sizeof r);
  }
}

/* Raising one bid never lowers that participant's allocation and never raises anyone
 * else's (exact and integer). */
static void test_random_monotone(void **state) {
  (void)state;
  clearing_participant p[MAXN], q[MAXN];
  clearing_alloc a[MAXN], b[MAXN];
  clearing_result r;
  mrng rng = {7};
  int checked = 0;
  for (int t = 0; t < N_MARKETS; t++) {
    int64_t C;
    size_t n = gen(&rng, p, &C);
    if (n == 0) continue;
    size_t i = (size_t)mrng_int(&rng, 0, (int64_t)n - 1);
    memcpy(q, p, n * sizeof *p);
    q[i].bid = p[i].bid == 0 ? 0.5 * mrng_unit(&rng) + 1e-3 : p[i].bid * (1 + 2 * mrng_unit(&rng));
    assert_int_equal(clearing_solve(a, &r, p, n, C, NULL), MBCAS_OK);
    assert_int_equal(clearing_solve(b, &r, q, n, C, NULL), MBCAS_OK);
    double tol = 1e-9 * (1 + a[i].exact_m);
    assert_true(b[i].exact_m >= a[i].exact_m - tol);
    assert_true(b[i].alloc_m >= a[i].alloc_m);
    for (size_t j = 0; j < n; j++)
      if (j != i) assert_true(b[j].exact_m <= a[j].exact_m + 1e-9 * (1 + a[j].exact_m));
    checked++;
  }
  assert_true(checked > N_MARKETS / 2);
}

/* Splitting a participant into k with bid, floor and cap divided by k changes nothing in
 * exact terms (same price, same total); in millicores the parts may differ from the
 * original only by the rounding of k values. */
static void test_random_split(void **state) {
  (void)state;
  clearing_participant p[MAXN + 8];
  clearing_alloc a[MAXN + 8], b[MAXN + 8];
  clearing_result r, r2;
  mrng rng = {99};
  for (int t = 0; t < N_MARKETS; t++) {
    int64_t C;
    size_t n = gen(&rng, p, &C);
    if (n == 0) continue;
    size_t i = (size_t)mrng_int(&rng, 0, (int64_t)n - 1);
    int k = (int)mrng_int(&rng, 2, 5);
    p[i].floor_m -= p[i].floor_m % k;
    p[i].cap_m -= p[i].cap_m % k;
    assert_int_equal(clearing_solve(a, &r, p, n, C, NULL), MBCAS_OK);
    clearing_participant q[MAXN + 8];
    memcpy(q, p, n * sizeof *p);
    q[i].bid = p[i].bid / k;
    q[i].floor_m = p[i].floor_m / k;
    q[i].cap_m = p[i].cap_m / k;
    for (int j = 1; j < k; j++) {
      q[n + j - 1] = q[i];
      q[n + j - 1].key = mrng_next(&rng);
    }
    size_t m = n + (size_t)k - 1;
    assert_int_equal(clearing_solve(b, &r2, q, m, C, NULL), MBCAS_OK);
    double ex = b[i].exact_m;
    int64_t in = b[i].alloc_m;
    for (int j = 1; j < k; j++) {
      ex += b[n + j - 1].exact_m;
      in += b[n + j - 1].alloc_m;
    }
    assert_true(fabs(ex - a[i].exact_m) <= 1e-6 * (1 + a[i].exact_m));
    assert_true(in <= a[i].alloc_m + k - 1);
    assert_true(in >= a[i].alloc_m - (k - 1));
    if (!(r.flags & (CLEARING_FLOORS_EXCEED | CLEARING_ZERO_BID_PHASE)) && p[i].bid > 0)
      assert_true(fabs(r.price - r2.price) <= 1e-9 * (1 + r.price));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_capacity),          cmocka_unit_test(test_empty),
      cmocka_unit_test(test_proportional),      cmocka_unit_test(test_caps_and_floors_bind),
      cmocka_unit_test(test_uncontended),       cmocka_unit_test(test_floors_exceed),
      cmocka_unit_test(test_ties_by_key),       cmocka_unit_test(test_zero_bids),
      cmocka_unit_test(test_invalid),           cmocka_unit_test(test_large_radix_path),
      cmocka_unit_test(test_random_properties), cmocka_unit_test(test_random_monotone),
      cmocka_unit_test(test_random_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
