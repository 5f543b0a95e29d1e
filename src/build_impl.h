/* build_impl.h - what the stages of a build share: the build's state, the
 * helpers that report, name and add entries (src/build_util.c), and each
 * stage's steps, which the driver (src/build.c) calls in order.  Private to
 * src/. */
#ifndef BUNDLE_BUILD_IMPL_H
#define BUNDLE_BUILD_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle/cli/cli.h"
#include "bundle/collect/elfdeps.h"
#include "bundle/util/err.h"
#include "bundle/analyze/probe.h"
#include "bundle/collect/pyc.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/strvec.h"
#include "bundle/util/util.h"

struct entry {
    char *name;        /* zip name (owned) */
    const char *file;  /* stored from this file, or... */
    const char *data;  /* ...these bytes (not owned) */
    size_t len;
    bool strip;        /* an ELF file: stripped of debug info on the way */
    char *lazy;        /* unpacked on first use: the libraries to load before
                          it (" lib/a lib/b", maybe ""), for its manifest line */
};

struct build {
    const struct cli_opts *o;
    struct err *err;
    const char *script; /* the entry script: the user's, or entry_file */
    char *entry_dir;    /* temp dir of a generated entry script (--entry, a command) */
    char *entry_file;   /* that script */
    char *entry_name;   /* the app's default name with a generated script */
    char *entry_module; /* --entry MOD without FUNC: MOD runs as __main__ */
    char *entry_target; /* the module a generated entry script imports */
    char *name;         /* app name */
    char *output;       /* binary path */
    char *json_path;    /* NAME.marathon.json (NULL with --no-marathon) */
    char *metro_path;
    char *python;
    struct probe probe;
    struct graph graph;
    struct pyc_job *jobs;
    size_t njobs;
    struct elfdeps_closure libs;
    struct entry *entries;
    size_t nentries, centries;
    struct buf manifest;
    struct buf pyz;     /* the pure-Python module blob */
    char *boot_file;    /* temp file holding the boot source */
    char *absent_file;  /* temp file holding PAYLOAD_ABSENT_MODULE's source */
    char *strip_dir;    /* temp dir of stripped copies of the native files */
    char *link_dir;     /* temp dir of the stub linked with libpython (link.c) */
    char *linked_stub;  /* that stub, or NULL: the prebuilt one loads the shared libpython */
    uint64_t inflated;  /* bytes the bundle's compressed native files gain once unpacked */
    char *link_why;     /* why there is none (link_stub) */
    pthread_t link_tid; /* linking runs beside the resolving (start_link) */
    bool linking;
    struct strvec stripped; /* their paths, to point entries at (owned) */
    size_t n_modules, n_natives;
    char *made_dir;     /* the output directory, when this build created it */
    struct strvec paths; /* file paths that entries point at (owned) */
    struct strvec traced_files; /* --trace: files and dirs the run read (owned) */
    size_t n_data;      /* package and --add-data files */
    struct strvec warnings; /* every warning, for --json (owned) */
    bool tty;           /* progress on stderr */
    double step_t;      /* when the current step started */
    uint8_t archive_sha[32]; /* the trailer's hash */
};

/* What add_data_tree takes from a directory. */
enum data_mode {
    DATA_OWN,  /* a package's own data files: not tests/, not subpackages (those
                  come with their own package); the stdlib's packages */
    DATA_TREE, /* the data files of a package's whole tree, subpackages that
                  nothing imports included; not tests/ */
    DATA_DISK, /* a package shipped as files: its sources too; not tests/ */
    DATA_ALL,  /* every file but code (--collect, --add-data) */
};

/* src/build_util.c.  Messages: say at verbosity level (0: always unless
 * -q), warn also into the --json report. */
void build_say(const struct build *b, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void build_warn(struct build *b, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds a zip entry (name owned; file or data not): 0, or -1 with b->err set. */
int build_add_entry(struct build *b, char *name, const char *file, const char *data, size_t len, bool strip);
/* asprintf's result, or NULL. */
char *build_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* src/collect/entry.c: the entry script bundle writes for --entry or a
 * console script (b->script, b->entry_*), and what --entry MOD brings. */
int entry_of_option(struct build *b);
/* Whether s could name a console script (not a path, not a .py file). */
bool entry_command_name(const char *s);
int entry_of_command(struct build *b);
int add_entry_module(struct build *b);

/* src/analyze/traced.c: --trace, the app run once and what it imported
 * added to the graph (what it read kept in b->traced_files). */
int run_trace(struct build *b);
/* The search-path directory a path lies under (the longest), or NULL. */
const char *build_root_of(const struct graph *g, const char *path);
/* src/collect/traced_files.c: b->traced_files, as data files. */
int add_traced(struct build *b);

/* src/collect/modules.c: the start-up and absent-module sources, every
 * module compiled, the pyz blob. */
int make_boot(struct build *b);
int make_absent(struct build *b);
int compile_modules(struct build *b);
int collect_python(struct build *b);
/* Whether the bundle leaves module name out (missing, excluded, unknown). */
bool build_absent_name(const struct graph *g, const char *name);
/* An extension module's path in the cache entry (site/...), malloc'ed. */
char *build_ext_rel(const struct module *m);

/* src/collect/native.c: libpython, the libraries and extension modules,
 * stripped; the carried glibc (--carry-glibc); the manifest's lazy lines. */
int collect_native(struct build *b);
int strip_natives(struct build *b);
int collect_glibc(struct build *b);
int finish_manifest(struct build *b);

/* src/collect/data.c: package data, --add-data, --collect, metadata. */
bool build_code_file(const char *n, bool sources, bool all);
int build_add_data_file(struct build *b, const char *path, const char *rel);
int build_add_data_tree(struct build *b, const char *dir, const char *rel_prefix, enum data_mode mode, int depth);
int collect_data(struct build *b);
int collect_metadata(struct build *b);
/* The package a module belongs to, or NULL. */
const struct module *build_parent_of(const struct graph *g, const struct module *m);

/* src/emit/bundle.c: the stub, linked on a thread of its own (start_link,
 * joined by choose_stub or join_link), and the executable written. */
int start_link(struct build *b);
void join_link(struct build *b);
int choose_stub(struct build *b);
int write_bundle(struct build *b, uint8_t file_sha[32], uint64_t *size);

/* src/deploy/outputs.c: the Marathon options checked before any work; the
 * Marathon (and Metronome) files written for the bundle of that size. */
int check_marathon_opts(struct build *b);
int emit_marathon(struct build *b, const uint8_t file_sha[32], uint64_t size);

/* src/cli/report.c: what the resolving found, said by verbosity; --json's
 * object on stdout (0, or -1 with b->err). */
void report_missing(struct build *b);
int report_json(struct build *b, const uint8_t file_sha[32], uint64_t size, double secs);

#endif
