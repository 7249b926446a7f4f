/* test_market.c - whole-market clearing: grouping by node, summaries, guardrails and
 * reasoning wiring, Jain's index, decision ids, and market-level properties (monotone in
 * own budget and demand, byte-identical repeats, budget splitting gains nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market.h"
#include "mtest.h"

static void test_fnv_and_keys(void **state) {
  (void)state;
  /* FNV-1a 64 reference values */
  assert_true(market_fnv1a(MARKET_FNV_OFFSET, "", 0) == 0xcbf29ce484222325ull);
  assert_true(market_fnv1a(MARKET_FNV_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cull);
  assert_true(market_key("foobar") == 0x85944171f73967e8ull);
  assert_true(market_key(NULL) == MARKET_FNV_OFFSET);
  char hex[17];
  assert_string_equal(market_id_hex(hex, 0xabcull), "0000000000000abc");
}

static void test_jain(void **state) {
  (void)state;
  int64_t a[3] = {100, 100, 200};
  double b[3] = {1, 1, 2};
  assert_true(fabs(market_jain(a, b, 3) - 1) < 1e-12);
  int64_t a2[2] = {100, 0};
  double b2[2] = {1, 1};
  assert_true(fabs(market_jain(a2, b2, 2) - 0.5) < 1e-12);
  double b3[2] = {0, 0}; /* nobody with a budget */
  assert_true(market_jain(a2, b3, 2) == 1);
  assert_true(market_jain(NULL, NULL, 0) == 1);
}

/* Two nodes, three pods, no guardrails. */
static void test_two_nodes(void **state) {
  (void)state;
  market_node nodes[2] = {{4000, 500, 500}, {2000, 0, 0}};
  market_participant parts[3] = {
      {0, 1, 1.0, 1.0, 100, 5000, 1000, -1, -1, 0}, /* node 0 */
      {1, 2, 2.0, 0.5, 100, 400, 400, -1, -1, 0},   /* node 1 */
      {0, 3, 3.0, 1.0, 100, 5000, 1000, -1, -1, 0}, /* node 0 */
  };
  market_input in = {nodes, 2, parts, 3, {0}, NULL, 0};
  market_node_summary ns[2];
  market_alloc al[3];
  market_output out = {ns, al, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(&out, &in, NULL), MBCAS_OK);
  /* node 0: C = 3000, bids 1 and 3 -> 750 / 2250 */
  assert_int_equal(ns[0].capacity_m, 3000);
  assert_int_equal(al[0].cleared.alloc_m, 750);
  assert_int_equal(al[2].cleared.alloc_m, 2250);
  assert_true(fabs(ns[0].price - 750) < 1e-9);
  assert_int_equal(ns[0].participants, 2);
  /* node 1: uncontended, cap 400 */
  assert_int_equal(al[1].cleared.alloc_m, 400);
  assert_true(ns[1].flags & CLEARING_UNCONTENDED);
  assert_true(fabs(al[1].bid - 1.0) < 1e-12);
  /* no guardrails: desired = cleared */
  assert_int_equal(al[0].guarded.desired_m, 750);
  assert_true(al[0].guarded.flags & GUARDRAILS_CHANGED);
  assert_int_equal(out.capacity_m, 5000);
  assert_int_equal(out.cleared_m, 3400);
  assert_int_equal(out.desired_m, 3400);
  char line[256];
  reasoning_format(line, sizeof line, &al[2].why, "n0");
  assert_string_equal(line, "bid 3 = budget share 3 x demand 1.00; node n0 price 750m per bid "
                            "unit; gets 2250m within [100m, 5000m]");
  /* decision id: stable, and sensitive to any input */
  uint64_t id = out.decision_id;
  assert_true(id == market_decision_id(&in));
  parts[1].demand = 0.51;
  assert_true(id != market_decision_id(&in));
  parts[1].demand = 0.5;
  in.now = -0.0;
  assert_true(id == market_decision_id(&in)); /* -0 == 0 */
  assert_true(out.jain > 0 && out.jain <= 1);
}

