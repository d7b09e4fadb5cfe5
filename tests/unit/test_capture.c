/* SPDX-License-Identifier: MIT */
/* test_capture: the capture reader on the shared real captures and on hand-made pcap files for
 * every link type, and the pcap writer by round trip; it must not depend on the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capture/capture.h"
#include "common/common.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_RAW 101
#define LT_SLL 113
#define LT_SLL2 276

/* ---- helpers: files, hand-made pcap files and packets ---- */

static char *tmp_file(void)
{
    const char *dir = getenv("TMPDIR");
    char *path = xasprintf("%s/test_capture.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    return path;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void put32le(struct buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    buf_add(b, p, 4);
}

/* A little-endian classic pcap header; magic 0xa1b2c3d4 (µs) or 0xa1b23c4d (ns). */
static void pcap_begin(struct buf *b, uint32_t magic, uint32_t linktype)
{
    put32le(b, magic);
    put32le(b, 2 | 4u << 16); /* version 2.4 as two little-endian u16 */
    put32le(b, 0);
    put32le(b, 0);
    put32le(b, 65535);
    put32le(b, linktype);
}

/* One record; caplen < n models a snap length that cut the frame. */
static void pcap_add(struct buf *b, uint32_t sec, uint32_t frac, const uint8_t *frame, size_t n,
                     size_t caplen)
{
    put32le(b, sec);
    put32le(b, frac);
    put32le(b, (uint32_t)caplen);
    put32le(b, (uint32_t)n);
    buf_add(b, frame, caplen);
}

/* IPv4 + UDP around payload; frag is the flags/offset word (0x2000 = MF). */
static size_t ipv4_udp(uint8_t *out, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                       uint16_t dport, const char *payload, uint16_t frag)
{
    size_t len = strlen(payload), total = 20 + 8 + len;

    memset(out, 0, 28);
    out[0] = 0x45; /* version 4, IHL 5 */
    out[2] = (uint8_t)(total >> 8);
    out[3] = (uint8_t)total;
    out[5] = 1; /* identification */
    out[6] = (uint8_t)(frag >> 8);
    out[7] = (uint8_t)frag;
    out[8] = 64;
    out[9] = 17;
    memcpy(out + 12, src, 4);
    memcpy(out + 16, dst, 4);
    out[20] = (uint8_t)(sport >> 8);
    out[21] = (uint8_t)sport;
    out[22] = (uint8_t)(dport >> 8);
    out[23] = (uint8_t)dport;
    out[24] = (uint8_t)((8 + len) >> 8);
    out[25] = (uint8_t)(8 + len);
    memcpy(out + 28, payload, len);
    return total;
}

static size_t ipv6_udp(uint8_t *out, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
                       uint16_t dport, const char *payload)
{
    size_t len = strlen(payload), ulen = 8 + len;

    memset(out, 0, 48);
    out[0] = 0x60;
    out[4] = (uint8_t)(ulen >> 8);
    out[5] = (uint8_t)ulen;
    out[6] = 17;
    out[7] = 64;
    memcpy(out + 8, src, 16);
    memcpy(out + 24, dst, 16);
    out[40] = (uint8_t)(sport >> 8);
    out[41] = (uint8_t)sport;
    out[42] = (uint8_t)(dport >> 8);
    out[43] = (uint8_t)dport;
    out[44] = (uint8_t)(ulen >> 8);
    out[45] = (uint8_t)ulen;
    memcpy(out + 48, payload, len);
    return 48 + len;
}

static const uint8_t ip_a[4] = {10, 0, 0, 7}, ip_b[4] = {10, 0, 0, 1};
static const uint8_t ip6_a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x07};
static const uint8_t ip6_b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};

/* An Ethernet header: two MACs and the EtherType. */
static size_t eth_header(uint8_t *out, uint16_t ethertype)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    memcpy(out, macs, sizeof macs);
    out[12] = (uint8_t)(ethertype >> 8);
    out[13] = (uint8_t)ethertype;
    return 14;
}

static void assert_endpoint(const struct sockaddr_storage *ss, const char *expect)
{
    char s[64];
    addr_format((const struct sockaddr *)ss, s, sizeof s);
    assert_string_equal(s, expect);
}

static struct capture *open_buf(struct buf *b, char **path)
{
    struct capture_opts opts = {0};
    char *cause = NULL;
    struct capture *c;

