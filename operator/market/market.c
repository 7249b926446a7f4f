/* market.c - clear a whole market: bids, per-node clearing, guardrails, reasoning,
 * fairness and a decision id (see market.h).
 *
 * Participants are grouped by node with a stable counting sort (input order within a
 * node), so the result never depends on pointer values or hash order. Scratch memory is
 * one block sized for the largest node, reused node after node. */
#include "market.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKET_MAX_M (INT64_C(1) << 40)

uint64_t market_fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t market_key(const char *name) {
  return market_fnv1a(MARKET_FNV_OFFSET, name ? name : "", name ? strlen(name) : 0);
}

static uint64_t h_u64(uint64_t h, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
  return market_fnv1a(h, b, 8);
}

static uint64_t h_f64(uint64_t h, double v) {
  uint64_t u;
  if (v == 0) v = 0;                  /* -0 -> 0 */
  if (isnan(v)) u = 0x7ff8000000000000ull; /* one NaN */
  else memcpy(&u, &v, sizeof u);
  return h_u64(h, u);
}

uint64_t market_decision_id(const market_input *in) {
  uint64_t h = market_fnv1a(MARKET_FNV_OFFSET, "mbcas-market-v1", 15);
  if (!in) return h;
  h = h_u64(h, in->n_nodes);
  for (size_t i = 0; in->nodes && i < in->n_nodes; i++) {
    h = h_u64(h, (uint64_t)in->nodes[i].allocatable_m);
    h = h_u64(h, (uint64_t)in->nodes[i].reserve_m);
    h = h_u64(h, (uint64_t)in->nodes[i].non_participant_m);
  }
  h = h_u64(h, in->n_parts);
  for (size_t i = 0; in->parts && i < in->n_parts; i++) {
    const market_participant *p = &in->parts[i];
    h = h_u64(h, p->node);
    h = h_u64(h, p->key);
    h = h_f64(h, p->budget_share);
    h = h_f64(h, p->demand);
    h = h_u64(h, (uint64_t)p->floor_m);
    h = h_u64(h, (uint64_t)p->cap_m);
    h = h_u64(h, (uint64_t)p->current_m);
    h = h_u64(h, (uint64_t)p->usage_m);
    h = h_f64(h, p->last_change_at);
    if (p->need_m > 0) h = h_u64(h, (uint64_t)p->need_m); /* ids without need unchanged */
  }
  h = h_f64(h, in->bid.min_demand_factor);
  h = h_u64(h, in->guard != NULL);
  if (in->guard) {
    const guardrails_config *g = in->guard;
    h = h_u64(h, (uint64_t)g->max_step_m);
    h = h_f64(h, g->max_step_frac);
    h = h_u64(h, (uint64_t)g->min_step_m);
    h = h_f64(h, g->cooldown_s);
    h = h_u64(h, (uint64_t)g->dead_band_m);
    h = h_f64(h, g->dead_band_frac);
    h = h_f64(h, g->usage_headroom);
  }
  return h_f64(h, in->now);
}

char *market_id_hex(char buf[17], uint64_t id) {
  snprintf(buf, 17, "%016llx", (unsigned long long)id);
  return buf;
}

double market_jain(const int64_t *alloc_m, const double *budget, size_t n) {
  long double sa = 0, sb = 0;
  size_t k = 0;
  for (size_t i = 0; alloc_m && budget && i < n; i++)
    if (budget[i] > 0 && isfinite(budget[i])) {
      sa += alloc_m[i];
      sb += budget[i];
      k++;
    }
  if (k == 0 || sa <= 0) return 1;
  long double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; i++)
    if (budget[i] > 0 && isfinite(budget[i])) {
      long double x = ((long double)alloc_m[i] / sa) / ((long double)budget[i] / sb);
      s1 += x;
      s2 += x * x;
    }
  return s2 > 0 ? (double)(s1 * s1 / ((long double)k * s2)) : 1;
}

/* the cap a participant clears with: its need when given, within [floor, cap] */
static int64_t eff_cap(const market_participant *p) {
  if (p->need_m <= 0) return p->cap_m;
  int64_t c = p->need_m < p->cap_m ? p->need_m : p->cap_m;
  return c > p->floor_m ? c : p->floor_m;
}

int64_t market_need_m(int64_t current_m, int64_t usage_m, double demand, double target_util,
                      int64_t headroom_m) {
  if (current_m <= 0 || !(target_util > 0 && target_util <= 1) || isnan(demand)) return 0;
  double d = demand > 0 ? (demand < 1 ? demand : 1) : 0;
  double need = (double)current_m * d / target_util;
  if (usage_m > 0 && (double)usage_m / target_util > need) need = (double)usage_m / target_util;
  need = ceil(need - 1e-9);
  if (need > (double)MARKET_MAX_M) need = (double)MARKET_MAX_M;
  int64_t n = (int64_t)need + (headroom_m > 0 ? headroom_m : 0);
  return n > 0 ? n : 1; /* 0 would mean "no limit" */
}

