/* rest.h - the REST client: one object per API server, any resource, any verb.
 *
 * API changes since first publication (all additive, existing callers unaffected):
 * kube_client_opts gained retry_initial_s/retry_max_s at the end; the transport
 * test seam (kube_http_req/kube_http_resp/kube_client_set_transport) was added;
 * the write guard (kube_write_guard_fn/kube_client_set_write_guard) was added.
 *
 * Built on libcurl (OpenSSL): a small pool of easy handles keeps connections
 * alive between requests, HTTP/2 is used when the server offers it over TLS,
 * TLS verification is on unless the kubeconfig says insecure-skip-tls-verify.
 * Each request waits on a client-side token bucket (QPS + burst, like client-go)
 * and is retried with exponential backoff and jitter on 429 (honouring
 * Retry-After), 5xx and connection errors; other 4xx are returned at once (409
 * as MBCAS_ECONFLICT). Every verb is retried, so a create retried after a lost
 * answer may come back as 409 AlreadyExists. A failed request's Status body is decoded into a
 * kube_status. A hook, if set, sees every HTTP attempt (verb, code, seconds).
 *
 * Owns: the curl handles, the rate limiter. Borrows: the kube_config (must
 * outlive the client). Results given through cJSON ** belong to the caller
 * (cJSON_Delete). Thread safety: every function may be called from any thread
 * at once; a kube_stream belongs to one thread. Never logs credentials. */
#ifndef MBCAS_KUBE_REST_H
#define MBCAS_KUBE_REST_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "result.h"

typedef struct kube_client kube_client;

/* Decoded metav1.Status of a failed request (or synthesized from the HTTP
 * code when the body is not a Status). code 0 means "no HTTP response"
 * (connection error). */
typedef struct kube_status {
  int code;               /* HTTP code, 409 ... */
  char reason[64];        /* "Conflict", "NotFound", "AlreadyExists", "Expired" ... */
  char message[512];
  char details_name[128]; /* details.name */
  char details_kind[64];  /* details.kind */
  char details_group[128];
  int retry_after_seconds; /* details.retryAfterSeconds or Retry-After header */
} kube_status;

/* Called after every HTTP attempt (retries included): verb is "GET", "LIST",
 * "WATCH", "POST", "PUT", "PATCH", "DELETE"; code is the HTTP status or 0 on a
 * connection error; seconds is the attempt's latency. Called from the
 * requesting thread; must be thread-safe and must not call back into the client. */
typedef void (*kube_request_hook)(void *ud, const char *verb, int code, double seconds);

typedef struct kube_client_opts {
  double qps;              /* 0: default 20 (0 < qps); < 0: no rate limit */
  int burst;               /* 0: default 30 */
  long timeout_ms;         /* whole request, not watches; 0: 30000 */
  long connect_timeout_ms; /* 0: 10000 */
  int max_retries;         /* 0: default 5; < 0: no retries */
  const char *user_agent;  /* NULL: "mbcas-operator/0.1.0" */
  int pool_size;           /* idle easy handles kept; 0: 4 */
  kube_request_hook hook;  /* may be NULL */
  void *hook_ud;
  double retry_initial_s;  /* first retry delay without Retry-After; 0: 0.5 */
  double retry_max_s;      /* cap for retry delays (Retry-After too); 0: 30 */
} kube_client_opts;

/* Names one object or collection. group "" or NULL is the core group
 * (/api/v1/...), others give /apis/GROUP/VERSION/... ns NULL or "" means
 * cluster-scoped or all namespaces; name NULL means the collection;
 * subresource ("status", "scale", "resize") needs a name. */
typedef struct kube_ref {
  const char *group;
  const char *version;
  const char *resource;    /* plural, lowercase: "pods", "scalingmarkets" */
  const char *ns;
  const char *name;
  const char *subresource;
} kube_ref;

typedef struct kube_list_opts {
  const char *label_selector;
  const char *field_selector;
  long limit;                    /* 0: no limit */
  const char *continue_token;    /* from metadata.continue */
  const char *resource_version;  /* NULL: most recent */
  const char *resource_version_match; /* "NotOlderThan", "Exact" or NULL */
  int timeout_seconds;           /* server-side, 0: not sent */
  int watch;                     /* add watch=1 (used by the watch module) */
  int allow_bookmarks;           /* add allowWatchBookmarks=true */
} kube_list_opts;

