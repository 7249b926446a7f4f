/* test_watch.c - watch.h: the ndjson decoder and the watcher state machine,
 * replaying pages, events, drops and 410s through a fake transport. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"

/* ---------- decoder ---------- */

static void test_ndjson_split_and_many(void **state) {
  (void)state;
  kube_ndjson d;
  kube_ndjson_init(&d, 0);
  char *line;
  size_t len;
  assert_int_equal(kube_ndjson_feed(&d, "{\"type\":\"ADD", 12), MBCAS_OK);
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 0);
  assert_int_equal(kube_ndjson_pending(&d), 12);
  { const char *s2 = "ED\"}\n{\"a\":1}\r\n\n{\"b\":2}\n{\"c\""; assert_int_equal(kube_ndjson_feed(&d, s2, strlen(s2)), MBCAS_OK); }
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "{\"type\":\"ADDED\"}");
  assert_int_equal(len, 16);
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "{\"a\":1}");
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "{\"b\":2}");
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 0);
  assert_int_equal(kube_ndjson_pending(&d), 4);
  assert_int_equal(kube_ndjson_feed(&d, ":3}\n", 4), MBCAS_OK);
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "{\"c\":3}");
  assert_int_equal(kube_ndjson_pending(&d), 0);
  kube_ndjson_reset(&d);
  kube_ndjson_free(&d);
}

static void test_ndjson_byte_by_byte(void **state) {
  (void)state;
  kube_ndjson d;
  kube_ndjson_init(&d, 64);
  const char *s = "{\"x\":1}\n{\"y\":22}\n";
  int lines = 0;
  for (size_t i = 0; i < strlen(s); i++) {
    assert_int_equal(kube_ndjson_feed(&d, s + i, 1), MBCAS_OK);
    char *line;
    size_t len;
    while (kube_ndjson_next(&d, &line, &len)) lines++;
  }
  assert_int_equal(lines, 2);
  kube_ndjson_free(&d);
}

static void test_ndjson_max_line(void **state) {
  (void)state;
  kube_ndjson d;
  kube_ndjson_init(&d, 8);
  char *line;
  size_t len;
  /* an unfinished line over the maximum */
  assert_int_equal(kube_ndjson_feed(&d, "0123456789", 10), MBCAS_EINVAL);
  assert_int_equal(kube_ndjson_feed(&d, "\n", 1), MBCAS_EINVAL); /* sticky until reset */
  kube_ndjson_reset(&d);
  assert_int_equal(kube_ndjson_feed(&d, "0123", 4), MBCAS_OK);
  assert_int_equal(kube_ndjson_feed(&d, "45678", 5), MBCAS_EINVAL);
  kube_ndjson_reset(&d);
  /* complete lines held but not yet taken do not count against the maximum */
  assert_int_equal(kube_ndjson_feed(&d, "aaaaaa\n", 7), MBCAS_OK);
  assert_int_equal(kube_ndjson_feed(&d, "bbbbbb\n", 7), MBCAS_OK);
  assert_int_equal(kube_ndjson_feed(&d, "cccc", 4), MBCAS_OK);
  assert_int_equal(kube_ndjson_feed(&d, "cccc", 4), MBCAS_OK);
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "aaaaaa");
  assert_int_equal(kube_ndjson_feed(&d, "\n", 1), MBCAS_OK);
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "bbbbbb");
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "cccccccc");
  assert_int_equal(kube_ndjson_pending(&d), 0);
  kube_ndjson_reset(&d);
  /* a whole long line inside one chunk */
  assert_int_equal(kube_ndjson_feed(&d, "ok\n0123456789abc\nzz", 19), MBCAS_OK);
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 1);
  assert_string_equal(line, "ok");
  assert_int_equal(kube_ndjson_next(&d, &line, &len), 0);
  assert_int_equal(d.overflow, 1);
  kube_ndjson_free(&d);
}

/* ---------- fake transport ---------- */

#define DROP "\x01DROP"   /* read fails: connection dropped */
#define WAIT "\x01WAIT"   /* read times out */

typedef struct fstream {
  mbcas_rc open_rc; /* error to return from open */
  const char *chunks[16];
} fstream;

typedef struct ftrans {
  const char *pages[8];
  mbcas_rc page_rc[8];
  int npages, next_page;
  fstream streams[8];
  int nstreams, next_stream;
  int cur_chunk;
  char list_opts[8][256];
  char watch_rvs[8][64];
  int lists, opens, closes, freed;
} ftrans;

