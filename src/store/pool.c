/* SPDX-License-Identifier: MIT */
/* pool: PostgreSQL connections for the HTTP request threads, one per request at a time, kept
 * idle between requests so that a request does not pay for a connect. */
#include "store_internal.h"

#include <pthread.h>
#include <stdlib.h>

struct store_pool {
    pthread_mutex_t mu;
    char *dsn;
    struct store_conn *idle;
    int nidle, max_idle;
};

struct store_pool *store_pool_new(const char *dsn, int max_idle)
{
    struct store_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->dsn = xstrdup(dsn ? dsn : "");
    p->max_idle = max_idle > 0 ? max_idle : 4;
    return p;
}

void store_pool_free(struct store_pool *p)
{
    if (p == NULL)
        return;
    while (p->idle) {
        struct store_conn *c = p->idle;
        p->idle = c->next;
        store_disconnect(c);
    }
    pthread_mutex_destroy(&p->mu);
    free(p->dsn);
    free(p);
}

int store_conn_ok(struct store_conn *c)
{
    return c && PQstatus(c->conn) == CONNECTION_OK && PQtransactionStatus(c->conn) == PQTRANS_IDLE;
}

struct store_conn *store_pool_get(struct store_pool *p, char **cause)
{
    struct store_conn *c;
    pthread_mutex_lock(&p->mu);
    c = p->idle;
    if (c) {
        p->idle = c->next;
        p->nidle--;
    }
    pthread_mutex_unlock(&p->mu);
    if (c && store_conn_ok(c))
        return c;
    store_disconnect(c);
    return store_connect(p->dsn, cause);
}

void store_pool_put(struct store_pool *p, struct store_conn *c)
{
    if (c == NULL)
        return;
    if (!store_conn_ok(c)) {
        store_disconnect(c);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (p->nidle < p->max_idle) {
        c->next = p->idle;
        p->idle = c;
        p->nidle++;
        c = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    store_disconnect(c);
}

int store_ping(struct store_conn *c)
{
    PGresult *res = PQexec(c->conn, "SELECT 1");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}
