#include "bundle/err.h"

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
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
    return -1;
}