    *path = tmp_file();
    write_bytes(*path, b->data, b->len);
    c = capture_open(*path, &opts, &cause);
    if (c == NULL)
        fail_msg("capture_open: %s", cause);
    return c;
}

static void close_buf(struct capture *c, char *path, struct buf *b)
{
    capture_close(c);
    unlink(path);
    free(path);
    buf_free(b);
}

static void assert_next(struct capture *c, struct capture_pkt *pkt, const char *payload)
{
    char *cause = NULL;
    int rc = capture_next(c, pkt, &cause);

    if (rc < 0)
        fail_msg("capture_next: %s", cause);
    assert_int_equal(rc, 1);
    assert_int_equal(pkt->len, strlen(payload));
    assert_memory_equal(pkt->data, payload, pkt->len);
}

static void assert_end(struct capture *c)
{
    struct capture_pkt pkt;
    char *cause = NULL;
    assert_int_equal(capture_next(c, &pkt, &cause), 0);
    assert_null(cause);
}

/* ---- the shared real captures ---- */

/* The folder of real captures, or NULL (and the test is skipped) when this clone has none. */
static const char *shared_data(void)
{
    const char *dir = getenv("BEAMTEL_SHARED_DATA");
    struct stat st;

    if (dir == NULL || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        print_message("skipped: shared captures not found (BEAMTEL_SHARED_DATA=%s)\n",
                      dir ? dir : "unset");
        return NULL;
    }
    return dir;
}

struct expect_file {
    const char *name;
    int raw_size;
    const char *describe;
    int64_t count, first_us, last_us;
    size_t len;
};

static void check_file(const struct expect_file *e)
{
    const char *dir = shared_data();
    struct capture_opts opts = {.raw_size = e->raw_size, .raw_rate_hz = 60};
    struct capture_pkt pkt;
    struct capture *c;
    char *path, *cause = NULL;
    int64_t n = 0, first = 0, last = 0;
    int rc;

    if (dir == NULL)
        skip();
    path = xasprintf("%s/%s", dir, e->name);
    c = capture_open(path, &opts, &cause);
    if (c == NULL)
        fail_msg("%s", cause);
    assert_string_equal(capture_describe(c), e->describe);
    assert_int_equal(capture_total(c), e->raw_size > 0 ? e->count : -1);
    while ((rc = capture_next(c, &pkt, &cause)) == 1) {
        assert_int_equal(pkt.len, e->len);
        if (n++ == 0)
            first = pkt.ts_us;
        last = pkt.ts_us;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, e->count);
    assert_int_equal(first, e->first_us);
    assert_int_equal(last, e->last_us);
    assert_int_equal(capture_skipped(c), 0);
    capture_close(c);
    free(path);
}

static void test_data_test1_pcap(void **state)
{
    /* 60.869659 s from the first to the last datagram. */
    static const struct expect_file e = {
        "dashbeam_test1.pcap", 0, "pcap/Ethernet", 3652, 1739275200000000, 1739275260869659, 96};
    struct capture_opts opts = {0};
    struct capture_pkt pkt;
    struct capture *c;
    char *path, *cause = NULL;

    (void)state;
    check_file(&e); /* skips when the folder is absent */
    path = xasprintf("%s/%s", getenv("BEAMTEL_SHARED_DATA"), e.name);
    c = capture_open(path, &opts, &cause);
    assert_non_null(c);
    assert_int_equal(capture_next(c, &pkt, &cause), 1);
    assert_endpoint(&pkt.src, "192.168.1.50:50123");
    assert_endpoint(&pkt.dst, "192.168.1.10:4444");
    assert_memory_equal(pkt.data + 4, "beam", 4);
    capture_close(c);
    free(path);
}

static void test_data_hillclimb_null(void **state)
{
    static const struct expect_file e = {
        "dashbeam_hillclimb.pcap", 0, "pcap/NULL loopback", 2955, 1739361600000000,
        1739361650586262,          96};
    (void)state;
    check_file(&e);
}

static void test_data_bolide_pcapng_sll(void **state)
{
    static const struct expect_file e = {
        "dashbeam_bolide.pcapng", 0, "pcapng/Linux cooked (SLL)", 4894, 1741521600000000,
        1741521685974371,         96};
    (void)state;
    check_file(&e);
}

