/* kubeconfig_fuzz.c - kubeconfig YAML (kube_config_parse, operator/kube/config.h).
 *
 * Input: the kubeconfig text, parsed from an exact-size buffer (no terminator).
 * When it starts with a comment line "#ctx:NAME", NAME is passed as the explicit
 * context (the comment is still part of the YAML, which ignores it).
 * Invariants: failure leaves *out NULL, returns MBCAS_EINVAL and fills err
 * (terminated texts, a message; nothing here is out of memory); a
 * loaded config has a server without a trailing '/', a context name and a
 * namespace, decoded PEM blobs are terminated at their length, exec args/env
 * lists are NULL-terminated within their maxima. For configs without an exec
 * plugin or token file (which would run a program or read a file named by the
 * input) the static credential is produced too: it must equal the config's
 * token and cert/key data. kube_config_invalidate() and kube_config_free() run
 * on every config. */
#include "config.h"
#include "fuzz_common.h"

static void check_blob(const char *p, size_t len) {
  if (!p) {
    FUZZ_ASSERT(len == 0);
    return;
  }
  FUZZ_ASSERT(p[len] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_quiet();
  if (size > 256 * 1024) return 0;
  char *ctx = NULL;
  if (size >= 5 && memcmp(data, "#ctx:", 5) == 0) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t l = (nl ? (size_t)(nl - data) : size) - 5;
    ctx = fuzz_cstr(data + 5, l);
  }
  char *yaml = fuzz_copy(data, size);
  kube_config *cfg = (kube_config *)(uintptr_t)1; /* must be reset to NULL */
  mbcas_err err;
  mbcas_err_clear(&err);
  mbcas_rc rc = kube_config_parse(&cfg, yaml, size, "/nonexistent/fuzz", ctx, &err);
  FUZZ_TERMINATED(err.field);
  FUZZ_TERMINATED(err.msg);
  if (rc != MBCAS_OK) {
    FUZZ_ASSERT(cfg == NULL);
    FUZZ_ASSERT(rc == MBCAS_EINVAL && err.rc == rc && err.msg[0]);
  } else {
    FUZZ_ASSERT(cfg != NULL && cfg->priv != NULL);
    FUZZ_ASSERT(cfg->server && cfg->server[0]);
    size_t sl = strlen(cfg->server);
    FUZZ_ASSERT(sl > 0 && cfg->server[sl - 1] != '/');
    FUZZ_ASSERT(cfg->context && cfg->context[0]);
    if (ctx && ctx[0]) FUZZ_ASSERT(strcmp(cfg->context, ctx) == 0);
    FUZZ_ASSERT(cfg->ns && cfg->ns[0]);
    check_blob(cfg->ca_data, cfg->ca_data_len);
    check_blob(cfg->client_cert_data, cfg->client_cert_data_len);
    check_blob(cfg->client_key_data, cfg->client_key_data_len);
    FUZZ_ASSERT(cfg->exec.args[KUBE_EXEC_MAX_ARGS] == NULL);
    FUZZ_ASSERT(cfg->exec.env[KUBE_EXEC_MAX_ENV] == NULL);
    for (int i = 0; cfg->exec.env[i]; i++) FUZZ_ASSERT(strchr(cfg->exec.env[i], '='));
    if (cfg->exec.command) FUZZ_ASSERT(cfg->exec.api_version != NULL);
    if (!cfg->exec.command && !cfg->token_file) {
      kube_credentials cred;
      mbcas_err_clear(&err);
      FUZZ_ASSERT(kube_config_credentials(cfg, &cred, &err) == MBCAS_OK);
      FUZZ_ASSERT((cred.token == NULL) == (cfg->token == NULL));
      if (cred.token) FUZZ_ASSERT(strcmp(cred.token, cfg->token) == 0);
      FUZZ_ASSERT(cred.client_cert_pem_len == cfg->client_cert_data_len);
      FUZZ_ASSERT(cred.client_key_pem_len == cfg->client_key_data_len);
      if (cred.client_cert_pem_len)
        FUZZ_ASSERT(memcmp(cred.client_cert_pem, cfg->client_cert_data, cred.client_cert_pem_len) == 0);
      if (cred.client_key_pem_len)
        FUZZ_ASSERT(memcmp(cred.client_key_pem, cfg->client_key_data, cred.client_key_pem_len) == 0);
      kube_credentials_clear(&cred);
      kube_credentials_clear(&cred); /* clearing twice is harmless */
    }
    kube_config_invalidate(cfg);
    kube_config_free(cfg);
  }
  kube_config_free(NULL);
  free(yaml);
  free(ctx);
  return 0;
}
