/* metrics.h - a registry of counters, gauges and histograms with labels,
 * rendered in the Prometheus text exposition format (version 0.0.4).
 *
 * A metric family is registered once with its label names ("verb,code"); each
 * distinct tuple of label values is a series, created on first use. Registering
 * the same name again with the same type and labels returns the existing family
 * (so modules may register lazily); a clash is MBCAS_EINVAL. Families render
 * sorted by name, series in creation order. Collectors (callbacks run just
 * before rendering) let a module publish a value it only knows when asked,
 * e.g. a queue depth. Series per family are capped (KUBE_METRICS_MAX_SERIES,
 * per family with kube_metric_set_limit) so a label fed from the network cannot
 * grow memory without bound. Series are found through a hash table on their
 * label values (an update costs the same at 20 or 20,000 series) and can be
 * deleted: one at a time, by pattern, or mark-and-sweep (drop what a pass did not
 * update), so per-pod series of deleted pods do not accumulate.
 *
 * Owns: families, series, copies of every name and label. Does not touch: HTTP
 * (httpserver.c serves the text). Thread safety: one mutex per registry; every
 * function may be called from any thread. Collectors run under a separate lock:
 * they may update metrics but must not add or remove collectors. */
#ifndef MBCAS_KUBE_METRICS_H
#define MBCAS_KUBE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define KUBE_METRICS_MAX_LABELS 8
#define KUBE_METRICS_MAX_SERIES 2000
#define KUBE_METRICS_MAX_BUCKETS 32

typedef struct kube_metrics kube_metrics; /* a registry */
typedef struct kube_metric kube_metric;   /* a family inside it */

typedef enum { KUBE_COUNTER = 0, KUBE_GAUGE, KUBE_HISTOGRAM } kube_metric_type;

/* Run before each render; may set gauges of the same registry. */
typedef void (*kube_metrics_collector)(void *ud);

mbcas_rc kube_metrics_new(kube_metrics **out);
void kube_metrics_free(kube_metrics *r);

/* The process-wide registry served on /metrics (created on first call, never
 * NULL unless out of memory). kube_metrics_default_free() releases it (tests). */
kube_metrics *kube_metrics_default(void);
void kube_metrics_default_free(void);

/* Register a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*; labels: comma-separated
 * label names or NULL/"" for none. For histograms, buckets are the strictly
 * increasing upper bounds without +Inf (NULL: KUBE_METRICS_DEFAULT_BUCKETS).
 * *out is borrowed: it lives as long as the registry. */
mbcas_rc kube_metrics_counter(kube_metrics *r, kube_metric **out, const char *name,
                              const char *help, const char *labels);
mbcas_rc kube_metrics_gauge(kube_metrics *r, kube_metric **out, const char *name,
                            const char *help, const char *labels);
mbcas_rc kube_metrics_histogram(kube_metrics *r, kube_metric **out, const char *name,
                                const char *help, const char *labels,
                                const double *buckets, size_t nbuckets);
/* Look up a registered family by name (NULL when absent). */
kube_metric *kube_metrics_find(kube_metrics *r, const char *name);

/* Prometheus client defaults: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds). */
extern const double KUBE_METRICS_DEFAULT_BUCKETS[11];

/* Label values, one per label name in registration order (NULL for a family
 * without labels). A NULL value is rendered as "". Return MBCAS_EINVAL for a
 * wrong type (inc on a histogram, negative counter increment), MBCAS_ETOOMANY
 * when the family already has KUBE_METRICS_MAX_SERIES series, MBCAS_ENOMEM. */
mbcas_rc kube_metric_add(kube_metric *m, const char *const *lv, double v); /* counter, gauge */
mbcas_rc kube_metric_inc(kube_metric *m, const char *const *lv);          /* add 1 */
mbcas_rc kube_metric_set(kube_metric *m, const char *const *lv, double v); /* gauge */
mbcas_rc kube_metric_observe(kube_metric *m, const char *const *lv, double v); /* histogram */

/* Current value (counter/gauge) or observation count (histogram) of a series;
 * 0 when the series does not exist. For tests and readiness logic. */
double kube_metric_value(kube_metric *m, const char *const *lv);
/* Sum of a histogram series (0 when absent). */
double kube_metric_sum(kube_metric *m, const char *const *lv);

/* ---- deleting series ----
 * Delete the series with exactly these label values (as in kube_metric_set).
 * MBCAS_ENOTFOUND when absent, MBCAS_EINVAL when m is NULL. */
mbcas_rc kube_metric_delete(kube_metric *m, const char *const *lv);
/* Delete every series matching pattern: one entry per label, a NULL entry matches
 * any value (pattern NULL: all series). Returns how many went. O(series). E.g.
 * every series of pod ns/p in a "market,node,namespace,pod,servicebudget" family:
 *   kube_metric_delete_match(m, (const char *const[]){NULL, NULL, ns, p, NULL}); */
size_t kube_metric_delete_match(kube_metric *m, const char *const *pattern);
/* Delete every series of the family (the family stays registered). */
void kube_metric_reset(kube_metric *m);
/* Mark and sweep: kube_metric_mark returns a token; every update after it
 * (add/inc/set/observe, also of an existing series) marks the series as seen;
 * kube_metric_sweep then deletes the series matching pattern (as in
 * delete_match) that were NOT updated since the token was taken, and returns
 * how many. Marks from several callers may interleave: a sweep only drops series
 * untouched since its own token. Typical, once per pass over the live objects:
 *   uint32_t t = kube_metric_mark(m);
 *   for each live pod: kube_metric_set(m, lv, v);
 *   kube_metric_sweep(m, NULL, t);        (or a pattern: one market's series) */
uint32_t kube_metric_mark(kube_metric *m);
size_t kube_metric_sweep(kube_metric *m, const char *const *pattern, uint32_t mark);

/* Cap on the series of this family (default KUBE_METRICS_MAX_SERIES); lowering
 * it below the current count deletes nothing, it only stops new series.
 * MBCAS_EINVAL for NULL or 0. */
mbcas_rc kube_metric_set_limit(kube_metric *m, size_t max_series);
/* Number of series in the family. */
size_t kube_metric_len(kube_metric *m);

/* Call fn(ud) before every render. Removed with kube_metrics_remove_collector
 * (match on fn and ud). */
mbcas_rc kube_metrics_add_collector(kube_metrics *r, kube_metrics_collector fn, void *ud);
void kube_metrics_remove_collector(kube_metrics *r, kube_metrics_collector fn, void *ud);

/* Render the whole registry. *out is malloc'd and NUL-terminated (free()).
 * len may be NULL. */
mbcas_rc kube_metrics_render(kube_metrics *r, char **out, size_t *len);

/* A kube_request_hook (rest.h) that counts API requests into the registry
 * passed as ud: rest_client_requests_total{verb,code} and
 * rest_client_request_duration_seconds{verb} (client-go's names; code "<error>"
 * when no HTTP answer came). Install with
 *   kube_client_set_hook(client, kube_metrics_rest_hook, kube_metrics_default());
 * Thread-safe; registers the families on first use. */
void kube_metrics_rest_hook(void *ud, const char *verb, int code, double seconds);

/* Format a number like the Prometheus Go client: shortest text that reads back
 * exactly, "+Inf", "-Inf", "NaN". Returns buf. */
const char *kube_metrics_format_value(double v, char *buf, size_t len);

#endif
