/* config.c - kubeconfig (libyaml), in-cluster config, live credentials. See config.h. */
#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "log.h"

#define KUBECONFIG_MAX_BYTES (4 * 1024 * 1024)
#define TOKEN_MAX_BYTES (64 * 1024)
#define EXEC_OUT_MAX_BYTES (1024 * 1024)
#define EXEC_TIMEOUT_MS 60000

struct kube_config_priv {
  pthread_mutex_t mu;
  /* token file stamp */
  char *file_token;
  dev_t tf_dev;
  ino_t tf_ino;
  off_t tf_size;
  struct timespec tf_mtime;
  int tf_valid;
  /* exec cache */
  char *exec_token, *exec_cert, *exec_key;
  time_t exec_expiry; /* 0: no expiry given -> cache until invalidated */
  int exec_valid;
  unsigned long generation;
};

/* ---------- small helpers ---------- */

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static int b64val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decode base64 (whitespace ignored). Returns malloc'd NUL-terminated buffer. */
static char *b64decode(const char *in, size_t *outlen) {
  size_t n = strlen(in);
  char *out = malloc(n / 4 * 3 + 4);
  if (!out) return NULL;
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)in[i];
    if (c == '=') break;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    int v = b64val(c);
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)((acc >> bits) & 0xFF);
    }
  }
  out[o] = '\0';
  if (outlen) *outlen = o;
  return out;
}

static char *read_file_max(const char *path, size_t max, size_t *len, int *errno_out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno_out) *errno_out = errno;
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) {
    close(fd);
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      if (cap >= max) {
        free(buf);
        close(fd);
        if (errno_out) *errno_out = EFBIG;
        return NULL;
      }
      cap = cap * 2 > max ? max : cap * 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) {
        free(buf);
        close(fd);
        return NULL;
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno_out) *errno_out = errno;
      free(buf);
      close(fd);
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  size_t i = 0;
  while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') i++;
  if (i) memmove(s, s + i, n - i + 1);
}

/* ---------- YAML -> cJSON (scalars become strings, except true/false) ---------- */

/* libyaml resolves an alias to the anchored node itself, so a node reached a second
 * time is an alias expansion. The budget is go-yaml's (gopkg.in/yaml.v2 and v3
 * decode.go, used by sigs.k8s.io/yaml and so by kubectl): past 1000 decoded nodes and
 * 100 of them from aliases, at most 99 % may come from aliases (falling to 10 %
 * between 400,000 and 4,000,000 nodes). A billion-laughs document fails after a few
 * thousand nodes. Nesting is limited to YAML_MAX_DEPTH (a kubeconfig needs 5). */
#define YAML_MAX_DEPTH 64
#define YAML_NODE_SEEN 1u
#define YAML_NODE_OPEN 2u

typedef struct {
  yaml_document_t *doc;
  unsigned char *state; /* per node: YAML_NODE_SEEN, YAML_NODE_OPEN */
  size_t decodes, aliases;
  int alias_depth;
  mbcas_rc rc; /* why NULL came back: MBCAS_ENOMEM or MBCAS_EINVAL (with err set) */
  mbcas_err *err;
  const char *what;
} yaml_conv;

static double yaml_allowed_alias_ratio(size_t decodes) {
  if (decodes <= 400000) return 0.99;
  if (decodes >= 4000000) return 0.10;
  return 0.99 - 0.89 * ((double)(decodes - 400000) / (double)(4000000 - 400000));
}

/* Count one decoded node; 0 when the alias budget is exceeded (c->rc set). */
static int yaml_count(yaml_conv *c) {
  c->decodes++;
  if (c->alias_depth > 0) c->aliases++;
  if (c->aliases > 100 && c->decodes > 1000 &&
      (double)c->aliases / (double)c->decodes > yaml_allowed_alias_ratio(c->decodes)) {
    c->rc = mbcas_err_set(c->err, MBCAS_EINVAL, c->what,
                          "YAML document contains excessive aliasing (%zu of %zu nodes from aliases)",
                          c->aliases, c->decodes);
    return 0;
  }
  return 1;
}

