/* zmq_pipe - the transport's own ceiling: BYTES moved from one process to another
 * over ZeroMQ on loopback TCP, in messages of PIECE bytes, and nothing else (no
 * HDF5, no checksums, no flow control).  A baseline for tests/bench/stream.
 *
 *   zmq_pipe BYTES PIECE [OUTFILE]
 *
 * A child process binds a PUSH socket and sends; the parent connects a PULL
 * socket and receives every byte, and with OUTFILE writes each message to that
 * file at its place (pwrite): the ceiling of any stream that lands in a file.  Prints one line "seconds=S bytes=B", the time
 * from the parent's connect to the last byte received.  Exit 1 on failure.
 * Uses zmq.h only (it measures ZeroMQ, not fedsched's wrapper), with glibc's
 * allocator set as fedsched sets it.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "common/clock.h"

static int sender (int fd, uint64_t bytes, size_t piece)
{
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    char ep[256];
    size_t eplen = sizeof (ep);
    if (!s || zmq_bind (s, "tcp://127.0.0.1:*") < 0
        || zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &eplen) < 0)
        return 1;
    if (write (fd, ep, strlen (ep) + 1) < 0)
        return 1;
    close (fd);
    /* Every message points at one buffer (sent without a copy into ZeroMQ),
     * as fedsched's worker hands over pieces mapped from the file: what is
     * measured is the transport, not the sender's allocations. */
    char *buf = malloc (piece);
    if (!buf)
        return 1;
    memset (buf, 1, piece);
    for (uint64_t sent = 0; sent < bytes;) {
        size_t n = bytes - sent < piece ? (size_t)(bytes - sent) : piece;
        zmq_msg_t m;
        if (zmq_msg_init_data (&m, buf, n, NULL, NULL) < 0)
            return 1;
        if (zmq_msg_send (&m, s, 0) < 0)
            return 1;
        sent += n;
    }
    int linger = -1;
    zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_close (s);
    zmq_ctx_term (ctx);
    free (buf);
    return 0;
}

int main (int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf (stderr, "usage: zmq_pipe BYTES PIECE [OUTFILE]\n");
        return 2;
    }
    /* The allocator as fedsched's processes set it (cli/main.c), so the two
     * move their pieces under the same conditions. */
    mallopt (M_MMAP_THRESHOLD, 32 << 20);
    mallopt (M_TRIM_THRESHOLD, 256 << 20);
    uint64_t bytes = strtoull (argv[1], NULL, 10);
    size_t piece = (size_t)strtoull (argv[2], NULL, 10);
    if (bytes == 0 || piece == 0) {
        fprintf (stderr, "zmq_pipe: BYTES and PIECE must be positive\n");
        return 2;
    }
    int p[2];
    if (pipe (p) < 0)
        return 1;
    pid_t pid = fork ();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close (p[0]);
        _exit (sender (p[1], bytes, piece));
    }
    close (p[1]);
    char ep[256];
    ssize_t k = read (p[0], ep, sizeof (ep) - 1);
    close (p[0]);
    if (k <= 0) {
        fprintf (stderr, "zmq_pipe: the sender did not start\n");
        return 1;
    }
    ep[k] = '\0';
    int ofd = -1;
    if (argc == 4 && (ofd = open (argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        fprintf (stderr, "zmq_pipe: cannot create %s\n", argv[3]);
        return 1;
    }
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PULL);
    double t0 = clock_mono ();
    if (!s || zmq_connect (s, ep) < 0) {
        fprintf (stderr, "zmq_pipe: cannot connect to %s\n", ep);
        return 1;
    }
    uint64_t got = 0;
    zmq_msg_t m;
    zmq_msg_init (&m);
    while (got < bytes) {
        int n = zmq_msg_recv (&m, s, 0);
        if (n < 0) {
            fprintf (stderr, "zmq_pipe: receive failed: %s\n", zmq_strerror (zmq_errno ()));
            return 1;
        }
        if (ofd >= 0 && pwrite (ofd, zmq_msg_data (&m), (size_t)n, (off_t)got) != n) {
            fprintf (stderr, "zmq_pipe: cannot write %s\n", argv[3]);
            return 1;
        }
        got += (uint64_t)n;
    }
    if (ofd >= 0 && close (ofd) < 0) {
        fprintf (stderr, "zmq_pipe: cannot write %s\n", argv[3]);
        return 1;
    }
    double t1 = clock_mono ();
    zmq_msg_close (&m);
    zmq_close (s);
    zmq_ctx_term (ctx);
    int st = 0;
    waitpid (pid, &st, 0);
    printf ("seconds=%.6f bytes=%llu\n", t1 - t0, (unsigned long long)got);
    return WIFEXITED (st) && WEXITSTATUS (st) == 0 ? 0 : 1;
}