static mbcas_rc f_list(void *ud, cJSON **out, const kube_list_opts *o, kube_status *st) {
  ftrans *f = ud;
  int i = f->next_page++;
  assert_true(i < f->npages);
  snprintf(f->list_opts[f->lists++ % 8], 256, "limit=%ld continue=%s label=%s", o->limit,
           o->continue_token ? o->continue_token : "-", o->label_selector ? o->label_selector : "-");
  if (f->page_rc[i]) {
    if (st) st->code = f->page_rc[i] == MBCAS_EGONE ? 410 : 500;
    return f->page_rc[i];
  }
  *out = cJSON_Parse(f->pages[i]);
  assert_non_null(*out);
  return MBCAS_OK;
}

static mbcas_rc f_open(void *ud, void **stream, const kube_list_opts *o, kube_status *st) {
  ftrans *f = ud;
  int i = f->next_stream++;
  assert_true(i < f->nstreams);
  assert_int_equal(o->watch, 1);
  snprintf(f->watch_rvs[f->opens++ % 8], 64, "%s", o->resource_version ? o->resource_version : "");
  if (f->streams[i].open_rc) {
    if (st) st->code = f->streams[i].open_rc == MBCAS_EGONE ? 410 : 503;
    return f->streams[i].open_rc;
  }
  f->cur_chunk = 0;
  *stream = &f->streams[i];
  return MBCAS_OK;
}

static mbcas_rc f_read(void *ud, void *stream, char *buf, size_t cap, size_t *n, int timeout_ms) {
  ftrans *f = ud;
  fstream *s = stream;
  *n = 0;
  const char *c = s->chunks[f->cur_chunk];
  if (!c) return MBCAS_OK; /* clean end */
  f->cur_chunk++;
  if (!strcmp(c, DROP)) return MBCAS_EUNAVAILABLE;
  if (!strcmp(c, WAIT)) return MBCAS_ETIMEOUT;
  size_t l = strlen(c);
  assert_true(l <= cap);
  memcpy(buf, c, l);
  *n = l;
  return MBCAS_OK;
}

static void f_close(void *ud, void *stream) { ((ftrans *)ud)->closes++; }
static void f_free(void *ud) { ((ftrans *)ud)->freed++; }

static kube_watcher *make(ftrans *f, const kube_watcher_opts *o) {
  kube_watch_transport t = {f_list, f_open, f_read, f_close, f_free, f};
  kube_watcher *w = NULL;
  assert_int_equal(kube_watcher_new(&w, &t, o), MBCAS_OK);
  return w;
}

/* Step until an event other than NONE (at most 50 steps). */
static kube_watch_event_type next_ev(kube_watcher *w, kube_watch_event *ev) {
  for (int i = 0; i < 50; i++) {
    kube_watch_event_clear(ev);
    assert_int_equal(kube_watcher_step(w, ev), MBCAS_OK);
    if (ev->type != KUBE_WE_NONE) return ev->type;
  }
  return KUBE_WE_NONE;
}

static const char *obj_name(const kube_watch_event *ev) {
  return cJSON_GetObjectItem(cJSON_GetObjectItem(ev->object, "metadata"), "name")->valuestring;
}

#define POD(n, rv) "{\"metadata\":{\"name\":\"" n "\",\"namespace\":\"d\",\"resourceVersion\":\"" rv "\"}}"
#define EV(t, n, rv) "{\"type\":\"" t "\",\"object\":" POD(n, rv) "}\n"

