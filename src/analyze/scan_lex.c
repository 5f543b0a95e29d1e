/* scan_lex.c - the lexer of the import scanner (scan.c): bytes to tokens.
 * It owns all that can hide code: strings, f-strings, comments, brackets,
 * continuations and indentation; brackets, f-strings and their
 * replacement fields live on one fixed stack of MAX_NEST frames. */
#include "scan_impl.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Byte classes, one table lookup each on the hot paths (scan_impl.h). */
const unsigned char scan_char_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 3,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

int scan_lex_error(struct lexer *lx, int line, const char *msg)
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
        return scan_lex_error(lx, lx->line, kind == F_FSTRING || kind == F_FIELD
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
            return scan_lex_error(lx, line, triple ? "unterminated triple-quoted string literal"
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
            return scan_lex_error(lx, line, "unterminated string literal");
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
                return scan_lex_error(lx, f->line, "f-string: expecting '}'");
            return scan_lex_error(lx, f->line, f->triple ? "unterminated triple-quoted f-string literal"
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
                return scan_lex_error(lx, f->line, "unterminated f-string literal");
            eat_newline(lx);
            break;
        default: /* the quote character */
            if (f->triple && !(end - p >= 3 && p[1] == q && p[2] == q)) {
                lx->p++;
                break;
            }
            if (f->kind == F_SPEC)
                return scan_lex_error(lx, f->line, "f-string: expecting '}'");
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
        return scan_lex_error(lx, lx->line, msg);
    }
    f = &lx->stack[lx->depth - 1];
    open = f->kind == F_PAREN ? '(' : f->kind == F_BRACKET ? '[' : '{';
    if ((open == '(' && c != ')') || (open == '[' && c != ']') || (open == '{' && c != '}')) {
        snprintf(msg, sizeof msg, "closing parenthesis '%c' does not match opening parenthesis '%c'",
                 c, open);
        return scan_lex_error(lx, lx->line, msg);
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
            return scan_lex_error(lx, f->line, "f-string: expecting '}'");
        snprintf(msg, sizeof msg, "'%c' was never closed",
                 f->kind == F_PAREN ? '(' : f->kind == F_BRACKET ? '[' : '{');
        return scan_lex_error(lx, f->line, msg);
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
int scan_lex_next(struct lexer *lx, struct tok *t)
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
                return scan_lex_error(lx, lx->line,
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