static cJSON *yaml_node_to_json(yaml_conv *c, int index, int depth) {
  yaml_node_t *node = yaml_document_get_node(c->doc, index);
  if (!node) return cJSON_CreateNull(); /* not produced by the loader */
  if (depth > YAML_MAX_DEPTH) {
    c->rc = mbcas_err_set(c->err, MBCAS_EINVAL, c->what, "YAML nesting deeper than %d levels", YAML_MAX_DEPTH);
    return NULL;
  }
  unsigned char *st = &c->state[index - 1];
  if (*st & YAML_NODE_OPEN) {
    c->rc = mbcas_err_set(c->err, MBCAS_EINVAL, c->what, "YAML alias refers to a node that contains it");
    return NULL;
  }
  int alias = (*st & YAML_NODE_SEEN) != 0;
  *st |= YAML_NODE_SEEN | YAML_NODE_OPEN;
  c->alias_depth += alias;
  cJSON *out = NULL;
  if (!yaml_count(c)) goto done;
  c->rc = MBCAS_ENOMEM;
  switch (node->type) {
  case YAML_SCALAR_NODE: {
    const char *v = (const char *)node->data.scalar.value;
    if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
      if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE")) {
        out = cJSON_CreateTrue();
        break;
      }
      if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE")) {
        out = cJSON_CreateFalse();
        break;
      }
      if (!strcmp(v, "null") || !strcmp(v, "~") || !*v) {
        out = cJSON_CreateNull();
        break;
      }
    }
    out = cJSON_CreateString(v);
    break;
  }
  case YAML_SEQUENCE_NODE: {
    cJSON *arr = cJSON_CreateArray();
    if (!arr) break;
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
      cJSON *v = yaml_node_to_json(c, *it, depth + 1);
      if (!v) {
        cJSON_Delete(arr);
        arr = NULL;
        break;
      }
      cJSON_AddItemToArray(arr, v); /* only fails for NULL arguments */
    }
    out = arr;
    break;
  }
  case YAML_MAPPING_NODE: {
    cJSON *obj = cJSON_CreateObject();
    if (!obj) break;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
      if (!k || k->type != YAML_SCALAR_NODE) continue;
      if (!yaml_count(c)) { /* the key, as go-yaml counts it */
        cJSON_Delete(obj);
        obj = NULL;
        break;
      }
      cJSON *v = yaml_node_to_json(c, p->value, depth + 1);
      if (!v) {
        cJSON_Delete(obj);
        obj = NULL;
        break;
      }
      if (!cJSON_AddItemToObject(obj, (const char *)k->data.scalar.value, v)) {
        cJSON_Delete(v);
        cJSON_Delete(obj);
        obj = NULL;
        c->rc = MBCAS_ENOMEM;
        break;
      }
    }
    out = obj;
    break;
  }
  default:
    out = cJSON_CreateNull();
    break;
  }
  if (out) c->rc = MBCAS_OK;
done:
  *st &= (unsigned char)~YAML_NODE_OPEN;
  c->alias_depth -= alias;
  return out;
}

static mbcas_rc yaml_to_json(cJSON **out, const char *text, size_t len, mbcas_err *err,
                             const char *what) {
  yaml_parser_t parser;
  yaml_document_t doc;
  *out = NULL;
  if (!yaml_parser_initialize(&parser)) return MBCAS_ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    mbcas_rc rc = mbcas_err_set(err, MBCAS_EINVAL, what, "YAML error at line %lu: %s",
                                (unsigned long)parser.problem_mark.line + 1,
                                parser.problem ? parser.problem : "unknown");
    yaml_parser_delete(&parser);
    return rc;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  yaml_conv c = {.doc = &doc, .rc = MBCAS_OK, .err = err, .what = what};
  cJSON *j = NULL;
  if (!root) {
    j = cJSON_CreateObject();
    if (!j) c.rc = MBCAS_ENOMEM;
  } else {
    size_t n = (size_t)(doc.nodes.top - doc.nodes.start);
    c.state = calloc(n ? n : 1, 1);
    if (!c.state)
      c.rc = MBCAS_ENOMEM;
    else
      j = yaml_node_to_json(&c, 1, 0); /* the root is node 1 */
    free(c.state);
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (!j) return c.rc == MBCAS_OK ? MBCAS_ENOMEM : c.rc;
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    return mbcas_err_set(err, MBCAS_EINVAL, what, "kubeconfig is not a mapping");
  }
  *out = j;
  return MBCAS_OK;
}

/* ---------- merge ---------- */

/* Lists of named entries (clusters, users, contexts): first name wins.
 * Entries get a private "__base" field with the file's directory. */
