/* test_quantity.c - quantity.h against Kubernetes' canonical forms (what
 * resource.MustParse(s).String() prints) and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "quantity.h"

static const struct {
  const char *in, *canon;
} canonical[] = {
    {"0", "0"},
    {"0m", "0"},
    {"0Gi", "0"},
    {"1", "1"},
    {"+1", "1"},
    {"-1", "-1"},
    {"010", "10"},
    {"1.", "1"},
    {".5", "500m"},
    {"0.5", "500m"},
    {"1.5", "1500m"},
    {"1.1", "1100m"},
    {"250m", "250m"},
    {"1000m", "1"},
    {"1001m", "1001m"},
    {"1500", "1500"},
    {"2000", "2k"},
    {"2k", "2k"},
    {"1000k", "1M"},
    {"1M", "1M"},
    {"100u", "100u"},
    {"0.1m", "100u"},
    {"1n", "1n"},
    {"0.0000000001", "1n"},
    {"1.0000000001", "1000000001n"},
    {"1Ki", "1Ki"},
    {"1024Ki", "1Mi"},
    {"1.5Gi", "1536Mi"},
    {"0.5Gi", "512Mi"},
    {"1.5Ki", "1536"},
    {"1000Ki", "1000Ki"},
    {"2Gi", "2Gi"},
    {"1Ei", "1Ei"},
    {"0.5Ki", "512"},
    {"5242880", "5242880"},
    {"1e3", "1e3"},
    {"1E3", "1e3"},
    {"12e6", "12e6"},
    {"1.5e3", "1500"},
    {"1e-3", "1e-3"},
    {"100e-3", "100e-3"},
    {"1E", "1E"},
    {"2E", "2E"},
    {"1e0", "1"},
    {"123456789012345678", "123456789012345678"},
    {"12345E", "12345E"},
    {"7Ei", "7Ei"},
    /* beyond E: exponent form, as Quantity.String() since kubernetes/kubernetes#140459 */
    {"1000E", "1e21"},
    {"-1000E", "-1e21"},
    {"1e21", "1e21"},
    {"10000000000000000000000000000000000000000E", "10e57"},
    {"1e1000", "10e999"},
};

static void test_canonical_forms(void **st) {
  (void)st;
  for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
    quantity q;
    mbcas_err err;
    char buf[QUANTITY_STR_MAX];
    if (quantity_parse(&q, canonical[i].in, "x", &err) != MBCAS_OK)
      fail_msg("parse %s: %s", canonical[i].in, err.msg);
    quantity_format(&q, buf, sizeof buf);
    if (strcmp(buf, canonical[i].canon) != 0)
      fail_msg("%s: got %s, want %s", canonical[i].in, buf, canonical[i].canon);
    /* canonical text is a fixed point */
    quantity q2;
    assert_int_equal(quantity_parse(&q2, buf, "x", NULL), MBCAS_OK);
    assert_int_equal(quantity_cmp(&q, &q2), 0);
  }
}

static void test_malformed(void **st) {
  (void)st;
  static const char *bad[] = {
      "",    " 1",     "1 ", "1.2.3",  "abc",  "1Kb",  "1ki",  "e3",  "1e", "1e+",
      "--1", "Mi",     ".",  "1e3.5",  "1Ki3", "0x10", "1 Gi", "1mm", "m",  "1234567890123456789",
      "8Ei", "1e1001", "+",  "1.5.Mi", "١"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mbcas_err err;
    mbcas_err_clear(&err);
    quantity q;
    if (quantity_parse(&q, bad[i], "spec.cpu.min", &err) != MBCAS_EINVAL) fail_msg("accepted \"%s\"", bad[i]);
    assert_string_equal(err.field, "spec.cpu.min");
    assert_true(strlen(err.msg) > 0);
  }
  assert_int_equal(quantity_parse(NULL, NULL, NULL, NULL), MBCAS_EINVAL);
}

