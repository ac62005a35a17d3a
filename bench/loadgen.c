/*
 * hubbub benchmark load generator: many chat clients on one epoll loop, in C so that it is not the
 * bottleneck. It connects clients to a chat server on 127.0.0.1, registers them (IRC or plain text),
 * drives one scenario, checks every data line it receives, and prints one JSON object with the results.
 *
 *   loadgen SCENARIO --port P --proto irc|plain|raw|ws [options]
 *   loadgen wstest      (checks its own WebSocket framing, see ws.c)
 *
 * --proto ws is IRC over WebSocket (RFC 6455, IRCv3's text.ircv3.net): each client upgrades with GET /socket,
 * waits for the 101, then sends every IRC line as one masked text frame and reads one line per message of
 * the server's (a message holding CR or LF counts as corrupt); it answers pings and closes. The rest is IRC's.
 *
 * Scenarios:
 *   fanout    N clients in one room; S of them send (open rate, or --rate messages/s in total);
 *             every client counts the data lines it receives and their latency.
 *   pingpong  N/2 rooms of two clients; one of each pair sends, the other answers; round trips and latency.
 *   capacity  connect and register N clients, report the time it took, then hold them idle for --hold s.
 *   churn     for --duration s, keep --concurrency clients cycling: connect, register, join, quit.
 *
 * Every data line carries "~M~ <sender> <seq> <send time ns> <padding>". A line whose payload is not
 * exactly that (a line split or merged by the server, or altered) counts as corrupt; a sequence number out of
 * order from a sender counts as a gap. Latencies are sampled (up to 2M samples) for percentiles.
 *
 * Completeness (fanout, pingpong): after the measurement, the generator drains what is in flight for a second
 * (--settle S: then, in fanout, for up to S more seconds until every line sent reached every other client, or
 * nothing arrived for 2 s). fanout reports "expected" (lines sent x (clients - 1)) and "missing" (expected -
 * delivered: lines lost; negative if duplicated); pingpong reports "stalled_pairs" (pairs that received
 * nothing during the drain: their ball was lost) and "stalled", the first 16 of them as [client number of the
 * first of the pair, lines it received, lines its peer received]. With --marks 1 it writes "loadgen: measuring"
 * and "loadgen: measured" to stderr when the measurement starts and ends (for the CPU time taken meanwhile).
 *
 * Everything is bounded: connection counts by --clients, time by --duration/--hold and a hard --deadline.
 *
 * This file holds the options, the event loop, the scenarios and the report; client.c one client's connection;
 * ws.c the WebSocket framing (loadgen.h and ws.h say what they share).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "ws.h"

enum proto proto = P_IRC;
int ws = 0; /* --proto ws: P_IRC over WebSocket */
enum scen scen = S_FANOUT;
int port = 0, nclients = 100, nsenders = 10, payload = 32, concurrency = 50;
static double rate = 0, duration = 5, hold = 2, deadline_s = 120, warmup = 0.5, settle = 0;
const char *room = "#bench";
int ep;
static conn *conns;
uint64_t delivered, corrupt, gaps, other_lines, sent, closed_early, cycles;
uint64_t *samples;
uint64_t *recv_by_sender; /* data lines received from each sender, over all receivers */
int settled;                /* connections registered (or failed) */
static int max_pending = 128;     /* connections registering at once */
static int window = 128;          /* open rate: messages per sender in flight (sent, not yet delivered) */
static int marks = 0;             /* --marks 1: say on stderr when the measurement starts and ends */
static int64_t *written_off;      /* per sender: messages given up on (never delivered intact) */
static uint64_t *progress_mark;   /* per sender: recv_by_sender at the last progress check */
static double *progress_time;     /* per sender: when it last made progress */
size_t nsamples;
uint64_t sample_every = 1, sample_tick;

char padref[256];

static void usage(void) {
    fprintf(stderr, "usage: loadgen fanout|pingpong|capacity|churn --port P [--proto irc|plain|raw|ws] "
                    "[--clients N] [--senders S] [--rate R] [--duration D] [--payload B] [--room R] "
                    "[--hold H] [--concurrency K] [--deadline D] [--warmup W] [--window M] [--pending P] "
                    "[--settle S] [--marks 1]\n");
    exit(2);
}

static double sys_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p) {
    if (!nsamples) return -1;
    size_t i = (size_t)(p * (nsamples - 1));
    return samples[i] / 1e6; /* ms */
}

