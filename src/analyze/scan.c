/* scan.c - find the import statements of Python source; see scan.h.
 *
 * One pass, two layers.  The lexer turns bytes into tokens and owns all that
 * can hide code: strings, f-strings, comments, brackets, continuations and
 * indentation.  The parser reads the tokens of each logical line, keeps the
 * block stack by indentation, and recognises the few shapes that import.
 *
 * Nothing recurses: brackets, f-strings and their replacement fields live on
 * one fixed stack of MAX_NEST frames, blocks on one of MAX_INDENT + 1, so
 * hostile input meets an error message, never a stack overflow.  Every loop
 * moves forward over the buffer, so the work is linear in its length.
 */
#include "bundle/scan.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 200   /* brackets and f-string parts open at once (CPython: 200) */
#define MAX_INDENT 100 /* nested blocks (CPython's MAXINDENT) */
#define MAX_COLUMN (1 << 28) /* indentation columns saturate here */

enum tok_kind {
    T_EOF,
    T_NEWLINE,     /* end of a logical line */
    T_NAME,        /* identifier or keyword */
    T_NUMBER,
    T_STRING,      /* any string but an f-string, as one token */
    T_FSTRING,     /* start of an f-string; its fields follow as tokens */
    T_FSTRING_END,
    T_OP,          /* one punctuation character, in op */
    T_ELLIPSIS,    /* ... (three levels in "from ... import") */
    T_WALRUS,      /* :=, kept apart so its ':' never ends a block header */
};

struct tok {
    enum tok_kind kind;
    const char *s; /* T_NAME: the name; T_STRING: the text between the quotes */
    size_t n;
    int line;      /* line where the token starts */
    int depth;     /* brackets and f-string parts open around the token */
    int indent;    /* indentation column of the token's logical line */
    int bytes;     /* T_STRING: a bytes literal */
    char op;       /* T_OP: the character */
};

enum frame_kind {
    F_PAREN,
    F_BRACKET,
    F_BRACE,
    F_FSTRING, /* literal text of an f-string */
    F_FIELD,   /* the expression of a replacement field: code again */
    F_SPEC,    /* the format spec after the field's top-level ':' */
};

struct frame {
    unsigned char kind;
    char quote;            /* f-string frames: the f-string's quote character */
    unsigned char triple;  /* f-string frames: triple-quoted */
    unsigned char raw;     /* f-string frames: raw (no \N{...} escapes) */
    int line;              /* where the frame opened, for error messages */
};

struct lexer {
    const char *p;
    const char *end;
    int line;
    int indent;          /* indentation column of the current logical line */
    int at_bol;          /* at the start of a physical line that starts a logical one */
    int line_has_tokens; /* the current logical line has yielded a token */
    int depth;
    struct frame stack[MAX_NEST];
    struct err *err;
    int fault_line;      /* line of the error, 0 for out of memory */
};

struct block {
    int indent;
    unsigned flags; /* SCAN_IN_* of this block OR-ed with those around it */
    unsigned last;  /* SCAN_IN_* of the latest block header at this level */
    int defidx;     /* the innermost def block around it (itself for a def
                       body; 0, the module, outside any def) */
    int try_id;     /* the innermost try: body it is in (0: none) */
    int fallback_of;/* the innermost "except ImportError:" body it is in: the
                       id of that handler's try (0: none) */
    int last_try;   /* the id of the latest try: header at this level */
    unsigned seen;  /* of a def block or the module: SEEN_* bits of its code */
    const char *named; /* SEEN_NAMED: the X of an "X.__path__" there */
    size_t named_n;
    size_t first_import; /* the index in res of its first import */
};

/* What a function body (or the module's top level) mentions, for
 * SCAN_SELFDIR: its own location, and a call that lists a directory. */
enum { SEEN_ANCHOR = 1, SEEN_LISTING = 2, SEEN_NAMED = 4, SEEN_ANYIMPORT = 8, SEEN_SNIFF = 16 };

struct parser {
    struct lexer lx;
    struct tok tok;  /* the current token, not yet consumed */
    struct block blocks[MAX_INDENT + 1];
    int nblocks;
    unsigned pending; /* flag of a header whose body starts on the next line */
    unsigned flags;   /* context of the statement being read */

