#include "bundle/collect/pyc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/util/buildcache.h"
#include "bundle/util/sha256.h"
#include "bundle/util/util.h"

/* The batch is cut into at most four runs of about equal source size,
 * compiled by as many forked processes; the results come back in the
 * order given.  A process that dies hands on what it made: the message
 * then names the file it stopped at.  The cut depends on the files only,
 * never on the machine, and a module's bytes do not depend on what was
 * compiled before it. */
static const char compile_script[] =
    "import sys, os, marshal, selectors, hashlib\n"
    "def one(src, dfile):\n"
    "    try:\n"
    "        with open(src, 'rb') as h: source = h.read()\n"
    "        code = marshal.dumps(compile(source, dfile, 'exec', dont_inherit=True))\n"
    "        return b'K', hashlib.sha256(source).digest() + code\n"
    "    except SyntaxError as e:\n"
    "        return b'E', ('%s:%s: %s' % (dfile, e.lineno or 0, e.msg)).encode('utf-8', 'replace')\n"
    "    except Exception as e:\n"
    "        return b'E', ('%s:0: %s' % (dfile, e)).encode('utf-8', 'replace')\n"
    "def run(jobs, w):\n"
    "    for src, dfile in jobs:\n"
    "        tag, body = one(os.fsdecode(src), os.fsdecode(dfile))\n"
    "        w(tag + len(body).to_bytes(8, 'little') + body)\n"
    "f = sys.stdin.buffer.read().split(b'\\0')\n"
    "jobs = [(f[i], f[i + 1]) for i in range(0, len(f) - 1, 2)]\n"
    "def size(j):\n"
    "    try: return os.stat(j[0]).st_size\n"
    "    except OSError: return 0\n"
    "sizes = [size(j) for j in jobs]\n"
    "k = max(1, min(4, len(jobs) // 64))\n"
    "cuts, acc, total = [0], 0, sum(sizes)\n"
    "for i, s in enumerate(sizes):\n"
    "    acc += s\n"
    "    if len(cuts) < k and acc * k >= total * len(cuts): cuts.append(i + 1)\n"
    "cuts.append(len(jobs))\n"
    "out = sys.stdout.buffer\n"
    "if k == 1:\n"
    "    run(jobs, out.write)\n"
    "else:\n"
    "    sel, bufs, pids = selectors.DefaultSelector(), [], []\n"
    "    for c in range(len(cuts) - 1):\n"
    "        r, wfd = os.pipe()\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            code = 1\n"
    "            try:\n"
    "                os.close(r)\n"
    "                with os.fdopen(wfd, 'wb') as w: run(jobs[cuts[c]:cuts[c + 1]], w.write)\n"
    "                code = 0\n"
    "            except BaseException:\n"
    "                import traceback; traceback.print_exc()\n"
    "            finally:\n"
    "                os._exit(code)\n"
    "        os.close(wfd)\n"
    "        pids.append(pid)\n"
    "        bufs.append(bytearray())\n"
    "        sel.register(r, selectors.EVENT_READ, c)\n"
    "    live = len(bufs)\n"
    "    while live:\n"
    "        for key, _ in sel.select():\n"
    "            b = os.read(key.fd, 1 << 20)\n"
    "            if b: bufs[key.data] += b\n"
    "            else: sel.unregister(key.fd); os.close(key.fd); live -= 1\n"
    "    for p, b in zip(pids, bufs):\n"
    "        out.write(b)\n"
    "        if os.waitpid(p, 0)[1]: out.flush(); sys.exit(1)  # what it made, up to the file it stopped at\n"
    "out.flush()\n";

/* The normalised 16-byte header of a .pyc (pyc.h). */
static void header(const struct probe *p, uint32_t size, unsigned char h[16])
{
    memcpy(h, p->magic, 4);
    memset(h + 4, 0, 8);
    for (int i = 0; i < 4; i++)
        h[12 + i] = (unsigned char)(size >> (8 * i));
}

/* The builder's cache (util/buildcache.h) keeps each module's code:
 *   8 bytes  "BNDLPYC1"
 *   32 bytes the SHA-256 of the code
 *   ...      the code (marshal)
 * under the SHA-256 of the recipe, the interpreter (its path, and the
 * identity of its executable and of its libpython, so an upgrade in place
 * of either misses),
 * the options, the name compiled in, and the SHA-256 of the source.  A hit
 * is used only if its code has its SHA-256; the code of a miss is kept
 * under the source the interpreter read.  Bump the recipe when the compile
 * script changes what it makes. */
#define PYC_MAGIC "BNDLPYC1"
#define PYC_RECIPE 1

/* What the code depends on besides the source and its name, or NULL (no
 * cache: the interpreter's files cannot be told apart). */