static void test_data_raw_matches_pcap(void **state)
{
    /* 60 Hz from 0: datagram 3651 is at round(3651 / 60 s) = 60.85 s. */
    static const struct expect_file e = {
        "dashbeam_test1_96B.bin", 96, "raw 96-byte datagrams", 3652, 0, 60850000, 96};
    const char *dir = shared_data();
    struct capture_opts popts = {0},
                        ropts = {.raw_size = 96, .raw_rate_hz = 60, .raw_start_us = 1000000};
    struct capture_pkt p, r;
    struct capture *pc, *rc;
    char *ppath, *rpath, *cause = NULL;
    int64_t i = 0;

    (void)state;
    check_file(&e);
    ppath = xasprintf("%s/dashbeam_test1.pcap", dir);
    rpath = xasprintf("%s/dashbeam_test1_96B.bin", dir);
    pc = capture_open(ppath, &popts, &cause);
    rc = capture_open(rpath, &ropts, &cause);
    assert_non_null(pc);
    assert_non_null(rc);
    while (capture_next(pc, &p, &cause) == 1) {
        assert_int_equal(capture_next(rc, &r, &cause), 1);
        assert_int_equal(r.len, p.len);
        assert_memory_equal(r.data, p.data, p.len);
        assert_int_equal(r.ts_us, 1000000 + llround((double)i * 1e6 / 60));
        assert_endpoint(&r.src, "127.0.0.1:4445");
        assert_endpoint(&r.dst, "127.0.0.1:4444");
        i++;
    }
    assert_int_equal(i, 3652);
    assert_end(rc);
    capture_close(pc);
    capture_close(rc);
    free(ppath);
    free(rpath);
}

static void test_data_raw_single(void **state)
{
    static const struct expect_file e = {
        "lfs_outsim_64B.bin", 64, "raw 64-byte datagrams", 1, 0, 0, 64};
    (void)state;
    check_file(&e);
}

static void test_data_errors(void **state)
{
    const char *dir = shared_data();
    struct capture_opts none = {0}, raw96 = {.raw_size = 96, .raw_rate_hz = 60};
    char *path, *cause = NULL;

    (void)state;
    if (dir == NULL)
        skip();
    /* Not a capture and no --raw-size: the cause names the file and suggests the option. */
    path = xasprintf("%s/lfs_outsim_64B.bin", dir);
    assert_null(capture_open(path, &none, &cause));
    assert_non_null(strstr(cause, path));
    assert_non_null(strstr(cause, "--raw-size"));
    free(cause);
    cause = NULL;
    /* A trailing partial datagram. */
    assert_null(capture_open(path, &raw96, &cause));
    assert_non_null(strstr(cause, "file size 64 is not a multiple of raw-size 96"));
    free(cause);
    free(path);
}

/* ---- hand-made captures ---- */

static void test_sll2(void **state)
{
    static const uint8_t sll2[20] = {
        0x08, 0x00,             /* protocol: IPv4 */
        0x00, 0x00,             /* reserved */
        0x00, 0x00, 0x00, 0x02, /* interface index */
        0x00, 0x01,             /* ARPHRD_ETHER */
        0x00,                   /* packet type: to us */
        0x06,                   /* link-layer address length */
        0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0x00, 0x00,
    };
    struct buf b = {0};
    uint8_t frame[256];
    struct capture_pkt pkt;
    struct capture *c;
    char *path;
    size_t n;

    (void)state;
    pcap_begin(&b, 0xa1b2c3d4, LT_SLL2);
    memcpy(frame, sll2, sizeof sll2);
    n = sizeof sll2 + ipv4_udp(frame + sizeof sll2, ip_a, 50000, ip_b, 4444, "sll2!", 0);
    pcap_add(&b, 1700000000, 250000, frame, n, n);
    c = open_buf(&b, &path);
    assert_string_equal(capture_describe(c), "pcap/Linux cooked v2 (SLL2)");
    assert_next(c, &pkt, "sll2!");
    assert_int_equal(pkt.ts_us, 1700000000250000);
    assert_endpoint(&pkt.src, "10.0.0.7:50000");
    assert_endpoint(&pkt.dst, "10.0.0.1:4444");
    assert_end(c);
    close_buf(c, path, &b);
}