    /* matcher of calls with literal arguments across tokens (watch()):
     * __import__("m"), import_module("a." + x), distribution("d"),
     * load_entry_point("d==1", "group", "name") */
    int call;          /* CALL_* of the call being matched */
    int call_probe;    /* ...and it is find_spec (SCAN_PROBE) */
    int call_state;    /* tokens matched */
    int call_line;
    int nargs;         /* string arguments read */
    const char *arg_s[3];
    size_t arg_n[3];
    int prev_path;     /* the previous token was __path__ (not an attribute) */
    int prev_dot;      /* the previous token was '.' */
    int prev_arg;      /* the previous token opened or separated call arguments */
    int arg_path;      /* __path__ started an argument of the call at that depth */
    int files_call;    /* the previous tokens were "files (" */
    struct tok prev;   /* the previous token */
    struct tok prev2;  /* and the one before */
    int named_done;    /* SCAN_SELFDIR for an imported package was yielded */
    const char *call_at[MAX_NEST + 1]; /* the name called by each open '(' (or NULL) */
    size_t call_len[MAX_NEST + 1];
    int selfdir_done;  /* SCAN_SELFDIR was yielded */
    int getattr_state; /* tokens of "getattr ( name , 'NAME'" matched */

    int next_try;      /* try: headers seen */
    int try_id, fallback_of;          /* of the statement being read (struct block) */
    int pending_try, pending_fallback; /* of a header whose body starts on the next line */

    char *sb;         /* the dotted name being read, NUL-terminated */
    size_t sblen, sbcap;
    char **names;     /* the names of the from-import being read */
    size_t nnames, namescap;

    struct scan_result res;
    size_t rescap;
};

/* ---- the lexer ---------------------------------------------------------- */

/* Byte classes, one table lookup each on the hot paths.  Bytes >= 0x80 are
 * parts of UTF-8 (or legacy-encoded) identifiers. */
enum { C_ID_START = 1, C_ID = 2, C_DIGIT = 4 };

static const unsigned char char_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 3,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

#define IS_ID_START(c) (char_class[(unsigned char)(c)] & C_ID_START)
#define IS_ID_CHAR(c) (char_class[(unsigned char)(c)] & C_ID)
#define IS_DIGIT(c) (char_class[(unsigned char)(c)] & C_DIGIT)

static int is_line_end(char c)
{
    return c == '\n' || c == '\r';
}

static int lex_error(struct lexer *lx, int line, const char *msg)
{
    lx->fault_line = line;
    return err_set(lx->err, 0, "%s", msg);
}

/* Consumes the line ending at lx->p: LF, CRLF or a lone CR. */
static void eat_newline(struct lexer *lx)
{
    if (*lx->p == '\r' && lx->end - lx->p >= 2 && lx->p[1] == '\n')
        lx->p++;
    lx->p++;
    if (lx->line < INT_MAX)
        lx->line++;
}

static void emit(struct lexer *lx, struct tok *t, enum tok_kind kind,
                 const char *s, size_t n, int line)
{
    t->kind = kind;
    t->s = s;
    t->n = n;
    t->line = line;
    t->depth = lx->depth;
    t->indent = lx->indent;
    t->bytes = 0;
    t->op = 0;
    lx->line_has_tokens = 1;
}

static void emit_op(struct lexer *lx, struct tok *t, char op)
{
    emit(lx, t, T_OP, lx->p, 1, lx->line);
    t->op = op;
}

/* Opens a frame; f-string frames take their quote from `like`. */
static int push(struct lexer *lx, enum frame_kind kind, const struct frame *like)
{
    struct frame *f;
    if (lx->depth >= MAX_NEST)
        return lex_error(lx, lx->line, kind == F_FSTRING || kind == F_FIELD
                         ? "too many nested f-strings" : "too many nested parentheses");
    f = &lx->stack[lx->depth++];
    if (like)
        *f = *like;
    else
        memset(f, 0, sizeof *f);
    f->kind = (unsigned char)kind;
    f->line = lx->line;
    return 0;
}

/* Reads "r", "B", "rb", "fR"... into flags; 0 if s[0..n) is no string prefix. */
static int string_prefix(const char *s, size_t n, int *raw, int *bytes, int *fmt)
{
    int r = 0, b = 0, u = 0, f = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case 'r': case 'R': r++; break;
        case 'b': case 'B': b++; break;
        case 'u': case 'U': u++; break;
        case 'f': case 'F': f++; break;
        default: return 0;
        }
    }
    /* At most one of each, u alone, never b with f. */
    if (r > 1 || b > 1 || u > 1 || f > 1 || (u && n > 1) || (b && f))
        return 0;
    *raw = r;
    *bytes = b;
    *fmt = f;
    return 1;
}

