/* reasoning.c - one human line per decision (see reasoning.h).
 *
 * The line is built from fixed clauses joined by "; ": bid, node, clearing outcome,
 * guardrails outcome. Each clause is chosen by flags only, so the text is a pure
 * function of the record. A small append helper keeps snprintf's length contract. */
#include "reasoning.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "clearing.h"
#include "guardrails.h"

typedef struct sbuf {
  char *buf;
  size_t len;
  size_t need; /* bytes the full text needs (without NUL) */
} sbuf;

static void add(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(sbuf *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = s->need < s->len ? s->len - s->need : 0;
  int k = vsnprintf(room ? s->buf + s->need : NULL, room, fmt, ap);
  va_end(ap);
  if (k > 0) s->need += (size_t)k;
}

static void fmt_m(char *b, size_t n, double m) { /* millicores, short */
  if (!isfinite(m)) snprintf(b, n, "inf");
  else if (fabs(m) >= 10) snprintf(b, n, "%.0fm", m);
  else snprintf(b, n, "%.3gm", m);
}

size_t reasoning_format(char *buf, size_t len, const reasoning_record *r, const char *node) {
  sbuf s = {buf, len, 0};
  if (buf && len) buf[0] = 0;
  if (!r) return 0;
  const char *nd = node ? node : "node";
  char a[32], b[32];
  /* bid */
  double f = r->budget_share > 0 ? r->bid / r->budget_share : 0;
  if (fabs(f - r->demand) < 5e-3)
    add(&s, "bid %.3g = budget share %.3g x demand %.2f", r->bid, r->budget_share, r->demand);
  else
    add(&s, "bid %.3g = budget share %.3g x f(demand %.2f) %.2f", r->bid, r->budget_share,
        r->demand, f);
  /* node */
  if (r->node_flags & CLEARING_FLOORS_EXCEED)
    add(&s, "; node %s floors exceed capacity, scaled x%.3f", nd, r->floor_scale);
  else if (r->node_flags & CLEARING_UNCONTENDED)
    add(&s, "; node %s uncontended (all caps fit)", nd);
  else if (r->node_flags & CLEARING_ZERO_BID_PHASE)
    add(&s, "; node %s has spare capacity after every bid is capped", nd);
  else {
    fmt_m(a, sizeof a, r->price);
    add(&s, "; node %s price %s per bid unit", nd, a);
  }
  /* clearing outcome */
  double want = r->price * r->bid;
  uint32_t cf = r->clearing_flags;
  if (cf & CLEARING_FLOOR_SCALED) {
    add(&s, "; floor %lldm scaled to %lldm", (long long)r->floor_m, (long long)r->cleared_m);
  } else if ((r->node_flags & CLEARING_UNCONTENDED) && r->need_cap_m > 0) {
    add(&s, "; %lldm at its need (max %lldm)", (long long)r->cleared_m, (long long)r->cap_m);
  } else if (r->node_flags & CLEARING_UNCONTENDED) {
    add(&s, "; %lldm at cap", (long long)r->cleared_m);
  } else if ((cf & CLEARING_ZERO_BID) && (r->node_flags & CLEARING_ZERO_BID_PHASE)) {
    add(&s, "; zero bid shares the spare capacity: %lldm", (long long)r->cleared_m);
  } else if (cf & CLEARING_ZERO_BID) {
    add(&s, "; zero bid gets its floor %lldm", (long long)r->cleared_m);
  } else if ((cf & CLEARING_AT_CAP) && r->need_cap_m > 0) {
    fmt_m(a, sizeof a, want);
    add(&s, "; %s capped at its need %lldm (max %lldm)", a, (long long)r->need_cap_m,
        (long long)r->cap_m);
  } else if ((cf & CLEARING_AT_CAP) && r->cap_m != r->floor_m) {
    fmt_m(a, sizeof a, want);
    add(&s, "; %s capped at max %lldm", a, (long long)r->cap_m);
  } else if (cf & CLEARING_AT_FLOOR) {
    fmt_m(a, sizeof a, want);
    add(&s, "; %s raised to floor %lldm", a, (long long)r->floor_m);
  } else {
    add(&s, "; gets %lldm within [%lldm, %lldm]", (long long)r->cleared_m, (long long)r->floor_m,
        (long long)r->cap_m);
  }
  /* guardrails outcome */
  uint32_t gf = r->guard_flags;
  long long cur = r->current_m, des = r->desired_m;
  if (gf & GUARDRAILS_COOLDOWN)
    add(&s, "; held at %lldm (cooldown)", cur);
  else if (gf & GUARDRAILS_DEAD_BAND)
    add(&s, "; held at %lldm (inside dead band)", cur);
  else if (gf & GUARDRAILS_STEP_LIMITED) {
    snprintf(b, sizeof b, "%+lldm", des - cur);
    add(&s, "; step limited to %s from %lldm", b, cur);
  }
  if (gf & GUARDRAILS_USAGE_PROTECTED)
    add(&s, "; cut stopped at %lldm to protect usage", des);
  if (gf & GUARDRAILS_USAGE_RELAXED)
    add(&s, "; usage protection relaxed to fit the node");
  if (gf & GUARDRAILS_TRIMMED)
    add(&s, "; increase trimmed to %lldm to fit the node", des);
  if (gf & GUARDRAILS_FORCED)
    add(&s, "; decrease forced to %lldm to fit the node", des);
  if (gf & GUARDRAILS_BOUNDS)
    add(&s, "; moved into bounds [%lldm, %lldm]", (long long)r->floor_m, (long long)r->cap_m);
  if (!(gf & (GUARDRAILS_COOLDOWN | GUARDRAILS_DEAD_BAND)) && des != (long long)r->cleared_m &&
      !(gf & (GUARDRAILS_STEP_LIMITED | GUARDRAILS_USAGE_PROTECTED | GUARDRAILS_TRIMMED |
              GUARDRAILS_FORCED)))
    add(&s, "; set %lldm", des);
  return s.need;
}

size_t reasoning_format_horizontal(char *buf, size_t len, const horizontal_decision *d,
                                   const horizontal_observation *obs,
                                   const horizontal_config *cfg) {
  sbuf s = {buf, len, 0};
  if (buf && len) buf[0] = 0;
  if (!d || !obs || !cfg) return 0;
  add(&s, "%s %d -> %d: %d/%d pods at cap, demand %.2f", horizontal_reason_str(d->reason),
      obs->replicas, d->desired, obs->pods_at_cap, obs->pods, obs->demand);
  switch (d->reason) {
  case HORIZONTAL_SCALE_OUT: {
    int reactive = obs->demand >= cfg->scale_out_demand &&
                   (double)obs->pods_at_cap >= cfg->at_cap_frac * (double)obs->pods;
    if (reactive || !(obs->forecast_demand > 0)) {
      add(&s, " >= %.2f for %.0fs; proportional %d", cfg->scale_out_demand,
          cfg->scale_out_window_s, d->recommendation);
      if (obs->forecast_demand > 0) add(&s, "; forecast demand %.2f", obs->forecast_demand);
    } else { /* the forecast asked for it */
      double ftd = cfg->forecast_target_demand > 0 ? cfg->forecast_target_demand : cfg->target_demand;
      add(&s, "; forecast demand %.2f of the caps, sized at %.2f: proportional %d",
          obs->forecast_demand, ftd, d->recommendation);
    }
    break;
  }
  case HORIZONTAL_SCALE_IN:
    add(&s, " <= %.2f for %.0fs; proportional %d", cfg->scale_in_demand,
        cfg->scale_in_window_s, d->recommendation);
    if (obs->forecast_hold_demand > 0)
      add(&s, " (the forecast holds %.2f of the caps)", obs->forecast_hold_demand);
    break;
  case HORIZONTAL_BELOW_MIN:
    add(&s, "; replica floor %d", cfg->min_replicas);
    break;
  case HORIZONTAL_ABOVE_MAX:
    add(&s, "; replica cap %d", cfg->max_replicas);
    break;
  case HORIZONTAL_WAIT_WINDOW:
    add(&s, "; condition must hold %.0fs more", d->window_left_s);
    break;
  case HORIZONTAL_COOLDOWN:
    add(&s, "; cooldown %.0fs since last change", cfg->cooldown_s);
    break;
  case HORIZONTAL_AT_MAX:
    add(&s, "; already at replica cap %d", cfg->max_replicas);
    break;
  case HORIZONTAL_AT_MIN:
    add(&s, "; already at replica floor %d", cfg->min_replicas);
    break;
  case HORIZONTAL_MARKET_CEILING:
    add(&s, "; market replica ceiling %d reached (%d)", obs->market_ceiling,
        obs->market_replicas);
    break;
  case HORIZONTAL_HOLD:
    add(&s, "; within thresholds (out >= %.2f at cap, in <= %.2f)", cfg->scale_out_demand,
        cfg->scale_in_demand);
    break;
  }
  return s.need;
}
