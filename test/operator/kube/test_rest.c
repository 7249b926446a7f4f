/* test_rest.c - rest.h through the transport seam (no network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leader.h"
#include "rest.h"

/* A scripted server: each request takes the next canned answer. */
typedef struct canned {
  mbcas_rc rc; /* MBCAS_OK: answer with code/body */
  long code;
  const char *body;
  int retry_after;
} canned;

typedef struct fake {
  canned answers[16];
  int n, next;
  char methods[16][8];
  char paths[16][512];
  char ctypes[16][64];
  char bodies[16][256];
  char tokens[16][64];
  int calls;
} fake;

static mbcas_rc fake_transport(void *ud, const kube_http_req *rq, kube_http_resp *resp) {
  fake *f = ud;
  int i = f->calls++;
  if (i < 16) {
    snprintf(f->methods[i], 8, "%s", rq->method);
    snprintf(f->paths[i], 512, "%s", rq->path);
    snprintf(f->ctypes[i], 64, "%s", rq->content_type ? rq->content_type : "");
    snprintf(f->bodies[i], 256, "%.*s", (int)(rq->body ? rq->body_len : 0), rq->body ? rq->body : "");
    snprintf(f->tokens[i], 64, "%s", rq->token ? rq->token : "");
  }
  canned *a = &f->answers[f->next < f->n ? f->next++ : f->n - 1];
  if (a->rc) return a->rc;
  resp->code = a->code;
  resp->body = a->body ? strdup(a->body) : NULL;
  resp->len = a->body ? strlen(a->body) : 0;
  resp->retry_after = a->retry_after ? a->retry_after : -1;
  return MBCAS_OK;
}

typedef struct hookrec {
  int n;
  char verbs[32][8];
  int codes[32];
} hookrec;

static void hook(void *ud, const char *verb, int code, double secs) {
  hookrec *h = ud;
  assert_true(secs >= 0);
  if (h->n < 32) {
    snprintf(h->verbs[h->n], 8, "%s", verb);
    h->codes[h->n] = code;
  }
  h->n++;
}

static kube_config *cfg;
static kube_client *cl;
static fake F;
static hookrec H;

static int setup(void **state) {
  (void)state;
  const char *kc = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
                   "users:\n- name: u\n  user: {token: secret}\n";
  if (kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL)) return -1;
  kube_client_opts o = {.qps = -1, .max_retries = 3, .retry_initial_s = 0.001, .retry_max_s = 0.002,
                        .hook = hook, .hook_ud = &H};
  if (kube_client_new(&cl, cfg, &o, NULL)) return -1;
  kube_client_set_transport(cl, fake_transport, &F);
  return 0;
}
static int teardown(void **state) {
  (void)state;
  kube_client_free(cl);
  kube_config_free(cfg);
  return 0;
}
static int reset(void **state) {
  (void)state;
  memset(&F, 0, sizeof F);
  memset(&H, 0, sizeof H);
  return 0;
}

#define ANSWER(c, b) F.answers[F.n++] = (canned){MBCAS_OK, c, b, 0}

static const kube_ref POD = {NULL, "v1", "pods", "default", "web-1", NULL};