static void merge_named(cJSON *dst, const cJSON *src, const char *key, const char *base) {
  cJSON *sl = cJSON_GetObjectItemCaseSensitive(src, key);
  if (!cJSON_IsArray(sl)) return;
  cJSON *dl = cJSON_GetObjectItemCaseSensitive(dst, key);
  if (!dl) dl = cJSON_AddArrayToObject(dst, key);
  if (!dl) return;
  const cJSON *e;
  cJSON_ArrayForEach(e, sl) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
    if (!name) continue;
    int found = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, dl) {
      const char *dn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "name"));
      if (dn && !strcmp(dn, name)) {
        found = 1;
        break;
      }
    }
    if (found) continue;
    cJSON *copy = cJSON_Duplicate(e, 1);
    if (!copy) continue;
    cJSON_AddStringToObject(copy, "__base", base ? base : "");
    cJSON_AddItemToArray(dl, copy);
  }
}

static void merge_doc(cJSON *dst, const cJSON *src, const char *base) {
  const char *cc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(src, "current-context"));
  const char *have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dst, "current-context"));
  if (cc && *cc && !(have && *have)) {
    cJSON_DeleteItemFromObjectCaseSensitive(dst, "current-context");
    cJSON_AddStringToObject(dst, "current-context", cc);
  }
  merge_named(dst, src, "clusters", base);
  merge_named(dst, src, "users", base);
  merge_named(dst, src, "contexts", base);
}

static const cJSON *find_named(const cJSON *doc, const char *list, const char *name) {
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(doc, list)) {
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
    if (n && name && !strcmp(n, name)) return e;
  }
  return NULL;
}

