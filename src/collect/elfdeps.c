/* elfdeps.c - read what ELF objects need and find it the way ld.so does.
 *
 * The reader trusts nothing in the file: it goes through PT_DYNAMIC, as the
 * loader does, maps every address through the PT_LOAD segments, asks libelf
 * for byte ranges it has checked against the file size, and reads every
 * string through str_at(), which refuses an offset past the string table or
 * a string without its NUL inside the table.
 */
#include "bundle/elfdeps.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/strvec.h"

/* ---- what this host's ld.so loads ---------------------------------------- */

/* The one place that knows the architecture: the machine this build runs on
 * and the names its glibc uses.  An unknown machine accepts any e_machine. */
#if defined(__x86_64__) && defined(__ILP32__)
#define HOST_MACHINE EM_X86_64
#define HOST_PLATFORM "x86_64"
#define HOST_MULTIARCH "x86_64-linux-gnux32"
#elif defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#define HOST_PLATFORM "x86_64"
#define HOST_MULTIARCH "x86_64-linux-gnu"
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#define HOST_PLATFORM "i686"
#define HOST_MULTIARCH "i386-linux-gnu"
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#define HOST_PLATFORM "aarch64"
#define HOST_MULTIARCH "aarch64-linux-gnu"
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#define HOST_PLATFORM "v7l"
#define HOST_MULTIARCH "arm-linux-gnueabihf"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_MACHINE EM_RISCV
#define HOST_PLATFORM "riscv64"
#define HOST_MULTIARCH "riscv64-linux-gnu"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_MACHINE EM_PPC64
#define HOST_PLATFORM "power8"
#define HOST_MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#define HOST_PLATFORM "z13"
#define HOST_MULTIARCH "s390x-linux-gnu"
#else
#define HOST_MACHINE EM_NONE
#define HOST_PLATFORM ""
#define HOST_MULTIARCH ""
#endif

#if __SIZEOF_POINTER__ == 8
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

/* Where ld.so looks after the paths of the objects and of ld.so.cache. */
static const char *const default_dirs[] = {
    "/lib/" HOST_MULTIARCH, "/usr/lib/" HOST_MULTIARCH,
    "/lib64", "/usr/lib64", "/lib", "/usr/lib",
};

#define LD_SO_CONF "/etc/ld.so.conf"
#define LD_SO_CONF_DEPTH 8 /* include nesting; stops include loops */

/* ---- the host base ------------------------------------------------------- */

int elfdeps_is_host_base(const char *soname)
{
    static const char *const exact[] = {
        "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2",
        "librt.so.1", "libutil.so.1", "libresolv.so.2", "libnsl.so.1",
        "libanl.so.1", "libmvec.so.1", "libBrokenLocale.so.1",
        "libthread_db.so.1",
    };
    const char *base;

    if (!soname)
        return 0;
    /* A path to glibc is still glibc: the host has its own. */
    base = strrchr(soname, '/');
    base = base ? base + 1 : soname;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(base, exact[i]) == 0)
            return 1;
    if (strncmp(base, "libnss_", 7) == 0 || strncmp(base, "linux-vdso", 10) == 0)
        return 1;
    /* ld-linux*.so.* : ld-linux.so.2, ld-linux-x86-64.so.2, ... */
    if (strncmp(base, "ld-linux", 8) == 0 && strstr(base + 8, ".so."))
        return 1;
    return 0;
}

/* ---- reading one file ---------------------------------------------------- */

/* The string at off in a string table, or NULL when off is outside the table
 * or the string does not end inside it. */
static const char *str_at(const Elf_Data *tab, uint64_t off)
{
    const char *s;

    if (!tab || !tab->d_buf || off >= tab->d_size)
        return NULL;
    s = (const char *)tab->d_buf + off;
    return memchr(s, '\0', tab->d_size - off) ? s : NULL;
}

/* Maps a virtual address to a file offset through the PT_LOAD segments;
 * *avail is how many file bytes the segment holds from there on. */
