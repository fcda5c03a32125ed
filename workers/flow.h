/* flow.h - sizing a transfer to its link (docs/protocol.md, "Flow control").
 *
 * A transfer moves a result in pieces, each one ZeroMQ message: a piece is seen
 * only when it has arrived whole, so the piece size is what the transfer's
 * progress can be measured in.  The model, from the link's rate (bytes/s: the
 * configured, then measured, estimate the scheduler sends with the replica, or
 * what this transfer measures itself) and round-trip time:
 *
 *   piece   = rate_share x FLOW_PIECE_TIME, rounded down to a power of two,
 *             within [floor, FLOW_PIECE_MAX]: a tenth of a second on the wire
 *             at the transfer's share of the link, so pieces keep arriving on a
 *             1 Mbit/s link shared by many, and are 4 MiB on fast links;
 *   window  = bytes in flight (the credit) over all the transfers on the link:
 *             2 x rate x rtt (the bandwidth-delay product, twice, so the sender
 *             never waits for a request) + 2 pieces, at least FLOW_WINDOW_PIECES
 *             pieces per stream, at most FLOW_WINDOW_MAX: it fills the link and
 *             bounds what is queued at the sender (a window much above the
 *             link's own buffering overflows it: packets dropped, and a new
 *             connection's handshake waiting seconds for a retransmission);
 *   streams = ceil(rate x rtt / W) within [1, FLOW_STREAMS_MAX], W the most one
 *             TCP stream keeps in flight (half the smaller of the kernel's largest
 *             receive and send buffers, tcp_rmem/tcp_wmem): one stream moves at
 *             most W / rtt, so a long fat link needs several (as GridFTP, XRootD
 *             and Globus do); divided among the transfers already sharing the
 *             link, so that together they open about as many as one would.
 *
 * rate_share is the link's rate divided by the transfers this process runs from
 * the same source, then what the transfer itself measures (struct flow_meter).
 *
 * Sharing a link.  TCP does not share a bottleneck fairly by itself (measured
 * on the emulated WAN, docs/wan.md: three plain TCP copies of 10 MB over one
 * 8 Mbit/s link, started a second apart, took 13 s, 30 s and 31 s: the first
 * kept most of the link), and a transfer that queues megabytes at the sender
 * holds back every other.  So the transfers this process runs from one source
 * share one window (struct flow_member): at most window bytes are asked for and
 * not yet arrived, over all of them, and the next piece goes to the transfer
 * that has been granted the fewest bytes (start-time fair queueing: one that
 * joins starts level with the least served).  With little in flight, what is
 * granted is what crosses the link, so n transfers each get 1/n of it, and a
 * new or small one has its pieces next, behind at most the window.
 */
#ifndef FS_FLOW_H
#define FS_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#define FLOW_PIECE_TIME 0.1                     /* s on the wire per piece */
#define FLOW_PIECE_MAX (4u << 20)               /* the largest piece asked for */
#define FLOW_PIECE_MIN (16u << 10)              /* the smallest (sites that say so) */
#define FLOW_PIECE_MIN_OLD (64u << 10)          /* the smallest every site takes */
#define FLOW_WINDOW_PIECES 2                    /* in flight per stream, at least */
#define FLOW_WINDOW_MAX ((uint64_t)256 << 20)   /* in flight per transfer, at most */
#define FLOW_STREAMS_MAX 8
#define FLOW_RATE_UNKNOWN 125e6                 /* bytes/s of a link nothing is known of */

/* The piece size for a transfer moving rate bytes/s (<= 0: unknown): a power
 * of two in [floor, FLOW_PIECE_MAX] (floor a power of two). */
uint64_t flow_piece_target (double rate, uint64_t floor);

/* Bytes in flight for a transfer moving rate bytes/s over a round trip of rtt
 * seconds in pieces of about piece bytes on streams streams. */
uint64_t flow_window (double rate, double rtt, uint64_t piece, int streams);

/* Streams for a link of rate bytes/s and rtt seconds, when one stream keeps at
 * most stream_window bytes in flight and `sharing` transfers (this one
 * included, >= 1) use the link. */
int flow_streams (double rate, double rtt, uint64_t stream_window, int sharing);

/* What one TCP stream of this host keeps in flight at most (bytes), from
 * /proc/sys/net/ipv4/tcp_{r,w}mem; 2 MiB when they cannot be read. */
uint64_t flow_stream_window (void);

/* The rate a transfer measures: bytes that arrived over time, in samples of at
 * least FLOW_METER_SAMPLE seconds, smoothed over about a second.  The first
 * arrival only starts the clock (it carries the connection's set-up). */
#define FLOW_METER_SAMPLE 0.2
struct flow_meter {
    double rate;            /* bytes/s; 0 until the first sample */
    double since;           /* start of the current sample; < 0 before any arrival */
    uint64_t bytes;         /* arrived in the current sample */
};
void flow_meter_init (struct flow_meter *m);
void flow_meter_add (struct flow_meter *m, double now, uint64_t bytes);

/* --- one link's transfers --------------------------------------------- */

/* A transfer from source (a site's data port URI) joins its link: rate is its
 * estimate of the link's rate (bytes/s, <= 0 unknown), rtt the round trip (s).
 * *sharing gets the number of transfers on the link with this one.  NULL when
 * out of memory (the transfer then runs on its own).  Thread-safe; every
 * function accepts NULL. */
struct flow_member;
struct flow_member *flow_join (const char *source, double rate, double rtt, int *sharing);
void flow_leave (struct flow_member *m);

/* What the transfer runs with now: its measured rate (0: none yet), round
 * trip, piece size and streams; the link's window follows (flow_window over the
 * link's rate: the largest estimate, or the sum of its transfers' measured
 * rates, its shortest round trip, largest piece and most streams). */
void flow_report (struct flow_member *m, double rate, double rtt, uint64_t piece, int streams);

/* May the transfer ask for len more bytes now?  Yes when the link's window
 * has room (or nothing is in flight) and no transfer that has been granted
 * fewer bytes is waiting.  A yes counts len in flight until flow_give(). */
bool flow_take (struct flow_member *m, uint64_t len);
/* len bytes asked for are no longer in flight (they arrived, or were given up). */
void flow_give (struct flow_member *m, uint64_t len);
/* The transfer does not want to ask for anything now (its own limits). */
void flow_idle (struct flow_member *m);

/* The link's window (bytes in flight over all its transfers) and transfers. */
uint64_t flow_link_window (struct flow_member *m);
int flow_link_sharing (struct flow_member *m);

#endif
