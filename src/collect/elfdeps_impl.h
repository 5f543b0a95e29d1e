/* elfdeps_impl.h - what the two files of elfdeps share: the host's ELF
 * machine and glibc names, and the reader's helpers the closure uses.
 * Private to src/collect.  One way: elfdeps.c (the closure, the host base)
 * uses elfdeps_read.c (reading one file), not the other way round. */
#ifndef BUNDLE_ELFDEPS_IMPL_H
#define BUNDLE_ELFDEPS_IMPL_H

#include <elf.h>
#include <stddef.h>

#include "bundle/collect/elfdeps.h"
#include "bundle/util/strvec.h"

/* The one place that knows the architecture: the machine this build runs on
 * and the names its glibc uses.  An unknown machine accepts any e_machine. */
#if defined(__x86_64__) && defined(__ILP32__)
#define HOST_MACHINE EM_X86_64
#define HOST_PLATFORM "x86_64"
#define HOST_MULTIARCH "x86_64-linux-gnux32"
#elif defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#define HOST_PLATFORM "x86_64"
#define HOST_MULTIARCH "x86_64-linux-gnu"
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#define HOST_PLATFORM "i686"
#define HOST_MULTIARCH "i386-linux-gnu"
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#define HOST_PLATFORM "aarch64"
#define HOST_MULTIARCH "aarch64-linux-gnu"
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#define HOST_PLATFORM "v7l"
#define HOST_MULTIARCH "arm-linux-gnueabihf"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_MACHINE EM_RISCV
#define HOST_PLATFORM "riscv64"
#define HOST_MULTIARCH "riscv64-linux-gnu"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_MACHINE EM_PPC64
#define HOST_PLATFORM "power8"
#define HOST_MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#define HOST_PLATFORM "z13"
#define HOST_MULTIARCH "s390x-linux-gnu"
#else
#define HOST_MACHINE EM_NONE
#define HOST_PLATFORM ""
#define HOST_MULTIARCH ""
#endif

#if __SIZEOF_POINTER__ == 8
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

/* Copies s with $ORIGIN (origin: the object's directory), $LIB and $PLATFORM
 * substituted, braced or not.  Returns a new string or NULL (ENOMEM). */
char *elfdeps_dst_expand(const char *s, const char *origin);

/* The strings of sv as an array of *n (the caller's now); sv is left empty. */
char **elfdeps_take(struct strvec *sv, size_t *n);

/* Frees *n strings of *v and the array; both are cleared. */
void elfdeps_free_strings(char ***v, size_t *n);

/* Raises *major.*minor to maj.min when that is higher. */
void elfdeps_glibc_max(int *major, int *minor, int maj, int min);

#endif
