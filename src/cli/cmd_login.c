/* SPDX-License-Identifier: MIT */
/* login: asks for the password (or reads --password-file), logs in to a serve and stores the
 * token for tui, stream and sessions --server.  Also the lookup of the stored login that those
 * commands share.  It never prints or logs a password or a token. */
#include "cli.h"

#include "client/client.h"
#include "common/common.h"
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define DEFAULT_USER "local"

int cli_login_lookup(struct client_token *t, char **server, char **cause)
{
    const char *opt = config_get_str("server");
    char *canon = NULL;
    int st;

    *server = NULL;
    if (opt && *opt) {
        canon = client_url_normalize(opt, cause);
        if (canon == NULL)
            return CLIENT_TOKEN_ERROR;
    }
    st = client_token_load(NULL, t, cause);
    if (st == CLIENT_TOKEN_ERROR) {
        free(canon);
        return st;
    }
    if (canon && (st == CLIENT_TOKEN_VALID || st == CLIENT_TOKEN_EXPIRED) &&
        strcmp(canon, t->server) != 0) {
        /* The stored login belongs to another server: for this one there is none. */
        client_token_free(t);
        st = CLIENT_TOKEN_ABSENT;
    }
    if (canon == NULL)
        canon = xstrdup(st == CLIENT_TOKEN_ABSENT ? DEFAULT_SERVER : t->server);
    *server = canon;
    return st;
}

/* "2026-12-04 05:22 CET" in local time. */
static void format_local(int64_t us, char *out, size_t len)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    if (us <= 0 || localtime_r(&s, &tm) == NULL ||
        strftime(out, len, "%Y-%m-%d %H:%M %Z", &tm) == 0)
        snprintf(out, len, "an unknown time");
}

/* Maps a client_login() result to the exit code of beamtel(1). */
static int login_exit_code(int result)
{
    switch (result) {
    case CLIENT_LOGIN_OK:
        return BT_EXIT_OK;
    case CLIENT_LOGIN_DENIED:
    case CLIENT_LOGIN_RATE_LIMITED:
        return BT_EXIT_AUTH;
    case CLIENT_LOGIN_UNAVAILABLE:
        return BT_EXIT_UNAVAILABLE;
    default:
        return BT_EXIT_FAILURE;
    }
}

int cli_login_with(const char *cmd, const char *server, const char *user, const char *password,
                   struct client_token *t)
{
    char *cause = NULL, when[64];
    int res = client_login(server, user, password, t, &cause);

    if (res != CLIENT_LOGIN_OK) {
        fprintf(stderr, "beamtel %s: %s\n", cmd, cause);
        free(cause);
        return login_exit_code(res);
    }
    if (client_token_save(NULL, t, &cause) < 0) {
        fprintf(stderr, "beamtel %s: logged in, but %s\n", cmd, cause);
        free(cause);
        return BT_EXIT_FAILURE;
    }
    format_local(t->expires_us, when, sizeof when);
    printf("logged in as %s until %s\n", t->user, when);
    fflush(stdout);
    return BT_EXIT_OK;
}

int cli_login_prompt(const char *cmd, const char *server, const char *user, struct client_token *t)
{
    char *prompt = xasprintf("Password for %s at %s: ", user, server), *cause = NULL, *pw;
    int rc;

    pw = client_read_password(prompt, &cause);
    free(prompt);
    if (pw == NULL) {
        fprintf(stderr, "beamtel %s: %s\n", cmd, cause);
        free(cause);
        return BT_EXIT_AUTH;
    }
    rc = cli_login_with(cmd, server, user, pw, t);
    explicit_bzero(pw, strlen(pw));
    free(pw);
    return rc;
}

/* The password of --password-file ("-": standard input), one line. */
static char *read_password_file(const char *path, char **cause)
{
    size_t len;
    char *pw = file_read_all(strcmp(path, "-") == 0 ? "/dev/stdin" : path, 4096, &len, cause);
    if (pw != NULL && len == 0) {
        free(pw);
        *cause = xasprintf("%s is empty", path);
        return NULL;
    }
    return pw;
}

int cmd_login_main(int argc, char **argv)
{
    struct client_token stored = {0}, t = {0};
    char **pos, *server = NULL, *cause = NULL, *user = NULL, *pw = NULL;
    const char *pwfile;
    int npos, rc, st;

    if (cli_setup(CMD_LOGIN, argc, argv, &npos, &pos, &rc) < 0)
        return rc;
    if (npos > 0) {
        fprintf(stderr, "beamtel login: unexpected argument \"%s\"\nTry 'beamtel login --help'.\n",
                pos[0]);
        return BT_EXIT_USAGE;
    }
    st = cli_login_lookup(&stored, &server, &cause);
    if (st == CLIENT_TOKEN_ERROR && server == NULL) {
        fprintf(stderr, "beamtel login: %s\n", cause);
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (st == CLIENT_TOKEN_ERROR) { /* a damaged token file is replaced by this login */
        log_warn("%s", cause);
        free(cause);
        cause = NULL;
    }
    if (config_get_str("user") && *config_get_str("user"))
        user = xstrdup(config_get_str("user"));
    else
        user = xstrdup(stored.user ? stored.user : DEFAULT_USER);

    pwfile = config_get_str("password-file");
    if (pwfile && *pwfile) {
        pw = read_password_file(pwfile, &cause);
        if (pw == NULL) {
            fprintf(stderr, "beamtel login: %s\n", cause);
            rc = BT_EXIT_INPUT;
            goto out;
        }
        rc = cli_login_with("login", server, user, pw, &t);
    } else {
        rc = cli_login_prompt("login", server, user, &t);
    }
out:
    if (pw) {
        explicit_bzero(pw, strlen(pw));
        free(pw);
    }
    client_token_free(&stored);
    client_token_free(&t);
    free(cause);
    free(server);
    free(user);
    return rc;
}
