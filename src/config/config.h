/* SPDX-License-Identifier: MIT */
/* config: the one option table and the layered configuration built from it (defaults <
 * /etc/beamtel/beamtel.conf < user file or -c FILE < BEAMTEL_* environment < command line).
 * Only cli/cmd_*.c read it; modules get their own options structs. */
#ifndef BEAMTEL_CONFIG_H
#define BEAMTEL_CONFIG_H

#include <stdio.h>

/* Subcommands, as bits, so that one option can belong to several. */
enum {
    CMD_SERVE = 1u << 0,
    CMD_TUI = 1u << 1,
    CMD_SESSIONS = 1u << 2,
    CMD_LOGIN = 1u << 3,
    CMD_STREAM = 1u << 4,
    CMD_REPLAY = 1u << 5,
    CMD_RECORD = 1u << 6,
    CMD_IMPORT = 1u << 7,
    CMD_USER = 1u << 8,
    CMD_DB = 1u << 9,
    CMD_SIMULATE = 1u << 10,
    CMD_ALL = 0x7ff,
};

enum opt_type {
    OPT_FLAG,   /* no argument; value "1" when given */
    OPT_COUNT,  /* no argument; each use adds one (-vv) */
    OPT_INT,    /* integer within [min, max] */
    OPT_DOUBLE, /* number within [min, max] */
    OPT_STRING, /* free text (addresses, paths, DSNs, names) */
    OPT_ENUM,   /* one of the words in `choices`, separated by '|' */
};

enum {
    OPTF_SECRET = 1u << 0, /* never printed; prefer the matching -file option */
    OPTF_CLI = 1u << 1,    /* command line only: not a config key nor an environment variable */
};

struct opt_def {
    const char *name; /* long option, config key, BEAMTEL_<NAME> */
    int shortopt;     /* 0 for none */
    enum opt_type type;
    const char *metavar; /* shown in --help and the man page */
    const char *def;     /* default as text; NULL for unset */
    double min, max;     /* bounds for OPT_INT / OPT_DOUBLE */
    const char *choices; /* for OPT_ENUM */
    unsigned flags;      /* OPTF_* */
    unsigned cmds;       /* CMD_* bits where it applies */
    const char *help;    /* one line */
};

/* The table, terminated by an entry with name NULL (options.c). */
extern const struct opt_def config_options[];

struct subcommand {
    const char *name;
    unsigned bit;
    const char *usage;   /* "serve [options]" */
    const char *summary; /* one line for the subcommand table */
};
extern const struct subcommand config_subcommands[];
const struct subcommand *config_find_subcommand(const char *name);

/* Parses configuration for one subcommand: files, environment and argv (argv[0] is the
 * subcommand).  On success 0 is returned and *npos/pos hold the positional arguments (pointers
 * into argv, in an array that config owns until config_free or the next load); on failure -1
 * and *cause is set.  --help sets config_get_flag("help"). */
int config_load(unsigned cmd, int argc, char **argv, int *npos, char ***pos, char **cause);
/* Frees all stored values. */
void config_free(void);

/* Typed getters; the name must be a table entry that applies to the loaded subcommand. */
const char *config_get_str(const char *name); /* NULL when unset */
long config_get_int(const char *name);
double config_get_double(const char *name);
int config_get_flag(const char *name);
/* Where a value came from: "default", a file path, "environment", "command line". */
const char *config_source(const char *name);
/* Sets a value programmatically (lowest precedence above defaults is not kept: it overrides). */
void config_set(const char *name, const char *value);

/* Prints `beamtel CMD --help` from the table. */
void config_print_help(FILE *fp, unsigned cmd);
/* Prints the program overview (`beamtel --help`). */
void config_print_overview(FILE *fp);

/* Directory for generated state (secrets, spool, the private PostgreSQL cluster):
 * --state-dir, else $STATE_DIRECTORY (systemd), else /var/lib/beamtel for root, else
 * $XDG_STATE_HOME/beamtel or ~/.local/state/beamtel.  Returns a string owned by config. */
const char *config_state_dir(void);
/* The libpq conninfo to use: --db if set, else the private cluster under the state directory
 * when it exists and no PG* variable is set, else "" (libpq defaults, PG* variables). */
const char *config_db_dsn(void);

#endif
