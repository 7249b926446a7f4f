/* events.c - Event recorder with aggregation. See events.h.
 *
 * Sections: types and the spam filter, LRU cache, REST sink, API. */
#include "events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"

#define SPAM_SLOTS 1024

/* ---- types ---- */

static size_t hash_str(const char *s);

/* An Event waiting in the async queue (copies of every string). */
typedef struct pend {
  struct pend *next;
  char *api_version, *kind, *ns, *name, *uid, *rv, *type, *reason, *msg;
} pend;
static void pend_free(pend *p);
static void *async_worker(void *arg);

typedef struct entry {
  char *key;   /* kind \x1f ns \x1f name \x1f uid \x1f type \x1f reason \x1f message */
  char *name;  /* Event name */
  char *ns;    /* Event namespace */
  long count;
  struct entry *hnext;
  struct entry *prev, *next; /* LRU: head is most recent */
} entry;

struct kube_events {
  pthread_mutex_t mu;
  kube_event_sink sink;
  void *sink_ud;
  kube_client *client;
  char *component, *host;
  size_t cap, nbuckets;
  atomic_size_t len; /* changed under mu; read without it (kube_events_cache_len) */
  entry **buckets;
  entry *head, *tail;
  /* changed under mu, read without it: a getter must not wait for a write in
   * flight (the recording lock is held across the API call) */
  atomic_ulong created, patched;
  unsigned long long last_nanos; /* last Event name suffix */
  /* spam filter: one bucket per object, in a fixed table; a slot taken by
   * another object is reset for the newcomer (lenient, bounded memory) */
  struct spam {
    char *obj;
    double tokens, last;
  } spam[SPAM_SLOTS];
  double spam_burst, spam_qps;
  double (*clock)(void *ud);
  void *clock_ud;
  atomic_ulong dropped;
  /* asynchronous mode: a bounded FIFO drained by one thread */
  int async;
  pthread_mutex_t qmu;
  pthread_cond_t qcv;
  pend *qhead, *qtail;
  size_t npending, qmax;
  int qstop, qbusy, qthread;
  pthread_t worker;
  unsigned long qdropped;
};

/* Take a token for obj (kind/ns/name/uid). 1 if allowed. Called with mu held. */
static int spam_allow(struct kube_events *r, const char *obj) {
  if (r->spam_qps < 0) return 1;
  double now = r->clock ? r->clock(r->clock_ud) : kube_now();
  struct spam *s = &r->spam[hash_str(obj) % SPAM_SLOTS];
  if (!s->obj || strcmp(s->obj, obj) != 0) {
    char *copy = strdup(obj);
    if (!copy) return 1;
    free(s->obj);
    s->obj = copy;
    s->tokens = r->spam_burst;
    s->last = now;
  }
  s->tokens += (now - s->last) * r->spam_qps;
  if (s->tokens > r->spam_burst) s->tokens = r->spam_burst;
  s->last = now;
  if (s->tokens < 1) return 0;
  s->tokens -= 1;
  return 1;
}

/* ---- LRU cache ---- */

