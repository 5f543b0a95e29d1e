/* scan_hints.c - what the scanner watches every token for, beside the
 * import statements that scan.c parses: import calls with literal or
 * computed names, distributions named by a literal, plain strings, a
 * module's listing of its own directory, getattr of a plugin's protocol
 * (scan.h's SCAN_DYNAMIC, SCAN_STRING ... SCAN_PROTOCOL).  These can sit
 * anywhere in an expression. */
#include "scan_impl.h"

#include <string.h>

/* A string literal that names an absolute module: "a.b", not "", ".x" or
 * anything with escapes or spaces in it. */
static int is_module_literal(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || !IS_ID_START(s[0]))
        return 0;
    for (i = 1; i < n; i++)
        if (!IS_ID_CHAR(s[i]) && s[i] != '.')
            return 0;
    return 1;
}

enum { CALL_NONE, CALL_IMPORT, CALL_META, CALL_ENTRY };

/* Which call a name starts, CALL_NONE if none we read. */
static int call_kind(const struct tok *t)
{
    static const char *const import_calls[] = {"__import__", "import_module", "find_spec"};
    /* importlib.metadata's and pkg_resources' look-ups by distribution name */
    static const char *const meta_calls[] = {"distribution", "version", "metadata", "requires",
                                             "get_distribution", "require"};
    if (t->kind != T_NAME)
        return CALL_NONE;
    for (size_t i = 0; i < sizeof import_calls / sizeof *import_calls; i++)
        if (name_eq(t, import_calls[i], strlen(import_calls[i])))
            return CALL_IMPORT;
    for (size_t i = 0; i < sizeof meta_calls / sizeof *meta_calls; i++)
        if (name_eq(t, meta_calls[i], strlen(meta_calls[i])))
            return CALL_META;
    return name_is(t, "load_entry_point") ? CALL_ENTRY : CALL_NONE;
}

/* The length of the head of s[0..n) that can start a module name: dots,
 * letters, digits, '_' ("pkg.sub._" of "pkg.sub._{name}"). */
static size_t dotted_head(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (IS_ID_CHAR(s[i]) || s[i] == '.'))
        i++;
    return i;
}

/* A computed import: the literal head of the name, relative when it starts
 * with dots ("." + name), yielded as SCAN_PREFIX. */
static int add_prefix(struct parser *p, const char *s, size_t n, int line, unsigned flags)
{
    int level = 0;
    /* a computed import in a function that lists a directory: plugins found
     * by listing their package (astroid's brain/): it must exist as files */
    if ((flags & SCAN_DYNAMIC) && (p->blocks[p->blocks[p->nblocks - 1].defidx].seen & SEEN_LISTING))
        flags |= SCAN_SELFDIR;
    while (n > 0 && *s == '.') {
        s++;
        n--;
        level++;
    }
    if (level == 0 && memchr(s, '.', n) == NULL)
        return 0; /* "backend_" + x: a top-level name of any kind; nothing to go on */
    if (n > 0 && !IS_ID_START(s[0]))
        return 0;
    return scan_add_import(p, s, n, level, line, flags | SCAN_PREFIX, 0);
}

/* Every plain string: a name the resolver may look up (SCAN_STRING), and a
 * format string with a dotted head ("pkg.backends.backend_{}", "pkg.%s")
 * as a possible computed import (SCAN_PREFIX). */
