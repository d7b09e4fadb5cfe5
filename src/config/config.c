/* SPDX-License-Identifier: MIT */
/* config: layered configuration from the option table; validates every value against its type
 * and bounds before a subcommand sees it. */
#include "config.h"

#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OPTS 128

static char *values[MAX_OPTS];
static const char *sources[MAX_OPTS];
static char *source_paths[4];
static unsigned loaded_cmd;
static char **pos_array; /* positional arguments of the last load; owned here */
static char *state_dir;
static char *db_dsn;

static int opt_index(const char *name)
{
    for (int i = 0; config_options[i].name; i++)
        if (strcmp(config_options[i].name, name) == 0)
            return i;
    return -1;
}

static void set_value(int i, const char *v, const char *source)
{
    free(values[i]);
    values[i] = v ? xstrdup(v) : NULL;
    sources[i] = source;
}

/* Checks a value against the option's type; returns 0 or -1 with *cause. */
static int check_value(const struct opt_def *o, const char *v, const char *where, char **cause)
{
    double d;
    long l;
    switch (o->type) {
    case OPT_FLAG:
    case OPT_COUNT:
        if (strcmp(v, "1") && strcmp(v, "0") && strcasecmp(v, "true") && strcasecmp(v, "false") &&
            strcasecmp(v, "yes") && strcasecmp(v, "no")) {
            *cause = xasprintf("%s: %s expects true or false, not \"%s\"", where, o->name, v);
            return -1;
        }
        return 0;
    case OPT_INT:
        if (parse_long(v, &l) < 0 || l < o->min || l > o->max) {
            *cause = xasprintf("%s: %s expects an integer from %.0f to %.0f, not \"%s\"", where,
                               o->name, o->min, o->max, v);
            return -1;
        }
        return 0;
    case OPT_DOUBLE:
        if (parse_double(v, &d) < 0 || !(d >= o->min && d <= o->max)) {
            *cause = xasprintf("%s: %s expects a number from %g to %g, not \"%s\"", where, o->name,
                               o->min, o->max, v);
            return -1;
        }
        return 0;
    case OPT_ENUM: {
        size_t n = strlen(v);
        const char *c = o->choices;
        while (c && *c) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && strncmp(c, v, n) == 0)
                return 0;
            c = bar ? bar + 1 : NULL;
        }
        *cause = xasprintf("%s: %s expects one of %s, not \"%s\"", where, o->name, o->choices, v);
        return -1;
    }
    case OPT_STRING:
        return 0;
    }
    return 0;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Reads "key = value" lines.  Keys of other subcommands are accepted silently (one file serves
 * them all); keys that belong to no subcommand are an error so that typos do not pass. */
static int load_file(const char *path, int must_exist, char **cause)
{
    FILE *fp = fopen(path, "re");
    char line[4096];
    int lineno = 0, slot;
    if (fp == NULL) {
        if (!must_exist && errno == ENOENT)
            return 0;
        *cause = xasprintf("cannot open configuration file %s: %s", path, strerror(errno));
        return -1;
    }
    {
        struct stat st;
        if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode)) {
            *cause = xasprintf("configuration file %s is not a regular file", path);
            fclose(fp);
            return -1;
        }
    }
    for (slot = 0; slot < 3 && source_paths[slot]; slot++)
        ;
    source_paths[slot] = xstrdup(path);
    while (fgets(line, sizeof line, fp)) {
        char *key, *val, *eq, where[600];
        int i;
        lineno++;
        key = trim(line);
        if (*key == '\0' || *key == '#' || *key == ';')
            continue;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        eq = strchr(key, '=');
        if (eq == NULL) {
            *cause = xasprintf("%s: expected \"key = value\"", where);
            fclose(fp);
            return -1;
        }
        *eq = '\0';
        key = trim(key);
        val = trim(eq + 1);
        if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
            val[strlen(val) - 1] = '\0';
            val++;
        }
        i = opt_index(key);
        if (i < 0 || (config_options[i].flags & OPTF_CLI)) {
            *cause = xasprintf("%s: unknown key \"%s\"", where, key);
            fclose(fp);
            return -1;
        }
        if (!(config_options[i].cmds & loaded_cmd))
            continue;
        if (check_value(&config_options[i], val, where, cause) < 0) {
            fclose(fp);
            return -1;
        }
        set_value(i, val, source_paths[slot]);
    }
    fclose(fp);
    return 0;
}

