/* quantity.h - Kubernetes resource quantities ("250m", "1.5", "2Gi", "1e3"), exactly.
 *
 * A quantity is held as an exact decimal: mantissa x 10^exp, plus the format its
 * suffix implies (DecimalSI for none/n/u/m/k/M/G/T/P/E, BinarySI for Ki..Ei,
 * DecimalExponent for e<N>), like k8s.io/apimachinery/pkg/api/resource. Parsing
 * follows ParseQuantity: values finer than 1n are rounded up (away from zero);
 * conversions to integer millis/units round up, as MilliValue()/Value() do.
 * Canonical formatting reproduces Quantity.String(): "1500m", "2k", "1Gi", "1536",
 * "1e3"; a DecimalSI value beyond E prints in exponent form ("1000E" -> "1e21"), as
 * Kubernetes does since kubernetes/kubernetes#140459. Every value the parser accepts
 * formats to a text that parses back to the same value and formats the same.
 * Limits, where Kubernetes would keep going with big decimals, return MBCAS_EINVAL:
 * 18 significant digits (also after x 2^k: "0.1Ei" is refused; an integer written
 * with a binary suffix, "7Ei", may have 19), exponents up to 10^1000, and BinarySI
 * values above 2^63-1 ("8Ei"; Kubernetes silently caps them at 2^63-1).
 * Owns: nothing (values only). Thread safety: pure functions. */
#ifndef MBCAS_API_QUANTITY_H
#define MBCAS_API_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

typedef enum {
  QUANTITY_DECIMAL_SI = 0,      /* "", n u m k M G T P E */
  QUANTITY_BINARY_SI = 1,       /* Ki Mi Gi Ti Pi Ei */
  QUANTITY_DECIMAL_EXPONENT = 2 /* 1e3, 2E-3 */
} quantity_fmt;

typedef struct quantity {
  int64_t mant; /* value = mant * 10^exp, mant without trailing zeros (0 -> exp 0) */
  int32_t exp;
  quantity_fmt format;
} quantity;

/* Longest canonical text quantity_format() writes, with terminator. */
#define QUANTITY_STR_MAX 48

/* Parse s. On error err->field = field (may be NULL -> ""), message says why. */
mbcas_rc quantity_parse(quantity *out, const char *s, const char *field, mbcas_err *err);

/* Value x 1000 rounded up (millicores). MBCAS_EINVAL if it does not fit in int64. */
mbcas_rc quantity_milli(int64_t *out, const quantity *q);
/* Value rounded up to an integer (bytes). MBCAS_EINVAL if it does not fit in int64. */
mbcas_rc quantity_value(int64_t *out, const quantity *q);

/* Exact comparison: <0, 0, >0. */
int quantity_cmp(const quantity *a, const quantity *b);
/* Sign of the value: -1, 0, 1. */
int quantity_sign(const quantity *q);

/* A DecimalSI quantity of milli/1000 (CPU), and a BinarySI one of n bytes. (An n
 * with 19 significant digits that is not a multiple of 1024 formats to a text the
 * parser refuses as too many digits.) */
quantity quantity_from_milli(int64_t milli);
quantity quantity_from_bytes(int64_t n);

/* Canonical text, as Kubernetes prints it; always terminated; returns buf.
 * len >= QUANTITY_STR_MAX is always enough. */
const char *quantity_format(const quantity *q, char *buf, size_t len);

/* Shorthands: parse straight to millis; format millis as a CPU quantity ("250m", "2"). */
mbcas_rc quantity_parse_milli(int64_t *out, const char *s, const char *field, mbcas_err *err);
const char *quantity_format_milli(int64_t milli, char *buf, size_t len);

#endif
