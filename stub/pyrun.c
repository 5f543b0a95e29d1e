/* pyrun.c - start libpython in this process and run the app.
 *
 * libpython is dlopen'ed from the cache entry after the shared libraries it
 * and the extension modules need (dependencies first: glibc then matches
 * later DT_NEEDED lookups by soname, with no LD_LIBRARY_PATH).  It is
 * configured through the PyConfig API, whose struct layout differs per minor
 * version: the offsets below were read from each version's own headers
 * (cpython/initconfig.h, x86-64, default non-debug, GIL build).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "stub.h"

/* PyStatus has had this layout since 3.8. */
typedef struct {
    int type;
    const char *func;
    const char *err_msg;
    int exitcode;
} py_status;

typedef struct {
    long length;
    wchar_t **items;
} py_wstrlist;

struct config_layout {
    int minor;
    size_t size;
    size_t install_signal_handlers, site_import, write_bytecode, buffered_stdio,
        pathconfig_warnings, program_name, home, module_search_paths_set,
        module_search_paths, executable, run_command;
};

static const struct config_layout layouts[] = {
    {8, 360, 16, 152, 176, 196, 224, 112, 240, 248, 256, 272, 328},
    {9, 392, 16, 152, 176, 196, 224, 112, 240, 248, 256, 272, 336},
    {10, 392, 16, 152, 180, 200, 232, 240, 256, 272, 280, 296, 352},
    {11, 424, 16, 168, 196, 216, 256, 264, 280, 296, 304, 328, 384},
    {12, 432, 16, 176, 204, 224, 268, 272, 288, 304, 312, 336, 392},
    {13, 448, 16, 176, 204, 224, 272, 280, 296, 312, 320, 344, 400},
};

/* PyPreConfig: ten ints, the same from 3.8 to 3.13 on Linux. */
enum { PRE_PARSE_ARGV = 1, PRE_ISOLATED = 2, PRE_USE_ENVIRONMENT = 3, PRE_INTS = 16 };

struct pyapi {
    void (*pre_init_python)(int *);
    py_status (*pre_initialize)(const int *);
    void (*config_init_isolated)(void *);
    py_status (*config_set_bytes_string)(void *, wchar_t **, const char *);
    py_status (*config_set_bytes_argv)(void *, long, char *const *);
    py_status (*wstrlist_append)(py_wstrlist *, const wchar_t *);
    wchar_t *(*decode_locale)(const char *, size_t *);
    void (*mem_raw_free)(void *);
    py_status (*initialize_from_config)(const void *);
    void (*config_clear)(void *);
    int (*run_main)(void);
    void (*exit_status_exception)(py_status);
};

#define SET_INT(cfg, off, v) (*(int *)((char *)(cfg) + (off)) = (v))
#define FIELD(cfg, off) ((void *)((char *)(cfg) + (off)))

static int load_api(void *h, struct pyapi *api, char *why, size_t whylen)
{
    static const char *const names[] = {
        "PyPreConfig_InitPythonConfig", "Py_PreInitialize", "PyConfig_InitIsolatedConfig",
        "PyConfig_SetBytesString", "PyConfig_SetBytesArgv", "PyWideStringList_Append",
        "Py_DecodeLocale", "PyMem_RawFree", "Py_InitializeFromConfig", "PyConfig_Clear",
        "Py_RunMain", "Py_ExitStatusException",
    };
    void **slots = (void **)api;

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        slots[i] = dlsym(h, names[i]);
        if (!slots[i]) {
            snprintf(why, whylen, "libpython lacks %s", names[i]);
            return -1;
        }
    }
    return 0;
}

static void *open_lib(const char *path, int flags, char *why, size_t whylen)
{
    void *h = dlopen(path, flags);
    if (!h)
        snprintf(why, whylen, "cannot load %s: %s", path, dlerror());
    return h;
}

static int failed(py_status st) { return st.type != 0; }

int pyrun(const struct stub_plan *plan, const struct stub_manifest *m, const char *exe,
          const struct payload_trailer *t, int argc, char **argv, char *why, size_t whylen)
{
    const struct config_layout *lay = NULL;
    struct pyapi api;
    int pre[PRE_INTS];
    void *cfg, *h;
    char run[160];
    wchar_t *w;
    py_status st;
    const char *unbuf;

    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (m->py_major == 3 && layouts[i].minor == m->py_minor)
            lay = &layouts[i];
    if (!lay) {
        snprintf(why, whylen, "this stub cannot run Python %d.%d", m->py_major, m->py_minor);
        return -1;
    }
    for (size_t i = 0; i < plan->npreload; i++)
        if (!open_lib(plan->preload[i], RTLD_LAZY | RTLD_LOCAL, why, whylen))
            return -1;
    stub_debug("preloaded %zu shared libraries", plan->npreload);
    h = open_lib(plan->libpython, RTLD_LAZY | RTLD_GLOBAL, why, whylen);
    if (!h || load_api(h, &api, why, whylen) != 0)
        return -1;
    stub_debug("loaded %s", plan->libpython);

    /* Locale as plain python3 -I sets it (LC_CTYPE from the environment, C
     * locale coerced to UTF-8), but no PYTHON* variable is read. */
    memset(pre, 0, sizeof pre);
    api.pre_init_python(pre);
    pre[PRE_PARSE_ARGV] = 0;
    pre[PRE_ISOLATED] = 1;
    pre[PRE_USE_ENVIRONMENT] = 0;
    st = api.pre_initialize(pre);
    if (failed(st))
        api.exit_status_exception(st);

    cfg = calloc(1, 1024);
    if (!cfg) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    /* the start-up module gets the module blob's place in this file */
    snprintf(run, sizeof run, "from " PAYLOAD_BOOT_MODULE " import main\nmain(%llu, %llu, %d)\n",
             (unsigned long long)t->pyz_offset, (unsigned long long)t->pyz_size, plan->extmap_fd);
    api.config_init_isolated(cfg);
    SET_INT(cfg, lay->install_signal_handlers, 1); /* Ctrl-C raises KeyboardInterrupt */
    SET_INT(cfg, lay->site_import, 0);
    SET_INT(cfg, lay->write_bytecode, 0);
    SET_INT(cfg, lay->pathconfig_warnings, 0);
    unbuf = getenv("PYTHONUNBUFFERED");
    if (unbuf && *unbuf)
        SET_INT(cfg, lay->buffered_stdio, 0);
    SET_INT(cfg, lay->module_search_paths_set, 1);
    if (failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->program_name), argc > 0 ? argv[0] : exe)) ||
        /* home set: no ._pth file beside the binary is honoured */
        failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->home), plan->home)) ||
        failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->executable), exe)) ||
        failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->run_command), run)) ||
        failed(st = api.config_set_bytes_argv(cfg, argc, argv)))
        api.exit_status_exception(st);
    for (int i = 0; i < plan->npaths; i++) {
        w = api.decode_locale(plan->paths[i], NULL);
        if (!w) {
            snprintf(why, whylen, "cannot decode path '%s'", plan->paths[i]);
            return -1;
        }
        st = api.wstrlist_append(FIELD(cfg, lay->module_search_paths), w);
        api.mem_raw_free(w);
        if (failed(st))
            api.exit_status_exception(st);
    }
    stub_debug("initializing Python %d.%d", m->py_major, m->py_minor);
    st = api.initialize_from_config(cfg);
    api.config_clear(cfg);
    free(cfg);
    if (failed(st))
        api.exit_status_exception(st);
    stub_debug("running the app");
    return api.run_main();
}
