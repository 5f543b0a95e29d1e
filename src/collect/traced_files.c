/* traced_files.c - what a traced run read (src/analyze/traced.c), bundled
 * as package data: a file as it is, a listed directory's own files. */
#include "../build_impl.h"

#include <string.h>

#include "bundle/util/strvec.h"
#include "bundle/util/util.h"

/* What the traced run read: files as they are, a listed directory's files
 * (not its subdirectories), under their path below the search path. */
int add_traced(struct build *b)
{
    for (size_t i = 0; i < b->traced_files.n; i++) {
        const char *path = b->traced_files.v[i], *root = build_root_of(&b->graph, path);
        const char *rel = path + strlen(root) + 1;
        int rc = 0;
        if (util_is_dir(path))
            rc = build_add_data_tree(b, path, rel, DATA_OWN, 0);
        else if (!build_code_file(util_base_name(path), false, false))
            rc = build_add_data_file(b, path, rel);
        if (rc != 0)
            return -1;
    }
    return 0;
}