static void test_guardrails_wired(void **state) {
  (void)state;
  market_node nodes[1] = {{4000, 0, 0}};
  market_participant parts[2] = {
      {0, 1, 1.0, 1.0, 100, 5000, 400, -1, -1, 0},
      {0, 2, 1.0, 1.0, 100, 5000, 3600, -1, -1, 0},
  };
  guardrails_config g;
  guardrails_config_default(&g);
  market_input in = {nodes, 1, parts, 2, {0}, &g, 1000};
  market_node_summary ns[1];
  market_alloc al[2];
  market_output out = {ns, al, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(&out, &in, NULL), MBCAS_OK);
  assert_int_equal(al[0].cleared.alloc_m, 2000);
  assert_int_equal(al[0].guarded.desired_m, 600); /* +200 (50% of 400) */
  assert_int_equal(al[1].guarded.desired_m, 3100); /* -500 */
  assert_true(ns[0].desired_m <= ns[0].capacity_m);
  char line[256];
  reasoning_format(line, sizeof line, &al[0].why, "n1");
  assert_non_null(strstr(line, "step limited to +200m from 400m"));
}

/* need_m: a demand-justified cap. Uncontended pods get their need, not their cap;
 * contended capacity is still shared by bids; 0 keeps the old behaviour. */
static void test_need_caps(void **state) {
  (void)state;
  market_node nodes[2] = {{8000, 0, 0}, {1000, 0, 0}};
  market_participant parts[4] = {
      {0, 1, 1.0, 1.0, 100, 1000, 1000, 350, -1, 400}, /* node 0, need 400 */
      {0, 2, 1.0, 1.0, 100, 1000, 1000, 350, -1, 0},   /* node 0, no need: its cap */
      {1, 3, 1.0, 1.0, 100, 1000, 500, -1, -1, 300},   /* node 1 (contended), need 300 */
      {1, 4, 1.0, 1.0, 100, 1000, 500, -1, -1, 0},     /* node 1, no need */
  };
  market_input in = {nodes, 2, parts, 4, {0}, NULL, 0};
  market_node_summary ns[2];
  market_alloc al[4];
  market_output out = {ns, al, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(&out, &in, NULL), MBCAS_OK);
  assert_int_equal(al[0].cleared.alloc_m, 400);
  assert_int_equal(al[1].cleared.alloc_m, 1000);
  assert_true(ns[0].flags & CLEARING_UNCONTENDED);
  /* node 1: equal bids would give 500/500; the need caps pod 3 at 300, pod 4 gets 700 */
  assert_true(ns[1].flags & CLEARING_CONTENDED);
  assert_int_equal(al[2].cleared.alloc_m, 300);
  assert_int_equal(al[3].cleared.alloc_m, 700);
  assert_int_equal(ns[1].cleared_m, 1000);
  char line[256];
  reasoning_format(line, sizeof line, &al[0].why, "n0");
  assert_non_null(strstr(line, "400m at its need (max 1000m)"));
  reasoning_format(line, sizeof line, &al[2].why, "n1");
  assert_non_null(strstr(line, "capped at its need 300m (max 1000m)"));
  assert_int_equal(al[1].why.need_cap_m, 0);
  /* need below the floor -> floor; above the cap -> cap */
  parts[0].need_m = 50;
  parts[1].need_m = 5000;
  uint64_t id = market_decision_id(&in);
  assert_int_equal(market_clear(&out, &in, NULL), MBCAS_OK);
  assert_int_equal(al[0].cleared.alloc_m, 100);
  assert_int_equal(al[1].cleared.alloc_m, 1000);
  /* decision ids: need is an input; need <= 0 hashes like the old input */
  parts[0].need_m = 60;
  assert_true(market_decision_id(&in) != id);
  parts[0].need_m = 0;
  parts[1].need_m = 0;
  parts[2].need_m = 0;
  uint64_t id0 = market_decision_id(&in);
  parts[2].need_m = -7;
  assert_true(market_decision_id(&in) == id0);
  assert_int_equal(market_clear(&out, &in, NULL), MBCAS_OK);
  assert_int_equal(al[2].cleared.alloc_m, 500);
}