static void test_raw_ipv4(void **state)
{
    static const uint8_t udp[] = {
        0x45, 0x00, 0x00, 0x21, /* IPv4, IHL 5, total length 33 */
        0x12, 0x34, 0x00, 0x00, /* identification, not a fragment */
        0x40, 0x11, 0x00, 0x00, /* TTL 64, UDP, header checksum (not checked) */
        10,   0,    0,    7,    /* source */
        10,   0,    0,    1,    /* destination */
        0xc3, 0x50, 0x11, 0x5c, /* ports 50000 -> 4444 */
        0x00, 0x0d, 0x00, 0x00, /* UDP length 13, no checksum */
        'B',  'N',  'G',  '1',  '!',
    };
    static const uint8_t tcp[40] = {
        0x45, 0x00, 0x00, 0x28, /* IPv4, total length 40 */
        0x00, 0x00, 0x40, 0x00, /* DF */
        0x40, 0x06, 0x00, 0x00, /* TCP: skipped */
        10,   0,    0,    7,    /* source */
        10,   0,    0,    1,    /* destination; the TCP header is all zero */
    };
    static const uint8_t opts[] = {
        0x46, 0x00, 0x00, 0x22, /* IPv4, IHL 6: one word of options, total length 34 */
        0x12, 0x35, 0x00, 0x00, /* identification, not a fragment */
        0x40, 0x11, 0x00, 0x00, /* TTL 64, UDP */
        10,   0,    0,    8,    /* source */
        10,   0,    0,    1,    /* destination */
        0x01, 0x01, 0x01, 0x01, /* options: four NOPs */
        0xc3, 0x51, 0x11, 0x5c, /* ports 50001 -> 4444 */
        0x00, 0x0a, 0x00, 0x00, /* UDP length 10 */
        'o',  'p',
    };
    struct buf b = {0};
    struct capture_pkt pkt;
    struct capture_skips sk;
    struct capture *c;
    char *path;

    (void)state;
    pcap_begin(&b, 0xa1b2c3d4, LT_RAW);
    pcap_add(&b, 10, 1, tcp, sizeof tcp, sizeof tcp);
    pcap_add(&b, 10, 2, udp, sizeof udp, sizeof udp);
    pcap_add(&b, 10, 3, opts, sizeof opts, sizeof opts);
    c = open_buf(&b, &path);
    assert_string_equal(capture_describe(c), "pcap/raw IP");
    assert_next(c, &pkt, "BNG1!");
    assert_int_equal(pkt.ts_us, 10000002);
    assert_endpoint(&pkt.src, "10.0.0.7:50000");
    assert_endpoint(&pkt.dst, "10.0.0.1:4444");
    assert_next(c, &pkt, "op");
    assert_endpoint(&pkt.src, "10.0.0.8:50001");
    assert_end(c);
    capture_get_skips(c, &sk);
    assert_int_equal(sk.not_udp, 1);
    assert_int_equal(capture_skipped(c), 1);
    close_buf(c, path, &b);
}

static void test_ipv6_ethernet(void **state)
{
    struct buf b = {0};
    uint8_t frame[256];
    struct capture_pkt pkt;
    struct capture *c;
    char *path;
    size_t n;

    (void)state;
    pcap_begin(&b, 0xa1b2c3d4, LT_ETHERNET);
    n = eth_header(frame, 0x86dd);
    n += ipv6_udp(frame + n, ip6_a, 50123, ip6_b, 4444, "over IPv6");
    pcap_add(&b, 20, 999999, frame, n, n);
    c = open_buf(&b, &path);
    assert_string_equal(capture_describe(c), "pcap/Ethernet");
    assert_next(c, &pkt, "over IPv6");
    assert_int_equal(pkt.ts_us, 20999999);
    assert_int_equal(pkt.src.ss_family, AF_INET6);
    assert_endpoint(&pkt.src, "[2001:db8::7]:50123");
    assert_endpoint(&pkt.dst, "[2001:db8::1]:4444");
    assert_end(c);
    close_buf(c, path, &b);
}

