/* meta.h - the parts of ObjectMeta the operator reads, and RFC 3339 times.
 *
 * Every kind (scalingmarket.h, servicebudget.h, agentpolicy.h) embeds an api_meta.
 * Fields are fixed-size buffers sized by the Kubernetes limits, so an object parses
 * without per-field allocation. Times are whole seconds since the epoch (metav1.Time
 * has second precision) and print as "2026-11-23T19:00:00Z".
 * Owns: nothing. Thread safety: pure functions. */
#ifndef MBCAS_API_META_H
#define MBCAS_API_META_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "result.h"

#define API_NAME_MAX 254 /* DNS subdomain (253) + terminator */
#define API_NS_MAX 64    /* DNS label (63) + terminator */
#define API_UID_MAX 64
#define API_RV_MAX 64
#define API_TIME_STR_MAX 32

typedef struct api_meta {
  char name[API_NAME_MAX];
  char namespace_[API_NS_MAX]; /* "" for cluster-scoped objects */
  char uid[API_UID_MAX];
  char resource_version[API_RV_MAX];
  int64_t generation;
} api_meta;

/* Read metadata: name (required, a DNS subdomain), namespace (required when
 * namespaced != 0; ignored otherwise, as the API server ignores it for cluster-scoped
 * kinds), uid, resourceVersion, generation. */
mbcas_rc meta_parse(api_meta *out, const cJSON *obj, int namespaced, mbcas_err *err);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (fractions and offsets accepted on parse). */
const char *api_time_format(time_t t, char *buf, size_t len);
mbcas_rc api_time_parse(time_t *out, const char *s, const char *field, mbcas_err *err);

#endif
