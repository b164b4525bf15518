/* cli.h - the dsim command line (cli.c). */
#ifndef DSIM_CLI_H
#define DSIM_CLI_H

/* Runs the command in argv; returns the exit status (0 pass, 1 check failed, 2 bad input). */
int dsim_cli_main(int argc, char **argv);

#endif /* DSIM_CLI_H */