static int vaddr_to_off(Elf *elf, size_t phnum, uint64_t vaddr,
                        uint64_t *off, uint64_t *avail)
{
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        uint64_t delta;

        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_filesz)
            continue;
        delta = vaddr - ph.p_vaddr;
        if (ph.p_offset > INT64_MAX - delta)
            return -1;
        *off = ph.p_offset + delta;
        *avail = ph.p_filesz - delta;
        return 0;
    }
    return -1;
}

/* A checked byte range of the file at virtual address vaddr: size bytes, or
 * when size is NULL all the segment holds from there on. */
static Elf_Data *chunk_at(Elf *elf, size_t phnum, uint64_t vaddr, const uint64_t *sizep,
                          Elf_Type type)
{
    uint64_t off, avail, size;

    if (vaddr_to_off(elf, phnum, vaddr, &off, &avail) < 0)
        return NULL;
    size = sizep ? *sizep : avail;
    if (size > avail || size > SIZE_MAX)
        return NULL;
    return elf_getdata_rawchunk(elf, (int64_t)off, (size_t)size, type);
}

/* Parses "GLIBC_<major>.<minor>[.<patch>]"; 1 when s is one. */
static int parse_glibc(const char *s, int *major, int *minor)
{
    int v[3] = { 0, 0, 0 };
    int parts = 0;

    if (strncmp(s, "GLIBC_", 6) != 0)
        return 0;
    s += 6;
    for (;;) {
        if (*s < '0' || *s > '9' || parts == 3)
            return 0;
        for (; *s >= '0' && *s <= '9'; s++)
            if ((v[parts] = v[parts] * 10 + (*s - '0')) > 99999)
                return 0;
        parts++;
        if (*s == '\0')
            break;
        if (*s++ != '.')
            return 0;
    }
    if (parts < 2)
        return 0;
    *major = v[0];
    *minor = v[1];
    return 1;
}

static void glibc_max(int *major, int *minor, int maj, int min)
{
    if (maj > *major || (maj == *major && min > *minor)) {
        *major = maj;
        *minor = min;
    }
}

/* Walks the version-needed chain (host byte order was checked; Elf32 and
 * Elf64 Verneed/Vernaux have the same layout).  Every entry takes at least 16
 * bytes in a sane file, so size / 16 steps bound the walk whatever the
 * offsets say. */
static int read_verneed(const Elf_Data *vn, uint64_t count, const Elf_Data *strtab,
                        int *major, int *minor)
{
    const unsigned char *buf = vn->d_buf;
    size_t size = vn->d_size;
    size_t budget = size / sizeof(Elf64_Vernaux) + 1;
    size_t pos = 0;

    for (uint64_t i = 0; i < count; i++) {
        Elf64_Verneed need;
        size_t apos, step;

        if (budget-- == 0 || pos > size || size - pos < sizeof need)
            return -1;
        memcpy(&need, buf + pos, sizeof need);
        apos = pos;
        step = need.vn_aux;
        for (unsigned j = 0; j < need.vn_cnt; j++) {
            Elf64_Vernaux aux;
            const char *name;
            int maj, min;

            if (budget-- == 0 || step > size - apos)
                return -1;
            apos += step;
            if (size - apos < sizeof aux)
                return -1;
            memcpy(&aux, buf + apos, sizeof aux);
            if (!(name = str_at(strtab, aux.vna_name)))
                return -1;
            if (parse_glibc(name, &maj, &min))
                glibc_max(major, minor, maj, min);
            if ((step = aux.vna_next) == 0)
                break;
        }
        if (need.vn_next == 0)
            break;
        if (need.vn_next > size - pos)
            return -1;
        pos += need.vn_next;
    }
    return 0;
}

static const char *dst_lib(void)
{
    /* Debian's glibc says lib/<multiarch>, the others lib64 or lib. */
    struct stat st;
    if (HOST_MULTIARCH[0] && stat("/lib/" HOST_MULTIARCH, &st) == 0 && S_ISDIR(st.st_mode))
        return "lib/" HOST_MULTIARCH;
    return HOST_CLASS == ELFCLASS64 ? "lib64" : "lib";
}

