/* SPDX-License-Identifier: MIT */
/* cmd_user: `beamtel user` — the admin's tool for users, passwords, the Fumbletron-3156 token and
 * ingest source mappings, straight against PostgreSQL (no server needed). */
#include "cli.h"

#include "auth/auth.h"
#include "client/client.h"
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USERS_MAX 10000

/* The new password: --password-file, else asked twice on the terminal, else generated and
 * printed once.  NULL after printing an error. */
static char *new_password(const char *name, int *generated)
{
    const char *file = config_get_str("password-file");
    char *pw, *again, *cause = NULL;
    *generated = 0;
    if (file && *file) {
        pw = file_read_all(strcmp(file, "-") == 0 ? "/dev/stdin" : file, 1024, NULL, &cause);
        if (pw == NULL)
            fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        return pw;
    }
    if (!isatty(STDIN_FILENO)) {
        *generated = 1;
        return auth_password_generate();
    }
    {
        char prompt[96];
        snprintf(prompt, sizeof prompt, "New password for %s: ", name);
        pw = client_read_password(prompt, &cause);
    }
    if (pw == NULL) {
        fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        return NULL;
    }
    again = client_read_password("Again: ", &cause);
    if (again == NULL || strcmp(pw, again) != 0) {
        fprintf(stderr, "beamtel user: %s\n", again ? "the passwords differ" : cause);
        free(cause);
        free(again);
        free(pw);
        return NULL;
    }
    free(again);
    return pw;
}

static int set_password(struct store_conn *c, const char *name, int add)
{
    int generated, rc = BT_EXIT_OK, r;
    char *pw, *hash = NULL, *cause = NULL;
    if (!auth_username_valid(name)) {
        fprintf(stderr, "beamtel user: \"%s\" is not a valid user name (1–32 of a-z 0-9 _ . -)\n",
                name);
        return BT_EXIT_USAGE;
    }
    pw = new_password(name, &generated);
    if (pw == NULL)
        return BT_EXIT_FAILURE;
    if (strlen(pw) < 8) {
        fprintf(stderr, "beamtel user: the password needs at least 8 characters\n");
        free(pw);
        return BT_EXIT_USAGE;
    }
    if (auth_password_hash(pw, &hash, &cause) < 0) {
        fprintf(stderr, "beamtel user: %s\n", cause);
        rc = BT_EXIT_FAILURE;
        goto out;
    }
    r = add ? store_user_add(c, name, hash, &cause)
            : store_user_set_password(c, name, hash, &cause);
    if (r < 0 || (!add && r == 0)) {
        if (r == 0)
            fprintf(stderr, "beamtel user: no user \"%s\"\n", name);
        else
            fprintf(stderr, "beamtel user: %s\n", cause);
        rc = r == 0 ? BT_EXIT_FAILURE : BT_EXIT_DATABASE;
        goto out;
    }
    printf("%s user %s", add ? "added" : "changed the password of", name);
    if (generated)
        printf(" with the generated password: %s", pw);
    putchar('\n');
out:
    explicit_bzero(pw, strlen(pw));
    free(pw);
    free(hash);
    free(cause);
    return rc;
}

static int do_list(struct store_conn *c)
{
    struct user_row *rows = xcalloc(USERS_MAX, sizeof *rows);
    struct source_map_entry *maps = xcalloc(4096, sizeof *maps);
    char *cause = NULL;
    int n = store_user_list(c, rows, USERS_MAX, &cause), nm = 0, json = config_get_flag("json");
    if (n >= 0)
        nm = store_source_map_load(c, maps, 4096, &cause);
    if (n < 0 || nm < 0) {
        fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        free(rows);
        free(maps);
        return BT_EXIT_DATABASE;
    }
    if (json) {
        struct buf b = {0};
        buf_addc(&b, '[');
        for (int i = 0; i < n; i++) {
            if (i)
                buf_addc(&b, ',');
            store_user_to_json(&rows[i], &b);
        }
        buf_adds(&b, "]\n");
        fputs(buf_cstr(&b), stdout);
        buf_free(&b);
    } else {
        printf("%-20s  %-15s  %-8s  %s\n", "USER", "LAST LOGIN IP", "PASSWORD", "FUMBLETRON");
        for (int i = 0; i < n; i++)
            printf("%-20s  %-15s  %-8s  %-24s%s%s\n", rows[i].username,
                   rows[i].last_ip[0] ? rows[i].last_ip : "-",
                   rows[i].password_hash ? "set" : "none",
                   fumbletron_badge(rows[i].fumbletron_valid), rows[i].fumbletron_token ? "  " : "",
                   rows[i].fumbletron_token ? rows[i].fumbletron_token : "");
        for (int i = 0, first = 1; i < nm; i++) {
            if (!maps[i].explicit_map)
                continue;
            if (first)
                printf("\n%-20s  %s\n", "SOURCE", "USER");
            first = 0;
            printf("%-20s  %s\n", maps[i].cidr, maps[i].user);
        }
    }
    for (int i = 0; i < n; i++)
        store_user_row_free(&rows[i]);
    free(rows);
    free(maps);
    return BT_EXIT_OK;
}

