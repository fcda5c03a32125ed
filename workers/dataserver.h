/* dataserver.h - the site's data plane (SPEC section 7): data.open and
 * data.piece requests, served in the I/O pool so reads never stall the loop. */
#ifndef FS_DATASERVER_H
#define FS_DATASERVER_H

#include "common/config.h"
#include "common/msg.h"
#include "holdings.h"

struct data_req {
    unsigned char rid[256];     /* routing id of the requester */
    size_t ridlen;
    struct msg m;               /* owned: released by the job */
    struct holdings *holdings;  /* borrowed */
    const struct site_config *cfg;  /* borrowed */
};

/* iopool job: arg is a malloc'd struct data_req, freed here.  Sends to out
 * one message: frame 'D', the routing id, then the reply frames. */
void dataserver_job (void *arg, struct zsock *out);

#endif
