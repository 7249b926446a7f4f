/* bench_kube.c - client runtime benchmarks (see docs/benchmarks.md, "Client runtime").
 *
 *   bench_kube decode   watch-stream decode: ndjson + cJSON + pod slimming through the
 *                       real watcher state machine fed from memory; events/s and MB/s
 *   bench_kube memory   heap per cached pod with 100,000 pods (mallinfo2 delta), slim
 *                       records vs keeping the cJSON
 *   bench_kube rps      GET requests per second against the API-server emulator
 *                       (needs MBCAS_SOURCE_DIR), 1 and 4 threads
 *   bench_kube local    GET requests per second against a minimal in-process HTTP/1.1
 *                       keep-alive server on 127.0.0.1 (client cost without the
 *                       emulator's Python and TLS), 1 and 4 threads
 *   bench_kube all      everything (default) */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver_fixture.h"
#include "backoff.h"
#include "cache.h"
#include "log.h"
#include "rest.h"
#include "watch.h"

/* A Pod as the API server sends it for a Deployment replica (managedFields,
 * probes, env, volumes, 5 conditions): about 5.5 KB of JSON. */
static int make_pod(char *buf, size_t len, int i, const char *type) {
  return snprintf(buf, len,
      "{\"type\":\"%s\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
      "\"name\":\"checkout-7f9c6d5b8-%05dx\",\"generateName\":\"checkout-7f9c6d5b8-\",\"namespace\":\"shop-%d\","
      "\"uid\":\"3f1e2d4c-%04x-4b6a-9c1d-%012d\",\"resourceVersion\":\"%d\",\"generation\":1,"
      "\"creationTimestamp\":\"2026-11-23T10:00:00Z\","
      "\"labels\":{\"app\":\"checkout\",\"app.kubernetes.io/part-of\":\"shop\",\"pod-template-hash\":\"7f9c6d5b8\",\"tier\":\"backend\"},"
      "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-11-20T08:00:00Z\",\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"9090\"},"
      "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"checkout-7f9c6d5b8\",\"uid\":\"aa11bb22-cc33-dd44-ee55-ff6677889900\",\"controller\":true,\"blockOwnerDeletion\":true}],"
      "\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-11-23T10:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:generateName\":{},\"f:labels\":{\".\":{},\"f:app\":{},\"f:pod-template-hash\":{},\"f:tier\":{}},\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"aa11bb22\\\"}\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},\"f:env\":{},\"f:image\":{},\"f:imagePullPolicy\":{},\"f:livenessProbe\":{},\"f:name\":{},\"f:ports\":{},\"f:readinessProbe\":{},\"f:resources\":{\".\":{},\"f:limits\":{},\"f:requests\":{}},\"f:terminationMessagePath\":{},\"f:volumeMounts\":{}}},\"f:dnsPolicy\":{},\"f:enableServiceLinks\":{},\"f:restartPolicy\":{},\"f:schedulerName\":{},\"f:securityContext\":{},\"f:terminationGracePeriodSeconds\":{},\"f:volumes\":{}}}},"
      "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-11-23T10:00:05Z\",\"fieldsType\":\"FieldsV1\",\"subresource\":\"status\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{\"k:{\\\"type\\\":\\\"ContainersReady\\\"}\":{},\"k:{\\\"type\\\":\\\"Initialized\\\"}\":{},\"k:{\\\"type\\\":\\\"PodScheduled\\\"}\":{},\"k:{\\\"type\\\":\\\"Ready\\\"}\":{}},\"f:containerStatuses\":{},\"f:hostIP\":{},\"f:phase\":{},\"f:podIP\":{},\"f:podIPs\":{},\"f:startTime\":{}}}}]},"
      "\"spec\":{\"volumes\":[{\"name\":\"config\",\"configMap\":{\"name\":\"checkout-config\",\"defaultMode\":420}},"
      "{\"name\":\"kube-api-access-x1y2z\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}}],\"defaultMode\":420}}],"
      "\"containers\":[{\"name\":\"app\",\"image\":\"registry.example.com/shop/checkout:1.42.3\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"containerPort\":9090,\"protocol\":\"TCP\"}],"
      "\"env\":[{\"name\":\"LOG_LEVEL\",\"value\":\"info\"},{\"name\":\"DB_HOST\",\"value\":\"postgres.shop.svc\"},{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],"
      "\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"}},"
      "\"resizePolicy\":[{\"resourceName\":\"cpu\",\"restartPolicy\":\"NotRequired\"}],"
      "\"volumeMounts\":[{\"name\":\"config\",\"mountPath\":\"/etc/checkout\"},{\"name\":\"kube-api-access-x1y2z\",\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
      "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080,\"scheme\":\"HTTP\"},\"initialDelaySeconds\":10,\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":3},"
      "\"readinessProbe\":{\"httpGet\":{\"path\":\"/ready\",\"port\":8080,\"scheme\":\"HTTP\"},\"timeoutSeconds\":1,\"periodSeconds\":5,\"successThreshold\":1,\"failureThreshold\":3},"
      "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],"
      "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\",\"serviceAccount\":\"default\","
      "\"nodeName\":\"node-%03d\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\","
      "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
      "\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},"
      "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodReadyToStartContainers\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-23T10:00:03Z\"},"
      "{\"type\":\"Initialized\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-23T10:00:01Z\"},"
      "{\"type\":\"Ready\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-23T10:00:05Z\"},"
      "{\"type\":\"ContainersReady\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-23T10:00:05Z\"},"
      "{\"type\":\"PodScheduled\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2026-11-23T10:00:00Z\"}],"
      "\"hostIP\":\"10.0.%d.%d\",\"hostIPs\":[{\"ip\":\"10.0.%d.%d\"}],\"podIP\":\"10.244.%d.%d\",\"podIPs\":[{\"ip\":\"10.244.%d.%d\"}],\"startTime\":\"2026-11-23T10:00:00Z\","
      "\"containerStatuses\":[{\"name\":\"app\",\"state\":{\"running\":{\"startedAt\":\"2026-11-23T10:00:02Z\"}},\"lastState\":{},\"ready\":true,\"restartCount\":0,"
      "\"image\":\"registry.example.com/shop/checkout:1.42.3\",\"imageID\":\"registry.example.com/shop/checkout@sha256:4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899\","
      "\"containerID\":\"containerd://9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b\",\"started\":true,"
      "\"allocatedResources\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"},\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"512Mi\"},\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"}}}],"
      "\"qosClass\":\"Burstable\"}}}\n",
      type, i, i % 20, i & 0xffff, i, 1000 + i, i % 500, (i / 250) % 256, i % 250, (i / 250) % 256, i % 250,
      (i / 250) % 256, i % 250, (i / 250) % 256, i % 250);
}

