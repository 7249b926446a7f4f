/* conditions.c - Kubernetes-style conditions; see conditions.h. */
#include "conditions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "meta.h"

static const char *const status_names[] = {"Unknown", "True", "False", NULL};

const char *cond_status_str(cond_status s) {
  return (s >= COND_UNKNOWN && s <= COND_FALSE) ? status_names[s] : "Unknown";
}

static int valid_reason(const char *r) {
  size_t n = strlen(r);
  if (n == 0 || n >= COND_REASON_MAX) return 0;
  if (!((r[0] >= 'A' && r[0] <= 'Z') || (r[0] >= 'a' && r[0] <= 'z'))) return 0;
  for (size_t i = 1; i < n; i++) {
    char c = r[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok && !((c == ',' || c == ':') && i + 1 < n)) return 0;
  }
  return 1;
}

static int valid_type(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n >= COND_TYPE_MAX) return 0;
  const char *name = strrchr(t, '/');
  name = name ? name + 1 : t;
  size_t k = strlen(name);
  if (k == 0) return 0;
  for (size_t i = 0; i < k; i++) {
    char c = name[i];
    int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !((c == '-' || c == '_' || c == '.') && i > 0 && i + 1 < k)) return 0;
  }
  return 1;
}

static cond *find_mut(cond_list *l, const char *type) {
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->items[i].type, type) == 0) return &l->items[i];
  return NULL;
}

mbcas_rc cond_set(cond_list *l, const char *type, cond_status status, const char *reason, const char *message,
                  int64_t observed_generation, time_t now, bool *changed) {
  if (changed) *changed = false;
  if (!l || !type || !valid_type(type)) return MBCAS_EINVAL;
  if (!reason || !valid_reason(reason)) return MBCAS_EINVAL;
  if (status != COND_TRUE && status != COND_FALSE && status != COND_UNKNOWN) return MBCAS_EINVAL;
  if (!message) message = "";
  size_t mlen = strlen(message);
  if (mlen > COND_MESSAGE_MAX) mlen = COND_MESSAGE_MAX;
  cond *c = find_mut(l, type);
  if (!c) {
    if (l->n >= COND_MAX) return MBCAS_EINVAL;
    char *m = strndup(message, mlen);
    if (!m) return MBCAS_ENOMEM;
    c = &l->items[l->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->type, sizeof c->type, "%s", type);
    c->status = status;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    c->message = m;
    c->observed_generation = observed_generation;
    c->last_transition_time = now;
    if (changed) *changed = true;
    return MBCAS_OK;
  }
  bool ch = false;
  if (strlen(c->message) != mlen || strncmp(c->message, message, mlen) != 0) {
    char *m = strndup(message, mlen);
    if (!m) return MBCAS_ENOMEM;
    free(c->message);
    c->message = m;
    ch = true;
  }
  if (c->status != status) {
    c->status = status;
    c->last_transition_time = now;
    ch = true;
  }
  if (strcmp(c->reason, reason) != 0) {
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    ch = true;
  }
  if (c->observed_generation != observed_generation) {
    c->observed_generation = observed_generation;
    ch = true;
  }
  if (changed) *changed = ch;
  return MBCAS_OK;
}

const cond *cond_find(const cond_list *l, const char *type) {
  if (!l || !type) return NULL;
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->items[i].type, type) == 0) return &l->items[i];
  return NULL;
}

bool cond_is_true(const cond_list *l, const char *type) {
  const cond *c = cond_find(l, type);
  return c && c->status == COND_TRUE;
}

bool cond_remove(cond_list *l, const char *type) {
  if (!l || !type) return false;
  for (int i = 0; i < l->n; i++) {
    if (strcmp(l->items[i].type, type) == 0) {
      free(l->items[i].message);
      memmove(&l->items[i], &l->items[i + 1], (size_t)(l->n - i - 1) * sizeof l->items[0]);
      l->n--;
      return true;
    }
  }
  return false;
}

void cond_list_clear(cond_list *l) {
  if (!l) return;
  for (int i = 0; i < l->n; i++)
    free(l->items[i].message);
  l->n = 0;
}

mbcas_rc cond_list_copy(cond_list *dst, const cond_list *src) {
  cond_list_clear(dst);
  for (int i = 0; i < src->n; i++) {
    dst->items[i] = src->items[i];
    dst->items[i].message = strdup(src->items[i].message ? src->items[i].message : "");
    if (!dst->items[i].message) {
      dst->n = i;
      cond_list_clear(dst);
      return MBCAS_ENOMEM;
    }
    dst->n = i + 1;
  }
  return MBCAS_OK;
}

