/* native.c - what the start-up module asks of the stub while the app runs.
 *
 * Module code is read in place from the pyz blob, mapped once: importing a
 * module costs no system call.  Extension modules, and the libraries only
 * they need, are unpacked when the app first imports them, not on the first
 * start: a hello world never unpacks the 20 extension modules of the stdlib
 * closure it carries.  Each such file is written with no name (O_TMPFILE)
 * and linked into the cache entry when whole (a concurrent start sees all
 * of it or nothing; a killed one leaves nothing), after its CRC-32C is
 * checked: a damaged copy of the bundle cannot leave a bad file in the
 * cache that a good copy would then use.
 *
 * A file found in the entry is opened through the entry's held fd and
 * checked before it is used (cache_open: type, owner, mode, size, ELF
 * header; a FIFO cannot block it), and what was checked is what is loaded.
 * What is wrong there is replaced with the bundle's copy.  Whatever the
 * cache cannot do (no space left, a read-only file system, the entry
 * removed, a damaged file that cannot be removed), the file goes to a memfd
 * instead and the app goes on; BUNDLE_DEBUG says why.  With no cache
 * directory at all, every such file goes to a memfd.  A library in a memfd
 * is loaded by its /proc/self/fd name before what needs it, so that glibc
 * finds it by soname (the extension module's DT_NEEDED), whichever way its
 * neighbours were loaded.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bundle/util/crc32c.h"
#include "stub.h"

static struct {
    struct stub_self *self;
    struct stub_manifest *m;
    const char *dir;        /* the cache entry, or NULL: memory mode */
    const uint8_t *pyz;     /* the pyz blob, mapped */
    size_t pyz_size;
    uint8_t *buf;           /* native_code's output */
    size_t cap;
    struct payload_pyz parts; /* its index and dictionary */
    ZSTD_DDict *dict;       /* the modules' dictionary, made on first use */
    int busy;               /* buf holds code not yet done with (native_code_done) */
} st;

int native_init(const struct stub_self *self, struct stub_manifest *m, const struct stub_plan *p,
                char *why, size_t whylen)
{
    const struct payload_trailer *t = &self->trailer;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = t->pyz_offset - t->pyz_offset % (uint64_t)(page > 0 ? page : 4096);
    void *map;

    st.self = (struct stub_self *)self;
    st.m = m;
    st.dir = p->dir;
    if (t->pyz_size < 4 || t->pyz_offset + t->pyz_size - start > SIZE_MAX) {
        snprintf(why, whylen, "the bundle holds no modules");
        return -1;
    }
    /* mapped for the life of the process: the app may close every fd */
    map = mmap(NULL, (size_t)(t->pyz_offset + t->pyz_size - start), PROT_READ, MAP_PRIVATE, self->fd,
               (off_t)start);
    if (map == MAP_FAILED) {
        snprintf(why, whylen, "cannot map the bundle: %s", strerror(errno));
        return -1;
    }
    st.pyz = (const uint8_t *)map + (t->pyz_offset - start);
    st.pyz_size = (size_t)t->pyz_size;
    const char *bad = NULL;
    if (payload_pyz_parts(st.pyz, st.pyz_size, &st.parts, &bad) != 0) {
        snprintf(why, whylen, "bundle is corrupt (%s); download it again", bad);
        return -1;
    }
    return 0;
}

const uint8_t *native_index(size_t *len)
{
    *len = st.parts.index_len;
    return st.parts.index;
}

/* The modules' dictionary (payload_pyz_parts checked its bounds and magic
 * at native_init), made once: 0, or -1 when memory ran out (the next
 * import tries again). */
static int load_dict(void)
{
    if (st.parts.dict && !st.dict && !(st.dict = ZSTD_createDDict(st.parts.dict, st.parts.dict_len)))
        return -1;
    return 0;
}

