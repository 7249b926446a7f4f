/* sim.c - the simulation loop, the policies and the scores; see sim.h. */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market.h"
#include "queue.h"
#include "vpa.h"

#define RING 64

static const char *const policy_names[SIM_NPOLICIES] = {"static", "hpa", "vpa", "mbcas",
                                                        "mbcas-proactive", "oracle"};

const char *sim_policy_name(sim_policy p) {
  return (p >= 0 && p < SIM_NPOLICIES) ? policy_names[p] : "unknown";
}

int sim_policy_parse(const char *s) {
  if (!s) return -1;
  for (int i = 0; i < SIM_NPOLICIES; i++)
    if (strcmp(s, policy_names[i]) == 0) return i;
  return -1;
}

void sim_config_default(sim_config *c) {
  memset(c, 0, sizeof *c);
  c->step_s = 15.0;
  c->startup_s = 45.0;
  c->scrape_lag_s = 30.0;
  c->resize_delay_s = 5.0;
  c->slo_s = 0.2;
  c->n_nodes = 5;
  c->node_cpu_m = 8000;
  const sim_tier tiers[SIM_TIERS] = {{"frontend", 0.004, 1.0, 0.002, 1.0},
                                     {"backend", 0.006, 2.0, 0.002, 3.0},
                                     {"database", 0.003, 2.0, 0.002, 3.0}};
  memcpy(c->tier, tiers, sizeof tiers);
  c->pod_cpu_m = 1000;
  c->floor_m = 100;
  c->min_replicas = 1;
  c->max_replicas = 30;
  c->target_util = 0.7;
  c->static_quantile = 0.95;
  hpa_config_default(&c->hpa);
  c->vpa_half_life_s = 86400.0;
  c->vpa_interval_s = 60.0;
  c->vpa_margin = 0.15;
  demand_config_default(&c->demand);
  c->demand.half_life_s = 0.0; /* the burst path reacts within one cycle */
  guardrails_config_default(&c->guard);
  c->guard.cooldown_s = 0.0; /* the resize delay already spaces changes */
  horizontal_config_default(&c->horiz);
  /* Replicas are planned at 80 % of the 1-CPU base size; noise above that is absorbed in
   * place (burst_cap_m) and the forecast band, not by a lower target. */
  c->horiz.target_demand = 0.8;
  c->horiz.scale_out_demand = 0.95;
  c->horiz.scale_in_demand = 0.6; /* scale-in never goes below the proportional
                                     recommendation, so this can sit near the target */
  c->horiz.scale_out_window_s = 15.0;
  c->horiz.scale_in_window_s = 180.0;
  c->horiz.forecast_target_demand = 0.85;
  c->horiz.cooldown_s = 15.0;
  c->horiz.max_step_out = 4;
  c->horiz.max_step_out_frac = 1.0;
  c->horiz.max_step_in = 0;
  c->bid.min_demand_factor = 0.0;
  c->demand_util_target = 1.0;
  c->latency_signal = 1;
  forecast_config_default(&c->forecast);
  c->forecast.bins = 288; /* 5-minute bins: bursts of a few minutes keep their height */
  c->forecast_horizon_s = 900.0; /* the scale-in hold horizon */
  c->need_util = 0.75;
  c->need_hold_s = 60.0;
  c->burst_cap_m = 1500;
  c->agent_lag_s = 0.0;
  c->forecast_z = 0.5;
  c->forecast_band_alpha = 0.025;
  c->forecast_lead_s = 0.0; /* start-up + one step */
  c->forecast_band_min = 40; /* 10 minutes of resolved predictions at 15 s */
}

/* steps between what the agent reports and the clearing that reads it (ring-bounded) */
static long agent_lag_steps(const sim_config *c) {
  long n = (long)ceil(c->agent_lag_s / c->step_s - 1e-9);
  return n < 0 ? 0 : (n >= RING ? RING - 1 : n);
}

/* how far ahead a scale-out must look: a new pod's start-up plus the cycle deciding it */
static double sim_forecast_lead(const sim_config *c) {
  return c->forecast_lead_s > 0 ? c->forecast_lead_s : c->startup_s + c->step_s;
}

/* cumulative fan-out: requests/s at tier t per frontend request/s */
static double fan(const sim_config *c, int t) {
  double f = 1.0;
  for (int i = 1; i <= t; i++) f *= c->tier[i].fanout;
  return f;
}

int32_t sim_replicas_for(const sim_config *c, int t, double lambda, double util) {
  double cores = lambda * fan(c, t) * c->tier[t].cpu_s;
  double per = (double)c->pod_cpu_m / 1000.0 * (util > 0 ? util : 1.0);
  int32_t n = (int32_t)ceil(cores / per - 1e-9);
  if (n < c->min_replicas) n = c->min_replicas;
  if (n > c->max_replicas) n = c->max_replicas;
  if (n < 1) n = 1;
  return n;
}

static double base_total(const sim_config *c) {
  double b = 0;
  for (int t = 0; t < SIM_TIERS; t++) b += c->tier[t].base_s;
  return b;
}

