/* result.h - the one result type of MBCAS, and an error record with a field path.
 *
 * Every function that can fail returns mbcas_rc: 0 (MBCAS_OK) is success,
 * negative is failure. Specific codes exist only where a caller acts on them
 * (not found, conflict, gone, invalid ...); MBCAS_ERR covers the rest.
 * An mbcas_err, when the caller passes one, carries the code, the field path
 * that was wrong ("spec.cpu.min") and a human message, in fixed buffers: filling
 * it never allocates and never fails.
 *
 * Owns: nothing. Thread safety: pure functions; an mbcas_err belongs to its caller. */
#ifndef MBCAS_RESULT_H
#define MBCAS_RESULT_H

#include <stdarg.h>

typedef enum {
  MBCAS_OK = 0,
  MBCAS_ERR = -1,           /* anything no caller acts on specifically */
  MBCAS_ENOMEM = -2,
  MBCAS_EINVAL = -3,        /* invalid input: parse or validation error */
  MBCAS_ENOTFOUND = -4,     /* HTTP 404, missing key */
  MBCAS_ECONFLICT = -5,     /* HTTP 409 (stale resourceVersion, already exists) */
  MBCAS_EGONE = -6,         /* HTTP 410: resourceVersion too old, relist */
  MBCAS_EUNAUTHORIZED = -7, /* HTTP 401 */
  MBCAS_EFORBIDDEN = -8,    /* HTTP 403 */
  MBCAS_ETOOMANY = -9,      /* HTTP 429 after retries */
  MBCAS_EUNAVAILABLE = -10, /* 5xx or connection failure after retries */
  MBCAS_ETIMEOUT = -11,
  MBCAS_EIO = -12,          /* file or socket I/O */
  MBCAS_ETLS = -13,         /* TLS verification or setup */
  MBCAS_EUNSUPPORTED = -14, /* server lacks a feature (e.g. pods/resize) */
  MBCAS_ENOTLEADER = -15    /* write refused: leadership lost */
} mbcas_rc;

#define MBCAS_ERR_FIELD_MAX 160
#define MBCAS_ERR_MSG_MAX 384

typedef struct mbcas_err {
  mbcas_rc rc;
  char field[MBCAS_ERR_FIELD_MAX]; /* "spec.cpu.min", "" when not about a field */
  char msg[MBCAS_ERR_MSG_MAX];     /* "must not exceed spec.cpu.max" */
} mbcas_err;

/* Short constant text for a code ("conflict"); never NULL. */
const char *mbcas_strerror(mbcas_rc rc);

/* Fill err (if not NULL) and return rc, so callers can write
 *   return mbcas_err_set(err, MBCAS_EINVAL, "spec.cpu.min", "must be >= %d", 0);
 * Text longer than the buffers is truncated. */
mbcas_rc mbcas_err_set(mbcas_err *err, mbcas_rc rc, const char *field,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
mbcas_rc mbcas_err_vset(mbcas_err *err, mbcas_rc rc, const char *field,
                        const char *fmt, va_list ap);

/* Reset err to MBCAS_OK with empty texts. */
void mbcas_err_clear(mbcas_err *err);

/* "field: msg", or just "msg" when field is empty, into buf (always terminated). */
const char *mbcas_err_format(const mbcas_err *err, char *buf, unsigned long len);

#endif
