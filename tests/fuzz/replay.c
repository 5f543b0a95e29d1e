/* replay.c - the fuzz targets without libFuzzer: feeds every file of the
 * directories (or the files) named on the command line to
 * LLVMFuzzerTestOneInput, in name order, once each.  ctest runs it on the
 * regression and seed corpora on every build, with whatever compiler and
 * sanitizers the build uses; a broken promise or a sanitizer report aborts
 * it, right after the "replaying" line that names the input.
 *
 *     fuzz-replay-<target> DIR|FILE...
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int run_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *exact;
    size_t len = 0, cap = 0, n;

    if (!f) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    do {
        if (cap - len < 65536) {
            char *b = realloc(buf, cap = cap * 2 + 65536);
            if (!b)
                abort();
            buf = b;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    /* as libFuzzer does: a block of exactly len bytes */
    exact = fuzz_dup(buf, len);
    free(buf);
    /* before the run, so that a crash report follows the input's name */
    fprintf(stderr, "replaying %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput((const uint8_t *)exact, len);
    free(exact);
    (*count)++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    int rc = 0;

    if (!d) {
        if (errno == ENOENT)
            return 0; /* a target without regressions yet */
        fprintf(stderr, "replay: cannot open '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char **v;
        if (de->d_name[0] == '.')
            continue; /* ".", "..", ".gitkeep" */
        if (!(v = realloc(names, (n + 1) * sizeof *v)) || !(v[n] = strdup(de->d_name)))
            abort();
        names = v;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *path;
        struct stat st;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
            abort();
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(path, count) != 0)
            rc = -1;
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode))
            rc |= run_file(argv[i], &count);
        else
            rc |= run_dir(argv[i], &count);
    }
    printf("replayed %zu inputs\n", count);
    return rc ? 1 : 0;
}
