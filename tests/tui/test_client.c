/* SPDX-License-Identifier: MIT */
/* test_client: the client module's pure parts — server URLs, ISO times, JWT expiry, the token
 * file (mode 0600, atomic replacement, absent / expired / damaged), HTTP error texts — and the
 * WebSocket loop's failure path against a closed port (a clear "connection refused"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_url_parse(void **state)
{
    struct client_url u;
    char *cause = NULL, *c;
    (void)state;

    assert_int_equal(client_url_parse("http://127.0.0.1:8080", &u, &cause), 0);
    assert_int_equal(u.tls, 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.prefix, "");

    assert_int_equal(client_url_parse("HTTPS://Example.COM/beamtel/", &u, &cause), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.host, "example.com");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.prefix, "/beamtel");

    assert_int_equal(client_url_parse("[::1]:9000", &u, &cause), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    c = client_url_canonical(&u);
    assert_string_equal(c, "http://[::1]:9000");
    free(c);

    c = client_url_normalize("localhost:8080/", &cause);
    assert_string_equal(c, "http://localhost:8080");
    free(c);
    c = client_url_normalize("http://h/x?y=1#z", &cause);
    assert_string_equal(c, "http://h:80/x");
    free(c);

    assert_int_equal(client_url_parse("ftp://h", &u, &cause), -1);
    assert_non_null(strstr(cause, "http://"));
    free(cause);
    cause = NULL;
    assert_int_equal(client_url_parse("http://h:99999", &u, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(client_url_parse("http://:80", &u, &cause), -1);
    free(cause);
    cause = NULL;
    assert_int_equal(client_url_parse("", &u, &cause), -1);
    free(cause);
}

static void test_iso_time(void **state)
{
    int64_t us;
    (void)state;
    assert_int_equal(client_parse_iso_time("1970-01-01T00:00:00Z", &us), 0);
    assert_true(us == 0);
    assert_int_equal(client_parse_iso_time("2026-12-03T17:22:08.123Z", &us), 0);
    assert_true(us == 1796318528123000LL);
    assert_int_equal(client_parse_iso_time("2026-12-03T18:22:08.123+01:00", &us), 0);
    assert_true(us == 1796318528123000LL);
    assert_int_equal(client_parse_iso_time("2024-02-29T00:00:00Z", &us), 0);
    assert_true(us == 1709164800000000LL);
    assert_int_equal(client_parse_iso_time("2026-12-03 17:22:08", &us), -1); /* no zone */
    assert_int_equal(client_parse_iso_time("yesterday", &us), -1);
    assert_int_equal(client_parse_iso_time("2026-13-01T00:00:00Z", &us), -1);
}

static void test_jwt_expiry(void **state)
{
    int64_t us;
    (void)state;
    /* {"alg":"HS256"} . {"sub":"local","exp":1796363153} . sig */
    assert_int_equal(client_jwt_expiry("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2NhbCIsImV4cCI6MTc5"
                                       "NjM2MzE1M30.c2ln",
                                       &us),
                     0);
    assert_true(us == 1796363153000000LL);
    assert_int_equal(client_jwt_expiry("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2NhbCJ9.c2ln", &us), -1);
    assert_int_equal(client_jwt_expiry("not-a-jwt", &us), -1);
    assert_int_equal(client_jwt_expiry("a.!!!.b", &us), -1);
}

static char tmpdir_path[256];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir_path, sizeof tmpdir_path, "/tmp/bt-client-test-XXXXXX");
    if (mkdtemp(tmpdir_path) == NULL)
        return -1;
    setenv("XDG_CONFIG_HOME", tmpdir_path, 1);
    return 0;
}

