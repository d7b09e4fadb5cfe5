/* SPDX-License-Identifier: MIT */
/* http: one HTTP/1.1 request through the libwebsockets client, run to completion on a private
 * lws context (created and destroyed per call: the CLI makes a handful of requests, and a
 * context of its own keeps this usable before or after a client_ws loop, never inside one). */
#include "client.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 15000
#define DEFAULT_MAX_BODY ((size_t)64 << 20)

/* One request in flight; lives on client_http()'s stack. */
struct http_call {
    const struct client_http_request *req;
    struct client_http_response *resp;
    struct client_url url;
    size_t max_body;
    char *body_buf; /* LWS_PRE + body, for lws_write() */
    size_t body_len;
    int done;       /* the loop may stop */
    int got_status; /* headers of an answer arrived */
    int complete;   /* the whole body arrived */
    char *error;    /* lws' connection error text, if any */
    int too_big;
    int timed_out;
    lws_sorted_usec_list_t deadline;
    struct lws_context *ctx;
};

static int add_headers(struct lws *wsi, struct http_call *hc, unsigned char **p, unsigned char *end)
{
    char tmp[64];
    if (hc->req->token) {
        char *v = xasprintf("Bearer %s", hc->req->token);
        int rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)v,
                                              (int)strlen(v), p, end);
        explicit_bzero(v, strlen(v));
        free(v);
        if (rc)
            return -1;
    }
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ACCEPT,
                                     (const unsigned char *)"application/json", 16, p, end))
        return -1;
    if (hc->req->body == NULL)
        return 0;
    snprintf(tmp, sizeof tmp, "%zu", hc->body_len);
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)"application/json", 16, p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *)tmp,
                                     (int)strlen(tmp), p, end))
        return -1;
    lws_client_http_body_pending(wsi, 1);
    lws_callback_on_writable(wsi);
    return 0;
}

