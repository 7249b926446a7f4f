/* test_informer.c - informer.h over a fake transport: relist swap, handlers,
 * resync, and the thread (start, sync, stop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "informer.h"

#define WAIT "\x01WAIT"

typedef struct ftrans {
  const char *pages[8];
  int npages, next_page;
  const char *streams[8][8];
  mbcas_rc open_rc[8];
  int nstreams, next_stream, chunk;
} ftrans;

static mbcas_rc f_list(void *ud, cJSON **out, const kube_list_opts *o, kube_status *st) {
  ftrans *f = ud;
  if (f->next_page >= f->npages) return MBCAS_EUNAVAILABLE;
  *out = cJSON_Parse(f->pages[f->next_page++]);
  return *out ? MBCAS_OK : MBCAS_EINVAL;
}
static mbcas_rc f_open(void *ud, void **s, const kube_list_opts *o, kube_status *st) {
  ftrans *f = ud;
  if (f->next_stream >= f->nstreams) return MBCAS_EUNAVAILABLE;
  int i = f->next_stream++;
  if (f->open_rc[i]) return f->open_rc[i];
  f->chunk = 0;
  *s = (void *)f->streams[i];
  return MBCAS_OK;
}
static mbcas_rc f_read(void *ud, void *s, char *buf, size_t cap, size_t *n, int t) {
  ftrans *f = ud;
  const char **chunks = s;
  *n = 0;
  const char *c = chunks[f->chunk];
  if (!c) return MBCAS_OK;
  if (!strcmp(c, WAIT)) return MBCAS_ETIMEOUT; /* stays here: an idle stream */
  f->chunk++;
  size_t l = strlen(c);
  memcpy(buf, c, l);
  *n = l;
  return MBCAS_OK;
}
static void f_close(void *ud, void *s) {}

typedef struct rec {
  int add, upd, del, resync;
  char last[64];
} rec;

static const char *nm(const void *item) { return ((const kube_pod *)item)->name; }
static void on_add(void *ud, const void *it) {
  rec *r = ud;
  r->add++;
  snprintf(r->last, sizeof r->last, "add %s", nm(it));
}
static void on_update(void *ud, const void *o, const void *n) {
  rec *r = ud;
  if (o == n) r->resync++;
  else r->upd++;
  snprintf(r->last, sizeof r->last, "upd %s", nm(n));
}
static void on_delete(void *ud, const void *o) {
  rec *r = ud;
  r->del++;
  snprintf(r->last, sizeof r->last, "del %s", nm(o));
}

#define POD(n, rv, node) "{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"d\",\"resourceVersion\":\"" rv "\"},\"spec\":{\"nodeName\":\"" node "\"}}"
#define EV(t, obj) "{\"type\":\"" t "\",\"object\":" obj "}\n"

static kube_informer *make(ftrans *f, rec *r, double resync) {
  kube_watch_transport t = {f_list, f_open, f_read, f_close, NULL, f};
  kube_informer_opts o = {.kind = KUBE_CACHE_POD, .name = "pods", .resync_seconds = resync,
                          .backoff_initial = 0.001, .backoff_max = 0.002};
  o.watch.read_timeout_ms = 10;
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new_transport(&inf, &t, &o), MBCAS_OK);
  kube_informer_handlers h = {on_add, on_update, on_delete, r};
  assert_int_equal(kube_informer_add_handlers(inf, &h), MBCAS_OK);
  return inf;
}

static void steps(kube_informer *inf, int n) {
  for (int i = 0; i < n; i++) assert_int_equal(kube_informer_step(inf, NULL, NULL), MBCAS_OK);
}

static int visit_nop(void *ud, const char *k, const void *i) { return 0; }

