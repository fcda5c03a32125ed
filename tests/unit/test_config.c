/* test_config.c - federation.yaml and site.yaml: defaults, values, and each
 * error reported at its line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/errlist.h"

static char tmp[256];           /* a fresh directory, resolved with realpath() */
static fs_error_t err;

static int setup (void **state)
{
    char t[] = "/tmp/test_config_XXXXXX", real[PATH_MAX];
    if (!mkdtemp (t) || !realpath (t, real) || strlen (real) >= sizeof (tmp))
        return -1;
    strcpy (tmp, real);
    return 0;
}

static int teardown (void **state)
{
    char cmd[PATH_MAX + 16];
    snprintf (cmd, sizeof (cmd), "rm -rf '%s'", tmp);
    return system (cmd) == 0 ? 0 : -1;
}

/* Write TEXT to tmp/NAME; returns the path (static buffer). */
static const char *put (const char *name, const char *text)
{
    static char path[PATH_MAX];
    snprintf (path, sizeof (path), "%s/%s", tmp, name);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    fputs (text, f);
    fclose (f);
    return path;
}

static void mkdir_tmp (const char *name)
{
    char path[PATH_MAX];
    snprintf (path, sizeof (path), "%s/%s", tmp, name);
    mkdir (path, 0755);
}

/* Loading TEXT as a federation file fails with "FILE:LOC: ...NEEDLE...". */
static void fed_bad (const char *text, const char *loc, const char *needle)
{
    struct fed_config cfg;
    const char *path = put ("federation.yaml", text);
    char want[PATH_MAX + 64];
    snprintf (want, sizeof (want), "%s:%s: ", path, loc);
    memset (&err, 0, sizeof (err));
    if (fed_config_load (path, &cfg, &err) != -1 || err.code != FS_EINVAL
        || strncmp (err.text, want, strlen (want)) != 0 || !strstr (err.text, needle))
        fail_msg ("for:\n%s\ngot '%s' (code %d), want '%s...%s'", text, err.text, err.code, want,
                  needle);
    assert_null (cfg.links);
}

static void site_bad (const char *text, const char *loc, const char *needle)
{
    struct site_config cfg;
    const char *path = put ("site.yaml", text);
    char want[PATH_MAX + 64];
    snprintf (want, sizeof (want), "%s:%s: ", path, loc);
    memset (&err, 0, sizeof (err));
    if (site_config_load (path, &cfg, &err) != -1 || err.code != FS_EINVAL
        || strncmp (err.text, want, strlen (want)) != 0 || !strstr (err.text, needle))
        fail_msg ("for:\n%s\ngot '%s' (code %d), want '%s...%s'", text, err.text, err.code, want,
                  needle);
}

static void beside (const char *name, char *out)
{
    snprintf (out, PATH_MAX, "%s/%s", tmp, name);
}

/* ------------------------------------------------------------------ */
/* federation.yaml */

static void test_fed_defaults (void **state)
{
    struct fed_config cfg;
    char want[PATH_MAX];
    const char *path = put ("federation.yaml", "# nothing set\n");
    assert_int_equal (fed_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.path, path);
    assert_string_equal (cfg.name, "fedsched");
    assert_string_equal (cfg.listen, "tcp://127.0.0.1:7700");
    beside ("scheduler.db", want);
    assert_string_equal (cfg.state, want);
    beside ("keys", want);
    assert_string_equal (cfg.keys, want);
    assert_int_equal (cfg.security, SEC_CURVE);
    assert_true (cfg.heartbeat_interval == 2);
    assert_true (cfg.heartbeat_timeout == 10);
    assert_true (cfg.link_default.bandwidth == 1e9);
    assert_true (cfg.link_default.latency == 0.010);
    assert_int_equal (cfg.nlinks, 0);
    assert_null (cfg.links);
    fed_config_free (&cfg);
    fed_config_free (NULL);
}

