/* guard.c - a download cut short says so, wherever it is cut.
 *
 * The stub is linked with a layout of its own (CMakeLists.txt, stub.ld):
 * the headers, what the dynamic loader reads (symbols, relocations), the
 * writable data and the PLT come first in the file, then this function,
 * then the rest of the code and the read-only data.  The loader runs it
 * (.preinit_array) before anything else of the stub, so a file cut
 * anywhere after its first 14 kB or so (0.3% of a 4.7 MB hello) is
 * refused in one line, exit status 2, rather than killed by SIGSEGV or
 * SIGBUS when the loader or the stub touches a page that is not there.
 * It uses nothing that lies after it in the file: libc through the PLT,
 * its strings in .data, never .rodata, and the program headers of the
 * first page.  It checks only that the file holds all of the stub's
 * loaded segments; main() checks the rest (the trailer, the checksums).  A run again under the carried glibc (argv[1] is carry.c's marker,
 * /proc/self/exe the loader) is main()'s to check.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stub.h"

#define GUARD __attribute__((section(".text.bundle_guard"), used, noinline))

/* The stub's own ELF header, mapped with its program headers in the
 * first page (the linker defines the symbol). */
extern const char __ehdr_start[];

static char guard_exe[] = "/proc/self/exe";
static char guard_msg[] = ": bundle is corrupt (the file is cut short inside the stub); download it again\n";
static char guard_name[] = "bundle";
static char guard_marker[] = STUB_CARRY_MARKER;

GUARD static void guard(int argc, char **argv, char **envp)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    uint64_t end = 0;
    struct stat st;
    const char *name = guard_name;
    int fd, cut;

    (void)envp;
    if (argc > 1 && argv[1] && strncmp(argv[1], guard_marker, sizeof guard_marker - 1) == 0)
        return; /* the carried glibc's run: /proc/self/exe is its loader */
    memcpy(&eh, __ehdr_start, sizeof eh);
    for (int i = 0; i < eh.e_phnum; i++) {
        memcpy(&ph, __ehdr_start + eh.e_phoff + (size_t)i * eh.e_phentsize, sizeof ph);
        if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > end)
            end = ph.p_offset + ph.p_filesz;
    }
    if ((fd = open(guard_exe, O_RDONLY | O_CLOEXEC)) < 0)
        return; /* main() says why */
    cut = syscall(SYS_fstat, fd, &st) == 0 && (uint64_t)st.st_size < end;
    close(fd);
    if (!cut)
        return; /* the stub is whole: main() checks the rest */
    if (argc > 0 && argv[0] && argv[0][0]) {
        name = argv[0];
        for (const char *p = argv[0]; *p; p++)
            if (*p == '/' && p[1])
                name = p + 1;
    }
    if (write(2, name, strlen(name)) >= 0)
        (void)!write(2, guard_msg, sizeof guard_msg - 1);
    _exit(2);
}

/* Global, so that a link that takes the stub from an archive (src/emit/link.c,
 * -u bundle_guard_entry) keeps it. */
__attribute__((section(".preinit_array"), used)) void (*const bundle_guard_entry)(int, char **, char **) = guard;
