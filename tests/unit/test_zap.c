/* test_zap.c - CURVE key files, the allow-lists the ZAP handler consults, the
 * handler itself (a CURVE server admitting only listed keys, with their role
 * on each message) and the key-directory check of the configs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/keys.h"
#include "common/zsock.h"

static char tmp[256];

static void put (const char *rel, const char *text)
{
    char path[512];
    snprintf (path, sizeof (path), "%s/%s", tmp, rel);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
}

static void sub (const char *rel)
{
    char path[512];
    snprintf (path, sizeof (path), "%s/%s", tmp, rel);
    mkdir (path, 0700);
}

static void pub_of (const char *name, char out[FS_Z85_KEY + 1])
{
    char path[512];
    fs_error_t err;
    snprintf (path, sizeof (path), "%s/%s.pub", tmp, name);
    if (keys_read (path, out, NULL, &err) < 0)
        fail_msg ("%s", err.text);
}

static void cp (const char *from, const char *to)
{
    char a[512], b[512], cmd[1100];
    snprintf (a, sizeof (a), "%s/%s", tmp, from);
    snprintf (b, sizeof (b), "%s/%s", tmp, to);
    snprintf (cmd, sizeof (cmd), "cp '%s' '%s'", a, b);
    assert_int_equal (system (cmd), 0);
}

static int setup (void **state)
{
    (void)state;
    snprintf (tmp, sizeof (tmp), "/tmp/test_zap.XXXXXX");
    assert_non_null (mkdtemp (tmp));
    return 0;
}

static int teardown (void **state)
{
    (void)state;
    char cmd[300];
    snprintf (cmd, sizeof (cmd), "rm -rf '%s'", tmp);
    return system (cmd) == 0 ? 0 : -1;
}

static void test_key_files (void **state)
{
    (void)state;
    fs_error_t err = { 0 };
    char pub[FS_Z85_KEY + 1], sec[FS_Z85_KEY + 1], path[512];
    assert_int_equal (zsock_keygen (tmp, "a", &err), 0);
    snprintf (path, sizeof (path), "%s/a.key", tmp);
    assert_int_equal (keys_read (path, pub, sec, &err), 0);
    assert_int_equal (strlen (pub), FS_Z85_KEY);
    assert_int_equal (strlen (sec), FS_Z85_KEY);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal (st.st_mode & 077, 0);     /* the secret is private */
    char pub2[FS_Z85_KEY + 1];
    pub_of ("a", pub2);
    assert_string_equal (pub, pub2);
    /* A .pub file has no secret. */
    snprintf (path, sizeof (path), "%s/a.pub", tmp);
    assert_int_equal (keys_read (path, pub2, sec, &err), -1);
    assert_non_null (strstr (err.text, "not a CURVE key file"));
    /* Malformed: short key, bad characters, nothing, missing file. */
    put ("bad1.pub", "public = \"abc\"\n");
    put ("bad2.pub", "public = \"0123456789012345678901234567890123456789\"\n"
                     "public = \"012345678901234567890123456789012345678~\"\n");
    put ("bad3.pub", "hello\n");
    const char *bad[] = { "bad1.pub", "bad2.pub", "bad3.pub", "missing.pub" };
    for (size_t i = 0; i < 4; i++) {
        snprintf (path, sizeof (path), "%s/%s", tmp, bad[i]);
        assert_int_equal (keys_read (path, pub2, NULL, &err), -1);
    }
}