static void test_need_m(void **state) {
  (void)state;
  /* max(350 / 0.7 = 500, 1000 x 0.5 / 0.7 = 714.3) -> 715 */
  assert_int_equal(market_need_m(1000, 350, 0.5, 0.7, 0), 715);
  /* usage term wins: 600 / 0.5 = 1200, + 50 headroom */
  assert_int_equal(market_need_m(1000, 600, 0.1, 0.5, 50), 1250);
  /* throttled (demand 1) grows by 1/target */
  assert_int_equal(market_need_m(400, 400, 1.0, 0.8, 0), 500);
  assert_int_equal(market_need_m(400, -1, 2.0, 0.8, -10), 500); /* clamped, no headroom */
  assert_int_equal(market_need_m(400, -1, 0.2, 0.8, 0), 100);   /* usage unknown */
  assert_int_equal(market_need_m(0, 100, 0.5, 0.7, 0), 0);      /* not yet sized */
  assert_int_equal(market_need_m(400, 100, 0.5, 0, 0), 0);
  assert_int_equal(market_need_m(400, 100, 0.5, 1.5, 0), 0);
  assert_int_equal(market_need_m(400, 100, NAN, 0.7, 0), 0);
  assert_int_equal(market_need_m(400, 0, 0, 0.7, 0), 1); /* never 0 ("no limit") */
}

static void test_need_hold(void **state) {
  (void)state;
  market_need_state st = {0, 0};
  assert_int_equal(market_need_hold(&st, 1000, 0, 300), 1000);
  assert_int_equal(market_need_hold(&st, 200, 300, 300), 500); /* one half-life */
  assert_int_equal(market_need_hold(&st, 600, 300, 300), 600); /* a rise: at once */
  assert_int_equal(market_need_hold(&st, 100, 900, 300), 150); /* two half-lives */
  assert_int_equal(market_need_hold(&st, 0, 1000, 300), 0);    /* no limit: reset */
  assert_true(st.held_m == 0);
  assert_int_equal(market_need_hold(&st, 100, 1100, 300), 100);
  assert_int_equal(market_need_hold(&st, 50, 1200, 0), 50); /* no hold */
  assert_int_equal(market_need_hold(NULL, 70, 0, 300), 70);
}

/* Burst sizing: never below the planned size, above it when the need says so. */
static void test_need_burst(void **state) {
  (void)state;
  assert_int_equal(market_need_burst(600, 1000), 1000);
  assert_int_equal(market_need_burst(1400, 1000), 1400);
  assert_int_equal(market_need_burst(0, 1000), 0);   /* no limit stays no limit */
  assert_int_equal(market_need_burst(-5, 1000), -5);
  assert_int_equal(market_need_burst(600, 0), 600);  /* no base */
  /* with the hold: a burst decays back to the base, not below it */
  market_need_state st = {0, 0};
  assert_int_equal(market_need_burst(market_need_hold(&st, 1500, 0, 60), 1000), 1500);
  assert_int_equal(market_need_burst(market_need_hold(&st, 500, 60, 60), 1000), 1000);
}

/* The replayable burst step: grows on demand, falls no faster than the decay, never
 * below the base. */
static void test_need_burst_step(void **state) {
  (void)state;
  double half = 0.5; /* one half-life per interval */
  assert_int_equal(market_need_burst_step(1000, 0.9, 0.75, 1000, half), 1200); /* 1000 x .9/.75 */
  assert_int_equal(market_need_burst_step(1500, 0.2, 0.75, 1000, half), 1000); /* 750 -> base */
  assert_int_equal(market_need_burst_step(3000, 0.2, 0.75, 1000, half), 1500); /* held */
  assert_int_equal(market_need_burst_step(3000, 0.2, 0.75, 1000, 0), 1000);    /* no hold */
  assert_int_equal(market_need_burst_step(3000, 0.2, 0.75, 1000, NAN), 1000);
  assert_int_equal(market_need_burst_step(3000, 0.2, 0.75, 1000, 7), 3000);    /* clamped to 1 */
  assert_int_equal(market_need_burst_step(0, 0.9, 0.75, 1000, half), 1000);    /* not sized */
  assert_int_equal(market_need_burst_step(1000, 0.9, 0.75, 0, half), 0);       /* no base */
  assert_int_equal(market_need_burst_step(1000, 0.9, 0, 1000, half), 0);       /* bad util */
}

