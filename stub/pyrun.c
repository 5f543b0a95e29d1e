/* pyrun.c - start libpython in this process and run the app.
 *
 * libpython is dlopen'ed from the cache entry after the shared libraries it
 * needs (dependencies first: glibc then matches later DT_NEEDED lookups by
 * soname, with no LD_LIBRARY_PATH; an extension module's own libraries are
 * loaded when it is first imported, native.c).  It is configured through the
 * PyConfig API, whose struct layout differs per minor version: the offsets
 * below were read from each version's own headers (cpython/initconfig.h,
 * x86-64, default non-debug, GIL build).
 *
 * Initialization runs in two phases (PyConfig._init_main = 0, then
 * _Py_InitializeMain, both since 3.8): in between, the start-up module is
 * executed from the pyz blob and installs its importer, so the modules
 * Python's main phase imports (encodings, io...) come from the blob too and
 * nothing of pure Python needs unpacking.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
        module_search_paths, executable, run_command, init_main;
};

static const struct config_layout layouts[] = {
    {8, 360, 16, 152, 176, 196, 224, 112, 240, 248, 256, 272, 328, 356},
    {9, 392, 16, 152, 176, 196, 224, 112, 240, 248, 256, 272, 336, 364},
    {10, 392, 16, 152, 180, 200, 232, 240, 256, 272, 280, 296, 352, 380},
    {11, 424, 16, 168, 196, 216, 256, 264, 280, 296, 304, 328, 384, 412},
    {12, 432, 16, 176, 204, 224, 268, 272, 288, 304, 312, 336, 392, 420},
    {13, 448, 16, 176, 204, 224, 272, 280, 296, 312, 320, 344, 400, 436},
};

/* PyPreConfig: ten ints, the same from 3.8 to 3.13 on Linux. */
enum { PRE_PARSE_ARGV = 1, PRE_ISOLATED = 2, PRE_USE_ENVIRONMENT = 3, PRE_INTS = 16 };

typedef void pyobj;

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
    py_status (*initialize_main)(void);
    pyobj *(*module_create)(void *, int);
    int (*parse_tuple)(pyobj *, const char *, ...);
    void (*err_set_string)(pyobj *, const char *);
    pyobj **exc_import_error;
    pyobj *(*marshal_loads)(const char *, long);
    pyobj *(*decode_fs)(const char *);
    pyobj *(*add_module)(const char *);
    pyobj *(*import_module)(const char *);
    pyobj *(*module_dict)(pyobj *);
    int (*dict_set)(pyobj *, const char *, pyobj *);
    pyobj *(*dict_get)(pyobj *, const char *);
    pyobj *(*eval_code)(pyobj *, pyobj *, pyobj *);
    void (*err_print)(void);
    void (*decref)(pyobj *);
};

static struct pyapi api;

#define SET_INT(cfg, off, v) (*(int *)((char *)(cfg) + (off)) = (v))
#define FIELD(cfg, off) ((void *)((char *)(cfg) + (off)))

