/* config.h - where the API server is and how to authenticate to it.
 *
 * Loads a kubeconfig with libyaml (current-context or a named context; a
 * colon-separated KUBECONFIG list is merged the client-go way: the first file
 * that sets a map key wins, current-context from the first file that has one),
 * or builds the in-cluster config from KUBERNETES_SERVICE_HOST/PORT and the
 * service-account files. Credentials that change over time are produced on
 * demand by kube_config_credentials(): a tokenFile is re-read when its mtime,
 * size or inode changes (bound service-account tokens rotate hourly), an exec
 * plugin is run and its ExecCredential cached until expirationTimestamp.
 *
 * Owns: every string in the struct and the cached credential. Never logs a
 * token, key or certificate. Thread safety: after loading, the public fields are
 * read-only; kube_config_credentials() and kube_config_invalidate() lock an
 * internal mutex and may be called from any thread. */
#ifndef MBCAS_KUBE_CONFIG_H
#define MBCAS_KUBE_CONFIG_H

#include <stddef.h>

#include "result.h"

#define KUBE_EXEC_MAX_ARGS 32
#define KUBE_EXEC_MAX_ENV 32

typedef struct kube_exec_config {
  char *command;                       /* NULL: no exec plugin */
  char *api_version;                   /* client.authentication.k8s.io/v1 or v1beta1 */
  char *args[KUBE_EXEC_MAX_ARGS + 1];  /* NULL-terminated */
  char *env[KUBE_EXEC_MAX_ENV + 1];    /* "NAME=value", NULL-terminated */
  int provide_cluster_info;            /* reserved; not sent yet */
} kube_exec_config;

typedef struct kube_config_priv kube_config_priv;

typedef struct kube_config {
  char *server;            /* "https://127.0.0.1:6443", no trailing slash */
  char *context;           /* name of the context used; NULL in-cluster */
  char *ns;                /* the context's namespace, "default" when unset */
  /* TLS */
  char *ca_file;           /* certificate-authority path (made absolute) */
  char *ca_data;           /* certificate-authority-data, decoded PEM */
  size_t ca_data_len;
  int insecure_skip_tls_verify;
  char *tls_server_name;   /* SNI and verification name override */
  char *proxy_url;
  /* auth (static parts; use kube_config_credentials() for the live values) */
  char *token;             /* static bearer token */
  char *token_file;        /* re-read when it changes */
  char *client_cert_file, *client_key_file;
  char *client_cert_data;  /* decoded PEM */
  size_t client_cert_data_len;
  char *client_key_data;   /* decoded PEM */
  size_t client_key_data_len;
  char *username, *password; /* basic auth, if a kubeconfig still has it */
  kube_exec_config exec;
  kube_config_priv *priv;  /* mutex, token-file stamp, exec cache */
} kube_config;

/* The live credential for one request. Strings are owned by the struct and
 * released by kube_credentials_clear(). Any of them may be NULL. */
typedef struct kube_credentials {
  char *token;             /* bearer token */
  char *client_cert_pem;   /* from the exec plugin (or copied from cert data) */
  size_t client_cert_pem_len;
  char *client_key_pem;
  size_t client_key_pem_len;
  unsigned long generation; /* changes whenever the credential changed */
} kube_credentials;

/* Load the first of: explicit_path (a --kubeconfig flag, may be a colon list),
 * $KUBECONFIG (colon list, merged), the in-cluster config (when
 * KUBERNETES_SERVICE_HOST is set), ~/.kube/config. context may be NULL for
 * current-context. */
mbcas_rc kube_config_load(kube_config **out, const char *explicit_path,
                          const char *context, mbcas_err *err);

/* Load and merge the files of a colon-separated list (missing files in a list
 * of several are skipped, like client-go; a single missing file is an error). */
mbcas_rc kube_config_load_files(kube_config **out, const char *paths,
                                const char *context, mbcas_err *err);

/* Parse kubeconfig YAML text held in memory. base_dir resolves relative file
 * paths (NULL: current directory). */
mbcas_rc kube_config_parse(kube_config **out, const char *yaml, size_t len,
                           const char *base_dir, const char *context,
                           mbcas_err *err);

/* In-cluster config. sa_dir NULL means /var/run/secrets/kubernetes.io/serviceaccount
 * (holds token, ca.crt, namespace); host/port come from
 * KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT. */
mbcas_rc kube_config_in_cluster(kube_config **out, const char *sa_dir,
                                mbcas_err *err);

/* Fill cred with the current credential: static token, re-read tokenFile, or
 * the (cached) exec plugin result. Returns MBCAS_EIO when a token file cannot
 * be read, MBCAS_ERR when the plugin fails. cred is cleared first. */
mbcas_rc kube_config_credentials(kube_config *cfg, kube_credentials *cred,
                                 mbcas_err *err);

/* Forget cached credentials (after a 401): the next call re-reads the token
 * file and re-runs the exec plugin. */
void kube_config_invalidate(kube_config *cfg);

void kube_credentials_clear(kube_credentials *cred);
void kube_config_free(kube_config *cfg);

#endif
