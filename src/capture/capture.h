/* SPDX-License-Identifier: MIT */
/* capture: reads UDP datagrams with their timestamps from pcap/pcapng files (libpcap) or raw
 * concatenated fixed-size datagrams, and writes pcap files; shared by import, replay and
 * record.  It knows nothing of OutGauge: payloads are opaque bytes. */
#ifndef BEAMTEL_CAPTURE_H
#define BEAMTEL_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct capture_opts {
    int raw_size;         /* > 0: the file is concatenated datagrams of this size */
    double raw_rate_hz;   /* raw files: datagram spacing (1/rate s) */
    int64_t raw_start_us; /* raw files: timestamp of the first datagram */
};

/* One datagram; data points into the reader's buffer, valid until the next call. */
struct capture_pkt {
    int64_t ts_us;
    struct sockaddr_storage src, dst;
    const uint8_t *data;
    size_t len;
};

struct capture;
/* Opens a capture.  pcap and pcapng are recognised by their magic; link types Ethernet (with
 * VLAN tags), NULL/LOOP (BSD loopback, as Npcap writes on Windows), Linux cooked SLL and SLL2,
 * and raw IPv4/IPv6 are understood.  On failure NULL and *cause is set. */
struct capture *capture_open(const char *path, const struct capture_opts *opts, char **cause);
/* Reads the next UDP datagram.  Returns 1, 0 at the end, -1 with *cause on a damaged file.
 * Frames that are not UDP over IPv4/IPv6 (ARP, TCP, fragments) are skipped and counted. */
int capture_next(struct capture *c, struct capture_pkt *pkt, char **cause);
/* Frames skipped so far (not UDP, truncated, or fragments). */
uint64_t capture_skipped(const struct capture *c);
/* The skipped frames by reason; their sum is capture_skipped(). */
struct capture_skips {
    uint64_t not_udp;   /* ARP, TCP, ICMP, IPv6 extension headers, other link protocols */
    uint64_t truncated; /* cut by the snap length before the end of the UDP datagram */
    uint64_t fragments; /* IPv4 fragments (MF set or a nonzero offset): never reassembled */
};
void capture_get_skips(const struct capture *c, struct capture_skips *out);
/* A short name of the file's format and link type, e.g. "pcap/Ethernet". */
const char *capture_describe(const struct capture *c);
/* Total datagrams when cheaply known (raw files), else -1. */
int64_t capture_total(const struct capture *c);
/* Bytes read so far and file size, for progress bars. */
void capture_progress(const struct capture *c, uint64_t *done, uint64_t *total);
void capture_close(struct capture *c);

/* A pcap writer (LINKTYPE_RAW IPv4/IPv6 with UDP headers) that Wireshark opens. */
struct pcap_writer;
struct pcap_writer *pcapw_open(const char *path, char **cause);
/* Appends one datagram; 0 or -1 with *cause. */
int pcapw_write(struct pcap_writer *w, int64_t ts_us, const struct sockaddr *src,
                const struct sockaddr *dst, const uint8_t *data, size_t len, char **cause);
/* Pushes buffered records to the file, so that a crash loses at most what came since; 0 or -1
 * with *cause. */
int pcapw_flush(struct pcap_writer *w, char **cause);
/* Flushes and closes; 0 or -1 with *cause. */
int pcapw_close(struct pcap_writer *w, char **cause);

#endif