static void test_fed_full (void **state)
{
    struct fed_config cfg;
    char want[PATH_MAX];
    const char *path = put ("federation.yaml",
                            "version: 1\n"
                            "name: demo-fed\n"
                            "listen: tcp://0.0.0.0:7800\n"
                            "state: db/sched.db\n"
                            "security: none\n"
                            "keys: /etc/fedsched/keys\n"
                            "heartbeat: {interval: 500ms, timeout: 5s}\n"
                            "sites: [cma, nbs, mwr]\n"
                            "links:\n"
                            "  default: {bandwidth: 100MB/s, latency: 20ms}\n"
                            "  pairs:\n"
                            "    - between: [cma, nbs]\n"
                            "      bandwidth: 10Gbit/s\n"
                            "      latency: 2ms\n"
                            "    - between: [nbs, mwr]\n"
                            "      latency: 1s\n");
    assert_int_equal (fed_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.name, "demo-fed");
    assert_string_equal (cfg.listen, "tcp://0.0.0.0:7800");
    beside ("db/sched.db", want);
    assert_string_equal (cfg.state, want);
    assert_string_equal (cfg.keys, "/etc/fedsched/keys");
    assert_int_equal (cfg.security, SEC_NONE);
    assert_true (cfg.heartbeat_interval == 0.5);
    assert_true (cfg.heartbeat_timeout == 5);
    assert_true (cfg.link_default.bandwidth == 1e8);
    assert_true (cfg.link_default.latency == 0.020);
    assert_int_equal (cfg.nlinks, 2);
    assert_string_equal (cfg.links[0].from, "cma");
    assert_string_equal (cfg.links[0].to, "nbs");
    assert_true (cfg.links[0].bandwidth == 1.25e9);
    assert_true (cfg.links[0].latency == 0.002);
    assert_string_equal (cfg.links[1].from, "nbs");
    assert_string_equal (cfg.links[1].to, "mwr");
    assert_true (cfg.links[1].bandwidth == 1e8);        /* from the default */
    assert_true (cfg.links[1].latency == 1);
    fed_config_free (&cfg);
    assert_null (cfg.links);
}

static void test_fed_errors (void **state)
{
    fed_bad ("name: x\nnmae: y\n", "2:1", "unknown key 'nmae' (allowed: version, name, listen");
    fed_bad ("version: 2\n", "1:10", "version: unsupported version 2");
    fed_bad ("version: \"1\"\n", "1:10", "version: expected an integer");
    fed_bad ("name: my fed\n", "1:7", "name: federation name 'my fed'");
    fed_bad ("listen: http://x:80\n", "1:9", "listen: 'http://x:80' is not an endpoint");
    fed_bad ("listen: tcp://\n", "1:9", "listen: 'tcp://' has no address");
    fed_bad ("listen: [tcp://x:1]\n", "1:9", "listen: expected a string, found a sequence");
    fed_bad ("security: plain\n", "1:11", "security: expected 'curve' or 'none'");
    fed_bad ("state: \"\"\n", "1:8", "state: must not be empty");
    fed_bad ("heartbeat: 5s\n", "1:12", "heartbeat: expected a mapping");
    fed_bad ("heartbeat:\n  interval: 1s\n  intervall: 2s\n", "3:3",
             "heartbeat: unknown key 'intervall' (allowed: interval, timeout)");
    fed_bad ("heartbeat:\n  interval: soon\n", "2:13", "heartbeat.interval: invalid duration");
    fed_bad ("heartbeat:\n  interval: 0s\n", "2:13", "heartbeat.interval: must be longer than zero");
    fed_bad ("heartbeat:\n  interval: 1m\n", "2:13",
             "heartbeat.timeout (10s) must be longer than heartbeat.interval (60s)");
    fed_bad ("heartbeat: {interval: 5s, timeout: 5s}\n", "1:36", "heartbeat.timeout (5s)");
    fed_bad ("links:\n  default:\n    bandwidth: fast\n", "3:16",
             "links.default.bandwidth: invalid rate 'fast'");
    fed_bad ("links:\n  default: {latency: -1ms}\n", "2:22",
             "links.default.latency: invalid duration '-1ms': must not be negative");
    fed_bad ("links:\n  default: {bandwith: 1GB/s}\n", "2:13", "links.default: unknown key 'bandwith'");
    fed_bad ("links:\n  pairs: {a: b}\n", "2:10", "links.pairs: expected a list");
    fed_bad ("links:\n  pairs:\n    - bandwidth: 1GB/s\n", "3:7",
             "links.pairs[0].between: required key missing");
    fed_bad ("links:\n  pairs:\n    - between: [a, b, c]\n", "3:16",
             "links.pairs[0].between: expected a list of two site names");
    fed_bad ("links:\n  pairs:\n    - between: [a, a]\n", "3:20", "a link joins two different sites");
    fed_bad ("links:\n  pairs:\n    - between: [a, 'b c']\n", "3:20", "site name 'b c'");
    fed_bad ("links:\n  pairs:\n    - {between: [a, b]}\n    - {between: [b, a], latency: 1s}\n",
             "4:17", "links.pairs[1].between: the link b-a is already given at line 3");
    fed_bad ("links:\n  pairs:\n    - {between: [a, b], bandwidth: 0GB/s}\n", "3:36",
             "links.pairs[0].bandwidth: invalid rate '0GB/s': must be positive");
    fed_bad ("links:\n  pairs:\n    - {between: [a, b], speed: 1}\n", "3:25",
             "links.pairs[0]: unknown key 'speed'");
    fed_bad ("links:\n  pairs:\n    - [a, b]\n", "3:7", "links.pairs[0]: expected a mapping");
    fed_bad ("sites: [a, b, a]\n", "1:15", "sites[2]: site 'a' is listed twice (first at line 1)");
    fed_bad ("sites: [a, 'b/c']\n", "1:12", "sites[1]: site name 'b/c'");
    fed_bad ("sites: [a, b]\nlinks:\n  pairs:\n    - between: [a, c]\n", "4:20",
             "site 'c' is not in the 'sites' list");
    fed_bad ("- a\n- b\n", "1:1", "expected a mapping of keys at the top level");
    fed_bad ("a: [\n", "2:1", "did not find expected node content");
    fed_bad ("name: &n x\n", "1:7", "anchors are not allowed");
}

