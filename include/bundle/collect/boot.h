/* boot.h - the start-up module's source (src/collect/boot.c). */
#ifndef BUNDLE_BOOT_H
#define BUNDLE_BOOT_H

#include <stddef.h>

/* The name the app's entry script is stored under in the pyz. */
#define BUNDLE_ENTRY_MODULE "__bundle_main__"

extern const char bundle_boot_source[];
extern const size_t bundle_boot_source_len;

#endif
