/* watch.c - ndjson decoder and the watcher state machine. See watch.h. */
#include "watch.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---------- decoder ---------- */

void kube_ndjson_init(kube_ndjson *d, size_t max_line) {
  memset(d, 0, sizeof *d);
  d->max_line = max_line ? max_line : KUBE_NDJSON_DEFAULT_MAX;
}

void kube_ndjson_free(kube_ndjson *d) {
  free(d->buf);
  memset(d, 0, sizeof *d);
}

void kube_ndjson_reset(kube_ndjson *d) {
  d->len = d->start = d->scan = d->tail = 0;
  d->overflow = 0;
}

size_t kube_ndjson_pending(const kube_ndjson *d) { return d->len - d->start; }

mbcas_rc kube_ndjson_feed(kube_ndjson *d, const char *data, size_t n) {
  if (d->overflow) return MBCAS_EINVAL;
  if (d->start > 0) { /* compact: drop returned lines */
    memmove(d->buf, d->buf + d->start, d->len - d->start);
    d->len -= d->start;
    d->scan = d->scan > d->start ? d->scan - d->start : 0;
    d->tail = d->tail > d->start ? d->tail - d->start : 0;
    d->start = 0;
  }
  /* the unfinished line after this chunk must respect max_line */
  const char *last_nl = n ? memrchr(data, '\n', n) : NULL;
  size_t new_tail = last_nl ? d->len + (size_t)(last_nl - data) + 1 : d->tail;
  if (d->len + n - new_tail > d->max_line) {
    d->overflow = 1;
    d->len = d->start = d->scan = d->tail = 0;
    return MBCAS_EINVAL;
  }
  /* complete lines inside data must too; checked in next() */
  if (d->len + n + 1 > d->cap) {
    size_t nc = d->cap ? d->cap : 65536;
    while (nc < d->len + n + 1) nc *= 2;
    char *nb = realloc(d->buf, nc);
    if (!nb) return MBCAS_ENOMEM;
    d->buf = nb;
    d->cap = nc;
  }
  memcpy(d->buf + d->len, data, n);
  d->len += n;
  d->tail = new_tail;
  return MBCAS_OK;
}

int kube_ndjson_next(kube_ndjson *d, char **line, size_t *len) {
  while (d->start < d->len) {
    size_t from = d->scan > d->start ? d->scan : d->start;
    char *nl = memchr(d->buf + from, '\n', d->len - from);
    if (!nl) {
      d->scan = d->len;
      return 0;
    }
    char *s = d->buf + d->start;
    size_t l = (size_t)(nl - s);
    d->start += l + 1;
    d->scan = d->start;
    if (l > 0 && s[l - 1] == '\r') l--;
    if (l == 0) continue;
    if (l > d->max_line) {
      /* a line that arrived whole within one chunk can still be too long */
      d->overflow = 1;
      d->len = d->start = d->scan = d->tail = 0;
      return 0;
    }
    s[l] = '\0';
    *line = s;
    *len = l;
    return 1;
  }
  return 0;
}

/* ---------- REST transport ---------- */

typedef struct rest_src {
  kube_client *c;
  char *group, *version, *resource, *ns;
} rest_src;

static kube_ref src_ref(const rest_src *s) {
  kube_ref r = {s->group, s->version, s->resource, s->ns, NULL, NULL};
  return r;
}

static mbcas_rc rest_list(void *ud, cJSON **out, const kube_list_opts *o, kube_status *st) {
  rest_src *s = ud;
  kube_ref r = src_ref(s);
  return kube_list(s->c, out, &r, o, st, NULL);
}

static mbcas_rc rest_open(void *ud, void **stream, const kube_list_opts *o, kube_status *st) {
  rest_src *s = ud;
  kube_ref r = src_ref(s);
  kube_list_opts wo = *o;
  wo.watch = 1;
  char *path = kube_ref_path(&r, &wo);
  if (!path) return MBCAS_ENOMEM;
  kube_stream *ks = NULL;
  mbcas_rc rc = kube_stream_open(s->c, &ks, path, st, NULL);
  free(path);
  *stream = ks;
  return rc;
}

static mbcas_rc rest_read(void *ud, void *stream, char *buf, size_t cap, size_t *n, int timeout_ms) {
  return kube_stream_read(stream, buf, cap, n, timeout_ms);
}

static void rest_close(void *ud, void *stream) { kube_stream_close(stream); }