static void test_list_watch_relist(void **state) {
  (void)state;
  ftrans f = {0};
  rec r = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("a", "1", "n1") "," POD("b", "2", "n1") "]}";
  f.streams[f.nstreams][0] = EV("ADDED", POD("c", "11", "n2")) EV("MODIFIED", POD("a", "12", "n2")) EV("DELETED", POD("b", "13", "n1"));
  f.streams[f.nstreams++][1] = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n";
  /* after the 410: c was deleted and d created while we were away */
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"30\"},\"items\":[" POD("a", "12", "n2") "," POD("d", "29", "n3") "]}";
  f.streams[f.nstreams][0] = WAIT;
  f.nstreams++;
  kube_informer *inf = make(&f, &r, 0);
  assert_int_equal(kube_informer_synced(inf), 0);
  kube_watch_event_type t;
  mbcas_rc erc;
  /* INIT, page, 2 x INIT_APPLY, INIT_DONE */
  for (int i = 0; i < 5; i++) assert_int_equal(kube_informer_step(inf, &t, &erc), MBCAS_OK);
  assert_int_equal(t, KUBE_WE_INIT_DONE);
  assert_int_equal(kube_informer_synced(inf), 1);
  assert_int_equal(r.add, 2);
  assert_int_equal(kube_cache_len(kube_informer_cache(inf)), 2);
  steps(inf, 1); /* open */
  steps(inf, 1);
  assert_string_equal(r.last, "add c");
  steps(inf, 1);
  assert_string_equal(r.last, "upd a");
  steps(inf, 1);
  assert_string_equal(r.last, "del b");
  assert_int_equal(kube_cache_by_index(kube_informer_cache(inf), "node", "n2", visit_nop, NULL), 2);
  assert_int_equal(kube_informer_step(inf, &t, &erc), MBCAS_OK);
  assert_int_equal(t, KUBE_WE_ERROR);
  assert_int_equal(erc, MBCAS_EGONE);
  assert_int_equal(kube_informer_errors(inf), 1);
  memset(&r, 0, sizeof r);
  for (int i = 0; i < 5; i++) steps(inf, 1); /* relist */
  assert_int_equal(r.add, 1); /* d */
  assert_int_equal(r.del, 1); /* c vanished during the gap */
  assert_int_equal(r.upd, 0); /* a unchanged (same RV) */
  assert_int_equal(kube_cache_len(kube_informer_cache(inf)), 2);
  assert_string_equal(kube_watcher_rv(kube_informer_watcher(inf)), "30");
  kube_informer_resync(inf);
  assert_int_equal(r.resync, 2);
  kube_informer_free(inf);
}

static void test_thread_sync_and_stop(void **state) {
  (void)state;
  ftrans f = {0};
  rec r = {0};
  /* first list fails: the thread backs off and retries */
  f.pages[f.npages++] = "not json";
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("a", "1", "n1") "]}";
  f.streams[f.nstreams][0] = WAIT;
  f.nstreams++;
  kube_informer *inf = make(&f, &r, 0.01);
  assert_int_equal(kube_informer_start(inf), MBCAS_OK);
  assert_int_equal(kube_informer_start(inf), MBCAS_EINVAL);
  kube_informer_handlers h = {0};
  assert_int_equal(kube_informer_add_handlers(inf, &h), MBCAS_EINVAL); /* running */
  assert_int_equal(kube_informer_wait_synced(inf, 60), MBCAS_OK);
  assert_int_equal(kube_cache_len(kube_informer_cache(inf)), 1);
  assert_true(kube_informer_errors(inf) >= 1);
  kube_informer_stop(inf);
  kube_informer_stop(inf);
  assert_int_equal(r.add, 1);
  kube_informer_free(inf);
  /* never syncs */
  ftrans g = {0};
  rec r2 = {0};
  inf = make(&g, &r2, 0);
  assert_int_equal(kube_informer_wait_synced(inf, 0.05), MBCAS_ETIMEOUT);
  kube_informer_free(inf);
  kube_informer_free(NULL);
}

static void test_new_over_client(void **state) {
  (void)state;
  const char *kc = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n";
  kube_config *cfg = NULL;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c = NULL;
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  kube_ref ref = {"mbcas.io", "v1alpha1", "servicebudgets", NULL, NULL, NULL};
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new(&inf, c, &ref, NULL), MBCAS_OK);
  assert_int_equal(kube_cache_get_kind(kube_informer_cache(inf)), KUBE_CACHE_JSON);
  kube_informer_free(inf);
  kube_ref bad = {NULL, "v1", "pods", NULL, "x", NULL};
  assert_int_equal(kube_informer_new(&inf, c, &bad, NULL), MBCAS_EINVAL);
  kube_client_free(c);
  kube_config_free(cfg);
}

static double mval(kube_metrics *m, const char *name) {
  kube_metric *f = kube_metrics_find(m, name);
  assert_non_null(f);
  return kube_metric_value(f, (const char *const[]){"pods"});
}

/* Step until the watcher reaches state st (bounded). */
static void step_until(kube_informer *inf, kube_watch_state st) {
  for (int i = 0; i < 20; i++) {
    if (kube_watcher_state(kube_informer_watcher(inf)) == st) return;
    kube_informer_step(inf, NULL, NULL);
  }
  fail_msg("watcher never reached state %d", (int)st);
}