/* Length of the token name at s ("ORIGIN" or "{ORIGIN}") when it is name,
 * else 0.  Unbraced, the name must end the element or precede a '/'. */
static size_t dst_match(const char *s, const char *name)
{
    size_t n = strlen(name);

    if (s[0] == '{')
        return strncmp(s + 1, name, n) == 0 && s[n + 1] == '}' ? n + 2 : 0;
    if (strncmp(s, name, n) != 0 || (s[n] != '\0' && s[n] != '/'))
        return 0;
    return n;
}

/* Copies s with $ORIGIN (origin: the object's directory), $LIB and $PLATFORM
 * substituted, braced or not.  Returns a new string or NULL (ENOMEM). */
static char *dst_expand(const char *s, const char *origin)
{
    static const char platform[] = HOST_PLATFORM; /* "" when unknown: kept */
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    while (*s) {
        size_t n;
        if (*s == '$' && (n = dst_match(s + 1, "ORIGIN"))) {
            fputs(origin, f);
        } else if (*s == '$' && (n = dst_match(s + 1, "LIB"))) {
            fputs(dst_lib(), f);
        } else if (*s == '$' && platform[0] && (n = dst_match(s + 1, "PLATFORM"))) {
            fputs(platform, f);
        } else {
            fputc(*s++, f);
            continue;
        }
        s += n + 1;
    }
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* Appends the ':'-separated elements of list to sv, expanded.  Empty
 * elements (the current directory to ld.so) are dropped: a bundle must not
 * depend on where it was built from. */
static int split_path(struct strvec *sv, const char *list, const char *origin)
{
    while (*list) {
        size_t n = strcspn(list, ":");
        if (n > 0) {
            char *elem = strndup(list, n);
            char *exp = elem ? dst_expand(elem, origin) : NULL;
            free(elem);
            if (strvec_push_owned(sv, exp) < 0)
                return -1;
        }
        list += n;
        if (*list == ':')
            list++;
    }
    return 0;
}

static char **take(struct strvec *sv, size_t *n)
{
    char **v = sv->v;
    *n = sv->n;
    sv->v = NULL;
    sv->n = sv->cap = 0;
    return v;
}

/* The dynamic entries ld.so reads; offsets into the string table. */
struct dyninfo {
    uint64_t strtab, strsz, verneed, verneednum;
    uint64_t soname, rpath, runpath;
    int has_strtab, has_verneed, has_soname, has_rpath, has_runpath;
};

static void scan_dynamic(Elf_Data *dyn, size_t ndyn, struct dyninfo *di)
{
    memset(di, 0, sizeof *di);
    for (size_t i = 0; i < ndyn; i++) {
        GElf_Dyn e;
        if (!gelf_getdyn(dyn, (int)i, &e) || e.d_tag == DT_NULL)
            break;
        switch (e.d_tag) {
        case DT_STRTAB: di->strtab = e.d_un.d_ptr; di->has_strtab = 1; break;
        case DT_STRSZ: di->strsz = e.d_un.d_val; break;
        case DT_VERNEED: di->verneed = e.d_un.d_ptr; di->has_verneed = 1; break;
        case DT_VERNEEDNUM: di->verneednum = e.d_un.d_val; break;
        case DT_SONAME: di->soname = e.d_un.d_val; di->has_soname = 1; break;
        case DT_RPATH: di->rpath = e.d_un.d_val; di->has_rpath = 1; break;
        case DT_RUNPATH: di->runpath = e.d_un.d_val; di->has_runpath = 1; break;
        default: break;
        }
    }
}

/* Checks the program headers against the file size (fsize) and finds the
 * dynamic table: *dyn stays NULL for a static file.  Returns 0, or -1 with
 * *why set. */
static int find_dynamic(Elf *elf, uint64_t fsize, size_t *phnum, Elf_Data **dyn,
                        size_t *ndyn, const char **why)
{
    size_t entsize = gelf_fsize(elf, ELF_T_DYN, 1, EV_CURRENT);
    GElf_Ehdr eh;
    GElf_Phdr dph = { 0 };
    int has_dynamic = 0;

    *why = "bad program headers";
    if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, phnum) != 0 || entsize == 0)
        return -1;
    /* libelf counts only the program headers the file holds */
    *why = "program headers past the end of the file";
    if (eh.e_phnum != PN_XNUM && *phnum != eh.e_phnum)
        return -1;
    for (size_t i = 0; i < *phnum; i++) {
        GElf_Phdr ph;
        *why = "bad program headers";
        if (!gelf_getphdr(elf, (int)i, &ph))
            return -1;
        /* a truncated copy: ld.so would map it and fault on the missing part */
        *why = "a segment past the end of the file";
        if (ph.p_type == PT_LOAD && (ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset))
            return -1;
        if (ph.p_type == PT_DYNAMIC && !has_dynamic) {
            dph = ph;
            has_dynamic = 1;
        }
    }
    *dyn = NULL;
    if (!has_dynamic || (*ndyn = dph.p_filesz / entsize) == 0)
        return 0;
    *why = "bad dynamic section";
    if (dph.p_offset > INT64_MAX ||
        !(*dyn = elf_getdata_rawchunk(elf, (int64_t)dph.p_offset, *ndyn * entsize, ELF_T_DYN)))
        return -1;
    return 0;
}

