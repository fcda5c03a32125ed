/* progress.c - a one-line progress bar with rate and ETA, for TTYs.
 *
 *   label [#####-----]  42%  1.2 GiB / 2.9 GiB  812.3 MB/s  ETA 3s
 *
 * The line is redrawn in place with '\r' (padded with spaces over whatever
 * the previous, longer line left behind), at most 10 times a second.  Its
 * width follows the terminal (TIOCGWINSZ, else 80 columns): the bar shrinks
 * first, then the ETA, the rate and the amounts are dropped.  The rate is an
 * exponentially weighted moving average over about two seconds, so the ETA
 * does not jump with every piece received.  With total 0 (unknown) there is
 * no bar, percentage or ETA.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "table.h"
#include "common/clock.h"

#define REDRAW_INTERVAL 0.1     /* seconds */
#define RATE_TAU 2.0            /* seconds: time constant of the rate average */
#define BAR_MAX 40
#define BAR_MIN 10

struct progress {
    FILE *f;
    char *label;
    uint64_t total, done;
    double t0;                  /* creation time */
    double last_draw;           /* < 0: never drawn */
    double sample_t;            /* time and bytes of the last rate sample */
    uint64_t sample_done;
    double rate;                /* smoothed bytes/s, 0 until the first sample */
    size_t last_len;            /* characters drawn last time */
    bool finished;
};

static int term_width (FILE *f)
{
    struct winsize ws;
    if (ioctl (fileno (f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

struct progress *progress_create (FILE *f, const char *label, uint64_t total, bool force)
{
    if (!f || (!force && !isatty (fileno (f))))
        return NULL;            /* every call accepts NULL: nothing is drawn */
    struct progress *p = calloc (1, sizeof (*p));
    if (!p || !(p->label = strdup (label ? label : ""))) {
        free (p);
        return NULL;
    }
    p->f = f;
    p->total = total;
    p->t0 = p->sample_t = clock_mono ();
    p->last_draw = -1;
    return p;
}

void progress_destroy (struct progress *p)
{
    if (!p)
        return;
    free (p->label);
    free (p);
}

/* Compose and write the line.  final: the last draw (ok tells how it ended). */
static void draw (struct progress *p, double now, bool final, bool ok)
{
    int width = term_width (p->f) - 1;      /* never touch the last column: no wrap */
    char amounts[64], a[32], b[32], rate[32] = "", eta[48] = "", pct[8] = "";
    bool known = p->total > 0;
    double frac = known ? (double) p->done / (double) p->total : 0;
    if (frac > 1)
        frac = 1;

    if (known) {
        snprintf (pct, sizeof (pct), "%3d%%", (int) floor (frac * 100));
        snprintf (amounts, sizeof (amounts), "%s / %s", fmt_bytes ((double) p->done, a, sizeof (a)),
                  fmt_bytes ((double) p->total, b, sizeof (b)));
    }
    else
        fmt_bytes ((double) p->done, amounts, sizeof (amounts));
    double elapsed = now - p->t0;
    if (final) {
        double avg = elapsed > 0 ? (double) p->done / elapsed : 0;
        if (avg > 0)
            fmt_rate (avg, rate, sizeof (rate));
        if (ok)
            snprintf (eta, sizeof (eta), "in %s", fmt_duration (elapsed, a, sizeof (a)));
        else
            snprintf (eta, sizeof (eta), "FAILED");
    }
    else {
        if (p->rate > 0)
            fmt_rate (p->rate, rate, sizeof (rate));
        if (known && p->rate > 0 && p->done < p->total)
            snprintf (eta, sizeof (eta), "ETA %s",
                      fmt_duration (ceil ((double) (p->total - p->done) / p->rate), a,
                                    sizeof (a)));
    }

    /* Label at most a third of the line. */
    char label[256];
    int lmax = width / 3 < (int) sizeof (label) - 1 ? width / 3 : (int) sizeof (label) - 1;
    snprintf (label, sizeof (label), "%s", p->label);
    if ((int) strlen (label) > lmax && lmax > 3)
        strcpy (label + lmax - 3, "...");

    /* Drop parts from the right until a minimal bar fits.  Each part counts
     * at least its usual widest form, so the bar keeps its length from one
     * draw to the next. */
    const char *parts[4] = { pct, amounts, rate, eta };
    static const int reserve[4] = { 4, 23, 10, 10 };
    int nparts = 4, barw = 0;
    for (;;) {
        int len = (int) strlen (label);
        for (int i = 0; i < nparts; i++) {
            int l = (int) strlen (parts[i]);
            if (known && l < reserve[i])
                l = reserve[i];
            if (l)
                len += (i == 0 ? 1 : 2) + l;
        }
        barw = known ? width - len - 3 : 0;        /* " [" and "]" */
        if (barw > BAR_MAX)
            barw = BAR_MAX;
        if (!known ? len <= width : barw >= BAR_MIN)
            break;
        if (nparts == 1) {
            barw = barw < 0 ? 0 : barw;
            break;
        }
        nparts--;
    }

    char line[512];
    size_t o = (size_t) snprintf (line, sizeof (line), "%s", label);
    if (known && barw > 0) {
        int fill = (int) floor (frac * barw);
        o += (size_t) snprintf (line + o, sizeof (line) - o, " [");
        for (int i = 0; i < barw && o < sizeof (line) - 2; i++)
            line[o++] = i < fill ? '#' : '-';
        line[o] = '\0';
        o += (size_t) snprintf (line + o, sizeof (line) - o, "]");
    }
    for (int i = 0; i < nparts && o < sizeof (line); i++)
        if (parts[i][0])
            o += (size_t) snprintf (line + o, sizeof (line) - o, "%s%s",
                                    i == 0 ? " " : "  ", parts[i]);
    if (o >= sizeof (line))
        o = sizeof (line) - 1;

    fputc ('\r', p->f);
    fputs (line, p->f);
    for (size_t i = o; i < p->last_len; i++)
        fputc (' ', p->f);
    if (final)
        fputc ('\n', p->f);
    fflush (p->f);
    p->last_len = o;
    p->last_draw = now;
}

void progress_update (struct progress *p, uint64_t done)
{
    if (!p || p->finished)
        return;
    double now = clock_mono ();
    p->done = done;
    double dt = now - p->sample_t;
    if (dt >= REDRAW_INTERVAL) {
        double inst = done >= p->sample_done ? (double) (done - p->sample_done) / dt : 0;
        if (p->rate == 0)
            p->rate = inst;
        else
            p->rate += (1 - exp (-dt / RATE_TAU)) * (inst - p->rate);
        p->sample_t = now;
        p->sample_done = done;
    }
    if (p->last_draw < 0 || now - p->last_draw >= REDRAW_INTERVAL)
        draw (p, now, false, false);
}

void progress_finish (struct progress *p, bool ok)
{
    if (!p || p->finished)
        return;
    draw (p, clock_mono (), true, ok);
    p->finished = true;
}
