/* recapi_kube.c - rec_api over kube_request; see recapi_kube.h. */
#include "recapi_kube.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "signals.h"

static mbcas_rc call(kube_client *c, const char *method, const char *path, const char *ctype,
                     const char *body, kube_response **resp) {
  kube_status st;
  memset(&st, 0, sizeof st);
  mbcas_rc rc = kube_request(c, resp, method, path, ctype, body, body ? strlen(body) : 0, &st, NULL);
  if (rc != MBCAS_OK && rc != MBCAS_ENOTFOUND)
    LOG_DEBUG("api call failed", "method=%s path=%s code=%d err=%s", method, path, st.code,
              mbcas_strerror(rc));
  return rc;
}

static mbcas_rc json_out(mbcas_rc rc, kube_response *r, cJSON **out) {
  if (out) *out = NULL;
  if (rc == MBCAS_OK && out && r && r->body && r->len) {
    *out = cJSON_ParseWithLength(r->body, r->len);
    if (!*out) rc = MBCAS_EINVAL;
  }
  kube_response_free(r);
  return rc;
}

static mbcas_rc k_get(void *ctx, const char *path, cJSON **out) {
  kube_response *r = NULL;
  mbcas_rc rc = call(ctx, "GET", path, NULL, NULL, &r);
  return json_out(rc, r, out);
}

static mbcas_rc k_get_raw(void *ctx, const char *path, char **out, size_t *len) {
  kube_response *r = NULL;
  *out = NULL;
  mbcas_rc rc = call(ctx, "GET", path, NULL, NULL, &r);
  if (rc == MBCAS_OK && r && r->body) {
    if (r->len > SIG_BODY_MAX) rc = MBCAS_EINVAL;
    else {
      *out = r->body; /* take the body */
      if (len) *len = r->len;
      r->body = NULL;
    }
  }
  if (rc == MBCAS_OK && !*out) {
    *out = strdup("");
    if (len) *len = 0;
  }
  kube_response_free(r);
  return rc;
}

static mbcas_rc k_patch(void *ctx, const char *path, const char *ct, const char *body, cJSON **out) {
  kube_response *r = NULL;
  mbcas_rc rc = call(ctx, "PATCH", path, ct, body, &r);
  return json_out(rc, r, out);
}

static mbcas_rc k_put(void *ctx, const char *path, const char *body, cJSON **out) {
  kube_response *r = NULL;
  mbcas_rc rc = call(ctx, "PUT", path, "application/json", body, &r);
  return json_out(rc, r, out);
}

static mbcas_rc k_post(void *ctx, const char *path, const char *body, cJSON **out) {
  kube_response *r = NULL;
  mbcas_rc rc = call(ctx, "POST", path, "application/json", body, &r);
  return json_out(rc, r, out);
}

/* The list streams in and is split into items as it comes (signals.c: sig_items); the
 * whole body is never held. A stream is not retried: on a failure before any item was
 * delivered, one ordinary (retried) GET is made instead. */
static mbcas_rc k_get_items(void *ctx, const char *path, rec_item_fn fn, void *ud) {
  kube_client *c = ctx;
  kube_status st;
  memset(&st, 0, sizeof st);
  kube_stream *s = NULL;
  sig_items *sp = sig_items_new(fn, ud);
  if (!sp) return MBCAS_ENOMEM;
  mbcas_rc rc = kube_stream_open(c, &s, path, &st, NULL);
  if (rc == MBCAS_OK) {
    char buf[16384];
    int idle_ms = 0;
    for (;;) {
      size_t n = 0;
      rc = kube_stream_read(s, buf, sizeof buf, &n, 1000);
      if (rc == MBCAS_ETIMEOUT) {
        idle_ms += 1000;
        if (idle_ms >= 30000) break; /* as a request's timeout */
        continue;
      }
      if (rc != MBCAS_OK) break;
      if (n == 0) {
        rc = sig_items_end(sp);
        break;
      }
      idle_ms = 0;
      if ((rc = sig_items_feed(sp, buf, n)) != MBCAS_OK) break;
    }
    kube_stream_close(s);
  }
  size_t delivered = sig_items_count(sp);
  sig_items_free(sp);
  if (rc == MBCAS_OK || rc == MBCAS_ENOTFOUND || rc == MBCAS_EFORBIDDEN || delivered > 0)
    return rc;
  LOG_DEBUG("list stream failed, reading it whole", "path=%s code=%d err=%s", path, st.code,
            mbcas_strerror(rc));
  cJSON *list = NULL;
  rc = k_get(ctx, path, &list);
  if (rc == MBCAS_OK) rec_list_each(list, fn, ud);
  cJSON_Delete(list);
  return rc;
}

void rec_api_kube(rec_api *api, kube_client *client) {
  api->ctx = client;
  api->get = k_get;
  api->get_raw = k_get_raw;
  api->patch = k_patch;
  api->put = k_put;
  api->post = k_post;
  api->get_items = k_get_items;
}
