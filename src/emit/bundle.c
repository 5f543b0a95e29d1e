/* bundle.c - the executable a build writes: the stub chosen (linked with the
 * static libpython on a thread beside the resolving, or the prebuilt one
 * embedded in bundle), then the stub, the pyz blob and every entry packed
 * into the output, which stays a temp file until the build is done. */
#include "../build_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle/collect/elfdeps.h"
#include "bundle/emit/link.h"
#include "bundle/emit/pack.h"
#include "bundle/payload.h"
#include "bundle/util/temp.h"
#include "bundle/util/util.h"

extern const unsigned char bundle_stub_start[];
extern const unsigned char bundle_stub_end[];

/* Linking the stub (link.c) takes a few hundred milliseconds of one core:
 * it runs on a thread of its own while the imports are resolved and
 * compiled, which need only the probe it reads too. */
static void *link_thread(void *arg)
{
    struct build *b = arg;
    b->linked_stub = link_stub(&b->probe, b->link_dir, &b->link_why);
    return NULL;
}

/* Whether to link the static libpython into the stub: asked for
 * (--link-libpython), or the interpreter has no shared one to ship.  By
 * default the shared libpython goes into the archive, compressed: the
 * executable is half the size (hello: 4.7 against 8.6 MB), for one
 * unpacking per host (README, "Size and start-up"). */
static bool want_link(const struct build *b)
{
    return b->o->link_libpython || !b->probe.libpython || !b->probe.libpython[0];
}

int start_link(struct build *b)
{
    if (!want_link(b))
        return 0;
    b->link_dir = build_strdupf("%s/bundle-link-XXXXXX", temp_dir());
    if (!b->link_dir || !temp_make_dir(b->link_dir)) {
        free(b->link_dir);
        b->link_dir = NULL;
        return err_set(b->err, errno, "cannot create a temp dir in %s", temp_dir());
    }
    if (pthread_create(&b->link_tid, NULL, link_thread, b) == 0)
        b->linking = true;
    else
        link_thread(b);
    return 0;
}

void join_link(struct build *b)
{
    if (b->linking)
        pthread_join(b->link_tid, NULL);
    b->linking = false;
}

/* The stub: linked with the static libpython when the interpreter has one,
 * cc works, and no extension module asks for the shared libpython by name
 * (two copies of the interpreter in one process would not work). */
int choose_stub(struct build *b)
{
    char *why = NULL;

    join_link(b);
    if (!want_link(b)) {
        build_say(b, 1, "the stub loads the shared libpython, unpacked on the first start%s",
            b->o->shared_libpython ? "" : " (--link-libpython links it into the executable)");
        return 0;
    }
    for (size_t i = 0; b->linked_stub && i < b->graph.n; i++) {
        const struct module *m = &b->graph.mods[i];
        struct elfdeps_info info = {0};
        struct err e = {0};
        if (m->kind != MOD_EXTENSION || m->excluded || elfdeps_read(m->path, &info, &e) != 0)
            continue;
        for (size_t k = 0; k < info.nneeded && !why; k++)
            if (strncmp(info.needed[k], "libpython", 9) == 0)
                why = build_strdupf("%s needs %s by name", m->path, info.needed[k]);
        elfdeps_info_release(&info);
        if (why) {
            free(b->linked_stub);
            b->linked_stub = NULL;
        }
    }
    if (b->linked_stub)
        build_say(b, 1, "libpython linked into the executable (%s)", b->probe.libpython_a);
    else if (b->o->link_libpython)
        build_warn(b, 0, "--link-libpython: cannot link libpython into the executable (%s); the stub loads the shared one",
             why ? why : b->link_why ? b->link_why : "out of memory");
    else
        build_say(b, 1, "the stub loads the shared libpython: %s",
            why ? why : b->link_why ? b->link_why : "out of memory");
    free(why);
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static time_t build_time(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (!*end && v >= 315532800LL) /* zip times start in 1980 */
            return (time_t)v;
    }
    return 315532800; /* 1980-01-01: a fixed time, so builds are reproducible */
}

int write_bundle(struct build *b, uint8_t file_sha[32], uint64_t *size)
{
    struct pack p;
    uint8_t sha[32];
    time_t t = build_time();

    qsort(b->entries, b->nentries, sizeof *b->entries, cmp_entry);
    /* one file per name: the first of equal names (package data given
     * again by --add-data, say) wins */
    size_t w = 0;
    for (size_t i = 0; i < b->nentries; i++) {
        if (w > 0 && strcmp(b->entries[w - 1].name, b->entries[i].name) == 0) {
            build_warn(b, 1, "%s given twice; keeping one", b->entries[i].name);
            free(b->entries[i].name);
            free(b->entries[i].lazy);
            continue;
        }
        b->entries[w++] = b->entries[i];
    }
    b->nentries = w;
    const unsigned char *stub = bundle_stub_start;
    size_t stub_len = (size_t)(bundle_stub_end - bundle_stub_start);
    char *linked = NULL;
    if (b->linked_stub) {
        if (util_read_file(b->linked_stub, (size_t)1 << 30, &linked, &stub_len, b->err) != 0)
            return -1;
        stub = (const unsigned char *)linked;
    }
    int rc0 = pack_open(&p, b->output, stub, stub_len, b->pyz.data, b->pyz.len, t, b->err);
    free(linked);
    if (rc0 != 0)
        return -1;
    struct pack_item *items = calloc(b->nentries ? b->nentries : 1, sizeof *items);
    if (!items) {
        pack_abort(&p);
        return err_set(b->err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->nentries; i++) {
        const struct entry *e = &b->entries[i];
        /* the manifest stays stored: read before anything is inflated */
        items[i] = (struct pack_item){e->name, e->file, e->data, e->len,
                                      strcmp(e->name, PAYLOAD_MANIFEST) == 0 ? 0 : (int)b->o->compress};
    }
    /* the stub says it in words where the host's glibc is older, or runs
     * under the glibc it carries */
    if (b->libs.glibc_major > 0 && b->libs.glibc_major < 256 && b->libs.glibc_minor >= 0 && b->libs.glibc_minor < 256)
        p.flags = (uint32_t)(b->libs.glibc_major << 8 | b->libs.glibc_minor);
    if (b->o->carry_glibc && !b->linked_stub)
        p.flags |= PAYLOAD_FLAG_CARRIES_GLIBC;
    rc0 = pack_add_items(&p, items, b->nentries, b->err);
    free(items);
    if (rc0 != 0)
        return -1; /* pack_* already dropped the temp file */
    if (p.cached + p.cache_misses)
        build_say(b, 1, "%zu of %zu large files read from the builder's cache, %zu compressed anew", p.cached,
                  p.cached + p.cache_misses, p.cache_misses);
    /* the output is a temp until the whole build is done (its JSON too):
     * registered as it takes the temp file's place, no signal in between */
    temp_hold(NULL);
    rc0 = pack_commit(&p, sha, file_sha, b->err);
    if (rc0 == 0 && temp_add(b->output, TEMP_FILE) != 0) {
        rc0 = err_set(b->err, errno, "cannot register '%s' as a temp file", b->output);
        unlink(b->output);
    }
    temp_unhold();
    if (rc0 != 0)
        return -1;
    memcpy(b->archive_sha, sha, sizeof sha);
    *size = p.size;
    b->inflated = p.inflated;
    return 0;
}
