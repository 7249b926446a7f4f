/* sim.h - mbcas-sim: a discrete-time simulation of a 3-tier service under a policy.
 *
 * Model: nodes with CPU capacity; three services (frontend -> backend -> database, each
 * request fanning out to the next tier); pods with a start-up delay, a scheduler that
 * places a pod where its request fits, metrics that arrive with a scrape lag, in-place
 * resizes that take effect after a delay, and one M/M/1 queue per pod (queue.h).
 * End-to-end p95 latency = sum of per-tier base latency and per-tier p95 (the mixture
 * over the tier's pods behind a round-robin balancer).
 * Policies: static sizing, the Kubernetes HPA (hpa.h), a VPA-like recommender (vpa.h),
 * MBCAS reactive and proactive, which call the operator's own decision code in
 * operator/market (demand_update, bid_*, market_clear with guardrails,
 * horizontal_decide, forecast_*), and an offline oracle (least CPU meeting the SLO at
 * every step, knowing the load).
 *
 * Owns: everything it allocates during sim_run (freed before it returns).
 * Does not touch: Kubernetes, clocks. Thread safety: no global state. */
#ifndef MBCAS_SIM_SIM_H
#define MBCAS_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bid.h"
#include "demand.h"
#include "forecast.h"
#include "guardrails.h"
#include "horizontal.h"
#include "hpa.h"
#include "result.h"

typedef enum {
  SIM_STATIC = 0,
  SIM_HPA,
  SIM_VPA,
  SIM_MBCAS,
  SIM_MBCAS_PROACTIVE,
  SIM_ORACLE,
  SIM_NPOLICIES
} sim_policy;

/* "static", "hpa", "vpa", "mbcas", "mbcas-proactive", "oracle"; never NULL. */
const char *sim_policy_name(sim_policy p);
/* Inverse of sim_policy_name; -1 when unknown. */
int sim_policy_parse(const char *s);

#define SIM_TIERS 3
#define SIM_MAX_PODS 512
#define SIM_MAX_NODES 64

typedef struct sim_tier {
  char name[16];
  double cpu_s;   /* CPU cost of one request at this tier, core-seconds */
  double fanout;  /* calls to this tier per request of the tier above (tier 0: 1) */
  double base_s;  /* latency outside the queue (network, fixed work), seconds */
  double budget;  /* MBCAS ServiceBudget spec.budget */
} sim_tier;

typedef struct sim_config {
  double step_s;          /* simulation step = control cycle, 15 s */
  double startup_s;       /* scheduled pod -> ready, 45 s */
  double scrape_lag_s;    /* metrics age when a controller reads them, 30 s */
  double resize_delay_s;  /* in-place resize decided -> effective, 5 s (rounded up to steps) */
  double slo_s;           /* end-to-end p95 latency objective, 0.2 s */
  int n_nodes;
  int64_t node_cpu_m;
  sim_tier tier[SIM_TIERS];
  int64_t pod_cpu_m;      /* pod size: static/HPA request = limit, VPA start, MBCAS cap */
  int64_t floor_m;        /* MBCAS per-pod floor, VPA minimum */
  int32_t min_replicas, max_replicas;
  double target_util;     /* HPA averageUtilization; also the initial/static sizing */
  double static_quantile; /* static sizing: this load quantile at target_util */
  hpa_config hpa;         /* min/max/target are taken from the fields above */
  double vpa_half_life_s, vpa_interval_s, vpa_margin; /* 24 h, 60 s, 0.15 */
  /* MBCAS: what ScalingMarket / ServiceBudget / AgentPolicy would say */
  demand_config demand;
  guardrails_config guard;
  horizontal_config horiz; /* min/max replicas taken from the fields above */
  bid_config bid;
  double demand_util_target; /* CPU signal: pressure 1 at usage = this x allocation */
  int latency_signal;        /* 1: also a per-pod latency signal, target = tier's SLO share */
  forecast_config forecast;
  double forecast_horizon_s; /* AgentPolicy forecast horizon (proactive) */
  double need_util;          /* MBCAS demand-justified cap (market_need_m): a pod's cap for
                                the cycle is its need at this utilization; 0: spec cap only */
  int64_t need_headroom_m;   /* ... plus this many millicores */
  double need_hold_s;        /* market_need_hold half-life (downscale stabilization) */
  double agent_lag_s;        /* age of what the agent sidecar reports (pod latency, request
                                rate) when the operator polls it at clearing: its own
                                window, not the metrics pipeline's scrape lag. Rounded up
                                to steps; 0: the step just served */
  double forecast_z;         /* proactive: provision for forecast + z x its error band
                                (forecast_upper); 0: the plain forecast maximum */
  double forecast_band_alpha; /* forecast_band EWMA weight */
  size_t forecast_band_min;  /* resolved predictions before the forecast may allow scale-in */
  double forecast_lead_s;    /* with forecast_z: horizon of the scale-out forecast and of its
                                error band (the time a new pod needs: start-up + one cycle);
                                forecast_horizon_s is then the scale-in hold horizon */
  int64_t burst_cap_m;       /* MBCAS per-pod cap (ServiceBudget maxCpu) when above pod_cpu_m:
                                pods are sized near pod_cpu_m by their need and may grow to
                                this in place; 0: pod_cpu_m */
} sim_config;

void sim_config_default(sim_config *c);

typedef struct sim_scores {
  double hours;            /* simulated time */
  double violation_s;      /* time with end-to-end p95 above the SLO */
  double violation_pct;
  double p95_s, p99_s;     /* load-weighted 95th pct of per-step p95, 99th of per-step p99 */
  double mean_p95_s;       /* load-weighted mean of per-step p95 */
  double core_hours;       /* CPU allocated to placed pods */
  double pod_hours;
  double throttled_pct;    /* % of ready pod-time saturated (CPU demand >= allocation) */
  double jain;             /* mean Jain index (alloc share / budget share) on contended nodes */
  long contended_steps;    /* node-steps counted in jain */
  double mean_abs_delta_m; /* mean over cycles of sum over pods of |delta allocation| */
  long resizes, scales;    /* applied in-place resizes; replica changes */
  double peak_cores;       /* largest allocation at any step */
} sim_scores;

/* Run one policy over load[0..n) (frontend requests/s per step). csv (may be NULL) gets
 * one row per step every csv_every steps (header first). Errors: MBCAS_EINVAL for a bad
 * config (field named), MBCAS_ENOMEM, or an error from the market code. */
mbcas_rc sim_run(sim_scores *out, const sim_config *c, sim_policy pol, const double *load,
                 size_t n, FILE *csv, size_t csv_every, mbcas_err *err);

/* Replicas for tier t at frontend load lambda, pods of pod_m at utilization util. */
int32_t sim_replicas_for(const sim_config *c, int t, double lambda, double util);

/* The oracle at one step: least cores per tier (in out_cores, pods in out_pods) meeting
 * the SLO with pods of at most pod_cpu_m, no delays. Returns the total cores. */
double sim_oracle_step(const sim_config *c, double lambda, double out_cores[SIM_TIERS],
                       int32_t out_pods[SIM_TIERS]);

/* Markdown summary: header, then one row per run. oracle_core_hours > 0 adds the ratio. */
void sim_scores_md_header(FILE *f);
void sim_scores_md_row(FILE *f, const char *trace, sim_policy p, const sim_scores *s,
                       double oracle_core_hours);

#endif
