/* apiserver_fixture.h - start and stop the Python API-server emulator for C
 * integration tests.
 *
 * fixture_start() makes a temporary directory, spawns
 *   /usr/bin/python3 $MBCAS_SOURCE_DIR/test/apiserver/apiserver.py --port 0 --dir TMP
 *     [--scenario F] [--fault S]... [extra args]
 * waits for TMP/ready and reads the port; the paths of the files the emulator
 * writes (kubeconfig, admin.token, ca.crt, client.crt/.key, tokens/NS.NAME.token)
 * are filled in. fixture_stop() sends SIGTERM, waits (SIGKILL after 5 s) and
 * removes the directory (the child also gets PR_SET_PDEATHSIG, so a crashed test
 * does not leave an emulator behind). fixture_fault() POSTs a fault object to
 * /_emulator/faults with the admin token (through the curl binary, so this
 * library needs no HTTP client); fixture_fault_clear() DELETEs them.
 *
 * Owns: the child process and the directory. Thread safety: none needed (tests). */
#ifndef MBCAS_TEST_APISERVER_FIXTURE_H
#define MBCAS_TEST_APISERVER_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct apiserver_fixture {
  pid_t pid;
  int port;
  char dir[256];
  char server[64];      /* "https://127.0.0.1:PORT" */
  char kubeconfig[320];
  char admin_token_file[320];
  char admin_token[512]; /* the token itself */
  char ca_crt[320];
  char client_crt[320];
  char client_key[320];
} apiserver_fixture;

/* scenario may be NULL; faults is a NULL-terminated list of --fault specs or
 * NULL; extra is a NULL-terminated list of further arguments or NULL.
 * Returns 0, or -1 (the reason on stderr). Waits up to 30 s for ready. */
int fixture_start(apiserver_fixture *fx, const char *scenario, const char *const *faults,
                  const char *const *extra);
void fixture_stop(apiserver_fixture *fx);
/* 0 when the emulator script exists (tests skip otherwise). */
int fixture_available(void);
/* POST /_emulator/faults with a JSON object or list; 0 on a 2xx answer. */
int fixture_fault(apiserver_fixture *fx, const char *json);
/* DELETE /_emulator/faults. */
int fixture_fault_clear(apiserver_fixture *fx);
/* Path of the ServiceAccount token file TMP/tokens/NS.NAME.token into buf. */
const char *fixture_sa_token_path(const apiserver_fixture *fx, const char *ns, const char *name,
                                  char *buf, size_t len);
/* Run curl against the emulator: method, path, optional JSON body; the HTTP code
 * is returned (or -1). Handy to create objects in tests. */
int fixture_http(apiserver_fixture *fx, const char *method, const char *path, const char *json);

#endif
