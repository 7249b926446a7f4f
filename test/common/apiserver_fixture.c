/* apiserver_fixture.c - see apiserver_fixture.h. */
#include "apiserver_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *src_dir(void) {
  const char *s = getenv("MBCAS_SOURCE_DIR");
  return s && *s ? s : ".";
}

static const char *python(void) {
  const char *p = getenv("MBCAS_PYTHON");
  return p && *p ? p : "/usr/bin/python3";
}

int fixture_available(void) {
  char p[1024];
  snprintf(p, sizeof p, "%s/test/apiserver/apiserver.py", src_dir());
  return access(p, R_OK) == 0 ? 0 : -1;
}

static void msleep(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int read_small(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, len - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
  return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

int fixture_start(apiserver_fixture *fx, const char *scenario, const char *const *faults,
                  const char *const *extra) {
  memset(fx, 0, sizeof *fx);
  const char *tmp = getenv("TMPDIR");
  snprintf(fx->dir, sizeof fx->dir, "%s/mbcas-apiserver-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(fx->dir)) {
    fprintf(stderr, "fixture: mkdtemp: %s\n", strerror(errno));
    return -1;
  }
  char script[1024];
  snprintf(script, sizeof script, "%s/test/apiserver/apiserver.py", src_dir());
  const char *argv[64];
  int n = 0;
  argv[n++] = python();
  argv[n++] = script;
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--dir";
  argv[n++] = fx->dir;
  if (scenario) {
    argv[n++] = "--scenario";
    argv[n++] = scenario;
  }
  for (int i = 0; faults && faults[i] && n < 56; i++) {
    argv[n++] = "--fault";
    argv[n++] = faults[i];
  }
  for (int i = 0; extra && extra[i] && n < 62; i++) argv[n++] = extra[i];
  argv[n] = NULL;
  char logpath[400];
  snprintf(logpath, sizeof logpath, "%s/emulator.log", fx->dir);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    /* the emulator must not outlive a test that crashed */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  fx->pid = pid;
  char ready[400];
  snprintf(ready, sizeof ready, "%s/ready", fx->dir);
  for (int i = 0; i < 3000; i++) {
    if (access(ready, R_OK) == 0) break;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      fx->pid = 0;
      fprintf(stderr, "fixture: emulator exited early; log %s:\n", logpath);
      char buf[4096];
      if (read_small(logpath, buf, sizeof buf) == 0) fprintf(stderr, "%s\n", buf);
      return -1;
    }
    msleep(10);
  }
  if (access(ready, R_OK) != 0) {
    fprintf(stderr, "fixture: emulator not ready after 30 s\n");
    fixture_stop(fx);
    return -1;
  }
  char path[400], buf[64];
  snprintf(path, sizeof path, "%s/port", fx->dir);
  if (read_small(path, buf, sizeof buf) != 0) {
    fixture_stop(fx);
    return -1;
  }
  fx->port = atoi(buf);
  snprintf(fx->server, sizeof fx->server, "https://127.0.0.1:%d", fx->port);
  snprintf(fx->kubeconfig, sizeof fx->kubeconfig, "%s/kubeconfig", fx->dir);
  snprintf(fx->admin_token_file, sizeof fx->admin_token_file, "%s/admin.token", fx->dir);
  snprintf(fx->ca_crt, sizeof fx->ca_crt, "%s/ca.crt", fx->dir);
  snprintf(fx->client_crt, sizeof fx->client_crt, "%s/client.crt", fx->dir);
  snprintf(fx->client_key, sizeof fx->client_key, "%s/client.key", fx->dir);
  read_small(fx->admin_token_file, fx->admin_token, sizeof fx->admin_token);
  return 0;
}

void fixture_stop(apiserver_fixture *fx) {
  if (fx->pid > 0) {
    kill(fx->pid, SIGTERM);
    int st;
    int done = 0;
    for (int i = 0; i < 500 && !done; i++) {
      if (waitpid(fx->pid, &st, WNOHANG) == fx->pid)
        done = 1;
      else
        msleep(10);
    }
    if (!done) {
      kill(fx->pid, SIGKILL);
      waitpid(fx->pid, &st, 0);
    }
    fx->pid = 0;
  }
  if (fx->dir[0]) nftw(fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  fx->dir[0] = '\0';
}

const char *fixture_sa_token_path(const apiserver_fixture *fx, const char *ns, const char *name,
                                  char *buf, size_t len) {
  snprintf(buf, len, "%s/tokens/%s.%s.token", fx->dir, ns, name);
  return buf;
}

int fixture_http(apiserver_fixture *fx, const char *method, const char *path, const char *json) {
  char hdr[400], url[600], bodyf[400], outf[400];
  snprintf(hdr, sizeof hdr, "%s/.auth.hdr", fx->dir);
  FILE *f = fopen(hdr, "w");
  if (!f) return -1;
  fprintf(f, "Authorization: Bearer %s\nContent-Type: application/json\n", fx->admin_token);
  fclose(f);
  snprintf(bodyf, sizeof bodyf, "%s/.body.json", fx->dir);
  if (json) {
    f = fopen(bodyf, "w");
    if (!f) return -1;
    fputs(json, f);
    fclose(f);
  }
  snprintf(outf, sizeof outf, "%s/.code", fx->dir);
  snprintf(url, sizeof url, "%s%s", fx->server, path);
  char hdrarg[410], bodyarg[410];
  snprintf(hdrarg, sizeof hdrarg, "@%s", hdr);
  snprintf(bodyarg, sizeof bodyarg, "@%s", bodyf);
  const char *argv[24];
  int n = 0;
  argv[n++] = "curl";
  argv[n++] = "-s";
  argv[n++] = "-o";
  argv[n++] = "/dev/null";
  argv[n++] = "-w";
  argv[n++] = "%{http_code}";
  argv[n++] = "--cacert";
  argv[n++] = fx->ca_crt;
  argv[n++] = "-H";
  argv[n++] = hdrarg;
  argv[n++] = "-X";
  argv[n++] = method;
  if (json) {
    argv[n++] = "--data-binary";
    argv[n++] = bodyarg;
  }
  argv[n++] = url;
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, 1);
    execvp("curl", (char *const *)argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  unlink(hdr);
  char code[16];
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || read_small(outf, code, sizeof code) != 0) return -1;
  return atoi(code);
}

int fixture_fault(apiserver_fixture *fx, const char *json) {
  int code = fixture_http(fx, "POST", "/_emulator/faults", json);
  return code >= 200 && code < 300 ? 0 : -1;
}

int fixture_fault_clear(apiserver_fixture *fx) {
  int code = fixture_http(fx, "DELETE", "/_emulator/faults", NULL);
  return code >= 200 && code < 300 ? 0 : -1;
}
