#define _GNU_SOURCE
#include "CSystem.h"

#include <errno.h>

int iml_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
#if defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 29)
    return posix_spawn_file_actions_addchdir_np(actions, path);
#endif
#endif
    (void)actions; (void)path;
    return ENOSYS;
}

int iml_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
#if defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 34)
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#endif
#endif
    (void)actions; (void)from;
    return ENOSYS;
}
