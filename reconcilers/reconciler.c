/* reconciler.c - the cycle driver and helpers shared by the reconcilers; see reconciler.h. */
#include "internal.h"
#include "proactive.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "log.h"

void rec_options_default(rec_options *o) {
  memset(o, 0, sizeof *o);
  o->pods_resize_supported = 1;
  o->scale_supported = 1;
  o->prom_timeout_ms = 2000;
}

mbcas_rc rec_ctx_new(rec_ctx **out, const rec_api *api, const rec_observer *obs,
                     const rec_options *opts) {
  rec_ctx *c = calloc(1, sizeof *c);
  if (!c) return MBCAS_ENOMEM;
  c->api = *api;
  if (obs) c->obs = *obs;
  if (opts) c->opt = *opts;
  else rec_options_default(&c->opt);
  if (c->opt.prom_timeout_ms <= 0) c->opt.prom_timeout_ms = 2000;
  c->pods = ru_map_new(sizeof(rec_pod_state));
  c->svcs = ru_map_new(sizeof(rec_svc_state));
  c->markets = ru_map_new(sizeof(rec_market_state));
  c->policies = ru_map_new(sizeof(rec_policy_state));
  ru_map_set_free(c->svcs, rec_svc_state_release);
  if (!c->pods || !c->svcs || !c->markets || !c->policies ||
      rec_writer_new(&c->writer, &c->api, c->opt.status_writers) != MBCAS_OK) {
    rec_ctx_free(c);
    return MBCAS_ENOMEM;
  }
  atomic_store(&c->force, 1);
  *out = c;
  return MBCAS_OK;
}

void rec_svc_state_release(void *v) {
  rec_svc_state *ss = v;
  if (!ss) return;
  rec_proactive_free(ss->fc);
  ss->fc = NULL;
}

void rec_ctx_free(rec_ctx *c) {
  if (!c) return;
  rec_writer_free(c->writer);
  ru_map_free(c->pods);
  ru_map_free(c->svcs);
  ru_map_free(c->markets);
  ru_map_free(c->policies);
  free(c);
}

void rec_ctx_set_resize_supported(rec_ctx *c, int supported) {
  c->opt.pods_resize_supported = supported;
}

void rec_request_cycle(rec_ctx *c) { atomic_store(&c->force, 1); }

int rec_stopping(const rec_ctx *c) { return c->opt.stop && atomic_load(c->opt.stop); }

void rec_event(rec_ctx *c, const cJSON *obj, const char *type, const char *reason,
               const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char k[320], q[1100];
  LOG_INFO("event", "object=%s type=%s reason=%s message=%s", rec_obj_key(obj, k, sizeof k), type,
           reason, mbcas_log_quote(msg, q, sizeof q));
  if (c->obs.event) c->obs.event(c->obs.ud, obj, type, reason, msg);
}

const char *rec_obj_key(const cJSON *obj, char *buf, size_t len) {
  const char *ns = ru_str(obj, "metadata.namespace"), *name = ru_str(obj, "metadata.name");
  if (ns && *ns) snprintf(buf, len, "%s/%s", ns, name ? name : "");
  else snprintf(buf, len, "%s", name ? name : "");
  return buf;
}

const char *rec_status_path(char *buf, size_t len, const char *resource, const char *ns,
                            const char *name) {
  if (ns && *ns)
    snprintf(buf, len, "/apis/mbcas.io/v1alpha1/namespaces/%s/%s/%s/status", ns, resource, name);
  else
    snprintf(buf, len, "/apis/mbcas.io/v1alpha1/%s/%s/status", resource, name);
  return buf;
}

mbcas_rc rec_patch_status(rec_ctx *c, const char *path, cJSON *status) {
  /* inline, in order (writer.c) */
  return rec_writer_patch_status(NULL, &c->api, path, status, NULL);
}

void rec_crash_point(void) {
  const char *e = getenv("MBCAS_TEST_CRASH_AFTER_STATUS");
  if (e && *e == '1') {
    LOG_WARN("test crash point", "%s", "env=MBCAS_TEST_CRASH_AFTER_STATUS");
    _exit(3);
  }
}

static int64_t market_generation(const cJSON *o) {
  return (int64_t)ru_num(o, "metadata.generation", 0);
}

