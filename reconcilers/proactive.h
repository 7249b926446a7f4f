/* proactive.h - a service's forecast in proactive mode (AgentPolicy spec.forecast).
 *
 * Glue between an AgentPolicy's forecast settings and the engine: one forecast_state and
 * one forecast_band (operator/market/forecast.h) per ServiceBudget, fed once per clearing
 * with the service's CPU demand (sum over its pods of demand x allocation, millicores),
 * and turned into the two inputs of horizontal_decide:
 *   forecast_demand      = upper forecast over leadTime / (replicas x per-pod cap)
 *   forecast_hold_demand = upper forecast over horizon  / (replicas x per-pod cap)
 * where upper = forecast + errorBand x the forecast's own error. Until the band has seen
 * ten minutes of its own errors the hold keeps every replica (no scale-in on a forecast
 * whose error is unknown). mbcas-sim does the same with the same engine calls
 * (sim/sim.c, mbcas_cycle).
 *
 * Owns: its forecast state (rec_proactive_free). Memory only: a restarted operator starts
 * a new forecast (the season is learnt again). Thread safety: one caller per state. */
#ifndef MBCAS_REC_PROACTIVE_H
#define MBCAS_REC_PROACTIVE_H

#include "agentpolicy.h"
#include "result.h"

typedef struct rec_proactive rec_proactive;

/* What a forecast is made from: an AgentPolicy's spec.forecast, copied when the demand
 * stage reads the policy (rec_policy_evaluate), so the clearing does not parse it again. */
typedef struct rec_forecast_settings {
  int on;                 /* enabled with method HoltWinters */
  int64_t horizon_ms, lead_ms, season_ms;
  double error_band;
} rec_forecast_settings;

/* The settings of ap (NULL: forecasting off). */
void rec_forecast_settings_of(rec_forecast_settings *out, const ap_spec *ap);

/* A fresh forecast for these settings, observed every interval_s (the market's clearing
 * interval, > 0). *out = NULL (and MBCAS_OK) when fs is NULL or not on. Errors:
 * MBCAS_EINVAL for settings the engine refuses, MBCAS_ENOMEM. */
mbcas_rc rec_proactive_new(rec_proactive **out, const rec_forecast_settings *fs,
                           double interval_s, mbcas_err *err);
/* 1 when p was made for exactly these settings and interval (else replace it); a NULL p
 * matches settings that need no forecast. */
int rec_proactive_same(const rec_proactive *p, const rec_forecast_settings *fs, double interval_s);
/* Feed the service's CPU demand in millicores observed at now (seconds, increasing).
 * Negative or non-finite values and times not after the last are ignored. */
void rec_proactive_observe(rec_proactive *p, double now, double demand_m);

typedef struct rec_forecast_out {
  double lead_m;          /* upper forecast over leadTime, millicores */
  double horizon_m;       /* upper forecast over horizon, millicores */
  double forecast_demand; /* horizontal_observation.forecast_demand */
  double hold_demand;     /* horizontal_observation.forecast_hold_demand */
  int band_ready;         /* the error band has seen ten minutes of errors */
} rec_forecast_out;

/* The outputs for a service of capacity cap_total_m (replicas x per-pod cap, > 0) whose
 * forecast horizontal_decide sizes at sized_at (forecast_target_demand, or target_demand
 * when that is unset); before the band is trusted, hold_demand = sized_at, which keeps
 * every replica. All zero when p is NULL, nothing was observed yet or cap_total_m <= 0. */
void rec_proactive_outputs(const rec_proactive *p, double cap_total_m, double sized_at,
                           rec_forecast_out *out);
/* Accepts NULL. */
void rec_proactive_free(rec_proactive *p);

#endif