/* Fills info from an ELF whose header was checked; fsize is the file's size.
 * Returns 0, -1 with *why set to what is malformed, or -1 with errno ENOMEM
 * and *why NULL. */
static int read_dynamic(Elf *elf, uint64_t fsize, const char *origin,
                        struct elfdeps_info *info, const char **why)
{
    struct strvec needed = STRVEC_INIT, rpath = STRVEC_INIT, runpath = STRVEC_INIT;
    struct dyninfo di;
    Elf_Data *dyn, *strtab = NULL;
    size_t phnum, ndyn;
    const char *s;
    int rc = -1;

    if (find_dynamic(elf, fsize, &phnum, &dyn, &ndyn, why) < 0)
        return -1;
    if (!dyn)
        return 0; /* static: needs nothing */
    scan_dynamic(dyn, ndyn, &di);
    if (di.has_strtab && di.strsz > 0) { /* an empty table holds no string */
        *why = "bad string table";
        if (!(strtab = chunk_at(elf, phnum, di.strtab, &di.strsz, ELF_T_BYTE)))
            return -1;
    }

    *why = "bad DT_NEEDED";
    for (size_t i = 0; i < ndyn; i++) {
        GElf_Dyn e;
        if (!gelf_getdyn(dyn, (int)i, &e) || e.d_tag == DT_NULL)
            break;
        if (e.d_tag != DT_NEEDED)
            continue;
        if (!(s = str_at(strtab, e.d_un.d_val)) || !*s)
            goto cleanup;
        if (strvec_push(&needed, s) < 0)
            goto nomem;
    }
    *why = "bad DT_SONAME";
    if (di.has_soname && (!(s = str_at(strtab, di.soname)) || !*s))
        goto cleanup;
    if (di.has_soname && !(info->soname = strdup(s)))
        goto nomem;
    *why = "bad DT_RPATH";
    if (di.has_rpath && !(s = str_at(strtab, di.rpath)))
        goto cleanup;
    if (di.has_rpath && split_path(&rpath, s, origin) < 0)
        goto nomem;
    *why = "bad DT_RUNPATH";
    if (di.has_runpath && !(s = str_at(strtab, di.runpath)))
        goto cleanup;
    if (di.has_runpath && split_path(&runpath, s, origin) < 0)
        goto nomem;
    if (di.has_verneed) {
        Elf_Data *vn;
        *why = "bad version needs";
        if (!(vn = chunk_at(elf, phnum, di.verneed, NULL, ELF_T_BYTE)) ||
            read_verneed(vn, di.verneednum, strtab, &info->glibc_major, &info->glibc_minor) < 0)
            goto cleanup;
    }
    info->needed = take(&needed, &info->nneeded);
    info->rpath = take(&rpath, &info->nrpath);
    info->runpath = take(&runpath, &info->nrunpath);
    rc = 0;
    goto cleanup;
nomem:
    *why = NULL;
cleanup:
    strvec_release(&needed);
    strvec_release(&rpath);
    strvec_release(&runpath);
    if (rc < 0) {
        free(info->soname);
        info->soname = NULL;
        if (!*why)
            errno = ENOMEM;
    }
    return rc;
}

