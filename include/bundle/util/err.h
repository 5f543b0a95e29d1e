/* err.h - the one error convention of bundle.
 *
 * Functions below main() return 0 on success and -1 on failure, after filling
 * a struct err with a one-line, lower-case message that has no trailing full
 * stop.  main() prints it once, prefixed by the program name:
 *     bundle: cannot open 'app.py': No such file or directory
 */
#ifndef BUNDLE_ERR_H
#define BUNDLE_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 1024

struct err {
    int errnum;            /* errno of the failure, 0 if none */
    int status;            /* exit status the failure asks for: 1 failure, 2 usage */
    char msg[ERR_MSG_MAX]; /* the message, without the "bundle: " prefix */
};

/* Formats the message; when errnum != 0 appends ": strerror(errnum)".
 * Sets status to 1.  Always returns -1, so callers can
 *     return err_set(err, errno, "cannot open '%s'", path); */
int err_set(struct err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same as err_set, with exit status 2 (the command line must change). */
int err_usage(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends "PREFIX: " to an existing message (adds context on the way up). */
int err_prefix(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