static void rest_free(void *ud) {
  rest_src *s = ud;
  if (!s) return;
  free(s->group);
  free(s->version);
  free(s->resource);
  free(s->ns);
  free(s);
}

static int dup_opt(char **dst, const char *src) {
  if (!src) return 0;
  *dst = strdup(src);
  return *dst ? 0 : -1;
}

mbcas_rc kube_watch_transport_rest(kube_watch_transport *t, kube_client *c, const kube_ref *ref) {
  memset(t, 0, sizeof *t);
  if (!c || !ref || !ref->version || !ref->resource || ref->name || ref->subresource)
    return MBCAS_EINVAL;
  rest_src *s = calloc(1, sizeof *s);
  if (!s) return MBCAS_ENOMEM;
  s->c = c;
  if (dup_opt(&s->group, ref->group) || dup_opt(&s->version, ref->version) ||
      dup_opt(&s->resource, ref->resource) || dup_opt(&s->ns, ref->ns)) {
    rest_free(s);
    return MBCAS_ENOMEM;
  }
  t->list = rest_list;
  t->open = rest_open;
  t->read = rest_read;
  t->close = rest_close;
  t->free = rest_free;
  t->ud = s;
  return MBCAS_OK;
}

/* ---------- watcher ---------- */

#define RV_MAX 128
#define READ_CHUNK 65536

struct kube_watcher {
  kube_watch_transport t;
  kube_watcher_opts o;
  char *label_selector, *field_selector;
  kube_watch_state state;
  char rv[RV_MAX];
  char *cont;      /* continue token of the next page, NULL: none */
  cJSON *page;     /* current page (items are detached as handed out) */
  int page_loaded;
  void *stream;
  kube_ndjson dec;
  char *chunk;
  unsigned long watches, relists;
};

mbcas_rc kube_watcher_new(kube_watcher **out, kube_watch_transport *t, const kube_watcher_opts *opts) {
  *out = NULL;
  kube_watcher *w = calloc(1, sizeof *w);
  if (w) w->chunk = malloc(READ_CHUNK);
  if (!w || !w->chunk) {
    if (w) free(w);
    if (t->free) t->free(t->ud);
    return MBCAS_ENOMEM;
  }
  w->t = *t;
  memset(t, 0, sizeof *t);
  if (opts) w->o = *opts;
  if (w->o.page_size <= 0) w->o.page_size = 500;
  if (w->o.timeout_seconds <= 0) w->o.timeout_seconds = 290;
  if (w->o.read_timeout_ms <= 0) w->o.read_timeout_ms = 1000;
  if (dup_opt(&w->label_selector, w->o.label_selector) || dup_opt(&w->field_selector, w->o.field_selector)) {
    kube_watcher_free(w);
    return MBCAS_ENOMEM;
  }
  w->o.label_selector = w->label_selector;
  w->o.field_selector = w->field_selector;
  kube_ndjson_init(&w->dec, w->o.max_line);
  w->state = KUBE_WS_EMPTY;
  *out = w;
  return MBCAS_OK;
}

static void close_stream(kube_watcher *w) {
  if (w->stream) w->t.close(w->t.ud, w->stream);
  w->stream = NULL;
  kube_ndjson_reset(&w->dec);
}

static void drop_page(kube_watcher *w) {
  cJSON_Delete(w->page);
  w->page = NULL;
  w->page_loaded = 0;
  free(w->cont);
  w->cont = NULL;
}

void kube_watcher_free(kube_watcher *w) {
  if (!w) return;
  close_stream(w);
  drop_page(w);
  kube_ndjson_free(&w->dec);
  if (w->t.free) w->t.free(w->t.ud);
  free(w->label_selector);
  free(w->field_selector);
  free(w->chunk);
  free(w);
}

kube_watch_state kube_watcher_state(const kube_watcher *w) { return w->state; }
const char *kube_watcher_rv(const kube_watcher *w) { return w->rv; }
unsigned long kube_watcher_watches(const kube_watcher *w) { return w->watches; }
unsigned long kube_watcher_relists(const kube_watcher *w) { return w->relists; }

void kube_watcher_relist(kube_watcher *w) {
  close_stream(w);
  drop_page(w);
  w->state = KUBE_WS_EMPTY;
}

void kube_watch_event_clear(kube_watch_event *ev) {
  if (!ev) return;
  cJSON_Delete(ev->object);
  memset(ev, 0, sizeof *ev);
}

