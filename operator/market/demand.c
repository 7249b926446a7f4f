/* demand.c - signals to a smoothed, honesty-limited demand in [0,1] (see demand.h).
 *
 * The EWMA weight for an interval dt is alpha = 1 - 2^(-dt/h), so two steps of dt/2 give
 * the same result as one step of dt with a constant sample: irregular scrape intervals
 * do not change the effective smoothing. */
#include "demand.h"

#include <math.h>

static double clamp01(double v) {
  if (!(v > 0)) return 0;
  return v > 1 ? 1 : v;
}

void demand_config_default(demand_config *cfg) {
  if (!cfg) return;
  cfg->combine = DEMAND_COMBINE_MAX;
  cfg->half_life_s = 60;
  cfg->stale_after_s = 120;
  cfg->fallback = 0.5;
  cfg->honesty_headroom = 0.25;
  cfg->honesty_half_life_s = 60;
}

double demand_pressure(double value, double target) {
  if (!(target > 0) || !(value > 0)) return 0;
  return clamp01(value / target);
}

int demand_combine(double *out, const demand_signal *sig, size_t n, demand_combine_mode mode,
                   double now, double stale_after_s) {
  int used = 0;
  double best = 0, wsum = 0, wp = 0, psum = 0;
  for (size_t i = 0; sig && i < n; i++) {
    if (!sig[i].valid) continue;
    if (stale_after_s > 0 && now - sig[i].observed_at > stale_after_s) continue;
    double pr = demand_pressure(sig[i].value, sig[i].target);
    double w = sig[i].weight > 0 && isfinite(sig[i].weight) ? sig[i].weight : 0;
    if (pr > best) best = pr;
    wsum += w;
    wp += w * pr;
    psum += pr;
    used++;
  }
  if (used == 0 || !out) return used;
  if (mode == DEMAND_COMBINE_WEIGHTED_SUM)
    *out = clamp01(wsum > 0 ? wp / wsum : psum / used);
  else
    *out = best;
  return used;
}

double demand_ewma(double prev, double sample, double dt_s, double half_life_s) {
  if (half_life_s <= 0 || !isfinite(half_life_s)) return clamp01(sample);
  if (!(dt_s > 0)) return clamp01(prev);
  double alpha = 1 - exp2(-dt_s / half_life_s);
  return clamp01(prev + alpha * (sample - prev));
}

double demand_supported(const demand_usage *usage, double headroom) {
  if (!usage || !usage->valid || usage->alloc_m <= 0 || !(headroom >= 0)) return 1;
  if (usage->usage_m <= 0) return 0;
  double s = (double)usage->usage_m / (double)usage->alloc_m * (1 + headroom);
  return s > 1 ? 1 : s;
}

mbcas_rc demand_update(demand_result *out, demand_state *st, const demand_config *cfg,
                       const demand_signal *sig, size_t n, const demand_usage *usage,
                       double now) {
  if (!st || !cfg || (n > 0 && !sig))
    return MBCAS_EINVAL;
  demand_result r = {0};
  double raw = clamp01(cfg->fallback);
  r.n_fresh = demand_combine(&raw, sig, n, cfg->combine, now, cfg->stale_after_s);
  r.used_fallback = r.n_fresh == 0;
  r.raw = raw;
  r.supported = demand_supported(usage, cfg->honesty_headroom);
  r.honest = raw;
  if (raw > r.supported) {
    if (!st->excess_active) {
      st->excess_active = 1;
      st->excess_since = now;
    }
    double age = now - st->excess_since;
    if (age < 0) age = 0;
    double keep = cfg->honesty_half_life_s > 0 ? exp2(-age / cfg->honesty_half_life_s) : 0;
    r.honest = r.supported + (raw - r.supported) * keep;
    r.limited = r.honest < raw;
  } else {
    st->excess_active = 0;
    st->excess_since = 0;
  }
  if (!st->initialized) {
    st->smoothed = clamp01(r.honest);
    st->initialized = 1;
  } else {
    st->smoothed = demand_ewma(st->smoothed, r.honest, now - st->last_at, cfg->half_life_s);
  }
  st->last_at = now;
  r.smoothed = st->smoothed;
  if (out) *out = r;
  return MBCAS_OK;
}
