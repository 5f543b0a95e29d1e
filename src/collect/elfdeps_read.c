/* elfdeps_read.c - what one ELF object says it needs (elfdeps_read):
 * DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH with $ORIGIN, $LIB and
 * $PLATFORM expanded, and the newest GLIBC_x.y version it asks for.
 *
 * The reader trusts nothing in the file: it goes through PT_DYNAMIC, as the
 * loader does, maps every address through the PT_LOAD segments, asks libelf
 * for byte ranges it has checked against the file size, and reads every
 * string through str_at(), which refuses an offset past the string table or
 * a string without its NUL inside the table.
 */
#include "elfdeps_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

void elfdeps_glibc_max(int *major, int *minor, int maj, int min)
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
                elfdeps_glibc_max(major, minor, maj, min);
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
char *elfdeps_dst_expand(const char *s, const char *origin)
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
            char *exp = elem ? elfdeps_dst_expand(elem, origin) : NULL;
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

char **elfdeps_take(struct strvec *sv, size_t *n)
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
    info->needed = elfdeps_take(&needed, &info->nneeded);
    info->rpath = elfdeps_take(&rpath, &info->nrpath);
    info->runpath = elfdeps_take(&runpath, &info->nrunpath);
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

void elfdeps_free_strings(char ***v, size_t *n)
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
    elfdeps_free_strings(&info->needed, &info->nneeded);
    elfdeps_free_strings(&info->rpath, &info->nrpath);
    elfdeps_free_strings(&info->runpath, &info->nrunpath);
    info->glibc_major = info->glibc_minor = 0;
}