/* A string that is not an f-string, opening quote at lx->p.  A backslash
 * always takes the next character with it, raw or not: that is how CPython
 * finds the end of r"\"" too. */
static int lex_string(struct lexer *lx, struct tok *t, int bytes)
{
    const char *end = lx->end;
    const char *p = lx->p;
    const char *body;
    char q = *p;
    int line = lx->line;
    int triple = end - p >= 3 && p[1] == q && p[2] == q;

    body = p + (triple ? 3 : 1);
    lx->p = body;
    for (;;) {
        p = lx->p;
        while (p < end && *p != q && *p != '\\' && !is_line_end(*p))
            p++;
        lx->p = p;
        if (p >= end)
            return lex_error(lx, line, triple ? "unterminated triple-quoted string literal"
                                              : "unterminated string literal");
        if (*p == q) {
            if (!triple || (end - p >= 3 && p[1] == q && p[2] == q))
                break;
            lx->p++;
        } else if (*p == '\\') {
            lx->p++;
            if (lx->p < end) {
                if (is_line_end(*lx->p))
                    eat_newline(lx);
                else
                    lx->p++;
            }
        } else if (triple) {
            eat_newline(lx);
        } else {
            return lex_error(lx, line, "unterminated string literal");
        }
    }
    emit(lx, t, T_STRING, body, (size_t)(p - body), line);
    t->bytes = bytes;
    lx->p = p + (triple ? 3 : 1);
    return 0;
}

/* The opening quote of an f-string is at lx->p: yields T_FSTRING and leaves
 * the lexer in the f-string's literal text. */
static int lex_fstring_start(struct lexer *lx, struct tok *t, int raw)
{
    struct frame like;
    const char *p = lx->p;
    char q = *p;
    int triple = lx->end - p >= 3 && p[1] == q && p[2] == q;

    emit(lx, t, T_FSTRING, p, 0, lx->line);
    memset(&like, 0, sizeof like);
    like.quote = q;
    like.triple = (unsigned char)triple;
    like.raw = (unsigned char)raw;
    if (push(lx, F_FSTRING, &like) < 0)
        return -1;
    lx->p = p + (triple ? 3 : 1);
    return 0;
}

/* Skips the escape whose backslash is at lx->p inside f-string text.  A
 * brace after the backslash stays: it still opens or closes a field. */
static void skip_fescape(struct lexer *lx, const struct frame *f)
{
    const char *end = lx->end;
    const char *p = lx->p + 1;

    if (p >= end || *p == '{' || *p == '}') {
        lx->p = p;
        return;
    }
    if (!f->raw && *p == 'N' && end - p >= 2 && p[1] == '{') {
        /* \N{NAME}: the '{' is no field, and the '}' that ends the name
         * is then a lone '}', which the text loop reads as text.  This is
         * what CPython does, a quote in NAME ending the string included. */
        lx->p = p + 2;
        return;
    }
    lx->p = p;
    if (is_line_end(*p))
        eat_newline(lx);
    else
        lx->p++;
}

/* Reads f-string text (frame F_FSTRING) or a format spec (F_SPEC) up to the
 * next change of mode.  Returns 1 with a token in *t, 0 after opening a
 * replacement field (no token), -1 on error. */
static int lex_ftext(struct lexer *lx, struct tok *t)
{
    struct frame *f = &lx->stack[lx->depth - 1];
    const char *end = lx->end;
    char q = f->quote;

    for (;;) {
        const char *p = lx->p;
        while (p < end && *p != q && *p != '{' && *p != '}' && *p != '\\' && !is_line_end(*p))
            p++;
        lx->p = p;
        if (p >= end) {
            if (f->kind == F_SPEC)
                return lex_error(lx, f->line, "f-string: expecting '}'");
            return lex_error(lx, f->line, f->triple ? "unterminated triple-quoted f-string literal"
                                                    : "unterminated f-string literal");
        }
        switch (*p) {
        case '{':
            if (f->kind == F_FSTRING && end - p >= 2 && p[1] == '{') {
                lx->p += 2;
                break;
            }
            lx->p++;
            return push(lx, F_FIELD, f);
        case '}':
            if (f->kind == F_SPEC) {
                lx->depth--; /* the spec ends its field */
                emit_op(lx, t, '}');
                lx->p++;
                return 1;
            }
            /* "}}" is a brace; a lone '}' is a syntax error, read as text */
            lx->p += (end - p >= 2 && p[1] == '}') ? 2 : 1;
            break;
        case '\\':
            skip_fescape(lx, f);
            break;
        case '\n':
        case '\r':
            /* 3.12 lets a format spec run over lines, not the text itself */
            if (f->kind == F_FSTRING && !f->triple)
                return lex_error(lx, f->line, "unterminated f-string literal");
            eat_newline(lx);
            break;
        default: /* the quote character */
            if (f->triple && !(end - p >= 3 && p[1] == q && p[2] == q)) {
                lx->p++;
                break;
            }
            if (f->kind == F_SPEC)
                return lex_error(lx, f->line, "f-string: expecting '}'");
            lx->depth--;
            emit(lx, t, T_FSTRING_END, p, 0, lx->line);
            lx->p = p + (f->triple ? 3 : 1);
            return 1;
        }
    }
}

