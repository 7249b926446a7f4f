/* hpa.h - the Kubernetes HorizontalPodAutoscaler (autoscaling/v2) algorithm, CPU metric.
 *
 * Follows pkg/controller/podautoscaler (replica_calculator.go, horizontal.go) for one
 * Resource metric with a utilization target:
 *  - ratio = mean utilization of ready pods / target; within the tolerance (0.1) of 1:
 *    no change. Otherwise desired = ceil(ratio x ready pods).
 *  - readiness (simplified): pods still starting are "unready", pods not yet scheduled
 *    are "missing". Scaling up, both count as 0% usage; scaling down, unready pods are
 *    left out and missing pods count as 100% of target. If that flips the direction
 *    or lands inside the tolerance, no change.
 *  - behaviour (the defaults): scale-up stabilization 0 s, policies max(100%, 4 pods)
 *    per 15 s; scale-down stabilization 300 s (the highest recommendation of the
 *    window), policy 100% per 15 s; then minReplicas/maxReplicas. The controller syncs
 *    every 15 s (the caller calls hpa_decide at that period).
 *
 * Owns: nothing (state is a fixed-size struct). Thread safety: pure over caller state. */
#ifndef MBCAS_SIM_HPA_H
#define MBCAS_SIM_HPA_H

#include <stdint.h>

#define HPA_MAX_RECS 128   /* recommendations kept (300 s window / 15 s sync = 21) */
#define HPA_MAX_EVENTS 64  /* scale events kept for the rate policies */

typedef struct hpa_config {
  int32_t min_replicas, max_replicas;
  double target_util;      /* e.g. 0.7 for averageUtilization 70 */
  double tolerance;        /* 0.1 */
  double sync_s;           /* 15 */
  double up_window_s;      /* scale-up stabilization, 0 */
  double down_window_s;    /* scale-down stabilization, 300 */
  int32_t up_pods;         /* 4 pods ... */
  double up_percent;       /* ... or 100 % ... */
  double up_period_s;      /* ... per 15 s (selectPolicy Max) */
  double down_percent;     /* 100 % ... */
  double down_period_s;    /* ... per 15 s */
} hpa_config;

/* The Kubernetes defaults above, target 70 %, replicas [1, 10]. */
void hpa_config_default(hpa_config *c);

typedef struct hpa_state {
  double rec_t[HPA_MAX_RECS];
  int32_t rec_v[HPA_MAX_RECS];
  int n_recs;
  double ev_t[HPA_MAX_EVENTS];
  int32_t ev_delta[HPA_MAX_EVENTS]; /* + added, - removed */
  int n_ev;
} hpa_state;

void hpa_state_init(hpa_state *s);

/* What the metrics show at one sync. */
typedef struct hpa_metrics {
  int32_t current;      /* spec replicas */
  int32_t ready;        /* pods with a metric */
  int32_t unready;      /* pods starting (no usable metric yet) */
  int32_t missing;      /* pods not scheduled / no metric */
  double util_sum;      /* sum over ready pods of usage / request (1.0 = 100 %) */
} hpa_metrics;

/* The raw recommendation of the replica calculator (tolerance and readiness rules),
 * before stabilization and rate limits. Returns current when nothing should change. */
int32_t hpa_recommend(const hpa_config *c, const hpa_metrics *m);

/* One sync at time now: recommend, stabilize, apply the rate policies and bounds.
 * Records the recommendation and any scale event in *s. Returns the new spec replicas. */
int32_t hpa_decide(hpa_state *s, const hpa_config *c, const hpa_metrics *m, double now);

#endif