static void finish(struct http_call *hc)
{
    hc->done = 1;
    lws_cancel_service(hc->ctx);
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct http_call *hc = lws_get_opaque_user_data(wsi);
    char rbuf[LWS_PRE + 4096];

    if (hc == NULL)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        free(hc->error);
        hc->error = xstrdup(in && len ? (const char *)in : "connection failed");
        finish(hc);
        return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return add_headers(wsi, hc, (unsigned char **)in, *(unsigned char **)in + len);
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        if (!lws_http_is_redirected_to_get(wsi) && hc->body_buf) {
            lws_client_http_body_pending(wsi, 0);
            if (lws_write(wsi, (unsigned char *)hc->body_buf + LWS_PRE, hc->body_len,
                          LWS_WRITE_HTTP_FINAL) != (int)hc->body_len)
                return -1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
        char ra[32];
        hc->got_status = 1;
        hc->resp->status = (int)lws_http_client_http_response(wsi);
        if (lws_hdr_copy(wsi, ra, sizeof ra, WSI_TOKEN_HTTP_RETRY_AFTER) > 0) {
            long v;
            if (parse_long(ra, &v) == 0 && v >= 0 && v < 86400 * 7)
                hc->resp->retry_after_s = (int)v;
        }
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char *px = rbuf + LWS_PRE;
        int lenx = (int)sizeof rbuf - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (hc->resp->body.len + len > hc->max_body) {
            hc->too_big = 1;
            finish(hc);
            return -1;
        }
        buf_add(&hc->resp->body, in, len);
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        hc->complete = 1;
        finish(hc);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        finish(hc);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols http_protocols[] = {
    {"beamtel-http", http_cb, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_deadline(lws_sorted_usec_list_t *sul)
{
    struct http_call *hc = lws_container_of(sul, struct http_call, deadline);
    hc->timed_out = 1;
    finish(hc);
}

/* The human-readable reason a request got no answer. */
static char *failure_text(struct http_call *hc)
{
    char *url = client_url_canonical(&hc->url), *why, *out;
    int timeout_ms = hc->req->timeout_ms > 0 ? hc->req->timeout_ms : DEFAULT_TIMEOUT_MS;

    if (hc->too_big)
        why = xasprintf("the answer is larger than %zu bytes", hc->max_body);
    else if (hc->timed_out && hc->got_status)
        why = xasprintf("the answer did not complete within %d s", (timeout_ms + 999) / 1000);
    else if (hc->timed_out)
        why = xasprintf("no answer within %d s", (timeout_ms + 999) / 1000);
    else if (hc->got_status)
        why = xstrdup("the connection closed before the answer was complete");
    else
        why = client_url_diagnose(&hc->url, hc->error, 2000);
    out = xasprintf("cannot connect to %s: %s", url, why);
    free(url);
    free(why);
    return out;
}

int client_http(const struct client_http_request *req, struct client_http_response *resp,
                char **cause)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    struct http_call hc;
    char *path = NULL, *host = NULL;
    int rc = -1, timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;

    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    memset(&hc, 0, sizeof hc);
    hc.req = req;
    hc.resp = resp;
    hc.max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
    if (client_url_parse(req->server, &hc.url, cause) < 0)
        return -1;
    if (req->body) {
        hc.body_len = strlen(req->body);
        hc.body_buf = xmalloc(LWS_PRE + hc.body_len + 1);
        memcpy(hc.body_buf + LWS_PRE, req->body, hc.body_len + 1);
    }

    client_lws_log_setup();
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = http_protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.timeout_secs = (unsigned)(timeout_ms + 999) / 1000;
    info.connect_timeout_secs = info.timeout_secs;
    info.gid = -1;
    info.uid = -1;
    hc.ctx = lws_create_context(&info);
    if (hc.ctx == NULL) {
        *cause = xstrdup("cannot create the libwebsockets context");
        goto out;
    }

    path = xasprintf("%s%s", hc.url.prefix, req->path);
    host =
        (hc.url.port == (hc.url.tls ? 443 : 80))
            ? xstrdup(hc.url.host)
            : xasprintf(strchr(hc.url.host, ':') ? "[%s]:%d" : "%s:%d", hc.url.host, hc.url.port);
    memset(&ci, 0, sizeof ci);
    ci.context = hc.ctx;
    ci.address = hc.url.host;
    ci.port = hc.url.port;
    ci.ssl_connection = hc.url.tls ? LCCSCF_USE_SSL : 0;
    ci.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.method = req->method;
    ci.protocol = http_protocols[0].name;
    ci.local_protocol_name = http_protocols[0].name;
    ci.alpn = "http/1.1";
    ci.opaque_user_data = &hc;

    lws_sul_schedule(hc.ctx, 0, &hc.deadline, on_deadline, (lws_usec_t)timeout_ms * 1000);
    if (lws_client_connect_via_info(&ci) == NULL && !hc.done) {
        hc.error = xstrdup("connection failed");
        hc.done = 1;
    }
    while (!hc.done)
        if (lws_service(hc.ctx, 0) < 0)
            break;
    lws_sul_cancel(&hc.deadline);

    if (hc.complete || (hc.got_status && !hc.timed_out && !hc.too_big && hc.done &&
                        hc.error == NULL && resp->status >= 100)) {
        buf_cstr(&resp->body);
        rc = 0;
    } else {
        *cause = failure_text(&hc);
    }
out:
    if (hc.ctx)
        lws_context_destroy(hc.ctx);
    if (hc.body_buf) {
        explicit_bzero(hc.body_buf, LWS_PRE + hc.body_len);
        free(hc.body_buf);
    }
    free(hc.error);
    free(path);
    free(host);
    if (rc < 0)
        client_http_response_free(resp);
    return rc;
}

void client_http_response_free(struct client_http_response *resp)
{
    buf_free(&resp->body);
    resp->status = 0;
}

char *client_http_error_text(const struct client_http_response *resp)
{
    cJSON *root = NULL, *err, *msg;
    char *out = NULL;

    if (resp->body.len > 0)
        root = cJSON_ParseWithLength(resp->body.data, resp->body.len);
    err = cJSON_GetObjectItemCaseSensitive(root, "error");
    msg = cJSON_GetObjectItemCaseSensitive(err, "message");
    if (cJSON_IsString(msg) && msg->valuestring[0] != '\0')
        out = xstrdup(msg->valuestring);
    cJSON_Delete(root);
    if (out)
        return out;
    switch (resp->status) {
    case 400:
        return xstrdup("bad request (HTTP 400)");
    case 401:
        return xstrdup("unauthorized (HTTP 401)");
    case 403:
        return xstrdup("forbidden (HTTP 403)");
    case 404:
        return xstrdup("not found (HTTP 404)");
    case 429:
        return xstrdup("too many requests (HTTP 429)");
    case 500:
        return xstrdup("server error (HTTP 500)");
    case 502:
    case 503:
    case 504:
        return xasprintf("the server is unavailable (HTTP %d)", resp->status);
    default:
        return xasprintf("unexpected answer (HTTP %d)", resp->status);
    }
}
