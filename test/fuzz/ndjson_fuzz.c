/* ndjson_fuzz.c - the watch-stream line decoder (kube_ndjson, operator/kube/watch.h).
 *
 * Input: byte 0 picks the maximum line (default 16 MiB, or 1, 2, 7, 64, 300, 4096)
 * and how lines are drained (after every chunk, every other chunk, only at the
 * end); byte 1 seeds the chunk sizes; the rest is the stream. The stream is fed
 * in pseudo-random chunks (1 byte up to the whole rest) and checked against a
 * reference split on '\n' (one trailing '\r' stripped, empty lines skipped):
 *  - every line returned is NUL-terminated at its length and equals the next
 *    reference line; no line is longer than the maximum;
 *  - without overflow all reference lines come out and kube_ndjson_pending() is
 *    the length of the unfinished tail; an overflow happens exactly when some
 *    line is too long (a line of exactly max bytes plus '\r' may go either way);
 *  - after an overflow feed() keeps failing and next() returns nothing until
 *    reset; after reset the decoder, fed the whole stream at once, agrees too. */
#include "fuzz_common.h"
#include "watch.h"

static const size_t max_lines[8] = {0, 1, 2, 7, 64, 300, 4096, 0};

typedef struct ref_line {
  size_t off, len;
} ref_line;

typedef struct reference {
  ref_line *lines;
  size_t n;
  size_t tail_len;    /* bytes after the last '\n' */
  int must_overflow;  /* some line (stripped) or the tail is longer than max */
  int may_overflow;   /* some line is longer than max counting its '\r' */
} reference;

static void build_ref(reference *r, const char *s, size_t n, size_t max) {
  memset(r, 0, sizeof *r);
  r->lines = malloc((n + 1) * sizeof *r->lines);
  FUZZ_ASSERT(r->lines != NULL);
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\n') continue;
    size_t raw = i - start, l = raw;
    if (l > 0 && s[start + l - 1] == '\r') l--;
    if (l > max) r->must_overflow = 1;
    if (raw > max) r->may_overflow = 1;
    if (l > 0) r->lines[r->n++] = (ref_line){start, l};
    start = i + 1;
  }
  r->tail_len = n - start;
  if (r->tail_len > max) r->must_overflow = r->may_overflow = 1;
}

/* Drain complete lines, checking each against the reference. */
static void drain(kube_ndjson *d, const reference *r, const char *s, size_t *got, size_t max) {
  char *line;
  size_t len;
  while (kube_ndjson_next(d, &line, &len)) {
    FUZZ_ASSERT(*got < r->n);
    FUZZ_ASSERT(len > 0 && len <= max);
    FUZZ_ASSERT(line[len] == '\0');
    FUZZ_ASSERT(len == r->lines[*got].len);
    FUZZ_ASSERT(memcmp(line, s + r->lines[*got].off, len) == 0);
    (*got)++;
  }
}

static void check_end(kube_ndjson *d, const reference *r, size_t got) {
  if (d->overflow) {
    FUZZ_ASSERT(r->may_overflow);
    char *line;
    size_t len;
    FUZZ_ASSERT(kube_ndjson_feed(d, "x\n", 2) == MBCAS_EINVAL);
    FUZZ_ASSERT(kube_ndjson_next(d, &line, &len) == 0);
  } else {
    FUZZ_ASSERT(!r->must_overflow);
    FUZZ_ASSERT(got == r->n);
    FUZZ_ASSERT(kube_ndjson_pending(d) == r->tail_len);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size < 2) return 0;
  size_t max = max_lines[data[0] & 7];
  int drain_mode = (data[0] >> 3) & 3; /* 0,3: every chunk, 1: every other, 2: at the end */
  fuzz_rng rng;
  fuzz_rng_seed(&rng, data[1]);
  const char *s = (const char *)data + 2;
  size_t n = size - 2;

  kube_ndjson d;
  kube_ndjson_init(&d, max);
  size_t eff_max = d.max_line;
  FUZZ_ASSERT(eff_max == (max ? max : KUBE_NDJSON_DEFAULT_MAX));
  reference r;
  build_ref(&r, s, n, eff_max);

  /* chunked */
  size_t pos = 0, got = 0, chunk_no = 0;
  while (pos < n) {
    size_t c = fuzz_rng_range(&rng, 1, n - pos);
    if (fuzz_rng_next(&rng) & 1) c = c > 16 ? (c & 15) + 1 : c; /* favour small chunks */
    char *copy = fuzz_copy((const uint8_t *)s + pos, c); /* exact size: over-reads show */
    mbcas_rc rc = kube_ndjson_feed(&d, copy, c);
    free(copy);
    FUZZ_ASSERT(rc == MBCAS_OK || rc == MBCAS_EINVAL);
    if (rc == MBCAS_EINVAL) {
      FUZZ_ASSERT(d.overflow);
      break;
    }
    pos += c;
    chunk_no++;
    if (drain_mode == 0 || drain_mode == 3 || (drain_mode == 1 && chunk_no % 2 == 0)) drain(&d, &r, s, &got, eff_max);
    if (d.overflow) break;
  }
  if (!d.overflow) drain(&d, &r, s, &got, eff_max);
  check_end(&d, &r, got);

  /* reset, then everything in one feed */
  kube_ndjson_reset(&d);
  FUZZ_ASSERT(kube_ndjson_pending(&d) == 0 && !d.overflow);
  got = 0;
  char *all = fuzz_copy((const uint8_t *)s, n);
  mbcas_rc rc = kube_ndjson_feed(&d, all, n);
  free(all);
  FUZZ_ASSERT(rc == MBCAS_OK || (rc == MBCAS_EINVAL && d.overflow));
  if (rc == MBCAS_OK) drain(&d, &r, s, &got, eff_max);
  check_end(&d, &r, got);

  kube_ndjson_free(&d);
  kube_ndjson_free(&d); /* free twice is harmless: it clears the struct */
  free(r.lines);
  return 0;
}