static int lex_close(struct lexer *lx, struct tok *t, char c)
{
    char msg[96];
    char open;
    const struct frame *f;

    if (lx->depth == 0) {
        snprintf(msg, sizeof msg, "unmatched '%c'", c);
        return lex_error(lx, lx->line, msg);
    }
    f = &lx->stack[lx->depth - 1];
    open = f->kind == F_PAREN ? '(' : f->kind == F_BRACKET ? '[' : '{';
    if ((open == '(' && c != ')') || (open == '[' && c != ']') || (open == '{' && c != '}')) {
        snprintf(msg, sizeof msg, "closing parenthesis '%c' does not match opening parenthesis '%c'",
                 c, open);
        return lex_error(lx, lx->line, msg);
    }
    lx->depth--;
    emit_op(lx, t, c);
    lx->p++;
    return 0;
}

static int lex_eof(struct lexer *lx, struct tok *t)
{
    if (lx->depth > 0) {
        const struct frame *f = &lx->stack[lx->depth - 1];
        char msg[64];
        if (f->kind == F_FIELD)
            return lex_error(lx, f->line, "f-string: expecting '}'");
        snprintf(msg, sizeof msg, "'%c' was never closed",
                 f->kind == F_PAREN ? '(' : f->kind == F_BRACKET ? '[' : '{');
        return lex_error(lx, f->line, msg);
    }
    emit(lx, t, lx->line_has_tokens ? T_NEWLINE : T_EOF, lx->p, 0, lx->line);
    lx->line_has_tokens = 0;
    return 0;
}

/* Measures the indentation at the start of a physical line.  Tabs go to the
 * next multiple of 8 and a form feed resets the column, as in CPython. */
static void lex_indent(struct lexer *lx)
{
    const char *p = lx->p;
    int col = 0;
    for (; p < lx->end; p++) {
        if (*p == ' ')
            col++;
        else if (*p == '\t')
            col = (col / 8 + 1) * 8;
        else if (*p == '\f')
            col = 0;
        else
            break;
        if (col > MAX_COLUMN)
            col = MAX_COLUMN;
    }
    lx->p = p;
    lx->indent = col;
    lx->at_bol = 0;
}

static void lex_number(struct lexer *lx, struct tok *t)
{
    const char *start = lx->p;
    const char *p = start + 1;
    int hex = *start == '0' && p < lx->end && (*p == 'x' || *p == 'X');
    for (; p < lx->end; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x80 && IS_ID_CHAR(c)) || c == '.')
            continue;
        if ((c == '+' || c == '-') && !hex && (p[-1] == 'e' || p[-1] == 'E'))
            continue;
        break;
    }
    lx->p = p;
    emit(lx, t, T_NUMBER, start, (size_t)(p - start), lx->line);
}

/* A name, or the prefix of a string when a quote follows it at once. */
static int lex_name(struct lexer *lx, struct tok *t)
{
    const char *start = lx->p;
    const char *p = start + 1;
    size_t n;
    int raw, bytes, fmt;

    while (p < lx->end && IS_ID_CHAR(*p))
        p++;
    n = (size_t)(p - start);
    if (n <= 2 && p < lx->end && (*p == '\'' || *p == '"')
        && string_prefix(start, n, &raw, &bytes, &fmt)) {
        lx->p = p;
        if (fmt)
            return lex_fstring_start(lx, t, raw);
        if (lex_string(lx, t, bytes) < 0)
            return -1;
        return 0;
    }
    lx->p = p;
    emit(lx, t, T_NAME, start, n, lx->line);
    return 0;
}

