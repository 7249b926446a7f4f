/* forecast.c - Holt-Winters (additive, damped trend, binned daily season); see forecast.h. */
#include "forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct forecast_state {
  forecast_config cfg;
  double level, trend; /* trend per second */
  double t0, last_t, last_value;
  size_t n;
  int seasonal; /* season[] in use */
  double *season; /* bins entries */
  double *acc;    /* first-season sums of y per bin */
  double *cnt;
};

void forecast_config_default(forecast_config *cfg) {
  cfg->method = FORECAST_HOLT_WINTERS;
  cfg->alpha = 0.2;
  cfg->beta = 0.02;
  cfg->gamma = 0.05;
  cfg->phi = 0.98;
  cfg->season_s = 86400.0;
  cfg->bins = 96;
}

int forecast_parse_method(const char *s) {
  if (!s) return -1;
  if (strcmp(s, "holt-winters") == 0 || strcmp(s, "HoltWinters") == 0) return FORECAST_HOLT_WINTERS;
  if (strcmp(s, "holt") == 0 || strcmp(s, "Holt") == 0) return FORECAST_HOLT;
  if (strcmp(s, "naive") == 0 || strcmp(s, "Naive") == 0) return FORECAST_NAIVE;
  return -1;
}

static int in01(double v, int open_low) {
  if (!isfinite(v)) return 0;
  return open_low ? (v > 0.0 && v <= 1.0) : (v >= 0.0 && v <= 1.0);
}

mbcas_rc forecast_new(forecast_state **out, const forecast_config *cfg, mbcas_err *err) {
  if (!out || !cfg) return mbcas_err_set(err, MBCAS_EINVAL, "", "out and cfg are required");
  if ((int)cfg->method < FORECAST_HOLT_WINTERS || (int)cfg->method > FORECAST_NAIVE)
    return mbcas_err_set(err, MBCAS_EINVAL, "method", "unknown forecast method %d", (int)cfg->method);
  if (!in01(cfg->alpha, 1)) return mbcas_err_set(err, MBCAS_EINVAL, "alpha", "must be in (0,1]");
  if (!in01(cfg->beta, 0)) return mbcas_err_set(err, MBCAS_EINVAL, "beta", "must be in [0,1]");
  if (!in01(cfg->gamma, 0)) return mbcas_err_set(err, MBCAS_EINVAL, "gamma", "must be in [0,1]");
  if (!in01(cfg->phi, 1)) return mbcas_err_set(err, MBCAS_EINVAL, "phi", "must be in (0,1]");
  if (!isfinite(cfg->season_s) || cfg->season_s <= 0.0)
    return mbcas_err_set(err, MBCAS_EINVAL, "seasonS", "must be > 0");
  if (cfg->bins < 2 || cfg->bins > 100000)
    return mbcas_err_set(err, MBCAS_EINVAL, "bins", "must be in [2,100000]");
  forecast_state *st = calloc(1, sizeof *st);
  if (!st) return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  st->season = calloc(3 * cfg->bins, sizeof(double));
  if (!st->season) {
    free(st);
    return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  }
  st->acc = st->season + cfg->bins;
  st->cnt = st->acc + cfg->bins;
  st->cfg = *cfg;
  *out = st;
  return MBCAS_OK;
}

void forecast_free(forecast_state *st) {
  if (!st) return;
  free(st->season);
  free(st);
}

/* Position of t in the season as a fractional bin index in [0, bins). */
static double bin_pos(const forecast_state *st, double t) {
  double ph = fmod(t, st->cfg.season_s);
  if (ph < 0) ph += st->cfg.season_s;
  double pos = ph / st->cfg.season_s * (double)st->cfg.bins;
  if (pos >= (double)st->cfg.bins) pos = 0.0;
  return pos;
}

/* Linear interpolation between bin centres (bin k covers [k, k+1), centre k + 0.5). */
static void bin_weights(const forecast_state *st, double t, size_t *k0, size_t *k1, double *w1) {
  size_t b = st->cfg.bins;
  double x = bin_pos(st, t) - 0.5;
  if (x < 0) x += (double)b;
  size_t lo = (size_t)floor(x);
  if (lo >= b) lo = b - 1;
  *k0 = lo;
  *k1 = (lo + 1) % b;
  *w1 = x - (double)lo;
}

static double season_at(const forecast_state *st, double t) {
  if (!st->seasonal) return 0.0;
  size_t k0, k1;
  double w1;
  bin_weights(st, t, &k0, &k1, &w1);
  return (1.0 - w1) * st->season[k0] + w1 * st->season[k1];
}

static void start_season(forecast_state *st, double t) {
  size_t b = st->cfg.bins;
  double sum = 0.0, n = 0.0;
  for (size_t k = 0; k < b; k++) {
    sum += st->acc[k];
    n += st->cnt[k];
  }
  double mean = n > 0 ? sum / n : 0.0;
  for (size_t k = 0; k < b; k++) st->season[k] = st->cnt[k] > 0 ? st->acc[k] / st->cnt[k] - mean : 0.0;
  st->seasonal = 1;
  /* the level so far followed the seasonal swing: take the season out of it */
  st->level -= season_at(st, t);
  st->trend = 0.0;
}