static const char *jstr(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static char *resolve_path(const char *p, const char *base) {
  if (!p || !*p) return NULL;
  if (p[0] == '/' || !base || !*base) return strdup(p);
  while (p[0] == '.' && p[1] == '/') p += 2;
  size_t n = strlen(base) + strlen(p) + 2;
  char *r = malloc(n);
  if (r) snprintf(r, n, "%s/%s", base, p);
  return r;
}

static char *dir_of(const char *path) {
  char *d = strdup(path);
  if (!d) return NULL;
  char *slash = strrchr(d, '/');
  if (!slash) {
    free(d);
    return strdup(".");
  }
  if (slash == d)
    slash[1] = '\0';
  else
    *slash = '\0';
  return d;
}

static kube_config *config_alloc(void) {
  kube_config *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->priv = calloc(1, sizeof(*c->priv));
  if (!c->priv) {
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->priv->mu, NULL);
  return c;
}

#define SET_OOM(expr)                                                                  \
  do {                                                                                 \
    if (!(expr)) {                                                                     \
      rc = MBCAS_ENOMEM;                                                               \
      goto fail;                                                                       \
    }                                                                                  \
  } while (0)

/* Build a config from a merged document. */
static mbcas_rc config_from_doc(kube_config **out, const cJSON *doc, const char *context,
                                mbcas_err *err) {
  mbcas_rc rc = MBCAS_OK;
  const char *ctxname = context && *context ? context : jstr(doc, "current-context");
  if (!ctxname || !*ctxname)
    return mbcas_err_set(err, MBCAS_EINVAL, "current-context", "no current context");
  const cJSON *ctxe = find_named(doc, "contexts", ctxname);
  if (!ctxe)
    return mbcas_err_set(err, MBCAS_EINVAL, "contexts", "context %s not found", ctxname);
  const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ctxe, "context");
  const char *clname = jstr(ctx, "cluster");
  const char *uname = jstr(ctx, "user");
  const cJSON *cle = find_named(doc, "clusters", clname);
  if (!cle)
    return mbcas_err_set(err, MBCAS_EINVAL, "clusters", "cluster %s not found",
                         clname ? clname : "(none)");
  const cJSON *cl = cJSON_GetObjectItemCaseSensitive(cle, "cluster");
  const char *clbase = jstr(cle, "__base");
  const cJSON *ue = uname ? find_named(doc, "users", uname) : NULL;
  if (uname && *uname && !ue)
    return mbcas_err_set(err, MBCAS_EINVAL, "users", "user %s not found", uname);
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(ue, "user");
  const char *ubase = jstr(ue, "__base");

  const char *server = jstr(cl, "server");
  if (!server || !*server)
    return mbcas_err_set(err, MBCAS_EINVAL, "clusters.cluster.server", "cluster %s has no server",
                         clname);
  kube_config *c = config_alloc();
  if (!c) return MBCAS_ENOMEM;
  SET_OOM(c->server = strdup(server));
  {
    size_t n = strlen(c->server);
    while (n > 0 && c->server[n - 1] == '/') c->server[--n] = '\0';
  }
  SET_OOM(c->context = strdup(ctxname));
  const char *ns = jstr(ctx, "namespace");
  SET_OOM(c->ns = strdup(ns && *ns ? ns : "default"));
  if (jstr(cl, "certificate-authority")) SET_OOM(c->ca_file = resolve_path(jstr(cl, "certificate-authority"), clbase));
  if (jstr(cl, "certificate-authority-data")) {
    c->ca_data = b64decode(jstr(cl, "certificate-authority-data"), &c->ca_data_len);
    if (!c->ca_data) {
      rc = mbcas_err_set(err, MBCAS_EINVAL, "clusters.cluster.certificate-authority-data", "bad base64");
      goto fail;
    }
  }
  const cJSON *insecure = cJSON_GetObjectItemCaseSensitive(cl, "insecure-skip-tls-verify");
  c->insecure_skip_tls_verify = cJSON_IsTrue(insecure) ||
                                (cJSON_IsString(insecure) && !strcmp(insecure->valuestring, "true"));
  if (jstr(cl, "tls-server-name")) SET_OOM(c->tls_server_name = strdup(jstr(cl, "tls-server-name")));
  if (jstr(cl, "proxy-url")) SET_OOM(c->proxy_url = strdup(jstr(cl, "proxy-url")));
  if (u) {
    if (jstr(u, "token") && *jstr(u, "token")) SET_OOM(c->token = strdup(jstr(u, "token")));
    if (jstr(u, "tokenFile")) SET_OOM(c->token_file = resolve_path(jstr(u, "tokenFile"), ubase));
    if (jstr(u, "client-certificate")) SET_OOM(c->client_cert_file = resolve_path(jstr(u, "client-certificate"), ubase));
    if (jstr(u, "client-key")) SET_OOM(c->client_key_file = resolve_path(jstr(u, "client-key"), ubase));
    if (jstr(u, "client-certificate-data")) {
      c->client_cert_data = b64decode(jstr(u, "client-certificate-data"), &c->client_cert_data_len);
      if (!c->client_cert_data) {
        rc = mbcas_err_set(err, MBCAS_EINVAL, "users.user.client-certificate-data", "bad base64");
        goto fail;
      }
    }
    if (jstr(u, "client-key-data")) {
      c->client_key_data = b64decode(jstr(u, "client-key-data"), &c->client_key_data_len);
      if (!c->client_key_data) {
        rc = mbcas_err_set(err, MBCAS_EINVAL, "users.user.client-key-data", "bad base64");
        goto fail;
      }
    }
    if (jstr(u, "username")) SET_OOM(c->username = strdup(jstr(u, "username")));
    if (jstr(u, "password")) SET_OOM(c->password = strdup(jstr(u, "password")));
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(u, "exec");
    if (cJSON_IsObject(ex)) {
      const char *cmd = jstr(ex, "command");
      if (!cmd || !*cmd) {
        rc = mbcas_err_set(err, MBCAS_EINVAL, "users.user.exec.command", "exec without command");
        goto fail;
      }
      /* A bare command name is looked up in PATH; a relative path is relative
       * to the kubeconfig's directory (client-go does the same). */
      if (strchr(cmd, '/'))
        SET_OOM(c->exec.command = resolve_path(cmd, ubase));
      else
        SET_OOM(c->exec.command = strdup(cmd));
      const char *av = jstr(ex, "apiVersion");
      SET_OOM(c->exec.api_version = strdup(av ? av : "client.authentication.k8s.io/v1"));
      int i = 0;
      const cJSON *a;
      cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ex, "args")) {
        if (i >= KUBE_EXEC_MAX_ARGS) break;
        if (cJSON_IsString(a)) SET_OOM(c->exec.args[i++] = strdup(a->valuestring));
      }
      i = 0;
      cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ex, "env")) {
        if (i >= KUBE_EXEC_MAX_ENV) break;
        const char *en = jstr(a, "name"), *ev = jstr(a, "value");
        if (!en) continue;
        size_t n = strlen(en) + (ev ? strlen(ev) : 0) + 2;
        char *s = malloc(n);
        SET_OOM(s);
        snprintf(s, n, "%s=%s", en, ev ? ev : "");
        c->exec.env[i++] = s;
      }
      c->exec.provide_cluster_info = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ex, "provideClusterInfo"));
    }
  }
  *out = c;
  return MBCAS_OK;
