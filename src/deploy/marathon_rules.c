/* marathon_rules.c - the rules of a Marathon app and a Metronome job that
 * their JSON Schemas cannot say: ids, urls, names, numbers and text are
 * checked here, once, before any document is built (marathon_plan_init),
 * and the task's cmd is made here (marathon_plan_cmd).  marathon.c builds
 * the documents from the checked plan.
 *
 * Choices (see ../shared/schemas/FACTS.md for the facts behind them):
 *  - cmd, never args.  Without fetch it is the blog post's line, hardened:
 *        export BUNDLE_CACHE_DIR=... && curl -fsSL -o 'NAME' 'URL' &&
 *        printf '%s  %s\n' HASH 'NAME' | sha256sum -c - &&
 *        chmod u+x './NAME' && exec './NAME' ARGS
 *    (printf, not echo: dash's echo rewrites backslashes in NAME).  With
 *    fetch the Mesos fetcher downloads and marks the file executable, and
 *    cmd only verifies and execs, because the fetcher checks nothing
 *    (item 7).
 *  - The export puts the stub's cache of native parts in the sandbox
 *    (CACHE_EXPORT below), unless the task's environment already names a
 *    BUNDLE_CACHE_DIR (--env, or the agent's).  A task's HOME is the agent's
 *    (often /root: shared, never cleaned, not writable after a user switch)
 *    or unset (then /tmp, maybe a tmpfs, which counts against mem and cannot
 *    be reclaimed, item 10); the sandbox is always the task's own, writable,
 *    on disk and removed with the task.  Marathon env values are literal, so
 *    this must be shell text.  MESOS_SANDBOX is set by both containerizers;
 *    $PWD (sh's working directory, the sandbox) covers a cmd run by hand.
 *  - Every variable word (NAME, URL) is single-quoted.  ARGS is shell text
 *    appended verbatim, like Marathon's own cmd: users of --args write
 *    words, quotes and $VARS as they would in a shell.  It may not hold a
 *    newline or other control character (tab is allowed).
 *  - Marathon fetch always sets destPath to NAME (this schema has it), so the
 *    URL's last segment does not matter.  Metronome artifacts cannot be
 *    renamed (item 6), so a Metronome job with fetch uses the URL's last
 *    path segment, query string included (item 5), as the file name in cmd.
 *  - The Mesos-DNS limit (54 characters, item 3) is counted over the whole
 *    id without its slashes, and is an error for given ids too.
 *  - Without a url, "file://" + binary_path, percent-encoding all but
 *    [A-Za-z0-9._~/-].  curl decodes that; the Mesos fetcher takes file://
 *    paths literally, so with fetch such an encoded url is refused.
 */
#include "marathon_impl.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/util/util.h"

#define URL_MAX 1024         /* Marathon's strings.Uri maxLength */
#define NAME_MAX_LEN 255     /* a file name in the sandbox */
#define PATH_MAX_LEN 1024    /* Marathon's strings.Path maxLength */
#define MARATHON_MIN_CPUS 0.001 /* Marathon 1.8+ (app.raml) */

/* The first words of every cmd: see "Choices" above. */
#define CACHE_EXPORT                                                                \
    "export BUNDLE_CACHE_DIR=\"${BUNDLE_CACHE_DIR:-${MESOS_SANDBOX:-$PWD}/"                \
    MARATHON_SANDBOX_CACHE "}\" && "

/* ---- util's buf with a sticky failure flag: appends after a failure do
 * nothing, and the one check is at the end ---- */

struct jbuf {
    struct buf b;
    bool failed; /* out of memory: later appends do nothing */
};

static void jb_addn(struct jbuf *j, const char *s, size_t n)
{
    if (!j->failed && buf_append(&j->b, s, n) != 0)
        j->failed = true;
}

static void jb_add(struct jbuf *j, const char *s)
{
    jb_addn(j, s, strlen(s));
}

static void jb_addc(struct jbuf *j, char c)
{
    jb_addn(j, &c, 1);
}

static void jb_release(struct jbuf *j)
{
    buf_release(&j->b);
    j->failed = false;
}


/* ---- text checks ---- */

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool has_ctl(const char *s, bool allow_tab)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (is_ctl(*p) && !(allow_tab && *p == '\t'))
            return true;
    return false;
}

