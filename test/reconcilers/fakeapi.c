/* fakeapi.c - see fakeapi.h. */
#include "fakeapi.h"

#include "signals.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One lock around every call through the rec_api: the reconcilers may write status from
 * several threads (rec_options.status_writers). */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

fake_api *fake_new(void) { return calloc(1, sizeof(fake_api)); }

void fake_clear_calls(fake_api *f) {
  for (int i = 0; i < f->n_calls; i++) free(f->calls[i].body);
  f->n_calls = 0;
}

void fake_free(fake_api *f) {
  if (!f) return;
  for (int i = 0; i < f->n_objs; i++) {
    free(f->paths[i]);
    cJSON_Delete(f->objs[i]);
  }
  fake_clear_calls(f);
  free(f->raw_path);
  free(f->raw_body);
  free(f);
}

static int find(fake_api *f, const char *path) {
  for (int i = 0; i < f->n_objs; i++)
    if (strcmp(f->paths[i], path) == 0) return i;
  return -1;
}

void fake_put_obj(fake_api *f, const char *path, cJSON *obj) {
  int i = find(f, path);
  if (i >= 0) {
    cJSON_Delete(f->objs[i]);
    f->objs[i] = obj;
    return;
  }
  if (f->n_objs >= FAKE_MAX_OBJS) { cJSON_Delete(obj); return; }
  f->paths[f->n_objs] = strdup(path);
  f->objs[f->n_objs++] = obj;
}

void fake_put_json(fake_api *f, const char *path, const char *json) {
  cJSON *o = cJSON_Parse(json);
  if (!o) { fprintf(stderr, "fake_put_json: bad JSON for %s\n", path); abort(); }
  fake_put_obj(f, path, o);
}

cJSON *fake_obj(fake_api *f, const char *path) {
  int i = find(f, path);
  return i >= 0 ? f->objs[i] : NULL;
}

void fake_fail(fake_api *f, const char *method, const char *match, int count, mbcas_rc rc) {
  snprintf(f->fail_method, sizeof f->fail_method, "%s", method ? method : "");
  snprintf(f->fail_match, sizeof f->fail_match, "%s", match);
  f->fail_count = count;
  f->fail_rc = rc;
}

int fake_count(const fake_api *f, const char *method, const char *match) {
  int n = 0;
  for (int i = 0; i < f->n_calls; i++)
    if ((!method || strcmp(f->calls[i].method, method) == 0) &&
        (!match || strstr(f->calls[i].path, match)))
      n++;
  return n;
}

int fake_first(const fake_api *f, const char *method, const char *match) {
  for (int i = 0; i < f->n_calls; i++)
    if ((!method || strcmp(f->calls[i].method, method) == 0) &&
        (!match || strstr(f->calls[i].path, match)))
      return i;
  return -1;
}

static mbcas_rc log_call(fake_api *f, const char *method, const char *path, const char *body) {
  if (f->n_calls < FAKE_MAX_CALLS) {
    fake_call *c = &f->calls[f->n_calls++];
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->path, sizeof c->path, "%s", path);
    c->body = body ? strdup(body) : NULL;
  }
  if (f->fail_count > 0 && strstr(path, f->fail_match) &&
      (!f->fail_method[0] || strcmp(f->fail_method, method) == 0)) {
    f->fail_count--;
    return f->fail_rc;
  }
  return MBCAS_OK;
}

static mbcas_rc f_get_locked(void *ctx, const char *path, cJSON **out) {
  fake_api *f = ctx;
  *out = NULL;
  mbcas_rc rc = log_call(f, "GET", path, NULL);
  if (rc != MBCAS_OK) return rc;
  cJSON *o = fake_obj(f, path);
  if (!o) return MBCAS_ENOTFOUND;
  *out = cJSON_Duplicate(o, 1);
  return MBCAS_OK;
}

static mbcas_rc f_get_raw_locked(void *ctx, const char *path, char **out, size_t *len) {
  fake_api *f = ctx;
  *out = NULL;
  mbcas_rc rc = log_call(f, "GET", path, NULL);
  if (rc != MBCAS_OK) return rc;
  if (!f->raw_path || strcmp(f->raw_path, path) != 0) return MBCAS_ENOTFOUND;
  *out = strdup(f->raw_body);
  if (len) *len = strlen(*out);
  return MBCAS_OK;
}

/* Strip a trailing "/sub" from path into buf. */
static const char *parent(const char *path, char *buf, size_t len) {
  snprintf(buf, len, "%s", path);
  char *s = strrchr(buf, '/');
  if (s) *s = 0;
  return buf;
}