double sim_oracle_step(const sim_config *c, double lambda, double out_cores[SIM_TIERS],
                       int32_t out_pods[SIM_TIERS]) {
  double B = c->slo_s - base_total(c), cap = (double)c->pod_cpu_m / 1000.0, ln20 = log(20.0);
  double L[SIM_TIERS], x[SIM_TIERS];
  int32_t n[SIM_TIERS];
  for (int t = 0; t < SIM_TIERS; t++) {
    L[t] = lambda * fan(c, t) * c->tier[t].cpu_s;
    n[t] = (int32_t)ceil(L[t] / cap - 1e-12);
    if (n[t] < 1) n[t] = 1;
  }
  double total = 0;
  for (int it = 0; it < 1000; it++) {
    double S = 0;
    for (int t = 0; t < SIM_TIERS; t++) S += sqrt((double)n[t] * ln20 * c->tier[t].cpu_s);
    int again = 0;
    total = 0;
    for (int t = 0; t < SIM_TIERS; t++) {
      x[t] = B > 0 ? sqrt((double)n[t] * ln20 * c->tier[t].cpu_s) * S / B : INFINITY;
      out_cores[t] = L[t] + x[t];
      if (out_cores[t] > cap * (double)n[t] + 1e-12) {
        n[t]++;
        again = 1;
      }
      total += out_cores[t];
    }
    if (!again) break;
  }
  for (int t = 0; t < SIM_TIERS; t++) out_pods[t] = n[t];
  return total;
}

/* ------------------------------------------------------------------------------------ */

typedef struct pod {
  int tier, node; /* node -1: not scheduled */
  int64_t alloc_m, sched_m, pend_m, prev_m;
  double pend_at, ready_at, last_change_at;
  int ready;
  queue_pod q;
  double use[RING], lat[RING]; /* per step; -1 unknown */
  long id;
  uint64_t key;
  demand_state dem;
  market_need_state need;
} pod;

typedef struct world {
  const sim_config *c;
  sim_policy pol;
  pod *pods;
  int np;
  long next_id;
  sim_scores *sc;
  double abs_delta; /* this step */
} world;

static void pod_init(pod *p, world *w, int tier, int64_t alloc_m) {
  memset(p, 0, sizeof *p);
  p->tier = tier;
  p->node = -1;
  p->alloc_m = alloc_m;
  p->sched_m = (w->pol == SIM_MBCAS || w->pol == SIM_MBCAS_PROACTIVE) ? w->c->floor_m : alloc_m;
  p->pend_at = -1;
  p->last_change_at = -1;
  p->id = w->next_id++;
  char name[48];
  snprintf(name, sizeof name, "sim/%s-%ld", w->c->tier[tier].name, p->id);
  p->key = market_key(name);
  for (int i = 0; i < RING; i++) p->use[i] = p->lat[i] = -1;
}

static int64_t node_sched(const world *w, int node) {
  int64_t s = 0;
  for (int i = 0; i < w->np; i++)
    if (w->pods[i].node == node) s += w->pods[i].sched_m;
  return s;
}

static int64_t node_alloc_sum(const world *w, int node) {
  int64_t s = 0;
  for (int i = 0; i < w->np; i++)
    if (w->pods[i].node == node) s += w->pods[i].alloc_m;
  return s;
}

static int is_mbcas(sim_policy p) { return p == SIM_MBCAS || p == SIM_MBCAS_PROACTIVE; }

static void try_place(world *w, pod *p, double now) {
  int best = -1;
  int64_t best_free = -1;
  for (int nd = 0; nd < w->c->n_nodes; nd++) {
    int64_t fr = w->c->node_cpu_m - node_sched(w, nd);
    if (fr >= p->sched_m && fr > best_free) {
      best = nd;
      best_free = fr;
    }
  }
  if (best < 0) return;
  p->node = best;
  p->ready_at = now + w->c->startup_s;
  if (is_mbcas(w->pol)) {
    /* MBCAS pods request their floor; the new pod's limit is what its node has not
     * allocated (at most the cap): the operator sizes it at the next clearing anyway */
    int64_t fr = w->c->node_cpu_m - node_alloc_sum(w, best) + p->alloc_m; /* p is on best */
    if (fr > w->c->pod_cpu_m) fr = w->c->pod_cpu_m;
    if (fr < w->c->floor_m) fr = w->c->floor_m;
    p->alloc_m = fr;
  }
}

static int tier_count(const world *w, int t) {
  int n = 0;
  for (int i = 0; i < w->np; i++) n += w->pods[i].tier == t;
  return n;
}

static mbcas_rc add_pod(world *w, int tier, int64_t alloc_m, double now, int ready, mbcas_err *err) {
  if (w->np >= SIM_MAX_PODS)
    return mbcas_err_set(err, MBCAS_EINVAL, "maxReplicas", "more than %d pods", SIM_MAX_PODS);
  pod *p = &w->pods[w->np++];
  pod_init(p, w, tier, alloc_m);
  try_place(w, p, now);
  if (ready && p->node >= 0) {
    p->ready = 1;
    p->ready_at = now;
  }
  return MBCAS_OK;
}

