/*
 * What the load generator's two parts share: loadgen.c (the options, the event loop, the scenarios and the
 * report) and client.c (one client's connection: connect, register, send, read and check its lines, over TCP
 * or WebSocket).
 */
#ifndef HUBBUB_BENCH_LOADGEN_H
#define HUBBUB_BENCH_LOADGEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum proto { P_IRC, P_PLAIN, P_RAW };
enum scen { S_FANOUT, S_PINGPONG, S_CAPACITY, S_CHURN };

#define RBUF (256 * 1024)
#define MAX_SAMPLES 2000000
#define MARK "~M~ "

typedef struct conn {
    int fd;
    int id;
    int ready;      /* registered and in its room */
    int closed;
    int sender;     /* index among senders, or -1 */
    int peer;       /* pingpong: index of the other client */
    int connecting;
    size_t rlen;
    char *rbuf;
    char *wbuf;     /* pending output */
    size_t wlen, wcap;
    uint64_t seq;   /* next sequence number to send */
    uint64_t *last; /* per sender: last sequence seen */
    uint64_t got;   /* data lines received */
    double t_start; /* churn: when this cycle began */
    int upgraded;   /* --proto ws: the 101 arrived */
    int fragging;   /* --proto ws: a fragmented message is arriving into frag */
    char *frag;
    size_t fraglen;
} conn;

/* the options (loadgen.c) */
extern enum proto proto;
extern int ws; /* --proto ws: P_IRC over WebSocket */
extern enum scen scen;
extern int port, nsenders, payload;
extern const char *room;
/* the state and the counters (loadgen.c) */
extern int ep;
extern uint64_t delivered, corrupt, gaps, other_lines, sent;
extern uint64_t *samples;
extern uint64_t *recv_by_sender; /* data lines received from each sender, over all receivers */
extern int settled;              /* connections registered (or failed) */
extern size_t nsamples;
extern uint64_t sample_every, sample_tick;
extern char padref[256];

/* one client's connection (client.c) */
void die(const char *what);
void queue(conn *c, const char *data, size_t len);
void emit(conn *c, const char *data, size_t len); /* IRC lines, each ending with LF */
void flush(conn *c);
void register_conn(conn *c, const char *chan);
int open_conn(conn *c);
void send_data(conn *c);
void on_readable(conn *c);
void close_conn(conn *c);

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
