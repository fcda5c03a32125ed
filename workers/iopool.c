/* iopool.c - worker threads for blocking work (see iopool.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "iopool.h"

struct job {
    iopool_job_f fn;
    void *arg;
    struct job *next;
};

struct iopool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct job *head, *tail;
    bool stop;
    atomic_size_t busy;
    int n;
    pthread_t *threads;
    char uri[FS_URI_MAX];
};

static void *pool_thread (void *arg)
{
    struct iopool *p = arg;
    fs_error_t err;
    struct zsock *out = zsock_create (ZSOCK_PUSH, NULL, &err);
    if (!out || zsock_connect (out, p->uri, &err) < 0) {
        log_msg (LOG_ERR, "event=iopool.fail reason=\"%s\"", err.text);
        zsock_destroy (out);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock (&p->lock);
        while (!p->head && !p->stop)
            pthread_cond_wait (&p->cond, &p->lock);
        if (p->stop) {
            pthread_mutex_unlock (&p->lock);
            break;
        }
        struct job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock (&p->lock);
        j->fn (j->arg, out);
        free (j);
        atomic_fetch_sub (&p->busy, 1);
    }
    zsock_destroy (out);
    return NULL;
}

struct iopool *iopool_create (int nthreads, const char *uri, fs_error_t *err)
{
    struct iopool *p = calloc (1, sizeof (*p));
    if (!p || !(p->threads = calloc ((size_t)nthreads, sizeof (pthread_t)))) {
        free (p);
        errprintf (err, FS_EFAIL, "out of memory");
        return NULL;
    }
    pthread_mutex_init (&p->lock, NULL);
    pthread_cond_init (&p->cond, NULL);
    snprintf (p->uri, sizeof (p->uri), "%s", uri);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create (&p->threads[i], NULL, pool_thread, p) != 0) {
            errprintf (err, FS_EFAIL, "cannot start I/O thread");
            iopool_destroy (p);
            return NULL;
        }
        p->n++;
    }
    return p;
}

void iopool_destroy (struct iopool *p)
{
    if (!p)
        return;
    pthread_mutex_lock (&p->lock);
    p->stop = true;
    pthread_cond_broadcast (&p->cond);
    pthread_mutex_unlock (&p->lock);
    for (int i = 0; i < p->n; i++)
        pthread_join (p->threads[i], NULL);
    /* Queued jobs never run: each frees its arg. */
    while (p->head) {
        struct job *j = p->head;
        p->head = j->next;
        j->fn (j->arg, NULL);
        free (j);
    }
    free (p->threads);
    pthread_cond_destroy (&p->cond);
    pthread_mutex_destroy (&p->lock);
    free (p);
}

int iopool_submit (struct iopool *p, iopool_job_f fn, void *arg)
{
    struct job *j = malloc (sizeof (*j));
    if (!j)
        return -1;
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    atomic_fetch_add (&p->busy, 1);
    pthread_mutex_lock (&p->lock);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal (&p->cond);
    pthread_mutex_unlock (&p->lock);
    return 0;
}

size_t iopool_busy (struct iopool *p)
{
    return atomic_load (&p->busy);
}
