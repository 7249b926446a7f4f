/* guardrails.h - turn a node's cleared targets into safe CPU changes for this cycle.
 *
 * Per pod, in this order: cooldown (no change within cooldown_s of the last change),
 * dead band (ignore changes smaller than the band), step limit (at most max(abs, frac x
 * current) up or down per cycle; the tighter of the two when both are set), usage
 * protection (a cut stops at usage x (1 + headroom), never below the target's floor and
 * never above current), then bounds (result within [min(floor, target), cap]).
 * Then per node, so the result never exceeds capacity C when the targets fit in C:
 *   1. usage protection is relaxed first ("unless capacity forces it"),
 *   2. then increases are trimmed toward current,
 *   3. then held-back decreases are forced down toward target.
 * Each stage takes what it needs in proportion to what each pod can give, integer
 * millicores, remainder by (key, input index). Memory has its own rule: increase-only.
 *
 * Owns: nothing (one scratch malloc per node call). Does not touch: I/O, Kubernetes.
 * Thread safety: pure functions over caller-owned memory. */
#ifndef MBCAS_MARKET_GUARDRAILS_H
#define MBCAS_MARKET_GUARDRAILS_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef struct guardrails_config {
  int64_t max_step_m;    /* absolute step limit per cycle, millicores; <= 0: none */
  double max_step_frac;  /* relative step limit, fraction of current; <= 0: none */
  int64_t min_step_m;    /* the relative limit never goes below this (so tiny pods can grow); e.g. 50 */
  double cooldown_s;     /* <= 0: none */
  int64_t dead_band_m;   /* |target - current| < dead band: no change; <= 0: none */
  double dead_band_frac; /* same, as a fraction of current; the larger band applies */
  double usage_headroom; /* protect usage x (1 + h) from cuts; < 0: no usage protection */
} guardrails_config;

/* Defaults: step 500m or 50% (min 50m), cooldown 30 s, dead band 10m or 2%, headroom 0.2. */
void guardrails_config_default(guardrails_config *cfg);

typedef struct guardrails_pod {
  uint64_t key;           /* same stable key as in clearing */
  int64_t current_m;      /* current CPU allocation (limit); 0 for a pod not yet sized */
  int64_t target_m;       /* cleared allocation (clearing_alloc.alloc_m) */
  int64_t floor_m;        /* pod floor (as given to clearing) */
  int64_t cap_m;          /* pod cap */
  int64_t usage_m;        /* observed usage; < 0: unknown (no usage protection) */
  double last_change_at;  /* time of the last applied change; < 0: never */
} guardrails_pod;

/* Per-pod reasons (guardrails_decision.flags). */
#define GUARDRAILS_COOLDOWN 0x001u        /* held at current: cooldown */
#define GUARDRAILS_DEAD_BAND 0x002u       /* held at current: change inside dead band */
#define GUARDRAILS_STEP_LIMITED 0x004u    /* change cut to the step limit */
#define GUARDRAILS_USAGE_PROTECTED 0x008u /* cut stopped above target to protect usage */
#define GUARDRAILS_USAGE_RELAXED 0x010u   /* usage protection (partly) given up for capacity */
#define GUARDRAILS_TRIMMED 0x020u         /* increase trimmed so the node fits in capacity */
#define GUARDRAILS_FORCED 0x040u          /* decrease forced beyond step/cooldown for capacity */
#define GUARDRAILS_BOUNDS 0x080u          /* moved into [floor, cap] regardless of step */
#define GUARDRAILS_CHANGED 0x100u         /* desired_m != current_m: caller records now */

typedef struct guardrails_decision {
  int64_t desired_m;    /* what to actuate this cycle */
  int64_t step_limit_m; /* the step limit that applied to this pod (0 = unlimited) */
  uint32_t flags;       /* GUARDRAILS_* */
} guardrails_decision;

/* The step limit for a pod at current_m: min of max_step_m and
 * max(min_step_m, max_step_frac x current_m) over the limits that are set; 0 = none. */
int64_t guardrails_step_limit(const guardrails_config *cfg, int64_t current_m);

/* Guard one pod alone (no capacity stage). out filled; cfg NULL = no guardrails. */
void guardrails_apply_pod(guardrails_decision *out, const guardrails_config *cfg,
                          const guardrails_pod *pod, double now);

/* Guard all pods of one node (out has n entries, input order) and make the result fit
 * in capacity_m when sum(target_m) <= capacity_m (then sum(desired_m) <= capacity_m is
 * guaranteed). When even the targets do not fit, every pod gets its target.
 * Errors: MBCAS_EINVAL (field "pods[i]...") for negative current/target/floor or
 * cap < floor; MBCAS_ENOMEM. On error out is untouched. Deterministic. */
mbcas_rc guardrails_apply_node(guardrails_decision *out, const guardrails_config *cfg,
                               const guardrails_pod *pods, size_t n, int64_t capacity_m,
                               double now, mbcas_err *err);

/* Memory requests and limits are never lowered when increase_only is set:
 * returns max(current, desired) then, desired otherwise. */
int64_t guardrails_memory(int64_t current_bytes, int64_t desired_bytes, int increase_only);

#endif
