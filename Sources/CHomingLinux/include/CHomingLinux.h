#ifndef C_HOMING_LINUX_H
#define C_HOMING_LINUX_H

#include <spawn.h>
#include <stdint.h>

/// `RESOLVE_NO_XDEV`, `RESOLVE_NO_MAGICLINKS`, `RESOLVE_NO_SYMLINKS`, `RESOLVE_BENEATH` from
/// `<linux/openat2.h>` (the values are the kernel's ABI).
#define HOMING_RESOLVE_NO_XDEV 0x01
#define HOMING_RESOLVE_NO_MAGICLINKS 0x02
#define HOMING_RESOLVE_NO_SYMLINKS 0x04
#define HOMING_RESOLVE_BENEATH 0x08

/// `openat2(2)` through `syscall(2)` (glibc has no wrapper, and Swift cannot call the variadic
/// `syscall`). Returns the descriptor, or -1 with `errno` set; `ENOSYS` where the kernel (before
/// 5.6) or the platform lacks it.
int homing_openat2(int directory, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/// `O_TMPFILE` (a macro Swift does not import), or 0 where the platform has none.
int homing_o_tmpfile(void);

/// `memfd_create(name, MFD_CLOEXEC)`: an anonymous file in memory. Returns the descriptor, or
/// -1 with `errno` set (`ENOSYS` where the kernel or the platform lacks it).
int homing_memfd_create(const char *name);

/// Makes the child of `posix_spawn` close every descriptor from `lowest` up, after the other
/// file actions (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34): the child inherits
/// only its standard input, output and error, never a descriptor another thread of the parent
/// opened without `O_CLOEXEC` (a client socket, a maildir file). Returns 0 or an error number
/// (`ENOSYS` where the C library lacks it).
int homing_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

#endif
