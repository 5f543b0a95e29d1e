/* stub_blob.c - the bootloader binary, embedded in bundle at build time so
 * that the one bundle executable is all a user runs. */
__asm__(".section .rodata\n"
        ".global bundle_stub_start\n"
        ".global bundle_stub_end\n"
        ".balign 16\n"
        "bundle_stub_start:\n"
        ".incbin \"" BUNDLE_STUB_PATH "\"\n"
        "bundle_stub_end:\n"
        ".previous\n");
