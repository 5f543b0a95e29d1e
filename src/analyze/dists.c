/* dists.c - the installed distributions along sys.path: their metadata
 * directories read (the text parsed by dists_parse.c), Debian's stripped
 * requirements restored from dpkg's status, and the look-ups by name, by
 * top-level module and by requirement. */
#include "dists_impl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "bundle/util/util.h"

#define META_MAX (256u << 10)  /* METADATA headers come first: the rest is the description */
#define RECORD_MAX (16u << 20)

/* The top-level module names a distribution installs. */
static int read_tops(const char *dir, struct strvec *out)
{
    char *path = util_join(dir, "top_level.txt"), *text = NULL, *save = NULL;
    struct err e;
    int rc = 0;

    if (path && util_read_file(path, 1 << 20, &text, NULL, &e) == 0) {
        for (char *l = strtok_r(text, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
            char *s = dists_trim(l);
            /* "pkg/sub" in some old eggs: the top is what comes first */
            s[strcspn(s, "/")] = '\0';
            if (*s && strvec_find(out, s) < 0)
                rc = strvec_push(out, s);
        }
        goto out;
    }
    /* no top_level.txt (most wheels today): the RECORD's top directories
     * and top-level .py files */
    free(path);
    path = util_join(dir, "RECORD");
    if (path && util_read_file(path, RECORD_MAX, &text, NULL, &e) == 0) {
        for (char *l = strtok_r(text, "\r\n", &save); l && rc == 0; l = strtok_r(NULL, "\r\n", &save)) {
            size_t n = strcspn(l, "/,");
            if (n == 0 || l[0] == '.')
                continue;
            if (l[n] == '/' && !(n > 10 && strncmp(l + n - 10, ".dist-info", 10) == 0) &&
                !(n > 5 && strncmp(l + n - 5, ".data", 5) == 0) && strcmp(l, "__pycache__") != 0) {
                l[n] = '\0';
            } else if (l[n] == ',' && n > 3 && strncmp(l + n - 3, ".py", 3) == 0) {
                l[n - 3] = '\0';
            } else {
                continue;
            }
            if (strcmp(l, "__pycache__") != 0 && strvec_find(out, l) < 0)
                rc = strvec_push(out, l);
        }
    }
out:
    free(path);
    free(text);
    return rc;
}

/* The first max bytes of a file, NUL-terminated (METADATA can carry a
 * description of megabytes after its headers), or NULL. */
static char *read_head(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    char *text = f ? malloc(max + 1) : NULL;
    size_t n = text ? fread(text, 1, max, f) : 0;
    if (f)
        fclose(f);
    if (text)
        text[n] = '\0';
    return text;
}

/* "path.py", or NULL. */
static char *with_py(const char *path)
{
    char *s = NULL;
    return asprintf(&s, "%s.py", path) < 0 ? NULL : s;
}

/* Reads one metadata directory (or egg-info file) into *d.  Returns 1 if it is one, 0 if not,
 * -1 out of memory. */
static int read_dist(const char *root, const char *base, bool egg, struct dist *d)
{
    char *dir = util_join(root, base), *text = NULL, *path = NULL;
    struct err e;
    int rc = -1;

    memset(d, 0, sizeof *d);
    if (!dir)
        return -1;
    bool file = egg && util_is_file(dir); /* an egg-info file: PKG-INFO alone (distutils) */
    if (!file && !util_is_dir(dir)) {
        free(dir);
        return 0;
    }
    d->dir = dir;
    path = file ? strdup(dir) : util_join(dir, egg ? "PKG-INFO" : "METADATA");
    if (!path)
        goto out;
    char norm[256] = "";
    if ((text = read_head(path, META_MAX)) != NULL) {
        for (char *l = text; l && *l && *l != '\n'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            if (strncasecmp(l, "Name:", 5) == 0) {
                char *end = strchr(l, '\n'), keep = 0;
                if (end) {
                    keep = *end;
                    *end = '\0';
                }
                dists_normalize(dists_trim(l + 5), norm, sizeof norm);
                if (end)
                    *end = keep;
                break;
            }
        }
        if (!egg && (dists_parse_requires(text, false, &d->requires) != 0 ||
                     dists_parse_extras(text, false, &d->extras) != 0))
            goto out;
    }
    if (!norm[0]) { /* "name-1.0.dist-info": the name is before the first '-' */
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)strcspn(base, "-"), base);
        dists_normalize(stem, norm, sizeof norm);
    }
    if (!(d->name = strdup(norm)))
        goto out;
    if (file) { /* its tops: the modules named as it is (Cython, cython) */
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)strcspn(base, "-"), base);
        for (int lower = 0; lower < 2; lower++) {
            char *pkg = util_join(root, stem), *init = pkg ? util_join(pkg, "__init__.py") : NULL;
            char *mod = pkg ? with_py(pkg) : NULL;
            if ((init && util_is_file(init)) || (mod && util_is_file(mod)))
                strvec_push(&d->tops, stem);
            free(pkg);
            free(init);
            free(mod);
            for (char *c = stem; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        }
        rc = 1;
        goto out;
    }
    if (egg) {
        free(text);
        text = NULL;
        free(path);
        if (!(path = util_join(dir, "requires.txt")))
            goto out;
        if (util_read_file(path, META_MAX, &text, NULL, &e) == 0 &&
            (dists_parse_requires(text, true, &d->requires) != 0 || dists_parse_extras(text, true, &d->extras) != 0))
            goto out;
    }
    free(text);
    text = NULL;
    free(path);
    if (!(path = util_join(dir, "entry_points.txt")))
        goto out;
    if (util_read_file(path, 1 << 20, &text, NULL, &e) == 0 &&
        dists_parse_entry_points(text, &d->eps, &d->neps) != 0)
        goto out;
    if (read_tops(dir, &d->tops) != 0)
        goto out;
    rc = 1;
