/* One client's connection for the load generator (see loadgen.c): connect, register, send data lines, read
   and check what arrives; over TCP as it is, or over WebSocket (--proto ws, framed by ws.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loadgen.h"
#include "ws.h"

void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(2);
}

void queue(conn *c, const char *data, size_t len) {
    if (c->wlen + len > c->wcap) {
        size_t cap = c->wcap ? c->wcap : 4096;
        while (cap < c->wlen + len) cap *= 2;
        c->wbuf = realloc(c->wbuf, cap);
        if (!c->wbuf) die("realloc");
        c->wcap = cap;
    }
    memcpy(c->wbuf + c->wlen, data, len);
    c->wlen += len;
}

/* IRC lines (each ending with LF): as they are over TCP, or over WebSocket one masked message each */
void emit(conn *c, const char *data, size_t len) {
    if (!ws) {
        queue(c, data, len);
        return;
    }
    unsigned char frame[1024 + WS_MAX_HEADER];
    for (const char *end = data + len, *nl; data < end; data = nl < end ? nl + 1 : end) {
        nl = memchr(data, '\n', end - data);
        if (!nl) nl = end;
        size_t n = nl - data - (nl > data && nl[-1] == '\r');
        queue(c, (char *)frame, ws_frame(frame, WS_TEXT, data, n < 1024 ? n : 1024));
    }
}

static void watch(conn *c, int want_out) {
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl mod");
}

void flush(conn *c) {
    while (c->wlen) {
        ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                watch(c, 1);
                return;
            }
            c->closed = 1;
            return;
        }
        memmove(c->wbuf, c->wbuf + n, c->wlen - n);
        c->wlen -= n;
    }
    watch(c, 0);
}

void register_conn(conn *c, const char *chan) {
    char buf[256];
    int n = 0;
    if (ws && !c->upgraded) { /* the upgrade first: the registration follows the 101 (ws_input) */
        queue(c, buf, ws_request(buf, sizeof buf, port, "/socket"));
        return;
    }
    if (proto == P_IRC && scen == S_CAPACITY) /* idle registered clients: no channel */
        n = snprintf(buf, sizeof buf, "NICK b%d\r\nUSER b%d 0 * :bench\r\n", c->id, c->id);
    else if (proto == P_IRC)
        n = snprintf(buf, sizeof buf, "NICK b%d\r\nUSER b%d 0 * :bench\r\nJOIN %s\r\n", c->id, c->id, chan);
    else if (proto == P_PLAIN)
        n = strcmp(chan, "#lobby") ? snprintf(buf, sizeof buf, "/join %s\n", chan) : 0;
    if (n) emit(c, buf, n);
    if (proto == P_RAW && !c->ready) {
        c->ready = 1;
        settled++;
    }
}

static uint32_t next_source; /* a fresh source address for every connection, churn's included */

int open_conn(conn *c) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Each client gets its own source address in 127.1.0.0/16: with tens of thousands of connections to one
       port from one address, the kernel's search for a free ephemeral port in connect() gets slower with
       every connection, and the generator (not the server) would set the time to connect them all. */
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
    uint32_t k = next_source++ % 62500;
    src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (k / 250) << 8 | (k % 250 + 1));
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
    c->fd = fd;
    c->rlen = 0;
    c->wlen = 0;
    c->ready = 0;
    c->closed = 0;
    c->connecting = 1;
    c->upgraded = c->fragging = 0;
    c->fraglen = 0;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl add");
    return fd;
}

void send_data(conn *c) {
    char buf[512];
    char pad[256];
    int plen = payload < (int)sizeof pad - 1 ? payload : (int)sizeof pad - 1;
    memset(pad, 'x', plen);
    pad[plen] = 0;
    int n;
    const char *target = room;
    char pair_room[32];
    if (scen == S_PINGPONG) {
        snprintf(pair_room, sizeof pair_room, "#p%d", c->id / 2);
        target = pair_room;
    }
    if (proto == P_IRC)
        n = snprintf(buf, sizeof buf, "PRIVMSG %s :" MARK "%d %llu %llu %s\r\n", target, c->sender,
                     (unsigned long long)c->seq, (unsigned long long)now_ns(), pad);
    else
        n = snprintf(buf, sizeof buf, MARK "%d %llu %llu %s\n", c->sender, (unsigned long long)c->seq,
                     (unsigned long long)now_ns(), pad);
    c->seq++;
    sent++;
    emit(c, buf, n);
}