static void test_fed_missing_file (void **state)
{
    struct fed_config cfg;
    char path[PATH_MAX];
    beside ("nope.yaml", path);
    assert_int_equal (fed_config_load (path, &cfg, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_non_null (strstr (err.text, "nope.yaml: cannot open"));
}

static void test_fed_sites_null (void **state)
{
    struct fed_config cfg;
    const char *path = put ("federation.yaml", "sites:\nlinks:\n  pairs:\n    - between: [x, y]\n");
    assert_int_equal (fed_config_load (path, &cfg, &err), 0);
    assert_int_equal (cfg.nlinks, 1);
    fed_config_free (&cfg);
}

/* ------------------------------------------------------------------ */
/* site.yaml */

static void test_site_defaults (void **state)
{
    struct site_config cfg;
    char want[PATH_MAX];
    const char *path = put ("site.yaml", "name: cma\nlisten: tcp://127.0.0.1:7701\n");
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.path, path);
    assert_string_equal (cfg.name, "cma");
    assert_string_equal (cfg.region, "cma");
    assert_string_equal (cfg.scheduler, "tcp://127.0.0.1:7700");
    assert_string_equal (cfg.listen, "tcp://127.0.0.1:7701");
    assert_string_equal (cfg.advertise, "tcp://127.0.0.1:7701");
    beside ("state", want);
    assert_string_equal (cfg.state_dir, want);
    beside ("keys", want);
    assert_string_equal (cfg.keys, want);
    assert_int_equal (cfg.cores, 0);
    assert_string_equal (cfg.launcher, "mpirun");
    assert_string_equal (cfg.hostfile, "");
    assert_int_equal (cfg.security, SEC_CURVE);
    assert_true (cfg.heartbeat_interval == 2);
    assert_int_equal (cfg.io_threads, 2);
    assert_int_equal (cfg.piece_bytes, 4 * 1024 * 1024);
    assert_int_equal (cfg.nroots, 0);
    assert_string_equal (cfg.slurm.mpi, "srun");
    assert_true (cfg.slurm.poll == 2);
    assert_int_equal (cfg.slurm.nsbatch_args, 0);
}

/* launcher: slurm and its block: every key, and the defaults of an empty one. */
static void test_site_slurm (void **state)
{
    struct site_config cfg;
    const char *path = put ("site.yaml",
                            "name: hpc\nlisten: tcp://x:1\nlauncher: slurm\n"
                            "slurm:\n"
                            "  partition: batch\n"
                            "  account: climate-01\n"
                            "  qos: normal\n"
                            "  sbatch_args: [--mem=4G, --constraint=haswell, -N1, --exclusive]\n"
                            "  mpi: mpirun\n"
                            "  poll: 500ms\n");
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.launcher, "slurm");
    assert_string_equal (cfg.slurm.partition, "batch");
    assert_string_equal (cfg.slurm.account, "climate-01");
    assert_string_equal (cfg.slurm.qos, "normal");
    assert_int_equal (cfg.slurm.nsbatch_args, 4);
    assert_string_equal (cfg.slurm.sbatch_args[0], "--mem=4G");
    assert_string_equal (cfg.slurm.sbatch_args[3], "--exclusive");
    assert_string_equal (cfg.slurm.mpi, "mpirun");
    assert_true (cfg.slurm.poll == 0.5);

    path = put ("site.yaml", "name: hpc\nlisten: tcp://x:1\nlauncher: slurm\nslurm: {}\n");
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.slurm.partition, "");
    assert_string_equal (cfg.slurm.mpi, "srun");
    assert_true (cfg.slurm.poll == 2);
    path = put ("site.yaml", "name: hpc\nlisten: tcp://x:1\nlauncher: slurm\n");
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.launcher, "slurm");
    assert_string_equal (cfg.slurm.mpi, "srun");
}