static int watch_string(struct parser *p, const struct tok *t)
{
    size_t head;
    if (t->bytes || t->n == 0 || t->n > 200)
        return 0;
    for (size_t i = 0; i < t->n; i++)
        if ((unsigned char)t->s[i] >= 0x80)
            return 0; /* module and group names here are ASCII */
    if (t->s[0] == '.') {
        /* ".legacy.client": a module relative to the code's package, as
         * import_module(name, __package__) takes it */
        int level = 0;
        size_t i = 0;
        while (i < t->n && t->s[i] == '.' && level < 3)
            i++, level++;
        if (i < t->n && IS_ID_START(t->s[i]) && dotted_head(t->s + i, t->n - i) == t->n - i &&
            t->s[t->n - 1] != '.' && !memmem(t->s + i, t->n - i, "..", 2))
            return scan_add_import(p, t->s + i, t->n - i, level, t->line, p->flags | SCAN_STRING, 0);
        return 0;
    }
    if (!IS_ID_START(t->s[0]))
        return 0;
    head = dotted_head(t->s, t->n);
    if (head == t->n) {
        for (size_t i = 0; i < t->n; i++)
            if (t->s[i] == '.' && (i + 1 == t->n || t->s[i + 1] == '.'))
                return 0; /* "a..b", "etc." */
        return scan_add_import(p, t->s, t->n, 0, t->line, p->flags | SCAN_STRING, 0);
    }
    if (t->s[head] == '{' || t->s[head] == '%')
        return add_prefix(p, t->s, head, t->line, p->flags);
    /* entry-point group names may hold '-': "paste.app_factory", "x-plugins" */
    for (size_t i = head; i < t->n; i++)
        if (!IS_ID_CHAR(t->s[i]) && t->s[i] != '.' && t->s[i] != '-')
            return 0;
    return scan_add_import(p, t->s, t->n, 0, t->line, p->flags | SCAN_STRING, 0);
}

/* Functions that take a path to build another path or test it: __path__[0]
 * handed to them is no directory listed. */
