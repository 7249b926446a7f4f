/* jsonutil.c - typed field readers with schema checks; see jsonutil.h. */
#include "jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "meta.h"
#include "quantity.h"

const char *ju_path(char *buf, size_t len, const char *base, const char *key) {
  if (base && *base)
    snprintf(buf, len, "%s.%s", base, key);
  else
    snprintf(buf, len, "%s", key);
  return buf;
}

const char *ju_path_idx(char *buf, size_t len, const char *base, int idx) {
  snprintf(buf, len, "%s[%d]", base, idx);
  return buf;
}

static const char *type_name(const cJSON *v) {
  if (cJSON_IsString(v)) return "string";
  if (cJSON_IsNumber(v)) return "number";
  if (cJSON_IsBool(v)) return "boolean";
  if (cJSON_IsArray(v)) return "array";
  if (cJSON_IsObject(v)) return "object";
  return "null";
}

/* Look up key; NULL for absent or null. */
static const cJSON *child(const cJSON *parent, const char *key) {
  if (!parent) return NULL;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);
  if (!v || cJSON_IsNull(v)) return NULL;
  return v;
}

static mbcas_rc missing(mbcas_err *err, const char *p) {
  return mbcas_err_set(err, MBCAS_EINVAL, p, "Required value");
}

static mbcas_rc wrong_type(mbcas_err *err, const char *p, const cJSON *v, const char *want) {
  return mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: \"%s\": %s in body must be of type %s",
                       type_name(v), p, want);
}

mbcas_rc ju_object(const cJSON **out, const cJSON *parent, const char *key, const char *path, int required,
                   mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  *out = NULL;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsObject(v)) return wrong_type(err, p, v, "object");
  *out = v;
  return MBCAS_OK;
}

mbcas_rc ju_array(const cJSON **out, const cJSON *parent, const char *key, const char *path, int required,
                  int min_items, int max_items, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  *out = NULL;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsArray(v)) return wrong_type(err, p, v, "array");
  int n = cJSON_GetArraySize(v);
  if (n < min_items)
    return mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: %d: %s in body should have at least %d items",
                         n, p, min_items);
  if (max_items >= 0 && n > max_items)
    return mbcas_err_set(err, MBCAS_EINVAL, p, "Too many: %d: must have at most %d items", n, max_items);
  *out = v;
  return MBCAS_OK;
}

mbcas_rc ju_string(char *dst, size_t cap, int *present, const cJSON *parent, const char *key,
                   const char *path, int required, size_t min_len, size_t max_len, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsString(v)) return wrong_type(err, p, v, "string");
  size_t n = strlen(v->valuestring);
  if (max_len >= cap) max_len = cap - 1;
  if (n > max_len)
    return mbcas_err_set(err, MBCAS_EINVAL, p, "Too long: may not be more than %zu bytes", max_len);
  if (n < min_len)
    return mbcas_err_set(err, MBCAS_EINVAL, p,
                         "Invalid value: \"%s\": %s in body should be at least %zu chars long",
                         v->valuestring, p, min_len);
  memcpy(dst, v->valuestring, n + 1);
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_string_dup(char **dst, int *present, const cJSON *parent, const char *key, const char *path,
                       int required, size_t max_len, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsString(v)) return wrong_type(err, p, v, "string");
  if (strlen(v->valuestring) > max_len)
    return mbcas_err_set(err, MBCAS_EINVAL, p, "Too long: may not be more than %zu bytes", max_len);
  char *s = strdup(v->valuestring);
  if (!s) return mbcas_err_set(err, MBCAS_ENOMEM, p, "out of memory");
  free(*dst);
  *dst = s;
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_int(int64_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                int required, int64_t min, int64_t max, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9.0e15)
    return wrong_type(err, p, v, "integer");
  int64_t x = (int64_t)v->valuedouble;
  if (x < min)
    return mbcas_err_set(err, MBCAS_EINVAL, p,
                         "Invalid value: %lld: %s in body should be greater than or equal to %lld",
                         (long long)x, p, (long long)min);
  if (x > max)
    return mbcas_err_set(err, MBCAS_EINVAL, p,
                         "Invalid value: %lld: %s in body should be less than or equal to %lld", (long long)x,
                         p, (long long)max);
  *dst = x;
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_number(double *dst, int *present, const cJSON *parent, const char *key, const char *path,
                   int required, double min, int excl_min, double max, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsNumber(v)) return wrong_type(err, p, v, "number");
  double x = v->valuedouble;
  if (excl_min ? !(x > min) : !(x >= min))
    return mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: %g: %s in body should be greater than %s%g", x,
                         p, excl_min ? "" : "or equal to ", min);
  if (!(x <= max))
    return mbcas_err_set(err, MBCAS_EINVAL, p,
                         "Invalid value: %g: %s in body should be less than or equal to %g", x, p, max);
  *dst = x;
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_bool(int *dst, int *present, const cJSON *parent, const char *key, const char *path, int required,
                 mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsBool(v)) return wrong_type(err, p, v, "boolean");
  *dst = cJSON_IsTrue(v) ? 1 : 0;
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_enum(int *dst, int *present, const cJSON *parent, const char *key, const char *path,
                 const char *const *values, int required, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  if (!cJSON_IsString(v)) return wrong_type(err, p, v, "string");
  for (int i = 0; values[i]; i++) {
    if (strcmp(values[i], v->valuestring) == 0) {
      *dst = i;
      if (present) *present = 1;
      return MBCAS_OK;
    }
  }
  char list[256] = "";
  size_t o = 0;
  for (int i = 0; values[i] && o < sizeof list; i++)
    o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"", i ? ", " : "", values[i]);
  return mbcas_err_set(err, MBCAS_EINVAL, p, "Unsupported value: \"%s\": supported values: %s",
                       v->valuestring, list);
}

