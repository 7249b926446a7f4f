/* jsonutil.h - INTERNAL to api/v1alpha1: typed field readers over cJSON that check the
 * same things as the CRDs' OpenAPI schema (type, required, enum, bounds, length) and
 * report errors with the field path and Kubernetes-like messages.
 *
 * Every reader takes the parent object, the key and the parent's path ("spec.cpu");
 * it builds "spec.cpu.min" for errors. A field that is absent or JSON null counts as
 * absent: *present = 0 and the destination is untouched (so defaults set beforehand
 * survive). Not for use outside this folder; not thread-unsafe (no state).
 * Owns: nothing. */
#ifndef MBCAS_API_JSONUTIL_H
#define MBCAS_API_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "result.h"

#define JU_PATH_MAX 160

/* "base.key" and "base[i]" into buf (terminated, truncated). */
const char *ju_path(char *buf, size_t len, const char *base, const char *key);
const char *ju_path_idx(char *buf, size_t len, const char *base, int idx);

/* Child object (NULL when absent). required -> "Required value" when absent. */
mbcas_rc ju_object(const cJSON **out, const cJSON *parent, const char *key, const char *path, int required,
                   mbcas_err *err);
/* Child array with item bounds (max_items < 0: unbounded). */
mbcas_rc ju_array(const cJSON **out, const cJSON *parent, const char *key, const char *path, int required,
                  int min_items, int max_items, mbcas_err *err);
/* String copied into dst[cap]; max_len in bytes (must be < cap). */
mbcas_rc ju_string(char *dst, size_t cap, int *present, const cJSON *parent, const char *key,
                   const char *path, int required, size_t min_len, size_t max_len, mbcas_err *err);
/* String duplicated with strdup into *dst (caller frees). */
mbcas_rc ju_string_dup(char **dst, int *present, const cJSON *parent, const char *key, const char *path,
                       int required, size_t max_len, mbcas_err *err);
mbcas_rc ju_int(int64_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                int required, int64_t min, int64_t max, mbcas_err *err);
/* Number; excl_min: value must be > min instead of >= min. */
mbcas_rc ju_number(double *dst, int *present, const cJSON *parent, const char *key, const char *path,
                   int required, double min, int excl_min, double max, mbcas_err *err);
mbcas_rc ju_bool(int *dst, int *present, const cJSON *parent, const char *key, const char *path, int required,
                 mbcas_err *err);
/* One of values[] (NULL-terminated); *dst = its index. */
mbcas_rc ju_enum(int *dst, int *present, const cJSON *parent, const char *key, const char *path,
                 const char *const *values, int required, mbcas_err *err);
/* int-or-string quantity, non-negative (the CRD pattern has no '-'), in millis. */
mbcas_rc ju_quantity_milli(int64_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                           int required, mbcas_err *err);
/* duration string in ms. */
mbcas_rc ju_duration(int64_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                     int required, mbcas_err *err);
/* RFC 3339 time. */
mbcas_rc ju_time(time_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                 int required, mbcas_err *err);

/* Patterns of the CRDs, checked by hand. */
int ju_is_dns_label(const char *s);     /* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ , <= 63 */
int ju_is_dns_subdomain(const char *s); /* dot-separated labels, <= 253 */

/* Add to obj only when the value is meaningful (non-empty string / time != 0). */
void ju_add_str(cJSON *obj, const char *key, const char *s);
void ju_add_time(cJSON *obj, const char *key, time_t t);

#endif