static int do_fumbletron(struct store_conn *c, const char *name, const char *given)
{
    char *token = NULL, *cause = NULL, norm[64];
    int valid, r;
    if (given) {
        valid = fumbletron_valid(given);
        /* Store valid tokens in their canonical form, invalid ones as typed. */
        if (valid && fumbletron_normalize(given, norm, sizeof norm) == 0)
            token = xstrdup(norm);
        else
            token = xstrdup(given);
    } else {
        token = fumbletron_generate();
        valid = fumbletron_valid(token);
    }
    r = store_user_set_fumbletron(c, name, token, valid, &cause);
    if (r <= 0) {
        if (r == 0)
            fprintf(stderr, "beamtel user: no user \"%s\"\n", name);
        else
            fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        free(token);
        return r == 0 ? BT_EXIT_FAILURE : BT_EXIT_DATABASE;
    }
    printf("%s  %s  %s\n", name, token, fumbletron_badge(valid));
    free(token);
    return BT_EXIT_OK;
}

static int do_simple(struct store_conn *c, const char *verb, char **pos)
{
    char *cause = NULL;
    int r;
    if (strcmp(verb, "del") == 0)
        r = store_user_delete(c, pos[1], &cause);
    else if (strcmp(verb, "map") == 0)
        r = store_map_add(c, pos[1], pos[2], &cause) == 0 ? 1 : -1;
    else
        r = store_map_remove(c, pos[1], &cause);
    if (r < 0) {
        fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        return BT_EXIT_DATABASE;
    }
    if (r == 0) {
        fprintf(stderr, "beamtel user: %s \"%s\"\n",
                strcmp(verb, "del") == 0 ? "no user" : "no mapping for", pos[1]);
        return BT_EXIT_FAILURE;
    }
    if (strcmp(verb, "del") == 0)
        printf("deleted user %s and their sessions\n", pos[1]);
    else if (strcmp(verb, "map") == 0)
        printf("telemetry from %s now belongs to %s (serve picks it up within 5 s)\n", pos[2],
               pos[1]);
    else
        printf("removed the mapping of %s\n", pos[1]);
    return BT_EXIT_OK;
}

int cmd_user_main(int argc, char **argv)
{
    static const struct {
        const char *verb;
        int min, max; /* positional arguments after the verb */
    } verbs[] = {{"add", 1, 1}, {"passwd", 1, 1},     {"del", 1, 1},  {"list", 0, 0},
                 {"map", 2, 2}, {"fumbletron", 1, 2}, {"unmap", 1, 1}};
    int npos = 0, rc = BT_EXIT_OK, known = 0;
    char **pos = NULL, *cause = NULL;
    struct store_conn *c = NULL;
    const char *verb;

    if (cli_setup(CMD_USER, argc, argv, &npos, &pos, &rc) < 0)
        return rc;
    verb = npos > 0 ? pos[0] : "list";
    for (size_t i = 0; i < BT_ARRAY_LEN(verbs); i++)
        if (strcmp(verb, verbs[i].verb) == 0)
            known = npos - 1 >= verbs[i].min && npos - 1 <= verbs[i].max;
    if (npos == 0)
        known = 1;
    if (!known) {
        fprintf(stderr, "beamtel user: expected add NAME | passwd NAME | del NAME | list | "
                        "fumbletron NAME [TOKEN] | map NAME CIDR | unmap CIDR\n"
                        "Try 'beamtel user --help'.\n");
        return BT_EXIT_USAGE;
    }
    if (auth_init(&cause) < 0) {
        fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        return BT_EXIT_FAILURE;
    }
    c = store_connect(config_db_dsn(), &cause);
    if (c == NULL) {
        fprintf(stderr, "beamtel user: %s\n", cause);
        free(cause);
        return BT_EXIT_DATABASE;
    }
    if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0)
        rc = set_password(c, pos[1], strcmp(verb, "add") == 0);
    else if (strcmp(verb, "list") == 0)
        rc = do_list(c);
    else if (strcmp(verb, "fumbletron") == 0)
        rc = do_fumbletron(c, pos[1], npos > 2 ? pos[2] : NULL);
    else
        rc = do_simple(c, verb, pos);
    store_disconnect(c);
    return rc;
}
