/* duration.h - durations as the CRDs write them: "15s", "2m30s", "1.5h", "250ms", "0".
 *
 * The syntax is Go's time.ParseDuration restricted to the units the CRD pattern
 * allows (ms, s, m, h) and to non-negative values: one or more <decimal><unit>
 * terms, or the bare "0". Values are held in integer milliseconds; fractions finer
 * than a millisecond are truncated, as Go truncates below a nanosecond.
 * Formatting is compact and round-trips: 90000 -> "1m30s", 3600000 -> "1h", 1500 -> "1.5s".
 * Owns: nothing. Thread safety: pure functions. */
#ifndef MBCAS_API_DURATION_H
#define MBCAS_API_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* Longest text duration_format() writes, with terminator. */
#define DURATION_STR_MAX 40

/* Parse s into milliseconds. Errors name field (NULL -> ""). Limit: 100000h. */
mbcas_rc duration_parse(int64_t *out_ms, const char *s, const char *field, mbcas_err *err);

/* Compact text of ms (>= 0): "0s", "250ms", "1.5s", "2m30s", "1h", "1h0m1s". Returns buf. */
const char *duration_format(int64_t ms, char *buf, size_t len);

#endif
