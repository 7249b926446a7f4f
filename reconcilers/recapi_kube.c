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

void rec_api_kube(rec_api *api, kube_client *client) {
  api->ctx = client;
  api->get = k_get;
  api->get_raw = k_get_raw;
  api->patch = k_patch;
  api->put = k_put;
  api->post = k_post;
}
