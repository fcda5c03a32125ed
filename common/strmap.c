/* strmap.c - the string map (see strmap.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

struct slot {
    uint64_t hash;
    size_t key1;                /* offset of the key in the arena + 1; 0: empty */
    size_t len;
    int64_t value;
};

struct strmap {
    struct slot *slots;
    size_t mask;                /* slots - 1, a power of two minus one */
    size_t n;
    char *arena;                /* the keys, each followed by a NUL */
    size_t used, cap;
    size_t dead;                /* arena bytes of removed keys */
};

static uint64_t hash_bytes (const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

struct strmap *strmap_create (size_t hint)
{
    struct strmap *m = calloc (1, sizeof (*m));
    if (!m)
        return NULL;
    size_t size = 16;
    while (size < 2 * hint)
        size *= 2;
    m->slots = calloc (size, sizeof (*m->slots));
    if (!m->slots) {
        free (m);
        return NULL;
    }
    m->mask = size - 1;
    return m;
}

void strmap_destroy (struct strmap *m)
{
    if (!m)
        return;
    free (m->slots);
    free (m->arena);
    free (m);
}

/* The slot of key, or the empty slot where it would go. */
static struct slot *probe (const struct strmap *m, const void *key, size_t len, uint64_t h)
{
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        struct slot *s = &m->slots[i];
        if (!s->key1
            || (s->hash == h && s->len == len && !memcmp (m->arena + s->key1 - 1, key, len)))
            return s;
    }
}

static int grow_slots (struct strmap *m)
{
    size_t size = (m->mask + 1) * 2;
    struct slot *t = calloc (size, sizeof (*t));
    if (!t)
        return -1;
    for (size_t i = 0; i <= m->mask; i++) {
        const struct slot *s = &m->slots[i];
        if (!s->key1)
            continue;
        size_t k = (size_t)s->hash & (size - 1);
        while (t[k].key1)
            k = (k + 1) & (size - 1);
        t[k] = *s;
    }
    free (m->slots);
    m->slots = t;
    m->mask = size - 1;
    return 0;
}

int strmap_putn (struct strmap *m, const void *key, size_t len, int64_t value)
{
    uint64_t h = hash_bytes (key, len);
    struct slot *s = probe (m, key, len, h);
    if (s->key1) {
        s->value = value;
        return 0;
    }
    if (m->used + len + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->used + len + 1)
            cap *= 2;
        char *a = realloc (m->arena, cap);
        if (!a)
            return -1;
        m->arena = a;
        m->cap = cap;
    }
    if ((m->n + 1) * 2 > m->mask + 1) {
        if (grow_slots (m) < 0)
            return -1;
        s = probe (m, key, len, h);
    }
    if (len)
        memcpy (m->arena + m->used, key, len);
    m->arena[m->used + len] = '\0';
    *s = (struct slot){ h, m->used + 1, len, value };
    m->used += len + 1;
    m->n++;
    return 0;
}

int strmap_put (struct strmap *m, const char *key, int64_t value)
{
    return strmap_putn (m, key, strlen (key), value);
}

int strmap_find (const struct strmap *m, const void *key, size_t len, int64_t *value)
{
    const struct slot *s = probe (m, key, len, hash_bytes (key, len));
    if (!s->key1)
        return 0;
    *value = s->value;
    return 1;
}

int64_t strmap_getn (const struct strmap *m, const void *key, size_t len)
{
    int64_t v;
    return strmap_find (m, key, len, &v) ? v : -1;
}

int64_t strmap_get (const struct strmap *m, const char *key)
{
    return strmap_getn (m, key, strlen (key));
}

/* Rewrite the arena with the live keys only (when removals left most of it
 * dead).  Failing to allocate just leaves it as it is. */
static void compact (struct strmap *m)
{
    size_t cap = 256;
    while (cap < m->used - m->dead)
        cap *= 2;
    char *a = malloc (cap);
    if (!a)
        return;
    size_t used = 0;
    for (size_t i = 0; i <= m->mask; i++) {
        struct slot *s = &m->slots[i];
        if (!s->key1)
            continue;
        memcpy (a + used, m->arena + s->key1 - 1, s->len + 1);
        s->key1 = used + 1;
        used += s->len + 1;
    }
    free (m->arena);
    m->arena = a;
    m->cap = cap;
    m->used = used;
    m->dead = 0;
}

int strmap_remove (struct strmap *m, const void *key, size_t len)
{
    struct slot *s = probe (m, key, len, hash_bytes (key, len));
    if (!s->key1)
        return 0;
    m->dead += s->len + 1;
    m->n--;
    /* Backward shift: move up every later entry of the run whose home slot
     * is not strictly between the hole and it, so lookups never meet a gap. */
    size_t hole = (size_t)(s - m->slots);
    for (size_t j = (hole + 1) & m->mask; m->slots[j].key1; j = (j + 1) & m->mask) {
        size_t home = (size_t)m->slots[j].hash & m->mask;
        bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (between)
            continue;
        m->slots[hole] = m->slots[j];
        hole = j;
    }
    m->slots[hole] = (struct slot){ 0 };
    if (m->dead > 4096 && m->dead * 2 > m->used)
        compact (m);
    return 1;
}

size_t strmap_count (const struct strmap *m)
{
    return m->n;
}