static void test_watch_metrics(void **state) {
  (void)state;
  ftrans f = {0};
  rec r = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("a", "1", "n1") "]}";
  /* stream 0 ends cleanly after one event (server timeout): a restart */
  f.streams[f.nstreams][0] = EV("ADDED", POD("c", "11", "n2"));
  f.streams[f.nstreams++][1] = NULL;
  /* stream 1 says 410: a relist and an error, then a restart */
  f.streams[f.nstreams++][0] = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n";
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"30\"},\"items\":[" POD("a", "12", "n2") "]}";
  f.streams[f.nstreams++][0] = WAIT;
  kube_metrics *m = NULL;
  assert_int_equal(kube_metrics_new(&m), MBCAS_OK);
  kube_watch_transport t = {f_list, f_open, f_read, f_close, NULL, &f};
  kube_informer_opts o = {.kind = KUBE_CACHE_POD, .name = "pods", .metrics = m};
  o.watch.read_timeout_ms = 10;
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new_transport(&inf, &t, &o), MBCAS_OK);
  kube_informer_handlers h = {on_add, on_update, on_delete, &r};
  assert_int_equal(kube_informer_add_handlers(inf, &h), MBCAS_OK);
  /* the series exist at 0 before anything happened */
  char *text = NULL;
  assert_int_equal(kube_metrics_render(m, &text, NULL), MBCAS_OK);
  assert_non_null(strstr(text, "# TYPE mbcas_watch_restarts_total counter\n"));
  assert_non_null(strstr(text, "mbcas_watch_restarts_total{resource=\"pods\"} 0\n"));
  assert_non_null(strstr(text, "mbcas_watch_relists_total{resource=\"pods\"} 0\n"));
  assert_non_null(strstr(text, "mbcas_watch_errors_total{resource=\"pods\"} 0\n"));
  free(text);
  /* first list and first watch: neither is a restart */
  step_until(inf, KUBE_WS_WATCHING);
  assert_int_equal(kube_informer_synced(inf), 1);
  assert_true(mval(m, "mbcas_watch_restarts_total") == 0);
  assert_true(mval(m, "mbcas_watch_relists_total") == 0);
  steps(inf, 1); /* ADDED c */
  assert_string_equal(r.last, "add c");
  step_until(inf, KUBE_WS_INIT_LISTED); /* the stream ended */
  step_until(inf, KUBE_WS_WATCHING);    /* watched again from rv 11 */
  assert_true(mval(m, "mbcas_watch_restarts_total") == 1);
  assert_true(mval(m, "mbcas_watch_relists_total") == 0);
  assert_true(mval(m, "mbcas_watch_errors_total") == 0);
  kube_watch_event_type ty;
  mbcas_rc erc;
  assert_int_equal(kube_informer_step(inf, &ty, &erc), MBCAS_OK);
  assert_int_equal(ty, KUBE_WE_ERROR);
  assert_int_equal(erc, MBCAS_EGONE);
  assert_true(mval(m, "mbcas_watch_errors_total") == 1);
  step_until(inf, KUBE_WS_INIT_PAGE); /* relist started */
  assert_true(mval(m, "mbcas_watch_relists_total") == 1);
  step_until(inf, KUBE_WS_WATCHING);
  assert_true(mval(m, "mbcas_watch_restarts_total") == 2);
  assert_true(mval(m, "mbcas_watch_relists_total") == 1);
  assert_true(mval(m, "mbcas_watch_errors_total") == 1);
  /* equal to the watcher's own counters, minus the first of each */
  assert_int_equal(kube_watcher_watches(kube_informer_watcher(inf)), 3);
  assert_int_equal(kube_watcher_relists(kube_informer_watcher(inf)), 2);
  kube_informer_free(inf);
  /* a second informer on the same registry adds its own series */
  ftrans g = {0};
  kube_watch_transport t2 = {f_list, f_open, f_read, f_close, NULL, &g};
  o.name = "nodes";
  assert_int_equal(kube_informer_new_transport(&inf, &t2, &o), MBCAS_OK);
  assert_true(kube_metric_value(kube_metrics_find(m, "mbcas_watch_relists_total"),
                                (const char *const[]){"nodes"}) == 0);
  assert_true(mval(m, "mbcas_watch_relists_total") == 1);
  kube_informer_free(inf);
  /* a clashing family fails creation cleanly (transport freed, nothing leaked) */
  kube_metrics *m2 = NULL;
  assert_int_equal(kube_metrics_new(&m2), MBCAS_OK);
  kube_metric *clash = NULL;
  assert_int_equal(kube_metrics_gauge(m2, &clash, "mbcas_watch_relists_total", "x", "resource"), MBCAS_OK);
  ftrans g2 = {0};
  kube_watch_transport t3 = {f_list, f_open, f_read, f_close, NULL, &g2};
  o.metrics = m2;
  assert_int_equal(kube_informer_new_transport(&inf, &t3, &o), MBCAS_EINVAL);
  assert_null(inf);
  kube_metrics_free(m2);
  kube_metrics_free(m);
}