cJSON *cond_list_to_json(const cond_list *l) {
  cJSON *arr = cJSON_CreateArray();
  if (!arr) return NULL;
  for (int i = 0; l && i < l->n; i++) {
    const cond *c = &l->items[i];
    cJSON *o = cJSON_CreateObject();
    if (!o) goto fail;
    cJSON_AddItemToArray(arr, o);
    char t[API_TIME_STR_MAX];
    if (!cJSON_AddStringToObject(o, "type", c->type) ||
        !cJSON_AddStringToObject(o, "status", cond_status_str(c->status)) ||
        !cJSON_AddNumberToObject(o, "observedGeneration", (double)c->observed_generation) ||
        !cJSON_AddStringToObject(o, "lastTransitionTime",
                                 api_time_format(c->last_transition_time, t, sizeof t)) ||
        !cJSON_AddStringToObject(o, "reason", c->reason) ||
        !cJSON_AddStringToObject(o, "message", c->message ? c->message : ""))
      goto fail;
  }
  return arr;
fail:
  cJSON_Delete(arr);
  return NULL;
}

mbcas_rc cond_list_from_json(cond_list *out, const cJSON *arr, const char *path, mbcas_err *err) {
  memset(out, 0, sizeof *out);
  if (!arr || cJSON_IsNull(arr)) return MBCAS_OK;
  if (!cJSON_IsArray(arr))
    return mbcas_err_set(err, MBCAS_EINVAL, path, "Invalid value: %s in body must be of type array", path);
  int n = cJSON_GetArraySize(arr);
  if (n > COND_MAX)
    return mbcas_err_set(err, MBCAS_EINVAL, path, "Too many: %d: must have at most %d items", n, COND_MAX);
  mbcas_rc rc = MBCAS_OK;
  for (int i = 0; i < n; i++) {
    const cJSON *it = cJSON_GetArrayItem(arr, i);
    char p[JU_PATH_MAX], fp[JU_PATH_MAX];
    ju_path_idx(p, sizeof p, path, i);
    if (!cJSON_IsObject(it)) {
      rc = mbcas_err_set(err, MBCAS_EINVAL, p, "Invalid value: %s in body must be of type object", p);
      goto fail;
    }
    cond *c = &out->items[i];
    memset(c, 0, sizeof *c);
    int st = 0;
    static const char *const sv[] = {"Unknown", "True", "False", NULL};
    if ((rc = ju_string(c->type, sizeof c->type, NULL, it, "type", p, 1, 1, 316, err))) goto fail;
    if (!valid_type(c->type)) {
      rc = mbcas_err_set(err, MBCAS_EINVAL, ju_path(fp, sizeof fp, p, "type"),
                         "Invalid value: \"%s\": bad condition type", c->type);
      goto fail;
    }
    if ((rc = ju_enum(&st, NULL, it, "status", p, sv, 1, err))) goto fail;
    c->status = (cond_status)st;
    if ((rc = ju_string(c->reason, sizeof c->reason, NULL, it, "reason", p, 1, 1, 1024, err))) goto fail;
    if (!valid_reason(c->reason)) {
      rc = mbcas_err_set(err, MBCAS_EINVAL, ju_path(fp, sizeof fp, p, "reason"),
                         "Invalid value: \"%s\": reason must be CamelCase", c->reason);
      goto fail;
    }
    if ((rc = ju_int(&c->observed_generation, NULL, it, "observedGeneration", p, 0, 0, INT64_MAX, err)))
      goto fail;
    if ((rc = ju_time(&c->last_transition_time, NULL, it, "lastTransitionTime", p, 1, err))) goto fail;
    int has = 0;
    if ((rc = ju_string_dup(&c->message, &has, it, "message", p, 1, COND_MESSAGE_MAX, err))) goto fail;
    out->n = i + 1;
    for (int j = 0; j < i; j++) {
      if (strcmp(out->items[j].type, c->type) == 0) {
        rc = mbcas_err_set(err, MBCAS_EINVAL, p, "Duplicate value: map[string]interface {}{\"type\":\"%s\"}",
                           c->type);
        goto fail;
      }
    }
  }
  return MBCAS_OK;
fail:
  /* entries not yet counted in n may hold a message already: items were zeroed first */
  for (int i = out->n; i < COND_MAX; i++) {
    free(out->items[i].message);
    out->items[i].message = NULL;
  }
  cond_list_clear(out);
  return rc;
}
