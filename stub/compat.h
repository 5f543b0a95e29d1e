/* compat.h - the stub's calls into glibc, bound to the oldest symbol
 * versions that have them, so that the stub starts on any glibc from 2.17
 * (RHEL 7) and can say in words that a host is too old for the bundle,
 * rather than die in the dynamic loader.  Included first in every stub
 * source (-include, CMakeLists.txt); the stub is linked with libdl.so.2 and
 * libpthread.so.0, where glibc before 2.34 keeps dlopen and pthread_create.
 *
 *   - dl* and pthread_*: their GLIBC_2.2.5 versions (glibc 2.34 moved them
 *     into libc.so.6 as GLIBC_2.34, keeping the old ones);
 *   - fstat, lstat, fstatat (GLIBC_2.33 functions: before, macros over
 *     __fxstat): the system calls, whose struct stat is glibc's on x86-64;
 *   - memfd_create, copy_file_range (2.27), getrandom (2.25): the system
 *     calls; a kernel without one says ENOSYS, which the callers handle;
 *   - __libc_start_main: stub/start.S.
 */
#ifndef BUNDLE_STUB_COMPAT_H
#define BUNDLE_STUB_COMPAT_H

#include <limits.h> /* glibc's features.h: __GLIBC__ */

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(BUNDLE_NO_COMPAT)
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

__asm__(".symver dlopen, dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
__asm__(".symver dlerror, dlerror@GLIBC_2.2.5");
__asm__(".symver dlclose, dlclose@GLIBC_2.2.5");
__asm__(".symver pthread_create, pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join, pthread_join@GLIBC_2.2.5");
__asm__(".symver pthread_once, pthread_once@GLIBC_2.2.5");

static inline int compat_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}
static inline int compat_lstat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_lstat, path, st);
}
static inline int compat_fstatat(int dfd, const char *path, struct stat *st, int flags)
{
    return (int)syscall(SYS_newfstatat, dfd, path, st, flags);
}
static inline int compat_memfd_create(const char *name, unsigned flags)
{
    return (int)syscall(SYS_memfd_create, name, flags);
}
static inline ssize_t compat_copy_file_range(int in, loff_t *inoff, int out, loff_t *outoff, size_t len,
                                             unsigned flags)
{
    return (ssize_t)syscall(SYS_copy_file_range, in, inoff, out, outoff, len, flags);
}
static inline ssize_t compat_getrandom(void *buf, size_t len, unsigned flags)
{
    return (ssize_t)syscall(SYS_getrandom, buf, len, flags);
}
#define fstat compat_fstat
#define lstat compat_lstat
#define fstatat compat_fstatat
#define memfd_create compat_memfd_create
#define copy_file_range compat_copy_file_range
#define getrandom compat_getrandom
#endif

#endif
