/* SPDX-License-Identifier: MIT */
/* login: the password prompt (from /dev/tty, echo off, the terminal restored on every path) and
 * POST /api/auth/login.  Passwords are wiped from memory after use and never logged. */
#include "client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_MAX 1024

/* The terminal state to put back if a signal interrupts the prompt. */
static int prompt_fd = -1;
static struct termios prompt_saved;

static void prompt_on_signal(int sig)
{
    /* tcsetattr, write, signal and raise are async-signal-safe. */
    if (prompt_fd >= 0) {
        tcsetattr(prompt_fd, TCSAFLUSH, &prompt_saved);
        (void)!write(prompt_fd, "\n", 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

char *client_read_password(const char *prompt, char **cause)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
    struct sigaction sa, old[BT_ARRAY_LEN(sigs)];
    struct termios t;
    char *pw = NULL;
    size_t n = 0;
    int fd, echo_off = 0;

    fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *cause = xstrdup("no terminal to ask for the password on: use --password-file");
        return NULL;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prompt_on_signal;
    sigemptyset(&sa.sa_mask);
    if (tcgetattr(fd, &prompt_saved) == 0) {
        prompt_fd = fd;
        for (size_t i = 0; i < BT_ARRAY_LEN(sigs); i++)
            sigaction(sigs[i], &sa, &old[i]);
        t = prompt_saved;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
        t.c_lflag |= ICANON;
        echo_off = tcsetattr(fd, TCSAFLUSH, &t) == 0;
    }
    (void)!write(fd, prompt, strlen(prompt));

    pw = xmalloc(PASSWORD_MAX + 1);
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n' || c == '\r')
            break;
        if (n < PASSWORD_MAX)
            pw[n++] = c;
    }
    pw[n] = '\0';

    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &prompt_saved);
    (void)!write(fd, "\n", 1);
    if (prompt_fd >= 0) {
        for (size_t i = 0; i < BT_ARRAY_LEN(sigs); i++)
            sigaction(sigs[i], &old[i], NULL);
        prompt_fd = -1;
    }
    close(fd);
    if (n == 0) {
        free(pw);
        *cause = xstrdup("no password given");
        return NULL;
    }
    return pw;
}

/* Builds {"username":…,"password":…}; the caller wipes and frees it. */
static char *login_body(const char *user, const char *password)
{
    struct buf b = {0};
    buf_adds(&b, "{\"username\":");
    buf_add_json_str(&b, user, strlen(user));
    buf_adds(&b, ",\"password\":");
    buf_add_json_str(&b, password, strlen(password));
    buf_addc(&b, '}');
    return (char *)buf_cstr(&b);
}

static int parse_login_answer(const struct client_http_response *resp, const char *server,
                              struct client_token *t, char **cause)
{
    cJSON *root = cJSON_ParseWithLength(resp->body.data, resp->body.len);
    cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "token");
    cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_at");
    cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user");
    cJSON *name = cJSON_GetObjectItemCaseSensitive(user, "username");
    int rc = -1;

    if (!cJSON_IsString(tok) || tok->valuestring[0] == '\0') {
        *cause = xstrdup("the server's login answer has no token");
        goto out;
    }
    t->server = xstrdup(server);
    t->token = xstrdup(tok->valuestring);
    t->user = cJSON_IsString(name) ? xstrdup(name->valuestring) : NULL;
    if (!cJSON_IsString(exp) || client_parse_iso_time(exp->valuestring, &t->expires_us) < 0)
        if (client_jwt_expiry(t->token, &t->expires_us) < 0)
            t->expires_us = 0;
    explicit_bzero(tok->valuestring, strlen(tok->valuestring));
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int client_login(const char *server, const char *user, const char *password, struct client_token *t,
                 char **cause)
{
    struct client_http_request req;
    struct client_http_response resp;
    char *canon, *body;
    int rc;

    memset(t, 0, sizeof *t);
    canon = client_url_normalize(server, cause);
    if (canon == NULL)
        return CLIENT_LOGIN_FAILED;
    body = login_body(user, password);
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.server = canon;
    req.path = "/api/auth/login";
    req.body = body;
    req.timeout_ms = 30000; /* argon2id verification queues behind other logins */
    rc = client_http(&req, &resp, cause);
    explicit_bzero(body, strlen(body));
    free(body);
    if (rc < 0) {
        free(canon);
        return CLIENT_LOGIN_UNAVAILABLE;
    }
    if (resp.status == 200) {
        rc =
            parse_login_answer(&resp, canon, t, cause) == 0 ? CLIENT_LOGIN_OK : CLIENT_LOGIN_FAILED;
        if (rc == CLIENT_LOGIN_OK && t->user == NULL)
            t->user = xstrdup(user);
    } else if (resp.status == 401) {
        *cause = xstrdup("wrong user name or password");
        rc = CLIENT_LOGIN_DENIED;
    } else if (resp.status == 429) {
        *cause = resp.retry_after_s >= 0
                     ? xasprintf("too many failed logins: try again in %d s", resp.retry_after_s)
                     : xstrdup("too many failed logins: try again in a minute");
        rc = CLIENT_LOGIN_RATE_LIMITED;
    } else {
        char *why = client_http_error_text(&resp);
        *cause = xasprintf("login failed: %s", why);
        free(why);
        rc = resp.status >= 502 && resp.status <= 504 ? CLIENT_LOGIN_UNAVAILABLE
                                                      : CLIENT_LOGIN_FAILED;
    }
    if (resp.body.data)
        explicit_bzero(resp.body.data, resp.body.len);
    client_http_response_free(&resp);
    free(canon);
    return rc;
}
