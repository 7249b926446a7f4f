/* observer_kube.c - metrics and aggregated Events; see observer_kube.h. */
#include "observer_kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "meta.h"
#include "recutil.h"

#define EVENT_WINDOW_S 600

typedef struct ev_entry {
  char name[128];      /* Event object name */
  char ns[64];
  unsigned long count;
  double first;        /* wall time of the first */
} ev_entry;

struct rec_kobs {
  rec_api api;
  char component[64], instance[128];
  kube_metric *alloc, *usage, *demand, *bid, *bshare, *ashare, *price, *resizes, *scales,
      *clearing, *step;
  ru_map *events;
  ru_map *marks; /* market -> kube_metric_mark token taken at its last clearing */
  unsigned long created, patched, seq;
};

/* Per-pod series of up to this many pods (KUBE_METRICS_MAX_SERIES is 2,000). */
#define POD_SERIES_MAX 50000

static void k_pod_allocated(void *ud, const char *market, const char *node, const char *ns,
                            const char *pod, const char *sb, int64_t milli) {
  rec_kobs *k = ud;
  const char *lv[] = {market, node, ns, pod, sb};
  kube_metric_set(k->alloc, lv, (double)milli);
}

static void k_pod_usage(void *ud, const char *ns, const char *pod, int64_t milli) {
  rec_kobs *k = ud;
  const char *lv[] = {ns, pod};
  kube_metric_set(k->usage, lv, (double)milli);
}

static void k_budget(void *ud, const char *ns, const char *sb, double demand, double bid,
                     double bs, double as) {
  rec_kobs *k = ud;
  const char *lv[] = {ns, sb};
  kube_metric_set(k->demand, lv, demand);
  kube_metric_set(k->bid, lv, bid);
  kube_metric_set(k->bshare, lv, bs);
  kube_metric_set(k->ashare, lv, as);
}

static void k_price(void *ud, const char *market, const char *node, double price) {
  rec_kobs *k = ud;
  const char *lv[] = {market, node};
  kube_metric_set(k->price, lv, price);
}

static void k_resize(void *ud, act_outcome o, int64_t step) {
  rec_kobs *k = ud;
  const char *lv[] = {act_outcome_metric(o)};
  kube_metric_inc(k->resizes, lv);
  if (o == ACT_APPLIED) kube_metric_observe(k->step, NULL, (double)step);
}

static void k_scale(void *ud, act_outcome o) {
  rec_kobs *k = ud;
  const char *lv[] = {act_outcome_metric(o)};
  kube_metric_inc(k->scales, lv);
}

/* After a market's clearing has set its pods' allocation gauges: drop that market's
 * series that this clearing did not set (pods gone or no longer taking part), so deleted
 * pods do not stay in /metrics. Markets clear one at a time; a token per market. */
static void k_clearing(void *ud, const char *market, double secs) {
  rec_kobs *k = ud;
  kube_metric_observe(k->clearing, NULL, secs);
  if (!market) return;
  int created = 0;
  uint32_t *t = ru_map_upsert(k->marks, market, &created);
  if (!t) return;
  if (!created) {
    const char *pat[] = {market, NULL, NULL, NULL, NULL};
    kube_metric_sweep(k->alloc, pat, *t);
  }
  *t = kube_metric_mark(k->alloc);
}

static void k_event(void *ud, const cJSON *obj, const char *type, const char *reason,
                    const char *message) {
  rec_kobs *k = ud;
  const char *uid = ru_str(obj, "metadata.uid");
  const char *name = ru_str(obj, "metadata.name");
  const char *ns = ru_str(obj, "metadata.namespace");
  const char *kind = ru_str(obj, "kind");
  const char *av = ru_str(obj, "apiVersion");
  if (!name) return;
  if (!ns || !*ns) ns = "default"; /* Events about cluster-scoped objects */
  char key[400];
  snprintf(key, sizeof key, "%s/%s/%s", uid ? uid : name, reason, type);
  time_t now = time(NULL);
  char ts[API_TIME_STR_MAX];
  api_time_format(now, ts, sizeof ts);
  ev_entry *e = ru_map_get(k->events, key);
  if (e && (double)now - e->first < EVENT_WINDOW_S) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "count", (double)(e->count + 1));
    cJSON_AddStringToObject(p, "lastTimestamp", ts);
    cJSON_AddStringToObject(p, "message", message);
    char *body = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    char path[300];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events/%s", e->ns, e->name);
    mbcas_rc rc = body ? k->api.patch(k->api.ctx, path, REC_PATCH_MERGE, body, NULL) : MBCAS_ENOMEM;
    free(body);
    if (rc == MBCAS_OK) {
      e->count++;
      k->patched++;
      return;
    }
    ru_map_remove(k->events, key); /* gone (TTL): create a new one */
  }
  cJSON *ev = cJSON_CreateObject();
  cJSON_AddStringToObject(ev, "apiVersion", "v1");
  cJSON_AddStringToObject(ev, "kind", "Event");
  cJSON *m = cJSON_AddObjectToObject(ev, "metadata");
  char evname[128];
  snprintf(evname, sizeof evname, "%.80s.%lx%04lx", name, (unsigned long)now, ++k->seq & 0xffff);
  cJSON_AddStringToObject(m, "name", evname);
  cJSON_AddStringToObject(m, "namespace", ns);
  cJSON *io = cJSON_AddObjectToObject(ev, "involvedObject");
  if (av) cJSON_AddStringToObject(io, "apiVersion", av);
  if (kind) cJSON_AddStringToObject(io, "kind", kind);
  cJSON_AddStringToObject(io, "name", name);
  if (ru_str(obj, "metadata.namespace")) cJSON_AddStringToObject(io, "namespace", ru_str(obj, "metadata.namespace"));
  if (uid) cJSON_AddStringToObject(io, "uid", uid);
  cJSON_AddStringToObject(ev, "reason", reason);
  cJSON_AddStringToObject(ev, "message", message);
  cJSON_AddStringToObject(ev, "type", type);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(ev, "source"), "component", k->component);
  cJSON_AddStringToObject(ev, "reportingComponent", k->component);
  cJSON_AddStringToObject(ev, "reportingInstance", k->instance);
  cJSON_AddStringToObject(ev, "firstTimestamp", ts);
  cJSON_AddStringToObject(ev, "lastTimestamp", ts);
  cJSON_AddNumberToObject(ev, "count", 1);
  char *body = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  char path[200];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", ns);
  mbcas_rc rc = body ? k->api.post(k->api.ctx, path, body, NULL) : MBCAS_ENOMEM;
  free(body);
  if (rc != MBCAS_OK) {
    LOG_WARN("event not recorded", "reason=%s err=%s", reason, mbcas_strerror(rc));
    return;
  }
  k->created++;
  e = ru_map_upsert(k->events, key, NULL);
  if (e) {
    snprintf(e->name, sizeof e->name, "%s", evname);
    snprintf(e->ns, sizeof e->ns, "%s", ns);
    e->count = 1;
    e->first = (double)now;
  }
}

