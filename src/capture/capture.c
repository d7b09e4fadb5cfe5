/* SPDX-License-Identifier: MIT */
/* capture: the reader of pcap/pcapng (through libpcap) and raw fixed-size datagram files; it
 * turns link-layer frames into UDP datagrams and must never interpret the payloads. */
#include "capture.h"

#include "common/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_UDP_NUM 17

/* Outcome of decoding one frame; everything but PKT_UDP is skipped and counted. */
enum pkt_result { PKT_UDP, PKT_NOT_UDP, PKT_TRUNCATED, PKT_FRAGMENT };

struct capture {
    char *path;
    char describe[64];
    uint64_t file_size; /* 0 when unknown (a device) */
    int size_known;
    struct capture_skips skips;

    /* pcap/pcapng: libpcap owns the FILE and the packet buffer. */
    pcap_t *pcap;
    int dlt;

    /* raw: datagram i is bytes [i * raw_size, (i + 1) * raw_size). */
    FILE *raw_fp;
    uint8_t *raw_buf;
    size_t raw_size;
    int64_t raw_index;
    int64_t raw_total; /* -1 when the size is unknown */
    double raw_rate_hz;
    int64_t raw_start_us;
};

static uint16_t rd16be(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void set_sockaddr(struct sockaddr_storage *ss, int family, const uint8_t *addr,
                         uint16_t port)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        memcpy(&in->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        memcpy(&in6->sin6_addr, addr, 16);
    }
}

/* UDP header at p with `avail` bytes of IP payload behind it.  The UDP length field decides
 * the payload length (Ethernet pads short frames); a datagram cut by the snap length is
 * truncated, not shortened, so that nobody replays half a packet. */
static enum pkt_result parse_udp(const uint8_t *p, size_t avail, int family, const uint8_t *src,
                                 const uint8_t *dst, struct capture_pkt *pkt)
{
    uint16_t ulen;

    if (avail < 8)
        return PKT_TRUNCATED;
    ulen = rd16be(p + 4);
    if (ulen < 8) /* malformed, or an IPv6 jumbogram (length 0) */
        return PKT_NOT_UDP;
    if (ulen > avail)
        return PKT_TRUNCATED;
    set_sockaddr(&pkt->src, family, src, rd16be(p));
    set_sockaddr(&pkt->dst, family, dst, rd16be(p + 2));
    pkt->data = p + 8;
    pkt->len = (size_t)ulen - 8;
    return PKT_UDP;
}

static enum pkt_result parse_ipv4(const uint8_t *p, size_t n, struct capture_pkt *pkt)
{
    size_t ihl, total;
    uint16_t frag;

    if (n < 20)
        return PKT_TRUNCATED;
    if (p[0] >> 4 != 4)
        return PKT_NOT_UDP;
    ihl = (size_t)(p[0] & 0x0f) * 4;
    total = rd16be(p + 2);
    if (ihl < 20 || total < ihl)
        return PKT_NOT_UDP;
    if (n < ihl)
        return PKT_TRUNCATED;
    /* MF set or a nonzero offset: a piece of a datagram we could only reassemble by guessing. */
    frag = rd16be(p + 6);
    if (frag & 0x3fff)
        return PKT_FRAGMENT;
    if (p[9] != IPPROTO_UDP_NUM)
        return PKT_NOT_UDP;
    /* Trailing link-layer padding is not IP payload; a short capture is caught by parse_udp. */
    if (total > n)
        total = n;
    return parse_udp(p + ihl, total - ihl, AF_INET, p + 12, p + 16, pkt);
}

static enum pkt_result parse_ipv6(const uint8_t *p, size_t n, struct capture_pkt *pkt)
{
    size_t plen;

    if (n < 40)
        return PKT_TRUNCATED;
    if (p[0] >> 4 != 6)
        return PKT_NOT_UDP;
    /* Extension headers (fragments, hop-by-hop) are skipped: BeamNG never sends them. */
    if (p[6] != IPPROTO_UDP_NUM)
        return PKT_NOT_UDP;
    plen = rd16be(p + 4);
    if (plen > n - 40)
        plen = n - 40;
    return parse_udp(p + 40, plen, AF_INET6, p + 8, p + 24, pkt);
}

static enum pkt_result parse_ip(const uint8_t *p, size_t n, struct capture_pkt *pkt)
{
    if (n < 1)
        return PKT_TRUNCATED;
    switch (p[0] >> 4) {
    case 4:
        return parse_ipv4(p, n, pkt);
    case 6:
        return parse_ipv6(p, n, pkt);
    default:
        return PKT_NOT_UDP;
    }
}

/* An EtherType at p[type_off] with the payload at `off`; 802.1Q, 802.1ad and the old QinQ tags
 * (4 bytes each: TCI, inner EtherType) are peeled off, however many there are. */
static enum pkt_result parse_ethertype(const uint8_t *p, size_t n, size_t type_off, size_t off,
                                       struct capture_pkt *pkt)
{
    uint16_t type;