static void test_site_slurm_errors (void **state)
{
#define S "name: s\nlisten: tcp://x:1\nlauncher: slurm\n"
    site_bad ("name: s\nlisten: tcp://x:1\nslurm: {partition: p}\n", "3:8",
              "slurm: this block is for launcher: slurm (the launcher is 'mpirun')");
    site_bad (S "slurm: batch\n", "4:8", "slurm: expected a mapping");
    site_bad (S "slurm:\n  partition: p\n  partiton: q\n", "6:3",
              "slurm: unknown key 'partiton' (allowed: partition, account, qos, sbatch_args, mpi, poll)");
    site_bad (S "slurm: {partition: [a]}\n", "4:20", "slurm.partition: expected a string");
    site_bad (S "slurm: {partition: ''}\n", "4:20", "slurm.partition: must not be empty");
    site_bad (S "slurm: {partition: 'a b'}\n", "4:20", "slurm.partition: 'a b' is not a Slurm name");
    site_bad (S "slurm: {account: 'x,y'}\n", "4:18", "slurm.account: 'x,y' is not a Slurm name");
    site_bad (S "slurm: {qos: -x}\n", "4:14", "slurm.qos: '-x' must not start with '-'");
    site_bad (S "slurm: {sbatch_args: --mem=4G}\n", "4:22", "slurm.sbatch_args: expected a list");
    site_bad (S "slurm: {sbatch_args: [--mem=4G, {a: 1}]}\n", "4:33",
              "slurm.sbatch_args[1]: expected a string");
    site_bad (S "slurm: {sbatch_args: [--mem=4G, '']}\n", "4:33",
              "slurm.sbatch_args[1]: must not be empty");
    site_bad (S "slurm: {sbatch_args: ['--time=10']}\n", "4:23",
              "slurm.sbatch_args[0]: '--time=10': fedsched sets --time itself");
    site_bad (S "slurm: {sbatch_args: [-n4]}\n", "4:23", "'-n4': fedsched sets -n itself");
    site_bad (S "slurm: {sbatch_args: [--partition, x]}\n", "4:23", "fedsched sets --partition itself");
    site_bad (S "slurm: {sbatch_args: [-J, x]}\n", "4:23", "fedsched sets -J itself");
    site_bad (S "slurm: {sbatch_args: [\"a\\tb\"]}\n", "4:23", "control characters");
    site_bad (S "slurm: {mpi: pmi2}\n", "4:14", "slurm.mpi: expected 'srun' or 'mpirun'");
    site_bad (S "slurm: {mpi: 1}\n", "4:14", "slurm.mpi: expected 'srun' or 'mpirun'");
    site_bad (S "slurm: {poll: often}\n", "4:15", "slurm.poll: invalid duration 'often'");
    site_bad (S "slurm: {poll: 0}\n", "4:15", "slurm.poll: must be longer than zero");
    site_bad (S "slurm: {poll: 1h}\n", "4:15", "slurm.poll: 3600s is outside 0.1s..600s");
#undef S
}

