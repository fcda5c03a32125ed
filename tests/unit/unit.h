/* unit.h - what several unit tests need around their module: paths under a test's
 * own temporary directory, and whole files written and read.  Header only: each
 * unit test is one program.  Include after <cmocka.h>. */
#ifndef FS_TESTS_UNIT_H
#define FS_TESTS_UNIT_H

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* DIR/REL in one of eight static buffers used in rotation, so that a call may
 * take several (tu_path (d, "a"), tu_path (d, "b")). */
static inline const char *tu_path (const char *dir, const char *rel)
{
    static char p[8][PATH_MAX + 256];
    static int k;
    k = (k + 1) % 8;
    snprintf (p[k], sizeof (p[k]), "%s/%s", dir, rel);
    return p[k];
}

/* A file at path holding text, with mode (also when it existed before). */
static inline void tu_put (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, text, strlen (text)), (ssize_t)strlen (text));
    close (fd);
    assert_int_equal (chmod (path, mode), 0);
}

/* The whole content of a file, malloc'd and NUL-terminated ("" when it is missing). */
static inline char *tu_slurp (const char *path)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc (cap);
    assert_non_null (buf);
    FILE *f = fopen (path, "r");
    for (size_t got = 1; f && got > 0;) {
        if (cap - n < 2) {
            buf = realloc (buf, cap *= 2);
            assert_non_null (buf);
        }
        got = fread (buf + n, 1, cap - n - 1, f);
        n += got;
    }
    if (f)
        fclose (f);
    buf[n] = '\0';
    return buf;
}

#endif