/* A printable, bounded copy of s for an error message: messages are one
 * line, so control characters become '?'. */
static const char *shown(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < outlen; p++)
        out[n++] = is_ctl(*p) ? '?' : (char)*p;
    if (s[n] && n + 4 >= outlen) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

#define SHOWN(s) shown((s), (char[128]){0}, 128)

/* ---- shell quoting ---- */

static void quote_into(struct jbuf *b, const char *s)
{
    jb_addc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            jb_add(b, "'\\''");
        else
            jb_addc(b, *p);
    }
    jb_addc(b, '\'');
}

int marathon_shell_quote(const char *s, char **out, struct err *err)
{
    struct jbuf q = {0};
    if (!s || !out)
        return err_usage(err, "nothing to quote");
    quote_into(&q, s);
    if (q.failed) {
        jb_release(&q);
        return err_set(err, ENOMEM, "cannot quote '%s'", SHOWN(s));
    }
    /* Append to *out in one step, so *out is untouched on failure. */
    size_t old = *out ? strlen(*out) : 0;
    char *p = realloc(*out, old + q.b.len + 1);
    if (!p) {
        jb_release(&q);
        return err_set(err, ENOMEM, "cannot quote '%s'", SHOWN(s));
    }
    memcpy(p + old, q.b.data, q.b.len + 1);
    *out = p;
    jb_release(&q);
    return 0;
}

/* ---- ids ---- */

static bool is_idchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One segment (len bytes): dot-separated parts of [a-z0-9-], each non-empty
 * and without '-' at either end. */
static int check_segment(const char *id, const char *seg, size_t len, struct err *err)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && seg[i] != '.')
            continue;
        if (i == start)
            return err_usage(err, "marathon id '%s' has an empty part around a '.'", SHOWN(id));
        if (seg[start] == '-' || seg[i - 1] == '-')
            return err_usage(err, "marathon id '%s' has a part that starts or ends with '-'",
                             SHOWN(id));
        start = i + 1;
    }
    return 0;
}

int marathon_check_id(const char *id, struct err *err)
{
    if (!id || !*id)
        return err_usage(err, "marathon id is empty");
    if (id[0] != '/')
        return err_usage(err, "marathon id '%s' must be absolute (start with '/')", SHOWN(id));
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (!is_idchar(*p) && *p != '-' && *p != '.' && *p != '/')
            return err_usage(err, "marathon id '%s' may only contain a-z, 0-9, '-', '.' and '/'",
                             SHOWN(id));
    size_t chars = 0;
    const char *seg = id + 1;
    const char *last = seg;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0)
            return err_usage(err, "marathon id '%s' has an empty segment", SHOWN(id));
        if (check_segment(id, seg, len, err) < 0)
            return -1;
        chars += len;
        last = seg;
        if (!end)
            break;
        seg = end + 1;
    }
    if (strcmp(last, "restart") == 0 || strcmp(last, "tasks") == 0 ||
        strcmp(last, "versions") == 0)
        return err_usage(err, "marathon id '%s' may not end in '%s' (reserved by marathon)",
                         SHOWN(id), last);
    if (chars > MARATHON_ID_DNS_MAX)
        return err_usage(err,
                         "marathon id '%s' has %zu characters without its slashes; "
                         "mesos-dns needs at most %d",
                         SHOWN(id), chars, MARATHON_ID_DNS_MAX);
    return 0;
}

int marathon_id_from_name(const char *name, char *out, size_t outlen, struct err *err)
{
    char id[MARATHON_ID_DNS_MAX + 2];
    size_t n = 1;
    if (!name || !out)
        return err_usage(err, "no name to derive a marathon id from");
    id[0] = '/';
    /* Lower-case letters and digits; every run of anything else is one
     * '-', never leading; stop at the Mesos-DNS length. */
    for (const unsigned char *p = (const unsigned char *)name; *p && n < MARATHON_ID_DNS_MAX + 1; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (is_idchar(c))
            id[n++] = (char)c;
        else if (n > 1 && id[n - 1] != '-')
            id[n++] = '-';
    }
    while (n > 1 && id[n - 1] == '-')
        n--;
    id[n] = '\0';
    if (n == 1)
        return err_usage(err,
                         "cannot derive a marathon id from '%s': it has no letters or digits; "
                         "pass --marathon-id",
                         SHOWN(name));
    if (marathon_check_id(id, err) < 0)
        return err_prefix(err, "cannot derive a marathon id from '%s'", SHOWN(name));
    if (n + 1 > outlen)
        return err_set(err, ENAMETOOLONG, "cannot derive a marathon id from '%s'", SHOWN(name));
    memcpy(out, id, n + 1);
    return 0;
}