typedef struct kube_write_opts {
  const char *field_manager;     /* fieldManager=; required for apply patches */
  int force;                     /* force=true (apply only) */
  int dry_run;                   /* dryRun=All */
} kube_write_opts;

typedef enum {
  KUBE_PATCH_MERGE = 0,   /* application/merge-patch+json */
  KUBE_PATCH_JSON,        /* application/json-patch+json */
  KUBE_PATCH_STRATEGIC,   /* application/strategic-merge-patch+json */
  KUBE_PATCH_APPLY        /* application/apply-patch+yaml (JSON is valid YAML) */
} kube_patch_type;

/* A raw response. body is NUL-terminated (len excludes the NUL). */
typedef struct kube_response {
  long code;
  char *body;
  size_t len;
  char *content_type;
} kube_response;

/* ---- client ---- */

/* opts may be NULL for defaults. cfg is borrowed and must outlive the client. */
mbcas_rc kube_client_new(kube_client **out, kube_config *cfg,
                         const kube_client_opts *opts, mbcas_err *err);
void kube_client_free(kube_client *c);
/* Replace the hook (e.g. once the metrics module exists). Not for use while
 * requests are in flight on other threads. */
void kube_client_set_hook(kube_client *c, kube_request_hook hook, void *ud);
/* Write guard (leadership gates writes). When set, it is asked before every
 * attempt of a POST, PUT, PATCH or DELETE (typed verbs and kube_request; never
 * GET, LIST or WATCH), both before and after the wait on the token bucket, so a
 * retry after a backoff sleep is asked again. ref names the target: the typed
 * verbs pass theirs, kube_request parses it from the path (fields NULL when the
 * path lacks them, e.g. "/version"); group is "" for the core group. verb is
 * the HTTP method. Return non-zero to allow. A refused request is not sent
 * (the hook is not called) and returns MBCAS_ENOTLEADER, st->code 0. The
 * operator installs kube_leader_rest_guard (leader.h), which lets Lease writes
 * through. Called from the requesting thread: must be thread-safe, must not
 * call back into the client. fn NULL removes it. Like set_hook, not for use
 * while requests are in flight on other threads. */
typedef int (*kube_write_guard_fn)(void *ud, const kube_ref *ref, const char *verb);
void kube_client_set_write_guard(kube_client *c, kube_write_guard_fn fn, void *ud);

/* The config the client was built from (borrowed). */
kube_config *kube_client_config(kube_client *c);

/* ---- test seam ----
 * Replace libcurl for non-stream requests (unit tests: no network). The
 * transport fills resp (body malloc'd, taken over by the client) and returns
 * MBCAS_OK for any HTTP answer, or MBCAS_EUNAVAILABLE / MBCAS_ETIMEOUT /
 * MBCAS_ETLS for a failure below HTTP. NULL restores libcurl. */
typedef struct kube_http_req {
  const char *method;
  const char *path;          /* with query */
  const char *content_type;  /* NULL without body */
  const char *body;
  size_t body_len;
  const char *token;         /* bearer token sent, NULL if none */
} kube_http_req;
typedef struct kube_http_resp {
  long code;
  char *body;                /* malloc'd, may be NULL */
  size_t len;
  int retry_after;           /* Retry-After seconds, -1 when absent */
} kube_http_resp;
typedef mbcas_rc (*kube_transport_fn)(void *ud, const kube_http_req *req, kube_http_resp *resp);
void kube_client_set_transport(kube_client *c, kube_transport_fn fn, void *ud);

/* ---- paths ---- */

/* "/api/v1/namespaces/NS/pods/NAME/resize?labelSelector=..." with every
 * component percent-encoded. opts may be NULL. Returns a malloc'd string the
 * caller frees, or NULL on bad input (missing version/resource, subresource
 * without name) or out of memory. */
char *kube_ref_path(const kube_ref *ref, const kube_list_opts *opts);