static void test_list_pages_then_watch(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"continue\":\"c1\",\"resourceVersion\":\"9\"},\"items\":[" POD("a", "1") "," POD("b", "2") "]}";
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD("c", "3") "]}";
  /* one event split over two chunks, then two in one chunk plus a bookmark */
  f.streams[f.nstreams++] = (fstream){0, {"{\"type\":\"ADDED\",\"object\":", POD("d", "11") "}\n", WAIT,
                                          EV("MODIFIED", "a", "12") EV("DELETED", "b", "13")
                                          "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"20\"}}}\n",
                                          NULL}};
  f.streams[f.nstreams++] = (fstream){0, {WAIT, NULL}};
  kube_watcher_opts o = {.page_size = 2, .label_selector = "app=x"};
  kube_watcher *w = make(&f, &o);
  assert_int_equal(kube_watcher_state(w), KUBE_WS_EMPTY);
  kube_watch_event ev = {0};
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_APPLY);
  assert_string_equal(obj_name(&ev), "a");
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_APPLY);
  assert_string_equal(obj_name(&ev), "b");
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_APPLY);
  assert_string_equal(obj_name(&ev), "c");
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_string_equal(kube_watcher_rv(w), "10");
  assert_string_equal(f.list_opts[0], "limit=2 continue=- label=app=x");
  assert_string_equal(f.list_opts[1], "limit=2 continue=c1 label=app=x");
  assert_int_equal(next_ev(w, &ev), KUBE_WE_APPLY);
  assert_string_equal(obj_name(&ev), "d");
  assert_string_equal(f.watch_rvs[0], "10");
  assert_int_equal(kube_watcher_state(w), KUBE_WS_WATCHING);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_APPLY);
  assert_string_equal(obj_name(&ev), "a");
  assert_int_equal(next_ev(w, &ev), KUBE_WE_DELETE);
  assert_string_equal(obj_name(&ev), "b");
  assert_string_equal(kube_watcher_rv(w), "13");
  /* bookmark moves the RV; the clean end re-watches from it */
  kube_watch_event_clear(&ev);
  for (int i = 0; i < 5 && f.opens < 2; i++) {
    assert_int_equal(kube_watcher_step(w, &ev), MBCAS_OK);
    assert_int_equal(ev.type, KUBE_WE_NONE);
  }
  assert_string_equal(kube_watcher_rv(w), "20");
  assert_int_equal(f.opens, 2);
  assert_string_equal(f.watch_rvs[1], "20");
  assert_int_equal(kube_watcher_watches(w), 2);
  assert_int_equal(kube_watcher_relists(w), 1);
  kube_watch_event_clear(&ev);
  kube_watcher_free(w);
  assert_int_equal(f.freed, 1);
  assert_int_equal(f.closes, 2);
}

static void test_error_410_event_relists(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[]}";
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"50\"},\"items\":[" POD("z", "50") "]}";
  f.streams[f.nstreams++] = (fstream){0, {"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
                                          "\"reason\":\"Expired\",\"message\":\"too old resource version\"}}\n", NULL}};
  kube_watcher *w = make(&f, NULL);
  kube_watch_event ev = {0};
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR);
  assert_int_equal(ev.rc, MBCAS_EGONE);
  assert_int_equal(ev.st.code, 410);
  assert_string_equal(ev.st.reason, "Expired");
  assert_int_equal(kube_watcher_state(w), KUBE_WS_EMPTY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_APPLY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_string_equal(kube_watcher_rv(w), "50");
  assert_int_equal(kube_watcher_relists(w), 2);
  kube_watch_event_clear(&ev);
  kube_watcher_free(w);
}

static void test_http_410_and_503_on_open(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[]}";
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"6\"},\"items\":[]}";
  f.streams[f.nstreams++] = (fstream){MBCAS_EUNAVAILABLE, {NULL}};
  f.streams[f.nstreams++] = (fstream){MBCAS_EGONE, {NULL}};
  f.streams[f.nstreams++] = (fstream){0, {WAIT, NULL}};
  kube_watcher *w = make(&f, NULL);
  kube_watch_event ev = {0};
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR); /* 503: state kept, retry from RV */
  assert_int_equal(ev.rc, MBCAS_EUNAVAILABLE);
  assert_int_equal(kube_watcher_state(w), KUBE_WS_INIT_LISTED);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR); /* 410 on open: relist */
  assert_int_equal(ev.rc, MBCAS_EGONE);
  assert_string_equal(f.watch_rvs[1], "5");
  assert_int_equal(kube_watcher_state(w), KUBE_WS_EMPTY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  kube_watch_event_clear(&ev);
  assert_int_equal(kube_watcher_step(w, &ev), MBCAS_OK); /* opens */
  assert_int_equal(kube_watcher_state(w), KUBE_WS_WATCHING);
  assert_string_equal(f.watch_rvs[2], "6");
  kube_watcher_free(w);
}

static void test_drop_malformed_truncated(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[]}";
  f.streams[f.nstreams++] = (fstream){0, {EV("ADDED", "a", "7"), DROP}};
  f.streams[f.nstreams++] = (fstream){0, {"{\"type\":\"ADDED\",\"obj\n", NULL}};
  f.streams[f.nstreams++] = (fstream){0, {"not json at all\n", NULL}};
  f.streams[f.nstreams++] = (fstream){0, {EV("ADDED", "b", "8") "{\"type\":\"ADDED\",\"object\":{\"metad", NULL}};
  f.streams[f.nstreams++] = (fstream){0, {WAIT, NULL}};
  kube_watcher *w = make(&f, NULL);
  kube_watch_event ev = {0};
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_APPLY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR); /* dropped */
  assert_int_equal(ev.rc, MBCAS_EUNAVAILABLE);
  assert_int_equal(kube_watcher_state(w), KUBE_WS_INIT_LISTED);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR); /* malformed */
  assert_int_equal(ev.rc, MBCAS_EINVAL);
  assert_string_equal(f.watch_rvs[1], "7");
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR); /* not JSON */
  assert_int_equal(ev.rc, MBCAS_EINVAL);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_APPLY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR); /* ends inside an event */
  assert_int_equal(ev.rc, MBCAS_EINVAL);
  assert_string_equal(kube_watcher_rv(w), "8");
  kube_watch_event_clear(&ev);
  assert_int_equal(kube_watcher_step(w, &ev), MBCAS_OK);
  assert_string_equal(f.watch_rvs[4], "8");
  kube_watcher_free(w);
}