out:
    free(text);
    free(path);
    return rc;
}

static void dist_free(struct dist *d)
{
    free(d->name);
    free(d->dir);
    strvec_release(&d->tops);
    strvec_release(&d->requires);
    strvec_release(&d->extras);
    dists_eps_free(d->eps, d->neps);
    memset(d, 0, sizeof *d);
}

static int index_tops(struct dists *d);

/* The python3-* Depends of every package in a dpkg status file, as
 * "pkg\tpython3-a python3-b" lines in out, and the Provides of python3-*
 * packages as "python3-x\tpython3-virtual..." lines in provides (for
 * debian_requires). */
static int read_dpkg(const char *status, struct strvec *out, struct strvec *provides)
{
    FILE *f = fopen(status, "r");
    char *line = NULL, pkg[256] = "";
    size_t cap = 0;
    int rc = 0;
    if (!f)
        return 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        if (strncmp(line, "Package: ", 9) == 0) {
            snprintf(pkg, sizeof pkg, "%s", line + 9);
            pkg[strcspn(pkg, "\n")] = '\0';
        } else if ((strncmp(line, "Depends: ", 9) == 0 && pkg[0]) ||
                   (strncmp(line, "Provides: ", 10) == 0 && strncmp(pkg, "python3-", 8) == 0)) {
            struct buf b = {0};
            bool prov = line[0] == 'P';
            if (prov)
                memmove(line, line + 1, strlen(line)); /* "Provides: " is one byte longer */
            buf_printf(&b, "%s\t", pkg);
            /* "python3-a (>= 1), python3-b | python3 (>> 3.7), ca-certificates" */
            for (char *save = NULL, *dep = strtok_r(line + 9, ",|\n", &save); dep; dep = strtok_r(NULL, ",|\n", &save)) {
                dep = dists_trim(dep);
                size_t n = strcspn(dep, " :(");
                if (n > 8 && strncmp(dep, "python3-", 8) == 0)
                    buf_printf(&b, "%.*s ", (int)n, dep);
            }
            rc = b.data ? strvec_push_owned(prov ? provides : out, b.data) : -1;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

/* Debian strips the requirements from some packages' metadata (requests
 * declares none; the package depends on python3-idna...): for a
 * distribution of dist-packages that declares none, its Debian package's
 * Depends stand in, found by Debian's naming (python3-NAME, or
 * python3-MODULE for PyYAML's python3-yaml). */
/* The distribution a Debian package name stands for: python3-NAME is
 * distribution NAME, or the one of module NAME (python3-yaml: PyYAML), or of
 * module _NAME (python3-cffi-backend: _cffi_backend); a virtual package
 * (python3-cffi-backend-api-min) through what provides it. */
static struct dist *debian_dist(struct dists *d, const char *deb, const struct strvec *provides, int depth)
{
    char dn[256], mod[258];
    struct dist *t;
    dists_normalize(deb + 8, dn, sizeof dn);
    if ((t = dists_by_name(d, dn)) != NULL || (t = dists_by_top(d, dn)) != NULL)
        return t;
    snprintf(mod, sizeof mod, "_%s", dn);
    if ((t = dists_by_top(d, mod)) != NULL)
        return t;
    for (size_t k = 0; depth == 0 && k < provides->n; k++) {
        const char *tab = strchr(provides->v[k], '\t');
        size_t dl = strlen(deb);
        for (const char *p = tab ? strstr(tab + 1, deb) : NULL; p; p = strstr(p + 1, deb))
            if (p[-1] == ' ' || p[-1] == '\t') {
                if (p[dl] == ' ' || p[dl] == '\0') {
                    char real[256];
                    snprintf(real, sizeof real, "%.*s", (int)(tab - provides->v[k]), provides->v[k]);
                    return debian_dist(d, real, provides, depth + 1);
                }
            }
    }
    return NULL;
}

static int debian_requires(struct dists *d)
{
    struct strvec deps = STRVEC_INIT, provides = STRVEC_INIT;
    int rc = 0;
    for (size_t i = 0; i < d->n && rc == 0; i++) {
        struct dist *di = &d->v[i];
        /* Debian strips requirements, sometimes all but a platform's
         * (httpie keeps only Windows' colorama): its Depends are added */
        if (!strstr(di->dir, "/dist-packages/"))
            continue;
        if (!deps.n && (rc = read_dpkg("/var/lib/dpkg/status", &deps, &provides)) != 0)
            break;
        for (size_t k = 0; k < deps.n; k++) {
            /* python3-NAME, or an application packaged under its own name
             * (httpie, radon), whose Depends name its libraries */
            char *tab = strchr(deps.v[k], '\t'), name[256];
            bool py = strncmp(deps.v[k], "python3-", 8) == 0;
            const char *stem = py ? deps.v[k] + 8 : deps.v[k];
            *tab = '\0';
            dists_normalize(stem, name, sizeof name);
            bool mine = strcmp(name, di->name) == 0 || (py && strvec_find(&di->tops, stem) >= 0);
            *tab = '\t';
            if (!mine)
                continue;
            char *save = NULL, *copy = strdup(tab + 1);
            for (char *dep = copy ? strtok_r(copy, " ", &save) : NULL; dep && rc == 0; dep = strtok_r(NULL, " ", &save)) {
                struct dist *t = debian_dist(d, dep, &provides, 0);
                char dn[256];
                if (t)
                    snprintf(dn, sizeof dn, "%s", t->name);
                else
                    dists_normalize(dep + 8, dn, sizeof dn);
                if (dn[0] && strvec_find(&di->requires, dn) < 0)
                    rc = strvec_push(&di->requires, dn);
            }
            free(copy);
            break;
        }
    }
    strvec_release(&deps);
    strvec_release(&provides);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int dists_load(struct dists *d, const char *const *roots, size_t nroots, struct err *err)
{
    memset(d, 0, sizeof *d);
    for (size_t r = 0; r < nroots; r++) {
        DIR *dir = opendir(roots[r]);
        struct dirent *de;
        struct strvec names = STRVEC_INIT;
        if (!dir)
            continue;
        while ((de = readdir(dir)) != NULL) {
            size_t l = strlen(de->d_name);
            if (((l > 10 && strcmp(de->d_name + l - 10, ".dist-info") == 0) ||
                 (l > 9 && strcmp(de->d_name + l - 9, ".egg-info") == 0)) &&
                strvec_push(&names, de->d_name) != 0) {
                closedir(dir);
                strvec_release(&names);
                return err_set(err, ENOMEM, "out of memory");
            }
        }
        closedir(dir);
        if (names.n)
            qsort(names.v, names.n, sizeof *names.v, cmp_str); /* the same order on every machine */
        for (size_t i = 0; i < names.n; i++) {
            size_t l = strlen(names.v[i]);
            struct dist one;
            int got = read_dist(roots[r], names.v[i], l > 9 && strcmp(names.v[i] + l - 9, ".egg-info") == 0, &one);
            if (got < 0) {
                dist_free(&one);
                strvec_release(&names);
                return err_set(err, ENOMEM, "out of memory");
            }
            if (got == 0)
                continue;
            if (!one.name[0] || dists_by_name(d, one.name)) { /* the first on the path wins */
                dist_free(&one);
                continue;
            }
            if (d->n == d->cap) {
                size_t nc = d->cap ? d->cap * 2 : 64;
                struct dist *nv = realloc(d->v, nc * sizeof *nv);
                if (!nv) {
                    dist_free(&one);
                    strvec_release(&names);
                    return err_set(err, ENOMEM, "out of memory");
                }
                d->v = nv;
                d->cap = nc;
            }
            d->v[d->n++] = one;
        }
        strvec_release(&names);
    }
    return index_tops(d) == 0 && debian_requires(d) == 0 ? 0 : err_set(err, ENOMEM, "out of memory");
}

struct dist *dists_by_name(const struct dists *d, const char *name)
{
    char norm[256];
    dists_normalize(name, norm, sizeof norm);
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].name, norm) == 0)
            return &d->v[i];
    return NULL;
}

