/* entry.c - the app's entry script when the user gives none: the one
 * written for --entry MOD[:FUNC] or for a console script an installed
 * distribution declares, and the modules --entry MOD brings. */
#include "../build_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/cli/cli.h"
#include "bundle/analyze/dists.h"
#include "bundle/analyze/resolve.h"
#include "bundle/util/temp.h"
#include "bundle/util/util.h"

/* Writes the entry script that runs MOD:FUNC (FUNC NULL: MOD as __main__,
 * as python -m does) into a private temp dir, under a name without ".py"
 * so it shadows no module.  mod and func are dotted names (checked). */
static int make_entry_script(struct build *b, const char *mod, size_t modlen, const char *func, const char *name)
{
    struct buf src = {0};
    int fd = -1, rc = -1;

    b->entry_dir = build_strdupf("%s/bundle-entry-XXXXXX", temp_dir());
    if (!b->entry_dir || !temp_make_dir(b->entry_dir)) {
        free(b->entry_dir);
        b->entry_dir = NULL;
        return err_set(b->err, errno, "cannot create a temp dir in %s", temp_dir());
    }
    if (!(b->entry_file = util_join(b->entry_dir, name)) || !(b->entry_name = strdup(name)))
        return err_set(b->err, ENOMEM, "out of memory");
    if (!(b->entry_target = strndup(mod, modlen)))
        return err_set(b->err, ENOMEM, "out of memory");
    if (func) {
        size_t head = strcspn(func, ".");
        buf_printf(&src, "import sys\nfrom %.*s import %.*s as _entry\nsys.exit(_entry%s())\n", (int)modlen, mod,
                   (int)head, func, func + head);
    } else {
        /* the -m way; sys.argv stays what was typed */
        buf_printf(&src, "import runpy\nrunpy._run_module_as_main('%.*s', alter_argv=False)\n", (int)modlen, mod);
        if (!(b->entry_module = strndup(mod, modlen)))
            return err_set(b->err, ENOMEM, "out of memory");
    }
    if (!src.data)
        return err_set(b->err, ENOMEM, "out of memory");
    fd = open(b->entry_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || util_write_all(fd, src.data, src.len) != 0)
        err_set(b->err, errno, "cannot write '%s'", b->entry_file);
    else
        rc = 0;
    if (fd >= 0)
        close(fd);
    buf_release(&src);
    b->script = b->entry_file;
    return rc;
}

/* --entry MOD[:FUNC]: the app's name is MOD's first part. */
int entry_of_option(struct build *b)
{
    const char *e = b->o->entry, *colon = strchr(e, ':');
    size_t ml = colon ? (size_t)(colon - e) : strlen(e);
    char *name = strndup(e, strcspn(e, ".:"));
    int rc = name ? make_entry_script(b, e, ml, colon ? colon + 1 : NULL, name) : err_set(b->err, ENOMEM, "out of memory");
    free(name);
    return rc;
}

/* Whether s could name a console script: letters, digits, '-', '_', '.',
 * not a path and not a .py file. */
bool entry_command_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || (n > 3 && strcmp(s + n - 3, ".py") == 0) || s[0] == '.' || s[0] == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.", *p)))
            return false;
    return true;
}

/* SCRIPT names no file: a console script that an installed distribution
 * declares (bundle --onefile yamllint), as pipx and shiv -c take it. */
int entry_of_command(struct build *b)
{
    struct dists ds;
    const char *cmd = b->o->script;
    int rc = -1;

    if (dists_load(&ds, (const char *const *)b->probe.path.v, b->probe.path.n, b->err) != 0)
        goto out;
    for (size_t i = 0; i < ds.n; i++)
        for (size_t k = 0; k < ds.v[i].neps; k++) {
            const struct dist_ep *ep = &ds.v[i].eps[k];
            if (strcmp(ep->group, "console_scripts") != 0 || strcmp(ep->name, cmd) != 0)
                continue;
            if (!cli_dotted_name(ep->module, strlen(ep->module)) ||
                (ep->attr[0] && !cli_dotted_name(ep->attr, strlen(ep->attr)))) {
                err_usage(b->err, "console script '%s' of %s names '%s:%s', which is no module and function", cmd,
                          ds.v[i].dir, ep->module, ep->attr);
                goto out;
            }
            build_say(b, 1, "console script %s: %s:%s of %s", cmd, ep->module, ep->attr, ds.v[i].dir);
            rc = make_entry_script(b, ep->module, strlen(ep->module), ep->attr[0] ? ep->attr : NULL, cmd);
            goto out;
        }
    err_usage(b->err, "cannot open '%s': no such file, and no package installed for %s declares a console "
              "script of that name", cmd, b->probe.executable);
out:
    dists_release(&ds);
    return rc;
}

/* --entry MOD: MOD, and MOD.__main__ when it is a package, as -m runs it. */
int add_entry_module(struct build *b)
{
    char *main_mod = build_strdupf("%s.__main__", b->entry_module);
    long idx;
    int rc = -1;
    if (!main_mod)
        return err_set(b->err, ENOMEM, "out of memory");
    if (resolve_add(&b->graph, b->entry_module, b->err) != 0)
        goto out;
    idx = graph_find(&b->graph, b->entry_module);
    if (idx < 0 || b->graph.mods[idx].kind == MOD_MISSING) {
        err_usage(b->err, "--entry %s: no such module on the interpreter's sys.path", b->entry_module);
        goto out;
    }
    if (b->graph.mods[idx].kind == MOD_PACKAGE || b->graph.mods[idx].kind == MOD_NAMESPACE) {
        if (resolve_add(&b->graph, main_mod, b->err) != 0)
            goto out;
        idx = graph_find(&b->graph, main_mod);
        if (idx < 0 || b->graph.mods[idx].kind == MOD_MISSING) {
            err_usage(b->err, "--entry %s: a package without __main__; give MODULE:FUNCTION", b->entry_module);
            goto out;
        }
    }
    rc = 0;
out:
    free(main_mod);
    return rc;
}
