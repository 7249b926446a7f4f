/* watch_fuzz.c - the watcher's event decoding (kube_watcher, operator/kube/watch.h).
 *
 * A kube_watcher runs over a scripted transport (no network):
 *   byte 0  bits 0-1  decoder maximum line: default, 128, 1024, 16384
 *           bit 2     the first LIST pages come from the input (its first line)
 *           bit 3     ask for pages of 1 (continue tokens are followed)
 *           bits 4-7  seed of the read chunk sizes, timeouts and forced relists
 *   then    the watch stream bytes (after the page line when bit 2 is set).
 * The stream is handed out in pseudo-random chunks (1..4096 bytes) with
 * occasional read timeouts; when it is used up the stream ends cleanly and the
 * next open fails, which ends the run. Lists beyond the third (or all, without
 * bit 2) return a fixed valid page. Invariants: step() only returns MBCAS_OK;
 * APPLY/DELETE/INIT_APPLY carry an object and other events none; an ERROR
 * event has rc != MBCAS_OK and terminated Status texts; the resourceVersion is
 * a terminated string; the transport never sees a read on a closed stream, a
 * double close or a second open while one is open; all memory is freed. */
#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "watch.h"

static const size_t max_lines[4] = {0, 128, 1024, 16384};

static const char fixed_page[] =
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"100\"},"
    "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"default\",\"resourceVersion\":\"99\"}}]}";

typedef struct script {
  const char *page;   /* LIST answer from the input, NULL: fixed */
  size_t page_len;
  const char *stream; /* watch bytes */
  size_t len, pos;
  int open;           /* a stream is open */
  int exhausted;      /* the stream was used up: next open fails */
  int opens, lists, freed;
  fuzz_rng rng;
} script;

static mbcas_rc t_list(void *ud, cJSON **out, const kube_list_opts *opts, kube_status *st) {
  script *sc = ud;
  FUZZ_ASSERT(out && opts && st);
  FUZZ_ASSERT(!opts->watch);
  *out = NULL;
  sc->lists++;
  if (sc->page && sc->lists <= 3) {
    char *copy = fuzz_copy((const uint8_t *)sc->page, sc->page_len);
    *out = cJSON_ParseWithLength(copy, sc->page_len);
    free(copy);
    if (!*out) {
      kube_status_decode(st, 500, sc->page, sc->page_len);
      return MBCAS_EUNAVAILABLE;
    }
    return MBCAS_OK;
  }
  *out = cJSON_Parse(fixed_page);
  FUZZ_ASSERT(*out != NULL);
  return MBCAS_OK;
}

static mbcas_rc t_open(void *ud, void **stream, const kube_list_opts *opts, kube_status *st) {
  script *sc = ud;
  FUZZ_ASSERT(stream && opts && st);
  FUZZ_ASSERT(opts->watch);
  FUZZ_ASSERT(!sc->open);
  FUZZ_ASSERT(opts->resource_version != NULL);
  if (sc->exhausted || sc->opens >= 8) {
    sc->exhausted = 1;
    st->code = 503;
    return MBCAS_EUNAVAILABLE;
  }
  sc->opens++;
  sc->open = 1;
  *stream = sc;
  return MBCAS_OK;
}

static mbcas_rc t_read(void *ud, void *stream, char *buf, size_t cap, size_t *n, int timeout_ms) {
  script *sc = ud;
  FUZZ_ASSERT(stream == sc && sc->open);
  FUZZ_ASSERT(buf && cap > 0 && n);
  *n = 0;
  if (sc->pos >= sc->len) {
    sc->exhausted = 1;
    return MBCAS_OK; /* clean end */
  }
  uint32_t roll = fuzz_rng_next(&sc->rng);
  if ((roll & 15) == 0) return MBCAS_ETIMEOUT;
  if ((roll & 63) == 1) return MBCAS_EUNAVAILABLE; /* connection dropped */
  size_t c = fuzz_rng_range(&sc->rng, 1, 4096);
  if (c > sc->len - sc->pos) c = sc->len - sc->pos;
  if (c > cap) c = cap;
  memcpy(buf, sc->stream + sc->pos, c);
  sc->pos += c;
  *n = c;
  return MBCAS_OK;
}

