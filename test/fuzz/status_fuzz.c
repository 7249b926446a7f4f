/* status_fuzz.c - metav1.Status error bodies (kube_status_decode, operator/kube/rest.h).
 *
 * Input: byte 0 picks the HTTP code the body came with (0 = none, as for a watch
 * ERROR event), the rest is the body, passed with its length and without a
 * terminator. Every text field must come out terminated, the code must stay
 * the HTTP code when there was one, and a Retry-After already in st survives a
 * body without one. kube_rc_from_http() of the result is exercised too. */
#include "fuzz_common.h"
#include "rest.h"

static const long codes[] = {0, 200, 400, 401, 403, 404, 409, 410, 422, 429, 500, 503, 504, 999, -1, 100};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size < 1) return 0;
  long http = codes[data[0] & 15];
  int preset_ra = (data[0] >> 4) & 7;
  char *body = fuzz_copy(data + 1, size - 1);
  kube_status st;
  memset(&st, 0x5a, sizeof st); /* garbage: decode must overwrite everything */
  st.retry_after_seconds = preset_ra;
  kube_status_decode(&st, http, body, size - 1);
  FUZZ_TERMINATED(st.reason);
  FUZZ_TERMINATED(st.message);
  FUZZ_TERMINATED(st.details_name);
  FUZZ_TERMINATED(st.details_kind);
  FUZZ_TERMINATED(st.details_group);
  if (http != 0) FUZZ_ASSERT(st.code == (int)http);
  FUZZ_ASSERT(st.retry_after_seconds >= 0);
  if (size == 1) FUZZ_ASSERT(st.retry_after_seconds == preset_ra && st.message[0] == '\0');
  mbcas_rc rc = kube_rc_from_http(st.code);
  FUZZ_ASSERT(rc <= 0);
  if (st.code >= 200 && st.code < 300) FUZZ_ASSERT(rc == MBCAS_OK);
  kube_status_decode(NULL, http, body, size - 1); /* NULL st is allowed */
  free(body);
  return 0;
}