fail:
  kube_config_free(c);
  return rc;
}

mbcas_rc kube_config_parse(kube_config **out, const char *yaml, size_t len, const char *base_dir,
                           const char *context, mbcas_err *err) {
  *out = NULL;
  cJSON *src = NULL;
  mbcas_rc rc = yaml_to_json(&src, yaml, len, err, "kubeconfig");
  if (rc) return rc;
  cJSON *doc = cJSON_CreateObject();
  if (!doc) {
    cJSON_Delete(src);
    return MBCAS_ENOMEM;
  }
  merge_doc(doc, src, base_dir);
  cJSON_Delete(src);
  rc = config_from_doc(out, doc, context, err);
  cJSON_Delete(doc);
  return rc;
}

mbcas_rc kube_config_load_files(kube_config **out, const char *paths, const char *context,
                                mbcas_err *err) {
  *out = NULL;
  if (!paths || !*paths) return mbcas_err_set(err, MBCAS_EINVAL, "kubeconfig", "no path");
  char *list = strdup(paths);
  if (!list) return MBCAS_ENOMEM;
  int several = strchr(paths, ':') != NULL;
  cJSON *doc = cJSON_CreateObject();
  mbcas_rc rc = doc ? MBCAS_OK : MBCAS_ENOMEM;
  int loaded = 0;
  char *save = NULL;
  for (char *p = strtok_r(list, ":", &save); p && rc == MBCAS_OK; p = strtok_r(NULL, ":", &save)) {
    if (!*p) continue;
    size_t len = 0;
    int e = 0;
    char *text = read_file_max(p, KUBECONFIG_MAX_BYTES, &len, &e);
    if (!text) {
      if (several && e == ENOENT) continue;
      rc = mbcas_err_set(err, e == ENOENT ? MBCAS_ENOTFOUND : MBCAS_EIO, "kubeconfig",
                         "cannot read %s: %s", p, strerror(e ? e : ENOMEM));
      break;
    }
    cJSON *src = NULL;
    rc = yaml_to_json(&src, text, len, err, p);
    free(text);
    if (rc) break;
    char *base = dir_of(p);
    merge_doc(doc, src, base);
    free(base);
    cJSON_Delete(src);
    loaded++;
  }
  free(list);
  if (rc == MBCAS_OK && !loaded)
    rc = mbcas_err_set(err, MBCAS_ENOTFOUND, "kubeconfig", "none of %s exists", paths);
  if (rc == MBCAS_OK) rc = config_from_doc(out, doc, context, err);
  cJSON_Delete(doc);
  return rc;
}

mbcas_rc kube_config_in_cluster(kube_config **out, const char *sa_dir, mbcas_err *err) {
  *out = NULL;
  const char *dir = sa_dir ? sa_dir : "/var/run/secrets/kubernetes.io/serviceaccount";
  const char *host = getenv("KUBERNETES_SERVICE_HOST");
  const char *port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return mbcas_err_set(err, MBCAS_EINVAL, "KUBERNETES_SERVICE_HOST",
                         "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)");
  mbcas_rc rc = MBCAS_OK;
  kube_config *c = config_alloc();
  if (!c) return MBCAS_ENOMEM;
  size_t n = strlen(host) + strlen(port) + 16;
  SET_OOM(c->server = malloc(n));
  if (strchr(host, ':'))
    snprintf(c->server, n, "https://[%s]:%s", host, port);
  else
    snprintf(c->server, n, "https://%s:%s", host, port);
  n = strlen(dir) + 16;
  SET_OOM(c->token_file = malloc(n));
  snprintf(c->token_file, n, "%s/token", dir);
  SET_OOM(c->ca_file = malloc(n));
  snprintf(c->ca_file, n, "%s/ca.crt", dir);
  if (access(c->token_file, R_OK) != 0) {
    rc = mbcas_err_set(err, MBCAS_EIO, "serviceaccount", "cannot read %s", c->token_file);
    goto fail;
  }
  char nsfile[4096];
  snprintf(nsfile, sizeof nsfile, "%s/namespace", dir);
  char *ns = read_file_max(nsfile, 4096, NULL, NULL);
  if (ns) {
    trim(ns);
    if (!*ns) {
      free(ns);
      ns = NULL;
    }
  }
  c->ns = ns ? ns : strdup("default");
  SET_OOM(c->ns);
  *out = c;
  return MBCAS_OK;
fail:
  kube_config_free(c);
  return rc;
}

