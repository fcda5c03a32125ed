/* dataserver.h - the site's data plane (SPEC section 7): data.open and
 * data.piece requests, served in the I/O pool so reads never stall the loop.
 * The same requests with "bundle": DIGEST instead of a dataset's name serve an
 * app bundle this site holds, as a one-dimensional uint8 array (SPEC section
 * 10; docs/protocol.md, "Apps"). */
#ifndef FS_DATASERVER_H
#define FS_DATASERVER_H

#include "common/config.h"
#include "common/msg.h"
#include "appstore.h"
#include "holdings.h"

struct data_req {
    unsigned char rid[256];     /* routing id of the requester */
    size_t ridlen;
    struct msg m;               /* owned: released by the job */
    char key[64];               /* the requester's CURVE public key ("" without CURVE) */
    struct holdings *holdings;  /* borrowed */
    const struct appstore *apps;    /* borrowed: the bundles this site holds */
    const struct site_config *cfg;  /* borrowed */
};

/* With security: curve, a request may claim to read as a site (`reader`, for
 * the data policies) only from that site's key, in that site's region: the
 * sites' keys as the scheduler knows them (sites.keys), set by the worker's
 * loop.  dataserver_peers_wanted() is true once a request named a site not in
 * them (the loop then asks the scheduler again; it clears the flag). */
void dataserver_peers (const json_t *sites);
bool dataserver_peers_wanted (void);

/* iopool job: arg is a malloc'd struct data_req, freed here.  Sends to out
 * one message: frame 'D', the routing id, then the reply frames. */
void dataserver_job (void *arg, struct zsock *out);

#endif
