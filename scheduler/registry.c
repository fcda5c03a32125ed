/* registry.c - sites as the scheduler sees them (see registry.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "registry.h"

struct registry {
    size_t n, cap;
    struct site **sites;
};

struct registry *registry_create (void)
{
    return calloc (1, sizeof (struct registry));
}

void registry_destroy (struct registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        json_decref (r->sites[i]->operators);
        free (r->sites[i]);
    }
    free (r->sites);
    free (r);
}

struct site *registry_get (struct registry *r, const char *name, bool create)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp (r->sites[i]->name, name))
            return r->sites[i];
    if (!create)
        return NULL;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct site **s = realloc (r->sites, cap * sizeof (*s));
        if (!s)
            return NULL;
        r->sites = s;
        r->cap = cap;
    }
    struct site *s = calloc (1, sizeof (*s));
    if (!s)
        return NULL;
    snprintf (s->name, sizeof (s->name), "%s", name);
    /* keep sorted by name, so listings are stable */
    size_t i = r->n;
    while (i > 0 && strcmp (r->sites[i - 1]->name, name) > 0) {
        r->sites[i] = r->sites[i - 1];
        i--;
    }
    r->sites[i] = s;
    r->n++;
    return s;
}

struct site *registry_by_rid (struct registry *r, const void *rid, size_t ridlen)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->sites[i]->up && r->sites[i]->ridlen == ridlen
            && !memcmp (r->sites[i]->rid, rid, ridlen))
            return r->sites[i];
    return NULL;
}

size_t registry_count (const struct registry *r)
{
    return r->n;
}

struct site *registry_at (struct registry *r, size_t i)
{
    return i < r->n ? r->sites[i] : NULL;
}

int registry_expire (struct registry *r, double now, double timeout)
{
    int n = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct site *s = r->sites[i];
        if (s->up && now - s->last_heartbeat > timeout) {
            s->up = false;
            s->ridlen = 0;
            log_msg (LOG_WARN, "event=site.down site=%s silent_s=%.1f", s->name,
                     now - s->last_heartbeat);
            n++;
        }
    }
    return n;
}
