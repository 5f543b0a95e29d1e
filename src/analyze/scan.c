/* scan.c - find the import statements of Python source; see scan.h.
 *
 * One pass, two layers.  The lexer (scan_lex.c) turns bytes into tokens and
 * owns all that can hide code: strings, f-strings, comments, brackets,
 * continuations and indentation.  The parser (here) reads the tokens of each
 * logical line, keeps the block stack by indentation, and recognises the few
 * shapes that import; beside it, every token is watched for the hints
 * (scan_hints.c).  What is found goes into the result (scan_result.c).
 *
 * Nothing recurses: brackets, f-strings and their replacement fields live on
 * one fixed stack of MAX_NEST frames, blocks on one of MAX_INDENT + 1, so
 * hostile input meets an error message, never a stack overflow.  Every loop
 * moves forward over the buffer, so the work is linear in its length.
 */
#include "scan_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int advance(struct parser *p)
{
    if (scan_lex_next(&p->lx, &p->tok) < 0)
        return -1;
    return scan_watch(p);
}

static int at_statement_end(const struct tok *t)
{
    return t->kind == T_EOF || t->kind == T_NEWLINE || (t->depth == 0 && is_op(t, ';'));
}

/* Consumes the rest of a statement, up to ';' or the end of the line. */
static int skip_statement(struct parser *p)
{
    while (!at_statement_end(&p->tok))
        if (advance(p) < 0)
            return -1;
    return 0;
}

/* Reads NAME ('.' NAME)* into p->sb.  Returns 1 when read, 0 when the
 * tokens are no dotted name, -1 on error. */
static int read_dotted(struct parser *p)
{
    int append = 0;
    p->sblen = 0;
    for (;;) {
        if (p->tok.kind != T_NAME)
            return 0;
        if (append && scan_sb_set(p, ".", 1, 1) < 0)
            return -1;
        if (scan_sb_set(p, p->tok.s, p->tok.n, append) < 0 || advance(p) < 0)
            return -1;
        if (!is_op(&p->tok, '.'))
            return 1;
        if (advance(p) < 0)
            return -1;
        append = 1;
    }
}

/* Skips "as NAME" if present.  Returns 1 if fine, 0 if malformed, -1 on error. */
static int skip_alias(struct parser *p)
{
    if (!name_is(&p->tok, "as"))
        return 1;
    if (advance(p) < 0)
        return -1;
    if (p->tok.kind != T_NAME)
        return 0;
    return advance(p) < 0 ? -1 : 1;
}

/* import a.b as c, d */
static int parse_import(struct parser *p)
{
    int line = p->tok.line;
    int r;

    if (advance(p) < 0)
        return -1;
    for (;;) {
        r = read_dotted(p);
        if (r > 0)
            r = skip_alias(p);
        if (r <= 0)
            return r < 0 ? -1 : skip_statement(p);
        if (scan_add_import(p, p->sb, p->sblen, 0, line, p->flags, 0) < 0)
            return -1;
        if (!is_op(&p->tok, ','))
            return skip_statement(p);
        if (advance(p) < 0)
            return -1;
    }
}

/* from ..x import (y as z, w) */
static int parse_from(struct parser *p)
{
    int line = p->tok.line;
    int level = 0, paren = 0, r;

    if (advance(p) < 0)
        return -1;
    for (;;) {
        if (is_op(&p->tok, '.'))
            level = level < INT_MAX ? level + 1 : INT_MAX;
        else if (p->tok.kind == T_ELLIPSIS)
            level = level < INT_MAX - 3 ? level + 3 : INT_MAX;
        else
            break;
        if (advance(p) < 0)
            return -1;
    }
    p->sblen = 0;
    if (p->tok.kind == T_NAME && !name_is(&p->tok, "import")) {
        r = read_dotted(p);
        if (r <= 0)
            return r < 0 ? -1 : skip_statement(p);
    }
    if (!name_is(&p->tok, "import") || (level == 0 && p->sblen == 0))
        return skip_statement(p);
    if (advance(p) < 0)
        return -1;

    scan_names_clear(p);
    if (is_op(&p->tok, '*')) {
        if (scan_names_add(p, "*", 1) < 0 || advance(p) < 0)
            return -1;
    } else {
        if (is_op(&p->tok, '(')) {
            paren = 1;
            if (advance(p) < 0)
                return -1;
        }
        while (p->tok.kind == T_NAME) {
            if (scan_names_add(p, p->tok.s, p->tok.n) < 0 || advance(p) < 0)
                return -1;
            r = skip_alias(p);
            if (r <= 0)
                return r < 0 ? -1 : skip_statement(p);
            if (!is_op(&p->tok, ','))
                break;
            if (advance(p) < 0)
                return -1;
        }
        if (paren) {
            if (!is_op(&p->tok, ')'))
                return skip_statement(p);
            if (advance(p) < 0)
                return -1;
        }
    }
    if (p->nnames == 0)
        return skip_statement(p);
    if (scan_add_import(p, p->sb ? p->sb : "", p->sblen, level, line, p->flags, 1) < 0)
        return -1;
    return skip_statement(p);
}

