/* leader.c - Lease-based leader election. See leader.h.
 *
 * Sections: process-wide state, Lease over REST, the elector (one attempt,
 * thread loop), API. */
#include "leader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"

struct kube_leader {
  kube_lease_ops ops;
  void *ops_ud;
  kube_client *client;
  char *ns, *name, *identity;
  double lease_duration, renew_deadline, retry_period;
  int release_on_cancel, reacquire;
  kube_leader_callbacks cb;
  kube_clock_fn clock;
  void *clock_ud;
  kube_metric *m_status;
  int process_wide;

  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  int thread_started, stop;

  /* election state, under mu */
  kube_lease_record observed;
  int have_observed;
  double observed_time; /* our clock when observed last changed */
  int leading;
  double last_renew; /* our clock at the start of the last successful write */
  int lost;          /* leadership was lost since start */
  uint64_t rng;
};

static double now_of(kube_leader *l) { return l->clock ? l->clock(l->clock_ud) : kube_now(); }

/* ---- process-wide state ---- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static kube_leader *g_elector;
static int g_ever;

int kube_leader_is_leader(void) {
  pthread_mutex_lock(&g_mu);
  int r = !g_ever ? 1 : g_elector ? kube_leader_leading(g_elector) : 0;
  pthread_mutex_unlock(&g_mu);
  return r;
}

mbcas_rc kube_leader_write_guard(void *ud) {
  (void)ud;
  return kube_leader_is_leader() ? MBCAS_OK : MBCAS_ENOTLEADER;
}

mbcas_rc kube_leader_write_allowed(const char *group, const char *resource) {
  if (group && resource && strcmp(group, "coordination.k8s.io") == 0 &&
      strcmp(resource, "leases") == 0)
    return MBCAS_OK;
  return kube_leader_write_guard(NULL);
}

int kube_leader_rest_guard(void *ud, const kube_ref *ref, const char *verb) {
  (void)ud;
  (void)verb;
  return kube_leader_write_allowed(ref ? ref->group : NULL, ref ? ref->resource : NULL) == MBCAS_OK;
}

void kube_leader_reset_process_state(void) {
  pthread_mutex_lock(&g_mu);
  g_elector = NULL;
  g_ever = 0;
  pthread_mutex_unlock(&g_mu);
}

const char *kube_time_rfc3339_micro(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, len, "%s.%06ldZ", base, ts.tv_nsec / 1000);
  return buf;
}

/* ---- Lease over REST ---- */

static void copy_str(char *dst, size_t cap, const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  snprintf(dst, cap, "%s", cJSON_IsString(v) && v->valuestring ? v->valuestring : "");
}

static void lease_from_json(const cJSON *obj, kube_lease_record *out) {
  memset(out, 0, sizeof(*out));
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
  copy_str(out->resource_version, sizeof(out->resource_version), md, "resourceVersion");
  copy_str(out->holder, sizeof(out->holder), spec, "holderIdentity");
  copy_str(out->acquire_time, sizeof(out->acquire_time), spec, "acquireTime");
  copy_str(out->renew_time, sizeof(out->renew_time), spec, "renewTime");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
  out->lease_duration_seconds = cJSON_IsNumber(d) ? d->valueint : 0;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
  out->lease_transitions = cJSON_IsNumber(t) ? t->valueint : 0;
}

