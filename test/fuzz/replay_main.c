/* replay_main.c - a main() for the fuzz targets without libFuzzer.
 *
 *   fuzz_replay_<target> [file-or-dir ...]
 *
 * Feeds every file of the given folders (default: the committed seed corpus,
 * FUZZ_CORPUS_DIR, compiled in) to LLVMFuzzerTestOneInput, whole and cut at 8
 * evenly spaced prefixes (a stream or file that ends early), each time from an
 * exact-size heap copy so AddressSanitizer sees a read past the end. Files run
 * in name order. It exits 1 when no input was found (a wrong path must not look
 * green). Registered as ctest tests (label fuzz) so the regular and the
 * sanitized suites replay the corpus with any compiler. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#ifndef FUZZ_CORPUS_DIR
#define FUZZ_CORPUS_DIR "corpus"
#endif

#define REPLAY_MAX_BYTES (16u * 1024u * 1024u)
#define REPLAY_PREFIXES 8

static int run_buf(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return -1;
  if (size) memcpy(copy, data, size);
  LLVMFuzzerTestOneInput(copy, size);
  free(copy);
  return 0;
}

static int run_file(const char *path, int *count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= REPLAY_MAX_BYTES) break;
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    if (r == 0) break;
    n += r;
  }
  fclose(f);
  if (!buf) return -1;
  int rc = run_buf(buf, n);
  for (int i = 1; rc == 0 && i < REPLAY_PREFIXES && n > 1; i++) rc = run_buf(buf, n * (size_t)i / REPLAY_PREFIXES);
  free(buf);
  (*count)++;
  return rc;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_dir(const char *dir, int *count) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: cannot open folder %s\n", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) {
        rc = -1;
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) {
      rc = -1;
      break;
    }
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (rc == 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) rc = run_file(path, count);
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  const char *def[] = {FUZZ_CORPUS_DIR};
  const char *const *paths = argc > 1 ? (const char *const *)argv + 1 : def;
  int npaths = argc > 1 ? argc - 1 : 1;
  int count = 0;
  for (int i = 0; i < npaths; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) != 0) {
      fprintf(stderr, "replay: %s does not exist\n", paths[i]);
      return 1;
    }
    int rc = S_ISDIR(sb.st_mode) ? run_dir(paths[i], &count) : run_file(paths[i], &count);
    if (rc) return 1;
  }
  if (count == 0) {
    fprintf(stderr, "replay: no input found\n");
    return 1;
  }
  printf("replayed %d inputs (each whole and at %d prefixes)\n", count, REPLAY_PREFIXES - 1);
  return 0;
}