static int load_env(char **cause)
{
    for (int i = 0; config_options[i].name; i++) {
        const struct opt_def *o = &config_options[i];
        char env[128] = "BEAMTEL_";
        size_t n = strlen(env);
        const char *v;
        if ((o->flags & OPTF_CLI) || !(o->cmds & loaded_cmd))
            continue;
        for (const char *p = o->name; *p && n < sizeof env - 1; p++)
            env[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[n] = '\0';
        v = getenv(env);
        if (v == NULL)
            continue;
        if (check_value(o, v, env, cause) < 0)
            return -1;
        set_value(i, v, "environment");
    }
    return 0;
}

/* Finds -c/--config on the command line before the real parse. */
static const char *find_config_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
        if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0' && argv[i][1] != '-')
            return argv[i] + 2;
    }
    return NULL;
}

static int load_argv(int argc, char **argv, int *npos, char ***pos, char **cause)
{
    struct option longopts[MAX_OPTS + 1];
    char shortopts[MAX_OPTS * 2 + 3] = "+:";
    int map[MAX_OPTS], n = 0, s = 2, c, li;

    for (int i = 0; config_options[i].name; i++) {
        const struct opt_def *o = &config_options[i];
        if (!(o->cmds & loaded_cmd))
            continue;
        longopts[n].name = o->name;
        longopts[n].has_arg =
            (o->type == OPT_FLAG || o->type == OPT_COUNT) ? no_argument : required_argument;
        longopts[n].flag = NULL;
        longopts[n].val = 1000 + i;
        map[n++] = i;
        if (o->shortopt) {
            shortopts[s++] = (char)o->shortopt;
            if (longopts[n - 1].has_arg == required_argument)
                shortopts[s++] = ':';
        }
    }
    memset(&longopts[n], 0, sizeof longopts[n]);
    shortopts[s] = '\0';
    (void)map;

    optind = 1;
    opterr = 0;
    /* Options may follow positional arguments ("import FILE --db X"): collect positionals and
     * keep parsing, as GNU getopt does, but without reordering argv behind our back. */
    free(pos_array);
    pos_array = xcalloc((size_t)argc + 1, sizeof(char *));
    *pos = pos_array;
    *npos = 0;
    for (;;) {
        int idx = -1;
        li = -1;
        c = getopt_long(argc, argv, shortopts, longopts, &li);
        if (c == -1) {
            if (optind < argc) {
                if (strcmp(argv[optind - 1], "--") == 0) {
                    while (optind < argc)
                        (*pos)[(*npos)++] = argv[optind++];
                    break;
                }
                (*pos)[(*npos)++] = argv[optind++];
                continue;
            }
            break;
        }
        if (c == '?') {
            if (optopt)
                *cause = xasprintf("unknown option -%c", optopt);
            else
                *cause = xasprintf("unknown option %s", argv[optind - 1]);
            return -1;
        }
        if (c == ':') {
            *cause = xasprintf("option %s needs a value", argv[optind - 1]);
            return -1;
        }
        if (c >= 1000) {
            idx = c - 1000;
        } else {
            for (int i = 0; config_options[i].name; i++)
                if (config_options[i].shortopt == c && (config_options[i].cmds & loaded_cmd))
                    idx = i;
        }
        if (idx < 0) {
            *cause = xasprintf("unknown option");
            return -1;
        }
        const struct opt_def *o = &config_options[idx];
        if (o->type == OPT_FLAG) {
            set_value(idx, "1", "command line");
        } else if (o->type == OPT_COUNT) {
            char tmp[24];
            long cur = values[idx] ? strtol(values[idx], NULL, 10) : 0;
            snprintf(tmp, sizeof tmp, "%ld", cur + 1);
            set_value(idx, tmp, "command line");
        } else {
            if (check_value(o, optarg, "command line", cause) < 0)
                return -1;
            set_value(idx, optarg, "command line");
        }
    }
    return 0;
}

int config_load(unsigned cmd, int argc, char **argv, int *npos, char ***pos, char **cause)
{
    const char *explicit_file;
    loaded_cmd = cmd;
    for (int i = 0; config_options[i].name; i++)
        if (config_options[i].def)
            set_value(i, config_options[i].def, "default");

    explicit_file = find_config_arg(argc, argv);
    if (load_file("/etc/beamtel/beamtel.conf", 0, cause) < 0)
        return -1;
    if (explicit_file) {
        if (load_file(explicit_file, 1, cause) < 0)
            return -1;
    } else {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char *path = NULL;
        if (xdg && *xdg)
            path = xasprintf("%s/beamtel/beamtel.conf", xdg);
        else if (home && *home)
            path = xasprintf("%s/.config/beamtel/beamtel.conf", home);
        if (path) {
            int rc = load_file(path, 0, cause);
            free(path);
            if (rc < 0)
                return -1;
        }
    }
    if (load_env(cause) < 0)
        return -1;
    if (load_argv(argc, argv, npos, pos, cause) < 0)
        return -1;

    /* -v raises the level given by --log-level. */
    {
        int lvl = log_level_parse(config_get_str("log-level"));
        lvl += (int)config_get_int("verbose");
        log_set_level(lvl > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : (enum log_level)lvl);
    }
    return 0;
}