static cJSON *lease_to_json(const char *ns, const char *name, const kube_lease_record *r) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
  cJSON_AddStringToObject(o, "kind", "Lease");
  cJSON *md = cJSON_AddObjectToObject(o, "metadata");
  cJSON *spec = cJSON_AddObjectToObject(o, "spec");
  if (!md || !spec) {
    cJSON_Delete(o);
    return NULL;
  }
  cJSON_AddStringToObject(md, "name", name);
  cJSON_AddStringToObject(md, "namespace", ns);
  if (r->resource_version[0]) cJSON_AddStringToObject(md, "resourceVersion", r->resource_version);
  cJSON_AddStringToObject(spec, "holderIdentity", r->holder);
  cJSON_AddNumberToObject(spec, "leaseDurationSeconds", r->lease_duration_seconds);
  if (r->acquire_time[0]) cJSON_AddStringToObject(spec, "acquireTime", r->acquire_time);
  if (r->renew_time[0]) cJSON_AddStringToObject(spec, "renewTime", r->renew_time);
  if (!cJSON_AddNumberToObject(spec, "leaseTransitions", r->lease_transitions)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

#define LEASE_REF(ns_, name_)                                                                 \
  {.group = "coordination.k8s.io", .version = "v1", .resource = "leases", .ns = (ns_),        \
   .name = (name_)}

mbcas_rc kube_lease_get(kube_client *c, const char *ns, const char *name,
                        kube_lease_record *out) {
  kube_ref ref = LEASE_REF(ns, name);
  cJSON *obj = NULL;
  mbcas_rc rc = kube_get(c, &obj, &ref, NULL, NULL);
  if (rc == MBCAS_OK) lease_from_json(obj, out);
  cJSON_Delete(obj);
  return rc;
}

static mbcas_rc lease_write(kube_client *c, const char *ns, const char *name,
                            const kube_lease_record *rec, kube_lease_record *out, int create) {
  kube_ref ref = LEASE_REF(ns, name);
  cJSON *body = lease_to_json(ns, name, rec);
  if (!body) return MBCAS_ENOMEM;
  cJSON *got = NULL;
  kube_ref coll = ref;
  coll.name = NULL;
  mbcas_rc rc = create ? kube_create(c, &got, &coll, body, NULL, NULL, NULL)
                       : kube_update(c, &got, &ref, body, NULL, NULL, NULL);
  if (rc == MBCAS_OK && out) lease_from_json(got, out);
  cJSON_Delete(got);
  cJSON_Delete(body);
  return rc;
}

mbcas_rc kube_lease_create(kube_client *c, const char *ns, const char *name,
                           const kube_lease_record *rec, kube_lease_record *out) {
  return lease_write(c, ns, name, rec, out, 1);
}

mbcas_rc kube_lease_update(kube_client *c, const char *ns, const char *name,
                           const kube_lease_record *rec, kube_lease_record *out) {
  return lease_write(c, ns, name, rec, out, 0);
}

static mbcas_rc rest_get(void *ud, kube_lease_record *out) {
  kube_leader *l = ud;
  return kube_lease_get(l->client, l->ns, l->name, out);
}
static mbcas_rc rest_create(void *ud, const kube_lease_record *rec, kube_lease_record *out) {
  kube_leader *l = ud;
  return kube_lease_create(l->client, l->ns, l->name, rec, out);
}
static mbcas_rc rest_update(void *ud, const kube_lease_record *rec, kube_lease_record *out) {
  kube_leader *l = ud;
  return kube_lease_update(l->client, l->ns, l->name, rec, out);
}

/* ---- the elector ---- */

static int leading_locked(kube_leader *l, double now) {
  return l->leading && now < l->last_renew + l->renew_deadline;
}

static void set_status_metric(kube_leader *l, int v) {
  if (l->m_status) kube_metric_set(l->m_status, (const char *const[]){l->name}, v);
}

/* Callbacks to run after unlocking. */
typedef struct pending {
  int started, stopped, new_leader;
  char holder[256];
} pending;

static void run_callbacks(kube_leader *l, const pending *p) {
  if (p->new_leader && l->cb.new_leader) l->cb.new_leader(l->cb.ud, p->holder);
  if (p->stopped && l->cb.stopped_leading) l->cb.stopped_leading(l->cb.ud);
  if (p->started && l->cb.started_leading) l->cb.started_leading(l->cb.ud);
}

static void lose_locked(kube_leader *l, pending *p, const char *why) {
  if (!l->leading) return;
  l->leading = 0;
  l->lost = 1;
  p->stopped = 1;
  set_status_metric(l, 0);
  LOG_WARN("leadership lost", "lease=%s/%s identity=%s reason=%s", l->ns, l->name, l->identity,
           why);
}

/* Remember what we saw; notice holder changes. */
static void observe_locked(kube_leader *l, const kube_lease_record *rec, double now,
                           pending *p) {
  int changed = !l->have_observed || strcmp(rec->holder, l->observed.holder) != 0 ||
                strcmp(rec->renew_time, l->observed.renew_time) != 0 ||
                strcmp(rec->resource_version, l->observed.resource_version) != 0;
  if (!changed) return;
  if (!l->have_observed || strcmp(rec->holder, l->observed.holder) != 0) {
    p->new_leader = 1;
    snprintf(p->holder, sizeof(p->holder), "%s", rec->holder);
  }
  l->observed = *rec;
  l->have_observed = 1;
  l->observed_time = now;
}

mbcas_rc kube_leader_try(kube_leader *l) {
  if (!l) return MBCAS_EINVAL;
  pending p = {0};
  double now = now_of(l);
  kube_lease_record cur, want, stored;
  memset(&want, 0, sizeof(want));
  memset(&stored, 0, sizeof(stored));
  char wall[40];
  kube_time_rfc3339_micro(wall, sizeof(wall));
  mbcas_rc rc = l->ops.get(l->ops_ud, &cur);

  pthread_mutex_lock(&l->mu);
  if (rc == MBCAS_ENOTFOUND) {
    snprintf(want.holder, sizeof(want.holder), "%s", l->identity);
    want.lease_duration_seconds = (int)(l->lease_duration + 0.5);
    snprintf(want.acquire_time, sizeof(want.acquire_time), "%s", wall);
    snprintf(want.renew_time, sizeof(want.renew_time), "%s", wall);
    pthread_mutex_unlock(&l->mu);
    rc = l->ops.create(l->ops_ud, &want, &stored);
    pthread_mutex_lock(&l->mu);
  } else if (rc == MBCAS_OK) {
    observe_locked(l, &cur, now, &p);
    double dur = cur.lease_duration_seconds > 0 ? cur.lease_duration_seconds : l->lease_duration;
    int mine = strcmp(cur.holder, l->identity) == 0;
    if (cur.holder[0] && !mine && l->observed_time + dur > now) {
      lose_locked(l, &p, "held by another identity");
      rc = MBCAS_ENOTLEADER;
    } else {
      want = cur;
      snprintf(want.holder, sizeof(want.holder), "%s", l->identity);
      want.lease_duration_seconds = (int)(l->lease_duration + 0.5);
      snprintf(want.renew_time, sizeof(want.renew_time), "%s", wall);
      if (!mine) {
        snprintf(want.acquire_time, sizeof(want.acquire_time), "%s", wall);
        want.lease_transitions = cur.lease_transitions + 1;
      }
      pthread_mutex_unlock(&l->mu);
      rc = l->ops.update(l->ops_ud, &want, &stored);
      pthread_mutex_lock(&l->mu);
    }
  }

  if (rc == MBCAS_OK) {
    if (!stored.holder[0]) stored = want; /* ops that do not echo the record */
    observe_locked(l, &stored, now, &p);
    if (!leading_locked(l, now_of(l))) {
      /* Not leading, or the deadline passed while we waited: start afresh. */
      if (l->leading) lose_locked(l, &p, "renew deadline passed");
      l->leading = 1;
      p.started = 1;
      set_status_metric(l, 1);
      LOG_INFO("leadership acquired", "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
    }
    l->last_renew = now;
  } else if (l->leading && now_of(l) >= l->last_renew + l->renew_deadline) {
    lose_locked(l, &p, "renew deadline passed");
  }
  pthread_mutex_unlock(&l->mu);
  run_callbacks(l, &p);
  return rc;
}

static double jitter(kube_leader *l, double base) {
  l->rng ^= l->rng << 13;
  l->rng ^= l->rng >> 7;
  l->rng ^= l->rng << 17;
  return base * (1.0 + 0.2 * (double)(l->rng >> 11) / (double)(1ULL << 53));
}

/* Sleep up to seconds of real time, or until stop. Returns 1 when stopping. */
static int wait_or_stop(kube_leader *l, double seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long ns = ts.tv_nsec + (long long)(seconds * 1e9);
  ts.tv_sec += (time_t)(ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  pthread_mutex_lock(&l->mu);
  while (!l->stop) {
    if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) != 0) break;
  }
  int s = l->stop;
  pthread_mutex_unlock(&l->mu);
  return s;
}

static void release(kube_leader *l) {
  kube_lease_record cur, want;
  if (l->ops.get(l->ops_ud, &cur) != MBCAS_OK || strcmp(cur.holder, l->identity) != 0) return;
  want = cur;
  char wall[40];
  kube_time_rfc3339_micro(wall, sizeof(wall));
  want.holder[0] = '\0';
  want.lease_duration_seconds = 1;
  snprintf(want.renew_time, sizeof(want.renew_time), "%s", wall);
  snprintf(want.acquire_time, sizeof(want.acquire_time), "%s", wall);
  mbcas_rc rc = l->ops.update(l->ops_ud, &want, NULL);
  LOG_INFO("lease released", "lease=%s/%s identity=%s rc=%s", l->ns, l->name, l->identity,
           mbcas_strerror(rc));
}

static void *run(void *arg) {
  kube_leader *l = arg;
  for (;;) {
    kube_leader_try(l);
    pthread_mutex_lock(&l->mu);
    int leading = l->leading, give_up = l->lost && !leading && !l->reacquire;
    pthread_mutex_unlock(&l->mu);
    if (give_up) break;
    if (wait_or_stop(l, leading ? l->retry_period : jitter(l, l->retry_period))) break;
  }
  return NULL;
}

/* ---- API ---- */

mbcas_rc kube_leader_new(kube_leader **out, const kube_leader_opts *o) {
  *out = NULL;
  if (!o || !o->ns || !*o->ns || !o->name || !*o->name) return MBCAS_EINVAL;
  if (!o->ops && !o->client) return MBCAS_EINVAL;
  if (o->ops && (!o->ops->get || !o->ops->create || !o->ops->update)) return MBCAS_EINVAL;
  double ld = o->lease_duration > 0 ? o->lease_duration : 15;
  double rd = o->renew_deadline > 0 ? o->renew_deadline : 10;
  double rp = o->retry_period > 0 ? o->retry_period : 2;
  if (!(ld > rd) || !(rd > rp * 1.2)) return MBCAS_EINVAL; /* client-go's checks */
  kube_leader *l = calloc(1, sizeof(*l));
  if (!l) return MBCAS_ENOMEM;
  l->lease_duration = ld;
  l->renew_deadline = rd;
  l->retry_period = rp;
  l->client = o->client;
  if (o->ops) {
    l->ops = *o->ops;
    l->ops_ud = o->ops_ud;
  } else {
    l->ops = (kube_lease_ops){rest_get, rest_create, rest_update};
    l->ops_ud = l;
  }
  l->release_on_cancel = o->release_on_cancel;
  l->reacquire = o->reacquire;
  l->cb = o->cb;
  l->clock = o->clock;
  l->clock_ud = o->clock_ud;
  l->process_wide = o->process_wide;
  l->ns = strdup(o->ns);
  l->name = strdup(o->name);
  if (o->identity && *o->identity) {
    l->identity = strdup(o->identity);
  } else {
    char host[200] = "";
    gethostname(host, sizeof(host) - 1);
    char id[256];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(id, sizeof(id), "%s_%08lx%04x", host[0] ? host : "mbcas",
             (unsigned long)(ts.tv_nsec ^ (long)getpid() << 8), (unsigned)getpid() & 0xffff);
    l->identity = strdup(id);
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  l->rng = ((uint64_t)ts.tv_nsec << 17) ^ (uint64_t)(uintptr_t)l ^ 0x9E3779B97F4A7C15ULL;
  pthread_mutex_init(&l->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&l->cv, &ca);
  pthread_condattr_destroy(&ca);
  mbcas_rc rc = l->ns && l->name && l->identity ? MBCAS_OK : MBCAS_ENOMEM;
  if (rc == MBCAS_OK && o->metrics) {
    rc = kube_metrics_gauge(o->metrics, &l->m_status, "leader_election_master_status",
                            "Gauge of if the reporting system is master of the relevant lease, "
                            "0 indicates backup, 1 indicates master. 'name' is the string used "
                            "to identify the lease.",
                            "name");
    if (rc == MBCAS_OK) set_status_metric(l, 0);
  }
  if (rc != MBCAS_OK) {
    kube_leader_free(l);
    return rc;
  }
  if (l->process_wide) {
    pthread_mutex_lock(&g_mu);
    g_elector = l;
    g_ever = 1;
    pthread_mutex_unlock(&g_mu);
  }
  *out = l;
  return MBCAS_OK;
}

mbcas_rc kube_leader_start(kube_leader *l) {
  if (!l || l->thread_started) return MBCAS_EINVAL;
  l->stop = 0;
  if (pthread_create(&l->thread, NULL, run, l) != 0) return MBCAS_ERR;
  l->thread_started = 1;
  LOG_INFO("leader election started", "lease=%s/%s identity=%s", l->ns, l->name, l->identity);
  return MBCAS_OK;
}

void kube_leader_stop(kube_leader *l) {
  if (!l) return;
  if (l->thread_started) {
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->thread_started = 0;
  }
  pending p = {0};
  pthread_mutex_lock(&l->mu);
  int was = l->leading;
  if (was) {
    l->leading = 0;
    p.stopped = 1;
    set_status_metric(l, 0);
  }
  pthread_mutex_unlock(&l->mu);
  if (was && l->release_on_cancel) release(l);
  run_callbacks(l, &p);
}

void kube_leader_free(kube_leader *l) {
  if (!l) return;
  pthread_mutex_lock(&g_mu);
  if (g_elector == l) g_elector = NULL;
  pthread_mutex_unlock(&g_mu);
  if (l->ns && l->name && l->identity) kube_leader_stop(l);
  pthread_cond_destroy(&l->cv);
  pthread_mutex_destroy(&l->mu);
  free(l->ns);
  free(l->name);
  free(l->identity);
  free(l);
}

int kube_leader_leading(kube_leader *l) {
  if (!l) return 0;
  double now = now_of(l);
  pthread_mutex_lock(&l->mu);
  int r = leading_locked(l, now);
  pthread_mutex_unlock(&l->mu);
  return r;
}

int kube_leader_state_known(kube_leader *l) {
  if (!l) return 0;
  pthread_mutex_lock(&l->mu);
  int r = l->leading || l->have_observed;
  pthread_mutex_unlock(&l->mu);
  return r;
}

mbcas_rc kube_leader_ready_check(void *ud, char *why, size_t why_len) {
  if (kube_leader_state_known(ud)) return MBCAS_OK;
  if (why && why_len) snprintf(why, why_len, "leader election state not known yet");
  return MBCAS_EUNAVAILABLE;
}

const char *kube_leader_holder(kube_leader *l, char *buf, size_t len) {
  pthread_mutex_lock(&l->mu);
  snprintf(buf, len, "%s", l->have_observed ? l->observed.holder : "");
  pthread_mutex_unlock(&l->mu);
  return buf;
}

const char *kube_leader_identity(kube_leader *l) { return l ? l->identity : NULL; }