static int teardown_tmp(void **state)
{
    char cmd[512];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir_path);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_token_roundtrip(void **state)
{
    struct client_token t = {0}, r = {0};
    char *path = client_token_path(), *cause = NULL, expect[512];
    struct stat st;
    (void)state;

    snprintf(expect, sizeof expect, "%s/beamtel/token", tmpdir_path);
    assert_string_equal(path, expect);
    assert_int_equal(client_token_load(NULL, &r, &cause), CLIENT_TOKEN_ABSENT);
    assert_null(cause);

    t.server = "http://127.0.0.1:8080";
    t.user = "local";
    t.token = "abc.def.ghi";
    t.expires_us = (time_now_us() / 1000000 + 3600) * 1000000;
    umask(022);
    assert_int_equal(client_token_save(NULL, &t, &cause), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(expect, sizeof expect, "%s/beamtel", tmpdir_path);
    assert_int_equal(stat(expect, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    assert_int_equal(client_token_load(NULL, &r, &cause), CLIENT_TOKEN_VALID);
    assert_string_equal(r.server, t.server);
    assert_string_equal(r.user, "local");
    assert_string_equal(r.token, "abc.def.ghi");
    assert_true(r.expires_us == t.expires_us);
    client_token_free(&r);

    /* Expired: the fields are still there (the user name is reused for the next login). */
    t.expires_us = (time_now_us() / 1000000 - 10) * 1000000;
    assert_int_equal(client_token_save(NULL, &t, &cause), 0);
    assert_int_equal(client_token_load(NULL, &r, &cause), CLIENT_TOKEN_EXPIRED);
    assert_string_equal(r.user, "local");
    client_token_free(&r);

    /* No temporary files are left behind. */
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "test $(ls -A '%s/beamtel' | wc -l) -eq 1", tmpdir_path);
        assert_int_equal(system(cmd), 0);
    }

    assert_int_equal(client_token_remove(NULL, &cause), 0);
    assert_int_equal(client_token_load(NULL, &r, &cause), CLIENT_TOKEN_ABSENT);
    assert_int_equal(client_token_remove(NULL, &cause), 0);
    free(path);
}

static void test_token_damaged(void **state)
{
    struct client_token r = {0};
    char path[512], *cause = NULL;
    FILE *fp;
    (void)state;

    snprintf(path, sizeof path, "%s/damaged", tmpdir_path);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\"server\":\"http://x:1\"", fp); /* cut short */
    fclose(fp);
    assert_int_equal(client_token_load(path, &r, &cause), CLIENT_TOKEN_ERROR);
    assert_non_null(strstr(cause, "beamtel login"));
    free(cause);
    cause = NULL;

    fp = fopen(path, "w");
    fputs("{\"server\":\"http://x:1\",\"user\":\"u\"}", fp); /* no token */
    fclose(fp);
    assert_int_equal(client_token_load(path, &r, &cause), CLIENT_TOKEN_ERROR);
    free(cause);
    cause = NULL;

    /* Without expires_at the JWT's exp claim is used (exp 1796363153 is in 2026). */
    fp = fopen(path, "w");
    fputs("{\"server\":\"http://x:1\",\"user\":\"u\",\"token\":\"eyJhbGciOiJIUzI1NiJ9."
          "eyJzdWIiOiJsb2NhbCIsImV4cCI6MTc5NjM2MzE1M30.c2ln\"}",
          fp);
    fclose(fp);
    assert_in_range(client_token_load(path, &r, &cause), CLIENT_TOKEN_VALID, CLIENT_TOKEN_EXPIRED);
    assert_true(r.expires_us == 1796363153000000LL);
    client_token_free(&r);
}

static void test_http_error_text(void **state)
{
    struct client_http_response r;
    char *t;
    (void)state;
    memset(&r, 0, sizeof r);
    r.status = 401;
    buf_adds(&r.body, "{\"error\":{\"code\":\"invalid_credentials\",\"message\":\"wrong user "
                      "name or password\"}}");
    t = client_http_error_text(&r);
    assert_string_equal(t, "wrong user name or password");
    free(t);
    buf_reset(&r.body);
    buf_adds(&r.body, "<html>oops</html>");
    r.status = 502;
    t = client_http_error_text(&r);
    assert_non_null(strstr(t, "502"));
    free(t);
    client_http_response_free(&r);
}