/* Whether anything of this market changed since its last clearing: its own generation,
 * or a ServiceBudget joining it whose generation its status has not observed yet. */
static int market_changed(rec_ctx *c, const rec_snapshot *snap, const cJSON *sm,
                          const rec_market_state *ms) {
  if (market_generation(sm) != ms->generation) return 1;
  const char *name = ru_str(sm, "metadata.name");
  char key[API_NS_MAX + API_NAME_MAX + 2];
  for (size_t i = 0; i < snap->n_budgets; i++) {
    const char *m = ru_str(snap->budgets[i], "spec.marketRef.name");
    if (!m || !name || strcmp(m, name) != 0) continue;
    int64_t gen = (int64_t)ru_num(snap->budgets[i], "metadata.generation", 0);
    if (gen == (int64_t)ru_num(snap->budgets[i], "status.observedGeneration", -1)) continue;
    /* Our own status write may not have come back through the watch yet. */
    const rec_svc_state *ss = ru_map_get(c->svcs, rec_obj_key(snap->budgets[i], key, sizeof key));
    if (ss && ss->seen_gen >= gen) continue;
    return 1;
  }
  return 0;
}

double rec_clearing_interval(const rec_ctx *c, int64_t spec_ms) {
  if (c && c->opt.clearing_interval_ms > 0) return (double)c->opt.clearing_interval_ms / 1000.0;
  if (spec_ms < 1000) spec_ms = 1000;
  return (double)spec_ms / 1000.0;
}

static double interval_s(const rec_ctx *c, const cJSON *sm) {
  const char *s = ru_str(sm, "spec.clearingInterval");
  int64_t ms = 15000;
  if (s && duration_parse(&ms, s, NULL, NULL) != MBCAS_OK) ms = 15000;
  return rec_clearing_interval(c, ms);
}

mbcas_rc rec_cycle(rec_ctx *c, const rec_snapshot *snap, double now, rec_cycle_stats *stats,
                   double *next_s) {
  rec_cycle_stats local;
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  int force = atomic_exchange(&c->force, 0);
  double next = 3600;
  /* Markets named in the snapshot; the map keeps state across cycles. */
  for (size_t i = 0; i < snap->n_markets; i++) {
    const cJSON *sm = snap->markets[i];
    const char *name = ru_str(sm, "metadata.name");
    if (!name) continue;
    int created = 0;
    rec_market_state *ms = ru_map_upsert(c->markets, name, &created);
    if (!ms) return MBCAS_ENOMEM;
    ru_map_touch(c->markets, name);
    if (created) {
      /* Resume the cadence from status so a restart does not clear twice in a row
       * (a pending decision is completed either way). */
      ms->generation = -1;
    }
    double every = interval_s(c, sm);
    int due = force || ms->last_clear <= 0 || now - ms->last_clear >= every - 1e-3 ||
              market_changed(c, snap, sm, ms);
    if (!due) {
      double left = ms->last_clear + every - now;
      if (left < next) next = left;
      continue;
    }
    int64_t gen = market_generation(sm);
    rec_market_run(c, snap, sm, now, stats);
    ms = ru_map_get(c->markets, name); /* maps may have grown meanwhile */
    if (ms) {
      ms->last_clear = now;
      ms->generation = gen;
    }
    stats->markets_cleared++;
    if (every < next) next = every;
  }
  ru_map_sweep(c->markets);
  /* Forget the state of pods and services that are gone (pods: after a clearing only,
   * the one stage that adds pod state; a walk over every pod each second is not free). */
  char key[API_NS_MAX + API_NAME_MAX + 2];
  if (stats->markets_cleared || stats->resumed) {
    for (size_t i = 0; i < snap->n_pods; i++)
      ru_map_touch(c->pods, ru_kpod_key(snap->pods[i], key, sizeof key));
    ru_map_sweep(c->pods);
  }
  for (size_t i = 0; i < snap->n_budgets; i++)
    ru_map_touch(c->svcs, rec_obj_key(snap->budgets[i], key, sizeof key));
  ru_map_sweep(c->svcs);
  rec_budget_orphans(c, snap, now, stats);
  rec_policy_write_all(c, snap, now, stats);
  if (c->obs.cycle_done) c->obs.cycle_done(c->obs.ud);
  if (next_s) *next_s = next < 0 ? 0 : next;
  return MBCAS_OK;
}
