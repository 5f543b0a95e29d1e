/* test_dists.c - installed distributions (src/analyze/dists*.c): names, entry points,
 * requirements, and a directory of metadata, hostile files included. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/analyze/dists.h"

static void test_normalize(void **state)
{
    static const char *const cases[][2] = {
        {"PyYAML", "pyyaml"}, {"charset-normalizer", "charset_normalizer"}, {"zope.interface", "zope_interface"},
        {"a--b__c..d", "a_b_c_d"}, {"yamllint==1.29.0", "yamllint"}, {"pkg (>=2.0)", "pkg"},
        {"pkg; extra == 'x'", "pkg"}, {"", ""}, {"-lead", "lead"}, {"trail-", "trail"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dists_normalize(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    dists_normalize("averyveryverylongname", out, 5); /* cut, NUL-terminated */
    assert_string_equal(out, "aver");
    dists_normalize("x", out, 0); /* no room: nothing written, no crash */
}

static void test_entry_points(void **state)
{
    struct dist_ep *eps;
    size_t n;
    (void)state;
    assert_int_equal(dists_parse_entry_points("# comment\n[console_scripts]\n  tool = tool.cli:main\n"
                                              "other=other:run [extra]\n; c\n\n[tool.plugins]\n"
                                              "x = pkg.mod\nbad line\n= nothing\n[unclosed\ny = z:w\n",
                                              &eps, &n),
                     0);
    assert_int_equal(n, 3);
    assert_string_equal(eps[0].group, "console_scripts");
    assert_string_equal(eps[0].name, "tool");
    assert_string_equal(eps[0].module, "tool.cli");
    assert_string_equal(eps[0].attr, "main");
    assert_string_equal(eps[1].module, "other");
    assert_string_equal(eps[1].attr, "run");
    assert_string_equal(eps[2].group, "tool.plugins");
    assert_string_equal(eps[2].module, "pkg.mod");
    assert_string_equal(eps[2].attr, "");
    dists_eps_free(eps, n);
    /* nothing before a group, NULL, binary junk */
    assert_int_equal(dists_parse_entry_points("a = b:c\n", &eps, &n), 0);
    assert_int_equal(n, 0);
    dists_eps_free(eps, n);
    assert_int_equal(dists_parse_entry_points(NULL, &eps, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(dists_parse_entry_points("[g]\n\x01\x02=\xff\xfe:\n[\n]\n", &eps, &n), 0);
    dists_eps_free(eps, n);
}

static void test_requires(void **state)
{
    struct strvec v = STRVEC_INIT;
    (void)state;
    assert_int_equal(dists_parse_requires("Name: x\nRequires-Dist: colorama ; platform_system == \"Windows\"\n"
                                          "Requires-Dist: Requests (>=2)\nRequires-Dist: pandas ; extra == 'pd'\n"
                                          "requires-dist: idna\n\nRequires-Dist: in-the-body\n",
                                          false, &v),
                     0);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0], "colorama");
    assert_string_equal(v.v[1], "requests");
    assert_string_equal(v.v[2], "idna");
    strvec_release(&v);
    assert_int_equal(dists_parse_requires("six\nurllib3>=1\n\n[socks]\nPySocks\n[:python_version < \"3.8\"]\n"
                                          "importlib-metadata\n",
                                          true, &v),
                     0);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[2], "importlib_metadata");
    strvec_release(&v);
}

/* Feature extras' requirements; not those of tests, docs, development. */
static void test_extras(void **state)
{
    struct strvec v = STRVEC_INIT;
    (void)state;
    assert_int_equal(dists_parse_extras("Name: x\nRequires-Dist: idna\nRequires-Dist: pandas ; extra == 'pd'\n"
                                        "Requires-Dist: pytest ; extra == \"test\"\n"
                                        "Requires-Dist: Sphinx>=5 ; extra == \"docs\"\n"
                                        "Requires-Dist: numpy ; python_version>'3' and extra=='default'\n"
                                        "Requires-Dist: broken ; extra ==\n\nRequires-Dist: body ; extra == 'x'\n",
                                        false, &v),
                     0);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.v[0], "pandas");
    assert_string_equal(v.v[1], "numpy");
    strvec_release(&v);
    assert_int_equal(dists_parse_extras("six\n[default]\nnumpy>=1.19\nSciPy\n[developer]\nmypy\n[doc]\nsphinx\n"
                                        "[extra:python_version < \"4\"]\nlxml\n[:python_version < \"3.8\"]\nold\n"
                                        "[test]\npytest\n[",
                                        true, &v),
                     0);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0], "numpy");
    assert_string_equal(v.v[1], "scipy");
    assert_string_equal(v.v[2], "lxml");
    strvec_release(&v);
}

static char root[] = "/tmp/test_dists.XXXXXX";

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int rm_one(const char *p, const struct stat *st, int fl, struct FTW *ftw)
{
    (void)st, (void)fl, (void)ftw;
    return remove(p);
}

static void test_load(void **state)
{
    struct dists d;
    struct err err = {0};
    (void)state;
    assert_non_null(mkdtemp(root));
    put("a-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: A-Pkg\nRequires-Dist: b\n\n");
    put("a-1.0.dist-info/top_level.txt", "a_pkg\n_a_c\n");
    put("b-2.egg-info/PKG-INFO", "Name: b\n");
    put("b-2.egg-info/requires.txt", "c\n[extra]\nd\n");
    put("b-2.egg-info/RECORD", "");
    put("c-3.dist-info/RECORD", "cmod.py,sha256=x,1\ncpkg/__init__.py,,\nc-3.dist-info/METADATA,,\n__pycache__/x.pyc,,\n");
    put("junk.dist-info", "a file, not a directory");
    put("a-9.dist-info/METADATA", "Name: a-pkg\n"); /* a second a-pkg: the first wins */
    put("huge-1.dist-info/METADATA", "Name: huge\n");
    /* a distutils egg-info file: its tops are the modules named like it */
    put("Comp-0.29.egg-info", "Metadata-Version: 1.1\nName: Comp\nVersion: 0.29\n");
    put("Comp/__init__.py", "");
    put("comp.py", "");
    put("Lone-1.egg-info", "Name: Lone\n");
    const char *roots[] = {root, "/nonexistent"};
    assert_int_equal(dists_load(&d, roots, 2, &err), 0);
    struct dist *a = dists_by_name(&d, "a_pkg"), *b = dists_by_name(&d, "B"), *c = dists_by_name(&d, "c");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(strstr(a->dir, "a-1.0.dist-info") != NULL);
    assert_ptr_equal(dists_by_top(&d, "_a_c"), a);
    assert_ptr_equal(dists_by_top(&d, "cmod"), c);
    assert_ptr_equal(dists_by_top(&d, "cpkg"), c);
    assert_null(dists_by_top(&d, "__pycache__"));
    assert_null(dists_by_top(&d, "nothing"));
    assert_true(dists_requires(&d, a, c));  /* through b */
    assert_false(dists_requires(&d, c, a));
    assert_false(dists_requires(&d, b, dists_by_name(&d, "huge")));
    struct dist *comp = dists_by_name(&d, "comp"), *lone = dists_by_name(&d, "lone");
    assert_non_null(comp);
    assert_non_null(lone);
    assert_ptr_equal(dists_by_top(&d, "Comp"), comp);
    assert_ptr_equal(dists_by_top(&d, "comp"), comp);
    assert_int_equal(lone->tops.n, 0);
    assert_null(dists_by_name(&d, "junk"));
    dists_release(&d);
    nftw(root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_entry_points),
        cmocka_unit_test(test_requires),
        cmocka_unit_test(test_extras),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