int64_t market_need_hold(market_need_state *st, int64_t need_m, double now, double half_life_s) {
  if (!st) return need_m;
  if (need_m <= 0) {
    st->held_m = 0;
    st->at = now;
    return 0;
  }
  double v = (double)need_m;
  if (half_life_s > 0 && st->held_m > 0) {
    double dt = now - st->at;
    double decayed = dt > 0 ? st->held_m * exp2(-dt / half_life_s) : st->held_m;
    if (decayed > v) v = ceil(decayed - 1e-9);
  }
  st->held_m = v;
  st->at = now;
  return (int64_t)v;
}

int64_t market_need_burst(int64_t need_m, int64_t base_m) {
  if (need_m <= 0 || base_m <= 0) return need_m;
  return need_m > base_m ? need_m : base_m;
}

int64_t market_need_burst_step(int64_t current_m, double demand, double target_util,
                               int64_t base_m, double decay) {
  if (base_m <= 0 || !(target_util > 0 && target_util <= 1)) return 0;
  if (current_m <= 0) return base_m;
  int64_t need = market_need_m(current_m, -1, demand, target_util, 0);
  double d = decay > 0 ? (decay < 1 ? decay : 1) : 0; /* NaN -> 0 */
  double held = ceil((double)current_m * d - 1e-9);
  if (held > (double)need) need = (int64_t)held;
  return market_need_burst(need, base_m);
}

static mbcas_rc validate(const market_input *in, mbcas_err *err) {
  if (in->n_nodes > 0 && !in->nodes)
    return mbcas_err_set(err, MBCAS_EINVAL, "nodes", "NULL with n_nodes > 0");
  if (in->n_parts > 0 && !in->parts)
    return mbcas_err_set(err, MBCAS_EINVAL, "parts", "NULL with n_parts > 0");
  if (in->n_parts > ((size_t)1 << 22) || in->n_nodes > ((size_t)1 << 31))
    return mbcas_err_set(err, MBCAS_EINVAL, "parts", "too many participants or nodes");
  for (size_t i = 0; i < in->n_parts; i++) {
    const market_participant *p = &in->parts[i];
    const char *bad = NULL;
    if (p->node >= in->n_nodes) bad = "node";
    else if (!(p->budget_share >= 0) || !isfinite(p->budget_share)) bad = "budget_share";
    else if (!(p->demand >= 0) || !isfinite(p->demand)) bad = "demand";
    else if (p->floor_m < 0 || p->floor_m > MARKET_MAX_M) bad = "floor_m";
    else if (p->cap_m < p->floor_m || p->cap_m > MARKET_MAX_M) bad = "cap_m";
    else if (p->current_m < 0 || p->current_m > MARKET_MAX_M) bad = "current_m";
    if (bad) {
      char f[64];
      snprintf(f, sizeof f, "parts[%zu].%s", i, bad);
      return mbcas_err_set(err, MBCAS_EINVAL, f, "out of range");
    }
  }
  return MBCAS_OK;
}