static void test_vlan_and_padding(void **state)
{
    struct buf b = {0};
    uint8_t frame[256];
    struct capture_pkt pkt;
    struct capture *c;
    char *path;
    size_t n;

    (void)state;
    pcap_begin(&b, 0xa1b2c3d4, LT_ETHERNET);
    /* 802.1Q, VLAN 100. */
    n = eth_header(frame, 0x8100);
    memcpy(frame + n, "\x00\x64\x08\x00", 4);
    n += 4;
    n += ipv4_udp(frame + n, ip_a, 1, ip_b, 4444, "tagged", 0);
    pcap_add(&b, 1, 0, frame, n, n);
    /* QinQ: 802.1ad outer tag, 802.1Q inner tag. */
    n = eth_header(frame, 0x88a8);
    memcpy(frame + n, "\x00\x0a\x81\x00\x00\x64\x08\x00", 8);
    n += 8;
    n += ipv4_udp(frame + n, ip_a, 2, ip_b, 4444, "double", 0);
    pcap_add(&b, 2, 0, frame, n, n);
    /* A short frame padded to Ethernet's 60 bytes: the padding is not payload. */
    memset(frame, 0xee, sizeof frame);
    n = eth_header(frame, 0x0800);
    n += ipv4_udp(frame + n, ip_a, 3, ip_b, 4444, "pad", 0);
    assert_true(n < 60);
    pcap_add(&b, 3, 0, frame, 60, 60);
    /* IP payload longer than the UDP datagram: the UDP length field decides. */
    n = eth_header(frame, 0x0800);
    n += ipv4_udp(frame + n, ip_a, 4, ip_b, 4444, "udp length", 0);
    memcpy(frame + n, "junk", 4);
    frame[14 + 3] += 4; /* IPv4 total length */
    pcap_add(&b, 4, 0, frame, n + 4, n + 4);
    c = open_buf(&b, &path);
    assert_next(c, &pkt, "tagged");
    assert_endpoint(&pkt.src, "10.0.0.7:1");
    assert_next(c, &pkt, "double");
    assert_endpoint(&pkt.src, "10.0.0.7:2");
    assert_next(c, &pkt, "pad");
    assert_int_equal(pkt.ts_us, 3000000);
    assert_next(c, &pkt, "udp length");
    assert_end(c);
    assert_int_equal(capture_skipped(c), 0);
    close_buf(c, path, &b);
}

static void test_fragments_and_truncation(void **state)
{
    struct buf b = {0};
    uint8_t frame[256];
    struct capture_pkt pkt;
    struct capture_skips sk;
    struct capture *c;
    char *path;
    size_t n;

    (void)state;
    pcap_begin(&b, 0xa1b2c3d4, LT_RAW);
    n = ipv4_udp(frame, ip_a, 9, ip_b, 4444, "first piece", 0x2000); /* MF, offset 0 */
    pcap_add(&b, 1, 0, frame, n, n);
    n = ipv4_udp(frame, ip_a, 9, ip_b, 4444, "later piece", 0x0003); /* offset 24 bytes */
    pcap_add(&b, 1, 1, frame, n, n);
    n = ipv4_udp(frame, ip_a, 9, ip_b, 4444, "cut by the snap length", 0);
    pcap_add(&b, 1, 2, frame, n, n - 5);
    n = ipv4_udp(frame, ip_a, 9, ip_b, 4444, "whole", 0x4000); /* DF is not a fragment */
    pcap_add(&b, 1, 3, frame, n, n);
    c = open_buf(&b, &path);
    assert_next(c, &pkt, "whole");
    assert_int_equal(pkt.ts_us, 1000003);
    assert_end(c);
    capture_get_skips(c, &sk);
    assert_int_equal(sk.fragments, 2);
    assert_int_equal(sk.truncated, 1);
    assert_int_equal(sk.not_udp, 0);
    assert_int_equal(capture_skipped(c), 3);
    close_buf(c, path, &b);
}

static void test_null_both_byte_orders(void **state)
{
    struct buf b = {0};
    uint8_t frame[256];
    struct capture_pkt pkt;
    struct capture *c;
    char *path;
    size_t n;

    (void)state;
    pcap_begin(&b, 0xa1b2c3d4, LT_NULL);
    memcpy(frame, "\x00\x00\x00\x02", 4); /* AF_INET written by a big-endian host */
    n = 4 + ipv4_udp(frame + 4, ip_a, 7, ip_b, 4444, "be", 0);
    pcap_add(&b, 1, 0, frame, n, n);
    memcpy(frame, "\x1e\x00\x00\x00", 4); /* AF_INET6 of macOS (30), little-endian */
    n = 4 + ipv6_udp(frame + 4, ip6_a, 8, ip6_b, 4444, "mac");
    pcap_add(&b, 2, 0, frame, n, n);
    memcpy(frame, "\x00\x00\x00\x07", 4); /* some other family: skipped */
    pcap_add(&b, 3, 0, frame, n, n);
    c = open_buf(&b, &path);
    assert_string_equal(capture_describe(c), "pcap/NULL loopback");
    assert_next(c, &pkt, "be");
    assert_endpoint(&pkt.src, "10.0.0.7:7");
    assert_next(c, &pkt, "mac");
    assert_endpoint(&pkt.src, "[2001:db8::7]:8");
    assert_end(c);
    assert_int_equal(capture_skipped(c), 1);
    close_buf(c, path, &b);
}