static char *interp_ident(const struct probe *p, bool debug_ranges)
{
    /* the executable and the shared libpython: either may hold the
     * compiler (Debian's python3 is static, with a libpython beside it) */
    const char *files[2] = {p->executable, p->libpython && *p->libpython ? p->libpython : p->executable};
    struct buf b = {0};
    char *s = NULL;
    bool ok = buf_printf(&b, "bundle pyc recipe %d\n%d.%d.%d %02x%02x%02x%02x %s\n", PYC_RECIPE, p->major, p->minor,
                         p->micro, p->magic[0], p->magic[1], p->magic[2], p->magic[3],
                         debug_ranges ? "debug_ranges" : "no_debug_ranges") == 0;
    for (int i = 0; i < 2 && ok; i++) {
        struct stat st; /* followed: the file itself */
        ok = files[i] && stat(files[i], &st) == 0 &&
             buf_printf(&b, "%s %llu %llu %lld %lld.%09ld\n", files[i], (unsigned long long)st.st_dev,
                        (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                        st.st_mtim.tv_nsec) == 0;
    }
    if (ok)
        s = strdup(b.data);
    buf_release(&b);
    return s; /* NULL: no cache for this build */
}

static void pyc_key(const char *ident, const struct pyc_job *j, const uint8_t source[SHA256_LEN],
                    uint8_t key[SHA256_LEN])
{
    struct sha256 h;
    const char *dfile = j->dfile ? j->dfile : j->src;

    sha256_init(&h);
    sha256_update(&h, ident, strlen(ident));
    sha256_update(&h, dfile, strlen(dfile) + 1);
    sha256_update(&h, source, SHA256_LEN);
    sha256_final(&h, key);
}

/* Fills job j from the cache: 0, or -1 (a miss). */
static int from_cache(const struct buildcache *c, const char *ident, const struct probe *p, struct pyc_job *j)
{
    uint8_t source[SHA256_LEN], key[SHA256_LEN], want[SHA256_LEN], got[SHA256_LEN];
    char *text = NULL, *data = NULL;
    size_t len = 0;
    off_t size;
    struct err e;
    int fd = -1, rc = -1;

    if (util_read_file(j->src, 256u << 20, &text, &len, &e) != 0)
        return -1;
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, text, len);
    sha256_final(&h, source);
    free(text);
    pyc_key(ident, j, source, key);
    if ((fd = buildcache_find(c, key, PYC_MAGIC, &size)) < 0)
        return -1;
    /* malformed (short, cut, not its code's SHA-256): removed, this build
     * makes it again; no memory for it: a miss */
    bool bad = size <= 8 + SHA256_LEN || size - 8 - SHA256_LEN > (off_t)(256u << 20);
    size_t clen = bad ? 0 : (size_t)size - 8 - SHA256_LEN;
    if (bad || !(data = malloc(16 + clen)))
        goto out;
    bad = pread(fd, want, SHA256_LEN, 8) != SHA256_LEN || pread(fd, data + 16, clen, 8 + SHA256_LEN) != (ssize_t)clen;
    if (!bad) {
        sha256_init(&h);
        sha256_update(&h, data + 16, clen);
        sha256_final(&h, got);
        bad = memcmp(got, want, SHA256_LEN) != 0;
    }
    if (bad)
        goto out;
    header(p, (uint32_t)len, (unsigned char *)data);
    j->data = data;
    j->len = 16 + clen;
    j->cached = true;
    data = NULL;
    buildcache_used(fd);
    rc = 0;
out:
    if (bad)
        buildcache_drop(c, key);
    free(data);
    close(fd);
    return rc;
}

/* Keeps the code of job j, compiled from the source whose SHA-256 the
 * interpreter gave. */
static void to_cache(const struct buildcache *c, const char *ident, const struct pyc_job *j,
                     const uint8_t source[SHA256_LEN])
{
    uint8_t key[SHA256_LEN], sum[SHA256_LEN];
    struct sha256 h;

    pyc_key(ident, j, source, key);
    sha256_init(&h);
    sha256_update(&h, j->data + 16, j->len - 16);
    sha256_final(&h, sum);
    buildcache_put(c, key, PYC_MAGIC, sum, sizeof sum, j->data + 16, j->len - 16);
}


