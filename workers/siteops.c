/* siteops.c - a site's operator actions (see siteops.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "common/log.h"
#include "meta.h"
#include "siteops.h"

static void add_key (void *arg, const char *pub)
{
    json_array_append_new (arg, json_string (pub));
}

static void admin_dir (const struct site_config *cfg, char *buf, size_t n)
{
    snprintf (buf, n, "%s/admin", cfg->keys);
}

json_t *siteops_operators (const struct site_config *cfg)
{
    char dir[PATH_MAX + 8];
    if (cfg->security != SEC_CURVE)
        return NULL;
    admin_dir (cfg, dir, sizeof (dir));
    json_t *a = json_array ();
    keys_each (dir, add_key, a);
    return a;
}

json_t *siteops_operators_changed (const struct site_config *cfg, json_t **last)
{
    json_t *now = siteops_operators (cfg);
    if (!now || (*last && json_equal (now, *last))) {
        json_decref (now);
        return NULL;
    }
    json_decref (*last);
    *last = json_incref (now);
    return now;
}

/* Is the request's key one of this site's operators?  0, or -1 with FS_EFAIL
 * naming the role (and an audit line). */
static int operator_check (const struct siteop *op, const char *by, const char *what,
                           const char *file, const char *name, const char *policy,
                           fs_error_t *err)
{
    char dir[PATH_MAX + 8];
    if (op->cfg->security != SEC_CURVE)
        return 0;                       /* no roles without authentication */
    admin_dir (op->cfg, dir, sizeof (dir));
    if (by && keys_listed (dir, by))
        return 0;
    errprintf (err, FS_EFAIL, "permission denied: %s at site %s is an action of that site's "
               "operators (keys in its keys/admin/), and this key is not one of them%s", what,
               op->cfg->name, !strcmp (op->m.op, "site.publish")
               ? "; scientists publish through job outputs (outputs: {NAME: {publish: NAME}})"
               : "");
    holdings_audit (!strcmp (op->m.op, "site.publish") ? "publish" : "policy", by, file, NULL,
                    name, NULL, policy, "refused", "not an operator of this site");
    return -1;
}

static json_t *do_publish (struct siteop *op, const char *by, fs_error_t *err)
{
    const char *path = NULL, *name = NULL, *policy = NULL;
    if (msg_get_str (&op->m, "path", true, &path, err) < 0
        || msg_get_str (&op->m, "name", false, &name, err) < 0
        || msg_get_str (&op->m, "policy", false, &policy, err) < 0
        || operator_check (op, by, "publishing", path, name, policy, err) < 0)
        return NULL;
    json_t *datasets = json_array (), *skipped = json_array ();
    if (holdings_publish (op->holdings, path, name, policy, by, datasets, skipped, err) < 0) {
        json_decref (datasets);
        json_decref (skipped);
        return NULL;
    }
    log_msg (LOG_INFO, "event=publish path=\"%s\" datasets=%zu skipped=%zu", path,
             json_array_size (datasets), json_array_size (skipped));
    return json_pack ("{s:o, s:o}", "datasets", datasets, "skipped", skipped);
}

static json_t *do_policy (struct siteop *op, const char *by, fs_error_t *err)
{
    const char *name = NULL, *policy = NULL;
    bool loosen = false;
    char before[1024] = "";
    if (msg_get_str (&op->m, "name", true, &name, err) < 0
        || msg_get_str (&op->m, "policy", true, &policy, err) < 0
        || msg_get_bool (&op->m, "loosen", false, &loosen, err) < 0
        || operator_check (op, by, "changing a dataset's policy", NULL, name, policy, err) < 0)
        return NULL;
    json_t *datasets = json_array ();
    if (holdings_set_policy (op->holdings, name, policy, loosen, by, datasets, before,
                             sizeof (before), err) < 0) {
        json_decref (datasets);
        return NULL;
    }
    fs_policy_t p;
    char now[1024];
    policy_parse (policy, &p, NULL);
    return json_pack ("{s:o, s:s, s:s, s:b}", "datasets", datasets, "before", before, "policy",
                      policy_format (&p, now, sizeof (now)), "loosen", loosen);
}

void siteops_job (void *arg, struct zsock *out)
{
    struct siteop *op = arg;
    if (!out) {
        msg_release (&op->m);
        free (op);
        return;
    }
    fs_error_t err = { 0 };
    const char *by = NULL;
    json_t *body = NULL;
    if (msg_get_str (&op->m, "by", false, &by, &err) == 0)
        body = !strcmp (op->m.op, "site.publish") ? do_publish (op, by, &err)
                                                  : do_policy (op, by, &err);
    struct zmsg *reply;
    if (body && !strcmp (op->m.op, "site.publish"))
        meta_send_ahead (out, op->cfg->name, json_object_get (body, "datasets"), 3000000);
    if (body)
        reply = msg_reply (op->m.op, op->m.id, body);
    else {
        log_msg (LOG_INFO, "event=%s.refused reason=\"%s\"", op->m.op, err.text);
        reply = msg_error (op->m.op, op->m.id, err.code, "%s", err.text);
    }
    zmsg_insert (reply, 0, "S", 1);
    zsock_send (out, &reply, &err);
    msg_release (&op->m);
    free (op);
}