static void test_nanosecond_pcap(void **state)
{
    struct buf b = {0};
    uint8_t frame[256];
    struct capture_pkt pkt;
    struct capture *c;
    char *path;
    size_t n;

    (void)state;
    pcap_begin(&b, 0xa1b23c4d, LT_RAW);
    n = ipv4_udp(frame, ip_a, 7, ip_b, 4444, "ns", 0);
    pcap_add(&b, 5, 123456789, frame, n, n);
    c = open_buf(&b, &path);
    assert_next(c, &pkt, "ns");
    assert_int_equal(pkt.ts_us, 5123456);
    close_buf(c, path, &b);
}

static void test_not_a_capture(void **state)
{
    struct capture_opts opts = {0};
    char *path = tmp_file(), *cause = NULL;

    (void)state;
    write_bytes(path, "hello, world\n", 13);
    assert_null(capture_open(path, &opts, &cause));
    assert_non_null(strstr(cause, path));
    assert_non_null(strstr(cause, "--raw-size"));
    free(cause);
    cause = NULL;
    write_bytes(path, "", 0);
    assert_null(capture_open(path, &opts, &cause));
    assert_non_null(strstr(cause, "empty"));
    free(cause);
    cause = NULL;
    unlink(path);
    assert_null(capture_open(path, &opts, &cause));
    assert_non_null(strstr(cause, path));
    free(cause);
    free(path);
}

/* ---- pcapw round trip ---- */

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void sa4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof *ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
}

static void sa6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
}

/* Checks the written bytes as Wireshark would: IPv4 header and UDP checksums sum to 0xffff. */
static void check_checksums(const char *path)
{
    uint8_t f[1024];
    FILE *fp = fopen(path, "rb");
    size_t n, off = 24, plen;
    uint32_t pseudo, linktype, incl;

    assert_non_null(fp);
    n = fread(f, 1, sizeof f, fp);
    fclose(fp);
    assert_true(n > 24 + 16 + 28);
    /* The writer uses host byte order, like libpcap. */
    memcpy(&linktype, f + 20, 4);
    assert_int_equal(linktype, 101); /* LINKTYPE_RAW */
    /* First record: IPv4. */
    memcpy(&incl, f + off + 8, 4);
    plen = incl;
    off += 16;
    assert_int_equal(f[off], 0x45);
    assert_int_equal(csum(f + off, 20, 0), 0xffff);
    pseudo = csum(f + off + 12, 8, 0) + 17 + (uint32_t)(plen - 20);
    assert_int_equal(csum(f + off + 20, plen - 20, pseudo), 0xffff);
}