/* ---- urls ---- */

static bool url_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
}

/* The file name the Mesos fetcher gives a download without destPath:
 * everything after the URL's last '/'. */
static const char *url_last_segment(const char *url)
{
    return strrchr(url, '/') + 1;
}

int marathon_check_url(const char *url, struct err *err)
{
    static const char *const schemes[] = {"http://", "https://", "file://"};
    const char *rest = NULL;
    bool file = false;
    if (!url || !*url)
        return err_usage(err, "url is empty");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p == '\'' || *p == '\\')
            return err_usage(err, "url '%s' has a %s, which the mesos fetcher refuses",
                             SHOWN(url), *p == '\'' ? "quote (')" : "backslash");
        if (*p <= ' ' || *p == 0x7f)
            return err_usage(err, "url '%s' has a space or control character; percent-encode it",
                             SHOWN(url));
        if (*p >= 0x80)
            return err_usage(err, "url '%s' has a non-ascii character; percent-encode it",
                             SHOWN(url));
        if (*p == '#')
            return err_usage(err, "url '%s' has a fragment ('#'); leave it out", SHOWN(url));
    }
    if (strlen(url) > URL_MAX)
        return err_usage(err, "url '%s' is longer than %d characters", SHOWN(url), URL_MAX);
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(url, schemes[i], n) == 0) {
            rest = url + n;
            file = i == 2;
        }
    }
    if (!rest)
        return err_usage(err, "url '%s' must start with http://, https:// or file://", SHOWN(url));
    if (file) {
        if (strncmp(rest, "localhost/", 10) == 0)
            rest += 9;
        if (*rest != '/')
            return err_usage(err, "url '%s' must be file:///absolute/path", SHOWN(url));
    } else {
        size_t host = strcspn(rest, "/?");
        if (host == 0)
            return err_usage(err, "url '%s' has no host", SHOWN(url));
        rest += host;
        if (*rest != '/' || !rest[1])
            return err_usage(err, "url '%s' has no path (the file to fetch)", SHOWN(url));
    }
    const char *last = url_last_segment(url);
    if (!*last)
        return err_usage(err, "url '%s' ends in '/'; it must name a file", SHOWN(url));
    if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
        return err_usage(err, "url '%s' ends in '%s'; it must name a file", SHOWN(url), last);
    return 0;
}

/* "file://" + path, percent-encoding all but unreserved characters and '/'.
 * *encoded says whether anything had to be encoded. */
static int file_url(const char *path, char **out, bool *encoded, struct err *err)
{
    struct jbuf b = {0};
    if (!path || !*path)
        return err_usage(err, "no url and no binary path for a file:// url");
    if (path[0] != '/')
        return err_usage(err, "binary path '%s' must be absolute for a file:// url",
                         SHOWN(path));
    *encoded = false;
    jb_add(&b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (url_safe(*p)) {
            jb_addc(&b, (char)*p);
        } else {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", *p);
            jb_add(&b, hex);
            *encoded = true;
        }
    }
    if (b.failed) {
        jb_release(&b);
        return err_set(err, ENOMEM, "cannot build a file:// url");
    }
    *out = b.b.data;
    return 0;
}

/* ---- the inputs, checked once ---- */

void marathon_plan_release(struct marathon_plan *pl)
{
    free(pl->url);
    free(pl->env);
    pl->url = NULL;
    pl->env = NULL;
}

