/* test_jsonout.c - the helpers every JSON bundle writes goes through
 * (src/util/jsonout.c): text that is not UTF-8, numbers and their types,
 * the two layouts, stable output, and failures (allocation, a full disk).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/util/jsonout.h"
#include "json_alloc.h"

/* v dumped on one line, without the newline */
static char *dumped(json_t *v)
{
    json_t *doc = json_array();
    char *text = NULL;
    struct err err = {0};
    bool failed = false;
    jsonout_append(doc, v, &failed);
    assert_false(failed);
    assert_int_equal(jsonout_dump(doc, false, &text, &err), 0);
    json_decref(doc);
    size_t n = strlen(text);
    assert_true(n >= 3 && text[0] == '[' && text[n - 2] == ']' && text[n - 1] == '\n');
    memmove(text, text + 1, n - 3);
    text[n - 3] = '\0';
    return text;
}

static void check_dump(json_t *v, const char *want)
{
    char *text = dumped(v);
    if (strcmp(text, want) != 0)
        fail_msg("dumped %s, want %s", text, want);
    free(text);
}

static void test_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "\"\""},
        {"plain", "\"plain\""},
        {"q\"b\\s/", "\"q\\\"b\\\\s/\""},
        {"\x01\x1f\n\t\x7f", "\"\\u0001\\u001F\\n\\t\x7f\""},
        {"h\xc3\xa9 \xf0\x9f\x98\x80", "\"h\xc3\xa9 \xf0\x9f\x98\x80\""},
        /* each stray byte is one U+FFFD, what follows it is kept */
        {"a\xff" "b", "\"a\xef\xbf\xbd" "b\""},
        {"\xc0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\""},             /* overlong NUL */
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate */
        {"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* > U+10FFFF */
        {"\xe2\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\""},             /* cut short */
        {"\xe2\x82\"", "\"\xef\xbf\xbd\xef\xbf\xbd\\\"\""},       /* cut short by a quote */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_dump(jsonout_text(cases[i].in), cases[i].out);
    assert_null(jsonout_text(NULL));
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},           {-0.0, "0"},       {128, "128"},   {-3, "-3"},
        {0.1, "0.1"},       {1.5, "1.5"},      {1e-7, "1e-7"}, {999999999999999, "999999999999999"},
        {1e15, "1e15"},     {0.001, "0.001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *v = jsonout_number(cases[i].v);
        assert_true(json_is_integer(v) == (strpbrk(cases[i].want, ".e") == NULL));
        check_dump(v, cases[i].want);
    }
    assert_null(jsonout_number(NAN));
    assert_null(jsonout_number(INFINITY));
    check_dump(jsonout_uint(0), "0");
    check_dump(jsonout_uint(INT64_MAX), "9223372036854775807");
    json_t *big = jsonout_uint(UINT64_MAX);
    assert_true(json_is_real(big) && json_real_value(big) == (double)UINT64_MAX);
    json_decref(big);
}

/* 15 significant digits while every real of the document reads back from
 * them; 17 for the whole document once one does not. */
static void test_precision(void **state)
{
    (void)state;
    json_t *doc = json_object();
    bool failed = false;
    char *text = NULL;
    struct err err = {0};
    json_error_t je;

    jsonout_set(doc, "a", jsonout_number(0.1), &failed);
    jsonout_set(doc, "b", jsonout_number(1073741823.999), &failed);
    assert_false(failed);
    assert_int_equal(jsonout_dump(doc, false, &text, &err), 0);
    assert_string_equal(text, "{\"a\": 0.1, \"b\": 1073741823.999}\n");
    free(text);
    jsonout_set(doc, "c", jsonout_number(0.1 + 0.2), &failed);
    assert_int_equal(jsonout_dump(doc, false, &text, &err), 0);
    assert_string_equal(text, "{\"a\": 0.10000000000000001, \"b\": 1073741823.999, \"c\": 0.30000000000000004}\n");
    json_t *back = json_loads(text, 0, &je);
    assert_non_null(back);
    assert_true(json_equal(back, doc)); /* every number reads back as itself */
    json_decref(back);
    free(text);
    json_decref(doc);
}