static void apply_resize(cJSON *pod, const cJSON *patch) {
  const cJSON *pc;
  cJSON_ArrayForEach(pc, cJSON_GetObjectItem(cJSON_GetObjectItem(patch, "spec"), "containers")) {
    const char *name = cJSON_GetObjectItem(pc, "name")->valuestring;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers")) {
      if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, name) != 0) continue;
      cJSON *res = cJSON_GetObjectItem(c, "resources");
      if (!res) res = cJSON_AddObjectToObject(c, "resources");
      const cJSON *w;
      cJSON_ArrayForEach(w, cJSON_GetObjectItem(pc, "resources")) {
        cJSON *dst = cJSON_GetObjectItem(res, w->string);
        if (!dst) dst = cJSON_AddObjectToObject(res, w->string);
        const cJSON *kv;
        cJSON_ArrayForEach(kv, w) {
          cJSON_DeleteItemFromObject(dst, kv->string);
          cJSON_AddItemToObject(dst, kv->string, cJSON_Duplicate(kv, 1));
        }
      }
    }
  }
}

static mbcas_rc f_patch_locked(void *ctx, const char *path, const char *ct, const char *body, cJSON **out) {
  fake_api *f = ctx;
  (void)ct;
  if (out) *out = NULL;
  mbcas_rc rc = log_call(f, "PATCH", path, body);
  if (rc != MBCAS_OK) return rc;
  cJSON *patch = cJSON_Parse(body);
  if (!patch) return MBCAS_EINVAL;
  char pbuf[600];
  size_t pl = strlen(path);
  cJSON *target = NULL;
  if (pl > 7 && strcmp(path + pl - 7, "/status") == 0) {
    target = fake_obj(f, parent(path, pbuf, sizeof pbuf));
    if (target) {
      cJSON_DeleteItemFromObject(target, "status");
      cJSON_AddItemToObject(target, "status", cJSON_Duplicate(cJSON_GetObjectItem(patch, "status"), 1));
    }
  } else if (pl > 7 && strcmp(path + pl - 7, "/resize") == 0) {
    target = fake_obj(f, parent(path, pbuf, sizeof pbuf));
    if (target) apply_resize(target, patch);
  } else if (pl > 6 && strcmp(path + pl - 6, "/scale") == 0) {
    target = fake_obj(f, path);
    if (target) {
      cJSON *spec = cJSON_GetObjectItem(target, "spec");
      cJSON_DeleteItemFromObject(spec, "replicas");
      cJSON_AddItemToObject(spec, "replicas",
                            cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(patch, "spec"), "replicas"), 1));
    }
  } else {
    target = fake_obj(f, path);
  }
  cJSON_Delete(patch);
  if (!target && !strstr(path, "/events/")) return MBCAS_ENOTFOUND;
  if (out && target) *out = cJSON_Duplicate(target, 1);
  return MBCAS_OK;
}

static mbcas_rc f_put_locked(void *ctx, const char *path, const char *body, cJSON **out) {
  fake_api *f = ctx;
  if (out) *out = NULL;
  return log_call(f, "PUT", path, body);
}

static mbcas_rc f_post_locked(void *ctx, const char *path, const char *body, cJSON **out) {
  fake_api *f = ctx;
  if (out) *out = NULL;
  return log_call(f, "POST", path, body);
}

static mbcas_rc f_get(void *ctx, const char *path, cJSON **out) {
  pthread_mutex_lock(&g_mu);
  mbcas_rc rc = f_get_locked(ctx, path, out);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

static mbcas_rc f_get_raw(void *ctx, const char *path, char **out, size_t *len) {
  pthread_mutex_lock(&g_mu);
  mbcas_rc rc = f_get_raw_locked(ctx, path, out, len);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

static mbcas_rc f_patch(void *ctx, const char *path, const char *ct, const char *body, cJSON **out) {
  pthread_mutex_lock(&g_mu);
  mbcas_rc rc = f_patch_locked(ctx, path, ct, body, out);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

static mbcas_rc f_put(void *ctx, const char *path, const char *body, cJSON **out) {
  pthread_mutex_lock(&g_mu);
  mbcas_rc rc = f_put_locked(ctx, path, body, out);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

static mbcas_rc f_post(void *ctx, const char *path, const char *body, cJSON **out) {
  pthread_mutex_lock(&g_mu);
  mbcas_rc rc = f_post_locked(ctx, path, body, out);
  pthread_mutex_unlock(&g_mu);
  return rc;
}

/* The object's text split by sig_items in small pieces, as a stream would bring it. */
static mbcas_rc f_get_items(void *ctx, const char *path, rec_item_fn fn, void *ud) {
  cJSON *o = NULL;
  mbcas_rc rc = f_get(ctx, path, &o);
  if (rc != MBCAS_OK) return rc;
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  sig_items *s = sig_items_new(fn, ud);
  size_t n = strlen(text);
  for (size_t i = 0; i < n && rc == MBCAS_OK; i += 7)
    rc = sig_items_feed(s, text + i, n - i < 7 ? n - i : 7);
  if (rc == MBCAS_OK) rc = sig_items_end(s);
  sig_items_free(s);
  free(text);
  return rc;
}

void fake_api_fill(fake_api *f, rec_api *api) {
  api->ctx = f;
  api->get = f_get;
  api->get_raw = f_get_raw;
  api->patch = f_patch;
  api->put = f_put;
  api->post = f_post;
  api->get_items = f->no_get_items ? NULL : f_get_items;
}
