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
}

void horizontal_state_init(horizontal_state *st) {
  if (!st) return;
  st->out_since = -1;
  st->in_since = -1;
  st->last_scale_at = -1;
  st->in_max_rec = 0;
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
  /* proportional recommendation, HPA style (tiny epsilon against 0.6*10/0.6 = 10.0000001) */
  double prop = ceil((double)cur * dem / cfg->target_demand - 1e-9);
  int32_t rec = prop > (double)cfg->max_replicas ? cfg->max_replicas : (int32_t)prop;
  d.recommendation = rec;

  int out_cond = obs->pods > 0 && dem >= cfg->scale_out_demand &&
                 (double)obs->pods_at_cap >= cfg->at_cap_frac * (double)obs->pods;
  int in_cond = !out_cond && dem <= cfg->scale_in_demand;
  int32_t rec_in = rec < cfg->min_replicas ? cfg->min_replicas : rec;
  if (out_cond) {
    if (st->out_since < 0) st->out_since = now;
  } else {
    st->out_since = -1;
  }
  if (in_cond) {
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
    int64_t want = rec > cur + 1 ? rec : cur + 1;
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
  } else if (in_cond) {
    int64_t want = st->in_max_rec < cur - 1 ? st->in_max_rec : cur - 1;
    if (cfg->max_step_in > 0 && want < (int64_t)cur - cfg->max_step_in)
      want = (int64_t)cur - cfg->max_step_in;
    if (want < cfg->min_replicas) want = cfg->min_replicas;
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
  if (d.desired != cur) {
    st->last_scale_at = now;
    st->out_since = st->in_since = -1;
    st->in_max_rec = 0;
  }
  *out = d;
  return MBCAS_OK;
}
