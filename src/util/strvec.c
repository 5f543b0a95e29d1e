#include "bundle/util/strvec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int strvec_push_owned(struct strvec *sv, char *s)
{
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    if (sv->n + 2 > sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 8;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (!v) {
            free(s);
            errno = ENOMEM;
            return -1;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

void strvec_pop(struct strvec *sv, size_t k)
{
    while (k-- > 0 && sv->n > 0) {
        free(sv->v[--sv->n]);
        sv->v[sv->n] = NULL;
    }
}

int strvec_push(struct strvec *sv, const char *s)
{
    return strvec_push_owned(sv, strdup(s));
}

long strvec_find(const struct strvec *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return (long)i;
    return -1;
}

void strvec_release(struct strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort_unique(struct strvec *sv)
{
    size_t w = 0;
    if (!sv->n)
        return;
    qsort(sv->v, sv->n, sizeof *sv->v, cmp_strp);
    for (size_t i = 0; i < sv->n; i++) {
        if (w > 0 && strcmp(sv->v[w - 1], sv->v[i]) == 0)
            free(sv->v[i]);
        else
            sv->v[w++] = sv->v[i];
    }
    sv->n = w;
    sv->v[w] = NULL;
}