static void test_site_full (void **state)
{
    struct site_config cfg;
    char want[PATH_MAX];
    mkdir_tmp ("data");
    mkdir_tmp ("data/era5");
    mkdir_tmp ("census");
    mkdir_tmp ("secret");
    mkdir_tmp ("agg");
    mkdir_tmp ("eu");
    put ("hosts", "localhost slots=4\n");
    char text[4096];
    snprintf (text, sizeof (text),
              "version: 1\n"
              "name: cma\n"
              "region: cn-north\n"
              "scheduler: tcp://10.0.0.1:7700\n"
              "listen: tcp://0.0.0.0:7701\n"
              "advertise: tcp://10.0.0.2:7701\n"
              "state_dir: /var/lib/fedsched\n"
              "cores: 128\n"
              "launcher: local\n"
              "hostfile: hosts\n"
              "security: none\n"
              "keys: k\n"
              "heartbeat: {interval: 1s}\n"
              "io_threads: 8\n"
              "piece_size: 1MiB\n"
              "data_roots:\n"
              "  - path: data/era5/../era5\n"
              "    prefix: cma/era5\n"
              "  - {path: %s/census, prefix: '', policy: 'regions=cn-north,cn-east'}\n"
              "  - {path: ./secret, policy: none}\n"
              "  - path: agg\n"
              "    policy: {aggregate: {min_block: [4, 4], min: 5}}\n"
              "  - path: eu\n"
              "    policy:\n"
              "      regions: [eu-west, eu-central]\n",
              tmp);
    const char *path = put ("site.yaml", text);
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.region, "cn-north");
    assert_string_equal (cfg.scheduler, "tcp://10.0.0.1:7700");
    assert_string_equal (cfg.advertise, "tcp://10.0.0.2:7701");
    assert_string_equal (cfg.state_dir, "/var/lib/fedsched");
    assert_int_equal (cfg.cores, 128);
    assert_string_equal (cfg.launcher, "local");
    beside ("hosts", want);
    assert_string_equal (cfg.hostfile, want);
    beside ("k", want);
    assert_string_equal (cfg.keys, want);
    assert_int_equal (cfg.security, SEC_NONE);
    assert_true (cfg.heartbeat_interval == 1);
    assert_int_equal (cfg.io_threads, 8);
    assert_int_equal (cfg.piece_bytes, 1024 * 1024);
    assert_int_equal (cfg.nroots, 5);
    beside ("data/era5", want);
    assert_string_equal (cfg.roots[0].path, want);
    assert_string_equal (cfg.roots[0].prefix, "cma/era5");
    assert_int_equal (cfg.roots[0].policy.kind, POLICY_RAW);
    beside ("census", want);
    assert_string_equal (cfg.roots[1].path, want);
    assert_string_equal (cfg.roots[1].prefix, "");
    assert_int_equal (cfg.roots[1].policy.kind, POLICY_REGIONS);
    assert_int_equal (cfg.roots[1].policy.nregions, 2);
    assert_string_equal (cfg.roots[1].policy.regions[1], "cn-east");
    beside ("secret", want);
    assert_string_equal (cfg.roots[2].path, want);
    assert_int_equal (cfg.roots[2].policy.kind, POLICY_NONE);
    assert_int_equal (cfg.roots[3].policy.kind, POLICY_AGGREGATE);
    assert_int_equal (cfg.roots[3].policy.nblock, 2);
    assert_int_equal (cfg.roots[3].policy.min_block[0], 4);
    assert_int_equal (cfg.roots[3].policy.min_block[1], 4);
    assert_int_equal (cfg.roots[3].policy.min, 5);
    assert_int_equal (cfg.roots[4].policy.kind, POLICY_REGIONS);
    assert_string_equal (cfg.roots[4].policy.regions[0], "eu-west");
    assert_string_equal (cfg.roots[4].policy.regions[1], "eu-central");
}

/* Relative paths start at the config file's directory, not the working directory. */
static void test_site_relative_paths (void **state)
{
    struct site_config cfg;
    char want[PATH_MAX], cwd[PATH_MAX];
    mkdir_tmp ("conf");
    mkdir_tmp ("conf/data");
    put ("conf/site.yaml", "name: s\nlisten: ipc://s.sock\nstate_dir: st\n"
                           "data_roots: [{path: data}, {path: ../conf/data/.., prefix: p}]\n");
    assert_non_null (getcwd (cwd, sizeof (cwd)));
    assert_int_equal (chdir (tmp), 0);
    int rc = site_config_load ("conf/site.yaml", &cfg, &err);
    assert_int_equal (chdir ("/"), 0);
    assert_int_equal (rc, 0);
    beside ("conf/site.yaml", want);
    assert_string_equal (cfg.path, want);
    beside ("conf/st", want);
    assert_string_equal (cfg.state_dir, want);
    beside ("conf/data", want);
    assert_string_equal (cfg.roots[0].path, want);
    beside ("conf", want);
    assert_string_equal (cfg.roots[1].path, want);
    /* From another working directory, the same file gives the same paths. */
    beside ("conf/site.yaml", want);
    assert_int_equal (site_config_load (want, &cfg, &err), 0);
    beside ("conf/data", want);
    assert_string_equal (cfg.roots[0].path, want);
    assert_int_equal (chdir (cwd), 0);
}

static void test_site_missing_root (void **state)
{
    char want[PATH_MAX + 128];
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: no/such/dir\n", "4:11",
              "data_roots[0].path: 'no/such/dir' does not exist");
    snprintf (want, sizeof (want), "looked for %s/no/such/dir", tmp);
    assert_non_null (strstr (err.text, want));
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: /no/such/dir\n", "4:11",
              "'/no/such/dir' does not exist");
    put ("plain", "x");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - {path: plain}\n", "4:12",
              "data_roots[0].path: 'plain' is not a directory");
}