static void test_roles (void **state)
{
    (void)state;
    fs_error_t err = { 0 };
    char adm[FS_Z85_KEY + 1], usr[FS_Z85_KEY + 1], other[FS_Z85_KEY + 1], d[512];
    assert_int_equal (zsock_keygen (tmp, "adm", &err), 0);
    assert_int_equal (zsock_keygen (tmp, "usr", &err), 0);
    assert_int_equal (zsock_keygen (tmp, "other", &err), 0);
    pub_of ("adm", adm);
    pub_of ("usr", usr);
    pub_of ("other", other);
    sub ("r");
    /* No allow-lists at all: nobody. */
    snprintf (d, sizeof (d), "%s/r", tmp);
    assert_null (keys_role (d, adm));
    sub ("r/authorized");
    sub ("r/admin");
    cp ("usr.pub", "r/authorized/usr.pub");
    cp ("adm.pub", "r/admin/adm.pub");
    put ("r/authorized/junk.pub", "not a key\n");
    put ("r/authorized/other.txt", "");        /* not a .pub: ignored */
    cp ("other.pub", "r/authorized/other.txt");
    assert_string_equal (keys_role (d, adm), "admin");
    assert_string_equal (keys_role (d, usr), "user");
    assert_null (keys_role (d, other));
    assert_null (keys_role (d, NULL));
    assert_null (keys_role (d, "short"));
    /* Admin wins when a key is in both lists; removal counts at once. */
    cp ("adm.pub", "r/authorized/adm.pub");
    assert_string_equal (keys_role (d, adm), "admin");
    char path[600];
    snprintf (path, sizeof (path), "%s/r/authorized/usr.pub", tmp);
    unlink (path);
    assert_null (keys_role (d, usr));
}

static void test_zap_handler (void **state)
{
    (void)state;
    fs_error_t err = { 0 };
    char d[512], srv[FS_Z85_KEY + 1];
    sub ("s");
    sub ("s/authorized");
    sub ("s/admin");
    snprintf (d, sizeof (d), "%s/s", tmp);
    assert_int_equal (zsock_keygen (d, "scheduler", &err), 0);
    pub_of ("s/scheduler", srv);
    const char *who[] = { "u", "a", "x" };
    for (int i = 0; i < 3; i++) {
        char cd[512];
        snprintf (cd, sizeof (cd), "%s/%s", tmp, who[i]);
        mkdir (cd, 0700);
        assert_int_equal (zsock_keygen (cd, "client", &err), 0);
    }
    cp ("u/client.pub", "s/authorized/u.pub");
    cp ("a/client.pub", "s/admin/a.pub");
    struct zsock_opts so = { .security = SEC_CURVE, .keys = d, .key_name = "scheduler",
                             .server = true, .maxmsgsize = 1 << 20 };
    struct zsock *s = zsock_create (ZSOCK_ROUTER, &so, &err);
    if (!s)
        fail_msg ("%s", err.text);
    assert_int_equal (zsock_bind (s, "tcp://127.0.0.1:*", &err), 0);
    char uri[256];
    snprintf (uri, sizeof (uri), "%s", zsock_endpoint (s));
    const char *want[] = { "user", "admin", NULL };
    for (int i = 0; i < 3; i++) {
        char cd[512], cpub[FS_Z85_KEY + 1];
        snprintf (cd, sizeof (cd), "%s/%s", tmp, who[i]);
        char rel[64];
        snprintf (rel, sizeof (rel), "%s/client", who[i]);
        pub_of (rel, cpub);
        /* Keep the client open until the answer (or the silence) is seen. */
        struct zsock_opts o = { .security = SEC_CURVE, .keys = cd, .key_name = "client",
                                .serverkey = srv, .maxmsgsize = 1 << 20 };
        struct zsock *c = zsock_create (ZSOCK_DEALER, &o, &err);
        assert_non_null (c);
        assert_int_equal (zsock_connect (c, uri, &err), 0);
        struct zmsg *m = zmsg_create ();
        zmsg_addstr (m, "hi");
        assert_int_equal (zsock_send (c, &m, &err), 0);
        bool ready = false;
        int r = zsock_poll (&s, 1, &ready, want[i] ? 5000 : 700);
        if (!want[i]) {
            assert_int_equal (r, 0);            /* the unlisted key: nothing arrives */
        } else {
            assert_true (ready);
            struct zmsg *got = zsock_recv (s, true);
            assert_non_null (got);
            assert_int_equal (zmsg_size (got), 2);
            assert_non_null (zmsg_user (got));
            assert_string_equal (zmsg_user (got), want[i]);
            assert_non_null (zmsg_key (got));
            assert_string_equal (zmsg_key (got), cpub);
            zmsg_destroy (&got);
        }
        zsock_destroy (c);
    }
    /* A client without CURVE gets nowhere either. */
    struct zsock *p = zsock_create (ZSOCK_DEALER, NULL, &err);
    assert_int_equal (zsock_connect (p, uri, &err), 0);
    struct zmsg *m = zmsg_create ();
    zmsg_addstr (m, "hi");
    zsock_send (p, &m, &err);
    bool ready = false;
    assert_int_equal (zsock_poll (&s, 1, &ready, 700), 0);
    zsock_destroy (p);
    /* A client whose own key file is missing: a clear error. */
    struct zsock_opts bad = { .security = SEC_CURVE, .keys = tmp, .key_name = "nobody" };
    assert_null (zsock_create (ZSOCK_DEALER, &bad, &err));
    assert_non_null (strstr (err.text, "nobody.key"));
    zsock_destroy (s);
    zsock_shutdown ();
}