static size_t hash_str(const char *s) {
  size_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static entry *cache_find(kube_events *r, const char *key) {
  for (entry *e = r->buckets[hash_str(key) & (r->nbuckets - 1)]; e; e = e->hnext)
    if (strcmp(e->key, key) == 0) return e;
  return NULL;
}

static void lru_unlink(kube_events *r, entry *e) {
  if (e->prev) e->prev->next = e->next;
  else r->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else r->tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_front(kube_events *r, entry *e) {
  e->next = r->head;
  e->prev = NULL;
  if (r->head) r->head->prev = e;
  r->head = e;
  if (!r->tail) r->tail = e;
}

static void entry_free(entry *e) {
  if (!e) return;
  free(e->key);
  free(e->name);
  free(e->ns);
  free(e);
}

static void cache_remove(kube_events *r, entry *e) {
  entry **pp = &r->buckets[hash_str(e->key) & (r->nbuckets - 1)];
  while (*pp != e) pp = &(*pp)->hnext;
  *pp = e->hnext;
  lru_unlink(r, e);
  r->len--;
  entry_free(e);
}

/* Takes ownership of e. */
static void cache_insert(kube_events *r, entry *e) {
  if (r->len >= r->cap && r->tail) cache_remove(r, r->tail);
  size_t b = hash_str(e->key) & (r->nbuckets - 1);
  e->hnext = r->buckets[b];
  r->buckets[b] = e;
  lru_front(r, e);
  r->len++;
}

/* ---- REST sink ---- */

static mbcas_rc rest_create(void *ud, const char *ns, const cJSON *event) {
  kube_events *r = ud;
  kube_ref ref = {.group = "", .version = "v1", .resource = "events", .ns = ns};
  kube_status st;
  mbcas_rc rc = kube_create(r->client, NULL, &ref, event, NULL, &st, NULL);
  if (rc == MBCAS_ENOTLEADER) /* the client's write guard: a follower records nothing */
    LOG_DEBUG("event not created", "reason=not-leader");
  else if (rc != MBCAS_OK)
    LOG_WARN("event create failed", "rc=%s code=%d reason=%s", mbcas_strerror(rc), st.code, st.reason);
  return rc;
}

static mbcas_rc rest_patch(void *ud, const char *ns, const char *name, const char *patch) {
  kube_events *r = ud;
  kube_ref ref = {.group = "", .version = "v1", .resource = "events", .ns = ns, .name = name};
  return kube_patch(r->client, NULL, &ref, KUBE_PATCH_MERGE, patch, NULL, NULL, NULL);
}

/* ---- API ---- */

const char *kube_time_rfc3339(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

mbcas_rc kube_events_new(kube_events **out, const kube_events_opts *o) {
  *out = NULL;
  if (!o || (!o->sink && !o->client)) return MBCAS_EINVAL;
  if (o->sink && (!o->sink->create || !o->sink->patch)) return MBCAS_EINVAL;
  kube_events *r = calloc(1, sizeof(*r));
  if (!r) return MBCAS_ENOMEM;
  pthread_mutex_init(&r->mu, NULL);
  r->client = o->client;
  if (o->sink) {
    r->sink = *o->sink;
    r->sink_ud = o->sink_ud;
  } else {
    r->sink = (kube_event_sink){rest_create, rest_patch};
    r->sink_ud = r;
  }
  r->cap = o->cache_size ? o->cache_size : 4096;
  r->spam_burst = o->spam_burst > 0 ? o->spam_burst : 25;
  r->spam_qps = o->spam_qps != 0 ? o->spam_qps : 1.0 / 300;
  r->clock = o->clock;
  r->clock_ud = o->clock_ud;
  pthread_mutex_init(&r->qmu, NULL);
  pthread_cond_init(&r->qcv, NULL);
  r->qmax = o->queue_size ? o->queue_size : 1000;
  r->nbuckets = 16;
  while (r->nbuckets < r->cap) r->nbuckets *= 2;
  r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
  char host[256] = "";
  if (!o->host) gethostname(host, sizeof(host) - 1);
  r->component = strdup(o->component ? o->component : "mbcas-operator");
  r->host = strdup(o->host ? o->host : host);
  if (!r->buckets || !r->component || !r->host) {
    kube_events_free(r);
    return MBCAS_ENOMEM;
  }
  if (o->async) {
    if (pthread_create(&r->worker, NULL, async_worker, r) != 0) {
      kube_events_free(r);
      return MBCAS_ERR;
    }
    r->qthread = 1;
    r->async = 1;
  }
  *out = r;
  return MBCAS_OK;
}

void kube_events_free(kube_events *r) {
  if (!r) return;
  if (r->qthread) {
    pthread_mutex_lock(&r->qmu);
    r->qstop = 1;
    pthread_cond_broadcast(&r->qcv);
    pthread_mutex_unlock(&r->qmu);
    pthread_join(r->worker, NULL);
  }
  for (pend *p = r->qhead, *n; p; p = n) {
    n = p->next;
    pend_free(p);
  }
  pthread_cond_destroy(&r->qcv);
  pthread_mutex_destroy(&r->qmu);
  for (entry *e = r->head, *n; e; e = n) {
    n = e->next;
    entry_free(e);
  }
  for (int i = 0; i < SPAM_SLOTS; i++) free(r->spam[i].obj);
  free(r->buckets);
  free(r->component);
  free(r->host);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

static const char *s_or(const char *s, const char *d) { return s && *s ? s : d; }

static cJSON *build_event(kube_events *r, const kube_object_ref *obj, const char *ns,
                          const char *name, const char *type, const char *reason,
                          const char *msg, const char *now) {
  cJSON *ev = cJSON_CreateObject();
  if (!ev) return NULL;
  cJSON_AddStringToObject(ev, "apiVersion", "v1");
  cJSON_AddStringToObject(ev, "kind", "Event");
  cJSON *md = cJSON_AddObjectToObject(ev, "metadata");
  cJSON *io = cJSON_AddObjectToObject(ev, "involvedObject");
  cJSON *src = cJSON_AddObjectToObject(ev, "source");
  if (!md || !io || !src) {
    cJSON_Delete(ev);
    return NULL;
  }
  cJSON_AddStringToObject(md, "name", name);
  cJSON_AddStringToObject(md, "namespace", ns);
  if (obj->api_version) cJSON_AddStringToObject(io, "apiVersion", obj->api_version);
  cJSON_AddStringToObject(io, "kind", obj->kind);
  if (obj->ns && *obj->ns) cJSON_AddStringToObject(io, "namespace", obj->ns);
  cJSON_AddStringToObject(io, "name", obj->name);
  if (obj->uid && *obj->uid) cJSON_AddStringToObject(io, "uid", obj->uid);
  if (obj->resource_version && *obj->resource_version)
    cJSON_AddStringToObject(io, "resourceVersion", obj->resource_version);
  cJSON_AddStringToObject(ev, "reason", reason);
  cJSON_AddStringToObject(ev, "message", msg);
  cJSON_AddStringToObject(ev, "type", type);
  cJSON_AddStringToObject(src, "component", r->component);
  if (*r->host) cJSON_AddStringToObject(src, "host", r->host);
  cJSON_AddStringToObject(ev, "firstTimestamp", now);
  cJSON_AddStringToObject(ev, "lastTimestamp", now);
  cJSON_AddNumberToObject(ev, "count", 1);
  cJSON_AddStringToObject(ev, "reportingComponent", r->component);
  if (!cJSON_AddStringToObject(ev, "reportingInstance", r->host)) {
    cJSON_Delete(ev);
    return NULL;
  }
  return ev;
}

/* Create a fresh Event for key; cache it on success. Called with mu held. */
static mbcas_rc create_locked(kube_events *r, const kube_object_ref *obj, const char *ns,
                              const char *key, const char *type, const char *reason,
                              const char *msg, const char *now) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned long long nanos = (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
  if (nanos <= r->last_nanos) nanos = r->last_nanos + 1; /* unique names */
  r->last_nanos = nanos;
  char name[320];
  snprintf(name, sizeof(name), "%.240s.%llx", obj->name, nanos);
  cJSON *ev = build_event(r, obj, ns, name, type, reason, msg, now);
  if (!ev) return MBCAS_ENOMEM;
  mbcas_rc rc = r->sink.create(r->sink_ud, ns, ev);
  cJSON_Delete(ev);
  if (rc != MBCAS_OK) return rc;
  r->created++;
  entry *e = calloc(1, sizeof(*e));
  if (e) {
    e->key = strdup(key);
    e->name = strdup(name);
    e->ns = strdup(ns);
    e->count = 1;
  }
  if (!e || !e->key || !e->name || !e->ns) {
    entry_free(e); /* the Event exists; we merely cannot aggregate its repeats */
    return MBCAS_OK;
  }
  cache_insert(r, e);
  return MBCAS_OK;
}

/* Filter, aggregate and write one Event (the synchronous path). */
static mbcas_rc record_msg(kube_events *r, const kube_object_ref *obj, const char *type,
                           const char *reason, const char *msg) {
  const char *ns = s_or(obj->ns, "default");
  size_t klen = strlen(obj->kind) + strlen(ns) + strlen(obj->name) + strlen(s_or(obj->uid, "")) +
                strlen(type) + strlen(reason) + strlen(msg) + 8;
  char *key = malloc(klen);
  if (!key) return MBCAS_ENOMEM;
  snprintf(key, klen, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", obj->kind, ns, obj->name,
           s_or(obj->uid, ""), type, reason, msg);
  char now[40];
  kube_time_rfc3339(now, sizeof(now));
  /* the object part of key: kind, ns, name, uid */
  char objkey[512];
  snprintf(objkey, sizeof(objkey), "%s\x1f%s\x1f%s\x1f%s", obj->kind, ns, obj->name,
           s_or(obj->uid, ""));

  pthread_mutex_lock(&r->mu);
  mbcas_rc rc;
  if (!spam_allow(r, objkey)) {
    r->dropped++;
    pthread_mutex_unlock(&r->mu);
    LOG_DEBUG("event dropped by spam filter", "kind=%s reason=%s", obj->kind, reason);
    free(key);
    return MBCAS_ETOOMANY;
  }
  entry *e = cache_find(r, key);
  if (e) {
    char patch[128];
    snprintf(patch, sizeof(patch), "{\"count\":%ld,\"lastTimestamp\":\"%s\"}", e->count + 1, now);
    rc = r->sink.patch(r->sink_ud, e->ns, e->name, patch);
    if (rc == MBCAS_OK) {
      e->count++;
      r->patched++;
      lru_unlink(r, e);
      lru_front(r, e);
    } else if (rc == MBCAS_ENOTFOUND) {
      /* expired on the server (Events live about an hour): start over */
      cache_remove(r, e);
      rc = create_locked(r, obj, ns, key, type, reason, msg, now);
    }
  } else {
    rc = create_locked(r, obj, ns, key, type, reason, msg, now);
  }
  pthread_mutex_unlock(&r->mu);
  if (rc != MBCAS_OK) {
    char q[160];
    LOG_WARN("event not recorded", "kind=%s name=%s reason=%s error=%s", obj->kind,
             mbcas_log_quote(obj->name, q, sizeof(q)), reason, mbcas_strerror(rc));
  }
  free(key);
  return rc;
}

/* ---- asynchronous mode ---- */

static void pend_free(pend *p) {
  if (!p) return;
  free(p->api_version);
  free(p->kind);
  free(p->ns);
  free(p->name);
  free(p->uid);
  free(p->rv);
  free(p->type);
  free(p->reason);
  free(p->msg);
  free(p);
}

static char *dup_or_null(const char *s, int *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = 1;
  return d;
}

static mbcas_rc enqueue(kube_events *r, const kube_object_ref *obj, const char *type,
                        const char *reason, const char *msg) {
  pend *p = calloc(1, sizeof(*p));
  if (!p) return MBCAS_ENOMEM;
  int oom = 0;
  p->api_version = dup_or_null(obj->api_version, &oom);
  p->kind = dup_or_null(obj->kind, &oom);
  p->ns = dup_or_null(obj->ns, &oom);
  p->name = dup_or_null(obj->name, &oom);
  p->uid = dup_or_null(obj->uid, &oom);
  p->rv = dup_or_null(obj->resource_version, &oom);
  p->type = dup_or_null(type, &oom);
  p->reason = dup_or_null(reason, &oom);
  p->msg = dup_or_null(msg, &oom);
  if (oom) {
    pend_free(p);
    return MBCAS_ENOMEM;
  }
  pthread_mutex_lock(&r->qmu);
  if (r->qstop || r->npending >= r->qmax) {
    r->qdropped++;
    pthread_mutex_unlock(&r->qmu);
    pend_free(p);
    return MBCAS_ETOOMANY;
  }
  if (r->qtail) r->qtail->next = p;
  else r->qhead = p;
  r->qtail = p;
  r->npending++;
  pthread_cond_broadcast(&r->qcv);
  pthread_mutex_unlock(&r->qmu);
  return MBCAS_OK;
}

static void *async_worker(void *arg) {
  kube_events *r = arg;
  pthread_mutex_lock(&r->qmu);
  for (;;) {
    while (!r->qhead && !r->qstop) pthread_cond_wait(&r->qcv, &r->qmu);
    if (r->qstop) break;
    pend *p = r->qhead;
    r->qhead = p->next;
    if (!r->qhead) r->qtail = NULL;
    r->qbusy = 1;
    pthread_mutex_unlock(&r->qmu);
    kube_object_ref ref = {p->api_version, p->kind, p->ns, p->name, p->uid, p->rv};
    (void)record_msg(r, &ref, p->type, p->reason, p->msg);
    pend_free(p);
    pthread_mutex_lock(&r->qmu);
    r->npending--;
    r->qbusy = 0;
    pthread_cond_broadcast(&r->qcv);
  }
  pthread_mutex_unlock(&r->qmu);
  return NULL;
}

void kube_events_flush(kube_events *r) {
  if (!r || !r->async) return;
  pthread_mutex_lock(&r->qmu);
  while ((r->npending || r->qbusy) && !r->qstop) pthread_cond_wait(&r->qcv, &r->qmu);
  pthread_mutex_unlock(&r->qmu);
}

mbcas_rc kube_events_record(kube_events *r, const kube_object_ref *obj, const char *type,
                            const char *reason, const char *fmt, ...) {
  if (!r || !obj || !obj->kind || !*obj->kind || !obj->name || !*obj->name || !type ||
      (strcmp(type, "Normal") != 0 && strcmp(type, "Warning") != 0) || !reason || !*reason ||
      !fmt)
    return MBCAS_EINVAL;
  char msg[KUBE_EVENT_MESSAGE_MAX + 1];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (r->async) return enqueue(r, obj, type, reason, msg);
  return record_msg(r, obj, type, reason, msg);
}

size_t kube_events_cache_len(kube_events *r) { return atomic_load(&r->len); }

unsigned long kube_events_created(kube_events *r) { return atomic_load(&r->created); }

unsigned long kube_events_patched(kube_events *r) { return atomic_load(&r->patched); }

unsigned long kube_events_dropped(kube_events *r) {
  /* never r->mu: in async mode the writer holds it across the API call */
  unsigned long n = atomic_load(&r->dropped);
  pthread_mutex_lock(&r->qmu);
  n += r->qdropped;
  pthread_mutex_unlock(&r->qmu);
  return n;
}