/* Yields the next token into *t, or fails with the error set. */
static int lex_next(struct lexer *lx, struct tok *t)
{
    for (;;) {
        const char *p;
        char c;

        if (lx->depth > 0) {
            unsigned char k = lx->stack[lx->depth - 1].kind;
            if (k == F_FSTRING || k == F_SPEC) {
                int r = lex_ftext(lx, t);
                if (r != 0)
                    return r < 0 ? -1 : 0;
                continue;
            }
        }
        if (lx->at_bol)
            lex_indent(lx);
        if (lx->p >= lx->end)
            return lex_eof(lx, t);
        p = lx->p;
        c = *p;
        switch (c) {
        case ' ':
        case '\t':
        case '\f':
            while (++p < lx->end && (*p == ' ' || *p == '\t' || *p == '\f'))
                ;
            lx->p = p;
            continue;
        case '#':
            while (++p < lx->end && !is_line_end(*p))
                ;
            lx->p = p;
            continue;
        case '\n':
        case '\r': {
            int line = lx->line;
            eat_newline(lx);
            if (lx->depth > 0)
                continue; /* implicit continuation inside brackets */
            lx->at_bol = 1;
            if (!lx->line_has_tokens)
                continue; /* blank or comment-only line */
            emit(lx, t, T_NEWLINE, p, 0, line);
            lx->line_has_tokens = 0;
            return 0;
        }
        case '\\':
            lx->p++;
            if (lx->p >= lx->end)
                continue;
            if (!is_line_end(*lx->p))
                return lex_error(lx, lx->line,
                                 "unexpected character after line continuation character");
            eat_newline(lx);
            continue;
        case '\'':
        case '"':
            return lex_string(lx, t, 0);
        case '(':
        case '[':
        case '{':
            emit_op(lx, t, c);
            lx->p++;
            return push(lx, c == '(' ? F_PAREN : c == '[' ? F_BRACKET : F_BRACE, NULL);
        case ')':
        case ']':
        case '}':
            return lex_close(lx, t, c);
        case '.':
            if (lx->end - p >= 2 && IS_DIGIT(p[1])) {
                lex_number(lx, t);
                return 0;
            }
            if (lx->end - p >= 3 && p[1] == '.' && p[2] == '.') {
                emit(lx, t, T_ELLIPSIS, p, 3, lx->line);
                lx->p += 3;
                return 0;
            }
            emit_op(lx, t, c);
            lx->p++;
            return 0;
        case ':':
            if (lx->depth > 0 && lx->stack[lx->depth - 1].kind == F_FIELD) {
                /* a top-level ':' in a replacement field starts its spec */
                lx->stack[lx->depth - 1].kind = F_SPEC;
                lx->p++;
                continue;
            }
            if (lx->end - p >= 2 && p[1] == '=') {
                emit(lx, t, T_WALRUS, p, 2, lx->line);
                lx->p += 2;
                return 0;
            }
            emit_op(lx, t, c);
            lx->p++;
            return 0;
        default:
            if (IS_ID_START(c))
                return lex_name(lx, t);
            if (IS_DIGIT(c)) {
                lex_number(lx, t);
                return 0;
            }
            /* other punctuation, and stray bytes: one token each */
            emit_op(lx, t, c);
            lx->p++;
            return 0;
        }
    }
}

/* ---- the result --------------------------------------------------------- */

static int out_of_memory(struct parser *p)
{
    p->lx.fault_line = 0;
    return err_set(p->lx.err, ENOMEM, "cannot record the imports");
}

/* Sets the name buffer p->sb to s[0..n), or with append adds s[0..n) to it. */
static int sb_set(struct parser *p, const char *s, size_t n, int append)
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

static void names_clear(struct parser *p)
{
    size_t i;
    for (i = 0; i < p->nnames; i++)
        free(p->names[i]);
    p->nnames = 0;
}

