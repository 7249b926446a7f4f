/* test_meta.c - meta.h: ObjectMeta fields and RFC 3339 times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "meta.h"

static void test_time(void **st) {
  (void)st;
  char b[API_TIME_STR_MAX];
  assert_string_equal(api_time_format(0, b, sizeof b), "1970-01-01T00:00:00Z");
  assert_string_equal(api_time_format(1795000000, b, sizeof b), "2026-11-18T11:06:40Z");
  time_t t;
  assert_int_equal(api_time_parse(&t, "2026-11-18T11:06:40Z", "f", NULL), MBCAS_OK);
  assert_int_equal(t, 1795000000);
  assert_int_equal(api_time_parse(&t, "2026-11-18T11:06:40.123456Z", "f", NULL), MBCAS_OK);
  assert_int_equal(t, 1795000000);
  assert_int_equal(api_time_parse(&t, "2026-11-18T12:06:40+01:00", "f", NULL), MBCAS_OK);
  assert_int_equal(t, 1795000000);
  assert_int_equal(api_time_parse(&t, "2000-02-29T00:00:00Z", "f", NULL), MBCAS_OK);
  assert_int_equal(t, 951782400);
  static const char *bad[] = {"",
                              "2026-11-18",
                              "2026-11-18T11:06:40",
                              "2026-13-01T00:00:00Z",
                              "2026-11-18T11:06:40Zx",
                              "2026-11-18 09:46:40Z",
                              "yesterday",
                              " 2026-11-18T11:06:40Z",
                              "2026-11-18T11:06:4Z",
                              "+026-11-18T11:06:40Z",
                              "2026-11-18T11:06:40."};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mbcas_err err;
    if (api_time_parse(&t, bad[i], "status.lastClearingTime", &err) != MBCAS_EINVAL)
      fail_msg("accepted %s", bad[i]);
    assert_string_equal(err.field, "status.lastClearingTime");
  }
  for (time_t x = 0; x < 4000000000; x += 86399 * 37) {
    assert_int_equal(api_time_parse(&t, api_time_format(x, b, sizeof b), NULL, NULL), MBCAS_OK);
    assert_int_equal(t, x);
  }
}

/* Fuzz finding (test/fuzz/corpus/{servicebudget,scalingmarket,agentpolicy}/time-year-*):
 * years before 1000 were written with 3 digits (strftime %Y), and a UTC year after
 * 9999 reached through an offset was accepted but could not be written back. */
static void test_time_four_digit_years(void **st) {
  (void)st;
  char b[API_TIME_STR_MAX];
  time_t t;
  assert_int_equal(api_time_parse(&t, "0696-11-23T18:59:12Z", "f", NULL), MBCAS_OK);
  assert_string_equal(api_time_format(t, b, sizeof b), "0696-11-23T18:59:12Z");
  assert_int_equal(api_time_parse(&t, "0001-01-01T00:00:00Z", "f", NULL), MBCAS_OK);
  assert_string_equal(api_time_format(t, b, sizeof b), "0001-01-01T00:00:00Z");
  assert_int_equal(api_time_parse(&t, "0000-01-01T00:00:00Z", "f", NULL), MBCAS_OK);
  assert_int_equal(t, API_TIME_MIN);
  assert_string_equal(api_time_format(t, b, sizeof b), "0000-01-01T00:00:00Z");
  assert_int_equal(api_time_parse(&t, "9999-12-31T23:59:59Z", "f", NULL), MBCAS_OK);
  assert_int_equal(t, API_TIME_MAX);
  assert_string_equal(api_time_format(t, b, sizeof b), "9999-12-31T23:59:59Z");
  assert_int_equal(api_time_parse(&t, "9999-12-31T23:59:59+01:00", "f", NULL), MBCAS_OK);
  assert_string_equal(api_time_format(t, b, sizeof b), "9999-12-31T22:59:59Z");
  /* valid RFC 3339 text, but the UTC year is 10000 or -1: refused, naming the field */
  static const char *out_of_range[] = {"9999-12-31T23:59:59-01:00", "9999-12-31T23:00:00-01:00",
                                       "0000-01-01T00:00:00+00:01", "0000-01-01T00:59:59+01:00"};
  for (size_t i = 0; i < sizeof out_of_range / sizeof out_of_range[0]; i++) {
    mbcas_err err;
    mbcas_err_clear(&err);
    if (api_time_parse(&t, out_of_range[i], "status.lastClearingTime", &err) != MBCAS_EINVAL)
      fail_msg("accepted %s", out_of_range[i]);
    assert_string_equal(err.field, "status.lastClearingTime");
    assert_non_null(strstr(err.msg, "0000..9999"));
  }
  /* every accepted time formats to a text that parses back to it */
  for (long long x = API_TIME_MIN; x <= API_TIME_MAX; x += 86399LL * 3653 + 7) {
    assert_int_equal(api_time_parse(&t, api_time_format((time_t)x, b, sizeof b), NULL, NULL), MBCAS_OK);
    assert_int_equal(t, x);
  }
  /* 5-digit years are written like Go writes them, and refused on the way in */
  assert_string_equal(api_time_format((time_t)API_TIME_MAX + 1, b, sizeof b), "10000-01-01T00:00:00Z");
  assert_int_equal(api_time_parse(&t, b, "f", NULL), MBCAS_EINVAL);
}

static void test_meta_parse(void **st) {
  (void)st;
  api_meta m;
  mbcas_err err;
  cJSON *o = cJSON_Parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"u-1\","
                         "\"resourceVersion\":\"42\",\"generation\":3}}");
  assert_int_equal(meta_parse(&m, o, 1, &err), MBCAS_OK);
  assert_string_equal(m.name, "web");
  assert_string_equal(m.namespace_, "shop");
  assert_string_equal(m.uid, "u-1");
  assert_string_equal(m.resource_version, "42");
  assert_int_equal(m.generation, 3);
  cJSON_Delete(o);
  o = cJSON_Parse("{\"metadata\":{\"name\":\"web\"}}");
  assert_int_equal(meta_parse(&m, o, 0, &err), MBCAS_OK);
  assert_int_equal(meta_parse(&m, o, 1, &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "metadata.namespace");
  cJSON_Delete(o);
  o = cJSON_Parse("{\"metadata\":{\"name\":\"Web_1\"}}");
  assert_int_equal(meta_parse(&m, o, 0, &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "metadata.name");
  cJSON_Delete(o);
  o = cJSON_Parse("{}");
  assert_int_equal(meta_parse(&m, o, 0, &err), MBCAS_EINVAL);
  assert_string_equal(err.field, "metadata");
  cJSON_Delete(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_time), cmocka_unit_test(test_time_four_digit_years),
                                     cmocka_unit_test(test_meta_parse)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