/* Remove the pod of tier t that Kubernetes would pick first: unscheduled, then not
 * ready, then the newest. */
static void remove_pod(world *w, int t) {
  int pick = -1, rank = -1;
  for (int i = 0; i < w->np; i++) {
    pod *p = &w->pods[i];
    if (p->tier != t) continue;
    int r = p->node < 0 ? 2 : (!p->ready ? 1 : 0);
    if (r > rank || (r == rank && p->id > w->pods[pick].id)) {
      pick = i;
      rank = r;
    }
  }
  if (pick < 0) return;
  if (w->pods[pick].node >= 0) w->abs_delta += (double)w->pods[pick].alloc_m;
  w->pods[pick] = w->pods[--w->np];
}

static mbcas_rc set_replicas(world *w, int t, int32_t want, double now, mbcas_err *err) {
  int have = tier_count(w, t);
  if (want == have) return MBCAS_OK;
  w->sc->scales++;
  while (have < want) {
    /* a new pod starts at the size of the tier's newest pod (the template) */
    int64_t sz = w->c->pod_cpu_m;
    mbcas_rc rc = add_pod(w, t, sz, now, 0, err);
    if (rc != MBCAS_OK) return rc;
    have++;
  }
  while (have > want) {
    remove_pod(w, t);
    have--;
  }
  return MBCAS_OK;
}

static void request_resize(world *w, pod *p, int64_t to_m, double now) {
  if (to_m == p->alloc_m) {
    p->pend_at = -1;
    return;
  }
  p->pend_m = to_m;
  p->pend_at = now + w->c->resize_delay_s;
  p->last_change_at = now;
}

/* ---- load-weighted quantile of per-step values ---- */
typedef struct wv {
  double v, w;
} wv;
static int cmp_wv(const void *a, const void *b) {
  double x = ((const wv *)a)->v, y = ((const wv *)b)->v;
  return (x > y) - (x < y);
}
static double wquantile(wv *a, size_t n, double q) {
  double tw = 0;
  for (size_t i = 0; i < n; i++) tw += a[i].w;
  if (n == 0 || tw <= 0) return 0;
  qsort(a, n, sizeof *a, cmp_wv);
  double acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc += a[i].w;
    if (acc >= q * tw) return a[i].v;
  }
  return a[n - 1].v;
}

static void csv_header(FILE *f) {
  fprintf(f, "t_s,load_rps,alloc_cores,fe_cores,be_cores,db_cores,pods,fe_pods,be_pods,db_pods,"
             "p95_ms,p99_ms,violated\n");
}

static void csv_row(FILE *f, double t, double load, const double cores[SIM_TIERS],
                    const int pods[SIM_TIERS], double p95, double p99, double slo) {
  fprintf(f, "%.0f,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%d,%d,%d,%.2f,%.2f,%d\n", t, load,
          cores[0] + cores[1] + cores[2], cores[0], cores[1], cores[2], pods[0] + pods[1] + pods[2],
          pods[0], pods[1], pods[2], p95 * 1000.0, p99 * 1000.0, p95 > slo);
}

static mbcas_rc check_config(const sim_config *c, mbcas_err *err) {
  if (!(c->step_s > 0)) return mbcas_err_set(err, MBCAS_EINVAL, "stepS", "must be > 0");
  if (c->n_nodes < 1 || c->n_nodes > SIM_MAX_NODES)
    return mbcas_err_set(err, MBCAS_EINVAL, "nodes", "must be in [1,%d]", SIM_MAX_NODES);
  if (c->node_cpu_m <= 0) return mbcas_err_set(err, MBCAS_EINVAL, "nodeCpu", "must be > 0");
  if (c->pod_cpu_m <= 0 || c->floor_m <= 0 || c->floor_m > c->pod_cpu_m)
    return mbcas_err_set(err, MBCAS_EINVAL, "podCpu", "need 0 < floor <= pod size");
  if (c->min_replicas < 1 || c->max_replicas < c->min_replicas)
    return mbcas_err_set(err, MBCAS_EINVAL, "maxReplicas", "need 1 <= min <= max");
  if (!(c->slo_s > base_total(c)))
    return mbcas_err_set(err, MBCAS_EINVAL, "sloS", "must exceed the sum of base latencies");
  if (!(c->target_util > 0 && c->target_util <= 1))
    return mbcas_err_set(err, MBCAS_EINVAL, "targetUtil", "must be in (0,1]");
  for (int t = 0; t < SIM_TIERS; t++)
    if (!(c->tier[t].cpu_s > 0) || !(c->tier[t].fanout > 0) || c->tier[t].budget < 0)
      return mbcas_err_set(err, MBCAS_EINVAL, "tiers", "tier %d: cpu and fan-out must be > 0", t);
  return MBCAS_OK;
}

