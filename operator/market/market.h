/* market.h - clear a whole market (many nodes) in one call: the convenience layer that
 * the ScalingMarket reconciler and mbcas-sim both use, so they share every decision.
 *
 * For each participant (a pod): bid = bid_effective(budget share, demand); participants
 * are grouped by node (stable: input order within a node), each node is cleared with
 * clearing_solve, then guarded with guardrails_apply_node (when a guardrails config is
 * given), and a reasoning_record is filled. Market-wide: Jain's fairness index of
 * allocation share over budget share, and a decision id, a 64-bit FNV-1a hash of a
 * canonical byte encoding of every input (equal inputs give equal ids on every machine).
 * Budget shares are computed by the caller with bid_service_budgets and bid_pod_share.
 *
 * Owns: scratch memory during a call only; all outputs are caller-allocated arrays.
 * Does not touch: I/O, Kubernetes, clocks (now is an input).
 * Thread safety: no global state; concurrent calls on different outputs are safe. */
#ifndef MBCAS_MARKET_MARKET_H
#define MBCAS_MARKET_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "bid.h"
#include "clearing.h"
#include "guardrails.h"
#include "reasoning.h"
#include "result.h"

typedef struct market_node {
  int64_t allocatable_m;     /* node allocatable CPU */
  int64_t reserve_m;         /* market reserve kept out of the market on this node */
  int64_t non_participant_m; /* CPU requested by pods not in the market */
} market_node;

typedef struct market_participant {
  uint32_t node;          /* index into market_input.nodes */
  uint64_t key;           /* stable key, e.g. market_key("namespace/pod") */
  double budget_share;    /* pod's share of its service's budget (bid_pod_share) */
  double demand;          /* smoothed demand, [0,1] */
  int64_t floor_m;        /* CPU floor per pod */
  int64_t cap_m;          /* CPU cap per pod */
  int64_t current_m;      /* current CPU allocation (guardrails input) */
  int64_t usage_m;        /* observed usage; < 0 unknown (guardrails input) */
  double last_change_at;  /* last applied change; < 0 never (guardrails input) */
  /* Additive (0 keeps the old behaviour): the CPU the pod's demand justifies this cycle
   * (market_need_m). When > 0 the pod's cap in clearing is clamp(need_m, floor_m, cap_m),
   * so an uncontended node does not hand out CPU nobody needs; contended capacity is
   * still shared by bids. Guardrails keep cap_m as the bound, so cuts to the need are
   * step-limited and usage-protected like any other. <= 0: no need limit. */
  int64_t need_m;
} market_participant;

typedef struct market_input {
  const market_node *nodes;
  size_t n_nodes;
  const market_participant *parts;
  size_t n_parts;
  bid_config bid;
  const guardrails_config *guard; /* NULL: no guardrails, desired = cleared */
  double now;                     /* seconds; guardrails cooldown */
} market_input;

typedef struct market_node_summary {
  int64_t capacity_m;  /* clearing_capacity(...) */
  int64_t cleared_m;   /* sum of cleared allocations */
  int64_t desired_m;   /* sum after guardrails */
  double price;        /* clearing_result.price */
  double floor_scale;  /* clearing_result.floor_scale */
  uint32_t flags;      /* clearing_result.flags */
  uint32_t participants;
} market_node_summary;

typedef struct market_alloc {
  double bid;                   /* effective bid */
  clearing_alloc cleared;       /* market outcome */
  guardrails_decision guarded;  /* what to actuate this cycle */
  reasoning_record why;         /* format with reasoning_format */
} market_alloc;

typedef struct market_output {
  market_node_summary *nodes; /* caller-allocated, n_nodes entries */
  market_alloc *allocs;       /* caller-allocated, n_parts entries, input order */
  double jain;                /* Jain's index over participants with budget_share > 0 of
                                 (alloc share / budget share); 1 when none or all equal */
  uint64_t decision_id;       /* market_decision_id(input) */
  int64_t capacity_m, cleared_m, desired_m; /* market totals */
} market_output;

/* FNV-1a 64 of len bytes, continuing from h (start with MARKET_FNV_OFFSET). */
#define MARKET_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t market_fnv1a(uint64_t h, const void *data, size_t len);