static void test_line_too_long(void **state) {
  (void)state;
  ftrans f = {0};
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[]}";
  f.streams[f.nstreams++] = (fstream){0, {EV("ADDED", "a-very-long-name-indeed", "7"), NULL}};
  f.streams[f.nstreams++] = (fstream){0, {"{\"type\":\"ADDED\",", "\"object\":{\"metadata\":{\"name\":\"x\"}}}", NULL}};
  kube_watcher_opts o = {.max_line = 40};
  kube_watcher *w = make(&f, &o);
  kube_watch_event ev = {0};
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR);
  assert_int_equal(ev.rc, MBCAS_EINVAL);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR);
  assert_int_equal(ev.rc, MBCAS_EINVAL);
  kube_watch_event_clear(&ev);
  kube_watcher_free(w);
}

static void test_list_failures(void **state) {
  (void)state;
  ftrans f = {0};
  f.page_rc[f.npages] = MBCAS_EUNAVAILABLE;
  f.pages[f.npages++] = NULL;
  f.pages[f.npages++] = "{\"metadata\":{\"continue\":\"c\"},\"items\":[" POD("a", "1") "]}";
  f.page_rc[f.npages] = MBCAS_EGONE; /* continue token expired */
  f.pages[f.npages++] = NULL;
  f.pages[f.npages++] = "{\"metadata\":{},\"items\":[]}"; /* no RV */
  f.pages[f.npages++] = "{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[]}";
  kube_watcher *w = make(&f, NULL);
  kube_watch_event ev = {0};
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR);
  assert_int_equal(ev.rc, MBCAS_EUNAVAILABLE);
  assert_int_equal(kube_watcher_state(w), KUBE_WS_EMPTY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_APPLY);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR);
  assert_int_equal(ev.rc, MBCAS_EGONE);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_ERROR);
  assert_int_equal(ev.rc, MBCAS_EINVAL);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT);
  assert_int_equal(next_ev(w, &ev), KUBE_WE_INIT_DONE);
  assert_string_equal(kube_watcher_rv(w), "3");
  kube_watcher_relist(w);
  assert_int_equal(kube_watcher_state(w), KUBE_WS_EMPTY);
  kube_watch_event_clear(&ev);
  kube_watcher_free(w);
  kube_watcher_free(NULL);
  kube_watch_event_clear(NULL);
}

static void test_rest_transport_args(void **state) {
  (void)state;
  kube_watch_transport t;
  kube_ref bad = {NULL, "v1", "pods", NULL, "x", NULL};
  assert_int_equal(kube_watch_transport_rest(&t, NULL, &bad), MBCAS_EINVAL);
  const char *kc = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
                   "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n";
  kube_config *cfg = NULL;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c = NULL;
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  assert_int_equal(kube_watch_transport_rest(&t, c, &bad), MBCAS_EINVAL);
  kube_ref ok = {"apps", "v1", "deployments", "ns", NULL, NULL};
  assert_int_equal(kube_watch_transport_rest(&t, c, &ok), MBCAS_OK);
  kube_watcher *w = NULL;
  assert_int_equal(kube_watcher_new(&w, &t, NULL), MBCAS_OK);
  kube_watcher_free(w);
  kube_client_free(c);
  kube_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ndjson_split_and_many),   cmocka_unit_test(test_ndjson_byte_by_byte),
      cmocka_unit_test(test_ndjson_max_line),         cmocka_unit_test(test_list_pages_then_watch),
      cmocka_unit_test(test_error_410_event_relists), cmocka_unit_test(test_http_410_and_503_on_open),
      cmocka_unit_test(test_drop_malformed_truncated), cmocka_unit_test(test_line_too_long),
      cmocka_unit_test(test_list_failures),           cmocka_unit_test(test_rest_transport_args),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
