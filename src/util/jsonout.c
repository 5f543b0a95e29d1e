/* jsonout.c - the JSON bundle writes, through jansson (jsonout.h).
 *
 * Why jansson: a Debian package (libjansson-dev), small, C only; it keeps
 * an object's keys in insertion order, and its dump flags (indent, real
 * precision, no key sorting) give the same bytes for the same document.
 */
#include "bundle/util/jsonout.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/util/util.h"

_Static_assert(sizeof(json_int_t) >= sizeof(int64_t), "json_int_t holds every int64_t");

/* JSON_PRESERVE_ORDER is what jansson does anyway since 2.8; said for
 * older ones.  No JSON_SORT_KEYS: the order set is the order written. */
#define DUMP_FLAGS JSON_PRESERVE_ORDER

json_t *jsonout_text(const char *s)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    struct buf b = {0};
    json_t *v;

    if (!s)
        return NULL;
    if (util_utf8_valid(s))
        return json_string(s);
    for (const char *p = s; *p;) {
        size_t n = util_utf8_len(p);
        if (buf_append(&b, n ? p : replacement, n ? n : 3) != 0) {
            buf_release(&b);
            return NULL;
        }
        p += n ? n : 1;
    }
    v = json_stringn(b.data, b.len);
    buf_release(&b);
    return v;
}

json_t *jsonout_number(double v)
{
    if (v == 0)
        v = 0; /* no "-0" */
    if (fabs(v) < 1e15 && v == (double)(json_int_t)v)
        return json_integer((json_int_t)v);
    return json_real(v); /* NULL for NaN and infinities */
}

json_t *jsonout_uint(uint64_t v)
{
    if (v > (uint64_t)INT64_MAX)
        return json_real((double)v);
    return json_integer((json_int_t)v);
}

void jsonout_set(json_t *obj, const char *key, json_t *val, bool *failed)
{
    if (json_object_set_new(obj, key, val) != 0)
        *failed = true;
}

void jsonout_setn(json_t *obj, const char *key, size_t klen, json_t *val, bool *failed)
{
    if (json_object_setn_new(obj, key, klen, val) != 0)
        *failed = true;
}

void jsonout_append(json_t *arr, json_t *val, bool *failed)
{
    if (json_array_append_new(arr, val) != 0)
        *failed = true;
}

/* Whether every real in v reads back as itself from 15 significant digits. */
static bool reals_short(json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;
    char text[40];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach(v, key, m) {
            if (!reals_short(m))
                return false;
        }
        return true;
    case JSON_ARRAY:
        json_array_foreach(v, i, m) {
            if (!reals_short(m))
                return false;
        }
        return true;
    case JSON_REAL:
        snprintf(text, sizeof text, "%.15g", json_real_value(v));
        return strtod(text, NULL) == json_real_value(v);
    default:
        return true;
    }
}

static int to_buf(const char *s, size_t n, void *b)
{
    return buf_append(b, s, n);
}

int jsonout_dump(const json_t *doc, bool indent, char **text, struct err *err)
{
    struct buf b = {0};
    size_t flags = DUMP_FLAGS | (indent ? JSON_INDENT(2) : 0);

    if (!doc)
        return err_set(err, ENOMEM, "cannot build json");
    /* jansson's json_t API takes no const; nothing is changed */
    flags |= JSON_REAL_PRECISION(reals_short((json_t *)doc) ? 15 : 17);
    if (json_dump_callback(doc, to_buf, &b, flags) != 0 || buf_append(&b, "\n", 1) != 0) {
        buf_release(&b);
        return err_set(err, ENOMEM, "cannot write json");
    }
    *text = b.data;
    return 0;
}

int jsonout_print(const json_t *doc, FILE *out, struct err *err)
{
    char *text = NULL;
    int rc = 0;

    if (jsonout_dump(doc, false, &text, err) != 0)
        return -1;
    if (fwrite(text, 1, strlen(text), out) != strlen(text) || fflush(out) != 0)
        rc = err_set(err, errno, "cannot write json");
    free(text);
    return rc;
}