static void test_milli_and_value(void **st) {
  (void)st;
  static const struct {
    const char *in;
    int64_t milli, value;
  } cases[] = {
      {"250m", 250, 1},       {"1.5", 1500, 2},     {"2", 2000, 2},
      {"0.1m", 1, 1},         {"1n", 1, 1},         {"2Gi", 2147483648000LL, 2147483648LL},
      {"1e3", 1000000, 1000}, {"0", 0, 0},          {"1Ki", 1024000, 1024},
      {"-1500m", -1500, -1},  {"100", 100000, 100},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    quantity q;
    int64_t m, v;
    assert_int_equal(quantity_parse(&q, cases[i].in, NULL, NULL), MBCAS_OK);
    assert_int_equal(quantity_milli(&m, &q), MBCAS_OK);
    assert_int_equal(quantity_value(&v, &q), MBCAS_OK);
    if (m != cases[i].milli || v != cases[i].value)
      fail_msg("%s: milli %lld value %lld", cases[i].in, (long long)m, (long long)v);
  }
  quantity q;
  int64_t m;
  assert_int_equal(quantity_parse(&q, "7Ei", NULL, NULL), MBCAS_OK);
  assert_int_equal(quantity_milli(&m, &q), MBCAS_EINVAL); /* 7Ei in millis overflows */
  assert_int_equal(quantity_value(&m, &q), MBCAS_OK);
  assert_int_equal(m, 7LL << 60);
  assert_int_equal(quantity_parse_milli(&m, "750m", "f", NULL), MBCAS_OK);
  assert_int_equal(m, 750);
  mbcas_err err;
  assert_int_equal(quantity_parse_milli(&m, "7Ei", "f", &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "f");
  assert_int_equal(quantity_parse_milli(&m, "x", "f", &err), MBCAS_EINVAL);
}

static void test_cmp_sign(void **st) {
  (void)st;
  static const struct {
    const char *a, *b;
    int want;
  } cases[] = {
      {"1", "1000m", 0},
      {"1Ki", "1024", 0},
      {"1.5", "1499m", 1},
      {"-1", "0", -1},
      {"-2", "-1", -1},
      {"1k", "999", 1},
      {"1n", "0", 1},
      {"1e3", "1k", 0},
      {"1E", "1e18", 0},
      {"0.5Gi", "512Mi", 0},
      {"999999999999999999", "1E", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    quantity a, b;
    assert_int_equal(quantity_parse(&a, cases[i].a, NULL, NULL), MBCAS_OK);
    assert_int_equal(quantity_parse(&b, cases[i].b, NULL, NULL), MBCAS_OK);
    int c = quantity_cmp(&a, &b);
    c = c < 0 ? -1 : c > 0;
    if (c != cases[i].want) fail_msg("%s vs %s: %d", cases[i].a, cases[i].b, c);
    int r = quantity_cmp(&b, &a);
    r = r < 0 ? -1 : r > 0;
    assert_int_equal(r, -cases[i].want);
  }
  quantity z = quantity_from_milli(0), p = quantity_from_milli(5), n = quantity_from_milli(-5);
  assert_int_equal(quantity_sign(&z), 0);
  assert_int_equal(quantity_sign(&p), 1);
  assert_int_equal(quantity_sign(&n), -1);
}

static void test_from_and_format(void **st) {
  (void)st;
  char b[QUANTITY_STR_MAX];
  static const struct {
    int64_t milli;
    const char *s;
  } m[] = {{0, "0"},        {250, "250m"}, {1000, "1"},    {1500, "1500m"},
           {2000000, "2k"}, {12, "12m"},   {-500, "-500m"}};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    assert_string_equal(quantity_format_milli(m[i].milli, b, sizeof b), m[i].s);
  quantity q = quantity_from_bytes(1073741824);
  assert_string_equal(quantity_format(&q, b, sizeof b), "1Gi");
  q = quantity_from_bytes(1000);
  assert_string_equal(quantity_format(&q, b, sizeof b), "1k"); /* < 1024: DecimalSI */
  q = quantity_from_bytes(1536);
  assert_string_equal(quantity_format(&q, b, sizeof b), "1536");
  /* every millicore value round-trips through text */
  for (int64_t v = 0; v < 5000; v += 7) {
    int64_t back;
    quantity_format_milli(v, b, sizeof b);
    assert_int_equal(quantity_parse_milli(&back, b, NULL, NULL), MBCAS_OK);
    assert_int_equal(back, v);
  }
  /* a tiny buffer is still terminated */
  char tiny[3];
  quantity_format_milli(123456, tiny, sizeof tiny);
  assert_int_equal(strlen(tiny), 2);
}

/* The fuzz findings (docs/fuzzing.md, test/fuzz/corpus/quantity/): values beyond E
 * and binary values with more than 18 digits must either be refused or format to a
 * canonical text that reads back to the same value and the same text. */
static void test_fuzz_findings(void **st) {
  (void)st;
  static const struct {
    const char *in, *canon; /* canon NULL: refused */
    const char *why;
  } cases[] = {
      {"-1000000000000000000000000000000000000000000000000000000000", "-1e57", NULL}, /* was UB */
      {"-11000000000000000000000000000000000000000000000000000000000Pi", NULL, "2^63-1"},
      {"10000000000000000000000000000000000000000E", "10e57", NULL}, /* was "1...0e27" */
      {"10100000000000000000000000000000000000000000P", "10100e54", NULL},
      {"100000Ei", NULL, "2^63-1"},                /* was 2^60 x 10^5, printed as "...k" */
      {"11000000000000000000000000000000000000000Pi", NULL, "2^63-1"},
      {"8Ei", NULL, "2^63-1"},                     /* Kubernetes caps it at 2^63-1 */
      {".1Ei", NULL, "significant digits"},        /* 115292150460684697.6: 19 digits */
      {"4503599627370495.5Ki", NULL, "significant digits"}, /* 2^62-512 */
      {"-.1Ei", NULL, "significant digits"},
      {"7.5Ei", "7680Pi", NULL},
      {"1023.999Ki", "1048574976m", NULL},
      {".0000000001Ki", "103n", NULL}, /* 102.4n rounds up to 103n */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    quantity q, r;
    mbcas_err err;
    mbcas_err_clear(&err);
    char a[QUANTITY_STR_MAX], b[QUANTITY_STR_MAX];
    mbcas_rc rc = quantity_parse(&q, cases[i].in, "spec.memory", &err);
    if (!cases[i].canon) {
      if (rc != MBCAS_EINVAL) fail_msg("accepted %s as %s", cases[i].in, quantity_format(&q, a, sizeof a));
      assert_string_equal(err.field, "spec.memory");
      if (!strstr(err.msg, cases[i].why)) fail_msg("%s: message \"%s\"", cases[i].in, err.msg);
      continue;
    }
    if (rc != MBCAS_OK) fail_msg("refused %s: %s", cases[i].in, err.msg);
    quantity_format(&q, a, sizeof a);
    if (strcmp(a, cases[i].canon) != 0) fail_msg("%s: got %s, want %s", cases[i].in, a, cases[i].canon);
    assert_int_equal(quantity_parse(&r, a, NULL, NULL), MBCAS_OK);
    assert_int_equal(quantity_cmp(&q, &r), 0);
    assert_string_equal(quantity_format(&r, b, sizeof b), a);
  }
  /* every magnitude and sign, DecimalSI and BinarySI: accepted means round-trips */
  static const char *sufs[] = {"", "m", "k", "E", "Ki", "Pi", "Ei", "e40", "e-5"};
  char in[128];
  for (int nz = 0; nz < 70; nz++) {
    for (size_t k = 0; k < sizeof sufs / sizeof sufs[0]; k++) {
      for (int neg = 0; neg < 2; neg++) {
        for (int lead = 1; lead <= 999; lead += 249) {
          int n = snprintf(in, sizeof in, "%s%d", neg ? "-" : "", lead);
          for (int z = 0; z < nz; z++) in[n++] = '0';
          snprintf(in + n, sizeof in - (size_t)n, "%s", sufs[k]);
          quantity q, r;
          if (quantity_parse(&q, in, NULL, NULL) != MBCAS_OK) continue;
          char a[QUANTITY_STR_MAX], b[QUANTITY_STR_MAX];
          quantity_format(&q, a, sizeof a);
          if (quantity_parse(&r, a, NULL, NULL) != MBCAS_OK) fail_msg("%s -> %s does not parse", in, a);
          if (quantity_cmp(&q, &r) != 0) fail_msg("%s -> %s changes value", in, a);
          quantity_format(&r, b, sizeof b);
          if (strcmp(a, b) != 0) {
            /* a BinarySI integer that is not a multiple of 1024 prints as a plain
             * integer, which reads back as DecimalSI (as in Kubernetes) */
            quantity r2;
            char c[QUANTITY_STR_MAX];
            assert_int_equal(quantity_parse(&r2, b, NULL, NULL), MBCAS_OK);
            if (q.format != QUANTITY_BINARY_SI || strcmp(quantity_format(&r2, c, sizeof c), b) != 0)
              fail_msg("%s -> %s -> %s", in, a, b);
          }
        }
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical_forms), cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_milli_and_value), cmocka_unit_test(test_cmp_sign),
      cmocka_unit_test(test_from_and_format), cmocka_unit_test(test_fuzz_findings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