static void test_pcapw_round_trip(void **state)
{
    static const char *payloads[] = {"first", "second datagram", "3", "over IPv6, odd"};
    static const int64_t ts[] = {1739275200000000, 1739275200016667, 1739275201000001,
                                 1739275202999999};
    struct sockaddr_storage src[4], dst[4];
    struct capture_opts opts = {0};
    struct pcap_writer *w;
    struct capture_pkt pkt;
    struct capture *c;
    char *path = tmp_file(), *cause = NULL;

    (void)state;
    sa4(&src[0], "192.168.1.50", 50123);
    sa4(&dst[0], "192.168.1.10", 4444);
    sa4(&src[1], "192.168.1.51", 50124);
    sa4(&dst[1], "192.168.1.10", 4444);
    /* A dual-stack socket's view of an IPv4 peer is written as IPv4. */
    sa6(&src[2], "::ffff:10.1.2.3", 7);
    sa4(&dst[2], "10.1.2.4", 4444);
    sa6(&src[3], "fe80::1", 40000);
    sa6(&dst[3], "2001:db8::10", 4444);
    w = pcapw_open(path, &cause);
    if (w == NULL)
        fail_msg("%s", cause);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pcapw_write(w, ts[i], (struct sockaddr *)&src[i],
                                     (struct sockaddr *)&dst[i], (const uint8_t *)payloads[i],
                                     strlen(payloads[i]), &cause),
                         0);
    assert_int_equal(pcapw_close(w, &cause), 0);
    check_checksums(path);

    c = capture_open(path, &opts, &cause);
    if (c == NULL)
        fail_msg("%s", cause);
    assert_string_equal(capture_describe(c), "pcap/raw IP");
    for (int i = 0; i < 4; i++) {
        assert_next(c, &pkt, payloads[i]);
        assert_int_equal(pkt.ts_us, ts[i]);
    }
    capture_close(c);
    c = capture_open(path, &opts, &cause);
    assert_non_null(c);
    assert_next(c, &pkt, payloads[0]);
    assert_endpoint(&pkt.src, "192.168.1.50:50123");
    assert_endpoint(&pkt.dst, "192.168.1.10:4444");
    assert_next(c, &pkt, payloads[1]);
    assert_endpoint(&pkt.src, "192.168.1.51:50124");
    assert_next(c, &pkt, payloads[2]);
    assert_endpoint(&pkt.src, "10.1.2.3:7");
    assert_endpoint(&pkt.dst, "10.1.2.4:4444");
    assert_next(c, &pkt, payloads[3]);
    assert_endpoint(&pkt.src, "[fe80::1]:40000");
    assert_endpoint(&pkt.dst, "[2001:db8::10]:4444");
    assert_end(c);
    assert_int_equal(capture_skipped(c), 0);
    capture_close(c);
    unlink(path);
    free(path);
}

/* The largest IPv4 datagram fits the 65535-byte snap length; an IPv6 one near 64 KiB does not
 * and is cut, so the reader skips it as truncated rather than replaying part of it. */
static void test_pcapw_large(void **state)
{
    struct sockaddr_storage s4, d4, s6, d6;
    struct capture_opts opts = {0};
    uint8_t *big = xcalloc(1, 65527);
    struct pcap_writer *w;
    struct capture_pkt pkt;
    struct capture *c;
    char *path = tmp_file(), *cause = NULL;

    (void)state;
    big[65506] = 0x5a;
    sa4(&s4, "127.0.0.1", 1);
    sa4(&d4, "127.0.0.1", 2);
    sa6(&s6, "::1", 1);
    sa6(&d6, "::1", 2);
    w = pcapw_open(path, &cause);
    assert_non_null(w);
    assert_int_equal(
        pcapw_write(w, 1, (struct sockaddr *)&s4, (struct sockaddr *)&d4, big, 65507, &cause), 0);
    assert_int_equal(
        pcapw_write(w, 2, (struct sockaddr *)&s4, (struct sockaddr *)&d4, big, 65508, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(
        pcapw_write(w, 3, (struct sockaddr *)&s6, (struct sockaddr *)&d6, big, 65527, &cause), 0);
    assert_int_equal(pcapw_close(w, &cause), 0);
    c = capture_open(path, &opts, &cause);
    assert_non_null(c);
    assert_int_equal(capture_next(c, &pkt, &cause), 1);
    assert_int_equal(pkt.len, 65507);
    assert_int_equal(pkt.data[65506], 0x5a);
    assert_end(c);
    assert_int_equal(capture_skipped(c), 1);
    capture_close(c);
    unlink(path);
    free(path);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_test1_pcap),
        cmocka_unit_test(test_data_hillclimb_null),
        cmocka_unit_test(test_data_bolide_pcapng_sll),
        cmocka_unit_test(test_data_raw_matches_pcap),
        cmocka_unit_test(test_data_raw_single),
        cmocka_unit_test(test_data_errors),
        cmocka_unit_test(test_sll2),
        cmocka_unit_test(test_raw_ipv4),
        cmocka_unit_test(test_ipv6_ethernet),
        cmocka_unit_test(test_vlan_and_padding),
        cmocka_unit_test(test_fragments_and_truncation),
        cmocka_unit_test(test_null_both_byte_orders),
        cmocka_unit_test(test_nanosecond_pcap),
        cmocka_unit_test(test_not_a_capture),
        cmocka_unit_test(test_pcapw_round_trip),
        cmocka_unit_test(test_pcapw_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