static mbcas_rc run_oracle(sim_scores *s, const sim_config *c, const double *load, size_t n,
                           FILE *csv, size_t every) {
  wv *lat = malloc((n ? n : 1) * sizeof *lat);
  if (!lat) return MBCAS_ENOMEM;
  if (csv) csv_header(csv);
  for (size_t k = 0; k < n; k++) {
    double cores[SIM_TIERS];
    int32_t np[SIM_TIERS];
    double tot = sim_oracle_step(c, load[k], cores, np);
    s->core_hours += tot * c->step_s / 3600.0;
    s->pod_hours += (double)(np[0] + np[1] + np[2]) * c->step_s / 3600.0;
    if (tot > s->peak_cores) s->peak_cores = tot;
    lat[k].v = c->slo_s;
    lat[k].w = load[k] > 0 ? load[k] : 1e-9;
    s->mean_p95_s += c->slo_s * lat[k].w;
    if (csv && k % every == 0) {
      int pi[SIM_TIERS] = {np[0], np[1], np[2]};
      csv_row(csv, (double)k * c->step_s, load[k], cores, pi, c->slo_s, c->slo_s, c->slo_s + 1);
    }
  }
  double tw = 0;
  for (size_t k = 0; k < n; k++) tw += lat[k].w;
  s->mean_p95_s = tw > 0 ? s->mean_p95_s / tw : 0;
  s->p95_s = wquantile(lat, n, 0.95);
  s->p99_s = s->p95_s; /* the oracle sizes for the p95 objective only */
  s->jain = 1.0;
  free(lat);
  return MBCAS_OK;
}

/* ---- MBCAS control cycle: the operator's own decision code ---- */
typedef struct mbcas_ctx {
  forecast_state *fc[SIM_TIERS];
  horizontal_state hs[SIM_TIERS];
  market_participant *parts;
  market_alloc *allocs;
  int *idx;
  market_node nodes[SIM_MAX_NODES];
  market_node_summary sums[SIM_MAX_NODES];
  forecast_band band[SIM_TIERS];
} mbcas_ctx;

