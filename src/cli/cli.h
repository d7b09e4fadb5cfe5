/* SPDX-License-Identifier: MIT */
/* cli: the subcommands (one file each) and the glue that wires modules together; the only
 * code that reads the global configuration. */
#ifndef BEAMTEL_CLI_H
#define BEAMTEL_CLI_H

/* Each returns an exit code (enum bt_exit).  argv[0] is the subcommand name. */
int cmd_serve_main(int argc, char **argv);
int cmd_sessions_main(int argc, char **argv);
int cmd_import_main(int argc, char **argv);
int cmd_replay_main(int argc, char **argv);
int cmd_record_main(int argc, char **argv);
int cmd_simulate_main(int argc, char **argv);
int cmd_db_main(int argc, char **argv);

/* Loads the configuration for one subcommand and handles --help; returns -1 when the caller
 * should return *rc (help printed or an error reported), else 0 with the positional args. */
int cli_setup(unsigned cmd, int argc, char **argv, int *npos, char ***pos, int *rc);

/* Set by SIGINT/SIGTERM handlers installed by cli_install_stop_signals(). */
extern volatile int cli_stop_requested;
void cli_install_stop_signals(void);

#endif