    if (n < off)
        return PKT_TRUNCATED;
    type = rd16be(p + type_off);
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (n < off + 4)
            return PKT_TRUNCATED;
        type = rd16be(p + off + 2);
        off += 4;
    }
    if (type == ETHERTYPE_IPV4)
        return parse_ipv4(p + off, n - off, pkt);
    if (type == ETHERTYPE_IPV6)
        return parse_ipv6(p + off, n - off, pkt);
    return PKT_NOT_UDP;
}

/* The 4-byte address family of DLT_NULL is in the writer's byte order (DLT_LOOP's in network
 * order, but writers get that wrong too), so both orders are accepted. */
static enum pkt_result parse_loopback(const uint8_t *p, size_t n, struct capture_pkt *pkt)
{
    uint32_t le, be;

    if (n < 4)
        return PKT_TRUNCATED;
    le = rd32le(p);
    be = rd32be(p);
    if (le == 2 || be == 2)
        return parse_ipv4(p + 4, n - 4, pkt);
    /* AF_INET6 is 24 on NetBSD/OpenBSD (and Npcap), 28 on FreeBSD, 30 on macOS. */
    if (le == 24 || le == 28 || le == 30 || be == 24 || be == 28 || be == 30)
        return parse_ipv6(p + 4, n - 4, pkt);
    return PKT_NOT_UDP;
}

static enum pkt_result parse_frame(int dlt, const uint8_t *p, size_t n, struct capture_pkt *pkt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return parse_ethertype(p, n, 12, 14, pkt);
    case DLT_NULL:
    case DLT_LOOP:
        return parse_loopback(p, n, pkt);
    case DLT_LINUX_SLL:
        return parse_ethertype(p, n, 14, 16, pkt);
    case DLT_LINUX_SLL2:
        return parse_ethertype(p, n, 0, 20, pkt);
    default: /* DLT_RAW, DLT_IPV4, DLT_IPV6: the version nibble decides */
        return parse_ip(p, n, pkt);
    }
}

static const char *link_name(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return "Ethernet";
    case DLT_NULL:
        return "NULL loopback";
    case DLT_LOOP:
        return "LOOP loopback";
    case DLT_LINUX_SLL:
        return "Linux cooked (SLL)";
    case DLT_LINUX_SLL2:
        return "Linux cooked v2 (SLL2)";
    case DLT_RAW:
        return "raw IP";
    case DLT_IPV4:
        return "raw IPv4";
    case DLT_IPV6:
        return "raw IPv6";
    default:
        return NULL;
    }
}

static void count_skip(struct capture *c, enum pkt_result r)
{
    if (r == PKT_TRUNCATED)
        c->skips.truncated++;
    else if (r == PKT_FRAGMENT)
        c->skips.fragments++;
    else
        c->skips.not_udp++;
}

/* Classifies the first bytes of a file: 1 pcap, 2 pcapng, 0 neither. */
static int sniff_magic(const uint8_t m[4])
{
    static const uint32_t pcap_magics[] = {
        0xa1b2c3d4, /* µs */
        0xa1b23c4d, /* ns */
        0xa1b2cd34, /* Kuznetzov's modified pcap */
    };
    uint32_t le = rd32le(m), be = rd32be(m);

    if (be == 0x0a0d0d0a)
        return 2;
    for (size_t i = 0; i < BT_ARRAY_LEN(pcap_magics); i++)
        if (le == pcap_magics[i] || be == pcap_magics[i])
            return 1;
    return 0;
}

static int open_pcap(struct capture *c, FILE *fp, int kind, char **cause)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    const char *name;

    c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (c->pcap == NULL) {
        fclose(fp);
        *cause = xasprintf("%s: %s", c->path, errbuf);
        return -1;
    }
    c->dlt = pcap_datalink(c->pcap);
    name = link_name(c->dlt);
    if (name == NULL) {
        const char *dlt_name = pcap_datalink_val_to_name(c->dlt);
        *cause = xasprintf("%s: link type %s (%d) is not supported (Ethernet, NULL/LOOP, "
                           "Linux cooked SLL/SLL2 and raw IP are)",
                           c->path, dlt_name ? dlt_name : "unknown", c->dlt);
        return -1;
    }
    snprintf(c->describe, sizeof c->describe, "%s/%s", kind == 2 ? "pcapng" : "pcap", name);
    return 0;
}

static int open_raw(struct capture *c, FILE *fp, const struct capture_opts *opts,
                    const uint8_t magic[4], size_t nmagic, char **cause)
{
    c->raw_fp = fp;
    c->raw_size = (size_t)opts->raw_size;
    c->raw_buf = xmalloc(c->raw_size);
    c->raw_rate_hz = opts->raw_rate_hz > 0 ? opts->raw_rate_hz : 60.0;
    c->raw_start_us = opts->raw_start_us;
    c->raw_total = -1;
    if (c->size_known) {
        if (c->file_size % c->raw_size != 0) {
            *cause = xasprintf("%s: file size %llu is not a multiple of raw-size %zu%s", c->path,
                               (unsigned long long)c->file_size, c->raw_size,
                               nmagic == 4 && sniff_magic(magic)
                                   ? " (it looks like a pcap/pcapng capture: leave out "
                                     "--raw-size)"
                                   : "");
            return -1;
        }
        c->raw_total = (int64_t)(c->file_size / c->raw_size);
    }
    snprintf(c->describe, sizeof c->describe, "raw %zu-byte datagrams", c->raw_size);
    return 0;
}

