/* fuzz_scan.c - the import scanner (src/analyze/scan*.c) on any bytes.
 *
 * Promises checked (scan.h): success or -1 with a message and the fault's
 * line, never a crash, a hang or unbounded recursion; on success every
 * import names a module the way Python spells one (dotted identifiers; ""
 * only for a relative "from . import x"), every imported name is an
 * identifier or "*", lines lie inside the source and flags are known bits;
 * on failure the result is empty.  The same source scans the same way twice.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/analyze/scan.h"
#include "fuzz_util.h"

#define CONTEXT_FLAGS (SCAN_IN_TRY | SCAN_IN_IF | SCAN_IN_DEF | SCAN_IN_CLASS | SCAN_IN_SCRIPT | SCAN_IN_MAIN | SCAN_GUARDED | SCAN_IN_EXCEPT | SCAN_PROBE)
#define HINT_FLAGS SCAN_HINTS
#define KNOWN_FLAGS (CONTEXT_FLAGS | SCAN_DYNAMIC | HINT_FLAGS)

static bool identifier(const char *s);

/* Only bytes of s[0..) in the set, and nothing else. */
static bool only(const char *s, const char *set)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr(set, *s)))
            return false;
    return true;
}

/* A hint (scan.h): what each kind promises of its module. */
static void check_hint(const struct scan_import *imp)
{
    unsigned kind = imp->flags & HINT_FLAGS;
    if (kind == (SCAN_PREFIX | SCAN_SELFDIR)) { /* a computed import beside a listing */
        FUZZ_CHECK(imp->flags & SCAN_DYNAMIC);
        kind = SCAN_PREFIX;
    }
    FUZZ_CHECK(kind == SCAN_STRING || kind == SCAN_PREFIX || kind == SCAN_DIST || kind == SCAN_SELFDIR ||
               kind == SCAN_PROTOCOL);
    FUZZ_CHECK(imp->nnames == 0 || (kind == SCAN_DIST && imp->nnames == 2));
    switch (kind) {
    case SCAN_STRING:
        FUZZ_CHECK(imp->level >= 0 && imp->level <= 3 && imp->module[0] && strlen(imp->module) <= 200 &&
                   only(imp->module, imp->level ? "_." : "_.-"));
        break;
    case SCAN_PREFIX:
        FUZZ_CHECK(only(imp->module, "_.") && (imp->level > 0 || strchr(imp->module, '.')));
        break;
    case SCAN_DIST:
        FUZZ_CHECK(imp->level == 0 && imp->module[0] && strlen(imp->module) <= 200);
        break;
    case SCAN_PROTOCOL: /* a function's name */
        FUZZ_CHECK(imp->level == 0 && identifier(imp->module) && strlen(imp->module) < 100);
        break;
    default: /* "" for its own package, or the name it imported one as */
        FUZZ_CHECK(imp->level == 0 && (imp->module[0] == '\0' || identifier(imp->module)));
    }
}

static bool id_start(unsigned char c)
{
    return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool id_char(unsigned char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

static bool identifier(const char *s)
{
    if (!id_start((unsigned char)*s))
        return false;
    while (*++s)
        if (!id_char((unsigned char)*s))
            return false;
    return true;
}

/* NAME ('.' NAME)*; a string given to __import__ only has to start like a
 * name and hold name characters and dots (scan_hints.c is_module_literal). */
static bool dotted(const char *s, bool dynamic)
{
    bool start = true;
    if (dynamic) {
        if (!id_start((unsigned char)*s))
            return false;
        for (; *s; s++)
            if (!id_char((unsigned char)*s) && *s != '.')
                return false;
        return true;
    }
    for (; *s; s++) {
        if (*s == '.') {
            if (start)
                return false;
            start = true;
        } else if (start ? !id_start((unsigned char)*s) : !id_char((unsigned char)*s)) {
            return false;
        } else {
            start = false;
        }
    }
    return !start;
}

/* Lines as scan.c counts them: LF, CR and CRLF end one.  With memchr, not
 * a byte loop: the harness is instrumented too, and this runs on every
 * input. */
static int count_lines(const char *s, size_t n)
{
    const char *p, *end = s + n;
    int lines = 1;

    for (p = s; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    for (p = s; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
        if (p + 1 == end || p[1] != '\n')
            lines++;
    return lines;
}

static void check_result(const struct scan_result *r, int lines)
{
    int max_try = 0;
    FUZZ_CHECK(r->n == 0 || r->imports);
    for (size_t i = 0; i < r->n; i++) {
        const struct scan_import *imp = &r->imports[i];
        bool dynamic = imp->flags & SCAN_DYNAMIC;

        FUZZ_CHECK(imp->module);
        FUZZ_CHECK(imp->line >= 1 && imp->line <= lines);
        FUZZ_CHECK((imp->flags & ~(unsigned)KNOWN_FLAGS) == 0);
        FUZZ_CHECK(imp->try_id >= 0 && imp->fallback_of >= 0 && imp->fallback_of <= max_try);
        if (imp->try_id > max_try)
            max_try = imp->try_id;
        if (imp->flags & HINT_FLAGS) {
            check_hint(imp);
            continue;
        }
        FUZZ_CHECK(imp->level >= 0);
        FUZZ_CHECK(dotted(imp->module, dynamic) || (imp->module[0] == '\0' && imp->level > 0));
        /* a relative import comes with names ("from . import x"), but
         * import_module(".x", __package__) */
        FUZZ_CHECK(imp->level == 0 || imp->names || dynamic);
        FUZZ_CHECK(imp->nnames == 0 || imp->names);
        for (size_t j = 0; j < imp->nnames; j++)
            FUZZ_CHECK(imp->names[j] &&
                       (strcmp(imp->names[j], "*") == 0 || identifier(imp->names[j])));
    }
}

static bool same(const struct scan_result *a, const struct scan_result *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct scan_import *x = &a->imports[i], *y = &b->imports[i];
        if (strcmp(x->module, y->module) != 0 || x->level != y->level || x->line != y->line ||
            x->flags != y->flags || x->nnames != y->nnames || x->try_id != y->try_id ||
            x->fallback_of != y->fallback_of)
            return false;
        for (size_t j = 0; j < x->nnames; j++)
            if (strcmp(x->names[j], y->names[j]) != 0)
                return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data;
    struct scan_result r, again;
    struct err err = {0}, err2 = {0};
    int line = -1, line2 = -1, rc, lines = count_lines(src, size);

    rc = scan_source(src, size, &r, &line, &err);
    if (rc == 0) {
        check_result(&r, lines);
    } else {
        FUZZ_CHECK(rc == -1);
        FUZZ_CHECK(err.msg[0] && memchr(err.msg, '\0', sizeof err.msg));
        FUZZ_CHECK(r.n == 0 && r.imports == NULL);
        FUZZ_CHECK(line >= 0 && line <= lines);
        FUZZ_CHECK(line >= 1 || err.errnum != 0); /* line 0: out of memory only */
    }
    /* deterministic: the scanner keeps no state between calls (checked on
     * small inputs only: it halves the speed on large ones) */
    if (size <= 4096) {
        FUZZ_CHECK(scan_source(src, size, &again, &line2, &err2) == rc);
        FUZZ_CHECK(rc != 0 || same(&r, &again));
        FUZZ_CHECK(rc == 0 || (line == line2 && strcmp(err.msg, err2.msg) == 0));
        scan_result_release(&again);
    }
    scan_result_release(&r);
    FUZZ_CHECK(r.n == 0 && r.imports == NULL);
    return 0;
}
