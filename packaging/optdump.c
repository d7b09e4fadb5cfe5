/* SPDX-License-Identifier: MIT */
/* optdump: prints the option table of src/config/options.c for packaging and tests — the sample
 * beamtel.conf, the option names, the config keys and their BEAMTEL_* variables — so that none
 * of them is ever typed by hand.  It reads the table and nothing else. */
#include "config/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "key=value" pairs given with --set: values the package ships instead of the built-in default. */
struct override {
    const char *key;
    const char *value;
};

static const char *type_name(enum opt_type t)
{
    switch (t) {
    case OPT_FLAG:
    case OPT_COUNT:
        return "flag";
    case OPT_INT:
        return "int";
    case OPT_DOUBLE:
        return "number";
    case OPT_STRING:
        return "string";
    case OPT_ENUM:
        return "enum";
    }
    return "?";
}

static void print_env_name(FILE *fp, const char *name)
{
    fputs("BEAMTEL_", fp);
    for (const char *p = name; *p; p++)
        fputc(*p == '-' ? '_' : toupper((unsigned char)*p), fp);
}

/* The subcommands an option belongs to, as "serve, import" or "every command". */
static void print_cmds(FILE *fp, unsigned cmds)
{
    int first = 1;
    if ((cmds & CMD_ALL) == CMD_ALL) {
        fputs("every command", fp);
        return;
    }
    for (const struct subcommand *s = config_subcommands; s->name; s++) {
        if (!(cmds & s->bit))
            continue;
        fprintf(fp, "%s%s", first ? "" : ", ", s->name);
        first = 0;
    }
}

/* Writes `text` as "# " comment lines of at most 98 columns. */
static void print_comment(FILE *fp, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t len = strlen(p), cut = len;
        if (len > 96) {
            cut = 96;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = 96;
        }
        fprintf(fp, "# %.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

static const char *override_of(const struct override *ov, int nov, const char *key)
{
    for (int i = 0; i < nov; i++)
        if (strcmp(ov[i].key, key) == 0)
            return ov[i].value;
    return NULL;
}

static void print_conf(FILE *fp, const struct override *ov, int nov)
{
    fputs(
        "# beamtel.conf: configuration of beamtel(1), read by every subcommand.  See "
        "beamtel.conf(5).\n"
        "#\n"
        "# Generated from the option table (src/config/options.c) by packaging/gen-conf.sh.\n"
        "# Syntax: one \"key = value\" per line; lines starting with # or ; are comments; a value\n"
        "# may be \"quoted\".  Keys are the long option names of beamtel(1); command-line-only\n"
        "# options are not keys.  A key that belongs to no subcommand is an error; a key of\n"
        "# another subcommand is ignored, so one file serves them all.\n"
        "#\n"
        "# Precedence, lowest first: built-in defaults < /etc/beamtel/beamtel.conf <\n"
        "# $XDG_CONFIG_HOME/beamtel/beamtel.conf (or -c FILE) < BEAMTEL_<KEY> environment\n"
        "# variables < the command line.\n"
        "#\n"
        "# Every key is listed at its built-in default, commented out; uncomment a line to change\n"
        "# it.  Secrets never go here: use admin-password-file and jwt-secret-file, and a\n"
        "# PostgreSQL password file (PGPASSFILE or ~/.pgpass) for the database.\n",
        fp);
    for (int i = 0; config_options[i].name; i++) {
        const struct opt_def *o = &config_options[i];
        const char *set;
        char help[512];
        if (o->flags & OPTF_CLI)
            continue;
        fputc('\n', fp);
        snprintf(help, sizeof help, "%s.", o->help);
        help[0] = (char)toupper((unsigned char)help[0]);
        print_comment(fp, help);
        fputs("# Commands: ", fp);
        print_cmds(fp, o->cmds);
        fputs(".  Environment: ", fp);
        print_env_name(fp, o->name);
        fputs(".\n", fp);
        if (o->type == OPT_ENUM)
            fprintf(fp, "# One of: %s.\n", o->choices);
        else if (o->type == OPT_INT || o->type == OPT_DOUBLE)
            fprintf(fp, "# Range: %.15g to %.15g.\n", o->min, o->max);
        else if (o->type == OPT_FLAG)
            fputs("# true or false.\n", fp);
        if (o->def == NULL && o->type != OPT_FLAG)
            fputs("# Default: unset.\n", fp);
        set = override_of(ov, nov, o->name);
        if (set) {
            fprintf(fp, "# Set by the package; the built-in default is %s.\n",
                    o->def ? o->def : "unset");
            fprintf(fp, "%s = %s\n", o->name, set);
        } else if (o->type == OPT_FLAG) {
            fprintf(fp, "#%s = %s\n", o->name, o->def ? o->def : "false");
        } else {
            fprintf(fp, "#%s =%s%s\n", o->name, o->def ? " " : "", o->def ? o->def : "");
        }
    }
}

static int usage(void)
{
    fputs("usage: optdump conf [--set KEY=VALUE]...\n"
          "       optdump names|keys|env|cli|table|commands\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct override ov[16];
    int nov = 0;

    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "conf") == 0) {
        for (int i = 2; i < argc; i++) {
            char *eq;
            if (strcmp(argv[i], "--set") != 0 || i + 1 >= argc || nov == 16 ||
                (eq = strchr(argv[i + 1], '=')) == NULL)
                return usage();
            *eq = '\0';
            ov[nov].key = argv[++i];
            ov[nov++].value = eq + 1;
        }
        print_conf(stdout, ov, nov);
        return 0;
    }
    if (argc != 2)
        return usage();
    if (strcmp(argv[1], "commands") == 0) {
        for (const struct subcommand *s = config_subcommands; s->name; s++)
            puts(s->name);
        return 0;
    }
    for (int i = 0; config_options[i].name; i++) {
        const struct opt_def *o = &config_options[i];
        int key = !(o->flags & OPTF_CLI);
        if (strcmp(argv[1], "names") == 0) {
            puts(o->name);
        } else if (strcmp(argv[1], "keys") == 0) {
            if (key)
                puts(o->name);
        } else if (strcmp(argv[1], "cli") == 0) {
            if (!key)
                puts(o->name);
        } else if (strcmp(argv[1], "env") == 0) {
            if (key) {
                print_env_name(stdout, o->name);
                fputc('\n', stdout);
            }
        } else if (strcmp(argv[1], "table") == 0) {
            /* name, short option, type, default, config key or not, then one subcommand per
             * column: the form the man page test reads. */
            printf("%s\t%c\t%s\t%s\t%s", o->name, o->shortopt ? o->shortopt : '-',
                   type_name(o->type), o->def ? o->def : "-", key ? "key" : "cli");
            for (const struct subcommand *s = config_subcommands; s->name; s++)
                if (o->cmds & s->bit)
                    printf("\t%s", s->name);
            fputc('\n', stdout);
        } else {
            return usage();
        }
    }
    return 0;
}
