/* --signal: send a command to a running server (see signal_cmd.c). */
#ifndef BR_SIGNAL_CMD_H
#define BR_SIGNAL_CMD_H

/* arg is "<command>[=<pid|pid file>]"; returns the process exit status. */
int br_signal_command(const char *arg);

#endif
