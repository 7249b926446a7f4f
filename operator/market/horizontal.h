/* horizontal.h - replica decisions for one service, HPA-like but driven by the market.
 *
 * Scale out when the service's pods sit at their CPU cap (at least at_cap_frac of them
 * have alloc >= cap_tolerance x cap) with demand >= scale_out_demand, continuously for
 * scale_out_window_s. Scale in when demand <= scale_in_demand continuously for the
 * (longer) scale_in_window_s. Step size is proportional like the HPA's:
 * ceil(replicas x demand / target_demand), at least one replica, at most the step
 * limits; scale-in uses the highest recommendation seen during its window (the HPA's
 * stabilization) and, like the HPA, never goes below it: when that recommendation is the
 * current count nothing is removed and the window starts again. An optional forecast
 * (horizontal_observation.forecast_demand) scales out ahead of a predicted peak without
 * the at-cap condition and keeps scale-in from going below what the forecast needs.
 * Then replica floor and cap, the market-wide replica ceiling and a
 * cooldown between changes. Bounds (replicas outside [min, max]) are fixed at once.
 * The caller keeps a horizontal_state per service; it is four numbers and can live in
 * ServiceBudget status, so a restarted operator resumes where it was.
 *
 * Owns: nothing. Does not touch: I/O, Kubernetes. Thread safety: pure functions. */
#ifndef MBCAS_MARKET_HORIZONTAL_H
#define MBCAS_MARKET_HORIZONTAL_H

#include <stddef.h>
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
  /* Additive (0 keeps the old behaviour). 0: scale in only after demand stayed at or
   * below scale_in_demand continuously for scale_in_window_s. 1: the HPA's scale-down
   * stabilization: each cycle's recommendation is ceil(replicas x demand / target) when
   * demand <= scale_in_demand and the current count otherwise (the band between the
   * two thresholds is the tolerance); scale in to the highest recommendation of the
   * last scale_in_window_s (kept in half-window buckets, so the window covered is
   * between 1 and 1.5 x scale_in_window_s: never shorter than the HPA's) whenever it
   * is below the current count. A noisy demand that dips below the threshold now and
   * then no longer restarts the window. */
  int32_t in_sliding;
  /* Additive (<= 0 keeps the old behaviour). The utilization a forecast recommendation is
   * sized at: ceil(replicas x forecast_demand / forecast_target_demand), and the service
   * scales out as soon as that exceeds the current count. Meant for an upper-quantile
   * forecast (forecast_upper: the forecast plus its own error band), which already holds
   * the headroom for noise, so it can sit above target_demand, near the utilization
   * where the latency objective is still met. <= 0: the forecast is sized at
   * target_demand and scales out only when it reaches scale_out_demand. */
  double forecast_target_demand;
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
  /* Additive, used by in_sliding only (horizontal_state_init zeroes them; a state
   * without them, e.g. after a restart, only delays scale-in by one window): */
  double in_bucket_at;  /* start of the current half-window bucket (in_max_rec) */
  int32_t in_prev1;     /* highest recommendation of the previous bucket */
  int32_t in_prev2;     /* ... and of the one before */
} horizontal_state;

void horizontal_state_init(horizontal_state *st);

typedef struct horizontal_observation {
  int32_t replicas;        /* current replicas (spec of the scale subresource) */
  int32_t pods;            /* pods observed this cycle (running, with a demand). Fewer
                              than replicas means pods are starting: scale-out then
                              recommends ceil(pods x demand / target) and holds when that
                              does not exceed replicas (the HPA's "not ready = 0 %") */
  int32_t pods_at_cap;     /* of those, how many sit at their cap (see cap_tolerance) */
  double demand;           /* the service's demand, [0,1] (mean smoothed pod demand) */
  int32_t market_replicas; /* replicas of all services of the market now (incl. this) */
  int32_t market_ceiling;  /* market-wide replica ceiling; <= 0: none */
  /* Additive (0 keeps the old behaviour): the largest demand the forecast expects within
   * its horizon, as a fraction of the current replicas' caps (forecast cores / (replicas
   * x cap)); may exceed 1. When it reaches scale_out_demand the service scales out (the
   * forecast already claims the vertical room, so the at-cap condition is not needed);
   * its proportional recommendation ceil(replicas x forecast / target) is also the lowest
   * count scale-in may go to. <= 0 or non-finite: no forecast. */
  double forecast_demand;
  /* Additive (<= 0: not used): the largest demand the forecast expects over a longer
   * horizon (e.g. the scale-in window), same units as forecast_demand. Scale-in never
   * goes below its recommendation, so a service does not give back pods it is forecast
   * to need again soon (a recurring burst), while scale-out still waits for
   * forecast_demand, the short horizon. */
  double forecast_hold_demand;
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

/* Service demand relative to the pods' caps: sum(alloc_i x demand_i) / sum(cap_i),
 * clamped to [0,1]; 0 when n == 0 or the caps sum to 0. This is what horizontal_decide
 * should get as demand when pods run below their cap (market_participant.need_m): a pod
 * sized to its need has a high demand on its allocation but little on its cap. When every
 * pod is at its cap it is the mean demand. Negative or NaN entries count as 0. */
double horizontal_service_demand(const int64_t *alloc_m, const double *demand,
                                 const int64_t *cap_m, size_t n);

/* Decide at time now; updates *st (windows, cooldown) and fills *out.
 * Errors: MBCAS_EINVAL (field "minReplicas", "maxReplicas", "scaleInDemand", ...) for
 * an inconsistent config or negative observation counts; state untouched then. */
mbcas_rc horizontal_decide(horizontal_decision *out, horizontal_state *st,
                           const horizontal_config *cfg, const horizontal_observation *obs,
                           double now, mbcas_err *err);

#endif