mbcas_rc market_clear(market_output *out, const market_input *in, mbcas_err *err) {
  if (!out || !in) return mbcas_err_set(err, MBCAS_EINVAL, "", "NULL argument");
  if ((in->n_nodes > 0 && !out->nodes) || (in->n_parts > 0 && !out->allocs))
    return mbcas_err_set(err, MBCAS_EINVAL, "", "output arrays are required");
  mbcas_rc rc = validate(in, err);
  if (rc != MBCAS_OK) return rc;
  size_t nn = in->n_nodes, np = in->n_parts;
  /* stable grouping by node: start[k]..start[k+1] in order[] */
  size_t *start = calloc(nn + 1, sizeof *start);
  uint32_t *order = malloc((np ? np : 1) * sizeof *order);
  if (!start || !order) {
    free(start);
    free(order);
    return mbcas_err_set(err, MBCAS_ENOMEM, "", "market grouping");
  }
  for (size_t i = 0; i < np; i++) start[in->parts[i].node + 1]++;
  size_t maxg = 0;
  for (size_t k = 0; k < nn; k++) {
    if (start[k + 1] > maxg) maxg = start[k + 1];
    start[k + 1] += start[k];
  }
  {
    size_t *pos = malloc((nn ? nn : 1) * sizeof *pos);
    if (!pos) {
      free(start);
      free(order);
      return mbcas_err_set(err, MBCAS_ENOMEM, "", "market grouping");
    }
    memcpy(pos, start, nn * sizeof *pos);
    for (size_t i = 0; i < np; i++) order[pos[in->parts[i].node]++] = (uint32_t)i;
    free(pos);
  }
  size_t g1 = maxg ? maxg : 1;
  clearing_participant *cp = malloc(g1 * sizeof *cp);
  clearing_alloc *ca = malloc(g1 * sizeof *ca);
  guardrails_pod *gp = malloc(g1 * sizeof *gp);
  guardrails_decision *gd = malloc(g1 * sizeof *gd);
  int64_t *alloc = malloc((np ? np : 1) * sizeof *alloc);
  double *budget = malloc((np ? np : 1) * sizeof *budget);
  if (!cp || !ca || !gp || !gd || !alloc || !budget) {
    rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "market scratch");
    goto done;
  }
  out->capacity_m = out->cleared_m = out->desired_m = 0;
  for (size_t k = 0; k < nn; k++) {
    const market_node *nd = &in->nodes[k];
    size_t s = start[k], m = start[k + 1] - s;
    int64_t cap = clearing_capacity(nd->allocatable_m, nd->reserve_m, nd->non_participant_m);
    for (size_t j = 0; j < m; j++) {
      const market_participant *p = &in->parts[order[s + j]];
      double b = bid_effective(&in->bid, p->budget_share, p->demand);
      out->allocs[order[s + j]].bid = b;
      cp[j] = (clearing_participant){p->key, b, p->floor_m, eff_cap(p)};
    }
    clearing_result cr;
    rc = clearing_solve(ca, &cr, cp, m, cap, err);
    if (rc != MBCAS_OK) goto done;
    for (size_t j = 0; j < m; j++) {
      const market_participant *p = &in->parts[order[s + j]];
      gp[j] = (guardrails_pod){p->key, p->current_m, ca[j].alloc_m, p->floor_m, p->cap_m,
                               p->usage_m, p->last_change_at};
    }
    if (in->guard) {
      rc = guardrails_apply_node(gd, in->guard, gp, m, cap, in->now, err);
      if (rc != MBCAS_OK) goto done;
    } else {
      memset(gd, 0, m * sizeof *gd);
      for (size_t j = 0; j < m; j++) {
        gd[j].desired_m = ca[j].alloc_m;
        if (ca[j].alloc_m != gp[j].current_m) gd[j].flags = GUARDRAILS_CHANGED;
      }
    }
    market_node_summary *ns = &out->nodes[k];
    memset(ns, 0, sizeof *ns);
    ns->capacity_m = cap;
    ns->price = cr.price;
    ns->floor_scale = cr.floor_scale;
    ns->flags = cr.flags;
    ns->participants = (uint32_t)m;
    for (size_t j = 0; j < m; j++) {
      size_t i = order[s + j];
      const market_participant *p = &in->parts[i];
      market_alloc *a = &out->allocs[i];
      double bid = a->bid;
      memset(a, 0, sizeof *a); /* padding too: byte-identical output */
      a->bid = bid;
      a->cleared = ca[j];
      a->guarded = gd[j];
      reasoning_record *w = &a->why;
      memset(w, 0, sizeof *w);
      w->budget_share = p->budget_share;
      w->demand = p->demand;
      w->bid = a->bid;
      w->price = cr.price;
      w->exact_m = ca[j].exact_m;
      w->cleared_m = ca[j].alloc_m;
      w->floor_m = p->floor_m;
      w->cap_m = p->cap_m;
      w->need_cap_m = eff_cap(p) < p->cap_m ? eff_cap(p) : 0;
      w->clearing_flags = ca[j].flags;
      w->node_flags = cr.flags;
      w->floor_scale = cr.floor_scale;
      w->current_m = p->current_m;
      w->desired_m = gd[j].desired_m;
      w->step_limit_m = gd[j].step_limit_m;
      w->guard_flags = gd[j].flags;
      ns->cleared_m += ca[j].alloc_m;
      ns->desired_m += gd[j].desired_m;
    }
    out->capacity_m += cap;
    out->cleared_m += ns->cleared_m;
    out->desired_m += ns->desired_m;
  }
  for (size_t i = 0; i < np; i++) {
    alloc[i] = out->allocs[i].cleared.alloc_m;
    budget[i] = in->parts[i].budget_share;
  }
  out->jain = market_jain(alloc, budget, np);
  out->decision_id = market_decision_id(in);
  rc = MBCAS_OK;
done:
  free(cp);
  free(ca);
  free(gp);
  free(gd);
  free(alloc);
  free(budget);
  free(start);
  free(order);
  return rc;
}
