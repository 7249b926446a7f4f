/* test_duration.c - duration.h: Go-style parsing and compact formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

static void test_parse(void **st) {
  (void)st;
  static const struct {
    const char *in;
    int64_t ms;
  } ok[] = {
      {"15s", 15000},    {"2m30s", 150000}, {"1h", 3600000},     {"1.5h", 5400000},   {"250ms", 250},
      {"0", 0},          {"0s", 0},         {"1h0m1s", 3601000}, {"1.5ms", 1},        {"0.5s", 500},
      {"24h", 86400000}, {"1m1ms", 60001},  {"90s", 90000},      {"168h", 604800000}, {"1.25s", 1250},
      {"1s500ms", 1500},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t v = -1;
    mbcas_err err;
    if (duration_parse(&v, ok[i].in, "f", &err) != MBCAS_OK) fail_msg("%s: %s", ok[i].in, err.msg);
    if (v != ok[i].ms) fail_msg("%s: %lld", ok[i].in, (long long)v);
  }
  static const char *bad[] = {"",
                              "15",
                              "s",
                              "1d",
                              "1.s",
                              "-1s",
                              "15 s",
                              "1us",
                              "1ns",
                              ".5s",
                              "1h-1m",
                              "00",
                              "1e3s",
                              "100000001h",
                              "1hh",
                              "300000000000h",
                              "99999999999999999999s"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mbcas_err err;
    mbcas_err_clear(&err);
    int64_t v;
    if (duration_parse(&v, bad[i], "spec.staleAfter", &err) != MBCAS_EINVAL)
      fail_msg("accepted \"%s\"", bad[i]);
    assert_string_equal(err.field, "spec.staleAfter");
  }
  assert_int_equal(duration_parse(NULL, NULL, NULL, NULL), MBCAS_EINVAL);
}

static void test_format(void **st) {
  (void)st;
  char b[DURATION_STR_MAX];
  static const struct {
    int64_t ms;
    const char *s;
  } f[] = {
      {0, "0s"},           {250, "250ms"},     {1000, "1s"},      {1500, "1.5s"},
      {1250, "1.25s"},     {1001, "1.001s"},   {90000, "1m30s"},  {3600000, "1h"},
      {3601000, "1h0m1s"}, {5400000, "1h30m"}, {86400000, "24h"}, {-5, "0s"},
  };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    assert_string_equal(duration_format(f[i].ms, b, sizeof b), f[i].s);
  for (int64_t v = 0; v < 10000000; v += 9973) {
    int64_t back;
    duration_format(v, b, sizeof b);
    assert_int_equal(duration_parse(&back, b, NULL, NULL), MBCAS_OK);
    assert_int_equal(back, v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_format)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