/* ---------- decode ---------- */

typedef struct memsrc {
  const char *data;
  size_t len, off, chunk;
  int opened;
} memsrc;

static mbcas_rc m_list(void *ud, cJSON **out, const kube_list_opts *o, kube_status *st) {
  *out = cJSON_Parse("{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}");
  return MBCAS_OK;
}
static mbcas_rc m_open(void *ud, void **s, const kube_list_opts *o, kube_status *st) {
  memsrc *m = ud;
  if (m->opened++) return MBCAS_EUNAVAILABLE;
  *s = m;
  return MBCAS_OK;
}
static mbcas_rc m_read(void *ud, void *s, char *buf, size_t cap, size_t *n, int t) {
  memsrc *m = ud;
  size_t k = m->len - m->off;
  if (k > m->chunk) k = m->chunk;
  if (k > cap) k = cap;
  memcpy(buf, m->data + m->off, k);
  m->off += k;
  *n = k;
  return MBCAS_OK;
}
static void m_close(void *ud, void *s) {}

static void bench_decode(void) {
  const int N = 20000;
  size_t cap = (size_t)N * 8192, len = 0;
  char *data = malloc(cap);
  for (int i = 0; i < N; i++) len += (size_t)make_pod(data + len, cap - len, i, i % 3 ? "MODIFIED" : "ADDED");
  size_t chunks[] = {1400, 16384};
  for (int ci = 0; ci < 2; ci++) {
    memsrc m = {data, len, 0, chunks[ci], 0};
    kube_watch_transport t = {m_list, m_open, m_read, m_close, NULL, &m};
    kube_watcher *w = NULL;
    kube_watcher_new(&w, &t, NULL);
    kube_cache *cache = NULL;
    kube_cache_new(&cache, KUBE_CACHE_POD);
    double t0 = kube_now();
    int events = 0;
    while (events < N) {
      kube_watch_event ev;
      if (kube_watcher_step(w, &ev) != MBCAS_OK) break;
      if (ev.type == KUBE_WE_APPLY) {
        kube_cache_upsert(cache, ev.object, NULL, NULL); /* slims, frees the JSON */
        ev.object = NULL;
        events++;
      } else if (ev.type == KUBE_WE_ERROR) {
        fprintf(stderr, "decode: error %s\n", mbcas_strerror(ev.rc));
        kube_watch_event_clear(&ev);
        break;
      }
      kube_watch_event_clear(&ev);
    }
    double dt = kube_now() - t0;
    printf("decode chunk=%zu events=%d bytes=%zu avg_event_bytes=%zu seconds=%.3f events_per_s=%.0f MB_per_s=%.1f cached=%zu\n",
           chunks[ci], events, len, len / (size_t)N, dt, events / dt, (double)len / dt / 1e6, kube_cache_len(cache));
    kube_cache_free(cache);
    kube_watcher_free(w);
  }
  /* decoder alone (no JSON parse): ndjson line splitting */
  kube_ndjson d;
  kube_ndjson_init(&d, 0);
  double t0 = kube_now();
  int lines = 0;
  for (size_t off = 0; off < len; off += 16384) {
    size_t k = len - off < 16384 ? len - off : 16384;
    kube_ndjson_feed(&d, data + off, k);
    char *l;
    size_t ll;
    while (kube_ndjson_next(&d, &l, &ll)) lines++;
  }
  double dt = kube_now() - t0;
  printf("ndjson-only lines=%d seconds=%.4f MB_per_s=%.0f\n", lines, dt, (double)len / dt / 1e6);
  kube_ndjson_free(&d);
  free(data);
}

