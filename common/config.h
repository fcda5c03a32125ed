/* config.h - federation.yaml and site.yaml (docs/operator-guide.md).
 *
 * Relative paths in a config file are taken relative to the file's directory.
 * Every error is "FILE:LINE:COL: message" with FS_EINVAL (FS_EFAIL if the file
 * can't be read), and a load reports all of them at once.  Unknown keys are
 * errors.
 */
#ifndef FS_CONFIG_H
#define FS_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

#define FS_URI_MAX 256
#define FS_MAX_ROOTS 32
#define FS_MAX_LINKS 4096

typedef enum { SEC_CURVE = 0, SEC_NONE = 1 } fs_security_t;

struct link_cfg {
    char from[64], to[64];          /* site names ("" in the default) */
    double bandwidth;               /* bytes/s */
    double latency;                 /* seconds */
};

struct fed_config {
    char path[PATH_MAX];            /* the file itself (absolute) */
    char name[64];                  /* default "fedsched" */
    char listen[FS_URI_MAX];        /* default tcp://127.0.0.1:7700 */
    char state[PATH_MAX];           /* SQLite file; default scheduler.db beside the file */
    fs_security_t security;         /* default curve */
    char keys[PATH_MAX];            /* key directory; default "keys" beside the file */
    int keys_line, keys_col;        /* where keys: (else security:) was written; 0 if not */
    double heartbeat_interval;      /* seconds, default 2 */
    double heartbeat_timeout;       /* seconds, default 10 */
    struct link_cfg link_default;   /* default 1 GB/s, 10 ms */
    int nlinks;
    struct link_cfg *links;         /* per-pair entries (symmetric), owned */
};

struct data_root {
    char path[PATH_MAX];            /* absolute, resolved with realpath() */
    char prefix[256];               /* logical-name prefix, default "" */
    fs_policy_t policy;             /* default raw */
};

/* site.yaml's slurm: block (launcher: slurm; docs/operator-guide.md, Slurm). */
#define FS_SLURM_MAX_ARGS 32
struct slurm_config {
    char partition[128];            /* "" : the cluster's default partition */
    char account[128];              /* "" : the user's default account */
    char qos[128];                  /* "" : the default QOS */
    int nsbatch_args;
    char sbatch_args[FS_SLURM_MAX_ARGS][256];   /* passed to sbatch as they are */
    char mpi[8];                    /* how the batch script starts the ranks: "srun"
                                       (default) or "mpirun" */
    double poll;                    /* seconds between squeue/sacct rounds, default 2 */
};

/* site.yaml apps: (docs/operator-guide.md, "Apps"). */
#define FS_APPS_ALLOW_MAX 64
#define FS_APPS_DEFAULT_MAX_BYTES (1ULL << 30)
struct site_apps {
    char trust[PATH_MAX];           /* directory of publishers' .pub keys; "": nobody is
                                     * trusted (the site runs no apps) */
    int nallow;                     /* 0: every app is allowed */
    char allow[FS_APPS_ALLOW_MAX][128];     /* name globs (name_glob) */
    char sandbox[16];               /* "bwrap", "none"; "": bwrap where installed */
    uint64_t max_bytes;             /* largest bundle held or fetched; default 1 GiB */
};

struct site_config {
    char path[PATH_MAX];
    char name[64];                  /* required: [A-Za-z0-9_-]+ */
    char region[64];                /* default: the site name */
    char scheduler[FS_URI_MAX];     /* default tcp://127.0.0.1:7700 */
    char listen[FS_URI_MAX];        /* data plane endpoint, required */
    char advertise[FS_URI_MAX];     /* how others reach it; default = listen */
    char state_dir[PATH_MAX];       /* default "state" beside the file */
    int cores;                      /* 0: discover with hwloc */
    char launcher[32];              /* default "mpirun"; "local", "slurm" */
    char hostfile[PATH_MAX];        /* optional */
    fs_security_t security;
    char keys[PATH_MAX];
    int keys_line, keys_col;
    double heartbeat_interval;      /* default 2 */
    int io_threads;                 /* default 2 */
    uint64_t piece_bytes;           /* data-plane piece size, default 4 MiB */
    uint64_t cache_max;             /* staged-input cache cap in bytes; 0: half the
                                     * file system it is on (set by the worker) */
    bool local_reads;               /* clients on this host may copy contiguous runs
                                     * from the file themselves; default true */
    struct slurm_config slurm;      /* launcher: slurm only */
    int nroots;
    struct data_root roots[FS_MAX_ROOTS];
    struct site_apps apps;
};

/* The `links:` mapping of federation.yaml (node n), also the one of the
 * scenario files of `fedsched sim`: its default goes into *def (which holds
 * the defaults on entry) and its pairs into *pairs (caller frees with free())
 * and *npairs.  known(arg, name), when not NULL, says whether a name is one
 * of the federation's sites; another is an error at its position.  0, or -1
 * with "FILE:LINE:COL: links...: message" (FS_EINVAL; nothing allocated). */
struct ynode;
typedef bool (*config_site_known_f) (void *arg, const char *name);
int config_links_parse (const char *file, const struct ynode *n, config_site_known_f known,
                        void *arg, struct link_cfg *def, struct link_cfg **pairs, int *npairs,
                        fs_error_t *err);

/* Load and validate; on failure nothing is allocated.  Every error of the
 * file goes into errs (sorted by position, as a job file's); the _load
 * variants give the first one (and a count of the others) in err. */
struct errlist;
int fed_config_load_all (const char *file, struct fed_config *cfg, struct errlist *errs);
int fed_config_load (const char *file, struct fed_config *cfg, fs_error_t *err);
void fed_config_free (struct fed_config *cfg);  /* frees links */
int site_config_load_all (const char *file, struct site_config *cfg, struct errlist *errs);
int site_config_load (const char *file, struct site_config *cfg, fs_error_t *err);

/* With security: curve, check the key directory before a daemon starts:
 * scheduler: KEYS/scheduler.key, KEYS/authorized/ (and optional KEYS/admin/);
 * site: KEYS/site.key, KEYS/scheduler.pub, KEYS/authorized/.  Errors are
 * "FILE:LINE:COL: keys: ..." (FS_EINVAL).  Nothing to check with none. */
int fed_config_check_keys (const struct fed_config *cfg, fs_error_t *err);
int site_config_check_keys (const struct site_config *cfg, fs_error_t *err);

#endif