static int starts_expression(const struct tok *t)
{
    switch (t->kind) {
    case T_NAME:
    case T_NUMBER:
    case T_STRING:
    case T_FSTRING:
    case T_ELLIPSIS:
        return 1;
    case T_OP:
        return t->op != '\0' && strchr("([{-+~*", t->op) != NULL;
    default:
        return 0;
    }
}

/* SCAN_IN_SCRIPT for the private entry points a module runs only as a
 * script (def _test, _main, _demo), given the token after "def". */
static unsigned script_only_def(const struct tok *name)
{
    if (name_is(name, "_test") || name_is(name, "_main") || name_is(name, "_demo"))
        return SCAN_IN_SCRIPT;
    return name_is(name, "main") ? SCAN_IN_MAIN : 0;
}

/* 1 if the tokens t[0..n) are __name__ == "__main__" (either way round). */
static int is_main_guard(const struct tok *t, int n)
{
    const struct tok *a = &t[0], *b = &t[3];
    if (n != 4 || !is_op(&t[1], '=') || !is_op(&t[2], '='))
        return 0;
    if (name_is(b, "__name__")) {
        const struct tok *x = a;
        a = b;
        b = x;
    }
    return name_is(a, "__name__") && b->kind == T_STRING && !b->bytes && b->n == 8 &&
           memcmp(b->s, "__main__", 8) == 0;
}

/* The SCAN_IN_* flag of the block the statement in p->tok opens, 0 if none.
 * May consume "async", "match" or "case" to look at what follows.
 *
 * An "else:" after try/except is flagged SCAN_IN_TRY (it runs only when the
 * guarded code did), after if/for/while SCAN_IN_IF; "last" remembers which
 * header came before at the same level. */
static int header_flag(struct parser *p, unsigned *flag)
{
    const struct tok *t = &p->tok;

    *flag = 0;
    if (name_is(t, "if") || name_is(t, "elif") || name_is(t, "while")
        || name_is(t, "for") || name_is(t, "with")) {
        *flag = SCAN_IN_IF;
    } else if (name_is(t, "else")) {
        *flag = p->blocks[p->nblocks - 1].last == SCAN_IN_TRY ? SCAN_IN_TRY : SCAN_IN_IF;
    } else if (name_is(t, "try") || name_is(t, "except") || name_is(t, "finally")) {
        *flag = SCAN_IN_TRY;
    } else if (name_is(t, "def")) {
        *flag = SCAN_IN_DEF;
        if (advance(p) < 0)
            return -1;
        *flag |= script_only_def(t);
    } else if (name_is(t, "class")) {
        *flag = SCAN_IN_CLASS;
    } else if (name_is(t, "async")) {
        if (advance(p) < 0)
            return -1;
        if (name_is(t, "def")) {
            *flag = SCAN_IN_DEF;
            if (advance(p) < 0)
                return -1;
            *flag |= script_only_def(t);
        } else if (name_is(t, "for") || name_is(t, "with"))
            *flag = SCAN_IN_IF;
    } else if (name_is(t, "match") || name_is(t, "case")) {
        /* soft keywords: "match = 1" or "match.group()" are no header */
        if (advance(p) < 0)
            return -1;
        if (starts_expression(t))
            *flag = SCAN_IN_IF;
    }
    return 0;
}