void config_free(void)
{
    for (int i = 0; i < MAX_OPTS; i++) {
        free(values[i]);
        values[i] = NULL;
    }
    for (int i = 0; i < 4; i++) {
        free(source_paths[i]);
        source_paths[i] = NULL;
    }
    free(state_dir);
    free(db_dsn);
    free(pos_array);
    state_dir = db_dsn = NULL;
    pos_array = NULL;
}

static int must_index(const char *name)
{
    int i = opt_index(name);
    if (i < 0) {
        log_err("internal error: no option \"%s\"", name);
        abort();
    }
    return i;
}

const char *config_get_str(const char *name)
{
    int i = must_index(name);
    return values[i];
}

long config_get_int(const char *name)
{
    const char *v = values[must_index(name)];
    return v ? strtol(v, NULL, 10) : 0;
}

double config_get_double(const char *name)
{
    const char *v = values[must_index(name)];
    return v ? strtod(v, NULL) : 0.0;
}

int config_get_flag(const char *name)
{
    const char *v = values[must_index(name)];
    if (v == NULL)
        return 0;
    return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0;
}

const char *config_source(const char *name)
{
    const char *s = sources[must_index(name)];
    return s ? s : "unset";
}

void config_set(const char *name, const char *value)
{
    set_value(must_index(name), value, "command line");
}

void config_print_help(FILE *fp, unsigned cmd)
{
    const struct subcommand *sc = NULL;
    for (const struct subcommand *s = config_subcommands; s->name; s++)
        if (s->bit == cmd)
            sc = s;
    if (sc)
        fprintf(fp, "usage: beamtel %s\n\n%s.\n\noptions:\n", sc->usage, sc->summary);
    for (int i = 0; config_options[i].name; i++) {
        const struct opt_def *o = &config_options[i];
        char left[64];
        if (!(o->cmds & cmd))
            continue;
        if (o->shortopt)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->shortopt, o->name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        fprintf(fp, "  %-30s %s", left, o->help);
        if (o->def && o->type != OPT_FLAG && !(o->flags & OPTF_SECRET))
            fprintf(fp, " [%s]", o->def);
        fputc('\n', fp);
    }
    fprintf(fp, "\nEvery option except the command-line-only ones can be set as a key in "
                "beamtel.conf(5)\nor as BEAMTEL_<NAME> in the environment. See beamtel(1).\n");
}

void config_print_overview(FILE *fp)
{
    fprintf(fp, "usage: beamtel [--version] [--help] COMMAND [options]\n\n"
                "Telemetry for BeamNG.drive: receive OutGauge and MotionSim on UDP, record\n"
                "driving sessions into PostgreSQL, report analytics.\n\ncommands:\n");
    for (const struct subcommand *s = config_subcommands; s->name; s++)
        fprintf(fp, "  %-10s %s\n", s->name, s->summary);
    fprintf(fp, "  %-10s %s\n", "help", "show a command's options (beamtel help COMMAND)");
    fprintf(fp, "\nRun 'beamtel COMMAND --help' for its options; see beamtel(1).\n");
}

const char *config_state_dir(void)
{
    const char *v = values[must_index("state-dir")], *env;
    if (state_dir)
        return state_dir;
    if (v && *v)
        state_dir = xstrdup(v);
    else if ((env = getenv("STATE_DIRECTORY")) && *env) {
        /* systemd may pass several, separated by ':'; the first is ours. */
        state_dir = xstrdup(env);
        char *colon = strchr(state_dir, ':');
        if (colon)
            *colon = '\0';
    } else if (geteuid() == 0)
        state_dir = xstrdup("/var/lib/beamtel");
    else if ((env = getenv("XDG_STATE_HOME")) && *env)
        state_dir = xasprintf("%s/beamtel", env);
    else
        state_dir = xasprintf("%s/.local/state/beamtel", getenv("HOME") ? getenv("HOME") : ".");
    return state_dir;
}

const char *config_db_dsn(void)
{
    const char *v = values[must_index("db")];
    struct stat st;
    char *sock;
    if (db_dsn)
        return db_dsn;
    if (v && *v)
        return db_dsn = xstrdup(v);
    if (getenv("PGHOST") || getenv("PGDATABASE") || getenv("PGSERVICE") || getenv("PGPORT"))
        return db_dsn = xstrdup("");
    /* The private cluster of scripts/pg-private keeps its socket in <state>/pg/run. */
    sock = xasprintf("%s/pg/run", config_state_dir());
    if (stat(sock, &st) == 0 && S_ISDIR(st.st_mode))
        db_dsn = xasprintf("host=%s port=5432 dbname=beamtel user=beamtel", sock);
    else
        db_dsn = xstrdup("");
    free(sock);
    return db_dsn;
}