void forecast_observe(forecast_state *st, double t, double value) {
  if (!st || !isfinite(value) || !isfinite(t)) return;
  if (st->n == 0) {
    st->level = value;
    st->trend = 0.0;
    st->t0 = st->last_t = t;
    st->last_value = value;
    st->n = 1;
    return;
  }
  if (t <= st->last_t) return;
  double dt = t - st->last_t;
  const forecast_config *c = &st->cfg;
  st->last_value = value;
  st->n++;
  st->last_t = t;
  if (c->method == FORECAST_NAIVE) return;
  if (c->method == FORECAST_HOLT_WINTERS && !st->seasonal && t - st->t0 >= c->season_s)
    start_season(st, st->last_t);
  double s = season_at(st, t);
  double prev = st->level;
  double pred = st->level + st->trend * dt;
  st->level = c->alpha * (value - s) + (1.0 - c->alpha) * pred;
  st->trend = c->beta * (st->level - prev) / dt + (1.0 - c->beta) * st->trend;
  if (c->method != FORECAST_HOLT_WINTERS) return;
  size_t k0, k1;
  double w1;
  bin_weights(st, t, &k0, &k1, &w1);
  double resid = value - st->level;
  if (st->seasonal) {
    st->season[k0] += c->gamma * (1.0 - w1) * (resid - st->season[k0]);
    st->season[k1] += c->gamma * w1 * (resid - st->season[k1]);
  } else {
    size_t k = (size_t)bin_pos(st, t);
    st->acc[k] += value;
    st->cnt[k] += 1.0;
  }
}

double forecast_predict(const forecast_state *st, double horizon_s) {
  if (!st || st->n == 0) return 0.0;
  if (!(horizon_s > 0.0)) horizon_s = 0.0;
  if (st->cfg.method == FORECAST_NAIVE) return st->last_value > 0 ? st->last_value : 0.0;
  double m = horizon_s / 60.0, phi = st->cfg.phi, damp;
  if (phi >= 1.0)
    damp = horizon_s;
  else
    damp = 60.0 * phi * (1.0 - pow(phi, m)) / (1.0 - phi);
  double v = st->level + st->trend * damp + season_at(st, st->last_t + horizon_s);
  return v > 0.0 ? v : 0.0;
}

double forecast_predict_max(const forecast_state *st, double horizon_s, double step_s) {
  if (!st || st->n == 0) return 0.0;
  if (!(step_s > 0.0)) step_s = horizon_s > 0.0 ? horizon_s : 1.0;
  double best = forecast_predict(st, horizon_s > 0.0 ? horizon_s : 0.0);
  for (double h = step_s; h < horizon_s; h += step_s) {
    double v = forecast_predict(st, h);
    if (v > best) best = v;
  }
  return best;
}

void forecast_band_init(forecast_band *b, double lead_s, double alpha) {
  if (!b) return;
  memset(b, 0, sizeof *b);
  b->lead_s = lead_s > 0 && isfinite(lead_s) ? lead_s : 60.0;
  b->alpha = alpha > 0 && alpha <= 1 ? alpha : 0.025;
  b->mae = -1;
}

void forecast_band_observe(forecast_band *b, const forecast_state *st, double t, double value) {
  if (!b || !st || !isfinite(t) || !isfinite(value)) return;
  size_t last = (b->head + b->count + FORECAST_BAND_RING - 1) % FORECAST_BAND_RING;
  if (b->count > 0 && !(t > b->at[last] - b->lead_s)) return; /* time went backwards */
  while (b->count > 0 && b->at[b->head] <= t) {
    double e = fabs(value - b->pred[b->head]);
    b->mae = b->mae < 0 ? e : (1 - b->alpha) * b->mae + b->alpha * e;
    b->resolved++;
    b->head = (b->head + 1) % FORECAST_BAND_RING;
    b->count--;
  }
  if (b->count == FORECAST_BAND_RING) { /* full: the oldest is dropped unresolved */
    b->head = (b->head + 1) % FORECAST_BAND_RING;
    b->count--;
  }
  size_t i = (b->head + b->count) % FORECAST_BAND_RING;
  b->at[i] = t + b->lead_s;
  b->pred[i] = forecast_predict(st, b->lead_s);
  b->count++;
}

double forecast_band_sd(const forecast_band *b) {
  return b && b->mae > 0 ? 1.2533141373155001 * b->mae : 0.0; /* sqrt(pi/2) x MAE */
}

int forecast_band_ready(const forecast_band *b, size_t min_resolved) {
  return b && b->resolved >= min_resolved;
}

double forecast_upper(const forecast_state *st, const forecast_band *b, double horizon_s,
                      double step_s, double z) {
  double v = forecast_predict_max(st, horizon_s, step_s);
  if (z > 0 && isfinite(z)) v += z * forecast_band_sd(b);
  return v > 0 ? v : 0.0;
}

int forecast_seasonal_ready(const forecast_state *st) { return st ? st->seasonal : 0; }

size_t forecast_count(const forecast_state *st) { return st ? st->n : 0; }