/* Resync handlers run outside the cache lock: this one checks it got a copy,
 * not the stored item (the old under-the-read-lock resync fails here, before
 * the write below, which would have deadlocked on our own read lock), writes
 * to the cache it is called from, and reads its copy after the stored item was
 * deleted (ASan would flag a borrowed one). */
typedef struct resync_ctx {
  kube_informer *inf;
  int calls;
} resync_ctx;

static void on_resync_writes(void *ud, const void *o, const void *n) {
  resync_ctx *x = ud;
  assert_ptr_equal(o, n);
  kube_cache *c = kube_informer_cache(x->inf);
  const kube_pod *p = n;
  char key[64], name[16];
  snprintf(key, sizeof key, "%s/%s", p->ns, p->name);
  snprintf(name, sizeof name, "%s", p->name);
  kube_cache_rdlock(c);
  const void *stored = kube_cache_get_locked(c, key);
  kube_cache_unlock(c);
  assert_non_null(stored);
  assert_ptr_not_equal(stored, n);
  x->calls++;
  /* delete this item and the other one: the other is then skipped */
  assert_int_equal(kube_cache_delete(c, "d/a", NULL), MBCAS_OK);
  assert_int_equal(kube_cache_delete(c, "d/b", NULL), MBCAS_OK);
  assert_string_equal(p->name, name);
  assert_string_equal(p->node, "n1");
}

static void test_resync_outside_lock(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("a", "1", "n1") "," POD("b", "2", "n1") "]}";
  kube_watch_transport t = {f_list, f_open, f_read, f_close, NULL, &f};
  kube_informer_opts o = {.kind = KUBE_CACHE_POD, .name = "pods"};
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new_transport(&inf, &t, &o), MBCAS_OK);
  resync_ctx x = {.inf = inf};
  kube_informer_handlers h = {NULL, on_resync_writes, NULL, &x};
  assert_int_equal(kube_informer_add_handlers(inf, &h), MBCAS_OK);
  for (int i = 0; i < 5; i++) steps(inf, 1);
  assert_int_equal(kube_informer_synced(inf), 1);
  assert_int_equal(kube_cache_len(kube_informer_cache(inf)), 2);
  kube_informer_resync(inf);
  assert_int_equal(x.calls, 1); /* the other item was deleted before its turn */
  assert_int_equal(kube_cache_len(kube_informer_cache(inf)), 0);
  kube_informer_resync(inf);
  assert_int_equal(x.calls, 1);
  kube_informer_free(inf);
}

/* JSON caches hand out cJSON copies; handlers without on_update cost nothing. */
static int json_calls;
static void on_resync_json(void *ud, const void *o, const void *n) {
  (void)ud;
  assert_ptr_equal(o, n);
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive((const cJSON *)n, "metadata"), "name"));
  assert_non_null(name);
  json_calls++;
}

static void test_resync_json(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("a", "1", "n1") "," POD("b", "2", "n1") "," POD("c", "3", "n1") "]}";
  kube_watch_transport t = {f_list, f_open, f_read, f_close, NULL, &f};
  kube_informer_opts o = {.kind = KUBE_CACHE_JSON, .name = "budgets"};
  kube_informer *inf = NULL;
  assert_int_equal(kube_informer_new_transport(&inf, &t, &o), MBCAS_OK);
  kube_informer_handlers none = {0};
  kube_informer_handlers h = {NULL, on_resync_json, NULL, NULL};
  assert_int_equal(kube_informer_add_handlers(inf, &none), MBCAS_OK);
  assert_int_equal(kube_informer_add_handlers(inf, &h), MBCAS_OK);
  for (int i = 0; i < 6; i++) steps(inf, 1);
  assert_int_equal(kube_informer_synced(inf), 1);
  json_calls = 0;
  kube_informer_resync(inf);
  assert_int_equal(json_calls, 3);
  kube_informer_free(inf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_watch_relist),
      cmocka_unit_test(test_thread_sync_and_stop),
      cmocka_unit_test(test_new_over_client),
      cmocka_unit_test(test_watch_metrics),
      cmocka_unit_test(test_resync_outside_lock),
      cmocka_unit_test(test_resync_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