/* Run the loop until `until` (absolute seconds) or until `stop()` says so; returns the events handled. */
static void loop_until(double until, int (*stop)(void), void (*tick)(double)) {
    struct epoll_event evs[1024];
    double hard = now_s() + deadline_s;
    for (;;) {
        double t = now_s();
        if (t >= until || t >= hard || (stop && stop())) return;
        if (tick) tick(t);
        int timeout = rate > 0 || tick ? 1 : (int)((until - t) * 1000) + 1;
        int n = epoll_wait(ep, evs, 1024, timeout);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if (c->connecting && (evs[i].events & (EPOLLOUT | EPOLLERR))) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err) {
                    c->closed = 1;
                } else {
                    c->connecting = 0;
                    if (proto == P_RAW && !c->ready) {
                        c->ready = 1;
                        settled++;
                    }
                    flush(c);
                }
            }
            if (evs[i].events & EPOLLIN) on_readable(c);
            if (!c->closed && (evs[i].events & EPOLLOUT) && !c->connecting) flush(c);
            if (c->closed) {
                if (scen == S_CHURN) {
                    cycles++;
                    close_conn(c);
                    open_conn(c);
                    register_conn(c, room);
                    c->t_start = now_s();
                } else {
                    if (!c->ready) settled++;
                    closed_early++;
                    close_conn(c);
                }
            }
        }
    }
}

static int count_ready(void) { return settled; }

/* every client is registered or gone: `settled` counts both, so this is O(1) per loop turn */
static int all_ready(void) { return settled >= nclients; }

/* fanout, after the measurement: every line sent has reached every other client */
static uint64_t expected_lines;
static int all_delivered(void) { return delivered >= expected_lines; }

/* --- fan-out --- */
static double next_send;
static int rr;
static void fanout_tick(double t) {
    if (rate <= 0 && progress_time[0] == 0)
        for (int s = 0; s < nsenders; s++) progress_time[s] = t;
    if (rate > 0) {
        while (next_send <= t) {
            conn *c = &conns[rr++ % nsenders];
            if (c->fd >= 0) {
                send_data(c);
                flush(c);
            }
            next_send += 1.0 / rate;
        }
    } else {
        /* open rate, closed loop: each sender keeps up to `window` messages in flight, counting a message
           as delivered on average once every other client has received it. The server's throughput is then
           what it sustains without queues growing, whatever the load generator's own speed. */
        int receivers = nclients - 1 > 0 ? nclients - 1 : 1;
        for (int s = 0; s < nsenders; s++) {
            conn *c = &conns[s];
            if (c->fd < 0 || c->wlen > 16384) continue;
            int64_t inflight = (int64_t)c->seq - (int64_t)(recv_by_sender[s] / receivers) - written_off[s];
            if (recv_by_sender[s] != progress_mark[s]) {
                progress_mark[s] = recv_by_sender[s];
                progress_time[s] = t;
            } else if (inflight >= window && t - progress_time[s] > 0.2) {
                /* nothing arrives intact (a server that splits or drops lines): count them lost, go on */
                written_off[s] += inflight;
                inflight = 0;
                progress_time[s] = t;
            }
            int room = window - (int)inflight;
            if (room < window / 4) continue;
            for (int k = 0; k < room; k++) send_data(c);
            flush(c);
        }
    }
}

