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

/* Forecast error band: how wrong the forecast has been at one lead time, so a scaler can
 * provision for an upper quantile (forecast + z x error) instead of a fixed headroom.
 * Each observation resolves the predictions made lead_s earlier for it (error = what came
 * minus what was predicted) into an EWMA of absolute errors, then records the forecast
 * for lead_s ahead. The errors include the load's own noise, so a noisy load gets a wide
 * band and a smooth, well-predicted one a narrow band. Fixed size, no allocation; the
 * caller keeps one per forecast_state (a restart starts with no band, i.e. sd 0, until
 * the first prediction is resolved lead_s later). */
#define FORECAST_BAND_RING 64
typedef struct forecast_band {
  double lead_s; /* horizon whose errors are tracked, seconds (> 0) */
  double alpha;  /* EWMA weight of each resolved error, (0, 1] */
  double mae;    /* EWMA of absolute errors; < 0: none resolved yet */
  size_t resolved; /* predictions resolved so far */
  size_t head, count;                  /* pending predictions, oldest at head */
  double at[FORECAST_BAND_RING];       /* target time of each pending prediction */
  double pred[FORECAST_BAND_RING];     /* its predicted value */
} forecast_band;

/* Reset *b for predictions lead_s ahead (<= 0: 60 s) with error weight alpha (not in
 * (0,1]: 0.025, i.e. the errors of about the last 40 observations). */
void forecast_band_init(forecast_band *b, double lead_s, double alpha);
/* Call after forecast_observe(st, t, value) with the same t and value: resolves pending
 * predictions whose target time is <= t against value, then records forecast_predict(st,
 * lead_s) for t + lead_s (dropping the oldest when FORECAST_BAND_RING are pending).
 * Non-finite values and times not after the last are ignored. */
void forecast_band_observe(forecast_band *b, const forecast_state *st, double t, double value);
/* The band's standard deviation, estimated as sqrt(pi/2) x the EWMA of absolute errors
 * (a mean absolute error is less swayed by one burst than a mean square error, so the
 * band narrows again soon after it); 0 when none resolved yet. */
double forecast_band_sd(const forecast_band *b);
/* 1 once at least min_resolved predictions were resolved: the band has seen enough of
 * the load to be trusted (a proactive scaler should not scale in on a forecast whose
 * error it does not know yet). min_resolved 0: always. 0 for a NULL band. */
int forecast_band_ready(const forecast_band *b, size_t min_resolved);
/* Upper forecast: forecast_predict_max(st, horizon_s, step_s) + z x forecast_band_sd(b),
 * clamped at 0 (b NULL or z <= 0: the plain maximum). */
double forecast_upper(const forecast_state *st, const forecast_band *b, double horizon_s,
                      double step_s, double z);

/* 1 once the seasonal term is in use (a whole season observed, Holt-Winters only). */
int forecast_seasonal_ready(const forecast_state *st);

/* Observations seen so far. */
size_t forecast_count(const forecast_state *st);

#endif
