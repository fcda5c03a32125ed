/* flow.c - sizing a transfer to its link (see flow.h). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

static uint64_t pow2_floor (uint64_t x)
{
    uint64_t p = 1;
    while (p <= x / 2)
        p *= 2;
    return p;
}

uint64_t flow_piece_target (double rate, uint64_t floor)
{
    if (!(rate > 0) || !isfinite (rate))
        rate = FLOW_RATE_UNKNOWN;
    double want = rate * FLOW_PIECE_TIME;
    if (want >= FLOW_PIECE_MAX)
        return FLOW_PIECE_MAX;
    uint64_t p = want < 1 ? 1 : pow2_floor ((uint64_t)want);
    return p < floor ? floor : p;
}

uint64_t flow_window (double rate, double rtt, uint64_t piece, int streams)
{
    if (!(rate > 0) || !isfinite (rate))
        rate = FLOW_RATE_UNKNOWN;
    if (!(rtt > 0) || !isfinite (rtt))
        rtt = 0;
    if (streams < 1)
        streams = 1;
    double w = 2 * rate * rtt + 2.0 * (double)piece;
    double lo = (double)FLOW_WINDOW_PIECES * (double)piece * streams;
    if (w < lo)
        w = lo;
    if (w > (double)FLOW_WINDOW_MAX)
        w = (double)FLOW_WINDOW_MAX;
    return (uint64_t)w;
}

int flow_streams (double rate, double rtt, uint64_t stream_window, int sharing)
{
    if (!(rate > 0) || !(rtt > 0) || !isfinite (rate * rtt) || stream_window == 0)
        return 1;
    double n = ceil (rate * rtt / (double)stream_window);
    if (n > FLOW_STREAMS_MAX)
        n = FLOW_STREAMS_MAX;
    if (sharing > 1)
        n = ceil (n / sharing);
    return n < 1 ? 1 : (int)n;
}

/* The largest of the three numbers in a tcp_rmem/tcp_wmem file, or 0. */
static uint64_t sysctl_max (const char *path)
{
    unsigned long long a, b, c;
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    int n = fscanf (f, "%llu %llu %llu", &a, &b, &c);
    fclose (f);
    return n == 3 ? (uint64_t)c : 0;
}

uint64_t flow_stream_window (void)
{
    uint64_t r = sysctl_max ("/proc/sys/net/ipv4/tcp_rmem");
    uint64_t w = sysctl_max ("/proc/sys/net/ipv4/tcp_wmem");
    uint64_t m = r && w ? (r < w ? r : w) : (r ? r : w);
    /* Half a buffer is payload: the kernel counts its own overhead in it. */
    return m ? m / 2 : (2u << 20);
}

void flow_meter_init (struct flow_meter *m)
{
    m->rate = 0;
    m->since = -1;
    m->bytes = 0;
}

void flow_meter_add (struct flow_meter *m, double now, uint64_t bytes)
{
    if (m->since < 0) {
        m->since = now;
        return;
    }
    m->bytes += bytes;
    double dt = now - m->since;
    if (dt < FLOW_METER_SAMPLE)
        return;
    double sample = (double)m->bytes / dt;
    /* Smoothing with a time constant of a second; the first sample counts whole. */
    double a = m->rate > 0 ? 1 - exp (-dt) : 1;
    m->rate += a * (sample - m->rate);
    m->since = now;
    m->bytes = 0;
}

/* --- one link's transfers ---------------------------------------------- */

struct flow_link {
    char source[256];
    struct flow_member *members;
    int n;
    uint64_t inflight;
    struct flow_link *next;
};

struct flow_member {
    struct flow_link *link;
    struct flow_member *next;
    double rate0, rtt;          /* estimates it joined with */
    double rate;                /* measured */
    uint64_t piece;
    int streams;
    uint64_t tag;               /* bytes granted, from where it joined */
    uint64_t inflight;
    bool wanting;               /* was refused and asks again */
};

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static struct flow_link *links;