static void test_ref_path(void **state) {
  (void)state;
  char *p = kube_ref_path(&POD, NULL);
  assert_string_equal(p, "/api/v1/namespaces/default/pods/web-1");
  free(p);
  kube_ref r = {"mbcas.io", "v1alpha1", "scalingmarkets", NULL, NULL, NULL};
  kube_list_opts o = {.label_selector = "app in (a,b)", .field_selector = "spec.nodeName=n1",
                      .limit = 50, .continue_token = "abc/+=", .resource_version = "10",
                      .resource_version_match = "NotOlderThan", .timeout_seconds = 30, .watch = 1,
                      .allow_bookmarks = 1};
  p = kube_ref_path(&r, &o);
  assert_string_equal(p, "/apis/mbcas.io/v1alpha1/scalingmarkets?watch=1&labelSelector=app%20in%20%28a%2Cb%29"
                         "&fieldSelector=spec.nodeName%3Dn1&limit=50&continue=abc%2F%2B%3D&resourceVersion=10"
                         "&resourceVersionMatch=NotOlderThan&timeoutSeconds=30&allowWatchBookmarks=true");
  free(p);
  kube_ref s = {"apps", "v1", "deployments", "ns", "web", "scale"};
  p = kube_ref_path(&s, NULL);
  assert_string_equal(p, "/apis/apps/v1/namespaces/ns/deployments/web/scale");
  free(p);
  kube_ref bad = {NULL, "v1", "pods", "ns", NULL, "status"};
  assert_null(kube_ref_path(&bad, NULL));
  kube_ref bad2 = {NULL, NULL, "pods", NULL, NULL, NULL};
  assert_null(kube_ref_path(&bad2, NULL));
  kube_ref bad3 = {NULL, "v1", "pods/x", NULL, NULL, NULL};
  assert_null(kube_ref_path(&bad3, NULL));
}

static void test_get_ok_sends_token(void **state) {
  (void)state;
  ANSWER(200, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\"}}");
  cJSON *o = NULL;
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_OK);
  assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "Pod");
  cJSON_Delete(o);
  assert_string_equal(F.methods[0], "GET");
  assert_string_equal(F.tokens[0], "secret");
  assert_int_equal(H.n, 1);
  assert_string_equal(H.verbs[0], "GET");
  assert_int_equal(H.codes[0], 200);
  assert_ptr_equal(kube_client_config(cl), cfg);
}

static void test_not_found_status_decoded(void **state) {
  (void)state;
  ANSWER(404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"pods \\\"web-1\\\" not found\","
              "\"reason\":\"NotFound\",\"details\":{\"name\":\"web-1\",\"kind\":\"pods\"},\"code\":404}");
  cJSON *o = NULL;
  kube_status st;
  mbcas_err e;
  assert_int_equal(kube_get(cl, &o, &POD, &st, &e), MBCAS_ENOTFOUND);
  assert_null(o);
  assert_int_equal(st.code, 404);
  assert_string_equal(st.reason, "NotFound");
  assert_string_equal(st.message, "pods \"web-1\" not found");
  assert_string_equal(st.details_name, "web-1");
  assert_string_equal(st.details_kind, "pods");
  assert_int_equal(F.calls, 1); /* no retry on 4xx */
}

static void test_conflict_not_retried(void **state) {
  (void)state;
  ANSWER(409, "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"the object has been modified\",\"code\":409}");
  cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"web-1\",\"resourceVersion\":\"3\"}}");
  kube_status st;
  kube_write_opts wo = {.field_manager = "mbcas", .dry_run = 1};
  assert_int_equal(kube_update(cl, NULL, &POD, obj, &wo, &st, NULL), MBCAS_ECONFLICT);
  assert_string_equal(st.reason, "Conflict");
  assert_int_equal(F.calls, 1);
  assert_string_equal(F.methods[0], "PUT");
  assert_string_equal(F.paths[0], "/api/v1/namespaces/default/pods/web-1?fieldManager=mbcas&dryRun=All");
  assert_string_equal(F.ctypes[0], "application/json");
  assert_string_equal(F.bodies[0], "{\"metadata\":{\"name\":\"web-1\",\"resourceVersion\":\"3\"}}");
  cJSON_Delete(obj);
}

static void test_retry_429_then_ok(void **state) {
  (void)state;
  F.answers[F.n++] = (canned){MBCAS_OK, 429, "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429,"
                                                   "\"details\":{\"retryAfterSeconds\":1}}", 1};
  ANSWER(503, "oops");
  ANSWER(200, "{}");
  cJSON *o = NULL;
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_int_equal(F.calls, 3);
  assert_int_equal(H.n, 3);
  assert_int_equal(H.codes[0], 429);
  assert_int_equal(H.codes[1], 503);
  assert_int_equal(H.codes[2], 200);
}

