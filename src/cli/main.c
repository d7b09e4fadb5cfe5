/* SPDX-License-Identifier: MIT */
/* main: the subcommand table and dispatch; everything else lives in cmd_*.c. */
#include "cli.h"

#include "common/common.h"
#include "config/config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile int cli_stop_requested;

static const struct {
    const char *name;
    int (*main)(int, char **);
} commands[] = {
    {"serve", cmd_serve_main},   {"sessions", cmd_sessions_main}, {"import", cmd_import_main},
    {"replay", cmd_replay_main}, {"record", cmd_record_main},     {"simulate", cmd_simulate_main},
    {"db", cmd_db_main},         {"user", cmd_user_main},         {"login", cmd_login_main},
    {"stream", cmd_stream_main}, {"tui", cmd_tui_main},
};

static void on_stop(int sig)
{
    (void)sig;
    cli_stop_requested = 1;
}

void cli_install_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_setup(unsigned cmd, int argc, char **argv, int *npos, char ***pos, int *rc)
{
    char *cause = NULL;
    if (config_load(cmd, argc, argv, npos, pos, &cause) < 0) {
        fprintf(stderr, "beamtel %s: %s\nTry 'beamtel %s --help'.\n", argv[0], cause, argv[0]);
        free(cause);
        *rc = BT_EXIT_USAGE;
        return -1;
    }
    if (config_get_flag("help")) {
        config_print_help(stdout, cmd);
        *rc = BT_EXIT_OK;
        return -1;
    }
    return 0;
}

static int run(const char *name, int argc, char **argv)
{
    for (size_t i = 0; i < BT_ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].main(argc, argv);
    fprintf(stderr, "beamtel: unknown command \"%s\"\nTry 'beamtel --help'.\n", name);
    return BT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int rc;
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        config_print_overview(argc < 2 ? stderr : stdout);
        return argc < 2 ? BT_EXIT_USAGE : BT_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
        strcmp(argv[1], "version") == 0) {
        printf("beamtel %s\n", BEAMTEL_VERSION);
        return BT_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        const struct subcommand *sc;
        if (argc < 3) {
            config_print_overview(stdout);
            return BT_EXIT_OK;
        }
        sc = config_find_subcommand(argv[2]);
        if (sc == NULL) {
            fprintf(stderr, "beamtel: unknown command \"%s\"\n", argv[2]);
            return BT_EXIT_USAGE;
        }
        config_print_help(stdout, sc->bit);
        return BT_EXIT_OK;
    }
    rc = run(argv[1], argc - 1, argv + 1);
    config_free();
    return rc;
}