struct capture *capture_open(const char *path, const struct capture_opts *opts, char **cause)
{
    struct capture *c;
    struct stat st;
    uint8_t magic[4];
    size_t nmagic;
    FILE *fp;
    int kind;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        *cause = xasprintf("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    if (fstat(fileno(fp), &st) < 0) {
        *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
        fclose(fp);
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        *cause = xasprintf("%s: is a directory", path);
        fclose(fp);
        goto fail;
    }
    c->size_known = S_ISREG(st.st_mode);
    if (c->size_known)
        c->file_size = (uint64_t)st.st_size;
    nmagic = fread(magic, 1, sizeof magic, fp);
    if (ferror(fp)) {
        *cause = xasprintf("cannot read %s: %s", path, strerror(errno));
        fclose(fp);
        goto fail;
    }
    /* A pipe cannot be rewound; capture files are regular files in practice. */
    if (fseek(fp, 0, SEEK_SET) < 0) {
        *cause = xasprintf("%s: not a seekable file", path);
        fclose(fp);
        goto fail;
    }
    if (opts != NULL && opts->raw_size > 0) {
        if (open_raw(c, fp, opts, magic, nmagic, cause) < 0)
            goto fail;
        return c;
    }
    kind = nmagic == sizeof magic ? sniff_magic(magic) : 0;
    if (kind == 0) {
        fclose(fp);
        *cause = xasprintf("%s: %s (for raw concatenated datagrams give --raw-size BYTES)", path,
                           nmagic == 0 ? "empty file" : "not a pcap or pcapng capture");
        goto fail;
    }
    if (open_pcap(c, fp, kind, cause) < 0)
        goto fail;
    return c;
fail:
    capture_close(c);
    return NULL;
}

static int next_raw(struct capture *c, struct capture_pkt *pkt, char **cause)
{
    size_t got = fread(c->raw_buf, 1, c->raw_size, c->raw_fp);
    static const uint8_t loopback[4] = {127, 0, 0, 1};

    if (got == 0 && !ferror(c->raw_fp))
        return 0;
    if (got < c->raw_size) {
        if (ferror(c->raw_fp))
            *cause = xasprintf("cannot read %s: %s", c->path, strerror(errno));
        else
            *cause = xasprintf("%s: file size %llu is not a multiple of raw-size %zu", c->path,
                               (unsigned long long)((uint64_t)c->raw_index * c->raw_size + got),
                               c->raw_size);
        return -1;
    }
    /* An absolute product, not a running sum, so that rounding does not drift. */
    pkt->ts_us = c->raw_start_us + llround((double)c->raw_index * 1e6 / c->raw_rate_hz);
    set_sockaddr(&pkt->src, AF_INET, loopback, 4445);
    set_sockaddr(&pkt->dst, AF_INET, loopback, 4444);
    pkt->data = c->raw_buf;
    pkt->len = c->raw_size;
    c->raw_index++;
    return 1;
}

int capture_next(struct capture *c, struct capture_pkt *pkt, char **cause)
{
    struct pcap_pkthdr *hdr;
    const u_char *bytes;
    enum pkt_result r;
    int rc;

    if (c->raw_fp != NULL)
        return next_raw(c, pkt, cause);
    for (;;) {
        rc = pcap_next_ex(c->pcap, &hdr, &bytes);
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc < 0) {
            *cause = xasprintf("%s: %s", c->path, pcap_geterr(c->pcap));
            return -1;
        }
        r = parse_frame(c->dlt, bytes, hdr->caplen, pkt);
        if (r == PKT_UDP) {
            pkt->ts_us = (int64_t)hdr->ts.tv_sec * 1000000 + hdr->ts.tv_usec;
            return 1;
        }
        count_skip(c, r);
    }
}

uint64_t capture_skipped(const struct capture *c)
{
    return c->skips.not_udp + c->skips.truncated + c->skips.fragments;
}

void capture_get_skips(const struct capture *c, struct capture_skips *out)
{
    *out = c->skips;
}

const char *capture_describe(const struct capture *c)
{
    return c->describe;
}

int64_t capture_total(const struct capture *c)
{
    return c->raw_fp != NULL ? c->raw_total : -1;
}

void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total)
{
    long pos = -1;

    if (c->raw_fp != NULL)
        pos = (long)((uint64_t)c->raw_index * c->raw_size);
    else if (c->pcap != NULL)
        pos = ftell(pcap_file(c->pcap));
    *done = pos > 0 ? (uint64_t)pos : 0;
    *total = c->file_size;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    if (c->pcap != NULL)
        pcap_close(c->pcap); /* closes the FILE too */
    if (c->raw_fp != NULL)
        fclose(c->raw_fp);
    free(c->raw_buf);
    free(c->path);
    free(c);
}