static void test_retries_exhausted(void **state) {
  (void)state;
  ANSWER(429, "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429}");
  kube_status st;
  cJSON *o = NULL;
  assert_int_equal(kube_get(cl, &o, &POD, &st, NULL), MBCAS_ETOOMANY);
  assert_int_equal(F.calls, 4); /* 1 + max_retries */
  assert_string_equal(st.reason, "TooManyRequests");
  reset(NULL);
  ANSWER(500, "{\"kind\":\"Status\",\"reason\":\"InternalError\",\"code\":500}");
  assert_int_equal(kube_get(cl, &o, &POD, &st, NULL), MBCAS_EUNAVAILABLE);
  assert_int_equal(F.calls, 4);
}

static void test_connection_errors(void **state) {
  (void)state;
  F.answers[F.n++] = (canned){MBCAS_EUNAVAILABLE, 0, NULL, 0};
  F.answers[F.n++] = (canned){MBCAS_ETIMEOUT, 0, NULL, 0};
  ANSWER(200, "{\"ok\":true}");
  cJSON *o = NULL;
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_int_equal(F.calls, 3);
  assert_int_equal(H.codes[0], 0);
  reset(NULL);
  F.answers[F.n++] = (canned){MBCAS_ETLS, 0, NULL, 0};
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_ETLS);
  assert_int_equal(F.calls, 1); /* TLS failures are not retried */
  reset(NULL);
  F.answers[F.n++] = (canned){MBCAS_EUNAVAILABLE, 0, NULL, 0};
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_EUNAVAILABLE);
  assert_int_equal(F.calls, 4);
}

static void test_bad_json_is_error(void **state) {
  (void)state;
  ANSWER(200, "{\"truncated\":");
  cJSON *o = NULL;
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_EINVAL);
  assert_null(o);
  reset(NULL);
  ANSWER(200, "{\"kind\":\"PodList\"}");
  kube_ref pods = {NULL, "v1", "pods", NULL, NULL, NULL};
  assert_int_equal(kube_list(cl, &o, &pods, NULL, NULL, NULL), MBCAS_EINVAL);
  assert_null(o);
}

static void test_list_all_pages(void **state) {
  (void)state;
  ANSWER(200, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"t1\"},\"items\":[{\"a\":1},{\"a\":2}]}");
  ANSWER(200, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"t2\"},\"items\":[{\"a\":3}]}");
  ANSWER(200, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"6\"},\"items\":null}");
  kube_ref pods = {NULL, "v1", "pods", NULL, NULL, NULL};
  kube_list_opts lo = {.limit = 2, .label_selector = "app=web"};
  cJSON *o = NULL;
  assert_int_equal(kube_list_all(cl, &o, &pods, &lo, NULL, NULL), MBCAS_OK);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "items")), 3);
  cJSON *md = cJSON_GetObjectItem(o, "metadata");
  assert_string_equal(cJSON_GetObjectItem(md, "resourceVersion")->valuestring, "6");
  assert_null(cJSON_GetObjectItem(md, "continue"));
  cJSON_Delete(o);
  assert_string_equal(F.paths[0], "/api/v1/pods?labelSelector=app%3Dweb&limit=2");
  assert_string_equal(F.paths[1], "/api/v1/pods?labelSelector=app%3Dweb&limit=2&continue=t1");
  assert_string_equal(F.paths[2], "/api/v1/pods?labelSelector=app%3Dweb&limit=2&continue=t2");
  assert_string_equal(H.verbs[0], "LIST");
  /* expired continue token */
  reset(NULL);
  ANSWER(200, "{\"metadata\":{\"continue\":\"t1\"},\"items\":[{}]}");
  ANSWER(410, "{\"kind\":\"Status\",\"reason\":\"Expired\",\"code\":410}");
  assert_int_equal(kube_list_all(cl, &o, &pods, NULL, NULL, NULL), MBCAS_EGONE);
  assert_null(o);
}

