/* fuzz_elfstr.c - the module-name candidates of an ELF file (src/analyze/elfstr.c
 * elfstr_scan_mem), over the input as an image in memory; the file reader
 * elfstr_scan only maps a file and calls the same walk.
 *
 * Promises checked (elfstr.h): 0, or -1 with a one-line message; every name
 * NUL-terminated, 1..ELFSTR_NAME_MAX bytes of [A-Za-z0-9_.], each part
 * starting with a letter or '_', reported once; joined text not empty;
 * never a read outside the input (fuzz_dup gives it an exact block).  On
 * inputs of odd size the callback says stop at the 64th name: the walk must
 * then return -1 at once, err untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle/analyze/elfstr.h"
#include "fuzz_util.h"

struct seen {
    size_t stop_at; /* 0: never */
    int stopped;
    char **names;   /* copies, to see that none came twice */
    size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int on_name(const char *name, void *ctx)
{
    struct seen *s = ctx;
    size_t n = strlen(name);

    FUZZ_CHECK(!s->stopped); /* no call after a -1 */
    FUZZ_CHECK(n >= 1 && n <= ELFSTR_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        FUZZ_CHECK(is_start(c) || (c >= '0' && c <= '9') || c == '.');
        if (i == 0 || name[i - 1] == '.')
            FUZZ_CHECK(is_start(c)); /* no empty part, no leading digit */
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        FUZZ_CHECK((s->names = realloc(s->names, s->cap * sizeof *s->names)));
    }
    FUZZ_CHECK((s->names[s->n++] = strdup(name)));
    if (s->n == s->stop_at) {
        s->stopped = 1;
        return -1;
    }
    return 0;
}

static int on_joined(const char *text, size_t len, void *ctx)
{
    struct seen *s = ctx;
    volatile char last;

    FUZZ_CHECK(!s->stopped);
    FUZZ_CHECK(text && len > 0);
    last = text[len - 1]; /* the whole text is readable */
    (void)last;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_dup(data, size);
    struct seen s = { 0 };
    struct elfstr_sink sink = { .name = on_name, .joined = on_joined, .ctx = &s };
    struct err err = { 0 };
    int rc;

    s.stop_at = size % 2 ? 64 : 0;
    rc = elfstr_scan_mem(copy, size, &sink, &err);
    if (s.stopped)
        FUZZ_CHECK(rc == -1 && err.msg[0] == '\0'); /* err is the callback's */
    else if (rc != 0)
        FUZZ_CHECK(rc == -1 && err.msg[0] && !strchr(err.msg, '\n'));
    if (s.n > 0) /* qsort's pointer must not be NULL, even for no element */
        qsort(s.names, s.n, sizeof *s.names, cmp_str);
    for (size_t i = 1; i < s.n; i++)
        FUZZ_CHECK(strcmp(s.names[i - 1], s.names[i]) != 0);
    for (size_t i = 0; i < s.n; i++)
        free(s.names[i]);
    free(s.names);
    free(copy);
    return 0;
}
