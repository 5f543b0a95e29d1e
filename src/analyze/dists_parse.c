/* dists_parse.c - the text of distribution metadata, parsed: names
 * normalized (PEP 503), entry_points.txt, Requires-Dist headers and
 * requires.txt, feature extras.  No files are read here (dists.c does). */
#include "dists_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dists_normalize(const char *name, char *out, size_t outsz)
{
    size_t o = 0;
    bool sep = false;
    if (!outsz)
        return;
    for (const char *p = name; *p && o + 1 < outsz; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '-' || c == '_' || c == '.') {
            sep = true;
            continue;
        }
        if (!isalnum(c))
            break; /* "pkg==1.0", "pkg (>=2)", "pkg; extra" */
        if (sep && o > 0 && o + 2 < outsz)
            out[o++] = '_';
        sep = false;
        out[o++] = (char)tolower(c);
    }
    out[o] = '\0';
}

char *dists_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

void dists_eps_free(struct dist_ep *eps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(eps[i].group);
        free(eps[i].name);
        free(eps[i].module);
        free(eps[i].attr);
    }
    free(eps);
}

int dists_parse_entry_points(const char *text, struct dist_ep **eps, size_t *neps)
{
    char *copy = strdup(text ? text : ""), *save = NULL, *group = NULL;
    struct dist_ep *v = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    *eps = NULL;
    *neps = 0;
    if (!copy)
        return -1;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *s = dists_trim(l);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            free(group);
            group = close ? strndup(s + 1, (size_t)(close - s - 1)) : NULL;
            if (close && !group)
                goto out;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!group || !eq)
            continue;
        *eq = '\0';
        char *name = dists_trim(s), *value = dists_trim(eq + 1);
        value[strcspn(value, " \t[")] = '\0'; /* "mod:attr [extra]" */
        char *colon = strchr(value, ':');
        if (colon)
            *colon = '\0';
        if (!*name || !*value)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct dist_ep *nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                goto out;
            v = nv;
            cap = nc;
        }
        v[n] = (struct dist_ep){strdup(group), strdup(name), strdup(value), strdup(colon ? colon + 1 : "")};
        n++;
        if (!v[n - 1].group || !v[n - 1].name || !v[n - 1].module || !v[n - 1].attr)
            goto out;
    }
    rc = 0;
out:
    free(group);
    free(copy);
    if (rc != 0) {
        dists_eps_free(v, n);
        return -1;
    }
    *eps = v;
    *neps = n;
    return 0;
}

/* Adds the name a requirement line starts with, unless it is for an extra. */
static int add_requirement(const char *req, struct strvec *out)
{
    char norm[256];
    const char *semi = strchr(req, ';');
    if (semi && strstr(semi, "extra"))
        return 0;
    dists_normalize(req, norm, sizeof norm);
    if (!norm[0] || strvec_find(out, norm) >= 0)
        return 0;
    return strvec_push(out, norm);
}

int dists_parse_requires(const char *text, bool egg_requires_txt, struct strvec *out)
{
    char *copy = strdup(text ? text : ""), *rest;
    bool in_extra = false;
    int rc = 0;

    if (!copy)
        return -1;
    rest = copy;
    /* strsep, not strtok: the blank line that ends the headers counts */
    for (char *l = strsep(&rest, "\n"); l && rc == 0; l = strsep(&rest, "\n")) {
        if (egg_requires_txt) {
            char *s = dists_trim(l);
            if (*s == '[') /* "[extra]" is optional; "[:marker]" is not */
                in_extra = s[1] != ':';
            else if (*s && *s != '#' && !in_extra)
                rc = add_requirement(s, out);
            continue;
        }
        if (!*dists_trim(l))
            break; /* the headers end at the first blank line */
        if (strncasecmp(l, "Requires-Dist:", 14) == 0)
            rc = add_requirement(dists_trim(l + 14), out);
    }
    free(copy);
    return rc;
}

/* Whether an extra's name says it is for developing the package (tests,
 * docs, linting, building), not a feature of it at run time. */
static bool dev_extra(const char *name)
{
    static const char *const dev[] = {"dev", "doc", "test", "lint", "typ", "check", "build", "release",
                                      "bench", "format", "style", "cov", "mypy", "pre-commit", "qa", "all"};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        if (strncasecmp(name, dev[i], strlen(dev[i])) == 0)
            return true;
    return false;
}

int dists_parse_extras(const char *text, bool egg_requires_txt, struct strvec *out)
{
    char *copy = strdup(text ? text : ""), *rest = copy;
    bool feature = false;
    int rc = 0;

    if (!copy)
        return -1;
    for (char *l = strsep(&rest, "\n"); l && rc == 0; l = strsep(&rest, "\n")) {
        char *s = dists_trim(l), name[128] = "", norm[256];
        if (egg_requires_txt) {
            if (*s == '[') { /* "[extra]" or "[extra:marker]"; "[:marker]" is no extra */
                snprintf(name, sizeof name, "%.*s", (int)strcspn(s + 1, ":]"), s + 1);
                feature = name[0] && !dev_extra(name);
            } else if (*s && *s != '#' && feature) {
                dists_normalize(s, norm, sizeof norm);
                if (norm[0] && strvec_find(out, norm) < 0)
                    rc = strvec_push(out, norm);
            }
            continue;
        }
        if (!*s)
            break; /* the headers end at the first blank line */
        const char *semi, *ex;
        if (strncasecmp(s, "Requires-Dist:", 14) != 0 || !(semi = strchr(s, ';')) || !(ex = strstr(semi, "extra")))
            continue;
        ex += strspn(ex + 5, " =") + 5;
        if (*ex == '"' || *ex == '\'')
            snprintf(name, sizeof name, "%.*s", (int)strcspn(ex + 1, "\"'"), ex + 1);
        if (!name[0] || dev_extra(name))
            continue;
        dists_normalize(dists_trim(s + 14), norm, sizeof norm);
        if (norm[0] && strvec_find(out, norm) < 0)
            rc = strvec_push(out, norm);
    }
    free(copy);
    return rc;
}
