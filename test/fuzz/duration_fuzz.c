/* duration_fuzz.c - CRD durations (api/v1alpha1/duration.h).
 *
 * Input: the duration text. Besides "no crash": an accepted duration lies in
 * [0, 100000h], its compact text fits DURATION_STR_MAX and parses back to the
 * same number of milliseconds, and formatting that again gives the same text. */
#include "duration.h"
#include "fuzz_common.h"

#define DURATION_MAX_MS (100000LL * 3600 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size > 4096) return 0;
  char *s = fuzz_cstr(data, size);
  int64_t ms = -1;
  mbcas_err err;
  mbcas_err_clear(&err);
  mbcas_rc rc = duration_parse(&ms, s, "spec.interval", &err);
  FUZZ_TERMINATED(err.msg);
  FUZZ_TERMINATED(err.field);
  if (rc != MBCAS_OK) {
    FUZZ_ASSERT(rc == MBCAS_EINVAL && err.rc == rc);
    free(s);
    return 0;
  }
  FUZZ_ASSERT(ms >= 0 && ms <= DURATION_MAX_MS);
  char big[128], again[128];
  duration_format(ms, big, sizeof big);
  FUZZ_ASSERT(strlen(big) < DURATION_STR_MAX);
  int64_t back = -1;
  FUZZ_ASSERT(duration_parse(&back, big, NULL, NULL) == MBCAS_OK);
  FUZZ_ASSERT(back == ms);
  duration_format(back, again, sizeof again);
  FUZZ_ASSERT(strcmp(big, again) == 0);
  char small[DURATION_STR_MAX];
  duration_format(ms, small, sizeof small);
  FUZZ_ASSERT(strcmp(small, big) == 0);
  free(s);
  return 0;
}
