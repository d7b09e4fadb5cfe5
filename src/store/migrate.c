/* SPDX-License-Identifier: MIT */
/* migrate: applies the schema embedded from schema.sql and reports the database's state. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>

int store_migrate(const char *dsn, char **cause)
{
    PGconn *conn = pg_connect(dsn, cause);
    int rc;
    if (conn == NULL)
        return -1;
    /* One transaction: a half-applied schema never stays behind.  The advisory lock keeps two
     * instances starting together from racing on CREATE. */
    rc = pg_exec(conn, "BEGIN; SELECT pg_advisory_xact_lock(3156)", cause);
    if (rc == 0)
        rc = pg_exec(conn, store_schema_sql, cause);
    if (rc == 0)
        rc = pg_exec(conn, "COMMIT", cause);
    PQfinish(conn);
    return rc;
}

int store_status(const char *dsn, char **cause)
{
    PGconn *conn = pg_connect(dsn, cause);
    PGresult *res;
    if (conn == NULL)
        return -1;
    res = PQexec(conn, "SELECT (SELECT max(version) FROM schema_version), "
                       "(SELECT count(*) FROM users), (SELECT count(*) FROM sessions), "
                       "(SELECT count(*) FROM sessions WHERE NOT closed), "
                       "(SELECT count(*) FROM telemetry_frames), "
                       "pg_size_pretty(pg_total_relation_size('telemetry_frames'))");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *cause = pg_error(conn, res, "cannot read the schema (run 'beamtel db migrate')");
        PQclear(res);
        PQfinish(conn);
        return -1;
    }
    printf("schema version  %s\nusers           %s\nsessions        %s (%s open)\n"
           "frames          %s (%s)\nserver          %s\n",
           PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
           PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
           PQparameterStatus(conn, "server_version"));
    PQclear(res);
    PQfinish(conn);
    return 0;
}

int store_recover_open_sessions(const char *dsn, char **cause)
{
    struct pg_writer *w = pg_writer_new(dsn);
    int n = pg_writer_recover(w, cause);
    pg_writer_free(w);
    return n;
}
