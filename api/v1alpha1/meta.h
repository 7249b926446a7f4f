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

/* First and last second of the UTC years 0000..9999 (proleptic Gregorian). */
#define API_TIME_MIN (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define API_TIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (fractions and offsets accepted on parse).
 * The year always has 4 digits ("0696-..."), as Go's time.RFC3339 layout writes it.
 * Parsing refuses a time whose UTC year is outside 0000..9999, even when the text
 * itself is valid ("9999-12-31T23:59:59-01:00"): metav1.Time would write it with a
 * 5-digit year, which no RFC 3339 parser (Go's included) reads back. Formatting a t
 * outside that range writes 5+ year digits, like Go; a t gmtime_r() cannot
 * represent gives "". */
const char *api_time_format(time_t t, char *buf, size_t len);
mbcas_rc api_time_parse(time_t *out, const char *s, const char *field, mbcas_err *err);

#endif