static mbcas_rc mbcas_cycle(world *w, mbcas_ctx *m, long k, long lag, const double *load,
                            double now, mbcas_err *err) {
  const sim_config *c = w->c;
  long alag = agent_lag_steps(c);
  int proactive = w->pol == SIM_MBCAS_PROACTIVE;
  double fc_cores[SIM_TIERS] = {0, 0, 0}, fh_cores[SIM_TIERS] = {0, 0, 0};
  if (proactive && k - alag >= 0) {
    for (int t = 0; t < SIM_TIERS; t++) {
      double seen = load[k - alag] * fan(c, t); /* request rate the agent reports */
      forecast_observe(m->fc[t], now - (double)alag * c->step_s, seen);
      /* the scale-out forecast looks one pod start-up ahead, the scale-in hold over the
       * AgentPolicy horizon; both are upper forecasts: + z x the forecast's own error */
      double age = (double)alag * c->step_s;
      forecast_band_observe(&m->band[t], m->fc[t], now - age, seen);
      double ahead = forecast_upper(m->fc[t], &m->band[t], sim_forecast_lead(c) + age, c->step_s,
                                    c->forecast_z);
      fh_cores[t] = c->tier[t].cpu_s *
                    forecast_upper(m->fc[t], &m->band[t], c->forecast_horizon_s + age, c->step_s,
                                   c->forecast_z);
      fc_cores[t] = ahead * c->tier[t].cpu_s;
    }
  }
  int ready[SIM_TIERS] = {0, 0, 0};
  for (int i = 0; i < w->np; i++) ready[w->pods[i].tier] += w->pods[i].ready;
  /* budgets: ServiceBudget weights split over the ready pods */
  bid_service svc[SIM_TIERS];
  double eff[SIM_TIERS];
  for (int t = 0; t < SIM_TIERS; t++) {
    svc[t].ns = 0;
    svc[t].budget = c->tier[t].budget;
    svc[t].pods = (uint32_t)ready[t];
  }
  mbcas_rc rc = bid_service_budgets(eff, svc, SIM_TIERS, NULL, 0, err);
  if (rc != MBCAS_OK) return rc;
  for (int nd = 0; nd < c->n_nodes; nd++) {
    m->nodes[nd].allocatable_m = c->node_cpu_m;
    m->nodes[nd].reserve_m = 0;
    m->nodes[nd].non_participant_m = 0;
  }
  double dsum[SIM_TIERS] = {0, 0, 0};
  int at_cap[SIM_TIERS] = {0, 0, 0};
  size_t np = 0;
  long ri = (k - lag) % RING;
  double slo_share_total = 0;
  for (int t = 0; t < SIM_TIERS; t++) slo_share_total += c->tier[t].cpu_s;
  for (int i = 0; i < w->np; i++) {
    pod *p = &w->pods[i];
    if (p->node < 0) continue;
    if (!p->ready) {
      m->nodes[p->node].non_participant_m += p->alloc_m;
      continue;
    }
    double use = (k - lag >= 0) ? p->use[ri] : -1;
    double lat = (k - alag >= 0) ? p->lat[(k - alag) % RING] : -1;
    demand_signal sig[3];
    size_t ns = 0;
    double obs_at = now - (double)lag * c->step_s;
    sig[ns++] = (demand_signal){use, c->demand_util_target * (double)p->alloc_m, 1.0, obs_at,
                                use >= 0};
    if (c->latency_signal) {
      double share = (c->slo_s - base_total(c)) * c->tier[p->tier].cpu_s / slo_share_total;
      sig[ns++] = (demand_signal){lat, share, 1.0, now - (double)alag * c->step_s, lat >= 0};
    }
    if (proactive && ready[p->tier] > 0) {
      /* forecast cores per pod, over the cap (or, with need caps, over the allocation:
       * every signal is then relative to the allocation, so the need follows it) */
      double per_pod_m = fc_cores[p->tier] * 1000.0 / ready[p->tier];
      double base = c->need_util > 0 ? (double)p->alloc_m : (double)c->pod_cpu_m;
      sig[ns++] = (demand_signal){per_pod_m, c->demand_util_target * base, 1.0,
                                  now - (double)alag * c->step_s,
                                  fc_cores[p->tier] > 0};
    }
    demand_usage u = {(int64_t)(use >= 0 ? use : 0), p->alloc_m, use >= 0};
    rc = demand_update(NULL, &p->dem, &c->demand, sig, ns, &u, now);
    if (rc != MBCAS_OK) return mbcas_err_set(err, rc, "demand", "demand_update failed");
    dsum[p->tier] += c->need_util > 0 ? (double)p->alloc_m * p->dem.smoothed / (double)c->pod_cpu_m
                                      : p->dem.smoothed; /* horizontal_service_demand */
    int64_t cap_m = c->need_util > 0 && c->burst_cap_m > c->pod_cpu_m ? c->burst_cap_m : c->pod_cpu_m;
    at_cap[p->tier] += horizontal_pod_at_cap(&c->horiz, p->alloc_m, c->pod_cpu_m);
    market_participant *mp = &m->parts[np];
    mp->node = (uint32_t)p->node;
    mp->key = p->key;
    mp->budget_share = bid_pod_share(eff[p->tier], (uint32_t)ready[p->tier]);
    mp->demand = p->dem.smoothed;
    mp->floor_m = c->floor_m;
    mp->cap_m = cap_m;
    mp->current_m = p->alloc_m;
    mp->usage_m = use >= 0 ? (int64_t)use : -1;
    mp->last_change_at = p->last_change_at;
    mp->need_m = 0;
    if (cap_m > c->pod_cpu_m) /* burst mode: exactly the operator's call (ServiceBudget
                                 spec.cpu.base), replayable from status */
      mp->need_m = market_need_burst_step(p->alloc_m, p->dem.smoothed, c->need_util, c->pod_cpu_m,
                                          c->need_hold_s > 0 ? exp2(-c->step_s / c->need_hold_s) : 0);
    else if (c->need_util > 0) /* demand-justified caps below the pod size (§8) */
      mp->need_m = market_need_hold(&p->need,
                                    market_need_m(p->alloc_m, mp->usage_m, p->dem.smoothed,
                                                  c->need_util, c->need_headroom_m),
                                    now, c->need_hold_s);
    m->idx[np] = i;
    np++;
  }
  if (np > 0) {
    market_input in = {m->nodes, (size_t)c->n_nodes, m->parts, np, c->bid, &c->guard, now};
    market_output out = {m->sums, m->allocs, 0, 0, 0, 0, 0};
    rc = market_clear(&out, &in, err);
    if (rc != MBCAS_OK) return rc;
    for (size_t j = 0; j < np; j++) {
      pod *p = &w->pods[m->idx[j]];
      int64_t want = m->allocs[j].guarded.desired_m;
      if (want != p->alloc_m && (p->pend_at < 0 || p->pend_m != want)) request_resize(w, p, want, now);
    }
  }
  /* horizontal: one decision per service */
  int total = w->np;
  for (int t = 0; t < SIM_TIERS; t++) {
    horizontal_observation ob;
    ob.replicas = tier_count(w, t);
    ob.pods = ready[t];
    ob.pods_at_cap = at_cap[t];
    ob.demand = ready[t] ? dsum[t] / ready[t] : 0.0;
    ob.market_replicas = total;
    ob.market_ceiling = 0;
    ob.forecast_demand = 0;
    ob.forecast_hold_demand = 0;
    if (proactive && ob.replicas > 0) { /* the forecasts on the current replicas' base */
      double plan_m = (double)ob.replicas * (double)c->pod_cpu_m * c->demand_util_target;
      ob.forecast_demand = fc_cores[t] * 1000.0 / plan_m;
      ob.forecast_hold_demand = fh_cores[t] * 1000.0 / plan_m;
      /* until the forecast knows its own error, it holds every replica (no scale-in) */
      if (!forecast_band_ready(&m->band[t], c->forecast_band_min))
        ob.forecast_hold_demand = c->horiz.forecast_target_demand > 0 ? c->horiz.forecast_target_demand
                                                                        : c->horiz.target_demand;
    }
    horizontal_decision d;
    rc = horizontal_decide(&d, &m->hs[t], &c->horiz, &ob, now, err);
    if (rc != MBCAS_OK) return rc;
    rc = set_replicas(w, t, d.desired, now, err);
    if (rc != MBCAS_OK) return rc;
  }
  return MBCAS_OK;
}

