/* horizontal.c - replica decisions (see horizontal.h).
 *
 * One function, one pass: fix bounds; update the two condition windows; then either the
 * scale-out or the scale-in branch runs its gates in a fixed order (already at the
 * limit, window, market ceiling, cooldown) and the first gate that stops it names the
 * reason. Windows restart after every change so each step needs fresh evidence. */
#include "horizontal.h"

#include <math.h>

void horizontal_config_default(horizontal_config *cfg) {
  if (!cfg) return;
  cfg->min_replicas = 1;
  cfg->max_replicas = 10;
  cfg->scale_out_demand = 0.8;
  cfg->scale_in_demand = 0.3;
  cfg->target_demand = 0.6;
  cfg->at_cap_frac = 0.5;
  cfg->cap_tolerance = 0.95;
  cfg->scale_out_window_s = 60;
  cfg->scale_in_window_s = 300;
  cfg->cooldown_s = 60;
  cfg->max_step_out = 4;
  cfg->max_step_out_frac = 1.0;
  cfg->max_step_in = 1;
  cfg->in_sliding = 0;
  cfg->forecast_target_demand = 0;
}

void horizontal_state_init(horizontal_state *st) {
  if (!st) return;
  st->out_since = -1;
  st->in_since = -1;
  st->last_scale_at = -1;
  st->in_max_rec = 0;
  st->in_bucket_at = -1;
  st->in_prev1 = st->in_prev2 = 0;
}

const char *horizontal_reason_str(horizontal_reason r) {
  switch (r) {
  case HORIZONTAL_HOLD: return "hold";
  case HORIZONTAL_SCALE_OUT: return "scale-out";
  case HORIZONTAL_SCALE_IN: return "scale-in";
  case HORIZONTAL_BELOW_MIN: return "below-min";
  case HORIZONTAL_ABOVE_MAX: return "above-max";
  case HORIZONTAL_WAIT_WINDOW: return "wait-window";
  case HORIZONTAL_COOLDOWN: return "cooldown";
  case HORIZONTAL_AT_MAX: return "at-max";
  case HORIZONTAL_AT_MIN: return "at-min";
  case HORIZONTAL_MARKET_CEILING: return "market-ceiling";
  }
  return "unknown";
}

int horizontal_pod_at_cap(const horizontal_config *cfg, int64_t alloc_m, int64_t cap_m) {
  double tol = cfg && cfg->cap_tolerance > 0 ? cfg->cap_tolerance : 1.0;
  return cap_m > 0 && (double)alloc_m >= tol * (double)cap_m;
}

double horizontal_service_demand(const int64_t *alloc_m, const double *demand,
                                 const int64_t *cap_m, size_t n) {
  if (!alloc_m || !demand || !cap_m) return 0;
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double a = alloc_m[i] > 0 ? (double)alloc_m[i] : 0;
    double d = demand[i] > 0 ? (demand[i] < 1 ? demand[i] : 1) : 0; /* NaN -> 0 */
    num += a * d;
    den += cap_m[i] > 0 ? (double)cap_m[i] : 0;
  }
  if (!(den > 0)) return 0;
  double r = num / den;
  return r < 1 ? r : 1;
}

/* ceil(n x demand / target), at most max_replicas: the HPA's proportional rule (the tiny
 * epsilon keeps 0.6 x 10 / 0.6 = 10.0000001 at 10). */
static int32_t proportional(const horizontal_config *cfg, int32_t n, double demand, double target) {
  double p = ceil((double)n * demand / target - 1e-9);
  return p > (double)cfg->max_replicas ? cfg->max_replicas : (int32_t)p;
}

static mbcas_rc check(const horizontal_config *c, const horizontal_observation *o,
                      mbcas_err *err) {
  if (c->min_replicas < 0)
    return mbcas_err_set(err, MBCAS_EINVAL, "minReplicas", "must be >= 0");
  if (c->max_replicas < c->min_replicas)
    return mbcas_err_set(err, MBCAS_EINVAL, "maxReplicas", "must be >= minReplicas");
  if (!(c->scale_in_demand < c->scale_out_demand))
    return mbcas_err_set(err, MBCAS_EINVAL, "scaleInDemand", "must be < scaleOutDemand");
  if (!(c->target_demand > 0 && c->target_demand <= 1))
    return mbcas_err_set(err, MBCAS_EINVAL, "targetDemand", "must be in (0, 1]");
  if (c->forecast_target_demand > 1 || isnan(c->forecast_target_demand))
    return mbcas_err_set(err, MBCAS_EINVAL, "forecastTargetDemand", "must be <= 1 (<= 0: unused)");
  if (!(c->at_cap_frac >= 0 && c->at_cap_frac <= 1))
    return mbcas_err_set(err, MBCAS_EINVAL, "atCapFraction", "must be in [0, 1]");
  if (o->replicas < 0 || o->pods < 0 || o->pods_at_cap < 0 || o->pods_at_cap > o->pods)
    return mbcas_err_set(err, MBCAS_EINVAL, "observation",
                         "counts must be >= 0 and pods_at_cap <= pods");
  return MBCAS_OK;
}

