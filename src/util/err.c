#include "bundle/util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vformat(struct err *err, int errnum, const char *fmt, va_list ap)
{
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
    err->errnum = errnum;
    if (errnum != 0) {
        const char *why = strerror(errnum);
        size_t len = strlen(err->msg), wlen = strlen(why);
        if (len + 3 < sizeof err->msg) {
            memcpy(err->msg + len, ": ", 2);
            len += 2;
            if (wlen > sizeof err->msg - 1 - len)
                wlen = sizeof err->msg - 1 - len;
            memcpy(err->msg + len, why, wlen);
            err->msg[len + wlen] = '\0';
        }
    }
}

int err_set(struct err *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return -1;
    va_start(ap, fmt);
    vformat(err, errnum, fmt, ap);
    va_end(ap);
    err->status = 1;
    return -1;
}

int err_usage(struct err *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return -1;
    va_start(ap, fmt);
    vformat(err, 0, fmt, ap);
    va_end(ap);
    err->status = 2;
    return -1;
}

int err_prefix(struct err *err, const char *fmt, ...)
{
    char head[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;
    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* "%s: %s" into the same-sized buffer; truncation is intended */
    size_t hl = strnlen(head, sizeof err->msg - 1);
    memcpy(err->msg, head, hl);
    err->msg[hl] = '\0';
    if (hl + 3 < sizeof err->msg) {
        size_t ol = strnlen(old, sizeof err->msg - hl - 3);
        memcpy(err->msg + hl, ": ", 2);
        memcpy(err->msg + hl + 2, old, ol);
        err->msg[hl + 2 + ol] = '\0';
    }
    return -1;
}
