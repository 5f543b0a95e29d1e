/* scan_impl.h - what the files of the import scanner share: the tokens,
 * the lexer's and the parser's state, the byte classes.  Private to
 * src/analyze.  They depend one way:
 *   scan_lex.c     the lexer: bytes to tokens; uses none of the others
 *   scan_result.c  the imports being recorded; uses none of the others
 *   scan_hints.c   what every token is watched for (calls, strings,
 *                  directory listings): scan.h's hints; uses scan_result.c
 *   scan.c         the statement parser and scan_source; uses all three
 */
#ifndef BUNDLE_SCAN_IMPL_H
#define BUNDLE_SCAN_IMPL_H

#include <stddef.h>
#include <string.h>

#include "bundle/util/err.h"
#include "bundle/analyze/scan.h"

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

    /* matcher of calls with literal arguments across tokens (scan_watch()):
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

/* Byte classes, one table lookup each on the hot paths.  Bytes >= 0x80 are
 * parts of UTF-8 (or legacy-encoded) identifiers. */
enum { C_ID_START = 1, C_ID = 2, C_DIGIT = 4 };

extern const unsigned char scan_char_class[256];

#define IS_ID_START(c) (scan_char_class[(unsigned char)(c)] & C_ID_START)
#define IS_ID_CHAR(c) (scan_char_class[(unsigned char)(c)] & C_ID)
#define IS_DIGIT(c) (scan_char_class[(unsigned char)(c)] & C_DIGIT)

static inline int is_line_end(char c)
{
    return c == '\n' || c == '\r';
}

static inline int is_op(const struct tok *t, char op)
{
    return t->kind == T_OP && t->op == op;
}

static inline int name_eq(const struct tok *t, const char *word, size_t n)
{
    return t->kind == T_NAME && t->n == n && memcmp(t->s, word, n) == 0;
}

/* name_is(t, "import"): t is that name; the length is known at compile time */
#define name_is(t, word) name_eq((t), (word), sizeof(word) - 1)

/* ---- scan_lex.c ---- */

/* Sets the error (message msg at line) and fails: returns -1. */
int scan_lex_error(struct lexer *lx, int line, const char *msg);

/* Yields the next token into *t, or fails with the error set. */
int scan_lex_next(struct lexer *lx, struct tok *t);

/* ---- scan_result.c: each returns 0, or -1 out of memory (error set) ---- */

/* Sets the name buffer p->sb to s[0..n), or with append adds s[0..n) to it. */
int scan_sb_set(struct parser *p, const char *s, size_t n, int append);

/* The names of the from-import being read (p->names): emptied, one added. */
void scan_names_clear(struct parser *p);
int scan_names_add(struct parser *p, const char *s, size_t n);

/* Appends an import of module m[0..n); with_names hands over p->names. */
int scan_add_import(struct parser *p, const char *m, size_t n, int level, int line,
                    unsigned flags, int with_names);

/* ---- scan_hints.c ---- */

/* Watches the current token p->tok for scan.h's hints.  Returns 0, or -1
 * with the error set. */
int scan_watch(struct parser *p);

#endif
