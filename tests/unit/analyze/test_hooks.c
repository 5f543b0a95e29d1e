/* test_hooks.c - the hidden-import table: sorted (hooks_find is a binary
 * search), every entry findable, well-formed names (a module's file name
 * may hold '-': _sysconfigdata__x86_64-linux-gnu). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <string.h>

#include "bundle/analyze/hooks.h"

static int valid_name(const char *s)
{
    if (!s || !*s || *s == '.' || s[strlen(s) - 1] == '.' || strstr(s, ".."))
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
            return 0;
    return 1;
}

static void test_sorted_and_unique(void **state)
{
    (void)state;
    assert_true(hooks_count > 0);
    for (size_t i = 1; i < hooks_count; i++)
        assert_true(strcmp(hooks_table[i - 1].module, hooks_table[i].module) < 0);
}

static void test_every_entry_found(void **state)
{
    (void)state;
    for (size_t i = 0; i < hooks_count; i++) {
        const struct hook *h = hooks_find(hooks_table[i].module);
        assert_non_null(h);
        assert_ptr_equal(h, &hooks_table[i]);
    }
}

static void test_entries_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < hooks_count; i++) {
        const struct hook *h = &hooks_table[i];
        assert_true(valid_name(h->module));
        assert_non_null(h->hidden);
        assert_non_null(h->hidden[0]); /* an entry with nothing to add is noise */
        for (const char *const *m = h->hidden; *m; m++) {
            assert_true(valid_name(*m));
            assert_string_not_equal(*m, h->module);
            for (const char *const *n = m + 1; *n; n++)
                assert_string_not_equal(*m, *n);
        }
    }
}

static void test_not_found(void **state)
{
    (void)state;
    assert_null(hooks_find(""));
    assert_null(hooks_find("no.such.module"));
    assert_null(hooks_find("_sqlite")); /* prefixes do not match */
    assert_null(hooks_find("sqlite3.dump"));
    assert_non_null(hooks_find("_sqlite3"));
    assert_string_equal(hooks_find("_sqlite3")->hidden[0], "sqlite3.dump");
    assert_non_null(hooks_find("time"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_and_unique),
        cmocka_unit_test(test_every_entry_found),
        cmocka_unit_test(test_entries_well_formed),
        cmocka_unit_test(test_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