mbcas_rc kube_config_load(kube_config **out, const char *explicit_path, const char *context,
                          mbcas_err *err) {
  *out = NULL;
  if (explicit_path && *explicit_path) return kube_config_load_files(out, explicit_path, context, err);
  const char *env = getenv("KUBECONFIG");
  if (env && *env) return kube_config_load_files(out, env, context, err);
  if (getenv("KUBERNETES_SERVICE_HOST")) return kube_config_in_cluster(out, NULL, err);
  const char *home = getenv("HOME");
  if (!home || !*home)
    return mbcas_err_set(err, MBCAS_ENOTFOUND, "kubeconfig", "no kubeconfig, no cluster, no HOME");
  char path[4096];
  snprintf(path, sizeof path, "%s/.kube/config", home);
  return kube_config_load_files(out, path, context, err);
}

/* ---------- credentials ---------- */

static void free_exec_cache(kube_config_priv *p) {
  free(p->exec_token);
  free(p->exec_cert);
  free(p->exec_key);
  p->exec_token = p->exec_cert = p->exec_key = NULL;
  p->exec_valid = 0;
}

/* Parse RFC 3339 "2026-11-23T19:00:00Z" (fraction and offset accepted). */
static int parse_rfc3339(const char *s, time_t *out) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *r = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!r) return -1;
  if (*r == '.')
    for (r++; *r >= '0' && *r <= '9'; r++) {
    }
  long off = 0;
  if (*r == '+' || *r == '-') {
    int hh = 0, mm = 0;
    if (sscanf(r + 1, "%d:%d", &hh, &mm) < 1) return -1;
    off = (hh * 3600L + mm * 60L) * (*r == '+' ? 1 : -1);
  } else if (*r != 'Z' && *r != 'z' && *r != '\0') {
    return -1;
  }
  *out = timegm(&tm) - off;
  return 0;
}

