/* fuzz_manifest.c - the stub's manifest parser (stub/manifest.c
 * manifest_parse), on the text of a manifest.  (manifest_load, which reads
 * the file and calls it, runs in fuzz_extract on every extracted bundle.)
 *
 * Promises checked: on success the interpreter is a Python 3, libpython is
 * named or linked into the stub (one of the two), and every path is one payload_path_safe() accepts (the stub dlopens
 * them under the cache entry), lazy paths and their deps included; the lazy
 * list is strictly sorted by path (so has no duplicates), each entry is
 * fresh (not unpacked, not loaded), and manifest_lazy() finds each one, as
 * that very entry; on failure the struct is left empty.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "stub.h"

void stub_debug(const char *fmt, ...)
{
    (void)fmt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stub_manifest m;
    /* the text is NUL-terminated and modified in place: an exact copy */
    char *text = malloc(size + 1);

    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&m, 0x5a, sizeof m); /* manifest_parse starts from nothing */
    if (manifest_parse(text, &m) == 0) {
        /* libpython named, or linked into the stub: one of the two */
        FUZZ_CHECK(m.py_major == 3 && !m.libpython == !!m.linked);
        FUZZ_CHECK(!m.libpython || payload_path_safe(m.libpython, strlen(m.libpython)));
        FUZZ_CHECK(m.npreload == 0 || m.preload);
        for (size_t i = 0; i < m.npreload; i++)
            FUZZ_CHECK(m.preload[i] && payload_path_safe(m.preload[i], strlen(m.preload[i])));
        FUZZ_CHECK(!m.name || !strchr(m.name, '\n'));
        FUZZ_CHECK(m.nlazy == 0 || m.lazy);
        for (size_t i = 0; i < m.nlazy; i++) {
            const struct stub_lazy *l = &m.lazy[i];
            FUZZ_CHECK(l->rel && payload_path_safe(l->rel, strlen(l->rel)));
            FUZZ_CHECK(i == 0 || strcmp(m.lazy[i - 1].rel, l->rel) < 0);
            FUZZ_CHECK(l->ndeps == 0 || l->deps);
            for (size_t j = 0; j < l->ndeps; j++)
                FUZZ_CHECK(l->deps[j] && payload_path_safe(l->deps[j], strlen(l->deps[j])));
            FUZZ_CHECK(!l->path && !l->loaded);
            FUZZ_CHECK(manifest_lazy(&m, l->rel) == l);
        }
        manifest_release(&m);
    } else {
        FUZZ_CHECK(!m.libpython && !m.preload && m.npreload == 0 && !m.name);
        FUZZ_CHECK(!m.lazy && m.nlazy == 0);
    }
    free(text);
    return 0;
}
