/* test_filemap.c - byte ranges of a file served in place (workers/filemap.c):
 * the mapped bytes are the file's, ranges outside the file are refused, and a
 * file that shrinks under a mapping marks it damaged instead of killing the
 * process with SIGBUS (and reads of the lost pages see zeros). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "workers/filemap.h"

#define FSIZE (3 << 20)

static char path[4200];

static int make_file (void)
{
    const char *base = getenv ("TMPDIR");
    snprintf (path, sizeof (path), "%s/test_filemap.XXXXXX", base && *base ? base : "/tmp");
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    unsigned char *b = malloc (FSIZE);
    for (size_t i = 0; i < FSIZE; i++)
        b[i] = (unsigned char)(i * 131 + (i >> 12));
    assert_int_equal (write (fd, b, FSIZE), FSIZE);
    free (b);
    return fd;
}

static void test_bytes (void **state)
{
    (void)state;
    int fd = make_file ();
    fs_error_t err = { 0 };
    /* an unaligned offset and length, inside the file */
    const void *p = NULL;
    struct filemap *fm = filemap_open (fd, 4096 * 5 + 123, 1000000, &p, &err);
    assert_non_null (fm);
    unsigned char *want = malloc (1000000);
    assert_int_equal (pread (fd, want, 1000000, 4096 * 5 + 123), 1000000);
    assert_memory_equal (p, want, 1000000);
    assert_false (filemap_damaged (fm));
    filemap_release ((void *)p, fm);
    free (want);
    /* the last byte exactly, then past the end, and nothing */
    fm = filemap_open (fd, FSIZE - 1, 1, &p, &err);
    assert_non_null (fm);
    filemap_release ((void *)p, fm);
    assert_null (filemap_open (fd, FSIZE - 10, 11, &p, &err));
    assert_non_null (strstr (err.text, "not inside the file"));
    assert_null (filemap_open (fd, (uint64_t)FSIZE + 4096, 1, &p, &err));
    assert_null (filemap_open (fd, 0, 0, &p, &err));
    /* many at once: slots are reused */
    struct filemap *many[64];
    for (int i = 0; i < 64; i++)
        assert_non_null (many[i] = filemap_open (fd, (uint64_t)i * 4096, 4096, &p, &err));
    for (int i = 0; i < 64; i++)
        filemap_release (NULL, many[i]);
    close (fd);
    unlink (path);
}

static void test_shrunk (void **state)
{
    (void)state;
    int fd = make_file ();
    fs_error_t err = { 0 };
    const void *p = NULL;
    struct filemap *fm = filemap_open (fd, 0, FSIZE, &p, &err);
    assert_non_null (fm);
    const volatile unsigned char *b = p;
    unsigned char first = b[10];
    /* a writer replaces the file in place: it shrinks to 1 MiB */
    assert_int_equal (ftruncate (fd, 1 << 20), 0);
    unsigned sum = 0;
    for (size_t i = 0; i < FSIZE; i += 4096)
        sum += b[i];                /* SIGBUS past 1 MiB without the guard */
    assert_int_equal (b[10], first);
    assert_int_equal (b[(2 << 20) + 5], 0);     /* a lost page reads as zeros */
    assert_true (filemap_damaged (fm));
    (void)sum;
    filemap_release ((void *)p, fm);
    /* a fresh mapping of what is left is whole again */
    fm = filemap_open (fd, 0, 1 << 20, &p, &err);
    assert_non_null (fm);
    assert_false (filemap_damaged (fm));
    filemap_release ((void *)p, fm);
    close (fd);
    unlink (path);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_bytes),
        cmocka_unit_test (test_shrunk),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