static inline void record_latency(uint64_t t0) {
    if (++sample_tick & (sample_every - 1)) return; /* sample_every is a power of two */
    uint64_t t1 = now_ns();
    if (nsamples < MAX_SAMPLES) samples[nsamples++] = t1 > t0 ? t1 - t0 : 0;
}

static inline const char *parse_u64(const char *p, const char *end, uint64_t *out) {
    uint64_t v = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
    *out = v;
    return p == start || p >= end || *p != ' ' ? NULL : p + 1;
}

/* Parse one data line: returns 1 if it is a well-formed data line, 0 if not a data line, -1 if corrupt. */
static int check_line(conn *c, const char *line, size_t len) {
    /* the payload is last: "~M~ <sid> <seq> <ts> <pad>" with a fixed-length pad, so look near the end */
    size_t tail = (size_t)payload + 4 + 3 * 21;
    const char *from = len > tail ? line + len - tail : line;
    const char *t = memrchr(from, '~', line + len - from); /* the last '~' of the "~M~ " marker */
    const char *m = t && t - 2 >= line ? t - 2 : NULL;
    if (!m || m[0] != '~' || m[1] != 'M' || m[3] != ' ') return memmem(line, len, MARK, 4) ? -1 : 0;
    const char *p = m + 4, *end = line + len;
    uint64_t sid, seq, ts;
    if (!(p = parse_u64(p, end, &sid)) || sid >= (uint64_t)nsenders) return -1;
    if (!(p = parse_u64(p, end, &seq))) return -1;
    if (!(p = parse_u64(p, end, &ts))) return -1;
    if (end - p != payload || memcmp(p, padref, payload) != 0) return -1;
    if (c->last) {
        if (c->last[sid] != (uint64_t)-1 && seq != c->last[sid] + 1) gaps++;
        c->last[sid] = seq;
    }
    recv_by_sender[sid]++;
    c->got++;
    record_latency(ts);
    return 1;
    (void)line;
}

static int is_ready_line(const char *line, size_t len) {
    if (proto == P_IRC && scen == S_CAPACITY) /* the end of the welcome burst: MOTD or no MOTD */
        return memmem(line, len, " 376 ", 5) != NULL || memmem(line, len, " 422 ", 5) != NULL;
    if (proto == P_IRC) return memmem(line, len, " 366 ", 5) != NULL;
    if (proto == P_PLAIN) return memmem(line, len, "* You are in #", 14) != NULL;
    return 1;
}

static inline void on_line(conn *c, const char *line, size_t len) {
    if (len && line[len - 1] == '\r') len--;
    if (__builtin_expect(!c->ready, 0)) {
        if (len >= 4 && memcmp(line, "PING", 4) == 0 && proto == P_IRC) {
            char buf[600];
            int n = snprintf(buf, sizeof buf, "PONG%.*s\r\n", (int)(len - 4), line + 4);
            emit(c, buf, n);
        }
        if (is_ready_line(line, len)) {
            int is_plain_join = proto == P_PLAIN && scen == S_PINGPONG && !memmem(line, len, "#p", 2);
            if (!is_plain_join) {
                c->ready = 1;
                settled++;
            }
        }
        return;
    }
    int r = check_line(c, line, len);
    if (r > 0) {
        delivered++;
        if (scen == S_PINGPONG && c->sender < 0) {
            /* the answering side: echo a fresh message back */
            send_data(c);
        } else if (scen == S_PINGPONG) {
            send_data(c);
        }
    } else if (r < 0) {
        corrupt++;
    } else {
        other_lines++;
        if (len >= 4 && memcmp(line, "PING", 4) == 0 && proto == P_IRC) {
            char buf[600];
            int n = snprintf(buf, sizeof buf, "PONG%.*s\r\n", (int)(len - 4), line + 4);
            emit(c, buf, n);
        }
    }
}

