/* forecast.h - short-horizon load forecast for proactive scaling (AgentPolicy forecast).
 *
 * Additive Holt-Winters with a damped trend and a daily season kept in coarse time-of-day
 * bins (default 96 bins of 15 min), so one season costs ~1 KiB whatever the sample rate,
 * and irregular sample times are handled: the trend is per second and the season is
 * indexed by time of day, not by sample number. Until one whole season has been observed
 * the seasonal term is not used and the method is Holt's linear trend (the fallback);
 * FORECAST_HOLT keeps that fallback for good; FORECAST_NAIVE predicts the last value.
 * Forecasts are clamped at 0 (loads are never negative).
 *
 * Owns: the forecast_state it allocates (forecast_free). Does not touch: I/O, clocks,
 * Kubernetes. Thread safety: one state per caller; no global state. */
#ifndef MBCAS_MARKET_FORECAST_H
#define MBCAS_MARKET_FORECAST_H

#include <stddef.h>

#include "result.h"

typedef enum {
  FORECAST_HOLT_WINTERS = 0, /* level + damped trend + daily season (Holt fallback first) */
  FORECAST_HOLT = 1,         /* level + damped trend only */
  FORECAST_NAIVE = 2         /* last observed value */
} forecast_method;

typedef struct forecast_config {
  forecast_method method;
  double alpha;    /* level smoothing per sample, (0,1] */
  double beta;     /* trend smoothing per sample, [0,1] */
  double gamma;    /* season smoothing per sample, [0,1] */
  double phi;      /* trend damping per horizon second ^ (1/60), (0,1]; 1 = undamped */
  double season_s; /* season length, seconds (86400 = daily) */
  size_t bins;     /* seasonal bins per season, >= 2 */
} forecast_config;

/* Defaults: Holt-Winters, alpha 0.2, beta 0.02, gamma 0.05, phi 0.98 (per minute),
 * daily season of 96 bins. */
void forecast_config_default(forecast_config *cfg);

/* Parse "holt-winters", "holt", "naive" (the AgentPolicy spelling); -1 when unknown. */
int forecast_parse_method(const char *s);

typedef struct forecast_state forecast_state;

/* Allocate a fresh state. Errors: MBCAS_EINVAL (field "alpha", "beta", "gamma", "phi",
 * "seasonS", "bins") for out-of-range settings; MBCAS_ENOMEM. *out untouched on error. */
mbcas_rc forecast_new(forecast_state **out, const forecast_config *cfg, mbcas_err *err);
void forecast_free(forecast_state *st);

/* Feed one observation at time t (seconds; only differences and t mod season matter).
 * Non-finite values are ignored; an observation not later than the last is ignored. */
void forecast_observe(forecast_state *st, double t, double value);

/* Forecast for time now + horizon_s (horizon_s >= 0) after the last observation at now.
 * Returns 0 before the first observation. */
double forecast_predict(const forecast_state *st, double horizon_s);

/* Largest forecast over (0, horizon_s], sampled every step_s (>0): what a proactive
 * scaler must be ready for within its horizon. */
double forecast_predict_max(const forecast_state *st, double horizon_s, double step_s);

/* 1 once the seasonal term is in use (a whole season observed, Holt-Winters only). */
int forecast_seasonal_ready(const forecast_state *st);

/* Observations seen so far. */
size_t forecast_count(const forecast_state *st);

#endif
