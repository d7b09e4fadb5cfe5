/* SPDX-License-Identifier: MIT */
/* options: the one option table.  getopt, --help, config-file keys, BEAMTEL_* variables and the
 * man page's option list (checked by tests/man) all come from here. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#define DB_CMDS (CMD_SERVE | CMD_IMPORT | CMD_SESSIONS | CMD_DB | CMD_USER)
#define TRACK_CMDS (CMD_SERVE | CMD_IMPORT)

const struct subcommand config_subcommands[] = {
    {"serve", CMD_SERVE, "serve [options]",
     "receive telemetry on UDP, record sessions into PostgreSQL"},
    {"sessions", CMD_SESSIONS, "sessions [list|show ID|export ID] [options]",
     "list recorded sessions, show one session's report, export its frames"},
    {"import", CMD_IMPORT, "import FILE [options]",
     "record a capture (pcap, pcapng or raw datagrams) as if it arrived live"},
    {"replay", CMD_REPLAY, "replay FILE [options]", "send a capture to a UDP address at its pace"},
    {"record", CMD_RECORD, "record FILE [options]",
     "write the datagrams arriving on a UDP port to a pcap file"},
    {"simulate", CMD_SIMULATE, "simulate [options]",
     "drive synthetic cars around a circuit and send their telemetry"},
    {"db", CMD_DB, "db migrate|status [options]", "apply the embedded schema, show its state"},
    {"user", CMD_USER, "user add|passwd|del|list|fumbletron|map|unmap ... [options]",
     "manage users, their Fumbletron-3156 token and ingest source mappings"},
    {"login", CMD_LOGIN, "login [options]",
     "log in to a serve and keep the token for tui, stream and sessions --server"},
    {"stream", CMD_STREAM, "stream [options]", "print the live frames as NDJSON"},
    {"tui", CMD_TUI, "tui [options]", "live gauges in the terminal"},
    {NULL, 0, NULL, NULL},
};

/* clang-format off */
const struct opt_def config_options[] = {
    /* every subcommand */
    {"help", 'h', OPT_FLAG, NULL, NULL, 0, 0, NULL, OPTF_CLI, CMD_ALL,
     "show this help and exit"},
    {"config", 'c', OPT_STRING, "FILE", NULL, 0, 0, NULL, OPTF_CLI, CMD_ALL,
     "read this configuration file instead of $XDG_CONFIG_HOME/beamtel/beamtel.conf"},
    {"verbose", 'v', OPT_COUNT, NULL, NULL, 0, 0, NULL, OPTF_CLI, CMD_ALL,
     "log more (repeat for debug)"},
    {"log-level", 0, OPT_ENUM, "LEVEL", "info", 0, 0, "error|warn|info|debug", 0, CMD_ALL,
     "log level"},
    {"state-dir", 0, OPT_STRING, "DIR", NULL, 0, 0, NULL, 0,
     CMD_SERVE | CMD_IMPORT | CMD_DB | CMD_SESSIONS | CMD_USER,
     "state directory (spool, secrets, private PostgreSQL cluster)"},
    {"db", 'd', OPT_STRING, "DSN", NULL, 0, 0, NULL, 0, DB_CMDS,
     "PostgreSQL connection (libpq conninfo or URI); PG* variables apply"},

    /* serve */
    {"udp", 'u', OPT_STRING, "ADDR:PORT", "0.0.0.0:4444", 0, 0, NULL, 0, CMD_SERVE | CMD_RECORD,
     "UDP address for OutGauge and MotionSim"},
    {"no-record", 0, OPT_FLAG, NULL, NULL, 0, 0, NULL, 0, CMD_SERVE | CMD_IMPORT,
     "do not use PostgreSQL: live only (serve) or a dry run (import)"},
    {"rcvbuf", 0, OPT_INT, "BYTES", "4194304", 65536, 268435456, NULL, 0, CMD_SERVE,
     "UDP receive buffer to ask the kernel for"},
    {"queue-max", 0, OPT_INT, "FRAMES", "262144", 1024, 100000000, NULL, 0,
     CMD_SERVE | CMD_IMPORT,
     "frames held in memory while PostgreSQL is slow before spooling to disk"},
    {"batch-rows", 0, OPT_INT, "N", "4000", 1, 100000, NULL, 0, CMD_SERVE | CMD_IMPORT,
     "most frames written by one COPY"},
    {"batch-ms", 0, OPT_INT, "MS", "100", 1, 10000, NULL, 0, CMD_SERVE | CMD_IMPORT,
     "longest wait before a partial batch is written"},
    {"move-threshold", 0, OPT_DOUBLE, "M/S", "0.5", 0.0, 100.0, NULL, 0, TRACK_CMDS,
     "speed at or above which the car counts as moving"},
    {"idle-timeout", 0, OPT_DOUBLE, "SECONDS", "30", 1.0, 86400.0, NULL, 0, TRACK_CMDS,
     "a session ends after this long below the move threshold"},
    {"pause-timeout", 0, OPT_DOUBLE, "SECONDS", "300", 1.0, 86400.0, NULL, 0, TRACK_CMDS,
     "a session ends after this long without any packet (game paused or closed)"},
    {"ingest-user", 0, OPT_STRING, "NAME", "local", 0, 0, NULL, 0, TRACK_CMDS,
     "user who owns telemetry from unmapped sources (empty: drop it)"},
    {"http", 0, OPT_STRING, "ADDR:PORT", "127.0.0.1:8080", 0, 0, NULL, 0, CMD_SERVE,
     "address of the HTTP API, web app and WebSocket (one port; empty: none)"},
    {"web-root", 0, OPT_STRING, "DIR", NULL, 0, 0, NULL, 0, CMD_SERVE,
     "directory of the built web app (web/dist) served on the HTTP port"},
    {"admin-user", 0, OPT_STRING, "NAME", "local", 0, 0, NULL, 0, CMD_SERVE,
     "the seeded user created on first start"},
    {"admin-password-file", 0, OPT_STRING, "FILE", NULL, 0, 0, NULL, 0, CMD_SERVE,
     "file holding the seeded user's password (else BEAMTEL_ADMIN_PASSWORD, else generated)"},
    {"jwt-secret-file", 0, OPT_STRING, "FILE", NULL, 0, 0, NULL, 0, CMD_SERVE,
     "file holding the token signing secret, ≥ 32 bytes (else BEAMTEL_JWT_SECRET, else "
     "generated in the state directory)"},
    {"token-lifetime", 0, OPT_INT, "SECONDS", "43200", 60, 31536000, NULL, 0, CMD_SERVE,
     "how long a login token is valid"},
    {"login-max-failures", 0, OPT_INT, "N", "5", 1, 1000, NULL, 0, CMD_SERVE,
     "failed logins per address within a minute before HTTP 429"},
    {"trusted-proxy", 0, OPT_STRING, "ADDRS", NULL, 0, 0, NULL, 0, CMD_SERVE,
     "comma-separated addresses of reverse proxies whose X-Forwarded-For is believed"},

    /* import / replay */
    {"raw-size", 0, OPT_INT, "BYTES", NULL, 1, 65535, NULL, 0, CMD_IMPORT | CMD_REPLAY,
     "read FILE as concatenated datagrams of this size instead of pcap/pcapng"},
    {"rate", 0, OPT_DOUBLE, "HZ", "60", 0.001, 100000, NULL, 0, CMD_IMPORT | CMD_REPLAY,
     "datagrams per second for a raw file"},
    {"json", 0, OPT_FLAG, NULL, NULL, 0, 0, NULL, OPTF_CLI, CMD_IMPORT | CMD_SESSIONS | CMD_USER,
     "print JSON"},
    {"to", 't', OPT_STRING, "HOST:PORT", "127.0.0.1:4444", 0, 0, NULL, 0,
     CMD_REPLAY | CMD_SIMULATE, "where to send the datagrams"},
    {"speed", 0, OPT_DOUBLE, "X", "1", 0.01, 1000, NULL, OPTF_CLI, CMD_REPLAY,
     "replay X times faster than recorded"},
    {"as-fast-as-possible", 0, OPT_FLAG, NULL, NULL, 0, 0, NULL, OPTF_CLI, CMD_REPLAY,
     "replay without waiting between datagrams"},
    {"progress", 0, OPT_ENUM, "WHEN", "auto", 0, 0, "auto|always|never", OPTF_CLI, CMD_REPLAY,
     "progress bar on standard error (auto: when it is a terminal)"},

    /* record / simulate */
    {"duration", 0, OPT_DOUBLE, "SECONDS", "0", 0, 1e9, NULL, OPTF_CLI,
     CMD_RECORD | CMD_SIMULATE, "stop after this long (0: until interrupted)"},
    {"count", 'n', OPT_INT, "N", "0", 0, 1e12, NULL, OPTF_CLI, CMD_RECORD | CMD_STREAM,
     "stop after N datagrams (record) or frames (stream); 0: no limit"},
    {"server", 's', OPT_STRING, "URL", NULL, 0, 0, NULL, 0,
     CMD_LOGIN | CMD_STREAM | CMD_TUI | CMD_SESSIONS,
     "URL of a beamtel serve (default: the stored login's, else http://127.0.0.1:8080; "
     "for sessions: read through the API instead of PostgreSQL)"},
    {"user", 0, OPT_STRING, "NAME", NULL, 0, 0, NULL, OPTF_CLI, CMD_LOGIN | CMD_TUI,
     "user name (default: the stored login's, else local)"},
    {"password-file", 0, OPT_STRING, "FILE", NULL, 0, 0, NULL, OPTF_CLI, CMD_LOGIN | CMD_USER,
     "read the password from FILE instead of asking"},
    {"cars", 0, OPT_INT, "N", "1", 1, 1000, NULL, OPTF_CLI, CMD_SIMULATE,
     "number of cars, each sending from its own source port"},
    {"hz", 0, OPT_DOUBLE, "HZ", "60", 0, 10000, NULL, OPTF_CLI, CMD_SIMULATE,
     "OutGauge packets per second per car (0: none)"},
    {"motionsim-hz", 0, OPT_DOUBLE, "HZ", "200", 0, 10000, NULL, OPTF_CLI, CMD_SIMULATE,
     "MotionSim packets per second per car (0: none)"},
    {"seed", 0, OPT_INT, "N", "1", 0, 2147483647, NULL, OPTF_CLI, CMD_SIMULATE,
     "seed of the drivers' variation"},

    /* sessions */
    {"limit", 'l', OPT_INT, "N", "20", 1, 100000, NULL, OPTF_CLI, CMD_SESSIONS,
     "list at most N sessions, newest first"},
    {"csv", 0, OPT_FLAG, NULL, NULL, 0, 0, NULL, OPTF_CLI, CMD_SESSIONS, "print CSV"},
    {"units", 0, OPT_ENUM, "UNITS", "metric", 0, 0, "metric|imperial", 0, CMD_SESSIONS | CMD_TUI,
     "units of the readable report and the gauges"},
    {"ascii", 0, OPT_FLAG, NULL, NULL, 0, 0, NULL, 0, CMD_TUI,
     "draw with ASCII only (default: UTF-8 when the locale uses it)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, 0, NULL},
};
/* clang-format on */

const struct subcommand *config_find_subcommand(const char *name)
{
    for (const struct subcommand *s = config_subcommands; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}