static void set_rv(kube_watcher *w, const cJSON *obj) {
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
  const char *rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "resourceVersion"));
  if (rv && *rv && strlen(rv) < RV_MAX) snprintf(w->rv, RV_MAX, "%s", rv);
}

static void error_event(kube_watch_event *ev, mbcas_rc rc, const kube_status *st, const char *msg) {
  ev->type = KUBE_WE_ERROR;
  ev->rc = rc;
  if (st) ev->st = *st;
  if (msg && !ev->st.message[0]) snprintf(ev->st.message, sizeof ev->st.message, "%s", msg);
}

/* A whole line from the stream -> event. */
static mbcas_rc handle_line(kube_watcher *w, char *line, size_t len, kube_watch_event *ev) {
  cJSON *j = cJSON_ParseWithLength(line, len);
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
  cJSON *obj = cJSON_GetObjectItemCaseSensitive(j, "object");
  if (!j || !type || !cJSON_IsObject(obj)) {
    cJSON_Delete(j);
    /* the stream is no longer trustworthy: resume from the last good RV */
    close_stream(w);
    w->state = KUBE_WS_INIT_LISTED;
    error_event(ev, MBCAS_EINVAL, NULL, "malformed watch event");
    return MBCAS_OK;
  }
  if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") || !strcmp(type, "DELETED")) {
    set_rv(w, obj);
    ev->type = type[0] == 'D' ? KUBE_WE_DELETE : KUBE_WE_APPLY;
    ev->object = cJSON_DetachItemViaPointer(j, obj);
  } else if (!strcmp(type, "BOOKMARK")) {
    set_rv(w, obj);
    ev->type = KUBE_WE_NONE;
  } else if (!strcmp(type, "ERROR")) {
    kube_status st = {0};
    char *txt = cJSON_PrintUnformatted(obj);
    kube_status_decode(&st, 0, txt, txt ? strlen(txt) : 0);
    free(txt);
    close_stream(w);
    if (st.code == 410 || !strcmp(st.reason, "Expired") || !strcmp(st.reason, "Gone")) {
      w->state = KUBE_WS_EMPTY;
      w->rv[0] = '\0';
      error_event(ev, MBCAS_EGONE, &st, "resource version too old");
    } else {
      /* an ERROR event is a failure whatever code its Status claims (even 2xx) */
      mbcas_rc rc = st.code ? kube_rc_from_http(st.code) : MBCAS_ERR;
      w->state = KUBE_WS_INIT_LISTED;
      error_event(ev, rc == MBCAS_OK ? MBCAS_ERR : rc, &st, "watch error event");
    }
  } else {
    LOG_DEBUG("watch: unknown event type", "type=%s", type);
    ev->type = KUBE_WE_NONE;
  }
  cJSON_Delete(j);
  return MBCAS_OK;
}

