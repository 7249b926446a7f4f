#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void test_parse_level(void **state) {
  (void)state;
  assert_int_equal(mbcas_log_parse_level("debug"), MBCAS_LOG_DEBUG);
  assert_int_equal(mbcas_log_parse_level("warning"), MBCAS_LOG_WARN);
  assert_int_equal(mbcas_log_parse_level("off"), MBCAS_LOG_OFF);
  assert_int_equal(mbcas_log_parse_level("loud"), -1);
  assert_int_equal(mbcas_log_parse_level(NULL), -1);
}

static void test_quote(void **state) {
  (void)state;
  char b[64];
  assert_string_equal(mbcas_log_quote("plain", b, sizeof b), "plain");
  assert_string_equal(mbcas_log_quote("two words", b, sizeof b), "\"two words\"");
  assert_string_equal(mbcas_log_quote("a\"b\nc", b, sizeof b), "\"a\\\"b\\nc\"");
  assert_string_equal(mbcas_log_quote("", b, sizeof b), "\"\"");
  assert_string_equal(mbcas_log_quote(NULL, b, sizeof b), "\"\"");
}

static void test_record_and_level_filter(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  mbcas_log_set_stream(f);
  mbcas_log_set_level(MBCAS_LOG_INFO);
  assert_int_equal(mbcas_log_get_level(), MBCAS_LOG_INFO);
  LOG_DEBUG("hidden", "k=%d", 1);
  LOG_INFO("shown here", "kind=%s n=%d", "ServiceBudget", 3);
  fflush(f);
  assert_null(strstr(buf, "hidden"));
  assert_non_null(strstr(buf, "level=info msg=\"shown here\" kind=ServiceBudget n=3\n"));
  assert_non_null(strstr(buf, "ts="));
  mbcas_log_set_stream(NULL);
  fclose(f);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_level),
      cmocka_unit_test(test_quote),
      cmocka_unit_test(test_record_and_level_filter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