/* A port on 127.0.0.1 with nothing listening (bound, never listened, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_http_refused(void **state)
{
    struct client_http_request req;
    struct client_http_response resp;
    char url[64], expect[128], *cause = NULL;
    int port = closed_port();
    (void)state;

    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.server = url;
    req.path = "/api/health";
    req.timeout_ms = 3000;
    assert_int_equal(client_http(&req, &resp, &cause), -1);
    snprintf(expect, sizeof expect, "cannot connect to %s: connection refused", url);
    assert_string_equal(cause, expect);
    free(cause);
}

struct ws_probe {
    struct client_ws *ws;
    int states[64], n;
    char reason[256];
    int timer_fired;
    int stop_on_error;
    int errors, waits, last_attempt;
    int64_t retry_us[64];
};

static void probe_state(const struct client_ws_event *ev, void *arg)
{
    struct ws_probe *p = arg;
    if (p->n < 64)
        p->states[p->n++] = ev->state;
    if (ev->state == CLIENT_WS_WAITING && p->waits < 64)
        p->retry_us[p->waits++] = ev->retry_in_us;
    if (ev->state == CLIENT_WS_ERROR) {
        p->errors++;
        p->last_attempt = ev->attempt;
        snprintf(p->reason, sizeof p->reason, "%s", ev->reason);
        if (p->stop_on_error)
            client_ws_stop(p->ws);
    }
}

static void probe_timer(int id, void *arg)
{
    struct ws_probe *p = arg;
    p->timer_fired = id;
    client_ws_stop(p->ws);
}

static void test_ws_refused(void **state)
{
    struct ws_probe p;
    struct client_ws_ops ops = {probe_state, NULL, NULL, NULL, probe_timer};
    struct client_ws_opts o;
    char url[64], expect[128], *cause = NULL;
    (void)state;

    memset(&p, 0, sizeof p);
    p.stop_on_error = 1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    memset(&o, 0, sizeof o);
    o.server = url;
    o.token = "t";
    o.input_fd = -1;
    p.ws = client_ws_new(&o, &ops, &p, &cause);
    assert_non_null(p.ws);
    client_ws_run(p.ws);
    client_ws_free(p.ws);
    assert_true(p.n >= 2);
    assert_int_equal(p.states[0], CLIENT_WS_CONNECTING);
    assert_int_equal(p.states[p.n - 1], CLIENT_WS_ERROR);
    snprintf(expect, sizeof expect, "cannot connect to %s: connection refused", url);
    assert_string_equal(p.reason, expect);
}

/* With reconnect on, failures are retried with a doubling delay (±20 % jitter), capped; a
 * caller's timer still fires in between and may stop the loop. */
static void test_ws_backoff(void **state)
{
    struct ws_probe p;
    struct client_ws_ops ops = {probe_state, NULL, NULL, NULL, probe_timer};
    struct client_ws_opts o;
    char url[64], *cause = NULL;
    int64_t t0;
    (void)state;

    memset(&p, 0, sizeof p);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    memset(&o, 0, sizeof o);
    o.server = url;
    o.token = "t";
    o.input_fd = -1;
    o.reconnect = 1;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 80;
    p.ws = client_ws_new(&o, &ops, &p, &cause);
    assert_non_null(p.ws);
    client_ws_timer(p.ws, 3, 600000);
    t0 = time_mono_us();
    client_ws_run(p.ws);
    client_ws_free(p.ws);
    assert_int_equal(p.timer_fired, 3);
    assert_true(time_mono_us() - t0 >= 590000);
    assert_true(p.errors >= 5);
    assert_int_equal(p.last_attempt, p.errors);
    assert_true(p.waits >= 4);
    assert_in_range(p.retry_us[0], 16000, 24000); /* 20 ms ± 20 % */
    assert_in_range(p.retry_us[1], 32000, 48000); /* 40 ms */
    assert_in_range(p.retry_us[3], 64000, 96000); /* capped at 80 ms */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_iso_time),
        cmocka_unit_test(test_jwt_expiry),
        cmocka_unit_test_setup_teardown(test_token_roundtrip, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(test_token_damaged, setup_tmp, teardown_tmp),
        cmocka_unit_test(test_http_error_text),
        cmocka_unit_test(test_http_refused),
        cmocka_unit_test(test_ws_refused),
        cmocka_unit_test(test_ws_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