mbcas_rc horizontal_decide(horizontal_decision *out, horizontal_state *st,
                           const horizontal_config *cfg, const horizontal_observation *obs,
                           double now, mbcas_err *err) {
  if (!out || !st || !cfg || !obs)
    return mbcas_err_set(err, MBCAS_EINVAL, "", "NULL argument");
  mbcas_rc rc = check(cfg, obs, err);
  if (rc != MBCAS_OK) return rc;
  int32_t cur = obs->replicas;
  double dem = obs->demand > 0 ? (obs->demand < 1 ? obs->demand : 1) : 0;
  horizontal_decision d = {cur, HORIZONTAL_HOLD, cur, 0};

  if (cur < cfg->min_replicas || cur > cfg->max_replicas) {
    d.desired = cur < cfg->min_replicas ? cfg->min_replicas : cfg->max_replicas;
    d.reason = cur < cfg->min_replicas ? HORIZONTAL_BELOW_MIN : HORIZONTAL_ABOVE_MAX;
    d.recommendation = d.desired;
    st->out_since = st->in_since = -1;
    st->in_max_rec = 0;
    st->last_scale_at = now;
    *out = d;
    return MBCAS_OK;
  }
  /* proportional recommendations, HPA style (proportional()) */
  int32_t rec = proportional(cfg, cur, dem, cfg->target_demand);
  /* the forecast's own recommendation: never fewer replicas than the forecast needs */
  double fd = obs->forecast_demand > 0 && isfinite(obs->forecast_demand) ? obs->forecast_demand : 0;
  /* scale-out counts only the pods observed (the HPA counts pods not yet ready as 0 %
   * on scale-up): while new pods start, the demand of the running ones is multiplied by
   * their number, not by the replica count that already includes the new pods */
  int starting = obs->pods > 0 && obs->pods < cur;
  int32_t rec_out = starting ? proportional(cfg, obs->pods, dem, cfg->target_demand) : rec;
  int sized = cfg->forecast_target_demand > 0 && cfg->forecast_target_demand <= 1;
  double ftd = sized ? cfg->forecast_target_demand : cfg->target_demand;
  int fc_out = 0;
  if (fd > 0) {
    int32_t rf = proportional(cfg, cur, fd, ftd);
    if (rf > rec) rec = rf;
    if (rf > rec_out) rec_out = rf;
    fc_out = sized ? rf > cur : fd >= cfg->scale_out_demand;
  }
  double fh = obs->forecast_hold_demand > 0 && isfinite(obs->forecast_hold_demand)
                  ? obs->forecast_hold_demand : 0;
  if (fh > 0) { /* a floor for scale-in only */
    int32_t rh = proportional(cfg, cur, fh, ftd);
    if (rh > rec) rec = rh;
  }
  d.recommendation = rec;

  int out_cond = obs->pods > 0 &&
                 ((dem >= cfg->scale_out_demand &&
                   (double)obs->pods_at_cap >= cfg->at_cap_frac * (double)obs->pods) ||
                  fc_out);
  int in_cond = !out_cond && dem <= cfg->scale_in_demand;
  int32_t rec_in = rec < cfg->min_replicas ? cfg->min_replicas : rec;
  if (out_cond) {
    if (st->out_since < 0) st->out_since = now;
  } else {
    st->out_since = -1;
  }
  if (cfg->in_sliding) {
    /* HPA-style stabilization: this cycle's scale-in recommendation, kept in buckets */
    int32_t r = in_cond ? rec_in : (rec_in > cur ? rec_in : cur);
    double half = cfg->scale_in_window_s > 0 ? cfg->scale_in_window_s / 2 : 0;
    if (st->in_since < 0 || st->in_bucket_at < 0 || half <= 0 ||
        now - st->in_bucket_at >= 3 * half || now < st->in_bucket_at) {
      if (st->in_since < 0 || st->in_bucket_at < 0 || now < st->in_bucket_at) st->in_since = now;
      st->in_bucket_at = now;
      st->in_max_rec = r;
      st->in_prev1 = st->in_prev2 = 0;
    } else {
      while (now - st->in_bucket_at >= half) {
        st->in_prev2 = st->in_prev1;
        st->in_prev1 = st->in_max_rec;
        st->in_max_rec = 0;
        st->in_bucket_at += half;
      }
      if (r > st->in_max_rec) st->in_max_rec = r;
    }
  } else if (in_cond) {
    if (st->in_since < 0) {
      st->in_since = now;
      st->in_max_rec = rec_in;
    } else if (rec_in > st->in_max_rec) {
      st->in_max_rec = rec_in;
    }
  } else {
    st->in_since = -1;
    st->in_max_rec = 0;
  }
  int cooling = cfg->cooldown_s > 0 && st->last_scale_at >= 0 &&
                now - st->last_scale_at < cfg->cooldown_s;

  if (out_cond) {
    d.recommendation = rec_out;
    int64_t want = rec_out > cur + 1 ? rec_out : cur + 1;
    int64_t lim = 0;
    if (cfg->max_step_out > 0) lim = cfg->max_step_out;
    if (cfg->max_step_out_frac > 0) {
      int64_t f = (int64_t)ceil(cfg->max_step_out_frac * cur);
      if (f > lim) lim = f;
    }
    if (lim > 0 && want > cur + lim) want = cur + lim;
    if (want > cfg->max_replicas) want = cfg->max_replicas;
    if (cur >= cfg->max_replicas) {
      d.reason = HORIZONTAL_AT_MAX;
    } else if (now - st->out_since < cfg->scale_out_window_s) {
      d.reason = HORIZONTAL_WAIT_WINDOW;
      d.window_left_s = cfg->scale_out_window_s - (now - st->out_since);
    } else if (starting && rec_out <= cur) {
      d.reason = HORIZONTAL_HOLD; /* the pods still starting cover the demand */
    } else if (obs->market_ceiling > 0 && obs->market_replicas >= obs->market_ceiling) {
      d.reason = HORIZONTAL_MARKET_CEILING;
    } else if (cooling) {
      d.reason = HORIZONTAL_COOLDOWN;
    } else {
      if (obs->market_ceiling > 0) {
        int64_t room = (int64_t)obs->market_ceiling - obs->market_replicas;
        if (want > cur + room) want = cur + room;
      }
      d.desired = (int32_t)want;
      d.reason = HORIZONTAL_SCALE_OUT;
    }
  } else if (cfg->in_sliding) {
    int32_t stab = st->in_max_rec;
    if (st->in_prev1 > stab) stab = st->in_prev1;
    if (st->in_prev2 > stab) stab = st->in_prev2;
    if (stab < cfg->min_replicas) stab = cfg->min_replicas;
    if (stab < cur) {
      int64_t want = stab;
      if (cfg->max_step_in > 0 && want < (int64_t)cur - cfg->max_step_in)
        want = (int64_t)cur - cfg->max_step_in;
      if (cur <= cfg->min_replicas) {
        d.reason = HORIZONTAL_AT_MIN;
      } else if (now - st->in_since < cfg->scale_in_window_s) {
        d.reason = HORIZONTAL_WAIT_WINDOW;
        d.window_left_s = cfg->scale_in_window_s - (now - st->in_since);
      } else if (cooling) {
        d.reason = HORIZONTAL_COOLDOWN;
      } else {
        d.desired = (int32_t)want;
        d.reason = HORIZONTAL_SCALE_IN;
      }
    }
  } else if (in_cond) {
    /* like the HPA: never below the (stabilized) recommendation; nothing is removed
     * when it says to keep the current count */
    int64_t want = st->in_max_rec;
    if (cfg->max_step_in > 0 && want < (int64_t)cur - cfg->max_step_in)
      want = (int64_t)cur - cfg->max_step_in;
    if (want < cfg->min_replicas) want = cfg->min_replicas;
    if (cur <= cfg->min_replicas) {
      d.reason = HORIZONTAL_AT_MIN;
    } else if (now - st->in_since < cfg->scale_in_window_s) {
      d.reason = HORIZONTAL_WAIT_WINDOW;
      d.window_left_s = cfg->scale_in_window_s - (now - st->in_since);
    } else if (want >= cur) {
      /* the window's highest recommendation keeps every replica: start a new window
       * from this cycle's recommendation (a tumbling stabilization window) */
      d.reason = HORIZONTAL_HOLD;
      st->in_since = now;
      st->in_max_rec = rec_in;
    } else if (cooling) {
      d.reason = HORIZONTAL_COOLDOWN;
    } else {
      d.desired = (int32_t)want;
      d.reason = HORIZONTAL_SCALE_IN;
    }
  }
  if (d.desired != cur) {
    st->last_scale_at = now;
    st->out_since = st->in_since = -1;
    st->in_max_rec = 0;
    if (cfg->in_sliding) { /* the new count is the window's first recommendation */
      st->in_since = st->in_bucket_at = now;
      st->in_max_rec = d.desired;
      st->in_prev1 = st->in_prev2 = 0;
    }
  }
  *out = d;
  return MBCAS_OK;
}
