/* SPDX-License-Identifier: MIT */
/* pcapw: writes classic pcap files (µs, LINKTYPE_RAW) with real IPv4/IPv6 and UDP headers around
 * each datagram, so that Wireshark and tcpdump show the addresses; it never reads or parses. */
#include "capture.h"

#include "common/common.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_SNAPLEN 65535u
#define LINKTYPE_RAW 101u
#define IP4_HDR 20
#define IP6_HDR 40
#define UDP_HDR 8

struct pcap_writer {
    FILE *fp;
    char *path;
    uint16_t ip_id; /* IPv4 identification, incremented per datagram as a stack would */
};

/* An endpoint reduced to what goes into the headers. */
struct endpoint {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    uint16_t port;
};

static void wr16be(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ones' complement sum of 16-bit big-endian words; only the last chunk may be odd-sized. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (; n >= 2; p += 2, n -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (n == 1)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* IPv4-mapped IPv6 addresses (a dual-stack socket's view of IPv4 peers) become plain IPv4. */
static int endpoint_from(const struct sockaddr *sa, struct endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    if (sa == NULL) {
        ep->family = AF_UNSPEC; /* filled in from the other side */
        return 0;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        ep->family = AF_INET;
        memcpy(ep->addr, &in->sin_addr, 4);
        ep->port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        ep->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            ep->family = AF_INET;
            memcpy(ep->addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            ep->family = AF_INET6;
            memcpy(ep->addr, &in6->sin6_addr, 16);
        }
        return 0;
    }
    return -1;
}

/* Both ends of one packet must share a family: a missing end takes the other's (unspecified
 * address), an IPv4 end next to an IPv6 one becomes IPv4-mapped. */
static void endpoints_unify(struct endpoint *a, struct endpoint *b)
{
    struct endpoint *v4;

    if (a->family == AF_UNSPEC)
        a->family = b->family;
    if (b->family == AF_UNSPEC)
        b->family = a->family;
    if (a->family == AF_UNSPEC)
        a->family = b->family = AF_INET;
    if (a->family == b->family)
        return;
    v4 = a->family == AF_INET ? a : b;
    memmove(v4->addr + 12, v4->addr, 4);
    memset(v4->addr, 0, 10);
    v4->addr[10] = v4->addr[11] = 0xff;
    v4->family = AF_INET6;
}

