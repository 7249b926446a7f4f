/* recapi.h - the reconcilers' narrow view of the API server: five calls over paths.
 *
 * The reconcilers never build HTTP requests themselves: they call through a rec_api,
 * a small table of function pointers over API paths ("/api/v1/namespaces/shop/pods/p1").
 * operator/main.c fills it from the client runtime (operator/kube/rest.h, see
 * recapi_kube.c); unit tests fill it with a fake that records calls and returns
 * canned objects. Key choice: JSON in, JSON out (cJSON), so the reconcilers stay
 * testable without a network and the client runtime stays replaceable.
 * Owns: nothing; objects returned through cJSON **out belong to the caller.
 * Thread safety: as the implementation; the reconcilers call it from one thread. */
#ifndef MBCAS_REC_RECAPI_H
#define MBCAS_REC_RECAPI_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "result.h"

#define REC_PATCH_MERGE "application/merge-patch+json"
#define REC_PATCH_STRATEGIC "application/strategic-merge-patch+json"
#define REC_PATCH_JSON "application/json-patch+json"

/* Called for each element of a list's "items" (borrowed for the call); non-zero stops. */
typedef int (*rec_item_fn)(void *ud, const cJSON *item);
/* fn over every item of a List already read whole (until fn returns non-zero): what a
 * get_items falls back to (recutil.c). */
void rec_list_each(const cJSON *list, rec_item_fn fn, void *ud);

typedef struct rec_api {
  void *ctx;
  /* GET path; *out = parsed body (caller frees). MBCAS_ENOTFOUND on 404 ... */
  mbcas_rc (*get)(void *ctx, const char *path, cJSON **out);
  /* GET path returning the raw body (pods/proxy); *out malloc'd, NUL-terminated. */
  mbcas_rc (*get_raw)(void *ctx, const char *path, char **out, size_t *len);
  /* PATCH path with content type; *out (may be NULL) = the object returned. */
  mbcas_rc (*patch)(void *ctx, const char *path, const char *content_type, const char *body,
                    cJSON **out);
  /* PUT path (update, e.g. a status with resourceVersion). */
  mbcas_rc (*put)(void *ctx, const char *path, const char *body, cJSON **out);
  /* POST path (create, e.g. an Event). */
  mbcas_rc (*post)(void *ctx, const char *path, const char *body, cJSON **out);
  /* Optional (may be NULL: use get). GET a list and call fn for each of its items,
   * parsed one at a time as the body streams in, so a large list (metrics.k8s.io of
   * every pod) is never held parsed. Items before a failure may have been delivered. */
  mbcas_rc (*get_items)(void *ctx, const char *path, rec_item_fn fn, void *ud);
} rec_api;

#endif
