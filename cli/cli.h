/*
 * cli/cli.h — the envpool command-line tool: one function per subcommand.
 *
 * Each cmd_* takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status: 0 success, 1 the operation
 * failed (bad file, not found, daemon error), 2 usage error, 69 daemon
 * unavailable (EX_UNAVAILABLE). Messages go to stderr as "envpool CMD: ...".
 */
#ifndef ENVPOOL_CLI_CLI_H
#define ENVPOOL_CLI_CLI_H

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_UNAVAILABLE = 69 };

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `envpool --help` */
} cli_command;

/* Offline tools on files. */
int cmd_dump(int argc, char **argv);
int cmd_repack(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_gen(int argc, char **argv);     /* cli/gen.c */

/* Load generator (cli/bench.c). */
int cmd_bench(int argc, char **argv);

/* Daemon clients (cmd_client.c). */
int cmd_get(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_modules(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_drain(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_doc(int argc, char **argv);        /* module.doc */
int cmd_instances(int argc, char **argv);  /* instance.list */
int cmd_children(int argc, char **argv);   /* decl.children */
int cmd_attr(int argc, char **argv);       /* attr.list */
int cmd_find(int argc, char **argv);       /* decl.find */
int cmd_uses(int argc, char **argv);       /* decl.uses */
int cmd_used_by(int argc, char **argv);    /* decl.used_by */

#endif
