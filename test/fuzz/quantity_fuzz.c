/* quantity_fuzz.c - Kubernetes quantities (api/v1alpha1/quantity.h).
 *
 * Input: the quantity text. Besides "no crash": an accepted quantity is
 * normalized (no trailing zeros in the mantissa, exponent in [-9, 1000]), its
 * canonical text fits QUANTITY_STR_MAX, parses back to an equal value and formats
 * to the same text (canonical form is a fixed point; a BinarySI value printed as
 * a plain integer reads back as DecimalSI, as in Kubernetes, and is a fixed point
 * one round later); quantity_milli/value agree
 * with each other (value == ceil(milli / 1000)) and with quantity_parse_milli;
 * millis survive quantity_from_milli and quantity_format_milli. */
#include "fuzz_common.h"
#include "quantity.h"

static int64_t ceil_div_1000(int64_t a) { return a >= 0 ? a / 1000 + (a % 1000 != 0) : a / 1000; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size > 4096) return 0;
  char *s = fuzz_cstr(data, size);
  quantity q;
  mbcas_err err;
  mbcas_err_clear(&err);
  mbcas_rc rc = quantity_parse(&q, s, "spec.cpu", &err);
  FUZZ_TERMINATED(err.msg);
  FUZZ_TERMINATED(err.field);
  if (rc != MBCAS_OK) {
    FUZZ_ASSERT(rc == MBCAS_EINVAL && err.rc == rc);
    int64_t m;
    FUZZ_ASSERT(quantity_parse_milli(&m, s, NULL, NULL) != MBCAS_OK);
    free(s);
    return 0;
  }
  FUZZ_ASSERT(q.mant != 0 || q.exp == 0);
  FUZZ_ASSERT(q.mant == 0 || q.mant % 10 != 0);
  FUZZ_ASSERT(q.exp >= -9 && q.exp <= 1000);
  FUZZ_ASSERT(q.format >= QUANTITY_DECIMAL_SI && q.format <= QUANTITY_DECIMAL_EXPONENT);

  /* canonical text: fits, round-trips, is a fixed point */
  char big[256], again[256];
  quantity_format(&q, big, sizeof big);
  FUZZ_ASSERT(strlen(big) < QUANTITY_STR_MAX);
  quantity r;
  FUZZ_ASSERT(quantity_parse(&r, big, NULL, NULL) == MBCAS_OK);
  FUZZ_ASSERT(quantity_cmp(&q, &r) == 0 && quantity_cmp(&r, &q) == 0);
  FUZZ_ASSERT(quantity_sign(&q) == quantity_sign(&r));
  quantity_format(&r, again, sizeof again);
  if (q.format == QUANTITY_BINARY_SI && r.format == QUANTITY_DECIMAL_SI && strcmp(big, again) != 0) {
    /* As in Kubernetes: a BinarySI value that is not a multiple of 1024 prints as
     * a plain integer ("1024000000000576000"), which reads back as DecimalSI
     * ("1024000000000576k"); from there on the text is a fixed point. */
    quantity r2;
    char third[256];
    FUZZ_ASSERT(quantity_parse(&r2, again, NULL, NULL) == MBCAS_OK && quantity_cmp(&r2, &q) == 0);
    quantity_format(&r2, third, sizeof third);
    FUZZ_ASSERT(strcmp(again, third) == 0);
  } else {
    FUZZ_ASSERT(strcmp(big, again) == 0);
  }
  char small[QUANTITY_STR_MAX];
  quantity_format(&q, small, sizeof small);
  FUZZ_ASSERT(strcmp(small, big) == 0);

  /* comparison against zero agrees with the sign */
  quantity zero = quantity_from_milli(0);
  int c = quantity_cmp(&q, &zero);
  FUZZ_ASSERT((c > 0) - (c < 0) == quantity_sign(&q));

  /* millis and units */
  int64_t milli = 0, value = 0, pm = 0;
  mbcas_rc rm = quantity_milli(&milli, &q), rv = quantity_value(&value, &q);
  FUZZ_ASSERT(rm == MBCAS_OK || rm == MBCAS_EINVAL);
  FUZZ_ASSERT(rv == MBCAS_OK || rv == MBCAS_EINVAL);
  if (rm == MBCAS_OK) {
    FUZZ_ASSERT(rv == MBCAS_OK);
    FUZZ_ASSERT(value == ceil_div_1000(milli));
    FUZZ_ASSERT(quantity_parse_milli(&pm, s, "f", NULL) == MBCAS_OK && pm == milli);
    quantity fm = quantity_from_milli(milli);
    int64_t back = 0;
    FUZZ_ASSERT(quantity_milli(&back, &fm) == MBCAS_OK && back == milli);
    char mt[QUANTITY_STR_MAX];
    quantity_format_milli(milli, mt, sizeof mt);
    FUZZ_ASSERT(quantity_parse_milli(&back, mt, NULL, NULL) == MBCAS_OK && back == milli);
  } else {
    FUZZ_ASSERT(quantity_parse_milli(&pm, s, NULL, NULL) == MBCAS_EINVAL);
  }
  if (rv == MBCAS_OK) {
    quantity fb = quantity_from_bytes(value);
    int64_t back = 0;
    FUZZ_ASSERT(quantity_value(&back, &fb) == MBCAS_OK && back == value);
    char bt[QUANTITY_STR_MAX];
    quantity_format(&fb, bt, sizeof bt);
    quantity rb;
    FUZZ_ASSERT(quantity_parse(&rb, bt, NULL, NULL) == MBCAS_OK && quantity_cmp(&rb, &fb) == 0);
  }
  free(s);
  return 0;
}