static int check_name(const char *name, struct err *err)
{
    if (!name || !*name)
        return err_usage(err, "the binary's name is empty");
    if (strlen(name) > NAME_MAX_LEN)
        return err_usage(err, "the binary's name '%s' is longer than %d bytes", SHOWN(name),
                         NAME_MAX_LEN);
    if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return err_usage(err, "the binary's name '%s' must be a plain file name", SHOWN(name));
    if (has_ctl(name, false) || !util_utf8_valid(name))
        return err_usage(err, "the binary's name '%s' has a control character or invalid utf-8",
                         SHOWN(name));
    return 0;
}

static int check_hash(const char *hex, char out[65], struct err *err)
{
    size_t n = hex ? strlen(hex) : 0;
    if (n != 64 || strspn(hex, "0123456789abcdefABCDEF") != 64)
        return err_set(err, 0, "sha256 '%s' is not 64 hex digits", hex ? SHOWN(hex) : "");
    for (size_t i = 0; i < 64; i++)
        out[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
    out[64] = '\0';
    return 0;
}

static int check_numbers(const struct marathon_app *app, struct err *err)
{
    if (!isfinite(app->cpus) || app->cpus < MARATHON_MIN_CPUS)
        return err_usage(err, "cpus must be a number of at least %g", MARATHON_MIN_CPUS);
    if (!isfinite(app->mem) || app->mem <= 0)
        return err_usage(err, "mem must be a number of megabytes above 0");
    if (!isfinite(app->disk) || app->disk < 0)
        return err_usage(err, "disk must be a number of megabytes, 0 or more");
    if (app->instances < 0 || app->instances > INT32_MAX)
        return err_usage(err, "instances must be between 0 and %d", INT32_MAX);
    if (app->kill_grace > INT32_MAX)
        return err_usage(err, "the kill grace period must be at most %d seconds", INT32_MAX);
    return 0;
}

static int check_text(const struct marathon_app *app, struct err *err)
{
    if (app->health_path) {
        const char *h = app->health_path;
        if (h[0] != '/' || strlen(h) > PATH_MAX_LEN)
            return err_usage(err, "health check path '%s' must start with '/'", SHOWN(h));
        if (strpbrk(h, " ") || has_ctl(h, false) || !util_utf8_valid(h))
            return err_usage(err, "health check path '%s' has a space, control character "
                                  "or invalid utf-8", SHOWN(h));
    }
    if (app->args) {
        if (has_ctl(app->args, true))
            return err_usage(err, "args must be one line of shell words (no newline or "
                                  "control character)");
        if (!util_utf8_valid(app->args))
            return err_usage(err, "args are not valid utf-8");
    }
    return 0;
}

static int env_cmp(const void *a, const void *b)
{
    const struct marathon_env *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
    if (c != 0)
        return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

static int plan_env(struct marathon_plan *pl, const struct marathon_app *app, struct err *err)
{
    if (app->nenv == 0)
        return 0;
    if (!app->env)
        return err_usage(err, "environment list is missing");
    pl->env = calloc(app->nenv, sizeof *pl->env);
    if (!pl->env)
        return err_set(err, ENOMEM, "cannot read the environment list");
    for (size_t i = 0; i < app->nenv; i++) {
        const char *kv = app->env[i];
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq)
            return err_usage(err, "environment entry '%s' must be NAME=VALUE",
                             kv ? SHOWN(kv) : "");
        if (eq == kv)
            return err_usage(err, "environment entry '%s' has an empty name", SHOWN(kv));
        for (const char *p = kv; p < eq; p++)
            if (is_ctl((unsigned char)*p))
                return err_usage(err, "environment entry '%s' has a control character in "
                                      "its name", SHOWN(kv));
        if (!util_utf8_valid(kv))
            return err_usage(err, "environment entry '%s' is not valid utf-8", SHOWN(kv));
        pl->env[i] = (struct marathon_env){kv, (size_t)(eq - kv), eq + 1};
    }
    pl->nenv = app->nenv;
    qsort(pl->env, pl->nenv, sizeof *pl->env, env_cmp);
    for (size_t i = 1; i < pl->nenv; i++)
        if (env_cmp(&pl->env[i - 1], &pl->env[i]) == 0)
            return err_usage(err, "environment variable '%.*s' is given twice",
                             (int)(pl->env[i].klen > 100 ? 100 : pl->env[i].klen),
                             pl->env[i].key);
    return 0;
}

static int plan_url(struct marathon_plan *pl, const struct marathon_app *app, struct err *err)
{
    if (app->url) {
        if (marathon_check_url(app->url, err) < 0)
            return -1;
        pl->url = strdup(app->url);
        if (!pl->url)
            return err_set(err, ENOMEM, "cannot copy the url");
        return 0;
    }
    if (file_url(app->binary_path, &pl->url, &pl->url_encoded, err) < 0)
        return -1;
    return marathon_check_url(pl->url, err);
}

int marathon_plan_init(struct marathon_plan *pl, const struct marathon_app *app, struct err *err)
{
    memset(pl, 0, sizeof *pl);
    if (!app)
        return err_usage(err, "no app to describe");
    if (check_name(app->name, err) < 0 || check_hash(app->sha256_hex, pl->hash, err) < 0 ||
        check_numbers(app, err) < 0 || check_text(app, err) < 0)
        return -1;
    if (app->id) {
        if (marathon_check_id(app->id, err) < 0)
            return -1;
        snprintf(pl->id, sizeof pl->id, "%s", app->id); /* fits: checked above */
    } else if (marathon_id_from_name(app->name, pl->id, sizeof pl->id, err) < 0) {
        return -1;
    }
    if (app->args && app->args[strspn(app->args, " \t")])
        pl->args = app->args;
    if (plan_url(pl, app, err) < 0 || plan_env(pl, app, err) < 0) {
        marathon_plan_release(pl);
        return -1;
    }
    return 0;
}

/* ---- cmd ---- */

/* The command.  url != NULL: download with curl first.  file is the name
 * the binary has in the sandbox. */
static void build_cmd(struct jbuf *b, const struct marathon_plan *pl, const char *file, const char *url)
{
    size_t dot_len = strlen(file) + 3;
    char *dot = malloc(dot_len);
    if (!dot) {
        b->failed = true;
        return;
    }
    snprintf(dot, dot_len, "./%s", file);
    jb_add(b, CACHE_EXPORT);
    if (url) {
        jb_add(b, "curl -fsSL -o ");
        quote_into(b, file);
        jb_addc(b, ' ');
        quote_into(b, url);
        jb_add(b, " && ");
    }
    jb_add(b, "printf '%s  %s\\n' ");
    jb_add(b, pl->hash);
    jb_addc(b, ' ');
    quote_into(b, file);
    jb_add(b, " | sha256sum -c - && ");
    if (url) {
        jb_add(b, "chmod u+x ");
        quote_into(b, dot);
        jb_add(b, " && ");
    }
    jb_add(b, "exec ");
    quote_into(b, dot);
    if (pl->args) {
        jb_addc(b, ' ');
        jb_add(b, pl->args);
    }
    free(dot);
}

static int make_cmd(const struct marathon_plan *pl, const char *file, const char *url, char **cmd,
                    struct err *err)
{
    struct jbuf b = {0};
    build_cmd(&b, pl, file, url);
    if (b.failed) {
        jb_release(&b);
        return err_set(err, ENOMEM, "cannot build the command");
    }
    *cmd = b.b.data;
    return 0;
}

/* The Mesos fetcher takes a file:// path literally (no percent-decoding),
 * unlike curl. */
static int check_fetchable(const struct marathon_plan *pl, struct err *err)
{
    if (pl->url_encoded)
        return err_usage(err, "the mesos fetcher cannot fetch '%s' (it does not decode "
                              "file:// urls); pass --url", SHOWN(pl->url));
    return 0;
}


int marathon_plan_cmd(const struct marathon_plan *pl, const struct marathon_app *app, bool metronome,
                      char **cmd, struct err *err)
{
    /* Metronome artifacts cannot be renamed: the binary is called what the
     * URL ends in. */
    const char *file = metronome && app->fetch ? url_last_segment(pl->url) : app->name;
    if (app->fetch && check_fetchable(pl, err) < 0)
        return -1;
    if (strlen(file) > NAME_MAX_LEN)
        return err_usage(err, "url '%s' ends in a file name longer than %d bytes", SHOWN(pl->url),
                         NAME_MAX_LEN);
    return make_cmd(pl, file, app->fetch ? NULL : pl->url, cmd, err);
}
