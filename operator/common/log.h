/* log.h - structured logging in logfmt, one line per record, to stderr.
 *
 *   mbcas_log(MBCAS_LOG_INFO, "reconciled", "kind=%s name=%s ms=%.1f", k, n, ms);
 * prints
 *   ts=2026-11-23T18:59:12.123Z level=info msg="reconciled" kind=ServiceBudget ...
 *
 * The key=value part is the caller's format; values that may hold spaces must be
 * quoted by the caller (mbcas_log_quote helps). Never pass tokens, keys or
 * certificates: nothing here can tell a secret from a name.
 * Thread safety: each record is written with one fwrite under a mutex.
 * Owns: the global level and the output stream (stderr unless set). */
#ifndef MBCAS_LOG_H
#define MBCAS_LOG_H

#include <stdio.h>

typedef enum {
  MBCAS_LOG_DEBUG = 0,
  MBCAS_LOG_INFO = 1,
  MBCAS_LOG_WARN = 2,
  MBCAS_LOG_ERROR = 3,
  MBCAS_LOG_OFF = 4
} mbcas_log_level;

/* Parse "debug", "info", "warn", "error", "off"; returns -1 when unknown. */
int mbcas_log_parse_level(const char *s);
void mbcas_log_set_level(mbcas_log_level lvl);
mbcas_log_level mbcas_log_get_level(void);
/* Redirect output (tests); NULL restores stderr. The stream is borrowed. */
void mbcas_log_set_stream(FILE *f);

void mbcas_log(mbcas_log_level lvl, const char *msg, const char *kv_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copy s into buf as a logfmt value: quoted and escaped if it has spaces, '"', '='
 * or control characters, else as is. Always terminates buf; returns buf. */
const char *mbcas_log_quote(const char *s, char *buf, unsigned long len);

#define LOG_DEBUG(msg, ...) mbcas_log(MBCAS_LOG_DEBUG, msg, __VA_ARGS__)
#define LOG_INFO(msg, ...) mbcas_log(MBCAS_LOG_INFO, msg, __VA_ARGS__)
#define LOG_WARN(msg, ...) mbcas_log(MBCAS_LOG_WARN, msg, __VA_ARGS__)
#define LOG_ERROR(msg, ...) mbcas_log(MBCAS_LOG_ERROR, msg, __VA_ARGS__)

#endif