/* ---------- memory ---------- */

static size_t heap_used(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static void bench_memory(void) {
  const int N = 100000;
  char *buf = malloc(16384);
  for (int pass = 0; pass < 2; pass++) {
    kube_cache_kind kind = pass == 0 ? KUBE_CACHE_POD : KUBE_CACHE_JSON;
    int n = pass == 0 ? N : N / 10; /* the cJSON variant at 10,000 pods is enough to compare */
    malloc_trim(0);
    size_t before = heap_used();
    kube_cache *c = NULL;
    kube_cache_new(&c, kind);
    for (int i = 0; i < n; i++) {
      make_pod(buf, 16384, i, "ADDED");
      cJSON *ev = cJSON_Parse(buf);
      cJSON *obj = cJSON_DetachItemFromObject(ev, "object");
      cJSON_Delete(ev);
      kube_cache_upsert(c, obj, NULL, NULL);
    }
    malloc_trim(0);
    size_t after = heap_used();
    printf("memory kind=%s pods=%zu heap_bytes=%zu bytes_per_pod=%.0f accounted_per_pod=%.0f\n",
           kind == KUBE_CACHE_POD ? "slim" : "cjson", kube_cache_len(c), after - before,
           (double)(after - before) / n, (double)kube_cache_bytes(c) / n);
    kube_cache_free(c);
  }
  free(buf);
}

/* ---------- requests per second ---------- */

typedef struct rpsarg {
  kube_client *c;
  int n;
  int fails;
} rpsarg;

static void *rps_worker(void *p) {
  rpsarg *a = p;
  kube_ref ns = {NULL, "v1", "namespaces", NULL, "default", NULL};
  for (int i = 0; i < a->n; i++) {
    cJSON *o = NULL;
    if (kube_get(a->c, &o, &ns, NULL, NULL) != MBCAS_OK) a->fails++;
    cJSON_Delete(o);
  }
  return NULL;
}

static void bench_rps(void) {
  apiserver_fixture fx;
  if (fixture_available() != 0 || fixture_start(&fx, NULL, NULL, NULL) != 0) {
    fprintf(stderr, "rps: emulator unavailable (set MBCAS_SOURCE_DIR)\n");
    return;
  }
  kube_config *cfg = NULL;
  kube_client *c = NULL;
  kube_config_load_files(&cfg, fx.kubeconfig, NULL, NULL);
  kube_client_opts o = {.qps = -1, .pool_size = 8};
  kube_client_new(&c, cfg, &o, NULL);
  int threads[] = {1, 4};
  for (int ti = 0; ti < 2; ti++) {
    int nt = threads[ti], per = 1000 / nt;
    rpsarg args[4];
    pthread_t th[4];
    double t0 = kube_now();
    for (int i = 0; i < nt; i++) {
      args[i] = (rpsarg){c, per, 0};
      pthread_create(&th[i], NULL, rps_worker, &args[i]);
    }
    int fails = 0;
    for (int i = 0; i < nt; i++) {
      pthread_join(th[i], NULL);
      fails += args[i].fails;
    }
    double dt = kube_now() - t0;
    printf("rps threads=%d requests=%d failures=%d seconds=%.2f requests_per_s=%.0f\n", nt, per * nt, fails, dt,
           per * nt / dt);
  }
  kube_client_free(c);
  kube_config_free(cfg);
  fixture_stop(&fx);
}

/* ---------- local server: the client's own cost ---------- */

static void *serve_conn(void *p) {
  int fd = (int)(intptr_t)p;
  static const char body[] = "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"default\","
                             "\"resourceVersion\":\"7\"},\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}";
  char resp[1024];
  int rl = snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                    strlen(body), body);
  char buf[8192];
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
    if (r <= 0) break;
    have += (size_t)r;
    buf[have] = '\0';
    char *end;
    while ((end = strstr(buf, "\r\n\r\n")) != NULL) { /* GETs have no body */
      if (write(fd, resp, (size_t)rl) != rl) goto out;
      size_t used = (size_t)(end + 4 - buf);
      memmove(buf, buf + used, have - used);
      have -= used;
      buf[have] = '\0';
    }
  }