mbcas_rc kube_watcher_step(kube_watcher *w, kube_watch_event *ev) {
  memset(ev, 0, sizeof *ev);
  switch (w->state) {
  case KUBE_WS_EMPTY:
    drop_page(w);
    close_stream(w);
    w->relists++;
    w->state = KUBE_WS_INIT_PAGE;
    ev->type = KUBE_WE_INIT;
    return MBCAS_OK;

  case KUBE_WS_INIT_PAGE: {
    if (w->page_loaded) {
      cJSON *items = cJSON_GetObjectItemCaseSensitive(w->page, "items");
      cJSON *it = cJSON_IsArray(items) ? cJSON_DetachItemFromArray(items, 0) : NULL;
      if (it) {
        ev->type = KUBE_WE_INIT_APPLY;
        ev->object = it;
        return MBCAS_OK;
      }
      cJSON_Delete(w->page);
      w->page = NULL;
      w->page_loaded = 0;
      if (!w->cont) {
        w->state = KUBE_WS_INIT_LISTED;
        ev->type = KUBE_WE_INIT_DONE;
        return MBCAS_OK;
      }
    }
    kube_list_opts lo = {.label_selector = w->o.label_selector,
                         .field_selector = w->o.field_selector,
                         .limit = w->o.page_size,
                         .continue_token = w->cont};
    kube_status st = {0};
    cJSON *page = NULL;
    mbcas_rc rc = w->t.list(w->t.ud, &page, &lo, &st);
    if (rc == MBCAS_ENOMEM) return rc;
    if (rc != MBCAS_OK) {
      /* a failed initial list starts over; an expired continue token (410) too */
      drop_page(w);
      w->state = KUBE_WS_EMPTY;
      error_event(ev, rc, &st, "list failed");
      return MBCAS_OK;
    }
    free(w->cont);
    w->cont = NULL;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(page, "metadata");
    const char *ct = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "continue"));
    const char *rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "resourceVersion"));
    if (ct && *ct && !(w->cont = strdup(ct))) {
      cJSON_Delete(page);
      return MBCAS_ENOMEM;
    }
    if (!ct || !*ct) {
      if (!rv || !*rv || strlen(rv) >= RV_MAX) {
        cJSON_Delete(page);
        drop_page(w);
        w->state = KUBE_WS_EMPTY;
        error_event(ev, MBCAS_EINVAL, NULL, "list without resourceVersion");
        return MBCAS_OK;
      }
      snprintf(w->rv, RV_MAX, "%s", rv);
    }
    w->page = page;
    w->page_loaded = 1;
    ev->type = KUBE_WE_NONE;
    return MBCAS_OK;
  }

  case KUBE_WS_INIT_LISTED: {
    kube_list_opts lo = {.label_selector = w->o.label_selector,
                         .field_selector = w->o.field_selector,
                         .resource_version = w->rv,
                         .timeout_seconds = w->o.timeout_seconds,
                         .allow_bookmarks = !w->o.no_bookmarks,
                         .watch = 1};
    kube_status st = {0};
    void *stream = NULL;
    mbcas_rc rc = w->t.open(w->t.ud, &stream, &lo, &st);
    if (rc == MBCAS_ENOMEM) return rc;
    if (rc == MBCAS_EGONE) {
      w->state = KUBE_WS_EMPTY;
      w->rv[0] = '\0';
      error_event(ev, rc, &st, "watch: resource version too old");
      return MBCAS_OK;
    }
    if (rc != MBCAS_OK) {
      error_event(ev, rc, &st, "watch failed");
      return MBCAS_OK;
    }
    w->stream = stream;
    w->watches++;
    kube_ndjson_reset(&w->dec);
    w->state = KUBE_WS_WATCHING;
    ev->type = KUBE_WE_NONE;
    return MBCAS_OK;
  }

  case KUBE_WS_WATCHING: {
    char *line;
    size_t len;
    if (kube_ndjson_next(&w->dec, &line, &len)) return handle_line(w, line, len, ev);
    if (w->dec.overflow) {
      close_stream(w);
      w->state = KUBE_WS_INIT_LISTED;
      error_event(ev, MBCAS_EINVAL, NULL, "watch event larger than the maximum line");
      return MBCAS_OK;
    }
    size_t n = 0;
    mbcas_rc rc = w->t.read(w->t.ud, w->stream, w->chunk, READ_CHUNK, &n, w->o.read_timeout_ms);
    if (rc == MBCAS_ETIMEOUT) {
      ev->type = KUBE_WE_NONE;
      return MBCAS_OK;
    }
    if (rc == MBCAS_OK && n == 0) { /* clean end: timeoutSeconds renewal */
      size_t pend = kube_ndjson_pending(&w->dec);
      close_stream(w);
      w->state = KUBE_WS_INIT_LISTED;
      if (pend) {
        error_event(ev, MBCAS_EINVAL, NULL, "watch stream ended inside an event");
        return MBCAS_OK;
      }
      ev->type = KUBE_WE_NONE;
      return MBCAS_OK;
    }
    if (rc != MBCAS_OK) {
      close_stream(w);
      w->state = KUBE_WS_INIT_LISTED;
      error_event(ev, rc, NULL, "watch connection dropped");
      return MBCAS_OK;
    }
    rc = kube_ndjson_feed(&w->dec, w->chunk, n);
    if (rc == MBCAS_ENOMEM) return rc;
    if (rc != MBCAS_OK) {
      close_stream(w);
      w->state = KUBE_WS_INIT_LISTED;
      error_event(ev, MBCAS_EINVAL, NULL, "watch event larger than the maximum line");
      return MBCAS_OK;
    }
    if (kube_ndjson_next(&w->dec, &line, &len)) return handle_line(w, line, len, ev);
    if (w->dec.overflow) {
      close_stream(w);
      w->state = KUBE_WS_INIT_LISTED;
      error_event(ev, MBCAS_EINVAL, NULL, "watch event larger than the maximum line");
      return MBCAS_OK;
    }
    ev->type = KUBE_WE_NONE;
    return MBCAS_OK;
  }
  }
  return MBCAS_ERR;
}
