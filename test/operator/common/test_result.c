#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "result.h"

static void test_strerror_every_code(void **state) {
  (void)state;
  for (int rc = MBCAS_ENOTLEADER; rc <= 0; rc++)
    assert_string_not_equal(mbcas_strerror((mbcas_rc)rc), "unknown error");
  assert_string_equal(mbcas_strerror((mbcas_rc)-999), "unknown error");
  assert_string_equal(mbcas_strerror(MBCAS_ECONFLICT), "conflict");
}

static void test_err_set_and_format(void **state) {
  (void)state;
  mbcas_err e;
  char buf[256];
  mbcas_err_clear(&e);
  assert_int_equal(e.rc, MBCAS_OK);
  assert_int_equal(mbcas_err_set(&e, MBCAS_EINVAL, "spec.cpu.min", "must not exceed %s",
                                 "spec.cpu.max"),
                   MBCAS_EINVAL);
  assert_string_equal(mbcas_err_format(&e, buf, sizeof buf),
                      "spec.cpu.min: must not exceed spec.cpu.max");
  mbcas_err_set(&e, MBCAS_EIO, NULL, NULL);
  assert_string_equal(mbcas_err_format(&e, buf, sizeof buf), "i/o error");
  /* NULL err is allowed and just returns the code */
  assert_int_equal(mbcas_err_set(NULL, MBCAS_EGONE, "x", "y"), MBCAS_EGONE);
  assert_string_equal(mbcas_err_format(NULL, buf, sizeof buf), "ok");
}

static void test_err_truncates(void **state) {
  (void)state;
  mbcas_err e;
  char big[1000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  mbcas_err_set(&e, MBCAS_EINVAL, big, "%s", big);
  assert_int_equal(strlen(e.field), MBCAS_ERR_FIELD_MAX - 1);
  assert_int_equal(strlen(e.msg), MBCAS_ERR_MSG_MAX - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strerror_every_code),
      cmocka_unit_test(test_err_set_and_format),
      cmocka_unit_test(test_err_truncates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