static void test_site_errors (void **state)
{
    mkdir_tmp ("d");
    site_bad ("listen: tcp://x:1\n", "1:1", "name: required key missing");
    site_bad ("", "1:1", "name: required key missing");
    site_bad ("name: s\n", "1:1", "listen: required key missing");
    site_bad ("name: s\nlisten: tcp://x:1\nfoo: 1\n", "3:1", "unknown key 'foo'");
    site_bad ("name: s\nlisten: tcp://x:1\n\n  # c\ncore: 4\n", "5:1", "unknown key 'core'");
    site_bad ("name: 'a.b'\nlisten: tcp://x:1\n", "1:7", "name: site name 'a.b' at column 2");
    site_bad ("name: s\nregion: 'cn north'\nlisten: tcp://x:1\n", "2:9", "region: region name");
    site_bad ("name: s\nlisten: udp://x:1\n", "2:9", "listen: 'udp://x:1' is not an endpoint");
    site_bad ("name: s\nlisten: tcp://x:1\nscheduler: 7700\n", "3:12", "scheduler: '7700' is not");
    site_bad ("name: s\nlisten: tcp://x:1\nadvertise: 'tcp://a b'\n", "3:12", "spaces");
    site_bad ("name: s\nlisten: tcp://x:1\ncores: 0\n", "3:8", "cores: 0 is out of range (1..1048576)");
    site_bad ("name: s\nlisten: tcp://x:1\ncores: 1048577\n", "3:8", "out of range");
    site_bad ("name: s\nlisten: tcp://x:1\ncores: '4'\n", "3:8", "cores: expected an integer");
    site_bad ("name: s\nlisten: tcp://x:1\ncores: four\n", "3:8", "cores: expected an integer");
    site_bad ("name: s\nlisten: tcp://x:1\nlauncher: pbs\n", "3:11",
              "launcher: expected 'mpirun', 'local' or 'slurm'");
    site_bad ("name: s\nlisten: tcp://x:1\nhostfile: nohosts\n", "3:11",
              "hostfile: 'nohosts' does not exist");
    site_bad ("name: s\nlisten: tcp://x:1\nhostfile: d\n", "3:11", "is a directory");
    site_bad ("name: s\nlisten: tcp://x:1\nsecurity: yes\n", "3:11", "expected 'curve' or 'none'");
    site_bad ("name: s\nlisten: tcp://x:1\nheartbeat: {interval: 1s, timeout: 5s}\n", "3:27",
              "heartbeat: unknown key 'timeout' (allowed: interval)");
    site_bad ("name: s\nlisten: tcp://x:1\nheartbeat: {interval: 1x}\n", "3:23",
              "heartbeat.interval: invalid duration '1x'");
    site_bad ("name: s\nlisten: tcp://x:1\nio_threads: 65\n", "3:13", "io_threads: 65 is out of range (1..64)");
    site_bad ("name: s\nlisten: tcp://x:1\nio_threads: 0\n", "3:13", "out of range");
    site_bad ("name: s\nlisten: tcp://x:1\npiece_size: 32KiB\n", "3:13",
              "piece_size: 32768 bytes is outside 64KiB..64MiB");
    site_bad ("name: s\nlisten: tcp://x:1\npiece_size: 65MiB\n", "3:13", "outside 64KiB..64MiB");
    site_bad ("name: s\nlisten: tcp://x:1\npiece_size: big\n", "3:13", "piece_size: invalid size 'big'");
    site_bad ("name: s\nlisten: tcp://x:1\nversion: 3\n", "3:10", "unsupported version 3");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots: d\n", "3:13", "data_roots: expected a list");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots: [d]\n", "3:14",
              "data_roots[0]: expected a mapping");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - prefix: x\n", "4:5",
              "data_roots[0].path: required key missing");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n    polcy: raw\n", "5:5",
              "data_roots[0]: unknown key 'polcy' (allowed: path, prefix, policy)");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - {path: d}\n  - {path: ./d}\n", "5:12",
              "data_roots[1].path: same directory as data_roots[0]");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - {path: d, prefix: a//b}\n", "4:23",
              "data_roots[0].prefix: name 'a//b' at column 3");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - {path: d, policy: private}\n", "4:23",
              "data_roots[0].policy: unknown policy 'private'");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - {path: d, policy: regions=}\n", "4:23",
              "data_roots[0].policy: ");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n    policy:\n"
              "      regions: [a]\n      none: true\n", "7:7",
              "data_roots[0].policy: unknown key 'none' (allowed: regions, aggregate)");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n    policy:\n"
              "      regions: [a]\n      aggregate: {min_block: [2]}\n", "6:7",
              "give exactly one of 'regions' or 'aggregate'");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n    policy: {regions: []}\n",
              "5:23", "data_roots[0].policy.regions: expected a non-empty list");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n    policy: {regions: [a, 'b,c']}\n",
              "5:27", "region name 'b,c'");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n"
              "    policy: {aggregate: {min_block: [4, 0]}}\n", "5:41",
              "data_roots[0].policy.aggregate.min_block: 0 is out of range (at least 1)");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n"
              "    policy: {aggregate: {block: [4]}}\n", "5:26",
              "data_roots[0].policy.aggregate: unknown key 'block' (allowed: min_block, min)");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n"
              "    policy: {aggregate: {min_block: [4], min: 0}}\n", "5:47",
              "data_roots[0].policy.aggregate.min: 0 is out of range (1..9007199254740992)");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n"
              "    policy: {aggregate: {min_block: [4], min: many}}\n", "5:47",
              "data_roots[0].policy.aggregate.min: ");
    site_bad ("name: s\nlisten: tcp://x:1\ndata_roots:\n  - path: d\n"
              "    policy: {aggregate: {}}\n", "5:25",
              "data_roots[0].policy.aggregate.min_block: required key missing");
    site_bad ("name: s\nlisten: tcp://x:1\nname: t\n", "3:1", "duplicate key 'name'");
}

