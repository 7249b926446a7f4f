/* hpa.c - the Kubernetes HPA algorithm for one CPU utilization metric; see hpa.h. */
#include "hpa.h"

#include <math.h>
#include <string.h>

void hpa_config_default(hpa_config *c) {
  c->min_replicas = 1;
  c->max_replicas = 10;
  c->target_util = 0.7;
  c->tolerance = 0.1;
  c->sync_s = 15.0;
  c->up_window_s = 0.0;
  c->down_window_s = 300.0;
  c->up_pods = 4;
  c->up_percent = 100.0;
  c->up_period_s = 15.0;
  c->down_percent = 100.0;
  c->down_period_s = 15.0;
}

void hpa_state_init(hpa_state *s) { memset(s, 0, sizeof *s); }

int32_t hpa_recommend(const hpa_config *c, const hpa_metrics *m) {
  if (m->ready <= 0) return m->current; /* no metrics: the controller does nothing */
  double ratio = m->util_sum / c->target_util / (double)m->ready;
  if (m->unready == 0 && m->missing == 0) {
    if (fabs(ratio - 1.0) <= c->tolerance) return m->current;
    return (int32_t)ceil(ratio * (double)m->ready);
  }
  double sum = m->util_sum;
  int32_t n = m->ready;
  if (ratio > 1.0) { /* scale up: unready and missing pods count as 0 % */
    n += m->unready + m->missing;
  } else {           /* scale down: unready pods ignored, missing pods at 100 % of target */
    sum += (double)m->missing * c->target_util;
    n += m->missing;
  }
  double nr = sum / c->target_util / (double)n;
  if (fabs(nr - 1.0) <= c->tolerance || (ratio > 1.0 && nr < 1.0) || (ratio < 1.0 && nr > 1.0))
    return m->current;
  int32_t d = (int32_t)ceil(nr * (double)n);
  /* the real controller never proposes scaling the other way than the metric says */
  if ((ratio > 1.0 && d < m->current) || (ratio < 1.0 && d > m->current)) return m->current;
  return d;
}

static void push_rec(hpa_state *s, double now, int32_t v, double keep_s) {
  int j = 0;
  for (int i = 0; i < s->n_recs; i++)
    if (s->rec_t[i] > now - keep_s) {
      s->rec_t[j] = s->rec_t[i];
      s->rec_v[j] = s->rec_v[i];
      j++;
    }
  s->n_recs = j;
  if (s->n_recs == HPA_MAX_RECS) { /* drop the oldest */
    memmove(s->rec_t, s->rec_t + 1, (HPA_MAX_RECS - 1) * sizeof(double));
    memmove(s->rec_v, s->rec_v + 1, (HPA_MAX_RECS - 1) * sizeof(int32_t));
    s->n_recs--;
  }
  s->rec_t[s->n_recs] = now;
  s->rec_v[s->n_recs] = v;
  s->n_recs++;
}

static void push_event(hpa_state *s, double now, int32_t delta, double keep_s) {
  int j = 0;
  for (int i = 0; i < s->n_ev; i++)
    if (s->ev_t[i] > now - keep_s) {
      s->ev_t[j] = s->ev_t[i];
      s->ev_delta[j] = s->ev_delta[i];
      j++;
    }
  s->n_ev = j;
  if (s->n_ev == HPA_MAX_EVENTS) {
    memmove(s->ev_t, s->ev_t + 1, (HPA_MAX_EVENTS - 1) * sizeof(double));
    memmove(s->ev_delta, s->ev_delta + 1, (HPA_MAX_EVENTS - 1) * sizeof(int32_t));
    s->n_ev--;
  }
  s->ev_t[s->n_ev] = now;
  s->ev_delta[s->n_ev] = delta;
  s->n_ev++;
}

/* replicas added (sign > 0) or removed (sign < 0) in (now - period, now] */
static int32_t changed_in(const hpa_state *s, double now, double period, int sign) {
  int32_t n = 0;
  for (int i = 0; i < s->n_ev; i++)
    if (s->ev_t[i] > now - period) {
      if (sign > 0 && s->ev_delta[i] > 0) n += s->ev_delta[i];
      if (sign < 0 && s->ev_delta[i] < 0) n -= s->ev_delta[i];
    }
  return n;
}

int32_t hpa_decide(hpa_state *s, const hpa_config *c, const hpa_metrics *m, double now) {
  int32_t cur = m->current;
  int32_t rec = hpa_recommend(c, m);
  double keep = c->down_window_s > c->up_window_s ? c->down_window_s : c->up_window_s;
  push_rec(s, now, rec, keep > 0 ? keep : 1.0);
  /* stabilizeRecommendationWithBehaviors */
  int32_t up = rec, down = rec;
  for (int i = 0; i < s->n_recs; i++) {
    if (s->rec_t[i] > now - c->up_window_s && s->rec_v[i] < up) up = s->rec_v[i];
    if (s->rec_t[i] > now - c->down_window_s && s->rec_v[i] > down) down = s->rec_v[i];
  }
  int32_t d = cur;
  if (d < up) d = up;
  if (d > down) d = down;
  /* convertDesiredReplicasWithBehaviorRate */
  if (d > cur) {
    int32_t start = cur - changed_in(s, now, c->up_period_s, +1);
    int32_t by_pods = start + c->up_pods;
    int32_t by_pct = (int32_t)ceil((double)start * (1.0 + c->up_percent / 100.0));
    int32_t lim = by_pods > by_pct ? by_pods : by_pct;
    if (lim < cur) lim = cur;
    if (d > lim) d = lim;
    if (d > c->max_replicas) d = c->max_replicas;
  } else if (d < cur) {
    int32_t start = cur + changed_in(s, now, c->down_period_s, -1);
    int32_t lim = (int32_t)((double)start * (1.0 - c->down_percent / 100.0));
    if (lim > cur) lim = cur;
    if (d < lim) d = lim;
    if (d < c->min_replicas) d = c->min_replicas;
  }
  if (d < c->min_replicas) d = c->min_replicas;
  if (d > c->max_replicas) d = c->max_replicas;
  double pk = c->up_period_s > c->down_period_s ? c->up_period_s : c->down_period_s;
  if (d != cur) push_event(s, now, d - cur, pk > 0 ? pk : 1.0);
  return d;
}