static void k_cycle_done(void *ud) {
  (void)ud;
}

static const double step_buckets[] = {10, 25, 50, 100, 250, 500, 1000, 2000, 4000};
static const double clear_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25, 0.5, 1, 2.5, 5};

mbcas_rc rec_kobs_new(rec_kobs **out, kube_metrics *r, const rec_api *api, const char *component,
                      const char *instance) {
  rec_kobs *k = calloc(1, sizeof *k);
  if (!k) return MBCAS_ENOMEM;
  k->api = *api;
  snprintf(k->component, sizeof k->component, "%s", component ? component : "mbcas-operator");
  snprintf(k->instance, sizeof k->instance, "%s", instance ? instance : "mbcas-operator");
  k->events = ru_map_new(sizeof(ev_entry));
  k->marks = ru_map_new(sizeof(uint32_t));
  mbcas_rc rc = k->events && k->marks ? MBCAS_OK : MBCAS_ENOMEM;
#define REG(call)                          \
  if (rc == MBCAS_OK) rc = (call);
  REG(kube_metrics_gauge(r, &k->alloc, "mbcas_pod_allocated_cpu_millicores",
                         "CPU allocated to a pod by the last clearing (millicores).",
                         "market,node,namespace,pod,servicebudget"))
  REG(kube_metrics_gauge(r, &k->usage, "mbcas_pod_usage_cpu_millicores",
                         "CPU used by a pod, from metrics.k8s.io (millicores).", "namespace,pod"))
  REG(kube_metrics_gauge(r, &k->demand, "mbcas_servicebudget_demand",
                         "Smoothed demand intensity of a service, 0 to 1.", "namespace,servicebudget"))
  REG(kube_metrics_gauge(r, &k->bid, "mbcas_servicebudget_effective_bid",
                         "Sum of the effective bids of a service's pods.", "namespace,servicebudget"))
  REG(kube_metrics_gauge(r, &k->bshare, "mbcas_servicebudget_budget_share",
                         "A service's share of its market's budgets.", "namespace,servicebudget"))
  REG(kube_metrics_gauge(r, &k->ashare, "mbcas_servicebudget_allocation_share",
                         "A service's share of its market's allocated CPU.", "namespace,servicebudget"))
  REG(kube_metrics_gauge(r, &k->price, "mbcas_node_clearing_price",
                         "Clearing price of a node's market (millicores per bid unit).", "market,node"))
  REG(kube_metrics_counter(r, &k->resizes, "mbcas_resizes_total",
                           "In-place pod resizes by result.", "result"))
  REG(kube_metrics_counter(r, &k->scales, "mbcas_scales_total",
                           "Replica changes through the scale subresource by result.", "result"))
  REG(kube_metrics_histogram(r, &k->clearing, "mbcas_clearing_duration_seconds",
                             "Time to clear one market (decide and write status).", NULL,
                             clear_buckets, sizeof clear_buckets / sizeof clear_buckets[0]))
  REG(kube_metrics_histogram(r, &k->step, "mbcas_resize_step_millicores",
                             "Size of each applied resize step (millicores).", NULL, step_buckets,
                             sizeof step_buckets / sizeof step_buckets[0]))
#undef REG
  if (rc == MBCAS_OK) rc = kube_metric_set_limit(k->alloc, POD_SERIES_MAX);
  if (rc == MBCAS_OK) rc = kube_metric_set_limit(k->usage, POD_SERIES_MAX);
  if (rc != MBCAS_OK) {
    rec_kobs_free(k);
    return rc;
  }
  *out = k;
  return MBCAS_OK;
}

void rec_kobs_observer(rec_kobs *k, rec_observer *o) {
  memset(o, 0, sizeof *o);
  o->ud = k;
  o->event = k_event;
  o->pod_allocated = k_pod_allocated;
  o->pod_usage = k_pod_usage;
  o->budget = k_budget;
  o->node_price = k_price;
  o->resize = k_resize;
  o->scale = k_scale;
  o->clearing = k_clearing;
  o->cycle_done = k_cycle_done;
}

void rec_kobs_counts(const rec_kobs *k, unsigned long *created, unsigned long *patched) {
  if (created) *created = k->created;
  if (patched) *patched = k->patched;
}

void rec_kobs_free(rec_kobs *k) {
  if (!k) return;
  ru_map_free(k->events);
  ru_map_free(k->marks);
  free(k);
}