static int load_api(void *h, char *why, size_t whylen)
{
    static const char *const names[] = {
        "PyPreConfig_InitPythonConfig", "Py_PreInitialize", "PyConfig_InitIsolatedConfig",
        "PyConfig_SetBytesString", "PyConfig_SetBytesArgv", "PyWideStringList_Append",
        "Py_DecodeLocale", "PyMem_RawFree", "Py_InitializeFromConfig", "PyConfig_Clear",
        "Py_RunMain", "Py_ExitStatusException", "_Py_InitializeMain", "PyModule_Create2",
        "PyArg_ParseTuple", "PyErr_SetString", "PyExc_ImportError", "PyMarshal_ReadObjectFromString",
        "PyUnicode_DecodeFSDefault", "PyImport_AddModule", "PyImport_ImportModule", "PyModule_GetDict",
        "PyDict_SetItemString", "PyDict_GetItemString", "PyEval_EvalCode", "PyErr_Print", "Py_DecRef",
    };
    void **slots = (void **)&api;

    _Static_assert(sizeof names / sizeof names[0] == sizeof api / sizeof(void *), "one name per slot");
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

/* ---- the start-up module's _native functions (native.c does the work) ---- */

/* PyMethodDef and PyModuleDef, as laid out since 3.0 (GIL builds). */
struct py_method {
    const char *name;
    pyobj *(*fn)(pyobj *, pyobj *);
    int flags;
    const char *doc;
};
enum { METH_VARARGS = 1, PYTHON_API_VERSION = 1013 };
struct py_moduledef {
    intptr_t refcnt;
    void *type, *init;
    intptr_t index;
    void *copy;
    const char *name, *doc;
    intptr_t size;
    struct py_method *methods;
    void *slots, *traverse, *clear, *free;
};

static pyobj *import_error(const char *why)
{
    api.err_set_string(*api.exc_import_error, why);
    return NULL;
}

static pyobj *py_code(pyobj *self, pyobj *args)
{
    unsigned long long off, size;
    const uint8_t *code;
    size_t len;
    char why[STUB_WHY_MAX];
    (void)self;
    if (!api.parse_tuple(args, "KK", &off, &size))
        return NULL;
    if (native_code(off, size, &code, &len, why, sizeof why) != 0)
        return import_error(why);
    pyobj *co = api.marshal_loads((const char *)code, (long)len);
    native_code_done(code);
    return co;
}

static pyobj *py_native(pyobj *self, pyobj *args)
{
    const char *rel, *path;
    char why[STUB_WHY_MAX];
    (void)self;
    if (!api.parse_tuple(args, "s", &rel))
        return NULL;
    if (native_path(rel, &path, why, sizeof why) != 0)
        return import_error(why);
    return api.decode_fs(path);
}

static struct py_method native_methods[] = {
    {"code", py_code, METH_VARARGS, "code(off, size): the code object of a module of the pyz"},
    {"native", py_native, METH_VARARGS, "native(path): a native file's path, unpacked on first use"},
    {NULL, NULL, 0, NULL},
};
static struct py_moduledef native_def = {
    .refcnt = 1, .name = "_bundle_native", .size = -1, .methods = native_methods,
};

/* Runs the start-up module in the core-initialized interpreter: after it,
 * every import (encodings first) goes through its importer. */
static int run_boot(const char *site, char *why, size_t whylen)
{
    const uint8_t *ix, *code;
    size_t ixlen, len;
    unsigned long long off, size;
    unsigned flags;
    pyobj *index, *entry, *co, *mod, *d, *r;

    if (!(ix = native_index(&ixlen)) || !(index = api.marshal_loads((const char *)ix, (long)ixlen)) ||
        !(entry = api.dict_get(index, PAYLOAD_BOOT_MODULE)) ||
        !api.parse_tuple(entry, "KKI", &off, &size, &flags) ||
        native_code(off, size, &code, &len, why, whylen) != 0 ||
        (co = api.marshal_loads((const char *)code, (long)len), native_code_done(code), !co)) {
        if (!why[0])
            snprintf(why, whylen, "bundle is corrupt (module index); download it again");
        return -1;
    }
    pyobj *builtins = api.import_module("builtins");
    pyobj *native = api.module_create(&native_def, PYTHON_API_VERSION);
    pyobj *site_str = api.decode_fs(site);
    if (!builtins || !native || !site_str || !(mod = api.add_module(PAYLOAD_BOOT_MODULE)) ||
        !(d = api.module_dict(mod)) || api.dict_set(d, "__builtins__", builtins) != 0 ||
        api.dict_set(d, "_native", native) != 0 || api.dict_set(d, "_INDEX", index) != 0 ||
        api.dict_set(d, "_SITE", site_str) != 0 || !(r = api.eval_code(co, d, d))) {
        api.err_print();
        snprintf(why, whylen, "the start-up module failed");
        return -1;
    }
    api.decref(r);
    api.decref(co);
    api.decref(index);
    return 0;
}

int pyrun(const struct stub_plan *plan, const struct stub_manifest *m, const char *exe, int argc,
          char **argv, char *why, size_t whylen)
{
    const struct config_layout *lay = NULL;
    int pre[PRE_INTS];
    void *cfg, *h;
    wchar_t *w;
    py_status st;
    const char *unbuf;
    char *site = NULL;

    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (m->py_major == 3 && layouts[i].minor == m->py_minor)
            lay = &layouts[i];
    if (!lay) {
        snprintf(why, whylen, "this stub cannot run Python %d.%d", m->py_major, m->py_minor);
        return -1;
    }
    for (size_t i = 0; i < plan->npreload; i++) {
        if (!open_lib(plan->preload[i], RTLD_LAZY | RTLD_LOCAL, why, whylen))
            return -1;
        if (plan->fds && plan->fds[i] >= 0)
            close(plan->fds[i]); /* loaded: its /proc/self/fd name is never given again */
    }
    stub_debug("preloaded %zu shared libraries", plan->npreload);
    /* linked into this very executable, or a shared library to load */
    h = RTLD_DEFAULT;
    if (plan->libpython) {
        if (!(h = open_lib(plan->libpython, RTLD_LAZY | RTLD_GLOBAL, why, whylen)))
            return -1;
        if (plan->fds && plan->fds[plan->npreload] >= 0)
            close(plan->fds[plan->npreload]);
    }
    if (load_api(h, why, whylen) != 0)
        return -1;
    stub_debug("loaded %s", plan->libpython ? plan->libpython : "libpython (linked in)");
    /* sys._MEIPASS: site/ of the cache entry; in memory mode, a path that
     * names the bundle's own site/ entries */
    if (plan->site ? !(site = strdup(plan->site)) : asprintf(&site, "%s/_native/site", exe) < 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }

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
        free(site);
        return -1;
    }
    api.config_init_isolated(cfg);
    SET_INT(cfg, lay->install_signal_handlers, 1); /* Ctrl-C raises KeyboardInterrupt */
    SET_INT(cfg, lay->site_import, 0);
    SET_INT(cfg, lay->write_bytecode, 0);
    SET_INT(cfg, lay->pathconfig_warnings, 0);
    SET_INT(cfg, lay->init_main, 0); /* the start-up module runs in between */
    unbuf = getenv("PYTHONUNBUFFERED");
    if (unbuf && *unbuf)
        SET_INT(cfg, lay->buffered_stdio, 0);
    SET_INT(cfg, lay->module_search_paths_set, 1);
    if (failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->program_name), argc > 0 ? argv[0] : exe)) ||
        /* home set: no ._pth file beside the binary is honoured */
        failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->home), plan->home)) ||
        failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->executable), exe)) ||
        failed(st = api.config_set_bytes_string(cfg, FIELD(cfg, lay->run_command),
                                                "from " PAYLOAD_BOOT_MODULE " import main\nmain()\n")) ||
        failed(st = api.config_set_bytes_argv(cfg, argc, argv)))
        api.exit_status_exception(st);
    /* sys.path: site/ (what PyInstaller-era apps expect); nothing in memory
     * mode, where every module comes from the start-up module's importer */
    if (plan->site) {
        w = api.decode_locale(plan->site, NULL);
        if (!w) {
            snprintf(why, whylen, "cannot decode path '%s'", plan->site);
            free(site);
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
    if (run_boot(site, why, whylen) != 0) {
        free(site);
        return -1;
    }
    free(site);
    st = api.initialize_main();
    if (failed(st))
        api.exit_status_exception(st);
    stub_debug("running the app");
    return api.run_main();
}