static int names_add(struct parser *p, const char *s, size_t n)
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
static int add_import(struct parser *p, const char *m, size_t n, int level, int line,
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

/* ---- the parser --------------------------------------------------------- */

static int is_op(const struct tok *t, char op)
{
    return t->kind == T_OP && t->op == op;
}

static int name_eq(const struct tok *t, const char *word, size_t n)
{
    return t->kind == T_NAME && t->n == n && memcmp(t->s, word, n) == 0;
}

/* name_is(t, "import"): t is that name; the length is known at compile time */
#define name_is(t, word) name_eq((t), (word), sizeof(word) - 1)

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
    return add_import(p, s, n, level, line, flags | SCAN_PREFIX, 0);
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
            return add_import(p, t->s + i, t->n - i, level, t->line, p->flags | SCAN_STRING, 0);
        return 0;
    }
    if (!IS_ID_START(t->s[0]))
        return 0;
    head = dotted_head(t->s, t->n);
    if (head == t->n) {
        for (size_t i = 0; i < t->n; i++)
            if (t->s[i] == '.' && (i + 1 == t->n || t->s[i + 1] == '.'))
                return 0; /* "a..b", "etc." */
        return add_import(p, t->s, t->n, 0, t->line, p->flags | SCAN_STRING, 0);
    }
    if (t->s[head] == '{' || t->s[head] == '%')
        return add_prefix(p, t->s, head, t->line, p->flags);
    /* entry-point group names may hold '-': "paste.app_factory", "x-plugins" */
    for (size_t i = head; i < t->n; i++)
        if (!IS_ID_CHAR(t->s[i]) && t->s[i] != '.' && t->s[i] != '-')
            return 0;
    return add_import(p, t->s, t->n, 0, t->line, p->flags | SCAN_STRING, 0);
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
        if (add_import(p, scope->named, scope->named_n, 0, t->line, p->flags | SCAN_SELFDIR, 0) < 0)
            return -1;
    }
    if (p->selfdir_done)
        return 0;
    int handed = was_path && p->arg_path && is_op(t, '[') && d > 0 && p->call_at[d] &&
                 !path_function(p->call_at[d], p->call_len[d]);
    if ((scope->seen & (SEEN_ANCHOR | SEEN_LISTING)) == (SEEN_ANCHOR | SEEN_LISTING) || handed) {
        p->selfdir_done = 1;
        return add_import(p, "", 0, 0, t->line, p->flags | SCAN_SELFDIR, 0);
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
            return add_import(p, s, n, level, p->call_line, flags, 0);
        return 0;
    }
    /* a distribution by name: "pkg", or "pkg==1.0" as load_entry_point takes it */
    if (n == 0 || n > 200 || !IS_ID_CHAR(s[0]))
        return 0;
    if (p->call == CALL_ENTRY && p->nargs == 3 && p->nnames == 0) {
        if (names_add(p, p->arg_s[1], p->arg_n[1]) < 0 || names_add(p, p->arg_s[2], p->arg_n[2]) < 0)
            return -1;
        return add_import(p, s, n, 0, p->call_line, p->flags | SCAN_DIST, 1);
    }
    return add_import(p, s, n, 0, p->call_line, p->flags | SCAN_DIST, 0);
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
        return add_import(p, t->s, t->n, 0, t->line, p->flags | SCAN_PROTOCOL, 0);
    return 0;
}

/* Watches every token: strings, directory listings, and calls with literal
 * arguments (a name, '(', plain strings separated by ',', then ')').  Runs
 * beside the statement parser because these can sit anywhere in an
 * expression. */
static int watch(struct parser *p)
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

static int advance(struct parser *p)
{
    if (lex_next(&p->lx, &p->tok) < 0)
        return -1;
    return watch(p);
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
        if (append && sb_set(p, ".", 1, 1) < 0)
            return -1;
        if (sb_set(p, p->tok.s, p->tok.n, append) < 0 || advance(p) < 0)
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
        if (add_import(p, p->sb, p->sblen, 0, line, p->flags, 0) < 0)
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

    names_clear(p);
    if (is_op(&p->tok, '*')) {
        if (names_add(p, "*", 1) < 0 || advance(p) < 0)
            return -1;
    } else {
        if (is_op(&p->tok, '(')) {
            paren = 1;
            if (advance(p) < 0)
                return -1;
        }
        while (p->tok.kind == T_NAME) {
            if (names_add(p, p->tok.s, p->tok.n) < 0 || advance(p) < 0)
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
    if (add_import(p, p->sb ? p->sb : "", p->sblen, level, line, p->flags, 1) < 0)
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

/* Sets the block context for a logical line indented to col. */
static int open_line(struct parser *p, int col)
{
    struct block *top = &p->blocks[p->nblocks - 1];

    if (p->pending && col > top->indent) {
        if (p->nblocks > MAX_INDENT)
            return lex_error(&p->lx, p->tok.line, "too many levels of indentation");
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

    names_clear(p);
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