/* apps: {trust, allow, sandbox, max_bytes} (SPEC section 10). */
static void test_site_apps (void **state)
{
    struct site_config cfg;
    char want[PATH_MAX];
    mkdir_tmp ("pubs");
    const char *path = put ("site.yaml", "name: s\nlisten: tcp://x:1\n");
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    assert_string_equal (cfg.apps.trust, "");           /* nobody is trusted */
    assert_int_equal (cfg.apps.nallow, 0);              /* every app allowed */
    assert_string_equal (cfg.apps.sandbox, "");         /* bwrap where installed */
    assert_true (cfg.apps.max_bytes == FS_APPS_DEFAULT_MAX_BYTES);
    path = put ("site.yaml", "name: s\nlisten: tcp://x:1\napps:\n  trust: pubs\n"
                "  allow: [heat*, 'models']\n  sandbox: none\n  max_bytes: 64MiB\n");
    assert_int_equal (site_config_load (path, &cfg, &err), 0);
    beside ("pubs", want);
    assert_string_equal (cfg.apps.trust, want);
    assert_int_equal (cfg.apps.nallow, 2);
    assert_string_equal (cfg.apps.allow[0], "heat*");
    assert_string_equal (cfg.apps.allow[1], "models");
    assert_string_equal (cfg.apps.sandbox, "none");
    assert_true (cfg.apps.max_bytes == 64ULL << 20);
    site_bad ("name: s\nlisten: tcp://x:1\napps: yes\n", "3:7", "apps: expected a mapping");
    site_bad ("name: s\nlisten: tcp://x:1\napps:\n  trusted: pubs\n", "4:3",
              "apps: unknown key 'trusted' (allowed: trust, allow, sandbox, max_bytes)");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {trust: nope}\n", "3:15",
              "apps.trust: 'nope' does not exist");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {trust: site.yaml}\n", "3:15",
              "apps.trust: 'site.yaml' is not a directory");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {allow: []}\n", "3:15",
              "apps.allow: an empty list would allow no app");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {allow: heat}\n", "3:15", "apps.allow: expected a list");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {allow: ['a/b']}\n", "3:16",
              "apps.allow: 'a/b' is not a glob of app names");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {sandbox: docker}\n", "3:17",
              "apps.sandbox: expected 'bwrap' or 'none'");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {max_bytes: 100}\n", "3:19",
              "apps.max_bytes: 100 bytes is below 1KiB");
    site_bad ("name: s\nlisten: tcp://x:1\napps: {max_bytes: lots}\n", "3:19",
              "apps.max_bytes: invalid size 'lots'");
}

static void test_site_unreadable (void **state)
{
    struct site_config cfg;
    assert_int_equal (site_config_load ("/no/such/site.yaml", &cfg, &err), -1);
    assert_int_equal (err.code, FS_EFAIL);
    assert_string_equal (err.text, "/no/such/site.yaml: cannot open: No such file or directory");
}

