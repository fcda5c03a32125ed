/* launch_env.c - a task's environment and program lookup, shared by the
 * launchers (see launch_proc.h): merging the task's variables into the
 * worker's environment, and finding a program as execve would. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/launch/launch_proc.h"

extern char **environ;

/* NAME=... matches name? */
static bool env_is (const char *entry, const char *name, size_t len)
{
    return strncmp (entry, name, len) == 0 && entry[len] == '=';
}

char **launch_env_merge (const char *const *extra1, const char *const *extra2, fs_error_t *err)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    const char *const *lists[2] = { extra1, extra2 };
    for (int l = 0; l < 2; l++)
        for (const char *const *e = lists[l]; e && *e; e++)
            n++;
    char **v = calloc (n + 1, sizeof (*v));
    if (!v) {
        errprintf (err, FS_EFAIL, "out of memory building a task's environment");
        return NULL;
    }
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        v[k++] = *e;
    for (int l = 0; l < 2; l++)
        for (const char *const *e = lists[l]; e && *e; e++) {
            const char *eq = strchr (*e, '=');
            if (!eq || eq == *e) {
                free (v);
                errprintf (err, FS_EINVAL, "task environment entry '%s' is not NAME=VALUE", *e);
                return NULL;
            }
            size_t len = (size_t) (eq - *e), j;
            for (j = 0; j < k && !env_is (v[j], *e, len); j++)
                ;
            v[j] = (char *) *e;
            if (j == k)
                k++;
        }
    v[k] = NULL;
    return v;
}

const char *launch_env_get (char *const envp[], const char *name)
{
    size_t len = strlen (name);
    for (char *const *e = envp; e && *e; e++)
        if (env_is (*e, name, len))
            return *e + len + 1;
    return NULL;
}

/* 0 when path is an executable regular file, else ENOENT or EACCES. */
static int exec_ok (const char *path)
{
    struct stat sb;
    if (stat (path, &sb) < 0)
        return errno == ENOMEM ? ENOMEM : errno == EACCES ? EACCES : ENOENT;
    if (S_ISDIR (sb.st_mode) || access (path, X_OK) < 0)
        return EACCES;
    return 0;
}

/* Check candidate cand (as the child will exec it, after chdir(cwd)); returns
 * 0, ENOENT, EACCES or ENOMEM. */
static int check_cand (const char *cand, const char *cwd)
{
    if (cand[0] == '/' || !cwd)
        return exec_ok (cand);
    size_t n = strlen (cwd) + strlen (cand) + 2;
    char *full = malloc (n);
    if (!full)
        return ENOMEM;
    snprintf (full, n, "%s/%s", cwd, cand);
    int e = exec_ok (full);
    free (full);
    return e;
}

char *launch_resolve (const char *name, const char *path_env, const char *cwd)
{
    if (!name || !*name) {
        errno = ENOENT;
        return NULL;
    }
    if (strchr (name, '/')) {
        int e = check_cand (name, cwd);
        if (e) {
            errno = e;
            return NULL;
        }
        char *r = strdup (name);
        if (!r)
            errno = ENOMEM;
        return r;
    }
    if (!path_env)
        path_env = "/usr/local/bin:/usr/bin:/bin";
    int last = ENOENT;
    const char *s = path_env;
    for (;;) {
        const char *colon = strchr (s, ':');
        size_t dlen = colon ? (size_t) (colon - s) : strlen (s);
        size_t n = dlen + strlen (name) + 3;
        char *cand = malloc (n);
        if (!cand) {
            errno = ENOMEM;
            return NULL;
        }
        if (dlen == 0)                  /* an empty entry is the working directory */
            snprintf (cand, n, "./%s", name);
        else
            snprintf (cand, n, "%.*s/%s", (int) dlen, s, name);
        int e = check_cand (cand, cwd);
        if (e == 0)
            return cand;
        free (cand);
        if (e == ENOMEM) {
            errno = ENOMEM;
            return NULL;
        }
        if (e == EACCES)
            last = EACCES;
        if (!colon)
            break;
        s = colon + 1;
    }
    errno = last;
    return NULL;
}