/* Checks the ELF header: an executable or shared object ld.so would load. */
static int check_header(Elf *elf, const char *path, struct err *err)
{
    GElf_Ehdr eh;

    if (elf_kind(elf) != ELF_K_ELF)
        return err_set(err, 0, "'%s' is not an ELF file", path);
    if (!gelf_getehdr(elf, &eh))
        return err_set(err, 0, "'%s' is a truncated or malformed ELF file", path);
    if (eh.e_ident[EI_CLASS] != HOST_CLASS || eh.e_ident[EI_DATA] != HOST_DATA ||
        (HOST_MACHINE != EM_NONE && eh.e_machine != HOST_MACHINE))
        return err_set(err, 0, "'%s' is an ELF file for another machine", path);
    if (eh.e_type != ET_DYN && eh.e_type != ET_EXEC)
        return err_set(err, 0, "'%s' is not an ELF executable or shared object", path);
    return 0;
}

int elfdeps_read(const char *path, struct elfdeps_info *out, struct err *err)
{
    struct elfdeps_info info = { 0 };
    struct stat st;
    char *real = NULL, *slash;
    const char *why;
    Elf *elf = NULL;
    int fd = -1, rc = -1;

    if (!(real = realpath(path, NULL))) {
        err_set(err, errno, "cannot open '%s'", path);
        goto cleanup;
    }
    /* O_NONBLOCK: a FIFO must fail the S_ISREG test, not block the open */
    if ((fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        err_set(err, errno, "cannot open '%s'", path);
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(err, 0, "'%s' is not an ELF file", path);
        goto cleanup;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        err_set(err, 0, "cannot read '%s': %s", path, elf_errmsg(-1));
        goto cleanup;
    }
    if (!(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL))) {
        err_set(err, 0, "'%s' is not an ELF file", path);
        goto cleanup;
    }
    if (check_header(elf, path, err) < 0)
        goto cleanup;
    slash = strrchr(real, '/'); /* realpath() is absolute */
    *slash = '\0';
    /* $ORIGIN of "/x.so" is "", so that "$ORIGIN/lib" is "/lib" */
    if (read_dynamic(elf, (uint64_t)st.st_size, slash == real ? "" : real, &info, &why) < 0) {
        if (why)
            err_set(err, 0, "'%s' is a malformed ELF file: %s", path, why);
        else
            err_set(err, ENOMEM, "cannot read '%s'", path);
        goto cleanup;
    }
    *out = info;
    rc = 0;
cleanup:
    if (elf)
        elf_end(elf);
    if (fd >= 0)
        close(fd);
    free(real);
    return rc;
}

