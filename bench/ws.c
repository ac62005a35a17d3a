/* The client side of RFC 6455 for the load generator: see ws.h. */
#define _GNU_SOURCE
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void ws_seed(void) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) == (ssize_t)sizeof seed && seed) rng_state = seed;
}

/* xorshift64*: masks need not be secret here (the peer is our own server on 127.0.0.1), only fresh per frame
   as a client's are; the handshake key comes from the kernel. */
static uint32_t rng32(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static size_t base64(char *out, const unsigned char *in, size_t len) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = digits[v >> 18 & 63];
        out[o++] = digits[v >> 12 & 63];
        out[o++] = i + 1 < len ? digits[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? digits[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

size_t ws_request(char *out, size_t cap, int port, const char *path) {
    unsigned char nonce[16];
    char key[32];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        for (size_t i = 0; i < sizeof nonce; i++) nonce[i] = (unsigned char)rng32();
    base64(key, nonce, sizeof nonce);
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n",
                     path, port, key);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Whether the head's header `name` holds `value` (both compared without regard to case). */
static int has_header(const char *head, const char *end, const char *name, const char *value) {
    size_t nlen = strlen(name), vlen = strlen(value);
    for (const char *line = memchr(head, '\n', end - head); line && line + 1 < end;
         line = memchr(line + 1, '\n', end - line - 1)) {
        const char *p = line + 1;
        const char *eol = memchr(p, '\n', end - p);
        if (!eol) eol = end;
        if ((size_t)(eol - p) <= nlen || strncasecmp(p, name, nlen) || p[nlen] != ':') continue;
        p += nlen + 1;
        while (p < eol && (*p == ' ' || *p == '\t')) p++;
        const char *q = eol;
        while (q > p && (q[-1] == '\r' || q[-1] == ' ' || q[-1] == '\t')) q--;
        if ((size_t)(q - p) == vlen && !strncasecmp(p, value, vlen)) return 1;
    }
    return 0;
}

long ws_response(const char *buf, size_t len) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return 0;
    end += 4;
    if (len < 13 || memcmp(buf, "HTTP/1.1 101 ", 13) != 0) return -1;
    if (!has_header(buf, end, "upgrade", "websocket")) return -1;
    if (!has_header(buf, end, "sec-websocket-protocol", "text.ircv3.net")) return -1;
    return end - buf;
}

size_t ws_frame(unsigned char *out, int opcode, const void *payload, size_t len) {
    size_t h = 0;
    out[h++] = 0x80 | (opcode & 0x0f);
    if (len < 126) {
        out[h++] = 0x80 | (unsigned char)len;
    } else if (len <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int shift = 56; shift >= 0; shift -= 8) out[h++] = (unsigned char)((uint64_t)len >> shift);
    }
    uint32_t key = rng32();
    unsigned char *mask = out + h;
    memcpy(mask, &key, 4);
    h += 4;
    const unsigned char *in = payload;
    unsigned char *to = out + h;
    for (size_t i = 0; i < len; i++) to[i] = in[i] ^ mask[i & 3];
    return h + len;
}

int ws_selftest(void) {
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    unsigned char *payload = malloc(70000), *frame = malloc(70000 + WS_MAX_HEADER);
    if (!payload || !frame) return 1;
    for (size_t i = 0; i < 70000; i++) payload[i] = (unsigned char)(i * 7 + 3);
    int bad = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        size_t total = ws_frame(frame, WS_TEXT, payload, n);
        size_t header = n < 126 ? 6 : n <= 0xffff ? 8 : 14;
        ws_parsed f;
        /* every prefix of the head is "not yet"; the whole head parses */
        for (size_t cut = 0; cut < header; cut++) bad |= ws_parse(frame, cut, &f) != 0;
        if (ws_parse(frame, total, &f) != 1 || !f.fin || f.opcode != WS_TEXT || !f.masked || f.len != n ||
            f.header != header || total != header + n) {
            fprintf(stderr, "ws selftest: frame of %zu bytes: bad head\n", n);
            bad = 1;
            continue;
        }
        for (size_t i = 0; i < n; i++) frame[header + i] ^= f.mask[i & 3];
        if (n && memcmp(frame + header, payload, n)) {
            fprintf(stderr, "ws selftest: frame of %zu bytes: bad payload\n", n);
            bad = 1;
        }
    }
    /* what a server must not send is refused: a reserved bit, a fragmented or long control frame */
    static const unsigned char refused[][2] = {{0xc1, 0}, {0x09, 0}, {0x89, 126}, {0x83, 0}};
    ws_parsed f;
    for (size_t k = 0; k < sizeof refused / sizeof *refused; k++) bad |= ws_parse(refused[k], 2, &f) != -1;
    const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Protocol: text.ircv3.net\r\n\r\n\x81\x02hi";
    bad |= ws_response(ok, sizeof ok - 1) != (long)sizeof ok - 1 - 4;
    bad |= ws_response(ok, 40) != 0;
    bad |= ws_response("HTTP/1.1 403 Forbidden\r\n\r\n", 26) != -1;
    char req[512];
    bad |= ws_request(req, sizeof req, 6667, "/socket") == 0 || !strstr(req, "Sec-WebSocket-Key: ");
    free(payload);
    free(frame);
    if (bad) fprintf(stderr, "ws selftest: failed\n");
    return bad;
}
