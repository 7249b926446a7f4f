/* result.c - text for result codes and the field-path error record. */
#include "result.h"

#include <stdio.h>
#include <string.h>

const char *mbcas_strerror(mbcas_rc rc) {
  switch (rc) {
  case MBCAS_OK: return "ok";
  case MBCAS_ERR: return "error";
  case MBCAS_ENOMEM: return "out of memory";
  case MBCAS_EINVAL: return "invalid";
  case MBCAS_ENOTFOUND: return "not found";
  case MBCAS_ECONFLICT: return "conflict";
  case MBCAS_EGONE: return "gone";
  case MBCAS_EUNAUTHORIZED: return "unauthorized";
  case MBCAS_EFORBIDDEN: return "forbidden";
  case MBCAS_ETOOMANY: return "too many requests";
  case MBCAS_EUNAVAILABLE: return "unavailable";
  case MBCAS_ETIMEOUT: return "timeout";
  case MBCAS_EIO: return "i/o error";
  case MBCAS_ETLS: return "tls error";
  case MBCAS_EUNSUPPORTED: return "unsupported";
  case MBCAS_ENOTLEADER: return "not leader";
  }
  return "unknown error";
}

mbcas_rc mbcas_err_vset(mbcas_err *err, mbcas_rc rc, const char *field,
                        const char *fmt, va_list ap) {
  if (!err)
    return rc;
  err->rc = rc;
  snprintf(err->field, sizeof err->field, "%s", field ? field : "");
  if (fmt)
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  else
    snprintf(err->msg, sizeof err->msg, "%s", mbcas_strerror(rc));
  return rc;
}

mbcas_rc mbcas_err_set(mbcas_err *err, mbcas_rc rc, const char *field,
                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mbcas_err_vset(err, rc, field, fmt, ap);
  va_end(ap);
  return rc;
}

void mbcas_err_clear(mbcas_err *err) {
  if (!err)
    return;
  err->rc = MBCAS_OK;
  err->field[0] = '\0';
  err->msg[0] = '\0';
}

const char *mbcas_err_format(const mbcas_err *err, char *buf, unsigned long len) {
  if (!buf || len == 0)
    return "";
  if (!err)
    snprintf(buf, len, "ok");
  else if (err->field[0])
    snprintf(buf, len, "%s: %s", err->field, err->msg);
  else
    snprintf(buf, len, "%s", err->msg);
  return buf;
}