/* Property: with need caps, market_clear is exactly the clearing rule with the effective
 * caps clamp(need, floor, cap): same allocations as clearing_solve on those caps, within
 * bounds, never above capacity, work-conserving when the effective caps do not fit. */
static void test_need_random(void **state) {
  (void)state;
  mrng r = {77};
  for (int it = 0; it < 2000; it++) {
    size_t n = (size_t)mrng_int(&r, 1, 12);
    market_node nd = {mrng_int(&r, 0, 8000), 0, 0};
    market_participant parts[12];
    clearing_participant cp[12];
    for (size_t i = 0; i < n; i++) {
      int64_t fl = mrng_int(&r, 0, 300), cap = fl + mrng_int(&r, 0, 2000);
      int64_t need = mrng_int(&r, -1, 1) == 0 ? 0 : mrng_int(&r, 1, 2500);
      parts[i] = (market_participant){0, 1000 + i, (double)mrng_int(&r, 0, 5), 
                                      (double)mrng_int(&r, 0, 100) / 100.0, fl, cap, 0, -1, -1, need};
      int64_t ec = need <= 0 ? cap : (need < cap ? need : cap);
      if (ec < fl) ec = fl;
      cp[i] = (clearing_participant){1000 + i, parts[i].budget_share * parts[i].demand, fl, ec};
    }
    market_input in = {&nd, 1, parts, n, {0}, NULL, 0};
    market_node_summary ns[1];
    market_alloc al[12];
    market_output out = {ns, al, 0, 0, 0, 0, 0};
    assert_int_equal(market_clear(&out, &in, NULL), MBCAS_OK);
    clearing_alloc ca[12];
    clearing_result cr;
    assert_int_equal(clearing_solve(ca, &cr, cp, n, nd.allocatable_m, NULL), MBCAS_OK);
    int64_t sum = 0, sum_ec = 0, sum_fl = 0;
    for (size_t i = 0; i < n; i++) {
      assert_int_equal(al[i].cleared.alloc_m, ca[i].alloc_m);
      if (!(cr.flags & CLEARING_FLOORS_EXCEED)) {
        assert_true(al[i].cleared.alloc_m >= cp[i].floor_m);
        assert_true(al[i].cleared.alloc_m <= cp[i].cap_m);
      }
      sum += al[i].cleared.alloc_m;
      sum_ec += cp[i].cap_m;
      sum_fl += cp[i].floor_m;
    }
    assert_true(sum <= nd.allocatable_m || sum_fl > nd.allocatable_m);
    if (sum_ec > nd.allocatable_m && sum_fl <= nd.allocatable_m) assert_int_equal(sum, nd.allocatable_m);
    if (sum_ec <= nd.allocatable_m) assert_int_equal(sum, sum_ec);
  }
}