static int write_all(struct pcap_writer *w, const void *p, size_t n, char **cause)
{
    if (n > 0 && fwrite(p, 1, n, w->fp) != n) {
        *cause = xasprintf("cannot write %s: %s", w->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The classic file header; its fields are naturally aligned, so the struct has no padding. */
struct pcap_file_header_v24 {
    uint32_t magic;
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
};
_Static_assert(sizeof(struct pcap_file_header_v24) == 24, "the pcap file header is 24 bytes");

struct pcap_writer *pcapw_open(const char *path, char **cause)
{
    struct pcap_writer *w;
    /* Host byte order: readers detect the order from the magic. */
    const struct pcap_file_header_v24 hdr = {
        .magic = PCAP_MAGIC_USEC,
        .version_major = 2,
        .version_minor = 4,
        .snaplen = PCAP_SNAPLEN,
        .linktype = LINKTYPE_RAW,
    };

    w = xcalloc(1, sizeof *w);
    w->path = xstrdup(path);
    w->fp = fopen(path, "wb");
    if (w->fp == NULL) {
        *cause = xasprintf("cannot create %s: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    if (write_all(w, &hdr, sizeof hdr, cause) < 0) {
        fclose(w->fp);
        free(w->path);
        free(w);
        return NULL;
    }
    return w;
}

/* Builds the IPv4 or IPv6 header and the UDP header (checksums included) into out; returns the
 * number of bytes written. */
static size_t build_headers(struct pcap_writer *w, const struct endpoint *src,
                            const struct endpoint *dst, const uint8_t *data, size_t len,
                            uint8_t out[IP6_HDR + UDP_HDR])
{
    size_t ulen = UDP_HDR + len, iphdr = src->family == AF_INET ? IP4_HDR : IP6_HDR;
    uint8_t *udp = out + iphdr, pseudo[40];
    uint32_t sum;
    uint16_t ck;

    memset(out, 0, iphdr + UDP_HDR);
    if (src->family == AF_INET) {
        out[0] = 0x45; /* version 4, 5 words */
        wr16be(out + 2, (uint16_t)(iphdr + ulen));
        wr16be(out + 4, w->ip_id++);
        out[8] = 64; /* TTL */
        out[9] = IPPROTO_UDP;
        memcpy(out + 12, src->addr, 4);
        memcpy(out + 16, dst->addr, 4);
        wr16be(out + 10, csum_fold(csum_add(0, out, IP4_HDR)));
        /* Pseudo header: src, dst, zero, protocol, UDP length. */
        memcpy(pseudo, out + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = IPPROTO_UDP;
        wr16be(pseudo + 10, (uint16_t)ulen);
        sum = csum_add(0, pseudo, 12);
    } else {
        out[0] = 0x60; /* version 6, traffic class and flow label 0 */
        wr16be(out + 4, (uint16_t)ulen);
        out[6] = IPPROTO_UDP;
        out[7] = 64; /* hop limit */
        memcpy(out + 8, src->addr, 16);
        memcpy(out + 24, dst->addr, 16);
        /* Pseudo header: src, dst, 32-bit length, 3 zero bytes, next header. */
        sum = csum_add(0, out + 8, 32);
        sum += (uint32_t)ulen >> 16;
        sum += (uint32_t)ulen & 0xffff;
        sum += IPPROTO_UDP;
    }
    wr16be(udp, src->port);
    wr16be(udp + 2, dst->port);
    wr16be(udp + 4, (uint16_t)ulen);
    sum = csum_add(sum, udp, UDP_HDR);
    sum = csum_add(sum, data, len);
    ck = csum_fold(sum);
    wr16be(udp + 6, ck == 0 ? 0xffff : ck); /* 0 would mean "no checksum" */
    return iphdr + UDP_HDR;
}

int pcapw_write(struct pcap_writer *w, int64_t ts_us, const struct sockaddr *src,
                const struct sockaddr *dst, const uint8_t *data, size_t len, char **cause)
{
    struct endpoint s, d;
    uint8_t headers[IP6_HDR + UDP_HDR];
    uint32_t rec[4];
    size_t nhdr, orig, incl;

    if (endpoint_from(src, &s) < 0 || endpoint_from(dst, &d) < 0) {
        *cause = xstrdup("pcap writer: address family is neither IPv4 nor IPv6");
        return -1;
    }
    endpoints_unify(&s, &d);
    if (len > (s.family == AF_INET ? 65535u - IP4_HDR - UDP_HDR : 65535u - UDP_HDR)) {
        *cause = xasprintf("pcap writer: a %zu-byte datagram does not fit in UDP", len);
        return -1;
    }
    nhdr = build_headers(w, &s, &d, data, len, headers);
    /* An IPv6 datagram near 64 KiB exceeds the snap length: it is cut as a capture would be. */
    orig = nhdr + len;
    incl = orig > PCAP_SNAPLEN ? PCAP_SNAPLEN : orig;
    if (ts_us < 0)
        ts_us = 0;
    rec[0] = (uint32_t)(ts_us / 1000000);
    rec[1] = (uint32_t)(ts_us % 1000000);
    rec[2] = (uint32_t)incl;
    rec[3] = (uint32_t)orig;
    if (write_all(w, rec, sizeof rec, cause) < 0 || write_all(w, headers, nhdr, cause) < 0 ||
        write_all(w, data, incl - nhdr, cause) < 0)
        return -1;
    return 0;
}

int pcapw_flush(struct pcap_writer *w, char **cause)
{
    if (fflush(w->fp) != 0) {
        *cause = xasprintf("cannot write %s: %s", w->path, strerror(errno));
        return -1;
    }
    return 0;
}

int pcapw_close(struct pcap_writer *w, char **cause)
{
    int rc = 0;

    if (w == NULL)
        return 0;
    /* fclose reports a full disk that the buffered writes could not. */
    if (fflush(w->fp) != 0 || ferror(w->fp)) {
        *cause = xasprintf("cannot write %s: %s", w->path, strerror(errno));
        rc = -1;
    }
    if (fclose(w->fp) != 0 && rc == 0) {
        *cause = xasprintf("cannot write %s: %s", w->path, strerror(errno));
        rc = -1;
    }
    free(w->path);
    free(w);
    return rc;
}
