/* SPDX-License-Identifier: MIT */
/* users: the users table, explicit source mappings (ingest_sources) and the §3.6 lookup table
 * that serve keeps in memory for the ingest thread. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_COLUMNS                                                                               \
    "id, username, password_hash, coalesce(host(last_ip), ''), fumbletron_token, "                 \
    "fumbletron_valid, (extract(epoch FROM created_at) * 1000000)::bigint"

void store_user_row_free(struct user_row *u)
{
    free(u->password_hash);
    free(u->fumbletron_token);
    u->password_hash = u->fumbletron_token = NULL;
}

static void user_from(PGresult *res, int i, struct user_row *u)
{
    memset(u, 0, sizeof *u);
    u->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    snprintf(u->username, sizeof u->username, "%s", PQgetvalue(res, i, 1));
    u->password_hash = PQgetisnull(res, i, 2) ? NULL : xstrdup(PQgetvalue(res, i, 2));
    snprintf(u->last_ip, sizeof u->last_ip, "%s", PQgetvalue(res, i, 3));
    u->fumbletron_token = PQgetisnull(res, i, 4) ? NULL : xstrdup(PQgetvalue(res, i, 4));
    u->fumbletron_valid = PQgetvalue(res, i, 5)[0] == 't';
    u->created_us = strtoll(PQgetvalue(res, i, 6), NULL, 10);
}

int store_user_get(struct store_conn *c, const char *name, struct user_row *u, char **cause)
{
    const char *params[1] = {name};
    PGresult *res =
        pg_query(c->conn, PGRES_TUPLES_OK, "cannot read the user",
                 "SELECT " USER_COLUMNS " FROM users WHERE username = $1", 1, params, cause);
    int n;
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    if (n == 1)
        user_from(res, 0, u);
    PQclear(res);
    return n == 1;
}

int store_user_list(struct store_conn *c, struct user_row *rows, int max, char **cause)
{
    PGresult *res =
        pg_query(c->conn, PGRES_TUPLES_OK, "cannot list users",
                 "SELECT " USER_COLUMNS " FROM users ORDER BY username", 0, NULL, cause);
    int n;
    if (res == NULL)
        return -1;
    n = PQntuples(res) < max ? PQntuples(res) : max;
    for (int i = 0; i < n; i++)
        user_from(res, i, &rows[i]);
    PQclear(res);
    return n;
}

/* Runs an UPDATE/DELETE and returns the rows it touched (0/1), or -1 with *cause. */
static int exec_count(struct store_conn *c, const char *what, const char *sql, int n,
                      const char *const *params, char **cause)
{
    PGresult *res = pg_query(c->conn, PGRES_COMMAND_OK, what, sql, n, params, cause);
    int rows;
    if (res == NULL)
        return -1;
    rows = atoi(PQcmdTuples(res));
    PQclear(res);
    return rows;
}

int store_user_add(struct store_conn *c, const char *name, const char *hash, char **cause)
{
    const char *params[2] = {name, hash};
    int r = exec_count(c, "cannot add the user",
                       "INSERT INTO users (username, password_hash) VALUES ($1, $2) "
                       "ON CONFLICT (username) DO NOTHING",
                       2, params, cause);
    if (r == 0) {
        *cause = xasprintf("user \"%s\" already exists", name);
        return -1;
    }
    return r < 0 ? -1 : 0;
}

int store_user_set_password(struct store_conn *c, const char *name, const char *hash, char **cause)
{
    const char *params[2] = {name, hash};
    return exec_count(c, "cannot set the password",
                      "UPDATE users SET password_hash = $2 WHERE username = $1", 2, params, cause);
}

int store_user_set_fumbletron(struct store_conn *c, const char *name, const char *token, int valid,
                              char **cause)
{
    const char *params[3] = {name, token, valid ? "t" : "f"};
    return exec_count(c, "cannot set the Fumbletron token",
                      "UPDATE users SET fumbletron_token = $2, fumbletron_valid = $3 "
                      "WHERE username = $1",
                      3, params, cause);
}

