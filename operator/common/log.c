/* log.c - logfmt records to stderr; see log.h. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static mbcas_log_level g_level = MBCAS_LOG_INFO;
static FILE *g_stream = NULL;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_name[] = {"debug", "info", "warn", "error", "off"};

int mbcas_log_parse_level(const char *s) {
  if (!s)
    return -1;
  for (int i = 0; i <= MBCAS_LOG_OFF; i++)
    if (strcmp(s, level_name[i]) == 0)
      return i;
  if (strcmp(s, "warning") == 0)
    return MBCAS_LOG_WARN;
  return -1;
}

void mbcas_log_set_level(mbcas_log_level lvl) { g_level = lvl; }
mbcas_log_level mbcas_log_get_level(void) { return g_level; }
void mbcas_log_set_stream(FILE *f) { g_stream = f; }

const char *mbcas_log_quote(const char *s, char *buf, unsigned long len) {
  unsigned long o = 0;
  int need = 0;
  if (!buf || len < 3)
    return "";
  if (!s)
    s = "";
  if (!*s)
    need = 1;
  for (const char *p = s; *p && !need; p++)
    if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
      need = 1;
  if (!need) {
    snprintf(buf, len, "%s", s);
    return buf;
  }
  buf[o++] = '"';
  for (const char *p = s; *p && o + 3 < len; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
    } else if (c < 0x20) {
      buf[o++] = ' ';
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

void mbcas_log(mbcas_log_level lvl, const char *msg, const char *kv_fmt, ...) {
  char line[4096], qmsg[512];
  struct timespec ts;
  struct tm tm;
  int n;
  if (lvl < g_level || lvl >= MBCAS_LOG_OFF)
    return;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=%s",
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
               tm.tm_sec, ts.tv_nsec / 1000000L, level_name[lvl],
               mbcas_log_quote(msg, qmsg, sizeof qmsg));
  if (kv_fmt && *kv_fmt && n > 0 && (size_t)n < sizeof line - 2) {
    va_list ap;
    line[n++] = ' ';
    va_start(ap, kv_fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, kv_fmt, ap);
    va_end(ap);
    if (m > 0)
      n += m;
  }
  if (n < 0)
    return;
  if ((size_t)n > sizeof line - 2)
    n = (int)sizeof line - 2;
  line[n++] = '\n';
  pthread_mutex_lock(&g_lock);
  fwrite(line, 1, (size_t)n, g_stream ? g_stream : stderr);
  fflush(g_stream ? g_stream : stderr);
  pthread_mutex_unlock(&g_lock);
}
