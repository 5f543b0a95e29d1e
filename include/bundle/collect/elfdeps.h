/* elfdeps.h - the shared-library closure of ELF objects, as ld.so finds it.
 *
 * Reads DT_NEEDED, DT_RPATH, DT_RUNPATH and DT_SONAME with libelf, expands
 * $ORIGIN / $LIB / $PLATFORM, and resolves each needed name the way the
 * dynamic loader does: DT_RPATH of the object and its loaders (only when the
 * object has no DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, the directories of
 * /etc/ld.so.conf (with its includes), then the default /lib and /usr/lib
 * (multiarch included).  Candidates of the wrong ELF class or machine are
 * skipped, as ld.so skips them.  The host base (glibc's own libraries and the
 * loader) is never part of the closure: every Linux host has its own.
 */
#ifndef BUNDLE_ELFDEPS_H
#define BUNDLE_ELFDEPS_H

#include <stddef.h>

#include "bundle/util/err.h"

/* What one ELF file says about itself. */
struct elfdeps_info {
    char *soname;      /* DT_SONAME or NULL (owned) */
    char **needed;     /* DT_NEEDED names in file order (owned, nneeded) */
    size_t nneeded;
    char **rpath;      /* DT_RPATH split on ':', $ORIGIN expanded (owned) */
    size_t nrpath;
    char **runpath;    /* DT_RUNPATH split on ':', $ORIGIN expanded (owned) */
    size_t nrunpath;
    int glibc_major;   /* highest GLIBC_x.y version this object needs; 0.0 if none */
    int glibc_minor;
};

/* Reads one ELF shared object or executable.  Returns 0 and fills *out, or -1
 * with err set (not an ELF file, unreadable, truncated, wrong class). */
int elfdeps_read(const char *path, struct elfdeps_info *out, struct err *err);
void elfdeps_info_release(struct elfdeps_info *info);

/* 1 if soname belongs to the host base that is never bundled (libc.so.6,
 * libm.so.6, libpthread.so.0, libdl.so.2, librt.so.1, libutil.so.1,
 * libresolv.so.2, libnsl.so.1, libanl.so.1, libmvec.so.1, libBrokenLocale.so.1,
 * libthread_db.so.1, libnss_*, ld-linux*.so.*, linux-vdso*), else 0. */
int elfdeps_is_host_base(const char *soname);

/* One library of a closure. */
struct elfdeps_lib {
    char *name;  /* the name objects ask for (DT_NEEDED / soname) (owned) */
    char *path;  /* resolved file, symlinks resolved with realpath() (owned) */
};

struct elfdeps_closure {
    struct elfdeps_lib *libs; /* dependencies before their dependents (owned, n) */
    size_t n;
    char **missing;           /* needed names that resolved nowhere (owned, nmissing) */
    size_t nmissing;
    int glibc_major;          /* highest GLIBC_x.y over the roots and every lib */
    int glibc_minor;
};

/* Computes the closure of the roots (paths of ELF files: libpython and the
 * extension modules).  The roots themselves are not listed in out->libs.
 * A name that cannot be found is listed in out->missing (not an error: the
 * caller decides).  Returns 0, or -1 with err set when a root cannot be read.
 * Caller releases *out with elfdeps_closure_release. */
int elfdeps_closure(const char *const *roots, size_t nroots,
                    struct elfdeps_closure *out, struct err *err);
void elfdeps_closure_release(struct elfdeps_closure *c);

#endif
