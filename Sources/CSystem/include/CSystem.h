// The glibc functions IMLBase needs that Swift's Glibc module cannot see: glibc declares them only
// for _GNU_SOURCE, which that module does not define. CSystem.c defines it and forwards the calls.
#pragma once

#include <spawn.h>

/// posix_spawn_file_actions_addchdir_np (glibc 2.29 on); ENOSYS where the C library lacks it.
int iml_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34 on); ENOSYS where the C library lacks it.
int iml_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);
