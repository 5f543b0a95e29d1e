/* json_alloc.h - a counting, failing allocator for jansson, for the tests of
 * the JSON bundle writes: json_alloc_fail_after(n) makes jansson's n-th
 * allocation from now fail (0: the next one; -1: none), and json_alloc_live
 * counts its blocks not yet freed (0 after every document is released: no
 * leak, with or without sanitizers).  Install it before the first jansson
 * value of a test is made, so that every block it frees was counted. */
#ifndef TEST_JSON_ALLOC_H
#define TEST_JSON_ALLOC_H

#include <jansson.h>
#include <stdlib.h>

static long json_alloc_live;
static long json_alloc_fail_in = -1;

static void *json_alloc_malloc(size_t n)
{
    void *p;
    if (json_alloc_fail_in == 0)
        return NULL;
    if (json_alloc_fail_in > 0)
        json_alloc_fail_in--;
    p = malloc(n);
    if (p)
        json_alloc_live++;
    return p;
}

static void json_alloc_free(void *p)
{
    if (p)
        json_alloc_live--;
    free(p);
}

static void json_alloc_fail_after(long n)
{
    json_set_alloc_funcs(json_alloc_malloc, json_alloc_free);
    json_alloc_fail_in = n;
}

#endif
