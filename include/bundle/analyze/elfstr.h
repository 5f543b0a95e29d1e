/* elfstr.h - names of Python modules an extension module may import from C.
 *
 * A compiled extension imports modules the scanner of .py files never sees:
 * Cython's cimports ("numpy", "scipy.linalg.cython_lapack"), cffi's
 * "_cffi_backend", CPython's own PyImport_ImportModule("numbers").  Those
 * names are C string literals, so they sit in the file's read-only data.
 * This module lists the strings there that could be module names; the caller
 * keeps those that name a module it can find, so a false candidate costs one
 * look-up and a missed one costs a broken bundle: the rule leans to plenty.
 *
 * Where the bytes come from.  The sections a loader maps that are not code:
 * SHT_PROGBITS with SHF_ALLOC and without SHF_EXECINSTR (.rodata, .rodata.*,
 * .data.rel.ro, .data), less the ones that hold no C literals (.eh_frame,
 * .eh_frame_hdr, .gcc_except_table, .got, .got.plt, .interp) and the symbol
 * string tables (.dynstr, .strtab, .symtab: C names, not module names).  A
 * file without a usable section table (stripped with sstrip, or truncated
 * before it) is read through its PT_LOAD segments that are not executable.
 * Overlapping ranges are read once; a range past the end of the data is cut
 * to it, so a truncated copy yields what it still holds.
 *
 * The candidate rule.  A run is a maximal run of [A-Za-z0-9_.] bytes: every
 * other byte ends one (NUL, as between C strings, but also space, '/', '%',
 * quotes: a name inside "numpy.core.multiarray failed to import" counts).
 * Leading and trailing dots are dropped ("No module named numpy." gives
 * "numpy") and ".." splits a run in two.  What is left is a candidate when
 *   - it is 1..ELFSTR_NAME_MAX bytes (longer runs are no module name; see
 *     "joined text" below),
 *   - each '.'-separated part starts with a letter or '_' (Python names;
 *     "3.11", "1e10" and version strings fail, "libfoo.so" passes and costs
 *     one look-up),
 *   - it does not follow a '%' directly: a printf conversion ("%s.%s",
 *     "%zd", "%U") is format, not a name,
 *   - a run of 1..3 bytes counts only as a whole C string, NUL on both
 *     sides: short runs are mostly binary tables that happen to be letters
 *     (over half of libpython's runs are one byte), and short module names
 *     (os, re, io) are imported by literal.
 * Non-ASCII identifiers are not recognised (no extension module seen uses
 * one for a module name).  Each candidate is reported once per file, at
 * most ELFSTR_MAX_NAMES of them (and ELFSTR_MAX_BYTES of text): a hostile
 * file cannot make the caller do unbounded work; a real one stays far below.
 *
 * Glued text.  Not every toolchain ends a string with NUL.  Rust's string
 * literals sit back to back, so a PyO3 module's
 * "cryptography.hazmat._oid" comes out as the candidate
 * "cryptography.hazmat._oidcryptography.exceptionsSignature".  The parts
 * between the dots of a candidate are exact; its first part may have
 * foreign text before the name, its last part after.  A caller that knows
 * its modules finds them by trying the suffixes of the first part that are
 * top-level names, then the longest run of parts that resolves, the last
 * one matched as a prefix against the names in that package.
 *
 * Cython's string table.  Up to Cython 3.1 each Python string of a module is
 * its own NUL-terminated literal (__pyx_k_numpy), found by the rule above.
 * Cython 3.2 joins all of them, sorted, into one byte string with no
 * separator and a separate table of lengths, and compresses it with zlib by
 * default (CYTHON_COMPRESS_STRINGS=1; left plain when zlib would not save
 * 200 bytes); Cython 3.3 compresses with its own headerless LZSS by default.
 * A module name from a Python-level import then has no delimiter around it
 * ("collectionsnumpyos"), and no rule can split such text without knowing
 * the names.  So: zlib streams in the data (level-9 header 78 DA, checked by
 * their Adler-32) are inflated and read by the same rule, and their whole
 * text, and every run of name bytes longer than ELFSTR_NAME_MAX, goes to the
 * optional joined callback, where a caller that knows its module names can
 * look for them.  LZSS, bzip2 and zstd tables are not read (LZSS has no
 * header to find it by; the lengths that split a table are stored by code,
 * as immediates, not as data).  Cimports are C literals in every Cython
 * version and need none of this, and so is the "zlib" or "bz2" that a
 * Cython 3.2 module imports to inflate its table.
 */
#ifndef BUNDLE_ELFSTR_H
#define BUNDLE_ELFSTR_H

#include <stddef.h>

#include "bundle/util/err.h"

#define ELFSTR_NAME_MAX 200        /* longest candidate, in bytes */
#define ELFSTR_MAX_NAMES 200000    /* distinct candidates reported per file */
#define ELFSTR_MAX_BYTES (8u << 20) /* their total length, per file */

/* Called once per distinct candidate: name is NUL-terminated and valid
 * during the call only.  Returns 0 to go on, -1 to stop the walk. */
typedef int (*elfstr_name_fn)(const char *name, void *ctx);

/* Called with text whose strings are joined without separators (see above):
 * len bytes, not NUL-terminated, valid during the call only.  Returns 0 to
 * go on, -1 to stop the walk. */
typedef int (*elfstr_text_fn)(const char *text, size_t len, void *ctx);

/* Reads the ELF file at path and calls fn(name, ctx) for each candidate.
 * Returns 0; or -1 with err set when the file cannot be read or is not ELF
 * (no magic, unknown class or byte order, header cut short); or -1 when fn
 * returned -1, with err untouched: fn reports its own failure, through ctx,
 * and a caller that passes its own struct err to both keeps fn's message. */
int elfstr_each(const char *path, elfstr_name_fn fn, void *ctx, struct err *err);

/* The same over len bytes of an ELF image in memory (not modified). */
int elfstr_each_mem(const void *data, size_t len, elfstr_name_fn fn, void *ctx,
                    struct err *err);

/* Everything the walk reports; joined may be NULL. */
struct elfstr_sink {
    elfstr_name_fn name;   /* each candidate */
    elfstr_name_fn whole;  /* each candidate that is, somewhere, a whole C string
                              (NUL before and after it): a literal of its own,
                              as PyImport_ImportModule("numbers") takes one, not
                              a word of a message; called before name */
    elfstr_text_fn joined; /* Cython >= 3.2 string tables, over-long runs */
    void *ctx;             /* passed to both */
};

/* elfstr_each and elfstr_each_mem with a joined callback too; same returns. */
int elfstr_scan(const char *path, const struct elfstr_sink *sink, struct err *err);
int elfstr_scan_mem(const void *data, size_t len, const struct elfstr_sink *sink,
                    struct err *err);

#endif
