/* writer.c - status writes in flight at once; see internal.h (rec_writer_*).
 *
 * A fixed pool of worker threads takes merge patches of status from a small bounded
 * ring and sends them through the rec_api (each call takes its own curl handle from the
 * kube_client's pool, and the client's write guard - the leader lease - is checked per
 * request as for any write). Ordering per object: a write to a path that is still queued
 * or in flight waits until that one is done before it is queued, so two writes to one
 * object never overtake each other; stages of a clearing are separated by
 * rec_writer_flush. With one writer (the default) writes are made inline, in order. */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define WRITER_MAX 32

typedef struct wjob {
  char *path;
  char *body;
  mbcas_rc *rc_out;
  int busy; /* queued or in flight */
} wjob;

struct rec_writer {
  const rec_api *api;
  int nthreads;
  pthread_t th[WRITER_MAX];
  pthread_mutex_t mu;
  pthread_cond_t cv_work, cv_done;
  wjob *ring;   /* slots; a job keeps its slot until done */
  size_t cap;
  size_t queued, inflight;
  size_t *order; /* FIFO of queued slot indices */
  size_t q_head, q_len;
  int stop;
};

/* The merge patch itself, with retries on 409 (the client already retried 429/5xx). */
static mbcas_rc patch_body(const rec_api *api, const char *path, const char *body) {
  mbcas_rc rc = MBCAS_ERR;
  for (int i = 0; i < 3; i++) {
    rc = api->patch(api->ctx, path, REC_PATCH_MERGE, body, NULL);
    if (rc != MBCAS_ECONFLICT) break;
  }
  if (rc != MBCAS_OK) LOG_WARN("status write failed", "path=%s err=%s", path, mbcas_strerror(rc));
  return rc;
}

static void *worker(void *arg) {
  rec_writer *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->stop && w->q_len == 0) pthread_cond_wait(&w->cv_work, &w->mu);
    if (w->q_len == 0 && w->stop) break;
    size_t slot = w->order[w->q_head];
    w->q_head = (w->q_head + 1) % w->cap;
    w->q_len--;
    w->queued--;
    w->inflight++;
    wjob *j = &w->ring[slot];
    pthread_mutex_unlock(&w->mu);
    mbcas_rc rc = patch_body(w->api, j->path, j->body);
    pthread_mutex_lock(&w->mu);
    if (j->rc_out) *j->rc_out = rc;
    free(j->path);
    free(j->body);
    j->path = j->body = NULL;
    j->busy = 0;
    w->inflight--;
    pthread_cond_broadcast(&w->cv_done);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

mbcas_rc rec_writer_new(rec_writer **out, const rec_api *api, int threads) {
  *out = NULL;
  if (threads <= 1) return MBCAS_OK; /* inline */
  if (threads > WRITER_MAX) threads = WRITER_MAX;
  rec_writer *w = calloc(1, sizeof *w);
  if (!w) return MBCAS_ENOMEM;
  w->api = api;
  w->cap = (size_t)threads * 2;
  w->ring = calloc(w->cap, sizeof *w->ring);
  w->order = calloc(w->cap, sizeof *w->order);
  if (!w->ring || !w->order) {
    free(w->ring);
    free(w->order);
    free(w);
    return MBCAS_ENOMEM;
  }
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv_work, NULL);
  pthread_cond_init(&w->cv_done, NULL);
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&w->th[i], NULL, worker, w) != 0) break;
    w->nthreads++;
  }
  if (w->nthreads == 0) {
    rec_writer_free(w);
    return MBCAS_ERR;
  }
  *out = w;
  return MBCAS_OK;
}

void rec_writer_free(rec_writer *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1; /* queued writes are still made: they may be decisions */
  pthread_cond_broadcast(&w->cv_work);
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < w->nthreads; i++) pthread_join(w->th[i], NULL);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv_work);
  pthread_cond_destroy(&w->cv_done);
  free(w->ring);
  free(w->order);
  free(w);
}

static int path_busy(const rec_writer *w, const char *path) {
  for (size_t i = 0; i < w->cap; i++)
    if (w->ring[i].busy && strcmp(w->ring[i].path, path) == 0) return 1;
  return 0;
}

mbcas_rc rec_writer_patch_status(rec_writer *w, const rec_api *api, const char *path,
                                 cJSON *status, mbcas_rc *rc_out) {
  if (rc_out) *rc_out = MBCAS_ERR;
  if (!status) {
    if (rc_out) *rc_out = MBCAS_ENOMEM;
    return MBCAS_ENOMEM;
  }
  cJSON *root = cJSON_CreateObject();
  if (!root) {
    cJSON_Delete(status);
    if (rc_out) *rc_out = MBCAS_ENOMEM;
    return MBCAS_ENOMEM;
  }
  cJSON_AddItemToObject(root, "status", status);
  char *body = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  char *p = body && w ? strdup(path) : NULL;
  if (!body || (w && !p)) {
    free(body);
    if (rc_out) *rc_out = MBCAS_ENOMEM;
    return MBCAS_ENOMEM;
  }
  if (!w) { /* inline */
    mbcas_rc rc = patch_body(api, path, body);
    free(body);
    if (rc_out) *rc_out = rc;
    return rc;
  }
  pthread_mutex_lock(&w->mu);
  /* Wait for a free slot, and for an earlier write to the same object to finish. */
  while (w->queued + w->inflight >= w->cap || path_busy(w, path))
    pthread_cond_wait(&w->cv_done, &w->mu);
  size_t slot = 0;
  while (w->ring[slot].busy) slot++;
  wjob *j = &w->ring[slot];
  j->path = p;
  j->body = body;
  j->rc_out = rc_out;
  j->busy = 1;
  w->order[(w->q_head + w->q_len) % w->cap] = slot;
  w->q_len++;
  w->queued++;
  pthread_cond_signal(&w->cv_work);
  pthread_mutex_unlock(&w->mu);
  return MBCAS_OK;
}

void rec_writer_flush(rec_writer *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  while (w->queued + w->inflight > 0) pthread_cond_wait(&w->cv_done, &w->mu);
  pthread_mutex_unlock(&w->mu);
}
