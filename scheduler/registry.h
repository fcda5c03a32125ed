/* registry.h - the sites of the federation as the scheduler sees them:
 * hello (with protocol version), heartbeats, up/down/drained. */
#ifndef FS_REGISTRY_H
#define FS_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

struct site {
    char name[64];
    char region[64];
    char data_uri[FS_URI_MAX];
    char curve_key[41];         /* its public key (z85) from site.hello; "" if none */
    int cores, cores_free, running;
    int numa;
    double memory;
    int gpus;
    double last_heartbeat;      /* wall-clock seconds; 0: never since start */
    bool up;
    bool drained;
    char reason[256];
    unsigned char rid[256];     /* routing id of its connection to the scheduler */
    size_t ridlen;
    json_t *operators;          /* its operators' public keys (site.hello, heartbeats;
                                 * owned), NULL until it says (then it decides alone) */
    unsigned conn;              /* connections it has said hello on since we started
                                 * (a message sent on an older one may be lost) */
};

struct registry;

struct registry *registry_create (void);
void registry_destroy (struct registry *r);     /* accepts NULL */
/* Find or add by name (borrowed; valid until registry_destroy). */
struct site *registry_get (struct registry *r, const char *name, bool create);
struct site *registry_by_rid (struct registry *r, const void *rid, size_t ridlen);
size_t registry_count (const struct registry *r);
struct site *registry_at (struct registry *r, size_t i);
/* Mark down every up site silent for longer than timeout; returns how many. */
int registry_expire (struct registry *r, double now, double timeout);

#endif
