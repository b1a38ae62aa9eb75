#define _GNU_SOURCE
#include "CHomingLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/mman.h>
#endif

#ifdef __linux__
#include <sys/syscall.h>
#ifndef SYS_openat2
/* The same number on every architecture since the unified syscall table (Linux 5.6). */
#define SYS_openat2 437
#endif
#endif

/* struct open_how of <linux/openat2.h>: three 64-bit fields, in this order. */
struct homing_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int homing_openat2(int directory, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
#ifdef __linux__
    struct homing_open_how how = {flags, mode, resolve};
    return (int)syscall(SYS_openat2, directory, path, &how, sizeof how);
#else
    (void)directory; (void)path; (void)flags; (void)mode; (void)resolve;
    errno = ENOSYS;
    return -1;
#endif
}

int homing_o_tmpfile(void) {
#ifdef O_TMPFILE
    return O_TMPFILE;
#else
    return 0;
#endif
}

int homing_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
#else
    (void)actions; (void)lowest;
    return ENOSYS;
#endif
}

int homing_memfd_create(const char *name) {
#if defined(__linux__) && defined(MFD_CLOEXEC)
    return memfd_create(name, MFD_CLOEXEC);
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}
