/* SPDX-License-Identifier: MIT */
/* tui: the glue of `beamtel tui` — reads the configuration and the stored login (asking for the
 * password on the terminal when there is none or it expired), then hands over to tui_run(). */
#include "cli.h"

#include "client/client.h"
#include "common/common.h"
#include "config/config.h"
#include "tui/tui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_tui_main(int argc, char **argv)
{
    struct client_token t = {0};
    struct tui_opts o;
    char **pos, *server = NULL, *cause = NULL, *user = NULL;
    const char *units;
    int npos, rc, st;

    if (cli_setup(CMD_TUI, argc, argv, &npos, &pos, &rc) < 0)
        return rc;
    if (npos > 0) {
        fprintf(stderr, "beamtel tui: unexpected argument \"%s\"\nTry 'beamtel tui --help'.\n",
                pos[0]);
        return BT_EXIT_USAGE;
    }
    st = cli_login_lookup(&t, &server, &cause);
    if (st == CLIENT_TOKEN_ERROR && server == NULL) {
        fprintf(stderr, "beamtel tui: %s\n", cause);
        rc = BT_EXIT_USAGE;
        goto out;
    }
    if (config_get_str("user") && *config_get_str("user"))
        user = xstrdup(config_get_str("user"));
    else
        user = xstrdup(t.user ? t.user : "local");
    if (st != CLIENT_TOKEN_VALID) {
        /* No usable login: ask for the password when a person is there to answer. */
        const char *why = st == CLIENT_TOKEN_EXPIRED ? "session expired"
                          : st == CLIENT_TOKEN_ERROR ? cause
                                                     : "not logged in";
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            fprintf(stderr, "beamtel tui: %s, run beamtel login\n", why);
            rc = BT_EXIT_AUTH;
            goto out;
        }
        fprintf(stderr, "beamtel tui: %s at %s\n", why, server);
        client_token_free(&t);
        rc = cli_login_prompt("tui", server, user, &t);
        if (rc != BT_EXIT_OK)
            goto out;
    }

    memset(&o, 0, sizeof o);
    o.server = server;
    o.token = t.token;
    o.user = t.user ? t.user : user;
    units = config_get_str("units");
    /* The game's own choice (OG_KM) wins unless units were set somewhere explicitly. */
    if (units && strcmp(config_source("units"), "default") != 0)
        o.units = strcmp(units, "imperial") == 0 ? TUI_UNITS_IMPERIAL : TUI_UNITS_METRIC;
    else
        o.units = TUI_UNITS_AUTO;
    o.ascii = config_get_flag("ascii");
    o.max_fps = 30;
    rc = tui_run(&o);
out:
    client_token_free(&t);
    free(server);
    free(user);
    free(cause);
    return rc;
}