int native_code(uint64_t off, uint64_t size, const uint8_t **out, size_t *outlen, char *why, size_t whylen)
{
    const uint8_t *p;
    uint64_t n;
    uint8_t *buf;

    if (load_dict() != 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (off > st.pyz_size || size > st.pyz_size - off) {
        snprintf(why, whylen, "bundle is corrupt (module data out of bounds); download it again");
        return -1;
    }
    p = st.pyz + off;
    if (payload_module_frame(p, size, &n) != 0) {
        snprintf(why, whylen, "bundle is corrupt (module size); download it again");
        return -1;
    }
    if (st.busy) {
        /* called again before the code handed out is done with (an import
         * from a __del__ or a weakref callback that ran while Python read
         * it): a buffer of its own, native_code_done frees it */
        buf = malloc(n ? (size_t)n : 1);
    } else {
        if (n > st.cap || !st.buf) {
            size_t cap = n > 256 * 1024 ? (size_t)n : 256 * 1024;
            uint8_t *b = realloc(st.buf, cap);
            if (b) {
                st.buf = b;
                st.cap = cap;
            }
        }
        buf = n <= st.cap ? st.buf : NULL;
    }
    if (!buf) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (entry_frame(p, (size_t)size, st.dict, buf, (size_t)n) != 0) {
        snprintf(why, whylen, errno == ENOMEM ? "out of memory" : "bundle is corrupt (module data); download it again");
        if (buf != st.buf)
            free(buf);
        return -1;
    }
    if (buf == st.buf)
        st.busy = 1;
    *out = buf;
    *outlen = (size_t)n;
    return 0;
}

void native_code_done(const uint8_t *code)
{
    if (code == st.buf)
        st.busy = 0;
    else
        free((void *)code);
}

/* A lazy file's bytes in the bundle. */
/* Lazy file l's entry in the bundle. */
struct lazy_src {
    int fd;                 /* the bundle file, open again */
    const struct stub_file *f;
};

/* Finds lazy file l in the bundle.  Returns 0 (src->fd to close), or -1
 * with why set (the bundle is corrupt, or unreadable). */
static int lazy_find(const struct stub_lazy *l, struct lazy_src *src, char *why, size_t whylen)
{
    const struct stub_table *t;
    int corrupt = 0;
    char reason[STUB_WHY_MAX] = "";

    /* the bundle file again: the app may have closed the stub's fd */
    if ((src->fd = open(stub_exe, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "cannot open the bundle: %s", strerror(errno));
        return -1;
    }
    int saved = st.self->fd;
    st.self->fd = src->fd;
    t = self_files(st.self, reason, sizeof reason, &corrupt);
    st.self->fd = saved;
    src->f = t ? table_find(t, l->rel) : NULL;
    if (!t)
        snprintf(why, whylen, corrupt ? "bundle is corrupt (%s); download it again" : "%s", reason);
    else if (!src->f)
        snprintf(why, whylen, "bundle is corrupt ('%s' is missing); download it again", l->rel);
    else
        return 0;
    close(src->fd);
    return -1;
}

/* why for a failure to copy lazy file l out of the bundle (errno). */
static void copy_failed(const struct stub_lazy *l, const char *where, char *why, size_t whylen)
{
    if (errno == EBADMSG)
        snprintf(why, whylen, "bundle is corrupt ('%s' does not match its checksum); download it again", l->rel);
    else
        snprintf(why, whylen, "cannot unpack '%s' %s: %s", l->rel, where, strerror(errno));
}

/* 1 if the file open as fd holds what lazy file l should (its CRC-32C). */
static int holds(int fd, const struct stub_lazy *l)
{
    struct stat sb;
    void *map;
    int ok;

    if (fstat(fd, &sb) != 0 || sb.st_size <= 0)
        return 0;
    if ((map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        return 0;
    ok = crc32c(0, map, (size_t)sb.st_size) == l->crc;
    munmap(map, (size_t)sb.st_size);
    return ok;
}

/* Loads lazy file l from fd, a checked file of the cache entry: by the
 * fd's /proc name, so what is loaded is the very file that was checked.  A
 * library is then found by its soname by what needs it.  Python's import
 * loads an extension module by its path, which is its __file__: the stub
 * gives that path to the loaded module as a name of its own (dlopen with
 * RTLD_NOLOAD resolves it once, and must find that same module), so that
 * Python's load finds the module by name and opens nothing.  Returns 0
 * (fd closed), -1 with why set, or 2: what the file holds is not the
 * bundle's (replace it). */
static int load_checked(struct stub_lazy *l, int lib, int fd, char *why, size_t whylen)
{
    char *name = fd_path(&fd), *path = NULL;
    void *h;

    if (!name) {
        snprintf(why, whylen, "cannot load %s/%s: %s", st.dir, l->rel, strerror(errno));
        close(fd);
        return -1;
    }
    h = dlopen(name, lib ? RTLD_LAZY | RTLD_LOCAL : RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        /* a copy that is not the bundle's heals; a real error stays */
        char err[STUB_WHY_MAX];
        snprintf(err, sizeof err, "%s", dlerror());
        int damaged = !holds(fd, l);
        close(fd);
        free(name);
        if (damaged)
            return 2;
        if (lib) {
            snprintf(why, whylen, "cannot load %s/%s: %s", st.dir, l->rel, err);
            return -1;
        }
        /* Python's import loads it by its path, and says why it cannot */
        stub_debug("%s: %s", l->rel, err);
    } else {
        l->loaded = 1;
        if (lib) {
            close(fd);
            free(name);
            return 0;
        }
    }
    if (asprintf(&path, "%s/%s", st.dir, l->rel) < 0) {
        path = NULL;
        snprintf(why, whylen, "out of memory");
    } else if (h && dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD) != h) {
        /* the path leads elsewhere now: Python gets the fd's name (kept open) */
        stub_debug("%s changed after it was checked: loaded by its fd", path);
        free(path);
        l->path = name;
        return 0;
    }
    if (h) {
        close(fd);
        free(name);
    }
    l->path = path;
    return path ? 0 : -1;
}

/* Lazy file l from the bundle (checked) into the cache entry.  Returns 0
 * (placed, or another start placed its copy), -1 with why set, or 1 with
 * reason set: it cannot be written there. */
static int unpack(const struct stub_lazy *l, char *reason, size_t rlen, char *why, size_t whylen)
{
    struct lazy_src src;
    int r = 0;

    if (lazy_find(l, &src, why, whylen) != 0)
        return -1;
    /* checked against its CRC-32C on the way */
    if (cache_place_file(l->rel, src.fd, src.f, &l->crc) != 0 && errno != EEXIST) {
        if (errno == EBADMSG) {
            copy_failed(l, "", why, whylen);
            r = -1;
        } else {
            snprintf(reason, rlen, "cannot unpack it into the cache: %s", strerror(errno));
            r = 1;
        }
    } else {
        stub_debug("unpacked %s", l->rel);
    }
    close(src.fd);
    return r;
}

/* Lazy file l from the cache entry: there and checked, or (absent, or
 * damaged: a FIFO, a directory, a symlink, short, not what the bundle
 * holds...) unpacked there anew.  Returns 0 (loaded; l->path set for an
 * extension module), -1 with why set, or 1 with reason set: the cache
 * cannot serve it. */
static int from_cache(struct stub_lazy *l, int lib, char *reason, size_t rlen, char *why, size_t whylen)
{
    for (int round = 0;; round++) {
        const char *bad = NULL;
        /* no header check: a file that fails to load is checked against its CRC */
        int fd = cache_open(l->rel, l->size, 0, &bad), r;
        if (fd >= 0) {
            if ((r = load_checked(l, lib, fd, why, whylen)) != 2)
                return r;
            bad = "not what the bundle holds";
        } else if (!bad && errno != ENOENT) {
            snprintf(reason, rlen, "%s", errno == ESTALE ? "the cache entry is gone" : strerror(errno));
            return 1;
        }
        if (round > 0) {
            snprintf(reason, rlen, "the copy unpacked into the cache is %s", bad ? bad : "gone");
            return 1;
        }
        if (bad) {
            stub_debug("%s in the cache entry is %s: replacing it", l->rel, bad);
            if (cache_remove(l->rel) != 0) {
                snprintf(reason, rlen, "it is %s in the cache, and cannot be removed: %s", bad, strerror(errno));
                return 1;
            }
        }
        if ((r = unpack(l, reason, rlen, why, whylen)) != 0)
            return r;
    }
}

/* Lazy file l from the bundle into a memfd. */
static int from_memory(struct stub_lazy *l, int lib, char *why, size_t whylen)
{
    struct lazy_src src;
    char *path;

    if (lazy_find(l, &src, why, whylen) != 0)
        return -1;
    path = memfd_copy(src.fd, src.f, &l->crc, l->rel);
    if (!path)
        copy_failed(l, "into memory", why, whylen);
    close(src.fd);
    if (!path)
        return -1;
    if (lib && !dlopen(path, RTLD_LAZY | RTLD_LOCAL)) {
        snprintf(why, whylen, "cannot load %s: %s", l->rel, dlerror());
        free(path);
        return -1;
    }
    stub_debug("loaded %s from memory", l->rel);
    free(l->path);
    l->path = path; /* the memfd stays open: Python loads it by this name */
    l->loaded = lib;
    return 0;
}

/* Makes lazy file l available: a library loaded, an extension module's
 * path in l->path.  From the cache entry, and whatever goes wrong there
 * (no space left, a read-only file system, the entry removed...), from
 * memory. */
static int ensure(struct stub_lazy *l, int lib, char *why, size_t whylen)
{
    char reason[STUB_WHY_MAX] = "";
    int r;

    if (lib ? l->loaded : l->path != NULL)
        return 0;
    prefetch_claim(st.m, l);
    if (st.dir) {
        if ((r = from_cache(l, lib, reason, sizeof reason, why, whylen)) <= 0)
            return r;
        stub_debug("%s: %s; loading it from memory", l->rel, reason);
    }
    return from_memory(l, lib, why, whylen);
}

int native_path(const char *rel, const char **path, char *why, size_t whylen)
{
    struct stub_lazy *l = manifest_lazy(st.m, rel);

    if (!l) {
        snprintf(why, whylen, "'%s' is not a native file of this bundle", rel);
        return -1;
    }
    for (size_t i = 0; i < l->ndeps; i++) {
        struct stub_lazy *d = manifest_lazy(st.m, l->deps[i]);
        if (!d) {
            snprintf(why, whylen, "'%s' is not a native file of this bundle", l->deps[i]);
            return -1;
        }
        if (ensure(d, 1, why, whylen) != 0)
            return -1;
    }
    if (ensure(l, 0, why, whylen) != 0)
        return -1;
    *path = l->path;
    return 0;
}