static int cmp_top(const void *a, const void *b)
{
    int c = strcmp(((const struct dist_top *)a)->top, ((const struct dist_top *)b)->top);
    /* equal names: the first distribution on the path first */
    const struct dist *x = ((const struct dist_top *)a)->d, *y = ((const struct dist_top *)b)->d;
    return c ? c : (x > y) - (x < y);
}

struct dist *dists_by_top(const struct dists *d, const char *top)
{
    size_t lo = 0, hi = d->ntops;
    while (lo < hi) { /* the first entry not below top */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(d->tops[mid].top, top) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->ntops && strcmp(d->tops[lo].top, top) == 0 ? d->tops[lo].d : NULL;
}

/* The sorted index of top-level names, once every dist is in place. */
static int index_tops(struct dists *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += d->v[i].tops.n;
    if (!n)
        return 0;
    if (!(d->tops = malloc(n * sizeof *d->tops)))
        return -1;
    for (size_t i = 0; i < d->n; i++)
        for (size_t k = 0; k < d->v[i].tops.n; k++)
            d->tops[d->ntops++] = (struct dist_top){d->v[i].tops.v[k], &d->v[i]};
    qsort(d->tops, d->ntops, sizeof *d->tops, cmp_top);
    return 0;
}

bool dists_requires(const struct dists *d, const struct dist *from, const struct dist *to)
{
    /* breadth first over the requirement graph; a few hundred nodes at most */
    size_t *queue, head = 0, tail = 0;
    bool *seen, found = false;
    if (!from || !to)
        return false;
    if (from == to)
        return true;
    queue = malloc((d->n + 1) * sizeof *queue);
    seen = calloc(d->n + 1, sizeof *seen);
    if (!queue || !seen) {
        free(queue);
        free(seen);
        return true; /* no memory: say yes, which follows the import as before */
    }
    queue[tail++] = (size_t)(from - d->v);
    seen[from - d->v] = true;
    while (head < tail && !found) {
        const struct dist *cur = &d->v[queue[head++]];
        for (size_t k = 0; k < cur->requires.n && !found; k++) {
            struct dist *r = dists_by_name(d, cur->requires.v[k]);
            if (!r || seen[r - d->v])
                continue;
            found = r == to;
            seen[r - d->v] = true;
            queue[tail++] = (size_t)(r - d->v);
        }
    }
    free(queue);
    free(seen);
    return found;
}

void dists_release(struct dists *d)
{
    for (size_t i = 0; i < d->n; i++)
        dist_free(&d->v[i]);
    free(d->v);
    free(d->tops);
    memset(d, 0, sizeof *d);
}