static void test_create_patch_delete(void **state) {
  (void)state;
  ANSWER(201, "{\"metadata\":{\"name\":\"e1\"}}");
  ANSWER(200, "{}");
  ANSWER(200, "{}");
  ANSWER(200, "{}");
  ANSWER(200, "{}");
  ANSWER(200, "{\"kind\":\"Status\",\"status\":\"Success\"}");
  cJSON *obj = cJSON_Parse("{\"metadata\":{\"generateName\":\"e\"}}");
  kube_ref ev = {NULL, "v1", "events", "default", NULL, NULL};
  cJSON *o = NULL;
  assert_int_equal(kube_create(cl, &o, &ev, obj, NULL, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  cJSON_Delete(obj);
  assert_string_equal(F.methods[0], "POST");
  assert_string_equal(F.paths[0], "/api/v1/namespaces/default/events");
  kube_ref rs = {NULL, "v1", "pods", "default", "web-1", "resize"};
  assert_int_equal(kube_patch(cl, NULL, &rs, KUBE_PATCH_STRATEGIC, "{\"spec\":{}}", NULL, NULL, NULL), MBCAS_OK);
  assert_string_equal(F.paths[1], "/api/v1/namespaces/default/pods/web-1/resize");
  assert_string_equal(F.ctypes[1], "application/strategic-merge-patch+json");
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_MERGE, "{}", NULL, NULL, NULL), MBCAS_OK);
  assert_string_equal(F.ctypes[2], "application/merge-patch+json");
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_JSON, "[]", NULL, NULL, NULL), MBCAS_OK);
  assert_string_equal(F.ctypes[3], "application/json-patch+json");
  kube_write_opts wo = {.field_manager = "mbcas", .force = 1};
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_APPLY, "{}", &wo, NULL, NULL), MBCAS_OK);
  assert_string_equal(F.ctypes[4], "application/apply-patch+yaml");
  assert_string_equal(F.paths[4], "/api/v1/namespaces/default/pods/web-1?fieldManager=mbcas&force=true");
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_APPLY, "{}", NULL, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_delete(cl, &o, &POD, NULL, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_string_equal(F.methods[5], "DELETE");
  assert_int_equal(F.calls, 6);
  /* argument errors make no request */
  kube_ref noname = {NULL, "v1", "pods", "default", NULL, NULL};
  assert_int_equal(kube_delete(cl, NULL, &noname, NULL, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_update(cl, NULL, &noname, NULL, NULL, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_create(cl, NULL, &noname, NULL, NULL, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_patch(cl, NULL, &noname, KUBE_PATCH_MERGE, "{}", NULL, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(F.calls, 6);
}

static void test_raw_request_and_codes(void **state) {
  (void)state;
  ANSWER(403, "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"code\":403}");
  kube_response *r = NULL;
  kube_status st;
  assert_int_equal(kube_request(cl, &r, "GET", "/version", NULL, NULL, 0, &st, NULL), MBCAS_EFORBIDDEN);
  assert_non_null(r);
  assert_int_equal(r->code, 403);
  kube_response_free(r);
  kube_response_free(NULL);
  assert_int_equal(kube_request(cl, &r, "GET", "no-slash", NULL, NULL, 0, NULL, NULL), MBCAS_EINVAL);
  assert_int_equal(kube_rc_from_http(200), MBCAS_OK);
  assert_int_equal(kube_rc_from_http(201), MBCAS_OK);
  assert_int_equal(kube_rc_from_http(400), MBCAS_EINVAL);
  assert_int_equal(kube_rc_from_http(422), MBCAS_EINVAL);
  assert_int_equal(kube_rc_from_http(401), MBCAS_EUNAUTHORIZED);
  assert_int_equal(kube_rc_from_http(409), MBCAS_ECONFLICT);
  assert_int_equal(kube_rc_from_http(410), MBCAS_EGONE);
  assert_int_equal(kube_rc_from_http(429), MBCAS_ETOOMANY);
  assert_int_equal(kube_rc_from_http(503), MBCAS_EUNAVAILABLE);
  assert_int_equal(kube_rc_from_http(418), MBCAS_ERR);
  kube_status_decode(&st, 500, "plain text error", 16);
  assert_int_equal(st.code, 500);
  assert_string_equal(st.reason, "");
  assert_string_equal(st.message, "plain text error");
  kube_status_decode(&st, 0, "{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"details\":{\"group\":\"g\"}}", 74);
  assert_int_equal(st.code, 410);
  assert_string_equal(st.details_group, "g");
  kube_status_decode(NULL, 1, NULL, 0);
}

static void test_reauth_on_401(void **state) {
  (void)state;
  char dir[] = "/tmp/mbcas-rest-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char tok[300];
  snprintf(tok, sizeof tok, "%s/token", dir);
  FILE *f = fopen(tok, "w");
  fputs("old", f);
  fclose(f);
  char kc[800];
  snprintf(kc, sizeof kc, "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                          "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n"
                          "users:\n- name: u\n  user: {tokenFile: '%s'}\n", tok);
  kube_config *c2 = NULL;
  assert_int_equal(kube_config_parse(&c2, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *k2 = NULL;
  kube_client_opts o = {.qps = 100, .burst = 10, .max_retries = -1};
  assert_int_equal(kube_client_new(&k2, c2, &o, NULL), MBCAS_OK);
  kube_client_set_transport(k2, fake_transport, &F);
  kube_client_set_hook(k2, hook, &H);
  cJSON *out = NULL;
  ANSWER(200, "{}");
  assert_int_equal(kube_get(k2, &out, &POD, NULL, NULL), MBCAS_OK);
  cJSON_Delete(out);
  /* the token rotates, the server rejects the old one once */
  f = fopen(tok, "w");
  fputs("new-token", f);
  fclose(f);
  ANSWER(401, "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"code\":401}");
  ANSWER(200, "{}");
  assert_int_equal(kube_get(k2, &out, &POD, NULL, NULL), MBCAS_OK);
  cJSON_Delete(out);
  assert_string_equal(F.tokens[0], "old");
  assert_string_equal(F.tokens[2], "new-token");
  /* a persistent 401 is returned */
  ANSWER(401, "{\"kind\":\"Status\",\"reason\":\"Unauthorized\",\"code\":401}");
  F.next = F.n - 1;
  assert_int_equal(kube_get(k2, &out, &POD, NULL, NULL), MBCAS_EUNAUTHORIZED);
  kube_client_free(k2);
  kube_config_free(c2);
  unlink(tok);
  rmdir(dir);
}

static void test_client_new_errors(void **state) {
  (void)state;
  kube_client *k = NULL;
  assert_int_equal(kube_client_new(&k, NULL, NULL, NULL), MBCAS_EINVAL);
  const char *kc = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://10.0.0.1:6443', tls-server-name: kubernetes}\n";
  kube_config *c = NULL;
  assert_int_equal(kube_config_parse(&c, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_client_new(&k, c, NULL, NULL), MBCAS_OK);
  kube_client_free(k);
  kube_client_free(NULL);
  kube_config_free(c);
}

/* ---- write guard ---- */

typedef struct guardrec {
  int allow;
  int calls;
  char verb[8];
  char group[64], version[16], resource[64], ns[64], name[64], sub[32];
  int has_ns, has_resource;
} guardrec;
static guardrec G;

static void cp(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s ? s : "(null)"); }

static int guard(void *ud, const kube_ref *ref, const char *verb) {
  guardrec *g = ud;
  g->calls++;
  cp(g->verb, sizeof g->verb, verb);
  cp(g->group, sizeof g->group, ref->group);
  cp(g->version, sizeof g->version, ref->version);
  cp(g->resource, sizeof g->resource, ref->resource);
  cp(g->ns, sizeof g->ns, ref->ns);
  cp(g->name, sizeof g->name, ref->name);
  cp(g->sub, sizeof g->sub, ref->subresource);
  return g->allow;
}

static void test_write_guard_refuses_without_sending(void **state) {
  (void)state;
  memset(&G, 0, sizeof G);
  kube_client_set_write_guard(cl, guard, &G);
  ANSWER(200, "{}");
  cJSON *obj = cJSON_Parse("{\"metadata\":{\"name\":\"web-1\"}}");
  kube_status st;
  mbcas_err e = {0};
  cJSON *o = (cJSON *)1;
  assert_int_equal(kube_create(cl, &o, &POD, obj, NULL, &st, &e), MBCAS_ENOTLEADER);
  assert_null(o);
  assert_int_equal(e.rc, MBCAS_ENOTLEADER);
  assert_non_null(strstr(e.msg, "not the leader"));
  assert_int_equal(st.code, 0);
  assert_non_null(strstr(st.message, "not the leader"));
  assert_string_equal(G.verb, "POST");
  assert_string_equal(G.resource, "pods");
  assert_string_equal(G.name, "web-1");
  assert_int_equal(kube_update(cl, NULL, &POD, obj, NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.verb, "PUT");
  kube_ref rs = {NULL, "v1", "pods", "default", "web-1", "resize"};
  assert_int_equal(kube_patch(cl, NULL, &rs, KUBE_PATCH_STRATEGIC, "{}", NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.verb, "PATCH");
  assert_string_equal(G.sub, "resize");
  assert_int_equal(kube_delete(cl, NULL, &POD, NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.verb, "DELETE");
  kube_response *r = (kube_response *)1;
  assert_int_equal(kube_request(cl, &r, "POST", "/api/v1/namespaces/default/events", "application/json",
                                "{}", 2, NULL, NULL), MBCAS_ENOTLEADER);
  assert_null(r);
  /* nothing reached the transport, and the hook saw no attempt */
  assert_int_equal(F.calls, 0);
  assert_int_equal(H.n, 0);
  /* reads are never asked about and still go out */
  int before = G.calls;
  assert_int_equal(kube_get(cl, &o, &POD, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_int_equal(kube_request(cl, NULL, "GET", "/version", NULL, NULL, 0, NULL, NULL), MBCAS_OK);
  assert_int_equal(G.calls, before);
  assert_int_equal(F.calls, 2);
  /* allowed: sent as before */
  G.allow = 1;
  assert_int_equal(kube_patch(cl, NULL, &rs, KUBE_PATCH_STRATEGIC, "{}", NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(F.calls, 3);
  assert_string_equal(F.methods[2], "PATCH");
  /* removed: no longer asked */
  kube_client_set_write_guard(cl, NULL, NULL);
  G.allow = 0;
  before = G.calls;
  assert_int_equal(kube_delete(cl, NULL, &POD, NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(G.calls, before);
  assert_int_equal(F.calls, 4);
  cJSON_Delete(obj);
}

static void test_write_guard_raw_paths(void **state) {
  (void)state;
  memset(&G, 0, sizeof G);
  kube_client_set_write_guard(cl, guard, &G);
  assert_int_equal(kube_request(cl, NULL, "PATCH", "/apis/apps/v1/namespaces/d/deployments/web/scale?fieldManager=x",
                                "application/merge-patch+json", "{}", 2, NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.group, "apps");
  assert_string_equal(G.version, "v1");
  assert_string_equal(G.ns, "d");
  assert_string_equal(G.resource, "deployments");
  assert_string_equal(G.name, "web");
  assert_string_equal(G.sub, "scale");
  /* core group is "", names are percent-decoded */
  assert_int_equal(kube_request(cl, NULL, "DELETE", "/api/v1/namespaces/d/pods/a%2Eb", NULL, NULL, 0, NULL, NULL),
                   MBCAS_ENOTLEADER);
  assert_string_equal(G.group, "");
  assert_string_equal(G.resource, "pods");
  assert_string_equal(G.name, "a.b");
  assert_string_equal(G.sub, "(null)");
  /* a Namespace's own status is cluster-scoped */
  assert_int_equal(kube_request(cl, NULL, "PUT", "/api/v1/namespaces/team/status", "application/json", "{}", 2,
                                NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.ns, "(null)");
  assert_string_equal(G.resource, "namespaces");
  assert_string_equal(G.name, "team");
  assert_string_equal(G.sub, "status");
  assert_int_equal(kube_request(cl, NULL, "DELETE", "/api/v1/namespaces/team", NULL, NULL, 0, NULL, NULL),
                   MBCAS_ENOTLEADER);
  assert_string_equal(G.resource, "namespaces");
  assert_string_equal(G.name, "team");
  assert_string_equal(G.ns, "(null)");
  /* cluster-scoped custom resource collection */
  assert_int_equal(kube_request(cl, NULL, "POST", "/apis/mbcas.io/v1alpha1/scalingmarkets", "application/json",
                                "{}", 2, NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.group, "mbcas.io");
  assert_string_equal(G.resource, "scalingmarkets");
  assert_string_equal(G.name, "(null)");
  /* not an API path: the guard still decides, with an empty ref */
  assert_int_equal(kube_request(cl, NULL, "POST", "/version", NULL, NULL, 0, NULL, NULL), MBCAS_ENOTLEADER);
  assert_string_equal(G.resource, "(null)");
  assert_string_equal(G.group, "(null)");
  assert_int_equal(F.calls, 0);
  kube_client_set_write_guard(cl, NULL, NULL);
}

/* A transport that revokes leadership once it answered: the retry must not go out. */
static mbcas_rc revoking_transport(void *ud, const kube_http_req *rq, kube_http_resp *resp) {
  mbcas_rc rc = fake_transport(ud, rq, resp);
  G.allow = 0;
  return rc;
}

static void test_write_guard_rechecked_before_retry(void **state) {
  (void)state;
  memset(&G, 0, sizeof G);
  G.allow = 1;
  kube_client_set_write_guard(cl, guard, &G);
  kube_client_set_transport(cl, revoking_transport, &F);
  ANSWER(503, "{\"kind\":\"Status\",\"code\":503}");
  ANSWER(200, "{}");
  kube_status st;
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_MERGE, "{}", NULL, &st, NULL), MBCAS_ENOTLEADER);
  assert_int_equal(F.calls, 1); /* the retry after the 503 was not sent */
  assert_int_equal(H.n, 1);
  assert_int_equal(st.code, 0);
  kube_client_set_transport(cl, fake_transport, &F);
  kube_client_set_write_guard(cl, NULL, NULL);
}

/* Fake Lease storage for an elector that leads once it created the Lease. */
static kube_lease_record lease_store;
static int lease_exists;
static mbcas_rc l_get(void *ud, kube_lease_record *out) {
  (void)ud;
  if (!lease_exists) return MBCAS_ENOTFOUND;
  *out = lease_store;
  return MBCAS_OK;
}
static mbcas_rc l_put(void *ud, const kube_lease_record *rec, kube_lease_record *out) {
  (void)ud;
  lease_store = *rec;
  snprintf(lease_store.resource_version, sizeof lease_store.resource_version, "%d", lease_exists + 1);
  lease_exists++;
  if (out) *out = lease_store;
  return MBCAS_OK;
}
static const kube_lease_ops lops = {l_get, l_put, l_put};

static void test_leader_guard_on_client(void **state) {
  (void)state;
  kube_leader_reset_process_state();
  lease_exists = 0;
  kube_client_set_write_guard(cl, kube_leader_rest_guard, NULL);
  /* no process-wide elector (leader election disabled): writes pass */
  ANSWER(200, "{}");
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_MERGE, "{}", NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(F.calls, 1);
  /* an elector that does not lead yet: pods refused, Lease writes pass */
  kube_leader *l = NULL;
  kube_leader_opts lo = {.ops = &lops, .ns = "mbcas-system", .name = "mbcas", .identity = "me",
                         .process_wide = 1};
  assert_int_equal(kube_leader_new(&l, &lo), MBCAS_OK);
  assert_int_equal(kube_patch(cl, NULL, &POD, KUBE_PATCH_MERGE, "{}", NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_int_equal(kube_delete(cl, NULL, &POD, NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_int_equal(F.calls, 1);
  cJSON *lease = cJSON_Parse("{\"metadata\":{\"name\":\"mbcas\"}}");
  kube_ref lref = {"coordination.k8s.io", "v1", "leases", "mbcas-system", "mbcas", NULL};
  kube_ref lcoll = {"coordination.k8s.io", "v1", "leases", "mbcas-system", NULL, NULL};
  assert_int_equal(kube_create(cl, NULL, &lcoll, lease, NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_update(cl, NULL, &lref, lease, NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_request(cl, NULL, "PUT", "/apis/coordination.k8s.io/v1/namespaces/mbcas-system/leases/mbcas",
                                "application/json", "{}", 2, NULL, NULL), MBCAS_OK);
  assert_int_equal(F.calls, 4);
  assert_string_equal(F.methods[1], "POST");
  assert_string_equal(F.methods[2], "PUT");
  /* a Lease in another group is not the election's */
  kube_ref other = {"example.com", "v1", "leases", "mbcas-system", "mbcas", NULL};
  assert_int_equal(kube_update(cl, NULL, &other, lease, NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_int_equal(F.calls, 4);
  /* once it leads, writes pass */
  assert_int_equal(kube_leader_try(l), MBCAS_OK);
  assert_true(kube_leader_leading(l));
  assert_int_equal(kube_delete(cl, NULL, &POD, NULL, NULL, NULL), MBCAS_OK);
  assert_int_equal(F.calls, 5);
  /* the elector gone (stopped): the process is a follower, writes refused */
  kube_leader_free(l);
  assert_int_equal(kube_delete(cl, NULL, &POD, NULL, NULL, NULL), MBCAS_ENOTLEADER);
  assert_int_equal(F.calls, 5);
  assert_int_equal(kube_leader_rest_guard(NULL, &lref, "PUT"), 1);
  assert_int_equal(kube_leader_rest_guard(NULL, &POD, "PUT"), 0);
  assert_int_equal(kube_leader_rest_guard(NULL, NULL, "PUT"), 0);
  cJSON_Delete(lease);
  kube_leader_reset_process_state();
  assert_int_equal(kube_leader_rest_guard(NULL, &POD, "PUT"), 1);
  kube_client_set_write_guard(cl, NULL, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_ref_path, reset),
      cmocka_unit_test_setup(test_get_ok_sends_token, reset),
      cmocka_unit_test_setup(test_not_found_status_decoded, reset),
      cmocka_unit_test_setup(test_conflict_not_retried, reset),
      cmocka_unit_test_setup(test_retry_429_then_ok, reset),
      cmocka_unit_test_setup(test_retries_exhausted, reset),
      cmocka_unit_test_setup(test_connection_errors, reset),
      cmocka_unit_test_setup(test_bad_json_is_error, reset),
      cmocka_unit_test_setup(test_list_all_pages, reset),
      cmocka_unit_test_setup(test_create_patch_delete, reset),
      cmocka_unit_test_setup(test_raw_request_and_codes, reset),
      cmocka_unit_test_setup(test_reauth_on_401, reset),
      cmocka_unit_test_setup(test_client_new_errors, reset),
      cmocka_unit_test_setup(test_write_guard_refuses_without_sending, reset),
      cmocka_unit_test_setup(test_write_guard_raw_paths, reset),
      cmocka_unit_test_setup(test_write_guard_rechecked_before_retry, reset),
      cmocka_unit_test_setup(test_leader_guard_on_client, reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
