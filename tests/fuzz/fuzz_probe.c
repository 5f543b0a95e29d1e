/* fuzz_probe.c - the parser of the probe's output (src/analyze/probe.c
 * probe_parse): what the interpreter to bundle printed, NUL-separated
 * key/value pairs, read as hostile.
 *
 * Promises checked (probe.h): 0 with the required fields set, or -1 with a
 * message; probe_release() frees everything, also after a failure.
 */
#include <string.h>

#include "bundle/analyze/probe.h"
#include "fuzz_util.h"

static void check_vec(const struct strvec *sv)
{
    FUZZ_CHECK(sv->n <= sv->cap);
    FUZZ_CHECK(sv->n == 0 || (sv->v && sv->v[sv->n] == NULL));
    for (size_t i = 0; i < sv->n; i++)
        FUZZ_CHECK(sv->v[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct probe p;
    struct err err = {0};

    memset(&p, 0, sizeof p); /* the caller zeroes it (probe.h) */
    if (probe_parse((const char *)data, size, &p, &err) == 0) {
        FUZZ_CHECK(p.executable && p.stdlib && p.libpython);
    } else {
        FUZZ_CHECK(err.msg[0]);
    }
    check_vec(&p.path);
    check_vec(&p.ext_suffixes);
    check_vec(&p.builtins);
    probe_release(&p);
    FUZZ_CHECK(!p.executable && !p.path.v);
    return 0;
}
