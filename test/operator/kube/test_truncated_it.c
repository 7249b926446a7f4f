/* test_truncated_it.c - malformed JSON and truncated bodies over real HTTP give
 * errors, not crashes. A tiny HTTP/1.1 server on 127.0.0.1 answers each
 * connection with one canned raw response and closes (the emulator cannot
 * produce broken bodies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rest.h"
#include "watch.h"

static int LS = -1, PORT;
static pthread_t ACC;
static const char *volatile RESPONSE;       /* what every connection gets */
static const char *volatile WATCH_RESPONSE; /* ... unless it asks watch=1 and this is set */
static char LAST_REQUEST[512]; /* first line of the last request */
static kube_config *CFG;
static kube_client *CL;

static void *acceptor(void *p) {
  for (;;) {
    int fd = accept(LS, NULL, NULL);
    if (fd < 0) return NULL;
    char buf[4096];
    size_t have = 0;
    while (have < sizeof buf - 1) { /* read the request head */
      ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
      if (r <= 0) break;
      have += (size_t)r;
      buf[have] = '\0';
      if (strstr(buf, "\r\n\r\n")) break;
    }
    size_t l0 = strcspn(buf, "\r\n");
    snprintf(LAST_REQUEST, sizeof LAST_REQUEST, "%.*s", (int)l0, buf);
    const char *resp = WATCH_RESPONSE && strstr(buf, "watch=1") ? WATCH_RESPONSE : RESPONSE;
    if (write(fd, resp, strlen(resp)) < 0) {
    }
    shutdown(fd, SHUT_RDWR);
    close(fd);
  }
}

static int setup(void **state) {
  LS = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(LS, (struct sockaddr *)&a, sizeof a) || listen(LS, 16) ||
      getsockname(LS, (struct sockaddr *)&a, &al))
    return -1;
  PORT = ntohs(a.sin_port);
  pthread_create(&ACC, NULL, acceptor, NULL);
  char kc[512];
  snprintf(kc, sizeof kc, "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
           "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:%d'}\n", PORT);
  if (kube_config_parse(&CFG, kc, strlen(kc), NULL, NULL, NULL)) return -1;
  kube_client_opts o = {.qps = -1, .max_retries = 2, .retry_initial_s = 0.001, .retry_max_s = 0.01,
                        .timeout_ms = 5000};
  return kube_client_new(&CL, CFG, &o, NULL) ? -1 : 0;
}

static int teardown(void **state) {
  kube_client_free(CL);
  kube_config_free(CFG);
  shutdown(LS, SHUT_RDWR);
  close(LS);
  pthread_join(ACC, NULL);
  return 0;
}

static const kube_ref NS = {NULL, "v1", "namespaces", NULL, "default", NULL};

static void test_malformed_json(void **state) {
  RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
             "{\"kind\":\"Namespace\"";
  cJSON *o = NULL;
  mbcas_err e;
  assert_int_equal(kube_get(CL, &o, &NS, NULL, &e), MBCAS_EINVAL);
  assert_null(o);
  /* a list whose items are not an array */
  RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"items\":42}\n";
  kube_ref coll = {NULL, "v1", "pods", NULL, NULL, NULL};
  assert_int_equal(kube_list(CL, &o, &coll, NULL, NULL, &e), MBCAS_EINVAL);
  assert_null(o);
  /* an error body that is not a Status */
  RESPONSE = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found";
  kube_status st;
  assert_int_equal(kube_get(CL, &o, &NS, &st, &e), MBCAS_ENOTFOUND);
  assert_int_equal(st.code, 404);
  assert_string_equal(st.message, "not found");
}