/* ---- typed verbs (all retry as described above) ----
 * st (may be NULL) receives the decoded Status when the call fails with an
 * HTTP error. Return codes: MBCAS_OK, MBCAS_ENOTFOUND (404), MBCAS_ECONFLICT
 * (409), MBCAS_EGONE (410), MBCAS_EUNAUTHORIZED (401), MBCAS_EFORBIDDEN (403),
 * MBCAS_EINVAL (400, 422, or a body that is not JSON), MBCAS_ETOOMANY (429 after
 * retries), MBCAS_EUNAVAILABLE (5xx or connection error after retries),
 * MBCAS_ETLS (certificate verification failed: never retried),
 * MBCAS_ETIMEOUT, MBCAS_ENOMEM, MBCAS_ERR (other). */

mbcas_rc kube_get(kube_client *c, cJSON **out, const kube_ref *ref,
                  kube_status *st, mbcas_err *err);

/* One page (opts->limit, opts->continue_token); *out is the List object, its
 * metadata.continue is the next token. */
mbcas_rc kube_list(kube_client *c, cJSON **out, const kube_ref *ref,
                   const kube_list_opts *opts, kube_status *st, mbcas_err *err);

/* Every page (page size opts->limit, default 500): *out is one List whose
 * "items" holds all items and whose metadata.resourceVersion is the last
 * page's. An expired continue token (410) is returned as MBCAS_EGONE. */
mbcas_rc kube_list_all(kube_client *c, cJSON **out, const kube_ref *ref,
                       const kube_list_opts *opts, kube_status *st, mbcas_err *err);

/* out may be NULL when the caller does not want the returned object. */
mbcas_rc kube_create(kube_client *c, cJSON **out, const kube_ref *ref,
                     const cJSON *obj, const kube_write_opts *wo,
                     kube_status *st, mbcas_err *err);
/* PUT: ref must name the object (and may name a subresource: "status"). */
mbcas_rc kube_update(kube_client *c, cJSON **out, const kube_ref *ref,
                     const cJSON *obj, const kube_write_opts *wo,
                     kube_status *st, mbcas_err *err);
/* patch is the patch document as text (a JSON array for KUBE_PATCH_JSON). */
mbcas_rc kube_patch(kube_client *c, cJSON **out, const kube_ref *ref,
                    kube_patch_type type, const char *patch,
                    const kube_write_opts *wo, kube_status *st, mbcas_err *err);
/* delete_options may be NULL (a DeleteOptions body, e.g. preconditions). */
mbcas_rc kube_delete(kube_client *c, cJSON **out, const kube_ref *ref,
                     const cJSON *delete_options, kube_status *st, mbcas_err *err);

/* ---- raw ---- */

/* Any method on a path (with query). body may be NULL. *out receives the
 * response even when the code is an error (then the return code says which,
 * and st is filled); on a connection error *out is NULL. */
mbcas_rc kube_request(kube_client *c, kube_response **out, const char *method,
                      const char *path, const char *content_type,
                      const char *body, size_t body_len, kube_status *st,
                      mbcas_err *err);
void kube_response_free(kube_response *r);

/* Map an HTTP code to mbcas_rc (200..299 -> MBCAS_OK). */
mbcas_rc kube_rc_from_http(long code);
/* Decode a Status body into st (st->code stays http_code when the body has
 * none). Non-Status bodies leave reason "" and message = the first bytes. */
void kube_status_decode(kube_status *st, long http_code, const char *body, size_t len);

/* ---- streams (watch) ----
 * A long GET whose body is read incrementally. Opening waits for the response
 * headers: a non-2xx answer is read whole, decoded into st, and returned as an
 * error (410 -> MBCAS_EGONE). Streams are not retried and take one token from
 * the rate limiter. */
typedef struct kube_stream kube_stream;

mbcas_rc kube_stream_open(kube_client *c, kube_stream **out, const char *path,
                          kube_status *st, mbcas_err *err);
/* Copy up to cap bytes into buf. Returns:
 *   MBCAS_OK with *n > 0   data
 *   MBCAS_OK with *n == 0  the server ended the stream cleanly
 *   MBCAS_ETIMEOUT         nothing arrived within timeout_ms (call again)
 *   MBCAS_EUNAVAILABLE     the connection dropped or the body was cut */
mbcas_rc kube_stream_read(kube_stream *s, char *buf, size_t cap, size_t *n,
                          int timeout_ms);
void kube_stream_close(kube_stream *s);

#endif
