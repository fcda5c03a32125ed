/* filemap.c - serving byte ranges of a file without copying them (see filemap.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filemap.h"

void file_ident_of (const struct stat *st, struct file_ident *id)
{
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

bool file_ident_same (const struct file_ident *a, const struct file_ident *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* Ranges mapped now.  The SIGBUS handler reads only these atomics (never a
 * struct that another thread may free). */
#define FILEMAP_SLOTS 256

static atomic_int slot_used[FILEMAP_SLOTS];
static atomic_uintptr_t slot_lo[FILEMAP_SLOTS], slot_hi[FILEMAP_SLOTS];
static atomic_bool slot_damaged[FILEMAP_SLOTS];

struct filemap {
    void *base;
    size_t maplen;
    int slot;
};

static struct sigaction old_bus;
static uintptr_t pagesz = 4096;

static void on_sigbus (int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < FILEMAP_SLOTS; i++) {
        uintptr_t lo = atomic_load (&slot_lo[i]), hi = atomic_load (&slot_hi[i]);
        if (a < lo || a >= hi)
            continue;
        /* The file lost this page: read zeros instead and remember. */
        void *pg = (void *)(a & ~(pagesz - 1));
        if (mmap (pg, pagesz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
            atomic_store (&slot_damaged[i], true);
            return;
        }
        break;
    }
    /* Not a range of ours: whatever handled SIGBUS before, else the default
     * action (the faulting access runs again and is fatal as it would be). */
    if ((old_bus.sa_flags & SA_SIGINFO) && old_bus.sa_sigaction) {
        old_bus.sa_sigaction (sig, si, uc);
    } else if (old_bus.sa_handler != SIG_DFL && old_bus.sa_handler != SIG_IGN
               && old_bus.sa_handler != NULL) {
        old_bus.sa_handler (sig);
    } else {
        struct sigaction dfl;
        memset (&dfl, 0, sizeof (dfl));
        dfl.sa_handler = SIG_DFL;
        sigaction (SIGBUS, &dfl, NULL);
    }
}

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

/* Ours, and kept ours: another library (or a test harness) may install its
 * own SIGBUS handler later; ours then goes in front of it again and passes
 * on what is not ours. */
static void install (void)
{
    pthread_mutex_lock (&install_lock);
    long p = sysconf (_SC_PAGESIZE);
    if (p > 0)
        pagesz = (uintptr_t)p;
    struct sigaction cur;
    if (sigaction (SIGBUS, NULL, &cur) == 0
        && !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus)) {
        struct sigaction sa;
        memset (&sa, 0, sizeof (sa));
        sa.sa_sigaction = on_sigbus;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset (&sa.sa_mask);
        old_bus = cur;
        sigaction (SIGBUS, &sa, NULL);
    }
    pthread_mutex_unlock (&install_lock);
}

struct filemap *filemap_open (int fd, uint64_t offset, size_t len, const void **data,
                              fs_error_t *err)
{
    install ();
    struct stat st;
    if (len == 0 || fstat (fd, &st) < 0 || st.st_size < 0 || offset > (uint64_t)st.st_size
        || len > (uint64_t)st.st_size - offset) {
        errprintf (err, FS_EFAIL, "range %llu+%zu is not inside the file", (unsigned long long)offset, len);
        return NULL;
    }
    int slot = -1;
    for (int i = 0; i < FILEMAP_SLOTS && slot < 0; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong (&slot_used[i], &zero, 1))
            slot = i;
    }
    struct filemap *fm = slot >= 0 ? calloc (1, sizeof (*fm)) : NULL;
    if (!fm) {
        if (slot >= 0)
            atomic_store (&slot_used[slot], 0);
        errprintf (err, FS_EFAIL, "no free mapping slot");
        return NULL;
    }
    uint64_t start = offset & ~(uint64_t)(pagesz - 1);
    fm->maplen = len + (size_t)(offset - start);
    fm->slot = slot;
    fm->base = mmap (NULL, fm->maplen, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, (off_t)start);
    if (fm->base == MAP_FAILED) {
        errprintf (err, FS_EFAIL, "mmap: %s", strerror (errno));
        atomic_store (&slot_used[slot], 0);
        free (fm);
        return NULL;
    }
    atomic_store (&slot_damaged[slot], false);
    atomic_store (&slot_lo[slot], (uintptr_t)fm->base);
    atomic_store (&slot_hi[slot], (uintptr_t)fm->base + fm->maplen);
    *data = (const char *)fm->base + (offset - start);
    return fm;
}

bool filemap_damaged (const struct filemap *fm)
{
    return atomic_load (&slot_damaged[fm->slot]);
}

void filemap_release (void *data, void *hint)
{
    struct filemap *fm = hint;
    (void)data;
    if (!fm)
        return;
    atomic_store (&slot_hi[fm->slot], 0);
    atomic_store (&slot_lo[fm->slot], 0);
    munmap (fm->base, fm->maplen);
    atomic_store (&slot_used[fm->slot], 0);
    free (fm);
}