static int path_function(const char *s, size_t n)
{
    static const char *const names[] = {"join", "normcase", "normpath", "abspath", "realpath", "dirname",
                                        "basename", "split", "exists", "isdir", "isfile", "samefile",
                                        "relpath", "commonpath", "startswith", "str", "Path"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return 1;
    return 0;
}

/* SCAN_SELFDIR: code that reaches its package's directory by path and lists
 * it: __file__ or __path__ and a listing (os.listdir, os.scandir, os.walk,
 * glob, Path.iterdir) in one function, or __path__[0] handed to a function
 * that is not a path helper (a plugin loader: pylint's
 * register_plugins(linter, __path__[0])).  Another object's __file__
 * (module.__path__[0]) is not the code's own. */
static int watch_selfdir(struct parser *p, const struct tok *t)
{
    static const char *const listing[] = {"listdir", "scandir", "walk", "glob", "iglob", "iterdir", "rglob",
                                          "iter_modules", "walk_packages"};
    struct block *scope = &p->blocks[p->blocks[p->nblocks - 1].defidx];
    int was_path = p->prev_path, was_dot = p->prev_dot, was_arg = p->prev_arg, was_files = p->files_call;
    int d = t->depth < 0 ? 0 : t->depth > MAX_NEST ? MAX_NEST : t->depth;

    /* the name each open '(' calls, and whether an argument began with __path__ */
    if (is_op(t, '(') && d < MAX_NEST) { /* its arguments are one level deeper */
        p->call_at[d + 1] = p->prev.kind == T_NAME ? p->prev.s : NULL;
        p->call_len[d + 1] = p->prev.kind == T_NAME ? p->prev.n : 0;
    }
    p->files_call = is_op(t, '(') && p->prev.kind == T_NAME && name_is(&p->prev, "files");
    /* X.__path__ of a package it imported (pyupgrade's _plugins.__path__) */
    if (name_is(t, "__path__") && was_dot && p->prev2.kind == T_NAME && p->prev2.n < 200) {
        scope->seen |= SEEN_NAMED;
        scope->named = p->prev2.s;
        scope->named_n = p->prev2.n;
    }
    p->prev2 = p->prev;
    p->prev = *t;
    p->prev_dot = is_op(t, '.');
    p->prev_arg = is_op(t, '(') || is_op(t, ',');
    p->prev_path = name_is(t, "__path__") && !was_dot;
    /* importlib.resources.files(__name__) / files(__package__) is the
     * package's directory too */
    int files_arg = (name_is(t, "__name__") || name_is(t, "__package__")) && was_files;
    if ((name_is(t, "__file__") || p->prev_path || files_arg) && !was_dot) {
        scope->seen |= SEEN_ANCHOR;
        p->arg_path = p->prev_path && was_arg;
    } else if (t->kind == T_NAME) {
        for (size_t i = 0; i < sizeof listing / sizeof *listing; i++)
            if (name_eq(t, listing[i], strlen(listing[i])))
                scope->seen |= SEEN_LISTING;
    }
    if ((scope->seen & (SEEN_NAMED | SEEN_LISTING)) == (SEEN_NAMED | SEEN_LISTING) && !p->named_done) {
        p->named_done = 1;
        if (scan_add_import(p, scope->named, scope->named_n, 0, t->line, p->flags | SCAN_SELFDIR, 0) < 0)
            return -1;
    }
    if (p->selfdir_done)
        return 0;
    int handed = was_path && p->arg_path && is_op(t, '[') && d > 0 && p->call_at[d] &&
                 !path_function(p->call_at[d], p->call_len[d]);
    if ((scope->seen & (SEEN_ANCHOR | SEEN_LISTING)) == (SEEN_ANCHOR | SEEN_LISTING) || handed) {
        p->selfdir_done = 1;
        return scan_add_import(p, "", 0, 0, t->line, p->flags | SCAN_SELFDIR, 0);
    }
    return 0;
}

/* Yields what a finished call with literal arguments says. */
static int call_done(struct parser *p)
{
    const char *s = p->arg_s[0];
    size_t n = p->arg_n[0];
    unsigned flags = p->flags | SCAN_DYNAMIC | (p->call_probe ? SCAN_PROBE : 0);
    int level = 0;

    if (p->call == CALL_IMPORT) {
        while (n > 0 && *s == '.') { /* import_module(".sub", __package__) */
            s++;
            n--;
            level++;
        }
        if (is_module_literal(s, n) || (level > 0 && n == 0))
            return scan_add_import(p, s, n, level, p->call_line, flags, 0);
        return 0;
    }
    /* a distribution by name: "pkg", or "pkg==1.0" as load_entry_point takes it */
    if (n == 0 || n > 200 || !IS_ID_CHAR(s[0]))
        return 0;
    if (p->call == CALL_ENTRY && p->nargs == 3 && p->nnames == 0) {
        if (scan_names_add(p, p->arg_s[1], p->arg_n[1]) < 0 || scan_names_add(p, p->arg_s[2], p->arg_n[2]) < 0)
            return -1;
        return scan_add_import(p, s, n, 0, p->call_line, p->flags | SCAN_DIST, 1);
    }
    return scan_add_import(p, s, n, 0, p->call_line, p->flags | SCAN_DIST, 0);
}

/* SCAN_PROTOCOL: getattr(mod, "NAME") in a function that imported a wholly
 * computed name before: the plugins it loads define NAME. */
static int watch_getattr(struct parser *p, const struct tok *t)
{
    int st = p->getattr_state;
    p->getattr_state = 0;
    if (name_is(t, "getattr"))
        p->getattr_state = 1;
    else if (st == 1 && is_op(t, '('))
        p->getattr_state = 2;
    else if (st == 2 && t->kind == T_NAME)
        p->getattr_state = 3;
    else if (st == 3 && is_op(t, ','))
        p->getattr_state = 4;
    else if (st == 4 && t->kind == T_STRING && !t->bytes && t->n > 0 && t->n < 100 && IS_ID_START(t->s[0]) &&
             dotted_head(t->s, t->n) == t->n && !memchr(t->s, '.', t->n) &&
             (p->blocks[p->blocks[p->nblocks - 1].defidx].seen & SEEN_ANYIMPORT))
        return scan_add_import(p, t->s, t->n, 0, t->line, p->flags | SCAN_PROTOCOL, 0);
    return 0;
}

/* Watches every token: strings, directory listings, and calls with literal
 * arguments (a name, '(', plain strings separated by ',', then ')').  Runs
 * beside the statement parser because these can sit anywhere in an
 * expression. */
int scan_watch(struct parser *p)
{
    const struct tok *t = &p->tok;
    int after_dot = p->prev_dot; /* watch_selfdir moves it on */

    if (t->kind == T_STRING && watch_string(p, t) < 0)
        return -1;
    /* "pkg.sub.fix_" + name anywhere: a module name being built, for a
     * library that imports it (lib2to3's RefactoringTool); in an import
     * call the matcher below yields it */
    if (is_op(t, '+') && p->prev.kind == T_STRING && !p->prev.bytes && p->prev.n > 0 && p->prev.n <= 200 &&
        IS_ID_START(p->prev.s[0]) && dotted_head(p->prev.s, p->prev.n) == p->prev.n &&
        !(p->call == CALL_IMPORT && p->call_state == 3) &&
        add_prefix(p, p->prev.s, p->prev.n, p->prev.line, p->flags) < 0)
        return -1;
    if (watch_selfdir(p, t) < 0)
        return -1;
    if (watch_getattr(p, t) < 0)
        return -1;
    /* a function that tests types: its guarded imports may only tell
     * whether data can be of that library's type (close_block) */
    if (name_is(t, "isinstance") || name_is(t, "issubclass") || name_is(t, "hasattr") ||
        name_is(t, "__version__") || (after_dot && name_is(t, "version")))
        p->blocks[p->blocks[p->nblocks - 1].defidx].seen |= SEEN_SNIFF;
    if (p->call_state == 0 && t->kind != T_NAME)
        return 0;
    switch (p->call_state) {
    case 1:
        if (is_op(t, '(')) {
            p->call_state = 2;
            return 0;
        }
        break;
    case 2:
        if (t->kind == T_STRING && !t->bytes) {
            p->arg_s[p->nargs] = t->s;
            p->arg_n[p->nargs] = t->n;
            p->nargs++;
            p->call_state = 3;
            return 0;
        }
        if (t->kind == T_FSTRING && p->call == CALL_IMPORT && p->nargs == 0) {
            /* import_module(f"pkg.backends._{name}"): the text up to the
             * first field (the token starts at the opening quote) */
            const char *q = t->s, *end = p->lx.end;
            size_t skip = (end - q >= 3 && q[1] == q[0] && q[2] == q[0]) ? 3 : 1;
            size_t avail = (size_t)(end - q) - skip;
            size_t head = dotted_head(q + skip, avail);
            p->call_state = 0;
            if (head < avail && q[skip + head] == '{')
                return add_prefix(p, q + skip, head, t->line, p->flags | SCAN_DYNAMIC);
            return 0;
        }
        if (p->call == CALL_IMPORT && p->nargs == 0 && (name_is(t, "__name__") || name_is(t, "__package__"))) {
            p->call_state = 4; /* import_module(__name__ + ".plugins." + x) */
            return 0;
        }
        if (p->call == CALL_IMPORT && p->nargs == 0 && t->kind == T_NAME) /* import_module(name) */
            p->blocks[p->blocks[p->nblocks - 1].defidx].seen |= SEEN_ANYIMPORT;
        break;
    case 3:
        if (is_op(t, ',') && p->call == CALL_ENTRY && p->nargs < 3) {
            p->call_state = 2;
            return 0;
        }
        if (is_op(t, ',') || is_op(t, ')')) {
            p->call_state = 0;
            return call_done(p);
        }
        if (p->call == CALL_IMPORT && p->nargs == 1 && (is_op(t, '+') || is_op(t, '%') || is_op(t, '.'))) {
            /* "pkg.sub." + name, "pkg.%s" % name, "pkg.{}".format(name) */
            size_t head = dotted_head(p->arg_s[0], p->arg_n[0]);
            int whole = head == p->arg_n[0];
            char next = whole ? '\0' : p->arg_s[0][head];
            p->call_state = 0;
            /* "a." + x, "a.%s" % x, "a.{}".format(x); not '.'.join(parts) */
            if ((is_op(t, '+') && (whole || next == '{' || next == '%')) || (is_op(t, '%') && next == '%') ||
                (is_op(t, '.') && next == '{'))
                return add_prefix(p, p->arg_s[0], head, p->call_line, p->flags | SCAN_DYNAMIC);
            return 0;
        }
        break;
    case 4:
        if (is_op(t, '+')) {
            p->call_state = 5;
            return 0;
        }
        break;
    case 5:
        p->call_state = 0;
        if (t->kind == T_STRING && !t->bytes && t->n > 0 && t->s[0] == '.') {
            size_t head = dotted_head(t->s, t->n);
            /* relative to the package the module is in (for an __init__,
             * __name__ is the package itself: the resolver's level 1) */
            return add_prefix(p, t->s, head, p->call_line, p->flags | SCAN_DYNAMIC);
        }
        return 0;
    }
    p->call_state = 0;
    p->nargs = 0;
    p->call = call_kind(t);
    p->call_probe = name_is(t, "find_spec");
    if (p->call != CALL_NONE) {
        p->call_state = 1;
        p->call_line = t->line;
    }
    return 0;
}