mbcas_rc ju_quantity_milli(int64_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                           int required, mbcas_err *err) {
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  const cJSON *v = child(parent, key);
  if (present) *present = 0;
  if (!v) return required ? missing(err, p) : MBCAS_OK;
  int64_t m;
  if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (d != floor(d) || fabs(d) > 9.0e12) return wrong_type(err, p, v, "integer,string");
    if (d < 0)
      return mbcas_err_set(err, MBCAS_EINVAL, p,
                           "Invalid value: %lld: %s in body should be greater than or equal to 0",
                           (long long)d, p);
    m = (int64_t)d * 1000;
  } else if (cJSON_IsString(v)) {
    const char *s = v->valuestring;
    if (strlen(s) > 64) return mbcas_err_set(err, MBCAS_EINVAL, p, "Too long: may not be more than 64 bytes");
    if (s[0] == '-')
      return mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: \"%s\": must not be negative", s);
    quantity q;
    mbcas_rc rc = quantity_parse(&q, s, p, err);
    if (rc != MBCAS_OK) return rc;
    if (q.format == QUANTITY_DECIMAL_EXPONENT) {
      /* the CRD pattern accepts integer exponents only; quantity_parse does too */
    }
    if (quantity_milli(&m, &q) != MBCAS_OK)
      return mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: \"%s\": out of range", s);
  } else {
    return wrong_type(err, p, v, "integer,string");
  }
  *dst = m;
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_duration(int64_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                     int required, mbcas_err *err) {
  char s[40];
  int has = 0;
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  if (present) *present = 0;
  mbcas_rc rc = ju_string(s, sizeof s, &has, parent, key, path, required, 1, 32, err);
  if (rc != MBCAS_OK || !has) return rc;
  int64_t ms;
  rc = duration_parse(&ms, s, p, err);
  if (rc != MBCAS_OK) return rc;
  *dst = ms;
  if (present) *present = 1;
  return MBCAS_OK;
}

mbcas_rc ju_time(time_t *dst, int *present, const cJSON *parent, const char *key, const char *path,
                 int required, mbcas_err *err) {
  char s[64];
  int has = 0;
  char p[JU_PATH_MAX];
  ju_path(p, sizeof p, path, key);
  if (present) *present = 0;
  mbcas_rc rc = ju_string(s, sizeof s, &has, parent, key, path, required, 1, 63, err);
  if (rc != MBCAS_OK || !has) return rc;
  time_t t;
  rc = api_time_parse(&t, s, p, err);
  if (rc != MBCAS_OK) return rc;
  *dst = t;
  if (present) *present = 1;
  return MBCAS_OK;
}

int ju_is_dns_label(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 63) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i > 0 && i + 1 < n)) return 0;
  }
  return 1;
}

int ju_is_dns_subdomain(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 253) return 0;
  char buf[256];
  memcpy(buf, s, n + 1);
  char *save = NULL;
  if (buf[0] == '.' || buf[n - 1] == '.' || strstr(buf, "..")) return 0;
  for (char *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save))
    if (!ju_is_dns_label(t)) return 0;
  return 1;
}

void ju_add_str(cJSON *obj, const char *key, const char *s) {
  if (s && *s) cJSON_AddStringToObject(obj, key, s);
}

void ju_add_time(cJSON *obj, const char *key, time_t t) {
  if (t == 0) return;
  char b[API_TIME_STR_MAX];
  cJSON_AddStringToObject(obj, key, api_time_format(t, b, sizeof b));
}