struct flow_member *flow_join (const char *source, double rate, double rtt, int *sharing)
{
    struct flow_member *m = calloc (1, sizeof (*m));
    if (!m) {
        *sharing = 1;
        return NULL;
    }
    m->rate0 = rate > 0 && isfinite (rate) ? rate : 0;
    m->rtt = rtt > 0 && isfinite (rtt) ? rtt : 0;
    m->streams = 1;
    pthread_mutex_lock (&links_lock);
    struct flow_link *l = links;
    while (l && strcmp (l->source, source))
        l = l->next;
    if (!l && (l = calloc (1, sizeof (*l)))) {
        snprintf (l->source, sizeof (l->source), "%s", source);
        l->next = links;
        links = l;
    }
    if (!l) {
        pthread_mutex_unlock (&links_lock);
        free (m);
        *sharing = 1;
        return NULL;
    }
    /* Level with the least served: no credit for the past, no debt. */
    bool first = true;
    for (struct flow_member *o = l->members; o; o = o->next)
        if (first || o->tag < m->tag) {
            m->tag = o->tag;
            first = false;
        }
    m->link = l;
    m->next = l->members;
    l->members = m;
    *sharing = ++l->n;
    pthread_mutex_unlock (&links_lock);
    return m;
}

void flow_leave (struct flow_member *m)
{
    if (!m)
        return;
    pthread_mutex_lock (&links_lock);
    struct flow_link *l = m->link;
    for (struct flow_member **p = &l->members; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    l->inflight -= m->inflight < l->inflight ? m->inflight : l->inflight;
    if (--l->n == 0) {
        for (struct flow_link **p = &links; *p; p = &(*p)->next)
            if (*p == l) {
                *p = l->next;
                break;
            }
        free (l);
    }
    pthread_mutex_unlock (&links_lock);
    free (m);
}

void flow_report (struct flow_member *m, double rate, double rtt, uint64_t piece, int streams)
{
    if (!m)
        return;
    pthread_mutex_lock (&links_lock);
    m->rate = rate > 0 && isfinite (rate) ? rate : 0;
    m->rtt = rtt > 0 && isfinite (rtt) ? rtt : 0;
    m->piece = piece;
    m->streams = streams > 0 ? streams : 1;
    pthread_mutex_unlock (&links_lock);
}

/* The window of link l (links_lock held): over the best estimate of its rate,
 * the shortest round trip, the largest piece, the most streams. */
static uint64_t link_window (const struct flow_link *l)
{
    double cfg = 0, sum = 0, rtt = -1;
    uint64_t piece = 0;
    int streams = 1;
    for (const struct flow_member *o = l->members; o; o = o->next) {
        cfg = o->rate0 > cfg ? o->rate0 : cfg;
        sum += o->rate;
        if (o->rtt > 0 && (rtt < 0 || o->rtt < rtt))
            rtt = o->rtt;       /* queues and losses lengthen a sample, never shorten it */
        piece = o->piece > piece ? o->piece : piece;
        streams = o->streams > streams ? o->streams : streams;
    }
    return flow_window (sum > cfg ? sum : cfg, rtt, piece, streams);
}

bool flow_take (struct flow_member *m, uint64_t len)
{
    if (!m)
        return true;
    pthread_mutex_lock (&links_lock);
    struct flow_link *l = m->link;
    bool ok = l->inflight == 0 || l->inflight + len <= link_window (l);
    for (struct flow_member *o = l->members; ok && o; o = o->next)
        if (o != m && o->wanting && o->tag < m->tag)
            ok = false;
    if (ok) {
        m->tag += len;
        m->inflight += len;
        l->inflight += len;
    }
    m->wanting = !ok;
    pthread_mutex_unlock (&links_lock);
    return ok;
}

void flow_give (struct flow_member *m, uint64_t len)
{
    if (!m)
        return;
    pthread_mutex_lock (&links_lock);
    if (len > m->inflight)
        len = m->inflight;
    m->inflight -= len;
    m->link->inflight -= len;
    pthread_mutex_unlock (&links_lock);
}

void flow_idle (struct flow_member *m)
{
    if (!m)
        return;
    pthread_mutex_lock (&links_lock);
    m->wanting = false;
    pthread_mutex_unlock (&links_lock);
}

uint64_t flow_link_window (struct flow_member *m)
{
    if (!m)
        return 0;
    pthread_mutex_lock (&links_lock);
    uint64_t w = link_window (m->link);
    pthread_mutex_unlock (&links_lock);
    return w;
}

int flow_link_sharing (struct flow_member *m)
{
    if (!m)
        return 1;
    pthread_mutex_lock (&links_lock);
    int n = m->link->n;
    pthread_mutex_unlock (&links_lock);
    return n;
}