static void free_strings(char ***v, size_t *n)
{
    for (size_t i = 0; *v && i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

void elfdeps_info_release(struct elfdeps_info *info)
{
    if (!info)
        return;
    free(info->soname);
    info->soname = NULL;
    free_strings(&info->needed, &info->nneeded);
    free_strings(&info->rpath, &info->nrpath);
    free_strings(&info->runpath, &info->nrunpath);
    info->glibc_major = info->glibc_minor = 0;
}

/* ---- the closure --------------------------------------------------------- */

#define NO_LOADER SIZE_MAX

/* One loaded object: a root or a library found for some DT_NEEDED. */
struct node {
    struct elfdeps_info info;
    char *path;           /* realpath */
    struct strvec names;  /* names it was asked for, first one first */
    size_t loader;        /* the node whose DT_NEEDED loaded it first */
    size_t *deps;         /* nodes it needs, in DT_NEEDED order */
    size_t ndeps;
    int root;
    int mark;             /* post-order walk: 0 new, 1 on the stack, 2 done */
};

struct graph {
    struct node *v;
    size_t n, cap;
    struct strvec envdirs; /* LD_LIBRARY_PATH */
    struct strvec sysdirs; /* ld.so.conf, then the defaults */
    struct strvec missing;
};

static void node_release(struct node *nd)
{
    elfdeps_info_release(&nd->info);
    free(nd->path);
    strvec_release(&nd->names);
    free(nd->deps);
}

/* Adds a node; takes info and path (also on failure).  Returns its index or
 * -1 (ENOMEM). */
static long graph_add(struct graph *g, struct elfdeps_info *info, char *path,
                      const char *name, size_t loader)
{
    struct node *nd;

    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct node *v = realloc(g->v, cap * sizeof *v);
        if (!v) {
            elfdeps_info_release(info);
            free(path);
            return -1;
        }
        g->v = v;
        g->cap = cap;
    }
    nd = &g->v[g->n];
    memset(nd, 0, sizeof *nd);
    nd->info = *info;
    nd->path = path;
    nd->loader = loader;
    nd->root = loader == NO_LOADER;
    if (!(nd->deps = calloc(info->nneeded + 1, sizeof *nd->deps)) ||
        (name && strvec_push(&nd->names, name) < 0)) {
        node_release(nd);
        return -1;
    }
    return (long)g->n++;
}

static long graph_by_name(const struct graph *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct node *nd = &g->v[i];
        if ((nd->info.soname && strcmp(nd->info.soname, name) == 0) ||
            strvec_find(&nd->names, name) >= 0)
            return (long)i;
    }
    return -1;
}

static long graph_by_path(const struct graph *g, const char *path)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].path, path) == 0)
            return (long)i;
    return -1;
}

static int conf_read(const char *file, int depth, struct strvec *dirs);

/* Reads the files an include pattern matches; relative patterns are relative
 * to the directory of the including file, as ldconfig has them. */
static int conf_include(const char *file, const char *pat, int depth, struct strvec *dirs)
{
    const char *slash = strrchr(file, '/');
    char *full = NULL;
    glob_t gl;
    int rc = 0;

    if (*pat != '/' && slash &&
        asprintf(&full, "%.*s/%s", (int)(slash - file), file, pat) < 0)
        return -1;
    if (glob(full ? full : pat, 0, NULL, &gl) == 0) {
        for (size_t i = 0; rc == 0 && i < gl.gl_pathc; i++)
            rc = conf_read(gl.gl_pathv[i], depth + 1, dirs);
        globfree(&gl);
    }
    free(full);
    return rc;
}

/* Reads one ld.so.conf file into dirs: one directory a line, '#' comments,
 * "include PATTERN..." lines.  An unreadable file adds nothing. */
