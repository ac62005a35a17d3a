/*
 * The client side of RFC 6455 (WebSocket) for the load generator: the upgrade request and the check of its
 * answer, masked client frames, and a parser for the server's frames. Nothing here knows about connections or
 * IRC; loadgen.c carries IRC lines in these frames (--proto ws: IRCv3's text.ircv3.net, one line per message,
 * without CR LF).
 */
#ifndef HUBBUB_BENCH_WS_H
#define HUBBUB_BENCH_WS_H

#include <stddef.h>
#include <stdint.h>

enum { WS_CONT = 0x0, WS_TEXT = 0x1, WS_BINARY = 0x2, WS_CLOSE = 0x8, WS_PING = 0x9, WS_PONG = 0xA };

/* The most a frame header takes: 2 bytes, a 64-bit length, a 4-byte mask. */
#define WS_MAX_HEADER 14

/* Seed the generator of keys and masks from the kernel's random source. */
void ws_seed(void);

/* The upgrade request for ws://127.0.0.1:port/path with a fresh random Sec-WebSocket-Key, asking for the
   text.ircv3.net subprotocol; returns its length (0 if `cap` is too small). */
size_t ws_request(char *out, size_t cap, int port, const char *path);

/* The answer to the upgrade request, at the start of `buf`: 0 if the head is not complete yet; else the length
   of the head (the frames follow it) if it is a 101 that switches to the websocket protocol with
   text.ircv3.net, or -1 if it is anything else. */
long ws_response(const char *buf, size_t len);

/* One client frame (FIN set) of `opcode` carrying `len` bytes, masked with a fresh random 4-byte key as RFC 6455
   requires of a client: writes at most len + WS_MAX_HEADER bytes to `out` and returns how many. */
size_t ws_frame(unsigned char *out, int opcode, const void *payload, size_t len);

/* Checks the framing both ways for payload lengths around each boundary (7-, 16- and 64-bit): 0 if right. */
int ws_selftest(void);

typedef struct ws_parsed {
    int fin, opcode, masked;
    unsigned char mask[4];
    uint64_t len;         /* payload bytes */
    size_t header;        /* bytes before the payload */
} ws_parsed;

/* Parse the head of the frame at `buf`: 0 if more bytes are needed to know its size, -1 if it is malformed (a
   reserved bit set: no extension was negotiated; an unknown opcode; a control frame fragmented or over 125
   bytes), else 1 and `f` filled in (the whole frame is f->header + f->len bytes, perhaps not all there yet). */
static inline int ws_parse(const unsigned char *buf, size_t len, ws_parsed *f) {
    if (len < 2) return 0;
    f->fin = buf[0] >> 7;
    f->opcode = buf[0] & 0x0f;
    f->masked = buf[1] >> 7;
    uint64_t n = buf[1] & 0x7f;
    size_t header = 2;
    if (buf[0] & 0x70) return -1;
    if (f->opcode >= WS_CLOSE ? f->opcode > WS_PONG || !f->fin || n > 125 : f->opcode > WS_BINARY) return -1;
    if (n == 126) {
        if (len < 4) return 0;
        n = (uint64_t)buf[2] << 8 | buf[3];
        header = 4;
    } else if (n == 127) {
        if (len < 10) return 0;
        n = 0;
        for (int i = 2; i < 10; i++) n = n << 8 | buf[i];
        if (n >> 63) return -1;
        header = 10;
    }
    if (f->masked) {
        if (len < header + 4) return 0;
        for (int i = 0; i < 4; i++) f->mask[i] = buf[header + i];
        header += 4;
    }
    f->len = n;
    f->header = header;
    return 1;
}

#endif
