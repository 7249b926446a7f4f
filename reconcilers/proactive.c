/* proactive.c - AgentPolicy forecast settings -> engine forecast -> horizontal inputs;
 * see proactive.h. */
#include "proactive.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

#define PROACTIVE_BIN_S 300.0    /* seasonal bins of 5 minutes: a burst keeps its height */
#define PROACTIVE_BAND_ALPHA 0.025
#define PROACTIVE_TRUST_S 600.0  /* errors seen before the forecast may allow scale-in */

struct rec_proactive {
  forecast_state *fc;
  forecast_band band;
  rec_forecast_settings fs; /* the settings it was made for */
  double interval_s, lead_s, horizon_s;
  size_t trust_n;
  double last_t;
  int observed;
};

void rec_forecast_settings_of(rec_forecast_settings *out, const ap_spec *ap) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!ap) return;
  out->on = ap->forecast_enabled && ap->forecast_method == AP_FORECAST_HOLT_WINTERS;
  out->horizon_ms = ap->forecast_horizon_ms;
  out->lead_ms = ap->forecast_lead_ms;
  out->season_ms = ap->forecast_season_ms;
  out->error_band = ap->forecast_error_band;
}

static int wants_forecast(const rec_forecast_settings *fs) { return fs && fs->on; }

mbcas_rc rec_proactive_new(rec_proactive **out, const rec_forecast_settings *fs,
                           double interval_s, mbcas_err *err) {
  if (!out) return mbcas_err_set(err, MBCAS_EINVAL, "", "NULL argument");
  *out = NULL;
  if (!wants_forecast(fs)) return MBCAS_OK;
  if (!(interval_s > 0) || !isfinite(interval_s))
    return mbcas_err_set(err, MBCAS_EINVAL, "spec.clearingInterval", "must be > 0");
  forecast_config fcfg;
  forecast_config_default(&fcfg);
  fcfg.method = FORECAST_HOLT_WINTERS;
  fcfg.season_s = (double)fs->season_ms / 1000.0;
  double bins = floor(fcfg.season_s / PROACTIVE_BIN_S);
  fcfg.bins = bins < 2 ? 2 : (bins > 2016 ? 2016 : (size_t)bins);
  rec_proactive *p = calloc(1, sizeof *p);
  if (!p) return mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
  mbcas_rc rc = forecast_new(&p->fc, &fcfg, err);
  if (rc != MBCAS_OK) {
    free(p);
    return rc;
  }
  p->fs = *fs;
  p->interval_s = interval_s;
  p->lead_s = (double)fs->lead_ms / 1000.0;
  p->horizon_s = (double)fs->horizon_ms / 1000.0;
  p->trust_n = (size_t)ceil(PROACTIVE_TRUST_S / interval_s);
  forecast_band_init(&p->band, p->lead_s, PROACTIVE_BAND_ALPHA);
  *out = p;
  return MBCAS_OK;
}

int rec_proactive_same(const rec_proactive *p, const rec_forecast_settings *fs, double interval_s) {
  if (!p) return !wants_forecast(fs);
  return wants_forecast(fs) && p->interval_s == interval_s && p->fs.horizon_ms == fs->horizon_ms &&
         p->fs.lead_ms == fs->lead_ms && p->fs.season_ms == fs->season_ms &&
         p->fs.error_band == fs->error_band;
}

void rec_proactive_observe(rec_proactive *p, double now, double demand_m) {
  if (!p || !isfinite(now) || !isfinite(demand_m) || demand_m < 0) return;
  if (p->observed && !(now > p->last_t)) return;
  forecast_observe(p->fc, now, demand_m);
  forecast_band_observe(&p->band, p->fc, now, demand_m);
  p->last_t = now;
  p->observed = 1;
}

void rec_proactive_outputs(const rec_proactive *p, double cap_total_m, double sized_at,
                           rec_forecast_out *out) {
  if (!out) return;
  *out = (rec_forecast_out){0, 0, 0, 0, 0};
  if (!p || !p->observed || !(cap_total_m > 0)) return;
  out->lead_m = forecast_upper(p->fc, &p->band, p->lead_s, p->interval_s, p->fs.error_band);
  out->horizon_m = forecast_upper(p->fc, &p->band, p->horizon_s, p->interval_s, p->fs.error_band);
  out->band_ready = forecast_band_ready(&p->band, p->trust_n);
  out->forecast_demand = out->lead_m / cap_total_m;
  /* until the band is trusted, the hold keeps every replica: ceil(n x sized_at / sized_at) */
  out->hold_demand = out->band_ready ? out->horizon_m / cap_total_m : (sized_at > 0 ? sized_at : 0);
}

void rec_proactive_free(rec_proactive *p) {
  if (!p) return;
  forecast_free(p->fc);
  free(p);
}
