/* httpserver.h - the operator's own HTTP endpoints: /healthz, /readyz, /metrics.
 *
 * A libwebsockets context with one vhost, served by its own thread. /healthz
 * and /readyz run registered checks (kube-apiserver style: 200 "ok", or 500
 * with "[+]name ok" / "[-]name failed: reason" lines; "?verbose" lists every
 * check even when all pass). /readyz is meant to pass only when informer caches
 * have synced and the leader state is known: the wiring code registers those
 * checks. /metrics renders a kube_metrics registry (Prometheus text format).
 * The bind address is "HOST:PORT" or ":PORT" (all interfaces); port 0 picks a
 * free port, readable with kube_http_port().
 *
 * Owns: the lws context, its thread, the check list. Borrows: the registry and
 * every check's ud (must outlive the server or be removed first). Thread safety:
 * adding checks and reading the port may happen from any thread; checks are
 * called on the server thread and must not block for long. */
#ifndef MBCAS_KUBE_HTTPSERVER_H
#define MBCAS_KUBE_HTTPSERVER_H

#include "metrics.h"
#include "result.h"

typedef struct kube_http kube_http;

/* Return MBCAS_OK when healthy; otherwise write a short reason into why
 * (why_len bytes, may stay empty) and return an error code. */
typedef mbcas_rc (*kube_http_check)(void *ud, char *why, size_t why_len);

/* Parse "HOST:PORT", ":PORT", "PORT" or "[v6]:PORT" into host (empty for all
 * interfaces) and port. MBCAS_EINVAL when malformed or port > 65535. */
mbcas_rc kube_http_parse_addr(const char *addr, char *host, size_t host_len, int *port);

/* Bind and start serving on a new thread. metrics may be NULL (then /metrics
 * is 404). Returns MBCAS_EIO when the address cannot be bound. */
mbcas_rc kube_http_start(kube_http **out, const char *addr, kube_metrics *metrics,
                         mbcas_err *err);
/* Stop the thread and free everything. Accepts NULL. */
void kube_http_stop(kube_http *s);

/* The bound port (the chosen one when started with port 0). */
int kube_http_port(kube_http *s);

/* Register a named check (name is copied). */
mbcas_rc kube_http_add_healthz(kube_http *s, const char *name, kube_http_check fn, void *ud);
mbcas_rc kube_http_add_readyz(kube_http *s, const char *name, kube_http_check fn, void *ud);
/* Remove every check with that name from both lists. */
void kube_http_remove_check(kube_http *s, const char *name);

/* Run the checks as a request would: status (200/500) and the body (malloc'd,
 * free()). readyz selects the list; verbose lists passing checks too. */
mbcas_rc kube_http_run_checks(kube_http *s, int readyz, int verbose, int *status,
                              char **body);

/* Requests served so far (tests). */
unsigned long kube_http_requests(kube_http *s);

#endif