static void test_invalid(void **state) {
  (void)state;
  market_node nodes[1] = {{4000, 0, 0}};
  market_participant parts[1] = {{1, 1, 1.0, 1.0, 100, 5000, 400, -1, -1, 0}};
  market_input in = {nodes, 1, parts, 1, {0}, NULL, 0};
  market_node_summary ns[1];
  market_alloc al[1];
  market_output out = {ns, al, 0, 0, 0, 0, 0};
  mbcas_err e;
  assert_int_equal(market_clear(&out, &in, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "parts[0].node");
  parts[0].node = 0;
  parts[0].demand = NAN;
  assert_int_equal(market_clear(&out, &in, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "parts[0].demand");
  parts[0].demand = 1;
  parts[0].cap_m = 50;
  assert_int_equal(market_clear(&out, &in, &e), MBCAS_EINVAL);
  assert_string_equal(e.field, "parts[0].cap_m");
  parts[0].cap_m = 500;
  parts[0].budget_share = -1;
  assert_int_equal(market_clear(&out, &in, &e), MBCAS_EINVAL);
  assert_int_equal(market_clear(NULL, &in, &e), MBCAS_EINVAL);
  market_output none = {NULL, NULL, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(&none, &in, &e), MBCAS_EINVAL);
  /* empty market is fine */
  market_input empty = {NULL, 0, NULL, 0, {0}, NULL, 0};
  assert_int_equal(market_clear(&none, &empty, &e), MBCAS_OK);
  assert_true(none.jain == 1);
}

/* ---- random markets ------------------------------------------------------------ */

typedef struct rmarket {
  size_t nn, np;
  market_node nodes[8];
  market_participant parts[120];
} rmarket;

static void gen(mrng *r, rmarket *m) {
  m->nn = (size_t)mrng_int(r, 1, 8);
  m->np = (size_t)mrng_int(r, 0, 120);
  for (size_t k = 0; k < m->nn; k++)
    m->nodes[k] = (market_node){mrng_int(r, 0, 16000), mrng_int(r, 0, 1000), mrng_int(r, 0, 2000)};
  for (size_t i = 0; i < m->np; i++) {
    int64_t f = mrng_int(r, 0, 200);
    m->parts[i] = (market_participant){(uint32_t)mrng_int(r, 0, (int64_t)m->nn - 1),
                                       mrng_next(r),
                                       mrng_int(r, 0, 9) ? 0.1 + 5 * mrng_unit(r) : 0,
                                       mrng_unit(r),
                                       f,
                                       f + mrng_int(r, 0, 3000),
                                       mrng_int(r, 0, 3000),
                                       mrng_int(r, -1, 3000),
                                       mrng_int(r, 0, 2) ? -1 : 90.0, 0};
  }
}

static void run(const rmarket *m, const guardrails_config *g, market_node_summary *ns,
                market_alloc *al, market_output *out) {
  market_input in = {m->nodes, m->nn, m->parts, m->np, {0.05}, g, 100};
  *out = (market_output){ns, al, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(out, &in, NULL), MBCAS_OK);
}

static void test_random_markets(void **state) {
  (void)state;
  mrng r = {2026};
  rmarket *m = malloc(sizeof *m);
  market_node_summary ns[8], ns2[8];
  market_alloc al[120], al2[120];
  guardrails_config g;
  guardrails_config_default(&g);
  for (int t = 0; t < 1500; t++) {
    gen(&r, m);
    market_output o1, o2;
    memset(al, 0xA5, sizeof al);
    memset(al2, 0x5A, sizeof al2);
    run(m, &g, ns, al, &o1);
    run(m, &g, ns2, al2, &o2);
    /* byte-identical */
    assert_memory_equal(al, al2, m->np * sizeof *al);
    assert_memory_equal(ns, ns2, m->nn * sizeof *ns);
    assert_true(o1.decision_id == o2.decision_id);
    assert_memory_equal(&o1.jain, &o2.jain, sizeof o1.jain);
    /* capacity never exceeded, before or after guardrails */
    for (size_t k = 0; k < m->nn; k++) {
      assert_true(ns[k].cleared_m <= ns[k].capacity_m);
      assert_true(ns[k].desired_m <= ns[k].capacity_m);
    }
    assert_true(o1.jain > 0 && o1.jain <= 1 + 1e-12);
    /* monotone in own budget and in own demand (cleared allocation) */
    if (m->np == 0) continue;
    size_t i = (size_t)mrng_int(&r, 0, (int64_t)m->np - 1);
    int64_t before = al[i].cleared.alloc_m;
    market_participant keep = m->parts[i];
    m->parts[i].budget_share = keep.budget_share * (1 + mrng_unit(&r)) + 0.01;
    run(m, NULL, ns2, al2, &o2);
    assert_true(al2[i].cleared.alloc_m >= before);
    m->parts[i] = keep;
    m->parts[i].demand = keep.demand + (1 - keep.demand) * mrng_unit(&r);
    run(m, NULL, ns2, al2, &o2);
    assert_true(al2[i].cleared.alloc_m >= before);
    m->parts[i] = keep;
  }
  free(m);
}

/* A tenant in a namespace capped at 10 runs 2 pods: as one ServiceBudget (budget 10,
 * 2 replicas) or as two ServiceBudgets (budget 10 each, 1 replica each). Allocations are
 * identical: more ServiceBudgets buy nothing. And one pod's budget split across more
 * replicas on the same node gives the same total (up to rounding of each replica). */
static void test_splitting_gains_nothing(void **state) {
  (void)state;
  double caps[2] = {10, 0};
  bid_service one[2] = {{0, 10, 2}, {1, 6, 1}};
  bid_service two[3] = {{0, 10, 1}, {0, 10, 1}, {1, 6, 1}};
  double e1[2], e2[3];
  assert_int_equal(bid_service_budgets(e1, one, 2, caps, 2, NULL), MBCAS_OK);
  assert_int_equal(bid_service_budgets(e2, two, 3, caps, 2, NULL), MBCAS_OK);
  market_node nodes[1] = {{3000, 0, 0}};
  market_participant p1[3] = {
      {0, 1, bid_pod_share(e1[0], 2), 0.9, 0, 4000, 0, -1, -1, 0},
      {0, 2, bid_pod_share(e1[0], 2), 0.9, 0, 4000, 0, -1, -1, 0},
      {0, 3, bid_pod_share(e1[1], 1), 0.9, 0, 4000, 0, -1, -1, 0},
  };
  market_participant p2[3] = {
      {0, 1, bid_pod_share(e2[0], 1), 0.9, 0, 4000, 0, -1, -1, 0},
      {0, 2, bid_pod_share(e2[1], 1), 0.9, 0, 4000, 0, -1, -1, 0},
      {0, 3, bid_pod_share(e2[2], 1), 0.9, 0, 4000, 0, -1, -1, 0},
  };
  market_node_summary ns[1];
  market_alloc a1[3], a2[3];
  market_input in1 = {nodes, 1, p1, 3, {0}, NULL, 0}, in2 = {nodes, 1, p2, 3, {0}, NULL, 0};
  market_output o1 = {ns, a1, 0, 0, 0, 0, 0}, o2 = {ns, a2, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(&o1, &in1, NULL), MBCAS_OK);
  assert_int_equal(market_clear(&o2, &in2, NULL), MBCAS_OK);
  for (int i = 0; i < 3; i++) assert_int_equal(a1[i].cleared.alloc_m, a2[i].cleared.alloc_m);
  assert_int_equal(a1[0].cleared.alloc_m + a1[1].cleared.alloc_m, 1875); /* 10/16 of 3000 */

  /* replicas: service budget 8 in 1 pod (cap 4000) vs 4 pods (cap 1000 each) */
  market_participant r1[2] = {{0, 1, bid_pod_share(8, 1), 1, 0, 4000, 0, -1, -1, 0},
                              {0, 9, 4, 1, 0, 4000, 0, -1, -1, 0}};
  market_participant r4[5];
  for (int k = 0; k < 4; k++)
    r4[k] = (market_participant){0, (uint64_t)k + 1, bid_pod_share(8, 4), 1, 0, 1000, 0, -1, -1, 0};
  r4[4] = r1[1];
  market_alloc b1[2], b4[5];
  market_input i1 = {nodes, 1, r1, 2, {0}, NULL, 0}, i4 = {nodes, 1, r4, 5, {0}, NULL, 0};
  market_output q1 = {ns, b1, 0, 0, 0, 0, 0}, q4 = {ns, b4, 0, 0, 0, 0, 0};
  assert_int_equal(market_clear(&q1, &i1, NULL), MBCAS_OK);
  assert_int_equal(market_clear(&q4, &i4, NULL), MBCAS_OK);
  int64_t tot4 = 0;
  double ex4 = 0;
  for (int k = 0; k < 4; k++) {
    tot4 += b4[k].cleared.alloc_m;
    ex4 += b4[k].cleared.exact_m;
  }
  assert_true(fabs(ex4 - b1[0].cleared.exact_m) < 1e-6);
  assert_true(tot4 <= b1[0].cleared.alloc_m + 3);
  assert_int_equal(b1[0].cleared.alloc_m, 2000);
  assert_int_equal(tot4, 2000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fnv_and_keys),     cmocka_unit_test(test_jain),
      cmocka_unit_test(test_two_nodes),        cmocka_unit_test(test_guardrails_wired),
      cmocka_unit_test(test_invalid),          cmocka_unit_test(test_random_markets),
      cmocka_unit_test(test_splitting_gains_nothing),
      cmocka_unit_test(test_need_caps),        cmocka_unit_test(test_need_m),
      cmocka_unit_test(test_need_hold),        cmocka_unit_test(test_need_random), cmocka_unit_test(test_need_burst), cmocka_unit_test(test_need_burst_step),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