/* --- churn: a client that became ready quits at once --- */
static void churn_tick(double t) {
    (void)t;
    for (int i = 0; i < nclients; i++) {
        conn *c = &conns[i];
        if (c->fd >= 0 && c->ready == 1) {
            c->ready = 2;
            if (proto == P_IRC)
                emit(c, "QUIT :bye\r\n", 11);
            else if (proto == P_PLAIN)
                queue(c, "/quit\n", 6);
            else {
                c->closed = 1;
                cycles++;
                close_conn(c);
                open_conn(c);
                continue;
            }
            flush(c);
        }
    }
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "wstest")) return ws_selftest();
    if (argc < 2) usage();
    if (!strcmp(argv[1], "fanout")) scen = S_FANOUT;
    else if (!strcmp(argv[1], "pingpong")) scen = S_PINGPONG;
    else if (!strcmp(argv[1], "capacity")) scen = S_CAPACITY;
    else if (!strcmp(argv[1], "churn")) scen = S_CHURN;
    else usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--proto")) {
            ws = !strcmp(v, "ws");
            proto = !strcmp(v, "irc") || ws ? P_IRC : !strcmp(v, "plain") ? P_PLAIN : P_RAW;
        }
        else if (!strcmp(a, "--clients")) nclients = atoi(v);
        else if (!strcmp(a, "--senders")) nsenders = atoi(v);
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--payload")) payload = atoi(v);
        else if (!strcmp(a, "--room")) room = v;
        else if (!strcmp(a, "--hold")) hold = atof(v);
        else if (!strcmp(a, "--concurrency")) concurrency = atoi(v);
        else if (!strcmp(a, "--deadline")) deadline_s = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--window")) window = atoi(v);
        else if (!strcmp(a, "--pending")) max_pending = atoi(v);
        else if (!strcmp(a, "--settle")) settle = atof(v);
        else if (!strcmp(a, "--marks")) marks = atoi(v);
        else usage();
        i++;
    }
    if (!port || nclients < 1) usage();
    if (payload > 200) payload = 200;
    memset(padref, 'x', sizeof padref);
    if (scen == S_PINGPONG) {
        nclients &= ~1;
        nsenders = nclients;
    }
    if (scen == S_CHURN) nclients = concurrency;
    if (nsenders > nclients) nsenders = nclients;
    if (ws) ws_seed();
    ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    conns = calloc(nclients, sizeof *conns);
    samples = malloc(sizeof(uint64_t) * MAX_SAMPLES);
    recv_by_sender = calloc(nclients > nsenders ? nclients : nsenders, sizeof(uint64_t));
    written_off = calloc(nclients > nsenders ? nclients : nsenders, sizeof(int64_t));
    progress_mark = calloc(nclients > nsenders ? nclients : nsenders, sizeof(uint64_t));
    progress_time = calloc(nclients > nsenders ? nclients : nsenders, sizeof(double));
    if (!conns || !samples) die("malloc");
    if (scen == S_FANOUT && rate <= 0) sample_every = 64;

    double cpu0 = cpu_seconds();
    double t0 = now_s();
    for (int i = 0; i < nclients; i++) {
        conn *c = &conns[i];
        c->id = i;
        c->sender = scen == S_PINGPONG ? i : (i < nsenders ? i : -1);
        c->rbuf = malloc(RBUF);
        if (!c->rbuf) die("malloc");
        if (scen == S_FANOUT || scen == S_PINGPONG) {
            c->last = malloc(sizeof(uint64_t) * nsenders);
            for (int s = 0; s < nsenders; s++) c->last[s] = (uint64_t)-1;
        }
        open_conn(c);
        char chan[32];
        if (scen == S_PINGPONG) snprintf(chan, sizeof chan, "#p%d", i / 2);
        register_conn(c, scen == S_PINGPONG ? chan : room);
        /* keep at most --pending connections registering at once, so that a server with a short listen
           backlog is not flooded with connects it drops (the kernel then retries them seconds later) */
        if (scen != S_CHURN) {
            double give_up = now_s() + deadline_s;
            while (i + 1 - count_ready() >= max_pending && now_s() < give_up)
                loop_until(now_s() + 0.001, NULL, NULL);
        }
    }
    if (scen == S_CHURN) {
        double start = now_s();
        loop_until(start + duration, NULL, churn_tick);
        double elapsed = now_s() - start;
        printf("{\"scenario\":\"churn\",\"concurrency\":%d,\"cycles\":%llu,\"cycles_per_s\":%.1f,"
               "\"duration\":%.3f,\"loadgen_cpu\":%.3f}\n",
               concurrency, (unsigned long long)cycles, cycles / elapsed, elapsed, cpu_seconds() - cpu0);
        return 0;
    }
    loop_until(t0 + deadline_s, all_ready, NULL);
    double connected = now_s() - t0;
    int ready = 0;
    for (int i = 0; i < nclients; i++) ready += conns[i].ready && conns[i].fd >= 0;
    if (scen == S_CAPACITY) {
        if (marks) fprintf(stderr, "loadgen: holding\n"); /* all connected: the time to measure them idle */
        loop_until(now_s() + hold, NULL, NULL);
        int alive = 0;
        for (int i = 0; i < nclients; i++) alive += conns[i].fd >= 0;
        printf("{\"scenario\":\"capacity\",\"clients\":%d,\"ready\":%d,\"alive\":%d,\"connect_time\":%.3f,"
               "\"loadgen_cpu\":%.3f}\n",
               nclients, ready, alive, connected, cpu_seconds() - cpu0);
        return 0;
    }
    /* let the join notices drain before measuring */
    loop_until(now_s() + warmup, NULL, NULL);
    delivered = corrupt = gaps = other_lines = sent = 0;
    for (int s = 0; s < nsenders; s++) recv_by_sender[s] = conns[s].seq * (nclients > 1 ? nclients - 1 : 1);
    nsamples = 0;
    double cpu1 = cpu_seconds(), sys1 = sys_seconds();
    double start = now_s();
    if (marks) fprintf(stderr, "loadgen: measuring\n");
    if (scen == S_FANOUT) {
        next_send = start;
        loop_until(start + duration, NULL, fanout_tick);
    } else {
        for (int i = 0; i < nclients; i += 2) {
            send_data(&conns[i]);
            flush(&conns[i]);
        }
        loop_until(start + duration, NULL, NULL);
    }
    double elapsed = now_s() - start;
    uint64_t delivered_in_time = delivered;
    if (marks) fprintf(stderr, "loadgen: measured\n");
    /* drain what is in flight (not counted in the rate) */
    uint64_t *got_before = calloc(nclients, sizeof(uint64_t));
    if (!got_before) die("calloc");
    for (int i = 0; i < nclients; i++) got_before[i] = conns[i].got;
    loop_until(now_s() + 1.0, NULL, NULL);
    double cpu = cpu_seconds() - cpu1, sys = sys_seconds() - sys1;
    /* completeness: fanout waits (up to --settle s, while lines still arrive) for every line to every client */
    expected_lines = sent * (uint64_t)(nclients > 1 ? nclients - 1 : 1);
    double settle_start = now_s(), settle_end = settle_start + settle;
    while (scen == S_FANOUT && !all_delivered() && now_s() < settle_end) {
        uint64_t before = delivered;
        loop_until(now_s() + 2.0 < settle_end ? now_s() + 2.0 : settle_end, all_delivered, NULL);
        if (delivered == before) break; /* nothing more is coming */
    }
    double settled_s = now_s() - settle_start;
    int stalled = 0;
    char stalled_list[1024] = ""; /* the first stalled pairs: "[first client, its lines, its peer's lines]" */
    size_t used = 0;
    if (scen == S_PINGPONG)
        for (int i = 0; i + 1 < nclients; i += 2)
            if (conns[i].got == got_before[i] && conns[i + 1].got == got_before[i + 1]) {
                if (stalled++ < 16 && used < sizeof stalled_list - 64)
                    used += snprintf(stalled_list + used, sizeof stalled_list - used, "%s[%d,%llu,%llu]",
                                     used ? "," : "", i, (unsigned long long)conns[i].got,
                                     (unsigned long long)conns[i + 1].got);
            }
    free(got_before);
    qsort(samples, nsamples, sizeof *samples, cmp_u64);
    printf("{\"scenario\":\"%s\",\"proto\":\"%s\",\"clients\":%d,\"ready\":%d,\"senders\":%d,\"rate\":%.1f,"
           "\"duration\":%.3f,\"sent\":%llu,\"delivered\":%llu,\"delivered_per_s\":%.1f,\"corrupt\":%llu,"
           "\"gaps\":%llu,\"closed_early\":%llu,\"other_lines\":%llu,\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,"
           "\"max\":%.3f,\"samples\":%zu},\"connect_time\":%.3f,\"loadgen_cpu\":%.3f,\"loadgen_sys\":%.3f,\"loadgen_cpu_share\":%.3f,"
           "\"expected\":%lld,\"missing\":%lld,\"stalled_pairs\":%d,\"stalled\":[%s],\"settle_s\":%.3f}\n",
           scen == S_FANOUT ? "fanout" : "pingpong", ws ? "ws" : proto == P_IRC ? "irc" : proto == P_PLAIN ? "plain" : "raw",
           nclients, ready, nsenders, rate, elapsed, (unsigned long long)sent, (unsigned long long)delivered,
           delivered_in_time / elapsed, (unsigned long long)corrupt, (unsigned long long)gaps,
           (unsigned long long)closed_early, (unsigned long long)other_lines, pct(0.5), pct(0.99),
           nsamples ? samples[nsamples - 1] / 1e6 : -1.0, nsamples, connected, cpu, sys, cpu / (elapsed + 1.0),
           scen == S_FANOUT ? (long long)expected_lines : -1LL,
           scen == S_FANOUT ? (long long)expected_lines - (long long)delivered : 0LL, stalled, stalled_list,
           settled_s);
    return 0;
}