static void test_config_keys (void **state)
{
    (void)state;
    fs_error_t err = { 0 };
    char path[512];
    sub ("c");
    put ("c/federation.yaml", "name: f\nsecurity: curve\nkeys: k\n");
    snprintf (path, sizeof (path), "%s/c/federation.yaml", tmp);
    struct fed_config fc;
    assert_int_equal (fed_config_load (path, &fc, &err), 0);
    assert_int_equal (fed_config_check_keys (&fc, &err), -1);
    assert_int_equal (err.code, FS_EINVAL);
    assert_non_null (strstr (err.text, "federation.yaml:3:7: keys:"));
    assert_non_null (strstr (err.text, "is not a directory"));
    fed_config_free (&fc);
    sub ("c/k");
    assert_int_equal (fed_config_load (path, &fc, &err), 0);
    assert_int_equal (fed_config_check_keys (&fc, &err), -1);
    assert_non_null (strstr (err.text, "scheduler.key is missing"));
    fed_config_free (&fc);
    char kd[512];
    snprintf (kd, sizeof (kd), "%s/c/k", tmp);
    assert_int_equal (zsock_keygen (kd, "scheduler", &err), 0);
    assert_int_equal (fed_config_load (path, &fc, &err), 0);
    assert_int_equal (fed_config_check_keys (&fc, &err), -1);
    assert_non_null (strstr (err.text, "authorized/ is missing"));
    fed_config_free (&fc);
    sub ("c/k/authorized");
    assert_int_equal (fed_config_load (path, &fc, &err), 0);
    assert_int_equal (fed_config_check_keys (&fc, &err), 0);
    fed_config_free (&fc);
    /* Default keys dir, position of security:; none checks nothing. */
    put ("c/federation.yaml", "name: f\n\nsecurity: curve\n");
    assert_int_equal (fed_config_load (path, &fc, &err), 0);
    assert_int_equal (fed_config_check_keys (&fc, &err), -1);
    assert_non_null (strstr (err.text, "federation.yaml:3:11: keys:"));
    fed_config_free (&fc);
    put ("c/federation.yaml", "name: f\nsecurity: none\nkeys: nowhere\n");
    assert_int_equal (fed_config_load (path, &fc, &err), 0);
    assert_int_equal (fed_config_check_keys (&fc, &err), 0);
    fed_config_free (&fc);
    /* A site needs site.key, scheduler.pub and authorized/. */
    put ("c/site.yaml", "name: s\nlisten: tcp://127.0.0.1:1\nkeys: k\n");
    snprintf (path, sizeof (path), "%s/c/site.yaml", tmp);
    struct site_config sc;
    assert_int_equal (site_config_load (path, &sc, &err), 0);
    assert_int_equal (site_config_check_keys (&sc, &err), -1);
    assert_non_null (strstr (err.text, "site.yaml:3:7: keys:"));
    assert_non_null (strstr (err.text, "site.key is missing"));
    assert_int_equal (zsock_keygen (kd, "site", &err), 0);
    char sp[600];
    snprintf (sp, sizeof (sp), "%s/scheduler.pub", kd);
    unlink (sp);
    assert_int_equal (site_config_check_keys (&sc, &err), -1);
    assert_non_null (strstr (err.text, "scheduler.pub is missing"));
    put ("c/k/scheduler.pub", "public = \"x\"\n");
    assert_int_equal (site_config_check_keys (&sc, &err), 0);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_key_files, setup, teardown),
        cmocka_unit_test_setup_teardown (test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown (test_zap_handler, setup, teardown),
        cmocka_unit_test_setup_teardown (test_config_keys, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
