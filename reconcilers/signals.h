/* signals.h - reading demand signals: metrics.k8s.io, a pod's HTTP endpoint (through the
 * API server's pods/proxy) and the Prometheus HTTP query API.
 *
 * Fetching and parsing are separate: the parsers are pure functions over the bodies
 * (unit-tested on canned text), the fetchers go through rec_api (metrics.k8s.io, pods/proxy,
 * so RBAC and TLS are the API server's) or libcurl (Prometheus, which is addressed
 * directly: spec.signals[].prometheus.address). Bodies are bounded (SIG_BODY_MAX).
 * Owns: nothing. Must not touch: anything but GETs. Thread safety: the parsers are pure;
 * sig_prom_query uses a private curl handle per call (thread-safe after curl_global_init). */
#ifndef MBCAS_REC_SIGNALS_H
#define MBCAS_REC_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "recapi.h"
#include "result.h"

#define SIG_BODY_MAX (1024 * 1024)

/* CPU usage (millicores) of one container (NULL/"": every container summed) in a
 * metrics.k8s.io PodMetrics object. MBCAS_ENOTFOUND when absent. */
mbcas_rc sig_pod_cpu_usage(int64_t *out, const cJSON *pod_metrics, const char *container);
/* Memory usage in bytes, same rules. */
mbcas_rc sig_pod_mem_usage(int64_t *out, const cJSON *pod_metrics, const char *container);
/* The PodMetrics item named pod in a PodMetricsList (borrowed), or NULL. */
const cJSON *sig_find_pod_metrics(const cJSON *list, const char *pod);
/* GET /apis/metrics.k8s.io/v1beta1/namespaces/NS/pods (or all namespaces when ns is NULL). */
mbcas_rc sig_fetch_pod_metrics(cJSON **out, const rec_api *api, const char *ns);
/* The same, item by item: fn gets each PodMetrics (borrowed for the call) without the
 * whole list ever being parsed at once (rec_api.get_items when the api has it, else one
 * get). A non-zero return from fn stops early (still MBCAS_OK). */
mbcas_rc sig_each_pod_metrics(const rec_api *api, const char *ns, rec_item_fn fn, void *ud);

/* Splits a List's JSON text, fed in pieces of any size, into its "items": each element
 * of the top-level "items" array is parsed alone and handed to fn (borrowed for the
 * call); only the element being read is buffered. Everything else is skipped. */
typedef struct sig_items sig_items;
/* NULL on ENOMEM. */
sig_items *sig_items_new(rec_item_fn fn, void *ud);
/* MBCAS_EINVAL on text that is not JSON (or an element that does not parse), ENOMEM.
 * After fn asked to stop, the rest is ignored. */
mbcas_rc sig_items_feed(sig_items *s, const char *buf, size_t n);
/* The text ended: MBCAS_EINVAL if it was cut short (unless fn asked to stop). */
mbcas_rc sig_items_end(sig_items *s);
/* Items handed to fn so far. */
size_t sig_items_count(const sig_items *s);
void sig_items_free(sig_items *s);

/* Body of a Demand endpoint: one number (whitespace allowed), or a JSON object with a
 * numeric "demand" member; clamped to [0,1]. */
mbcas_rc sig_parse_demand(double *out, const char *body);
/* Value of the first sample of metric (exact name, with or without labels) in
 * Prometheus text exposition. MBCAS_ENOTFOUND when absent, MBCAS_EINVAL when unparsable. */
mbcas_rc sig_parse_prom_text(double *out, const char *body, const char *metric);
/* "/api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH" into buf. */
const char *sig_pod_proxy_path(char *buf, size_t len, const char *ns, const char *pod, int port,
                               const char *path);

/* Replace $namespace and $service in query (caller frees; NULL on ENOMEM). */
char *sig_expand_query(const char *query, const char *ns, const char *service);
/* First number of a Prometheus /api/v1/query JSON answer (vector or scalar).
 * MBCAS_ENOTFOUND for an empty vector, MBCAS_EINVAL for an error answer (err says why). */
mbcas_rc sig_parse_prom_answer(double *out, const char *json, mbcas_err *err);
/* Instant query against address ("http://127.0.0.1:9090"), with a timeout. */
mbcas_rc sig_prom_query(double *out, const char *address, const char *query, long timeout_ms,
                        mbcas_err *err);

#endif