/* Keys in the order set, the two layouts, the same bytes every time. */
static void test_layout(void **state)
{
    (void)state;
    json_t *doc = json_object(), *inner = json_object(), *list = json_array();
    bool failed = false;
    char *one = NULL, *two = NULL;
    struct err err = {0};

    jsonout_set(doc, "z", json_integer(1), &failed);
    jsonout_set(inner, "y", json_true(), &failed);
    jsonout_set(doc, "inner", inner, &failed);
    jsonout_append(list, json_string("x"), &failed);
    jsonout_set(doc, "list", list, &failed);
    jsonout_set(doc, "empty", json_object(), &failed);
    jsonout_setn(doc, "ab", 1, json_null(), &failed);
    assert_false(failed);
    assert_int_equal(jsonout_dump(doc, true, &one, &err), 0);
    assert_string_equal(one, "{\n"
                             "  \"z\": 1,\n"
                             "  \"inner\": {\n"
                             "    \"y\": true\n"
                             "  },\n"
                             "  \"list\": [\n"
                             "    \"x\"\n"
                             "  ],\n"
                             "  \"empty\": {},\n"
                             "  \"a\": null\n"
                             "}\n");
    assert_int_equal(jsonout_dump(doc, false, &two, &err), 0);
    assert_string_equal(two, "{\"z\": 1, \"inner\": {\"y\": true}, \"list\": [\"x\"], \"empty\": {}, \"a\": null}\n");
    free(two);
    assert_int_equal(jsonout_dump(doc, true, &two, &err), 0);
    assert_string_equal(one, two);
    free(one);
    free(two);
    json_decref(doc);
}

/* A NULL value, a NULL container or a key that is not UTF-8: *failed, and
 * the value is freed; a document whose building failed is not dumped. */
static void test_failures(void **state)
{
    (void)state;
    bool failed = false;
    char *text = NULL;
    struct err err = {0};

    json_alloc_fail_after(-1);
    jsonout_set(NULL, "k", json_string("v"), &failed);
    assert_true(failed);
    failed = false;
    jsonout_append(NULL, json_string("v"), &failed);
    assert_true(failed);
    failed = false;
    json_t *doc = json_object();
    jsonout_set(doc, "k", NULL, &failed);
    assert_true(failed);
    failed = false;
    jsonout_set(doc, "k\xff", json_string("v"), &failed);
    assert_true(failed);
    json_decref(doc);
    assert_int_equal(json_alloc_live, 0);

    assert_int_equal(jsonout_dump(NULL, true, &text, &err), -1);
    assert_int_equal(err.errnum, ENOMEM);
    assert_null(text);

    /* every allocation of building and dumping failing in turn */
    for (long n = 0;; n++) {
        json_alloc_fail_after(n);
        failed = false;
        doc = json_object();
        jsonout_set(doc, "name", jsonout_text("a\xff"), &failed);
        jsonout_set(doc, "n", jsonout_number(0.5), &failed);
        int rc = failed ? -1 : jsonout_dump(doc, true, &text, &err);
        json_decref(doc);
        json_alloc_fail_after(-1);
        assert_int_equal(json_alloc_live, 0);
        if (rc == 0) {
            assert_string_equal(text, "{\n  \"name\": \"a\xef\xbf\xbd\",\n  \"n\": 0.5\n}\n");
            free(text);
            break;
        }
    }
    json_set_alloc_funcs(malloc, free);
}

/* jsonout_print: one line; a stream that cannot be written is an error. */
static void test_print(void **state)
{
    (void)state;
    json_t *doc = json_object();
    bool failed = false;
    struct err err = {0};
    char *text = NULL;
    size_t len = 0;

    jsonout_set(doc, "ok", json_true(), &failed);
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(jsonout_print(doc, out, &err), 0);
    fclose(out);
    assert_string_equal(text, "{\"ok\": true}\n");
    free(text);
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(jsonout_print(doc, full, &err), -1);
        assert_int_equal(err.errnum, ENOSPC);
        fclose(full);
    }
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
