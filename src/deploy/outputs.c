/* outputs.c - the Marathon app and Metronome job files beside a bundle:
 * their options checked before any work, then the documents (marathon.c)
 * written atomically once the bundle's size and hash are known. */
#include "../build_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/deploy/marathon.h"
#include "bundle/util/sha256.h"
#include "bundle/util/temp.h"
#include "bundle/util/util.h"

/* The Marathon app the options describe; mem and disk stay 0 when they are
 * to be derived from the bundle's size, binary_path and sha256_hex NULL. */
static void marathon_app_of(const struct build *b, struct marathon_app *app)
{
    memset(app, 0, sizeof *app);
    app->name = util_base_name(b->output);
    app->id = b->o->marathon_id;
    app->url = b->o->url;
    app->cpus = b->o->cpus;
    app->mem = b->o->mem;
    app->disk = b->o->disk;
    app->instances = b->o->instances;
    app->fetch = b->o->fetch;
    app->fetch_cache = b->o->fetch_cache;
    app->health_path = b->o->health_path;
    app->kill_grace = b->o->kill_grace;
    app->env = (const char *const *)b->o->env.v;
    app->nenv = b->o->env.n;
    app->args = b->o->args;
}

/* Marathon options are checked before any work, so a bad one costs nothing:
 * every check the JSON writers make, with the size-derived values left out. */
int check_marathon_opts(struct build *b)
{
    struct marathon_app app;
    if (b->o->no_marathon)
        return 0;
    marathon_app_of(b, &app);
    return marathon_check_app(&app, b->o->metronome, b->err);
}

static int write_json(struct build *b, const char *path, const char *json)
{
    char *tmp = build_strdupf("%s.tmp-XXXXXX", path);
    int fd;
    if (!tmp)
        return err_set(b->err, ENOMEM, "out of memory");
    fd = temp_make_file(tmp, 0, O_CLOEXEC);
    if (fd < 0) {
        free(tmp);
        return err_set(b->err, errno, "cannot write '%s'", path);
    }
    mode_t um = umask(0);
    umask(um);
    /* path stays registered as a temp until the whole build is done */
    if (fchmod(fd, 0666 & ~um) != 0 || util_write_all(fd, json, strlen(json)) != 0 || fsync(fd) != 0 ||
        close(fd) != 0 || temp_rename(tmp, path) != 0) {
        int e = errno;
        temp_remove(tmp);
        free(tmp);
        return err_set(b->err, e, "cannot write '%s'", path);
    }
    free(tmp);
    return 0;
}

/* size: the bundle's, as if nothing in it were compressed (what it weighs
 * in the sandbox once its native parts are unpacked, as the defaults
 * assume: marathon.h). */
int emit_marathon(struct build *b, const uint8_t file_sha[32], uint64_t size)
{
    char hex[65], abs_path[PATH_MAX];
    char *json = NULL;
    struct marathon_app app = {0};
    int rc;

    if (!b->json_path)
        return 0;
    sha256_hex(file_sha, hex);
    if (!realpath(b->output, abs_path))
        return err_set(b->err, errno, "cannot resolve '%s'", b->output);
    marathon_app_of(b, &app);
    app.binary_path = abs_path;
    app.sha256_hex = hex;
    if (app.mem <= 0)
        app.mem = marathon_default_mem(size);
    if (app.disk <= 0)
        app.disk = marathon_default_disk(size);
    if (!b->o->url)
        build_warn(b, 0, "no --url given: %s points at file://%s; pass --url "
                  "https://HOST/PATH/%s for the cluster to download it", b->json_path, abs_path, app.name);
    const struct {
        const char *path;
        int (*make)(const struct marathon_app *, char **, struct err *);
    } docs[] = {{b->json_path, marathon_app_json}, {b->metro_path, marathon_metronome_json}};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        if (!docs[i].path)
            continue; /* no Metronome job asked for */
        if (docs[i].make(&app, &json, b->err) != 0)
            return -1;
        rc = write_json(b, docs[i].path, json);
        free(json);
        if (rc != 0)
            return -1;
    }
    return 0;
}