out:
  close(fd);
  return NULL;
}

static void *accept_loop(void *p) {
  int ls = (int)(intptr_t)p;
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) break;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t t;
    pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd);
    pthread_detach(t);
  }
  return NULL;
}

static void bench_local(void) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 16) || getsockname(ls, (struct sockaddr *)&a, &al)) {
    perror("local");
    return;
  }
  pthread_t acc;
  pthread_create(&acc, NULL, accept_loop, (void *)(intptr_t)ls);
  char kc[512];
  snprintf(kc, sizeof kc, "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
           "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:%d'}\nusers:\n- name: u\n  user: {token: t}\n",
           ntohs(a.sin_port));
  kube_config *cfg = NULL;
  kube_client *c = NULL;
  kube_config_parse(&cfg, kc, strlen(kc), NULL, NULL, NULL);
  kube_client_opts o = {.qps = -1, .pool_size = 8};
  kube_client_new(&c, cfg, &o, NULL);
  int threads[] = {1, 4};
  for (int ti = 0; ti < 2; ti++) {
    int nt = threads[ti], per = 20000 / nt;
    rpsarg args[4];
    pthread_t th[4];
    double t0 = kube_now();
    for (int i = 0; i < nt; i++) {
      args[i] = (rpsarg){c, per, 0};
      pthread_create(&th[i], NULL, rps_worker, &args[i]);
    }
    int fails = 0;
    for (int i = 0; i < nt; i++) {
      pthread_join(th[i], NULL);
      fails += args[i].fails;
    }
    double dt = kube_now() - t0;
    printf("local threads=%d requests=%d failures=%d seconds=%.2f requests_per_s=%.0f\n", nt, per * nt, fails,
           dt, per * nt / dt);
  }
  kube_client_free(c);
  kube_config_free(cfg);
  shutdown(ls, SHUT_RDWR);
  close(ls);
  pthread_join(acc, NULL);
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "all";
  mbcas_log_set_level(MBCAS_LOG_WARN);
  if (!strcmp(what, "decode") || !strcmp(what, "all")) bench_decode();
  if (!strcmp(what, "memory") || !strcmp(what, "all")) bench_memory();
  if (!strcmp(what, "local") || !strcmp(what, "all")) bench_local();
  if (!strcmp(what, "rps") || !strcmp(what, "all")) bench_rps();
  return 0;
}