static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Reuses dir/__pycache__/name.<tag>.pyc if it is valid for src. */
static int try_reuse(const struct probe *p, struct pyc_job *j)
{
    struct stat st;
    const char *slash = strrchr(j->src, '/');
    size_t dlen = slash ? (size_t)(slash - j->src) : 0;
    const char *base = slash ? slash + 1 : j->src;
    size_t blen = strlen(base);
    char *pyc = NULL, *data = NULL;
    size_t len = 0;
    struct err e;

    if (!p->cache_tag || !*p->cache_tag || blen < 4 || strcmp(base + blen - 3, ".py") != 0)
        return -1;
    if (stat(j->src, &st) != 0)
        return -1;
    if (asprintf(&pyc, "%.*s/__pycache__/%.*s.%s.pyc", (int)dlen, j->src, (int)(blen - 3), base,
                 p->cache_tag) < 0)
        return -1;
    int rc = util_read_file(pyc, 256u << 20, &data, &len, &e);
    free(pyc);
    if (rc != 0)
        return -1;
    if (len < 16 || memcmp(data, p->magic, 4) != 0 || le32((unsigned char *)data + 4) != 0 ||
        le32((unsigned char *)data + 8) != (uint32_t)st.st_mtime ||
        le32((unsigned char *)data + 12) != (uint32_t)st.st_size) {
        free(data);
        return -1;
    }
    header(p, (uint32_t)st.st_size, (unsigned char *)data);
    j->data = data;
    j->len = len;
    j->reused = true;
    return 0;
}

int pyc_build(const struct probe *p, bool debug_ranges, struct pyc_job *jobs, size_t n, struct err *err)
{
    struct buf in = {0}, out = {0}, errout = {0};
    size_t *todo = malloc((n ? n : 1) * sizeof *todo), ntodo = 0;
    /* every interpreter since 3.6 takes an -X it does not know */
    char *argv[8], **a = argv;
    *a++ = p->executable, *a++ = "-I", *a++ = "-S";
    if (!debug_ranges)
        *a++ = "-X", *a++ = "no_debug_ranges";
    *a++ = "-c", *a++ = (char *)compile_script, *a = NULL;
    /* __pycache__ holds the column table, made by a plain import */
    bool reuse = debug_ranges || p->major < 3 || (p->major == 3 && p->minor < 11);
    int status, rc = -1;
    struct buildcache cache;
    char *ident = NULL;

    if (!todo)
        return err_set(err, ENOMEM, "out of memory");
    buildcache_open(&cache);
    if (cache.dirfd >= 0)
        ident = interp_ident(p, debug_ranges);
    for (size_t i = 0; i < n; i++) {
        if (reuse && !jobs[i].force && try_reuse(p, &jobs[i]) == 0)
            continue;
        if (ident && from_cache(&cache, ident, p, &jobs[i]) == 0)
            continue;
        todo[ntodo++] = i;
        const char *dfile = jobs[i].dfile ? jobs[i].dfile : jobs[i].src;
        if (buf_append(&in, jobs[i].src, strlen(jobs[i].src) + 1) != 0 ||
            buf_append(&in, dfile, strlen(dfile) + 1) != 0) {
            err_set(err, ENOMEM, "out of memory");
            goto out;
        }
    }
    if (ntodo == 0) {
        rc = 0;
        goto out;
    }
    if (util_run(argv, in.data, in.len, &out, &errout, &status, err) != 0)
        goto out;
    size_t pos = 0;
    for (size_t k = 0; k < ntodo; k++) {
        struct pyc_job *j = &jobs[todo[k]];
        uint64_t blen = 0;
        if (out.len - pos < 9)
            break;
        for (int b = 0; b < 8; b++)
            blen |= (uint64_t)(unsigned char)out.data[pos + 1 + b] << (8 * b);
        if (blen > out.len - pos - 9)
            break;
        const char *body = out.data + pos + 9;
        if (out.data[pos] == 'K') {
            struct stat st;
            /* the SHA-256 of the source it read, then the code */
            if (blen < SHA256_LEN)
                break;
            j->data = malloc(16 + blen - SHA256_LEN);
            if (!j->data) {
                err_set(err, ENOMEM, "out of memory");
                goto out;
            }
            header(p, stat(j->src, &st) == 0 ? (uint32_t)st.st_size : 0, (unsigned char *)j->data);
            memcpy(j->data + 16, body + SHA256_LEN, blen - SHA256_LEN);
            j->len = 16 + blen - SHA256_LEN;
            if (ident)
                to_cache(&cache, ident, j, (const uint8_t *)body);
        } else {
            j->error = strndup(body, blen);
        }
        pos += 9 + blen;
    }
    for (size_t k = 0; k < ntodo; k++) {
        if (!jobs[todo[k]].data && !jobs[todo[k]].error) {
            err_set(err, 0, "the interpreter stopped compiling at '%s' (exit status %d)%s%.200s",
                    jobs[todo[k]].src, status, errout.len ? ": " : "", errout.len ? errout.data : "");
            goto out;
        }
    }
    rc = 0;
out:
    free(ident);
    buildcache_close(&cache);
    free(todo);
    buf_release(&in);
    buf_release(&out);
    buf_release(&errout);
    return rc;
}

void pyc_jobs_release(struct pyc_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].data);
        free(jobs[i].error);
        jobs[i].data = jobs[i].error = NULL;
    }
}
