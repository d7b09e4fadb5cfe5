/* SPDX-License-Identifier: MIT */
/* files: the web app's static files from --web-root, with the single-page-app fallback to
 * index.html, MIME types, long caching for hashed assets, and no way out of the root. */
#include "http_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".wasm", "application/wasm"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot == NULL || (slash && dot < slash))
        return "application/octet-stream";
    for (size_t i = 0; i < BT_ARRAY_LEN(mime_types); i++)
        if (strcasecmp(dot, mime_types[i].ext) == 0)
            return mime_types[i].type;
    return "application/octet-stream";
}

/* Rejects anything that could step outside the root once MHD has decoded %xx: "." or ".."
 * components, backslashes, control bytes. */
static int path_safe(const char *url)
{
    const char *p = url;
    if (*p != '/')
        return 0;
    while (*p) {
        const char *seg = ++p, *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == '\\' || seg[i] == 0x7f)
                return 0;
        p = seg + len;
    }
    return 1;
}

/* Opens root/rel for reading if it is a regular file inside the root; -1 otherwise. */
static int open_inside(struct http *h, const char *rel, struct stat *st)
{
    char joined[PATH_MAX], real[PATH_MAX];
    size_t rootlen = strlen(h->web_root);
    int fd;
    if (snprintf(joined, sizeof joined, "%s/%s", h->web_root, rel) >= (int)sizeof joined)
        return -1;
    /* realpath resolves symlinks: the result must still be under the root. */
    if (realpath(joined, real) == NULL)
        return -1;
    if (strncmp(real, h->web_root, rootlen) != 0 || (real[rootlen] != '/' && real[rootlen]))
        return -1;
    fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

static enum MHD_Result send_file(struct MHD_Connection *conn, int fd, const struct stat *st,
                                 const char *path, int immutable)
{
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st->st_size, fd);
    enum MHD_Result ret;
    if (r == NULL) {
        close(fd);
        return http_error(conn, 500, "internal", "cannot read the file");
    }
    MHD_add_response_header(r, "Content-Type", mime_of(path));
    MHD_add_response_header(r, "Cache-Control",
                            immutable ? "public, max-age=31536000, immutable" : "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result http_files_serve(struct http *h, struct MHD_Connection *conn, const char *url,
                                 const char *method)
{
    struct stat st;
    const char *rel, *last;
    int fd;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return http_error(conn, 405, "method_not_allowed", "only GET and HEAD serve files");
    if (!path_safe(url))
        return http_error(conn, 400, "bad_path", "the path is not allowed");
    if (h->web_root == NULL)
        return http_error(conn, 404, "not_found",
                          "no web app here: start serve with --web-root DIR (web/dist)");
    rel = url + 1;
    if (*rel == '\0')
        rel = "index.html";
    fd = open_inside(h, rel, &st);
    if (fd >= 0)
        return send_file(conn, fd, &st, rel, strncmp(rel, "assets/", 7) == 0);
    /* Client-side routes (/sessions/12) get the app; missing files (/x.js) a 404. */
    last = strrchr(url, '/');
    if (strchr(last, '.') == NULL) {
        fd = open_inside(h, "index.html", &st);
        if (fd >= 0)
            return send_file(conn, fd, &st, "index.html", 0);
    }
    return http_error(conn, 404, "not_found", "no such file");
}