static int conf_read(const char *file, int depth, struct strvec *dirs)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (depth > LD_SO_CONF_DEPTH || !(f = fopen(file, "re")))
        return 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        char *s = line, *end;
        s[strcspn(s, "#\n")] = '\0';
        s += strspn(s, " \t");
        for (end = s + strlen(s); end > s && (end[-1] == ' ' || end[-1] == '\t'); )
            *--end = '\0';
        if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
            char *rest = s + 8, *pat;
            while (rc == 0 && (pat = strsep(&rest, " \t")))
                if (*pat)
                    rc = conf_include(file, pat, depth, dirs);
        } else if (*s == '/' && strvec_find(dirs, s) < 0) {
            rc = strvec_push(dirs, s);
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static int graph_dirs(struct graph *g)
{
    const char *env = getenv("LD_LIBRARY_PATH");

    /* glibc splits LD_LIBRARY_PATH on ':' and ';'; empty means "." (dropped) */
    while (env && *env) {
        size_t n = strcspn(env, ":;");
        if (n > 0 && strvec_push_owned(&g->envdirs, strndup(env, n)) < 0)
            return -1;
        env += n + (env[n] != '\0');
    }
    if (conf_read(LD_SO_CONF, 0, &g->sysdirs) < 0)
        return -1;
    for (size_t i = 0; i < sizeof default_dirs / sizeof default_dirs[0]; i++)
        if (strvec_find(&g->sysdirs, default_dirs[i]) < 0 &&
            strvec_push(&g->sysdirs, default_dirs[i]) < 0)
            return -1;
    return 0;
}

/* Opens file as the library asked for as name by node `from`.  Returns 0
 * with *idx set, 1 when the file is absent or not loadable here, -1 on
 * ENOMEM. */
static int try_file(struct graph *g, const char *file, const char *name, size_t from,
                    size_t *idx)
{
    struct elfdeps_info info;
    struct err e;
    char *real = realpath(file, NULL);
    long k;

    if (!real)
        return errno == ENOMEM ? -1 : 1;
    if ((k = graph_by_path(g, real)) >= 0) {
        free(real);
        if (strvec_find(&g->v[k].names, name) < 0 && strvec_push(&g->v[k].names, name) < 0)
            return -1;
        *idx = (size_t)k;
        return 0;
    }
    if (elfdeps_read(real, &info, &e) < 0) {
        free(real);
        return e.errnum == ENOMEM ? -1 : 1;
    }
    if ((k = graph_add(g, &info, real, name, from)) < 0)
        return -1;
    *idx = (size_t)k;
    return 0;
}

static int try_dirs(struct graph *g, char *const *dirs, size_t ndirs, const char *name,
                    size_t from, size_t *idx)
{
    for (size_t i = 0; i < ndirs; i++) {
        char *file;
        int rc;
        if (asprintf(&file, "%s/%s", dirs[i], name) < 0)
            return -1;
        rc = try_file(g, file, name, from, idx);
        free(file);
        if (rc <= 0)
            return rc;
    }
    return 1;
}

/* Finds name for node `from` in ld.so's order.  0 found, 1 not, -1 ENOMEM. */
static int search(struct graph *g, const char *name, size_t from, size_t *idx)
{
    int rc;

    if (strchr(name, '/')) {
        /* a path: ld.so expands $ORIGIN in it and opens it as it stands */
        char *dir = strdup(g->v[from].path), *file;
        if (!dir)
            return -1;
        *strrchr(dir, '/') = '\0'; /* the path is a realpath() */
        file = dst_expand(name, dir);
        free(dir);
        if (!file)
            return -1;
        rc = try_file(g, file, name, from, idx);
        free(file);
        return rc;
    }
    /* DT_RPATH of the requester and its loaders, unless it has DT_RUNPATH;
     * a loader with DT_RUNPATH has no DT_RPATH to ld.so either */
    if (g->v[from].info.nrunpath == 0) {
        for (size_t l = from; l != NO_LOADER; l = g->v[l].loader) {
            const struct elfdeps_info *in = &g->v[l].info;
            if (in->nrunpath == 0 &&
                (rc = try_dirs(g, in->rpath, in->nrpath, name, from, idx)) <= 0)
                return rc;
        }
    }
    if ((rc = try_dirs(g, g->envdirs.v, g->envdirs.n, name, from, idx)) <= 0)
        return rc;
    if ((rc = try_dirs(g, g->v[from].info.runpath, g->v[from].info.nrunpath, name, from,
                       idx)) <= 0)
        return rc;
    return try_dirs(g, g->sysdirs.v, g->sysdirs.n, name, from, idx);
}

/* Resolves the DT_NEEDED of every node, breadth first as ld.so loads. */
static int graph_resolve(struct graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < g->v[i].info.nneeded; j++) {
            const char *name = g->v[i].info.needed[j];
            size_t idx;
            long k;
            int rc;

            if (elfdeps_is_host_base(name))
                continue;
            if ((k = graph_by_name(g, name)) >= 0) {
                idx = (size_t)k;
            } else if ((rc = search(g, name, i, &idx)) < 0) {
                return -1;
            } else if (rc > 0) {
                if (strvec_find(&g->missing, name) < 0 && strvec_push(&g->missing, name) < 0)
                    return -1;
                continue;
            }
            if (idx != i)
                g->v[i].deps[g->v[i].ndeps++] = idx;
        }
    }
    return 0;
}

