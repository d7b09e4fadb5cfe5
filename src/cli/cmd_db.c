/* SPDX-License-Identifier: MIT */
/* cmd_db: `beamtel db migrate|status` — apply the embedded schema, show the database's state. */
#include "cli.h"

#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_db_main(int argc, char **argv)
{
    int npos = 0, rc = BT_EXIT_OK;
    char **pos = NULL, *cause = NULL;

    if (cli_setup(CMD_DB, argc, argv, &npos, &pos, &rc) < 0)
        goto out;
    if (npos != 1 || (strcmp(pos[0], "migrate") && strcmp(pos[0], "status"))) {
        fprintf(stderr, "beamtel db: expected 'migrate' or 'status'\nTry 'beamtel db --help'.\n");
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (strcmp(pos[0], "migrate") == 0) {
        if (store_migrate(config_db_dsn(), &cause) < 0) {
            fprintf(stderr, "beamtel db migrate: %s\n", cause);
            rc = BT_EXIT_DATABASE;
            goto out;
        }
        printf("schema is up to date\n");
    } else if (store_status(config_db_dsn(), &cause) < 0) {
        fprintf(stderr, "beamtel db status: %s\n", cause);
        rc = BT_EXIT_DATABASE;
    }
out:
    free(cause);
    return rc;
}
