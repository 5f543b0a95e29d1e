/* fuzz_elfdeps.c - the ELF dependency reader (src/collect/elfdeps_read.c elfdeps_read),
 * which takes a path: every input is written to one file in the scratch
 * directory and read back from there ($ORIGIN is that directory).
 *
 * Promises checked (elfdeps.h): 0 with every string set, or -1 with a
 * message; never a crash, whatever the offsets in the file say.  What the
 * closure does with the result is touched too: elfdeps_is_host_base() on
 * every name the file gives.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle/collect/elfdeps.h"
#include "fuzz_util.h"

static void check_list(char **v, size_t n)
{
    FUZZ_CHECK(n == 0 || v);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(v[i]);
        (void)elfdeps_is_host_base(v[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *file;
    struct elfdeps_info info;
    struct err err = {0};

    if (!file)
        file = fuzz_path("lib.so");
    fuzz_write_file(file, data, size);
    memset(&info, 0xa5, sizeof info); /* untouched on failure: must not be freed */
    if (elfdeps_read(file, &info, &err) == 0) {
        FUZZ_CHECK(!info.soname || info.soname[0]);
        (void)elfdeps_is_host_base(info.soname);
        check_list(info.needed, info.nneeded);
        for (size_t i = 0; i < info.nneeded; i++)
            FUZZ_CHECK(info.needed[i][0]);
        check_list(info.rpath, info.nrpath);
        check_list(info.runpath, info.nrunpath);
        FUZZ_CHECK(info.glibc_major >= 0 && info.glibc_minor >= 0);
        elfdeps_info_release(&info);
        FUZZ_CHECK(!info.soname && !info.needed && info.nneeded == 0);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    return 0;
}