int store_user_set_last_ip(struct store_conn *c, const char *name, const char *ip, char **cause)
{
    const char *params[2] = {name, ip};
    return exec_count(c, "cannot record the login address",
                      "UPDATE users SET last_ip = $2::inet WHERE username = $1", 2, params, cause);
}

int store_user_delete(struct store_conn *c, const char *name, char **cause)
{
    const char *params[1] = {name};
    return exec_count(c, "cannot delete the user", "DELETE FROM users WHERE username = $1", 1,
                      params, cause);
}

int store_map_add(struct store_conn *c, const char *user, const char *cidr, char **cause)
{
    const char *params[2] = {user, cidr};
    int r = exec_count(c, "cannot map the source",
                       "INSERT INTO ingest_sources (cidr, user_id) SELECT $2::cidr, id FROM users "
                       "WHERE username = $1 ON CONFLICT (cidr) DO UPDATE SET user_id = "
                       "EXCLUDED.user_id",
                       2, params, cause);
    if (r == 0) {
        *cause = xasprintf("no user \"%s\"", user);
        return -1;
    }
    return r < 0 ? -1 : 0;
}

int store_map_remove(struct store_conn *c, const char *cidr, char **cause)
{
    const char *params[1] = {cidr};
    return exec_count(c, "cannot remove the mapping",
                      "DELETE FROM ingest_sources WHERE cidr = $1::cidr", 1, params, cause);
}

int store_source_map_load(struct store_conn *c, struct source_map_entry *out, int max, char **cause)
{
    PGresult *res = pg_query(
        c->conn, PGRES_TUPLES_OK, "cannot read the source mappings",
        "SELECT text(m.cidr), u.username, 1, masklen(m.cidr) FROM ingest_sources m "
        "JOIN users u ON u.id = m.user_id "
        "UNION ALL SELECT text(set_masklen(u.last_ip, CASE WHEN family(u.last_ip) = 4 THEN 32 "
        "ELSE 128 END)), u.username, 0, 0 FROM users u WHERE u.last_ip IS NOT NULL "
        "ORDER BY 3 DESC, 4 DESC",
        0, NULL, cause);
    int n;
    if (res == NULL)
        return -1;
    n = PQntuples(res) < max ? PQntuples(res) : max;
    for (int i = 0; i < n; i++) {
        snprintf(out[i].cidr, sizeof out[i].cidr, "%s", PQgetvalue(res, i, 0));
        snprintf(out[i].user, sizeof out[i].user, "%s", PQgetvalue(res, i, 1));
        out[i].explicit_map = atoi(PQgetvalue(res, i, 2));
    }
    PQclear(res);
    return n;
}

/* Fumbletron badge text; the same strings as auth's fumbletron_badge (store must not depend on
 * auth). */
static const char *badge(int valid)
{
    return valid ? "Fumbletron-3156: VALID" : "Fumbletron-3156: INVALID";
}

void store_user_to_json(const struct user_row *u, struct buf *b)
{
    char created[40];
    time_format_iso(u->created_us, created, sizeof created);
    buf_addf(b, "{\"id\":%lld,\"username\":", (long long)u->id);
    buf_add_json_str(b, u->username, strlen(u->username));
    buf_adds(b, ",\"last_ip\":");
    if (u->last_ip[0])
        buf_add_json_str(b, u->last_ip, strlen(u->last_ip));
    else
        buf_adds(b, "null");
    buf_addf(b, ",\"created_at\":\"%s\",\"fumbletron\":{\"token\":", created);
    if (u->fumbletron_token)
        buf_add_json_str(b, u->fumbletron_token, strlen(u->fumbletron_token));
    else
        buf_adds(b, "null");
    buf_addf(b, ",\"valid\":%s,\"badge\":\"%s\"}}", u->fumbletron_valid ? "true" : "false",
             badge(u->fumbletron_valid));
}