static void test_truncated_body(void **state) {
  /* promises 500 bytes, sends 20, closes: a connection error, retried, then given up */
  RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{\"kind\":\"Namespace\",";
  cJSON *o = NULL;
  assert_int_equal(kube_get(CL, &o, &NS, NULL, NULL), MBCAS_EUNAVAILABLE);
  assert_null(o);
  /* chunked body cut inside a chunk */
  RESPONSE = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"kind\":";
  assert_int_equal(kube_get(CL, &o, &NS, NULL, NULL), MBCAS_EUNAVAILABLE);
  /* not HTTP at all */
  RESPONSE = "garbage\r\n\r\n";
  assert_true(kube_get(CL, &o, &NS, NULL, NULL) != MBCAS_OK);
  assert_null(o);
}

static void test_truncated_watch_stream(void **state) {
  /* one whole event, then half of the next, then the connection dies */
  RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5e\r\n{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"d\",\"resourceVersion\":\"11\"}}}\n\r\n"
             "30\r\n{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"na";
  kube_stream *s = NULL;
  assert_int_equal(kube_stream_open(CL, &s, "/api/v1/pods?watch=1", NULL, NULL), MBCAS_OK);
  char buf[4096];
  size_t n, total = 0;
  mbcas_rc rc;
  int loops = 0;
  while (((rc = kube_stream_read(s, buf, sizeof buf, &n, 100)) == MBCAS_OK && n > 0) || rc == MBCAS_ETIMEOUT) {
    total += n;
    n = 0;
    assert_true(++loops < 200);
  }
  assert_int_equal(rc, MBCAS_EUNAVAILABLE); /* cut, not a clean end */
  assert_true(total >= 94);
  kube_stream_close(s);
  /* the same through the watcher: APPLY for the whole event, then an ERROR,
   * and the next watch resumes from the RV of that event */
  WATCH_RESPONSE = RESPONSE;
  RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
             "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[]}\n";
  kube_watch_transport t;
  kube_ref pods = {NULL, "v1", "pods", NULL, NULL, NULL};
  assert_int_equal(kube_watch_transport_rest(&t, CL, &pods), MBCAS_OK);
  kube_watcher_opts wo = {.read_timeout_ms = 100};
  kube_watcher *w = NULL;
  assert_int_equal(kube_watcher_new(&w, &t, &wo), MBCAS_OK);
  kube_watch_event ev;
  kube_watch_event_type seen[8];
  int ns = 0;
  for (int i = 0; i < 100 && ns < 4; i++) {
    assert_int_equal(kube_watcher_step(w, &ev), MBCAS_OK);
    if (ev.type != KUBE_WE_NONE) {
      if (ev.type == KUBE_WE_ERROR) assert_int_equal(ev.rc, MBCAS_EUNAVAILABLE);
      seen[ns++] = ev.type;
    }
    kube_watch_event_clear(&ev);
  }
  assert_int_equal(ns, 4);
  assert_int_equal(seen[0], KUBE_WE_INIT);
  assert_int_equal(seen[1], KUBE_WE_INIT_DONE);
  assert_int_equal(seen[2], KUBE_WE_APPLY);
  assert_int_equal(seen[3], KUBE_WE_ERROR);
  assert_string_equal(kube_watcher_rv(w), "11");
  assert_int_equal(kube_watcher_state(w), KUBE_WS_INIT_LISTED);
  WATCH_RESPONSE = NULL;
  kube_watcher_free(w);
}

static void test_proxy_url(void **state) {
  /* the server is unreachable by name; the proxy (our little server) gets the
   * absolute-form request */
  char kc[512];
  snprintf(kc, sizeof kc, "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
           "clusters:\n- name: c\n  cluster: {server: 'http://kube.invalid:8080', proxy-url: 'http://127.0.0.1:%d'}\n", PORT);
  kube_config *cfg = NULL;
  assert_int_equal(kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL), MBCAS_OK);
  kube_client *c = NULL;
  assert_int_equal(kube_client_new(&c, cfg, NULL, NULL), MBCAS_OK);
  RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"kind\":\"Namespace\"}";
  cJSON *o = NULL;
  assert_int_equal(kube_get(c, &o, &NS, NULL, NULL), MBCAS_OK);
  cJSON_Delete(o);
  assert_string_equal(LAST_REQUEST, "GET http://kube.invalid:8080/api/v1/namespaces/default HTTP/1.1");
  kube_client_free(c);
  kube_config_free(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_malformed_json),
      cmocka_unit_test(test_truncated_body),
      cmocka_unit_test(test_truncated_watch_stream),
      cmocka_unit_test(test_proxy_url),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