/* Lists the non-root nodes after everything they need (post-order from each
 * root; an edge back into the stack closes a cycle and is ignored). */
static int graph_order(struct graph *g, struct elfdeps_closure *c)
{
    struct frame { size_t node, next; } *stack = calloc(g->n, sizeof *stack);
    size_t top = 0;

    c->libs = calloc(g->n, sizeof *c->libs);
    if (!stack || !c->libs) {
        free(stack);
        return -1;
    }
    for (size_t r = 0; r < g->n; r++) {
        if (!g->v[r].root || g->v[r].mark)
            continue;
        g->v[r].mark = 1;
        stack[top++] = (struct frame){ r, 0 };
        while (top > 0) {
            struct frame *f = &stack[top - 1];
            struct node *nd = &g->v[f->node];
            if (f->next < nd->ndeps) {
                size_t d = nd->deps[f->next++];
                if (g->v[d].mark == 0) {
                    g->v[d].mark = 1;
                    stack[top++] = (struct frame){ d, 0 };
                }
                continue;
            }
            nd->mark = 2;
            top--;
            if (nd->root)
                continue;
            /* nodes were only ever added under a name */
            c->libs[c->n].name = nd->names.v[0];
            c->libs[c->n].path = nd->path;
            nd->names.v[0] = NULL;
            nd->path = NULL;
            c->n++;
        }
    }
    free(stack);
    return 0;
}

/* Moves the names that never resolved into c->missing. */
static void graph_missing(struct graph *g, struct elfdeps_closure *c)
{
    size_t keep = 0;

    for (size_t i = 0; i < g->missing.n; i++) {
        char *name = g->missing.v[i];
        if (graph_by_name(g, name) >= 0)
            free(name); /* another requester's path found it */
        else
            g->missing.v[keep++] = name;
    }
    g->missing.n = keep;
    c->missing = take(&g->missing, &c->nmissing);
}

static void graph_release(struct graph *g)
{
    for (size_t i = 0; i < g->n; i++)
        node_release(&g->v[i]);
    free(g->v);
    strvec_release(&g->envdirs);
    strvec_release(&g->sysdirs);
    strvec_release(&g->missing);
}

int elfdeps_closure(const char *const *roots, size_t nroots,
                    struct elfdeps_closure *out, struct err *err)
{
    struct graph g = { 0 };
    struct elfdeps_closure c = { 0 };
    int rc = -1;

    for (size_t i = 0; i < nroots; i++) {
        struct elfdeps_info info;
        char *real = realpath(roots[i], NULL);

        if (!real) {
            err_set(err, errno, "cannot open '%s'", roots[i]);
            goto cleanup;
        }
        if (graph_by_path(&g, real) >= 0) {
            free(real);
            continue;
        }
        if (elfdeps_read(real, &info, err) < 0) {
            free(real);
            goto cleanup;
        }
        if (graph_add(&g, &info, real, NULL, NO_LOADER) < 0)
            goto nomem;
    }
    if (graph_dirs(&g) < 0 || graph_resolve(&g) < 0)
        goto nomem;
    graph_missing(&g, &c); /* before graph_order() takes the names */
    if (graph_order(&g, &c) < 0)
        goto nomem;
    for (size_t i = 0; i < g.n; i++)
        glibc_max(&c.glibc_major, &c.glibc_minor, g.v[i].info.glibc_major,
                  g.v[i].info.glibc_minor);
    *out = c;
    memset(&c, 0, sizeof c);
    rc = 0;
    goto cleanup;
nomem:
    err_set(err, ENOMEM, "cannot compute the library closure");
cleanup:
    elfdeps_closure_release(&c);
    graph_release(&g);
    return rc;
}

void elfdeps_closure_release(struct elfdeps_closure *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->libs[i].name);
        free(c->libs[i].path);
    }
    free(c->libs);
    c->libs = NULL;
    c->n = 0;
    free_strings(&c->missing, &c->nmissing);
    c->glibc_major = c->glibc_minor = 0;
}