/* Run the exec plugin; fill the cache. Called with the mutex held. */
static mbcas_rc run_exec(kube_config *cfg, mbcas_err *err) {
  kube_config_priv *p = cfg->priv;
  int outp[2];
  if (pipe2(outp, O_CLOEXEC) != 0) return mbcas_err_set(err, MBCAS_EIO, "exec", "pipe: %s", strerror(errno));
  char info[256];
  snprintf(info, sizeof info,
           "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
           "\"spec\":{\"interactive\":false}}",
           cfg->exec.api_version);
  char *argv[KUBE_EXEC_MAX_ARGS + 2];
  argv[0] = cfg->exec.command;
  int i;
  for (i = 0; cfg->exec.args[i]; i++) argv[i + 1] = cfg->exec.args[i];
  argv[i + 1] = NULL;
  /* Build the environment before fork: the child only calls async-signal-safe
   * functions (the operator is multi-threaded). */
  extern char **environ;
  size_t nenv = 0;
  while (environ[nenv]) nenv++;
  char **envp = calloc(nenv + KUBE_EXEC_MAX_ENV + 2, sizeof(char *));
  if (!envp) {
    close(outp[0]);
    close(outp[1]);
    return MBCAS_ENOMEM;
  }
  size_t ne = 0;
  for (int k = 0; cfg->exec.env[k]; k++) envp[ne++] = cfg->exec.env[k];
  envp[ne++] = info;
  for (size_t k = 0; k < nenv; k++) {
    if (!strncmp(environ[k], "KUBERNETES_EXEC_INFO=", 21)) continue;
    int shadowed = 0;
    for (int m = 0; cfg->exec.env[m]; m++) {
      const char *eq = strchr(cfg->exec.env[m], '=');
      size_t kl = eq ? (size_t)(eq - cfg->exec.env[m]) + 1 : 0;
      if (kl && !strncmp(environ[k], cfg->exec.env[m], kl)) shadowed = 1;
    }
    if (!shadowed) envp[ne++] = environ[k];
  }
  pid_t pid = fork();
  if (pid < 0) {
    free(envp);
    close(outp[0]);
    close(outp[1]);
    return mbcas_err_set(err, MBCAS_ERR, "exec", "fork: %s", strerror(errno));
  }
  if (pid == 0) {
    dup2(outp[1], 1);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execvpe(argv[0], argv, envp);
    _exit(127);
  }
  free(envp);
  close(outp[1]);
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  mbcas_rc rc = buf ? MBCAS_OK : MBCAS_ENOMEM;
  double waited = 0;
  while (rc == MBCAS_OK) {
    struct pollfd pfd = {.fd = outp[0], .events = POLLIN};
    int pr = poll(&pfd, 1, 1000);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) {
      waited += 1000;
      if (waited >= EXEC_TIMEOUT_MS) {
        rc = mbcas_err_set(err, MBCAS_ETIMEOUT, "exec", "plugin %s timed out", cfg->exec.command);
        kill(pid, SIGKILL);
      }
      continue;
    }
    if (n == cap) {
      if (cap >= EXEC_OUT_MAX_BYTES) {
        rc = mbcas_err_set(err, MBCAS_EINVAL, "exec", "plugin output too large");
        kill(pid, SIGKILL);
        break;
      }
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        rc = MBCAS_ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(outp[0], buf + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      rc = mbcas_err_set(err, MBCAS_EIO, "exec", "read: %s", strerror(errno));
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(outp[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (rc == MBCAS_OK && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    rc = mbcas_err_set(err, MBCAS_ERR, "exec", "plugin %s failed (status %d)", cfg->exec.command,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  cJSON *j = cJSON_ParseWithLength(buf, n);
  free(buf);
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
  const char *kind = jstr(j, "kind");
  if (!j || !cJSON_IsObject(st) || !kind || strcmp(kind, "ExecCredential") != 0) {
    cJSON_Delete(j);
    return mbcas_err_set(err, MBCAS_EINVAL, "exec", "plugin output is not an ExecCredential");
  }
  free_exec_cache(p);
  const char *tok = jstr(st, "token"), *cert = jstr(st, "clientCertificateData"),
             *key = jstr(st, "clientKeyData"), *exp = jstr(st, "expirationTimestamp");
  if (!tok && !(cert && key)) {
    cJSON_Delete(j);
    return mbcas_err_set(err, MBCAS_EINVAL, "exec.status", "ExecCredential has neither token nor client certificate");
  }
  p->exec_token = xstrdup(tok);
  p->exec_cert = xstrdup(cert);
  p->exec_key = xstrdup(key);
  p->exec_expiry = 0;
  if (exp && parse_rfc3339(exp, &p->exec_expiry) != 0) p->exec_expiry = 0;
  cJSON_Delete(j);
  if ((tok && !p->exec_token) || (cert && !p->exec_cert) || (key && !p->exec_key)) {
    free_exec_cache(p);
    return MBCAS_ENOMEM;
  }
  p->exec_valid = 1;
  p->generation++;
  return MBCAS_OK;
}

/* Re-read the token file if it changed. Mutex held. */
static mbcas_rc refresh_token_file(kube_config *cfg, mbcas_err *err) {
  kube_config_priv *p = cfg->priv;
  struct stat sb;
  if (stat(cfg->token_file, &sb) != 0) {
    /* keep a token we already have (a rotation renames files under us) */
    if (p->file_token) return MBCAS_OK;
    return mbcas_err_set(err, MBCAS_EIO, "tokenFile", "cannot stat %s: %s", cfg->token_file,
                         strerror(errno));
  }
  if (p->tf_valid && p->file_token && sb.st_dev == p->tf_dev && sb.st_ino == p->tf_ino &&
      sb.st_size == p->tf_size && sb.st_mtim.tv_sec == p->tf_mtime.tv_sec &&
      sb.st_mtim.tv_nsec == p->tf_mtime.tv_nsec)
    return MBCAS_OK;
  int e = 0;
  char *t = read_file_max(cfg->token_file, TOKEN_MAX_BYTES, NULL, &e);
  if (!t) {
    if (p->file_token) return MBCAS_OK;
    return mbcas_err_set(err, MBCAS_EIO, "tokenFile", "cannot read %s: %s", cfg->token_file,
                         strerror(e ? e : ENOMEM));
  }
  trim(t);
  if (!p->file_token || strcmp(p->file_token, t) != 0) p->generation++;
  free(p->file_token);
  p->file_token = t;
  p->tf_dev = sb.st_dev;
  p->tf_ino = sb.st_ino;
  p->tf_size = sb.st_size;
  p->tf_mtime = sb.st_mtim;
  p->tf_valid = 1;
  return MBCAS_OK;
}

static int dup_into(char **dst, size_t *dlen, const char *src, size_t len) {
  if (!src) return 0;
  *dst = malloc(len + 1);
  if (!*dst) return -1;
  memcpy(*dst, src, len);
  (*dst)[len] = '\0';
  if (dlen) *dlen = len;
  return 0;
}

mbcas_rc kube_config_credentials(kube_config *cfg, kube_credentials *cred, mbcas_err *err) {
  memset(cred, 0, sizeof *cred);
  kube_config_priv *p = cfg->priv;
  mbcas_rc rc = MBCAS_OK;
  pthread_mutex_lock(&p->mu);
  const char *tok = cfg->token;
  const char *cert = cfg->client_cert_data, *key = cfg->client_key_data;
  size_t certlen = cfg->client_cert_data_len, keylen = cfg->client_key_data_len;
  if (cfg->exec.command) {
    if (!p->exec_valid || (p->exec_expiry && time(NULL) >= p->exec_expiry - 10))
      rc = run_exec(cfg, err);
    if (rc == MBCAS_OK) {
      if (p->exec_token) tok = p->exec_token;
      if (p->exec_cert && p->exec_key) {
        cert = p->exec_cert;
        certlen = strlen(cert);
        key = p->exec_key;
        keylen = strlen(key);
      }
    }
  } else if (!tok && cfg->token_file) {
    rc = refresh_token_file(cfg, err);
    if (rc == MBCAS_OK) tok = p->file_token;
  }
  if (rc == MBCAS_OK) {
    if ((tok && !(cred->token = strdup(tok))) ||
        dup_into(&cred->client_cert_pem, &cred->client_cert_pem_len, cert, certlen) ||
        dup_into(&cred->client_key_pem, &cred->client_key_pem_len, key, keylen))
      rc = MBCAS_ENOMEM;
    cred->generation = p->generation;
  }
  pthread_mutex_unlock(&p->mu);
  if (rc) kube_credentials_clear(cred);
  return rc;
}

void kube_config_invalidate(kube_config *cfg) {
  if (!cfg || !cfg->priv) return;
  pthread_mutex_lock(&cfg->priv->mu);
  free_exec_cache(cfg->priv);
  cfg->priv->tf_valid = 0;
  pthread_mutex_unlock(&cfg->priv->mu);
}

void kube_credentials_clear(kube_credentials *cred) {
  if (!cred) return;
  if (cred->token) {
    memset(cred->token, 0, strlen(cred->token));
    free(cred->token);
  }
  if (cred->client_key_pem) {
    memset(cred->client_key_pem, 0, cred->client_key_pem_len);
    free(cred->client_key_pem);
  }
  free(cred->client_cert_pem);
  memset(cred, 0, sizeof *cred);
}

void kube_config_free(kube_config *cfg) {
  if (!cfg) return;
  free(cfg->server);
  free(cfg->context);
  free(cfg->ns);
  free(cfg->ca_file);
  free(cfg->ca_data);
  free(cfg->tls_server_name);
  free(cfg->proxy_url);
  free(cfg->token);
  free(cfg->token_file);
  free(cfg->client_cert_file);
  free(cfg->client_key_file);
  free(cfg->client_cert_data);
  free(cfg->client_key_data);
  free(cfg->username);
  free(cfg->password);
  free(cfg->exec.command);
  free(cfg->exec.api_version);
  for (int i = 0; cfg->exec.args[i]; i++) free(cfg->exec.args[i]);
  for (int i = 0; cfg->exec.env[i]; i++) free(cfg->exec.env[i]);
  if (cfg->priv) {
    free(cfg->priv->file_token);
    free_exec_cache(cfg->priv);
    pthread_mutex_destroy(&cfg->priv->mu);
    free(cfg->priv);
  }
  free(cfg);
}
