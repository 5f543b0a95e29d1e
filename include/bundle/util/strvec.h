/* strvec.h - a growable array of owned C strings (NULL-terminated). */
#ifndef BUNDLE_STRVEC_H
#define BUNDLE_STRVEC_H

#include <stddef.h>

struct strvec {
    char **v;     /* v[n] == NULL whenever v != NULL */
    size_t n;
    size_t cap;
};

#define STRVEC_INIT { NULL, 0, 0 }

/* Appends a copy of s.  Returns 0, or -1 with errno ENOMEM. */
int strvec_push(struct strvec *sv, const char *s);
/* Appends s itself (the vector takes ownership, also on failure). */
int strvec_push_owned(struct strvec *sv, char *s);
/* Drops (and frees) the last k strings, or all there are. */
void strvec_pop(struct strvec *sv, size_t k);
/* Index of s, or -1. */
long strvec_find(const struct strvec *sv, const char *s);
/* Frees every string and the array; leaves an empty vector. */
/* Sorts the strings (strcmp order) and frees the repeats. */
void strvec_sort_unique(struct strvec *sv);
void strvec_release(struct strvec *sv);

#endif