/* ------------------------------------------------------------------ */
/* Every error of a file at once, sorted by position (as job files) */

/* errs holds exactly the n messages "PATH:LOC: ...NEEDLE..." given as
 * loc, needle pairs, in that order. */
static void expect_all (const struct errlist *errs, const char *path, size_t n, ...)
{
    va_list ap;
    va_start (ap, n);
    for (size_t i = 0; i < errs->count; i++)
        print_message ("  error: %s\n", errs->list[i].msg);
    assert_int_equal (errs->count, n);
    assert_int_equal (errs->code, FS_EINVAL);
    for (size_t i = 0; i < n; i++) {
        const char *loc = va_arg (ap, const char *), *needle = va_arg (ap, const char *);
        char want[PATH_MAX + 64];
        snprintf (want, sizeof (want), "%s:%s: ", path, loc);
        if (strncmp (errs->list[i].msg, want, strlen (want)) || !strstr (errs->list[i].msg, needle))
            fail_msg ("error %zu is '%s', want '%s...%s'", i, errs->list[i].msg, want, needle);
    }
    va_end (ap);
}

static void test_site_all_errors (void **state)
{
    struct site_config cfg;
    struct errlist errs = ERRLIST_INIT;
    mkdir_tmp ("d1");
    const char *path = put ("site.yaml",
                            "name: bad name\n"                  /* 1:7 */
                            "listen: http://x\n"                /* 2:9 */
                            "cores: 0\n"                        /* 3:8 */
                            "colour: blue\n"                    /* 4:1 */
                            "heartbeat: {interval: -1s}\n"      /* 5:23 */
                            "io_threads: 8\n"                   /* fine */
                            "data_roots:\n"
                            "  - {path: nowhere, prefix: a}\n"  /* 8:12 */
                            "  - {path: d1, policy: regions=}\n" /* 9:24 */
                            "  - {path: d1, prefx: p}\n"        /* 10:16 */
                            "piece_size: 1kB\n");               /* 11:13 */
    assert_int_equal (site_config_load_all (path, &cfg, &errs), -1);
    expect_all (&errs, path, 9, "1:7", "name: ", "2:9", "listen: 'http://x' is not an endpoint",
                "3:8", "cores", "4:1", "unknown key 'colour'", "5:23", "heartbeat.interval",
                "8:12", "data_roots[0].path: 'nowhere' does not exist", "9:24", "data_roots[1].policy",
                "10:16", "data_roots[2]: unknown key 'prefx'", "11:13", "piece_size");
    errlist_clear (&errs);

    /* The plain API gives the first, and says how many more. */
    memset (&err, 0, sizeof (err));
    assert_int_equal (site_config_load (path, &cfg, &err), -1);
    assert_non_null (strstr (err.text, "name: "));
    assert_non_null (strstr (err.text, "(and 8 more errors)"));
}

static void test_fed_all_errors (void **state)
{
    struct fed_config cfg;
    struct errlist errs = ERRLIST_INIT;
    const char *path = put ("federation.yaml",
                            "version: 2\n"                              /* 1:10 */
                            "listen: 7700\n"                            /* 2:9 */
                            "heartbeat: {interval: 5s, timeout: 2s}\n"  /* 3:36 */
                            "sites: [a, b, a]\n"                        /* 4:15 */
                            "links:\n"
                            "  default: {bandwidth: fast}\n"            /* 6:24 */
                            "  pairs:\n"
                            "    - {between: [a, zz]}\n"                /* 8:21 */
                            "    - {between: [a, b], latency: soon}\n"  /* 9:34 */
                            "    - {between: [b, a]}\n");               /* 10:17 */
    assert_int_equal (fed_config_load_all (path, &cfg, &errs), -1);
    assert_null (cfg.links);
    expect_all (&errs, path, 8, "1:10", "version: unsupported version 2", "2:9", "listen",
                "3:36", "heartbeat.timeout (2s) must be longer", "4:15", "listed twice",
                "6:24", "links.default.bandwidth", "8:21", "site 'zz' is not in the 'sites' list",
                "9:34", "links.pairs[1].latency", "10:17", "already given at line 9");
    errlist_clear (&errs);
}

int main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_fed_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fed_full, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fed_errors, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fed_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fed_sites_null, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_full, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_missing_root, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_errors, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_slurm, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_slurm_errors, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_apps, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown (test_site_all_errors, setup, teardown),
        cmocka_unit_test_setup_teardown (test_fed_all_errors, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
