/* horizontal.h - replica decisions for one service, HPA-like but driven by the market.
 *
 * Scale out when the service's pods sit at their CPU cap (at least at_cap_frac of them
 * have alloc >= cap_tolerance x cap) with demand >= scale_out_demand, continuously for
 * scale_out_window_s. Scale in when demand <= scale_in_demand continuously for the
 * (longer) scale_in_window_s. Step size is proportional like the HPA's:
 * ceil(replicas x demand / target_demand), at least one replica, at most the step
 * limits; scale-in uses the highest recommendation seen during its window (the HPA's
 * stabilization). Then replica floor and cap, the market-wide replica ceiling and a
 * cooldown between changes. Bounds (replicas outside [min, max]) are fixed at once.
 * The caller keeps a horizontal_state per service; it is four numbers and can live in
 * ServiceBudget status, so a restarted operator resumes where it was.
 *
 * Owns: nothing. Does not touch: I/O, Kubernetes. Thread safety: pure functions. */
#ifndef MBCAS_MARKET_HORIZONTAL_H
#define MBCAS_MARKET_HORIZONTAL_H

#include <stdint.h>

#include "result.h"

typedef struct horizontal_config {
  int32_t min_replicas;      /* >= 0 */
  int32_t max_replicas;      /* >= min_replicas */
  double scale_out_demand;   /* e.g. 0.8 */
  double scale_in_demand;    /* e.g. 0.3; must be < scale_out_demand */
  double target_demand;      /* proportional target, e.g. 0.6; in (0,1] */
  double at_cap_frac;        /* fraction of pods that must be at cap, e.g. 0.5 */
  double cap_tolerance;      /* a pod is "at cap" when alloc >= this x cap, e.g. 0.95 */
  double scale_out_window_s; /* e.g. 60 */
  double scale_in_window_s;  /* e.g. 300 */
  double cooldown_s;         /* minimum time between replica changes, e.g. 60 */
  int32_t max_step_out;      /* most replicas added per decision; <= 0: no limit */
  double max_step_out_frac;  /* ... or this fraction of current (the larger of the two
                                limits applies when both are set; <= 0: unused) */
  int32_t max_step_in;       /* most replicas removed per decision; <= 0: no limit */
} horizontal_config;

/* Defaults: min 1, max 10, out 0.8, in 0.3, target 0.6, at-cap 0.5, tolerance 0.95,
 * windows 60 s / 300 s, cooldown 60 s, step out max(4, 100%), step in 1. */
void horizontal_config_default(horizontal_config *cfg);

/* Caller-kept state; zero-initialise then call horizontal_state_init. */
typedef struct horizontal_state {
  double out_since;     /* start of the current scale-out condition; < 0: not holding */
  double in_since;      /* start of the current scale-in condition; < 0: not holding */
  double last_scale_at; /* last replica change decided; < 0: never */
  int32_t in_max_rec;   /* highest scale-in recommendation during the scale-in window */
} horizontal_state;

void horizontal_state_init(horizontal_state *st);

typedef struct horizontal_observation {
  int32_t replicas;        /* current replicas (spec of the scale subresource) */
  int32_t pods;            /* pods observed this cycle */
  int32_t pods_at_cap;     /* of those, how many sit at their cap (see cap_tolerance) */
  double demand;           /* the service's demand, [0,1] (mean smoothed pod demand) */
  int32_t market_replicas; /* replicas of all services of the market now (incl. this) */
  int32_t market_ceiling;  /* market-wide replica ceiling; <= 0: none */
} horizontal_observation;

typedef enum {
  HORIZONTAL_HOLD = 0,        /* nothing to do */
  HORIZONTAL_SCALE_OUT,       /* scale out: at cap with high demand for the window */
  HORIZONTAL_SCALE_IN,        /* scale in: low demand for the window */
  HORIZONTAL_BELOW_MIN,       /* raised to min_replicas */
  HORIZONTAL_ABOVE_MAX,       /* lowered to max_replicas */
  HORIZONTAL_WAIT_WINDOW,     /* a condition holds but its window has not passed */
  HORIZONTAL_COOLDOWN,        /* would change, but within cooldown */
  HORIZONTAL_AT_MAX,          /* would scale out, already at max_replicas */
  HORIZONTAL_AT_MIN,          /* would scale in, already at min_replicas */
  HORIZONTAL_MARKET_CEILING   /* would scale out, the market-wide ceiling is reached */
} horizontal_reason;

typedef struct horizontal_decision {
  int32_t desired;           /* replicas to set (== current when nothing changes) */
  horizontal_reason reason;
  int32_t recommendation;    /* the proportional recommendation before limits */
  double window_left_s;      /* WAIT_WINDOW: seconds until the window passes */
} horizontal_decision;

/* Short constant name of a reason ("scale-out"); never NULL. */
const char *horizontal_reason_str(horizontal_reason r);

/* Is one pod "at cap"? alloc_m >= cap_tolerance x cap_m (cap_m > 0). */
int horizontal_pod_at_cap(const horizontal_config *cfg, int64_t alloc_m, int64_t cap_m);

/* Decide at time now; updates *st (windows, cooldown) and fills *out.
 * Errors: MBCAS_EINVAL (field "minReplicas", "maxReplicas", "scaleInDemand", ...) for
 * an inconsistent config or negative observation counts; state untouched then. */
mbcas_rc horizontal_decide(horizontal_decision *out, horizontal_state *st,
                           const horizontal_config *cfg, const horizontal_observation *obs,
                           double now, mbcas_err *err);

#endif