mbcas_rc sim_run(sim_scores *out, const sim_config *cin, sim_policy pol, const double *load,
                 size_t n, FILE *csv, size_t csv_every, mbcas_err *err) {
  if (!out || !cin || (!load && n))
    return mbcas_err_set(err, MBCAS_EINVAL, "", "missing argument");
  if (pol < 0 || pol >= SIM_NPOLICIES)
    return mbcas_err_set(err, MBCAS_EINVAL, "policy", "unknown policy %d", (int)pol);
  mbcas_rc rc = check_config(cin, err);
  if (rc != MBCAS_OK) return rc;
  sim_config cfg = *cin;
  const sim_config *c = &cfg;
  cfg.hpa.min_replicas = cfg.min_replicas;
  cfg.hpa.max_replicas = cfg.max_replicas;
  cfg.hpa.target_util = cfg.target_util;
  cfg.horiz.min_replicas = cfg.min_replicas;
  cfg.horiz.max_replicas = cfg.max_replicas;
  if (csv_every == 0) csv_every = 1;
  memset(out, 0, sizeof *out);
  sim_scores *s = out;
  s->hours = (double)n * c->step_s / 3600.0;
  if (pol == SIM_ORACLE) {
    rc = run_oracle(s, c, load, n, csv, csv_every);
    return rc == MBCAS_OK ? MBCAS_OK : mbcas_err_set(err, rc, "", "out of memory");
  }

  world w = {c, pol, NULL, 0, 0, s, 0};
  mbcas_ctx m;
  memset(&m, 0, sizeof m);
  for (int t = 0; t < SIM_TIERS; t++)
    forecast_band_init(&m.band[t], sim_forecast_lead(c) + (double)c->step_s * (double)agent_lag_steps(c),
                       c->forecast_band_alpha);
  vpa_hist vh[SIM_TIERS];
  hpa_state hs[SIM_TIERS];
  wv *lat95 = NULL, *lat99 = NULL;
  w.pods = calloc(SIM_MAX_PODS, sizeof(pod));
  m.parts = calloc(SIM_MAX_PODS, sizeof(market_participant));
  m.allocs = calloc(SIM_MAX_PODS, sizeof(market_alloc));
  m.idx = calloc(SIM_MAX_PODS, sizeof(int));
  lat95 = malloc((n ? n : 1) * sizeof(wv));
  lat99 = malloc((n ? n : 1) * sizeof(wv));
  if (!w.pods || !m.parts || !m.allocs || !m.idx || !lat95 || !lat99) {
    rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
    goto done;
  }
  if (pol == SIM_MBCAS_PROACTIVE)
    for (int t = 0; t < SIM_TIERS; t++) {
      rc = forecast_new(&m.fc[t], &c->forecast, err);
      if (rc != MBCAS_OK) goto done;
    }
  for (int t = 0; t < SIM_TIERS; t++) {
    horizontal_state_init(&m.hs[t]);
    hpa_state_init(&hs[t]);
    vpa_hist_init(&vh[t], c->vpa_half_life_s);
  }
  /* initial deployment: sized for the first 10 minutes at the target utilization
   * (static: for the static_quantile of the whole trace) */
  {
    double first = 0;
    size_t lim = (size_t)(600.0 / c->step_s);
    for (size_t k = 0; k < n && k <= lim; k++)
      if (load[k] > first) first = load[k];
    double q = 0;
    if (pol == SIM_STATIC) {
      wv *a = malloc((n ? n : 1) * sizeof(wv));
      if (!a) {
        rc = mbcas_err_set(err, MBCAS_ENOMEM, "", "out of memory");
        goto done;
      }
      for (size_t k = 0; k < n; k++) a[k] = (wv){load[k], 1.0};
      q = wquantile(a, n, c->static_quantile);
      free(a);
    }
    for (int t = 0; t < SIM_TIERS; t++) {
      int32_t r = sim_replicas_for(c, t, pol == SIM_STATIC ? q : first, c->target_util);
      for (int32_t i = 0; i < r; i++) {
        rc = add_pod(&w, t, c->pod_cpu_m, 0.0, 1, err);
        if (rc != MBCAS_OK) goto done;
      }
    }
    for (int i = 0; i < w.np; i++) w.pods[i].prev_m = w.pods[i].node >= 0 ? w.pods[i].alloc_m : 0;
  }
  if (csv) csv_header(csv);
  long lag = (long)ceil(c->scrape_lag_s / c->step_s - 1e-9);
  if (lag >= RING) lag = RING - 1;
  double next_sync = 0, next_vpa = c->vpa_interval_s;
  long sat_steps = 0, ready_steps = 0, cycles = 0;
  double jain_sum = 0, delta_sum = 0, ln_w = 0;
  double w95[SIM_MAX_PODS], o95[SIM_MAX_PODS], r95[SIM_MAX_PODS];
  for (size_t k = 0; k < n; k++) {
    double now = (double)k * c->step_s;
    w.abs_delta = 0;
    /* 1. events: scheduling, readiness, resizes */
    for (int i = 0; i < w.np; i++) {
      pod *p = &w.pods[i];
      if (p->node < 0) try_place(&w, p, now);
      if (p->node >= 0 && !p->ready && now >= p->ready_at) p->ready = 1;
      if (p->pend_at >= 0 && now >= p->pend_at) {
        p->pend_at = -1;
        int64_t inc = p->pend_m - p->alloc_m;
        /* an increase that no longer fits the node is deferred (the controller decides
         * again); MBCAS pods' limits are checked as well as requests */
        int fits = inc <= 0 || p->node < 0 || node_alloc_sum(&w, p->node) + inc <= c->node_cpu_m;
        if (fits) {
          p->alloc_m = p->pend_m;
          if (pol != SIM_MBCAS && pol != SIM_MBCAS_PROACTIVE) p->sched_m = p->alloc_m;
          s->resizes++;
        }
      }
    }
    /* 2. serve the load */
    double lam_fe = load[k] > 0 ? load[k] : 0;
    double p95_tot = base_total(c), p99_tot = base_total(c);
    int ready[SIM_TIERS] = {0, 0, 0};
    for (int i = 0; i < w.np; i++) ready[w.pods[i].tier] += w.pods[i].ready;
    /* CPU share when limits on a node exceed its capacity (CFS by request) */
    double node_alloc[SIM_MAX_NODES] = {0}, node_dem[SIM_MAX_NODES] = {0};
    for (int i = 0; i < w.np; i++)
      if (w.pods[i].node >= 0) node_alloc[w.pods[i].node] += (double)w.pods[i].alloc_m;
    for (int t = 0; t < SIM_TIERS; t++) {
      double lam_t = lam_fe * fan(c, t);
      size_t m_n = 0;
      for (int i = 0; i < w.np; i++) {
        pod *p = &w.pods[i];
        if (p->tier != t) continue;
        long ri = (long)(k % RING);
        if (!p->ready) {
          p->use[ri] = p->lat[ri] = -1;
          continue;
        }
        double lam_p = lam_t / ready[t];
        double eff_m = (double)p->alloc_m;
        if (node_alloc[p->node] > (double)c->node_cpu_m)
          eff_m *= (double)c->node_cpu_m / node_alloc[p->node];
        double mu = eff_m / 1000.0 / c->tier[t].cpu_s;
        queue_out qo;
        queue_step(&qo, &p->q, lam_p, mu, c->step_s);
        p->use[ri] = qo.busy * eff_m;
        p->lat[ri] = qo.offset_s - log(0.05) / qo.rate;
        node_dem[p->node] += lam_p * c->tier[t].cpu_s * 1000.0;
        ready_steps++;
        sat_steps += qo.saturated;
        w95[m_n] = 1.0;
        o95[m_n] = qo.offset_s;
        r95[m_n] = qo.rate;
        m_n++;
      }
      if (m_n == 0) {
        p95_tot += lam_t > 0 ? QUEUE_LAT_MAX : 0;
        p99_tot += lam_t > 0 ? QUEUE_LAT_MAX : 0;
      } else {
        p95_tot += queue_mix_quantile(w95, o95, r95, m_n, 0.95);
        p99_tot += queue_mix_quantile(w95, o95, r95, m_n, 0.99);
      }
    }
    /* 3. scores */
    double cores[SIM_TIERS] = {0, 0, 0};
    int pods_t[SIM_TIERS] = {0, 0, 0};
    for (int i = 0; i < w.np; i++) {
      pod *p = &w.pods[i];
      if (p->node < 0) continue;
      cores[p->tier] += (double)p->alloc_m / 1000.0;
      pods_t[p->tier]++;
      w.abs_delta += fabs((double)(p->alloc_m - p->prev_m));
      p->prev_m = p->alloc_m;
    }
    double tot = cores[0] + cores[1] + cores[2];
    if (tot > s->peak_cores) s->peak_cores = tot;
    s->core_hours += tot * c->step_s / 3600.0;
    s->pod_hours += (double)(pods_t[0] + pods_t[1] + pods_t[2]) * c->step_s / 3600.0;
    if (p95_tot > c->slo_s) s->violation_s += c->step_s;
    double wt = lam_fe > 0 ? lam_fe : 1e-9;
    lat95[k] = (wv){p95_tot, wt};
    lat99[k] = (wv){p99_tot, wt};
    s->mean_p95_s += p95_tot * wt;
    ln_w += wt;
    if (k > 0) {
      delta_sum += w.abs_delta;
      cycles++;
    }
    for (int nd = 0; nd < c->n_nodes; nd++) {
      if (node_dem[nd] <= (double)c->node_cpu_m) continue;
      int64_t al[SIM_MAX_PODS];
      double bu[SIM_MAX_PODS];
      size_t cnt = 0;
      for (int i = 0; i < w.np; i++) {
        pod *p = &w.pods[i];
        if (p->node != nd || !p->ready) continue;
        al[cnt] = p->alloc_m;
        bu[cnt] = c->tier[p->tier].budget / (ready[p->tier] ? ready[p->tier] : 1);
        cnt++;
      }
      jain_sum += market_jain(al, bu, cnt);
      s->contended_steps++;
    }
    if (csv && k % csv_every == 0) csv_row(csv, now, lam_fe, cores, pods_t, p95_tot, p99_tot, c->slo_s);
    /* 4. control */
    w.abs_delta = 0;
    if (pol == SIM_HPA && now >= next_sync) {
      next_sync = now + c->hpa.sync_s;
      for (int t = 0; t < SIM_TIERS; t++) {
        hpa_metrics hm = {tier_count(&w, t), 0, 0, 0, 0.0};
        for (int i = 0; i < w.np; i++) {
          pod *p = &w.pods[i];
          if (p->tier != t) continue;
          double u = (long)k - lag >= 0 ? p->use[((long)k - lag) % RING] : -1;
          if (p->node < 0)
            hm.missing++;
          else if (!p->ready || u < 0)
            hm.unready++;
          else {
            hm.ready++;
            hm.util_sum += u / (double)p->sched_m;
          }
        }
        int32_t d = hpa_decide(&hs[t], &c->hpa, &hm, now);
        rc = set_replicas(&w, t, d, now, err);
        if (rc != MBCAS_OK) goto done;
      }
    } else if (pol == SIM_VPA) {
      long kk = (long)k - lag;
      if (kk >= 0)
        for (int i = 0; i < w.np; i++) {
          pod *p = &w.pods[i];
          if (p->use[kk % RING] >= 0) vpa_hist_add(&vh[p->tier], p->use[kk % RING], now);
        }
      if (now >= next_vpa) {
        next_vpa = now + c->vpa_interval_s;
        for (int t = 0; t < SIM_TIERS; t++) {
          vpa_rec vr;
          vpa_recommend(&vr, &vh[t], now, c->vpa_margin, c->floor_m);
          int64_t tgt = vr.target_m;
          if (tgt > c->node_cpu_m) tgt = c->node_cpu_m;
          for (int i = 0; i < w.np; i++) {
            pod *p = &w.pods[i];
            if (p->tier != t || p->node < 0) continue;
            if ((p->alloc_m < vr.lower_m || p->alloc_m > vr.upper_m) && tgt != p->alloc_m &&
                p->pend_at < 0)
              request_resize(&w, p, tgt, now);
          }
        }
      }
    } else if (pol == SIM_MBCAS || pol == SIM_MBCAS_PROACTIVE) {
      rc = mbcas_cycle(&w, &m, (long)k, lag, load, now, err);
      if (rc != MBCAS_OK) goto done;
    }
    delta_sum += w.abs_delta; /* pods removed by the controller */
    /* instant resizes (delay 0) take effect now */
    if (c->resize_delay_s <= 0)
      for (int i = 0; i < w.np; i++)
        if (w.pods[i].pend_at >= 0 && w.pods[i].pend_at <= now) {
          w.pods[i].alloc_m = w.pods[i].pend_m;
          w.pods[i].pend_at = -1;
          s->resizes++;
        }
  }
  s->violation_pct = n ? 100.0 * s->violation_s / ((double)n * c->step_s) : 0;
  s->p95_s = wquantile(lat95, n, 0.95);
  s->p99_s = wquantile(lat99, n, 0.99);
  s->mean_p95_s = ln_w > 0 ? s->mean_p95_s / ln_w : 0;
  s->throttled_pct = ready_steps ? 100.0 * (double)sat_steps / (double)ready_steps : 0;
  s->jain = s->contended_steps ? jain_sum / (double)s->contended_steps : 1.0;
  s->mean_abs_delta_m = cycles ? delta_sum / (double)cycles : 0;
  rc = MBCAS_OK;
done:
  for (int t = 0; t < SIM_TIERS; t++) forecast_free(m.fc[t]);
  free(w.pods);
  free(m.parts);
  free(m.allocs);
  free(m.idx);
  free(lat95);
  free(lat99);
  return rc;
}

void sim_scores_md_header(FILE *f) {
  fprintf(f, "| trace | policy | SLO violation (%% time) | p95 ms | p99 ms | core-h | core-h / oracle "
             "| pod-h | throttled %% | Jain (contended) | mean abs dalloc m/cycle | resizes | scales |\n");
  fprintf(f, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

void sim_scores_md_row(FILE *f, const char *trace, sim_policy p, const sim_scores *s,
                       double oracle_core_hours) {
  char ratio[32] = "-";
  if (oracle_core_hours > 0) snprintf(ratio, sizeof ratio, "%.2f", s->core_hours / oracle_core_hours);
  char jain[32] = "-";
  if (s->contended_steps > 0) snprintf(jain, sizeof jain, "%.3f (%ld)", s->jain, s->contended_steps);
  fprintf(f, "| %s | %s | %.2f | %.0f | %.0f | %.1f | %s | %.1f | %.2f | %s | %.1f | %ld | %ld |\n",
          trace ? trace : "", sim_policy_name(p), s->violation_pct, s->p95_s * 1000.0,
          s->p99_s * 1000.0, s->core_hours, ratio, s->pod_hours, s->throttled_pct, jain,
          s->mean_abs_delta_m, s->resizes, s->scales);
}
