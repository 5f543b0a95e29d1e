/* elfstr_ranges.c - where the data of an ELF image is, for elfstr.c: its
 * header checked, then the byte ranges of its data sections (or, without a
 * usable section table, of its PT_LOAD segments that are not executable),
 * cut to the image and merged where they overlap.  Every offset, size and
 * count of the tables is checked against the bytes there are, in both
 * classes and both byte orders. */
#include "elfstr_impl.h"

#include <elf.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- the ELF tables ------------------------------------------------------ */

static uint64_t get(const struct image *im, uint64_t off, unsigned size)
{
    const unsigned char *b = im->p + off; /* checked by the caller */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)b[im->msb ? size - 1 - i : i] << (8 * i);
    return v;
}

/* A field of a header: its offset and size in the 32- and 64-bit layouts. */
#define FIELD(im, base, T, f) \
    get(im, (base) + ((im)->is64 ? offsetof(Elf64_##T, f) : offsetof(Elf32_##T, f)), \
        (im)->is64 ? sizeof(((Elf64_##T *)0)->f) : sizeof(((Elf32_##T *)0)->f))

/* Adds [off, off+len) cut to the image; empty ranges are dropped. */
static void range_add(struct ranges *r, const struct image *im, uint64_t off, uint64_t len)
{
    if (off >= im->len || len == 0)
        return;
    if (len > im->len - off)
        len = im->len - off;
    r->v[r->n].off = off;
    r->v[r->n].len = len;
    r->n++;
}

/* 1 when the table of count entries of entsize (at least min) bytes at off
 * lies inside the image. */
static int table_fits(const struct image *im, uint64_t off, uint64_t count, uint64_t entsize,
                      size_t min)
{
    return off != 0 && entsize >= min && off <= im->len &&
           count <= (im->len - off) / entsize;
}

/* The name of section i, compared with want; 0 when they differ or the name
 * is not inside the table. */
static int name_is(const struct image *im, uint64_t stroff, uint64_t strsize, uint64_t name,
                   const char *want)
{
    size_t n = strlen(want) + 1;
    return name < strsize && strsize - name >= n &&
           memcmp(im->p + stroff + name, want, n) == 0;
}

static int skipped_section(const struct image *im, uint64_t stroff, uint64_t strsize,
                           uint64_t name)
{
    static const char *const skip[] = {
        ".eh_frame", ".eh_frame_hdr", ".gcc_except_table", ".got", ".got.plt", ".interp",
        ".dynstr", ".strtab", ".symtab", ".shstrtab",
    };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (name_is(im, stroff, strsize, name, skip[i]))
            return 1;
    return 0;
}

/* The data sections.  Returns 0, or 1 when the section table is unusable
 * (the caller reads the segments instead), -1 (ENOMEM). */
int elfstr_section_ranges(const struct image *im, struct ranges *r)
{
    size_t shsize = im->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    uint64_t shoff = FIELD(im, 0, Ehdr, e_shoff);
    uint64_t entsize = FIELD(im, 0, Ehdr, e_shentsize);
    uint64_t shnum = FIELD(im, 0, Ehdr, e_shnum);
    uint64_t shstrndx = FIELD(im, 0, Ehdr, e_shstrndx);
    uint64_t stroff = 0, strsize = 0;

    if (!table_fits(im, shoff, 1, entsize, shsize))
        return 1;
    /* extended numbering: the real values are in section 0 */
    if (shnum == 0)
        shnum = FIELD(im, shoff, Shdr, sh_size);
    if (shstrndx == SHN_XINDEX)
        shstrndx = FIELD(im, shoff, Shdr, sh_link);
    if (shnum == 0 || !table_fits(im, shoff, shnum, entsize, shsize))
        return 1;
    if (shstrndx < shnum) {
        uint64_t s = shoff + shstrndx * entsize;
        stroff = FIELD(im, s, Shdr, sh_offset);
        strsize = FIELD(im, s, Shdr, sh_size);
        if (stroff > im->len || strsize > im->len - stroff)
            stroff = strsize = 0; /* no names: nothing is skipped by name */
    }
    if (!(r->v = calloc(shnum, sizeof *r->v)))
        return -1;
    for (uint64_t i = 0; i < shnum; i++) {
        uint64_t s = shoff + i * entsize;
        uint64_t flags = FIELD(im, s, Shdr, sh_flags);
        if (FIELD(im, s, Shdr, sh_type) != SHT_PROGBITS || !(flags & SHF_ALLOC) ||
            (flags & SHF_EXECINSTR) ||
            skipped_section(im, stroff, strsize, FIELD(im, s, Shdr, sh_name)))
            continue;
        range_add(r, im, FIELD(im, s, Shdr, sh_offset), FIELD(im, s, Shdr, sh_size));
    }
    return 0;
}

/* The PT_LOAD segments that are not executable: all a file without
 * sections says about its data.  Returns 0 or -1 (ENOMEM). */
int elfstr_segment_ranges(const struct image *im, struct ranges *r)
{
    size_t phsize = im->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    uint64_t phoff = FIELD(im, 0, Ehdr, e_phoff);
    uint64_t entsize = FIELD(im, 0, Ehdr, e_phentsize);
    uint64_t phnum = FIELD(im, 0, Ehdr, e_phnum);

    /* PN_XNUM: the real count is in section 0, which may be gone: then the
     * table holds what fits */
    if (phnum == PN_XNUM) {
        uint64_t shoff = FIELD(im, 0, Ehdr, e_shoff);
        uint64_t shent = FIELD(im, 0, Ehdr, e_shentsize);
        size_t shsize = im->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
        if (table_fits(im, shoff, 1, shent, shsize))
            phnum = FIELD(im, shoff, Shdr, sh_info);
    }
    if (phoff != 0 && entsize >= phsize && phoff <= im->len && phnum > (im->len - phoff) / entsize)
        phnum = (im->len - phoff) / entsize; /* truncated: the headers that are there */
    if (phnum == 0 || !table_fits(im, phoff, phnum, entsize, phsize))
        return 0;
    if (!(r->v = calloc(phnum, sizeof *r->v)))
        return -1;
    for (uint64_t i = 0; i < phnum; i++) {
        uint64_t h = phoff + i * entsize;
        if (FIELD(im, h, Phdr, p_type) != PT_LOAD || (FIELD(im, h, Phdr, p_flags) & PF_X))
            continue;
        range_add(r, im, FIELD(im, h, Phdr, p_offset), FIELD(im, h, Phdr, p_filesz));
    }
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Sorts the ranges and merges those that overlap; touching ones stay apart
 * (a name does not run from one section into the next). */
void elfstr_ranges_merge(struct ranges *r)
{
    size_t k = 0;

    if (r->n == 0)
        return;
    qsort(r->v, r->n, sizeof *r->v, range_cmp);
    for (size_t i = 1; i < r->n; i++) {
        struct range *last = &r->v[k];
        if (r->v[i].off < last->off + last->len) {
            uint64_t end = r->v[i].off + r->v[i].len; /* both cut to the image */
            if (end > last->off + last->len)
                last->len = end - last->off;
        } else {
            r->v[++k] = r->v[i];
        }
    }
    r->n = k + 1;
}

/* Checks the ELF header.  Returns 0, or -1 with *why. */
int elfstr_check_header(struct image *im, const char **why)
{
    *why = "is not an ELF file";
    if (im->len < EI_NIDENT || memcmp(im->p, ELFMAG, SELFMAG) != 0)
        return -1;
    *why = "is an ELF file of unknown class or byte order";
    if (im->p[EI_CLASS] != ELFCLASS32 && im->p[EI_CLASS] != ELFCLASS64)
        return -1;
    if (im->p[EI_DATA] != ELFDATA2LSB && im->p[EI_DATA] != ELFDATA2MSB)
        return -1;
    im->is64 = im->p[EI_CLASS] == ELFCLASS64;
    im->msb = im->p[EI_DATA] == ELFDATA2MSB;
    *why = "is a truncated ELF file";
    if (im->len < (im->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
        return -1;
    return 0;
}
