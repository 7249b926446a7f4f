/* clearing.h - exact clearing of one node's CPU market in integer millicores.
 *
 * Given capacity C and participants with bid b_i >= 0, floor m_i and cap M_i, find the
 * price p with sum_i clamp(p*b_i, m_i, M_i) = C and allocate x_i = clamp(p*b_i, m_i, M_i).
 * This is the unique maximiser of sum_i b_i*log(x_i) subject to m_i <= x_i <= M_i and
 * sum x_i <= C (the one-good Eisenberg-Gale / Fisher market, weighted Nash welfare).
 * Exact, not iterative: the 2n breakpoints m_i/b_i and M_i/b_i are sorted (radix sort,
 * O(n) passes) and one sweep finds the linear piece on which the sum crosses C.
 * Integer millicores by largest remainder: floor every x_i, then hand the missing
 * millicores one each to the largest fractional parts, ties broken by (key, input index);
 * the total never exceeds C and every integer allocation stays within [m_i, M_i].
 * Special cases (flags below): empty market; every cap fits (everyone gets its cap);
 * floors exceed C (floors scaled by C/sum(m), same rounding); zero bids (they get their
 * floor, and share what is left only once every positive bidder is at its cap, then by
 * water-filling with their caps as weights, so splitting a pod gains nothing there either).
 *
 * Owns: a scratch buffer for the duration of one call. Does not touch: I/O, Kubernetes.
 * Thread safety: no global state; concurrent calls on different outputs are safe. */
#ifndef MBCAS_MARKET_CLEARING_H
#define MBCAS_MARKET_CLEARING_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef struct clearing_participant {
  uint64_t key;    /* stable tie-break key (e.g. FNV-1a of "namespace/pod"); should be
                      unique on the node; equal keys fall back to input order */
  double bid;      /* >= 0, finite */
  int64_t floor_m; /* >= 0 */
  int64_t cap_m;   /* >= floor_m */
} clearing_participant;

/* Per-participant flags (clearing_alloc.flags). */
#define CLEARING_AT_FLOOR 0x01u     /* x_i == m_i (bid too small to lift it) */
#define CLEARING_AT_CAP 0x02u       /* x_i == M_i */
#define CLEARING_BETWEEN 0x04u      /* m_i < x_i < M_i: x_i = p*b_i exactly (before rounding) */
#define CLEARING_FLOOR_SCALED 0x08u /* floors exceeded C: got a scaled-down floor */
#define CLEARING_ZERO_BID 0x10u     /* bid was 0 */
#define CLEARING_ROUNDED_UP 0x20u   /* received one of the remainder millicores */

typedef struct clearing_alloc {
  int64_t alloc_m; /* the allocation, integer millicores */
  double exact_m;  /* the real-valued allocation before rounding (|alloc_m - exact_m| < 1) */
  uint32_t flags;  /* CLEARING_* per-participant flags */
} clearing_alloc;

/* Node-level flags (clearing_result.flags). */
#define CLEARING_EMPTY 0x01u          /* no participants */
#define CLEARING_UNCONTENDED 0x02u    /* sum of caps <= C: everyone got its cap */
#define CLEARING_CONTENDED 0x04u      /* sum of caps > C: exactly C allocated */
#define CLEARING_FLOORS_EXCEED 0x08u  /* sum of floors > C: floors scaled down */
#define CLEARING_ZERO_BID_PHASE 0x10u /* positive bidders all capped; zero bidders shared the
                                         rest in proportion to their caps */

typedef struct clearing_result {
  double price;        /* millicores per bid unit. Contended: the clearing price. Otherwise
                          (uncontended or zero-bid phase): the smallest price that caps every
                          positive bidder, max M_i/b_i; 0 if no positive bid or floors exceed */
  double floor_scale;  /* C / sum(m_i) when floors exceed C, else 1 */
  int64_t capacity_m;  /* C as used (negative capacity is treated as 0) */
  int64_t allocated_m; /* sum of alloc_m; == C when contended, == sum of caps otherwise */
  uint32_t flags;      /* CLEARING_* node-level flags */
  uint32_t n_at_floor, n_at_cap, n_between; /* counts of the per-participant flags */
} clearing_result;

/* Capacity of a node's market: allocatable - reserve - non-participants' requests,
 * at least 0 (saturating; never overflows). */
int64_t clearing_capacity(int64_t allocatable_m, int64_t reserve_m, int64_t non_participant_m);

/* Clear one node. out has n entries (caller-owned, written in input order); res is
 * filled. p may be NULL when n == 0. Deterministic: the same input gives byte-identical
 * out and res. Cost O(n) plus an O(n) radix sort; one malloc of ~180 bytes x n.
 * Errors: MBCAS_EINVAL (err field "participants[i].bid" / ".floor_m" / ".cap_m") for a
 * negative or non-finite bid, negative floor, cap below floor; MBCAS_ENOMEM. On error
 * out and res are left untouched. */
mbcas_rc clearing_solve(clearing_alloc *out, clearing_result *res,
                        const clearing_participant *p, size_t n, int64_t capacity_m,
                        mbcas_err *err);

#endif