static void t_close(void *ud, void *stream) {
  script *sc = ud;
  FUZZ_ASSERT(stream == sc && sc->open);
  sc->open = 0;
}

static void t_free(void *ud) {
  script *sc = ud;
  sc->freed++;
}

static void check_event(const kube_watch_event *ev) {
  switch (ev->type) {
  case KUBE_WE_INIT_APPLY:
  case KUBE_WE_APPLY:
  case KUBE_WE_DELETE:
    FUZZ_ASSERT(ev->object != NULL);
    FUZZ_ASSERT(ev->rc == MBCAS_OK);
    break;
  case KUBE_WE_ERROR:
    FUZZ_ASSERT(ev->object == NULL);
    FUZZ_ASSERT(ev->rc != MBCAS_OK);
    break;
  case KUBE_WE_NONE:
  case KUBE_WE_INIT:
  case KUBE_WE_INIT_DONE:
    FUZZ_ASSERT(ev->object == NULL);
    break;
  default:
    FUZZ_ASSERT(!"unknown event type");
  }
  FUZZ_TERMINATED(ev->st.reason);
  FUZZ_TERMINATED(ev->st.message);
  FUZZ_TERMINATED(ev->st.details_name);
  FUZZ_TERMINATED(ev->st.details_kind);
  FUZZ_TERMINATED(ev->st.details_group);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size < 1 || size > 1024 * 1024) return 0;
  script sc;
  memset(&sc, 0, sizeof sc);
  fuzz_rng_seed(&sc.rng, data[0] >> 4);
  const char *rest = (const char *)data + 1;
  size_t rest_len = size - 1;
  if (data[0] & 4) {
    const char *nl = memchr(rest, '\n', rest_len);
    size_t pl = nl ? (size_t)(nl - rest) : rest_len;
    sc.page = rest;
    sc.page_len = pl;
    rest += nl ? pl + 1 : pl;
    rest_len -= nl ? pl + 1 : pl;
  }
  sc.stream = rest;
  sc.len = rest_len;

  kube_watch_transport t = {t_list, t_open, t_read, t_close, t_free, &sc};
  kube_watcher_opts o = {.label_selector = "app=web",
                         .page_size = (data[0] & 8) ? 1 : 0,
                         .read_timeout_ms = 1,
                         .max_line = max_lines[data[0] & 3]};
  kube_watcher *w = NULL;
  FUZZ_ASSERT(kube_watcher_new(&w, &t, &o) == MBCAS_OK);
  FUZZ_ASSERT(t.list == NULL && t.ud == NULL); /* taken over */
  FUZZ_ASSERT(kube_watcher_state(w) == KUBE_WS_EMPTY);

  /* Enough steps to drain the stream a byte at a time, bounded. */
  size_t max_steps = 64 + 4 * sc.len, fails_after_end = 0;
  for (size_t i = 0; i < max_steps; i++) {
    kube_watch_event ev;
    mbcas_rc rc = kube_watcher_step(w, &ev);
    FUZZ_ASSERT(rc == MBCAS_OK);
    check_event(&ev);
    const char *rv = kube_watcher_rv(w);
    FUZZ_ASSERT(rv != NULL && strlen(rv) < 128);
    kube_watch_state s = kube_watcher_state(w);
    FUZZ_ASSERT(s >= KUBE_WS_EMPTY && s <= KUBE_WS_WATCHING);
    FUZZ_ASSERT((s == KUBE_WS_WATCHING) == (sc.open == 1));
    kube_watch_event_clear(&ev);
    FUZZ_ASSERT(ev.object == NULL && ev.type == KUBE_WE_NONE);
    if ((fuzz_rng_next(&sc.rng) & 255) == 7) {
      kube_watcher_relist(w);
      FUZZ_ASSERT(kube_watcher_state(w) == KUBE_WS_EMPTY && !sc.open);
    }
    if (sc.exhausted && !sc.open && ++fails_after_end > 8) break;
  }
  FUZZ_ASSERT(kube_watcher_watches(w) == (unsigned long)sc.opens);
  FUZZ_ASSERT(kube_watcher_relists(w) >= 1);
  kube_watcher_free(w);
  FUZZ_ASSERT(sc.freed == 1 && !sc.open);
  kube_watch_event_clear(NULL);
  return 0;
}
