/* watch.h - list-then-watch, as an explicit state machine (kube-rs style).
 *
 * Two parts. kube_ndjson is an incremental decoder for the newline-delimited JSON
 * of a watch stream: bytes go in as they arrive, whole lines come out, an event
 * split across chunks is joined, several in one chunk are split, and a line longer
 * than a hard maximum is an error (the buffer never grows past it).
 * kube_watcher is the watcher: a state enum and one step function with one switch.
 * EMPTY -> (INIT) -> INIT_PAGE (list pages with limit/continue, one INIT_APPLY per
 * item) -> (INIT_DONE) -> INIT_LISTED (holds the list resourceVersion) -> WATCHING
 * (APPLY / DELETE per event; bookmarks move the resourceVersion). A stream that ends
 * (timeoutSeconds) goes back to INIT_LISTED and resumes from the last RV; a 410
 * (ERROR event or HTTP) goes back to EMPTY: full relist. Errors come out as ERROR
 * events; the watcher never sleeps - the caller backs off (backoff.h). Data comes
 * through a kube_watch_transport, so tests replay pages, events and drops without
 * a network; kube_watch_transport_rest() binds one to a kube_client.
 *
 * Owns: the current page, the open stream, the decoder buffer. Events hand their
 * object to the caller. Thread safety: a watcher belongs to one thread. */
#ifndef MBCAS_KUBE_WATCH_H
#define MBCAS_KUBE_WATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "rest.h"
#include "result.h"

/* ---------- newline-delimited JSON decoder ---------- */

typedef struct kube_ndjson {
  char *buf;
  size_t len;      /* bytes held */
  size_t start;    /* first byte not yet returned */
  size_t scan;     /* bytes before this are known to hold no '\n' (from start) */
  size_t tail;     /* offset just after the last '\n' held (start of the unfinished line) */
  size_t cap;
  size_t max_line; /* hard maximum of one line (bytes, without '\n') */
  int overflow;    /* a line exceeded max_line; reset clears it */
} kube_ndjson;

#define KUBE_NDJSON_DEFAULT_MAX (16u * 1024u * 1024u)

/* max_line 0: KUBE_NDJSON_DEFAULT_MAX. */
void kube_ndjson_init(kube_ndjson *d, size_t max_line);
void kube_ndjson_free(kube_ndjson *d);
/* Drop everything held (a new stream). */
void kube_ndjson_reset(kube_ndjson *d);
/* Append bytes. MBCAS_EINVAL when the unfinished line would exceed max_line
 * (the decoder then holds nothing until reset), MBCAS_ENOMEM. */
mbcas_rc kube_ndjson_feed(kube_ndjson *d, const char *data, size_t n);
/* Next complete line (without '\n', '\r' stripped, NUL-terminated, empty lines
 * skipped), valid until the next feed/next/reset. Returns 1 with a line, 0 when
 * none is complete. */
int kube_ndjson_next(kube_ndjson *d, char **line, size_t *len);
/* Bytes of an unfinished line held (a stream ending here was truncated). */
size_t kube_ndjson_pending(const kube_ndjson *d);

/* ---------- transport ---------- */

typedef struct kube_watch_transport {
  /* One LIST page with opts (limit, continue, selectors); *out is the List. */
  mbcas_rc (*list)(void *ud, cJSON **out, const kube_list_opts *opts, kube_status *st);
  /* Open a WATCH with opts (resource_version, timeout_seconds, bookmarks, selectors). */
  mbcas_rc (*open)(void *ud, void **stream, const kube_list_opts *opts, kube_status *st);
  /* Same contract as kube_stream_read(). */
  mbcas_rc (*read)(void *ud, void *stream, char *buf, size_t cap, size_t *n, int timeout_ms);
  void (*close)(void *ud, void *stream);
  void (*free)(void *ud); /* releases ud; may be NULL */
  void *ud;
} kube_watch_transport;

/* A transport over a kube_client for ref (group/version/resource/ns; name and
 * subresource must be NULL). The strings are copied. */
mbcas_rc kube_watch_transport_rest(kube_watch_transport *t, kube_client *c, const kube_ref *ref);

/* ---------- watcher ---------- */

typedef enum {
  KUBE_WS_EMPTY = 0,   /* next: start a full LIST */
  KUBE_WS_INIT_PAGE,   /* handing out a page's items, then the next page */
  KUBE_WS_INIT_LISTED, /* have a resourceVersion, next: open a WATCH */
  KUBE_WS_WATCHING     /* reading the stream */
} kube_watch_state;

typedef enum {
  KUBE_WE_NONE = 0,   /* a step without an event (read timeout, renewal) */
  KUBE_WE_INIT,       /* a relist starts: begin a fresh buffer */
  KUBE_WE_INIT_APPLY, /* one listed object */
  KUBE_WE_INIT_DONE,  /* the list is complete: swap the buffer in */
  KUBE_WE_APPLY,      /* ADDED or MODIFIED */
  KUBE_WE_DELETE,     /* DELETED (object is the last state) */
  KUBE_WE_ERROR       /* rc/st say what; caller should back off */
} kube_watch_event_type;

typedef struct kube_watch_event {
  kube_watch_event_type type;
  cJSON *object;  /* owned by the event (INIT_APPLY, APPLY, DELETE) */
  mbcas_rc rc;    /* ERROR: MBCAS_EGONE (relisting), MBCAS_EUNAVAILABLE, ... */
  kube_status st; /* ERROR: decoded Status when there was one */
} kube_watch_event;

typedef struct kube_watcher_opts {
  const char *label_selector;
  const char *field_selector;
  long page_size;        /* LIST limit; 0: 500 */
  int timeout_seconds;   /* watch timeoutSeconds; 0: 290 (random 5-10 min in client-go) */
  int no_bookmarks;      /* 1: do not ask for bookmarks */
  int read_timeout_ms;   /* how long one step may wait for bytes; 0: 1000 */
  size_t max_line;       /* decoder maximum; 0: default */
} kube_watcher_opts;

typedef struct kube_watcher kube_watcher;

/* Takes over the transport (its free is called by kube_watcher_free), also on
 * failure. opts may be NULL. */
mbcas_rc kube_watcher_new(kube_watcher **out, kube_watch_transport *t, const kube_watcher_opts *opts);
void kube_watcher_free(kube_watcher *w);
/* Perform one transition. ev is cleared first; MBCAS_ENOMEM is the only
 * failure return (everything else is an ERROR event). */
mbcas_rc kube_watcher_step(kube_watcher *w, kube_watch_event *ev);
kube_watch_state kube_watcher_state(const kube_watcher *w);
/* Last resourceVersion seen ("" before the first list). Borrowed. */
const char *kube_watcher_rv(const kube_watcher *w);
/* Counters: watch streams opened, full relists started (the first list counts). */
unsigned long kube_watcher_watches(const kube_watcher *w);
unsigned long kube_watcher_relists(const kube_watcher *w);
/* Force a full relist on the next step (closes an open stream). */
void kube_watcher_relist(kube_watcher *w);
void kube_watch_event_clear(kube_watch_event *ev);

#endif
