/* stub_blob.c - the bootloader, embedded in bundle at build time so that
 * the one bundle executable is all a user runs: the stub linked and ready,
 * and the same stub as objects (with the zstd library it needs), which
 * src/emit/link.c links with an interpreter's static libpython. */
#define BLOB(name, path)                                                                           \
    __asm__(".section .rodata\n"                                                                    \
            ".global " #name "_start\n"                                                            \
            ".global " #name "_end\n"                                                              \
            ".balign 16\n" #name "_start:\n"                                                        \
            ".incbin \"" path "\"\n" #name "_end:\n"                                                \
            ".previous\n")

BLOB(bundle_stub, BUNDLE_STUB_PATH);
BLOB(bundle_stub_objs, BUNDLE_STUB_OBJS_PATH);
BLOB(bundle_zstd, BUNDLE_ZSTD_PATH);
BLOB(bundle_stub_ld, BUNDLE_STUB_LD_PATH);
