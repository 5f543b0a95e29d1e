#include "bundle/pyz.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* marshal type codes (Python/marshal.c), stable since marshal version 4 */
#define M_DICT '{'
#define M_NULL '0'
#define M_SHORT_ASCII 'z'
#define M_UNICODE 'u'
#define M_SMALL_TUPLE ')'
#define M_INT 'i'

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static size_t key_size(const char *name)
{
    size_t n = strlen(name);
    return is_ascii(name, n) && n < 256 ? 2 + n : 5 + n;
}

static int put_key(struct buf *b, const char *name)
{
    unsigned char h[5];
    size_t n = strlen(name);
    if (is_ascii(name, n) && n < 256) {
        h[0] = M_SHORT_ASCII;
        h[1] = (unsigned char)n;
        return buf_append(b, h, 2) || buf_append(b, name, n) ? -1 : 0;
    }
    h[0] = M_UNICODE;
    put32(h + 1, (uint32_t)n);
    return buf_append(b, h, 5) || buf_append(b, name, n) ? -1 : 0;
}

static int put_value(struct buf *b, uint32_t off, uint32_t size, uint32_t flags)
{
    unsigned char v[17] = {M_SMALL_TUPLE, 3, M_INT};
    put32(v + 3, off);
    v[7] = M_INT;
    put32(v + 8, size);
    v[12] = M_INT;
    put32(v + 13, flags);
    return buf_append(b, v, sizeof v);
}

int pyz_build(const struct pyz_item *items, size_t n, struct buf *out, struct err *err)
{
    struct buf data = {0};
    uint32_t *offs = calloc(n ? n : 1, sizeof *offs), *sizes = calloc(n ? n : 1, sizeof *sizes);
    size_t index_len = 2; /* '{' ... '0' */
    unsigned char head[4];
    size_t start = out->len;
    int rc = -1;

    if (!offs || !sizes) {
        err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        index_len += key_size(items[i].name) + 17;
    for (size_t i = 0; i < n; i++) {
        offs[i] = (uint32_t)(4 + index_len + data.len);
        if (!items[i].code)
            continue;
        uLongf clen = compressBound((uLong)items[i].len);
        if (buf_reserve(&data, clen) != 0) {
            err_set(err, ENOMEM, "out of memory");
            goto out;
        }
        if (compress2((Bytef *)data.data + data.len, &clen, items[i].code, (uLong)items[i].len, 6) != Z_OK) {
            err_set(err, 0, "cannot compress module %s", items[i].name);
            goto out;
        }
        data.len += clen;
        sizes[i] = (uint32_t)clen;
        if (4 + index_len + data.len > UINT32_MAX) {
            err_set(err, 0, "the bundle's Python modules exceed 4 GiB");
            goto out;
        }
    }
    put32(head, (uint32_t)index_len);
    if (buf_append(out, head, 4) != 0 || buf_append(out, "{", 1) != 0)
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (put_key(out, items[i].name) != 0 || put_value(out, offs[i], sizes[i], items[i].flags) != 0)
            goto oom;
    if (buf_append(out, "0", 1) != 0 || buf_append(out, data.data, data.len) != 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    out->len = start;
    err_set(err, ENOMEM, "out of memory");
out:
    free(offs);
    free(sizes);
    buf_release(&data);
    return rc;
}