/* --proto ws: a control frame, or the close that ends the connection (after the close is sent) */
static void ws_send(conn *c, int opcode, const void *payload, size_t len) {
    unsigned char frame[125 + WS_MAX_HEADER];
    queue(c, (char *)frame, ws_frame(frame, opcode, payload, len));
    if (opcode == WS_CLOSE) {
        flush(c);
        c->closed = 1;
    }
}

static void ws_message(conn *c, const char *data, size_t len) {
    if (memchr(data, '\n', len) || memchr(data, '\r', len)) corrupt++; /* one line per message, no CR LF */
    else on_line(c, data, len);
}

/* --proto ws: the 101, then the server's frames; a text or binary message is one IRC line */
static void ws_input(conn *c) {
    size_t at = 0;
    if (!c->upgraded) {
        long head = ws_response(c->rbuf, c->rlen);
        if (head <= 0) {
            if (head < 0 || c->rlen == RBUF) {
                fprintf(stderr, "loadgen: upgrade refused: %.*s\n", (int)strcspn(c->rbuf, "\r\n"), c->rbuf);
                c->closed = 1;
            }
            return;
        }
        c->upgraded = 1;
        at = head;
        char chan[32];
        if (scen == S_PINGPONG) snprintf(chan, sizeof chan, "#p%d", c->id / 2);
        register_conn(c, scen == S_PINGPONG ? chan : room);
    }
    ws_parsed f;
    int r;
    while (!c->closed && (r = ws_parse((unsigned char *)c->rbuf + at, c->rlen - at, &f))) {
        if (r < 0 || f.masked || f.len > RBUF - f.header) { /* a server's frames are never masked */
            corrupt++;
            ws_send(c, WS_CLOSE, r > 0 && !f.masked ? "\x03\xf1" : "\x03\xea", 2); /* 1009, 1002 */
            break;
        }
        if (c->rlen - at < f.header + f.len) break;
        const char *data = c->rbuf + at + f.header;
        size_t len = f.len;
        at += f.header + f.len;
        if (f.opcode == WS_PING) {
            ws_send(c, WS_PONG, data, len);
        } else if (f.opcode == WS_CLOSE) {
            ws_send(c, WS_CLOSE, data, len < 2 ? len : 2);
        } else if (f.opcode == WS_PONG) {
        } else if ((f.opcode == WS_CONT) != c->fragging || c->fraglen + len > 65536) {
            corrupt++; /* a continuation of nothing, a new message inside another, or one far too long */
            ws_send(c, WS_CLOSE, "\x03\xea", 2);
        } else if (f.fin && !c->fragging) {
            ws_message(c, data, len);
        } else {
            if (!c->frag && !(c->frag = malloc(65536))) die("malloc");
            memcpy(c->frag + c->fraglen, data, len);
            c->fraglen += len;
            c->fragging = !f.fin;
            if (f.fin) {
                ws_message(c, c->frag, c->fraglen);
                c->fraglen = 0;
            }
        }
    }
    c->rlen -= at;
    if (at && c->rlen) memmove(c->rbuf, c->rbuf + at, c->rlen);
}

void on_readable(conn *c) {
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
        if (n < 0) {
            if (errno == EAGAIN) break;
            c->closed = 1;
            return;
        }
        if (n == 0) {
            c->closed = 1;
            return;
        }
        c->rlen += n;
        if (ws) {
            ws_input(c);
            if (c->closed) return;
            if ((size_t)n < RBUF / 2) break;
            continue;
        }
        char *start = c->rbuf, *end = c->rbuf + c->rlen, *nl;
        while ((nl = memchr(start, '\n', end - start))) {
            on_line(c, start, nl - start);
            start = nl + 1;
        }
        c->rlen = end - start;
        if (c->rlen == RBUF) { /* a line longer than the buffer: corrupt by definition */
            corrupt++;
            c->rlen = 0;
        } else if (start != c->rbuf) {
            memmove(c->rbuf, start, c->rlen);
        }
        if ((size_t)n < RBUF / 2) break;
    }
    if (c->wlen) flush(c);
}

void close_conn(conn *c) {
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}