/* Reads a block header up to its ':'.  A body on the same line is read in
 * the block's context; otherwise the block opens on the next line. */
static int parse_header(struct parser *p, unsigned flag)
{
    int lambdas = 0, ntoks = 0;
    struct tok cond[4]; /* the first tokens after "if", for the __main__ guard */
    int is_if = name_is(&p->tok, "if");
    int is_try = name_is(&p->tok, "try"), is_except = name_is(&p->tok, "except");
    int try_id = p->try_id, fallback_of = p->fallback_of, import_handler = 0;
    struct block *top = &p->blocks[p->nblocks - 1];

    top->last = flag & ~SCAN_IN_SCRIPT;
    if (is_try) {
        try_id = ++p->next_try;
        top->last_try = try_id;
    }
    for (;;) {
        const struct tok *t = &p->tok;
        if (at_statement_end(t))
            return 0; /* no ':', no block */
        /* except ImportError: / except (ImportError, ...): a fallback import */
        if (is_except && (name_is(t, "ImportError") || name_is(t, "ModuleNotFoundError"))) {
            fallback_of = top->last_try;
            import_handler = 1;
        }
        if (is_except && top->last_try &&
            (name_is(t, "ImportError") || name_is(t, "ModuleNotFoundError") || name_is(t, "Exception")))
            /* the body's imports, nested tries' included: ids grow in source order */
            for (size_t k = p->res.n; k-- > 0 && p->res.imports[k].try_id >= top->last_try;)
                p->res.imports[k].flags |= SCAN_GUARDED;
        if (is_if && ntoks <= 5) {
            /* tokens 1..4 after "if", then the ':' */
            /* if TYPE_CHECKING: / if typing.TYPE_CHECKING: never runs */
            if (t->depth == 0 && is_op(t, ':') &&
                ((ntoks == 2 && name_is(&cond[0], "TYPE_CHECKING")) ||
                 (ntoks == 4 && name_is(&cond[0], "typing") && is_op(&cond[1], '.') &&
                  name_is(&cond[2], "TYPE_CHECKING"))))
                flag |= SCAN_IN_SCRIPT;
            if (ntoks >= 1 && ntoks <= 4)
                cond[ntoks - 1] = *t;
            else if (ntoks == 5 && t->depth == 0 && is_op(t, ':') && is_main_guard(cond, 4))
                flag |= SCAN_IN_SCRIPT;
            ntoks++;
        }
        if (t->depth == 0) {
            if (name_is(t, "lambda")) {
                lambdas++;
            } else if (is_op(t, ':')) {
                if (lambdas == 0)
                    break;
                lambdas--;
            }
        }
        if (advance(p) < 0)
            return -1;
    }
    if (advance(p) < 0)
        return -1;
    if (is_except && !import_handler)
        flag |= SCAN_IN_EXCEPT; /* an error path */
    /* the body's context: a try: body is that try's; an except body the
     * statement's own, a fallback of the try for ImportError; any other
     * body (else:, finally:, if, def...) the statement's own */
    p->pending_try = try_id;
    p->pending_fallback = fallback_of;
    if (p->tok.kind == T_NEWLINE || p->tok.kind == T_EOF) {
        p->pending = flag;
    } else {
        p->flags |= flag;
        p->try_id = try_id;
        p->fallback_of = fallback_of;
    }
    return 0;
}

static int parse_statement(struct parser *p)
{
    unsigned flag;

    if (name_is(&p->tok, "import"))
        return parse_import(p);
    if (name_is(&p->tok, "from"))
        return parse_from(p);
    if (header_flag(p, &flag) < 0)
        return -1;
    if (flag)
        return parse_header(p, flag);
    return skip_statement(p);
}

/* Closes block i (its body ended).  A function that tests types
 * (isinstance, issubclass, hasattr) or reads versions (__version__,
 * x.version) and imports a module that may fail ("try: import pandas ...
 * isinstance(data, pd.DataFrame)", networkx's convert; astroid's numpy
 * version) asks whether data can be of that library's type, or which
 * version is there: its imports there are not the app's features, and not
 * SCAN_GUARDED. */
