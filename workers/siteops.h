/* siteops.h - a site's operator actions (SPEC sections 3 and 8): publishing
 * data and changing a dataset's policy.  The scheduler forwards them as
 * site.publish and site.policy with `by`, the public key the client
 * authenticated with (docs/protocol.md); the site decides: with CURVE only its
 * own operators - keys in the admin/ directory of its keys directory - may,
 * whatever the scheduler thought.  Federation admins are not site operators
 * unless the site lists them.  With security none there are no roles.  Every
 * request, allowed or refused, leaves audit lines in the site's log. */
#ifndef FS_SITEOPS_H
#define FS_SITEOPS_H

#include <jansson.h>

#include "common/config.h"
#include "common/msg.h"
#include "common/zsock.h"
#include "holdings.h"

/* The site's operator keys (z85, in file name order) for site.hello, so the
 * scheduler can refuse others early; NULL with security none.  New reference. */
json_t *siteops_operators (const struct site_config *cfg);

/* The operator keys when they differ from *last (which is replaced by a
 * reference to them), for a heartbeat; else NULL.  New reference. */
json_t *siteops_operators_changed (const struct site_config *cfg, json_t **last);

/* One site.publish or site.policy request, run in the I/O pool. */
struct siteop {
    struct holdings *holdings;          /* borrowed */
    const struct site_config *cfg;      /* borrowed */
    struct msg m;                       /* owned */
};

/* An iopool job: arg is a struct siteop (calloc'd; freed here with its
 * message).  The reply goes to out as frames 'S' + the message. */
void siteops_job (void *arg, struct zsock *out);

#endif
