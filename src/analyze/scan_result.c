/* scan_result.c - the imports the scanner records (struct scan_result),
 * and the name buffers they are read into. */
#include "scan_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int out_of_memory(struct parser *p)
{
    p->lx.fault_line = 0;
    return err_set(p->lx.err, ENOMEM, "cannot record the imports");
}

/* Sets the name buffer p->sb to s[0..n), or with append adds s[0..n) to it. */
int scan_sb_set(struct parser *p, const char *s, size_t n, int append)
{
    size_t len = append ? p->sblen : 0;
    if (n > SIZE_MAX / 2 - len)
        return out_of_memory(p);
    if (len + n + 1 > p->sbcap) {
        size_t cap = p->sbcap ? p->sbcap : 64;
        char *nb;
        while (cap < len + n + 1)
            cap *= 2;
        nb = realloc(p->sb, cap);
        if (!nb)
            return out_of_memory(p);
        p->sb = nb;
        p->sbcap = cap;
    }
    memcpy(p->sb + len, s, n);
    p->sblen = len + n;
    p->sb[p->sblen] = '\0';
    return 0;
}

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        if (n)
            memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

void scan_names_clear(struct parser *p)
{
    size_t i;
    for (i = 0; i < p->nnames; i++)
        free(p->names[i]);
    p->nnames = 0;
}

int scan_names_add(struct parser *p, const char *s, size_t n)
{
    char *c;
    if (p->nnames == p->namescap) {
        size_t cap = p->namescap ? p->namescap * 2 : 8;
        char **nn;
        if (cap > SIZE_MAX / sizeof *nn)
            return out_of_memory(p);
        nn = realloc(p->names, cap * sizeof *nn);
        if (!nn)
            return out_of_memory(p);
        p->names = nn;
        p->namescap = cap;
    }
    c = copy(s, n);
    if (!c)
        return out_of_memory(p);
    p->names[p->nnames++] = c;
    return 0;
}

/* Appends an import of module m[0..n); with_names hands over p->names. */
int scan_add_import(struct parser *p, const char *m, size_t n, int level, int line,
                      unsigned flags, int with_names)
{
    struct scan_import *imp;
    char *module;

    if (p->res.n == p->rescap) {
        size_t cap = p->rescap ? p->rescap * 2 : 16;
        struct scan_import *ni;
        if (cap > SIZE_MAX / sizeof *ni)
            return out_of_memory(p);
        ni = realloc(p->res.imports, cap * sizeof *ni);
        if (!ni)
            return out_of_memory(p);
        p->res.imports = ni;
        p->rescap = cap;
    }
    module = copy(m, n);
    if (!module)
        return out_of_memory(p);
    imp = &p->res.imports[p->res.n++];
    imp->module = module;
    imp->level = level;
    imp->names = NULL;
    imp->nnames = 0;
    imp->line = line;
    imp->flags = flags;
    imp->try_id = p->try_id;
    imp->fallback_of = p->fallback_of;
    if (with_names) {
        imp->names = p->names;
        imp->nnames = p->nnames;
        p->names = NULL;
        p->nnames = 0;
        p->namescap = 0;
    }
    return 0;
}

void scan_result_release(struct scan_result *r)
{
    size_t i, j;
    if (!r)
        return;
    for (i = 0; i < r->n; i++) {
        struct scan_import *imp = &r->imports[i];
        for (j = 0; j < imp->nnames; j++)
            free(imp->names[j]);
        free(imp->names);
        free(imp->module);
    }
    free(r->imports);
    r->imports = NULL;
    r->n = 0;
}