static void close_block(struct parser *p, int i)
{
    const struct block *b = &p->blocks[i];
    if (i > 0 && b->defidx == i && (b->seen & SEEN_SNIFF))
        for (size_t k = b->first_import; k < p->res.n; k++)
            p->res.imports[k].flags &= ~(unsigned)SCAN_GUARDED;
}

/* Sets the block context for a logical line indented to col. */
static int open_line(struct parser *p, int col)
{
    struct block *top = &p->blocks[p->nblocks - 1];

    if (p->pending && col > top->indent) {
        if (p->nblocks > MAX_INDENT)
            return scan_lex_error(&p->lx, p->tok.line, "too many levels of indentation");
        p->blocks[p->nblocks].indent = col;
        p->blocks[p->nblocks].flags = top->flags | p->pending;
        p->blocks[p->nblocks].last = 0;
        p->blocks[p->nblocks].defidx = (p->pending & SCAN_IN_DEF) ? p->nblocks : top->defidx;
        p->blocks[p->nblocks].seen = 0;
        p->blocks[p->nblocks].try_id = p->pending_try;
        p->blocks[p->nblocks].fallback_of = p->pending_fallback;
        p->blocks[p->nblocks].last_try = 0;
        p->blocks[p->nblocks].first_import = p->res.n;
        p->nblocks++;
    } else {
        /* lenient on bad indentation: Python reports it, we need not */
        while (p->nblocks > 1 && p->blocks[p->nblocks - 1].indent > col)
            close_block(p, --p->nblocks);
    }
    p->pending = 0;
    p->flags = p->blocks[p->nblocks - 1].flags;
    p->try_id = p->blocks[p->nblocks - 1].try_id;
    p->fallback_of = p->blocks[p->nblocks - 1].fallback_of;
    return 0;
}

/* Reads one logical line: statements separated by ';' or following a
 * block header's ':'. */
static int parse_line(struct parser *p)
{
    for (;;) {
        if (p->tok.kind == T_EOF)
            return 0;
        if (p->tok.kind == T_NEWLINE)
            return advance(p);
        if (is_op(&p->tok, ';')) {
            if (advance(p) < 0)
                return -1;
            continue;
        }
        if (parse_statement(p) < 0)
            return -1;
    }
}

static int parse(struct parser *p)
{
    if (advance(p) < 0)
        return -1;
    while (p->tok.kind != T_EOF) {
        if (open_line(p, p->tok.indent) < 0 || parse_line(p) < 0)
            return -1;
    }
    return 0;
}

/* Line of the byte at pos, counting LF, CRLF and CR as line ends. */
static int line_at(const char *buf, const char *pos)
{
    int line = 1;
    const char *p;
    for (p = buf; p < pos; p++) {
        if (*p == '\r' && p + 1 < pos && p[1] == '\n')
            continue;
        if (is_line_end(*p) && line < INT_MAX)
            line++;
    }
    return line;
}

int scan_source(const char *buf, size_t len, struct scan_result *out,
                int *err_line, struct err *err)
{
    struct parser *p;
    const char *nul;
    int rc;

    out->imports = NULL;
    out->n = 0;
    if (err_line)
        *err_line = 0;
    if (!buf) {
        buf = "";
        len = 0;
    }
    /* Checked first, in one memchr, so the lexer never has to: CPython
     * refuses NUL bytes anywhere, even in comments. */
    nul = len ? memchr(buf, '\0', len) : NULL;
    if (nul) {
        if (err_line)
            *err_line = line_at(buf, nul);
        return err_set(err, 0, "source contains a NUL byte");
    }

    p = calloc(1, sizeof *p);
    if (!p)
        return err_set(err, ENOMEM, "cannot record the imports");
    p->lx.p = buf;
    p->lx.end = buf + len;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        p->lx.p += 3;
    p->lx.line = 1;
    p->lx.at_bol = 1;
    p->lx.err = err;
    p->nblocks = 1; /* module level: indent 0, no flags */

    rc = parse(p);
    while (rc == 0 && p->nblocks > 1)
        close_block(p, --p->nblocks);

    scan_names_clear(p);
    free(p->names);
    free(p->sb);
    if (rc == 0) {
        *out = p->res;
    } else {
        scan_result_release(&p->res);
        if (err_line)
            *err_line = p->lx.fault_line;
    }
    free(p);
    return rc;
}