/* Stable participant key for a name such as "namespace/pod": FNV-1a 64 of the string. */
uint64_t market_key(const char *name);

/* Decision id of an input: FNV-1a over a canonical little-endian encoding of every field
 * (doubles by bit pattern, -0 as 0, every NaN as one NaN). */
uint64_t market_decision_id(const market_input *in);

/* 16 lowercase hex digits and a NUL into buf (17 bytes). Returns buf. */
char *market_id_hex(char buf[17], uint64_t id);

/* Jain's index (sum x)^2 / (n sum x^2) of x_i = (alloc_i / sum alloc) / (budget_i / sum
 * budget) over the i with budget_i > 0; 1 when n == 0 or all allocations are 0. */
double market_jain(const int64_t *alloc_m, const double *budget, size_t n);

/* The CPU a pod's demand justifies, for market_participant.need_m:
 *   max(usage_m / target_util, current_m x clamp(demand, 0, 1) / target_util) + headroom_m
 * (rounded up; headroom_m < 0 counts as 0). The first term sizes the pod so its observed
 * usage sits at target_util, like a VPA target recomputed every cycle, and keeps a stale
 * demand from shrinking a pod below what it uses. The second is the HPA's proportional
 * rule applied vertically: a demand above target_util (throttled, or a latency signal
 * near its target) grows the pod by up to 1/target_util per cycle, up to its cap.
 * usage_m < 0 (unknown): the demand term alone. Returns 0 (no limit) when current_m <= 0
 * (a pod not yet sized), target_util is not in (0, 1] or demand is NaN. */
int64_t market_need_m(int64_t current_m, int64_t usage_m, double demand, double target_util,
                      int64_t headroom_m);

/* Downscale stabilization of a pod's need (the HPA's scale-down stabilization, for the
 * vertical need): a rise is taken at once, a fall only as fast as the held peak decays
 * with half-life half_life_s. State is two plain numbers (status-friendly); zero it for
 * a fresh pod. Returns max(need_m, held peak x 2^(-(now - at)/half_life_s)), rounded up,
 * and stores it. need_m <= 0 (no limit) resets the state and returns 0; half_life_s <= 0
 * returns need_m unchanged. */
typedef struct market_need_state {
  double held_m; /* last returned need; 0: fresh */
  double at;     /* when it was returned */
} market_need_state;
int64_t market_need_hold(market_need_state *st, int64_t need_m, double now, double half_life_s);

/* Burst sizing (ServiceBudget cap above the size replicas are planned for): a pod keeps
 * at least base_m, the per-pod size the horizontal decision counts on, and grows above
 * it, up to its cap, only while its need says so; in-place growth takes one clearing
 * and a kubelet resize, a new pod a start-up. Returns max(need_m, base_m); need_m <= 0
 * (no limit) or base_m <= 0 returns need_m. */
int64_t market_need_burst(int64_t need_m, int64_t base_m);

/* Burst sizing in one call, from what ServiceBudget status records (so a clearing stays
 * replayable from status): the need justified by the pod's demand on its current
 * allocation, market_need_m(current_m, -1, demand, target_util, 0), held so that the
 * allocation falls no faster than a half-life: at least ceil(current_m x decay) with
 * decay = 2^(-interval / half-life) in [0, 1]; never below base_m (market_need_burst).
 * Returns 0 (no limit) when base_m <= 0 or target_util is not in (0, 1]; base_m when
 * current_m <= 0 (a pod not sized yet starts at the base). */
int64_t market_need_burst_step(int64_t current_m, double demand, double target_util,
                               int64_t base_m, double decay);

/* Clear every node of the market. out->nodes and out->allocs must be caller-allocated
 * with n_nodes and n_parts entries. Errors: MBCAS_EINVAL with field "parts[i].node"
 * (index out of range), "parts[i].budget_share"/"demand" (negative or non-finite),
 * or the clearing/guardrail field of the failing node's participant ("parts[i].cap_m");
 * MBCAS_ENOMEM. On error the content of out is unspecified (but nothing leaks). */
mbcas_rc market_clear(market_output *out, const market_input *in, mbcas_err *err);

#endif
