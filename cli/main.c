/*
 * cli/main.c — `envpool`: dispatches to the subcommands of cli.h.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/mem.h"

#ifndef ENVPOOL_VERSION
#define ENVPOOL_VERSION "0.1.0"
#endif

static const cli_command commands[] = {
    {"dump", cmd_dump, "print the header, imports and constants of .olean files"},
    {"pack", cmd_pack, "pack text modules into .olean files (docs/module-format.md)"},
    {"repack", cmd_repack, "decode a .olean file and save it again (byte-identical for Lean's files)"},
    {"get", cmd_get, "print a declaration of an environment (daemon)"},
    {"search", cmd_search, "search declaration names in an environment (daemon)"},
    {"doc", cmd_doc, "module docstrings of an environment's modules (daemon)"},
    {"instances", cmd_instances, "instances of a class, in Lean's order (daemon)"},
    {"children", cmd_children, "declarations and namespaces directly inside a namespace (daemon)"},
    {"attr", cmd_attr, "declarations with an attribute, e.g. simp (daemon)"},
    {"find", cmd_find, "declarations whose types match a Loogle query (daemon)"},
    {"uses", cmd_uses, "constants a declaration refers to (daemon)"},
    {"used-by", cmd_used_by, "declarations that refer to a constant (daemon)"},
    {"open", cmd_open, "import an environment into the daemon's pool"},
    {"modules", cmd_modules, "list the modules of an environment (daemon)"},
    {"stats", cmd_stats, "print the daemon's counters (--prometheus for scraping)"},
    {"drain", cmd_drain, "drop the daemon's idle environments"},
    {"call", cmd_call, "send one JSON-RPC request to the daemon"},
    {"batch", cmd_batch, "send JSON-RPC lines from stdin, pipelined; replies in order"},
    {"gen", cmd_gen, "write a synthetic library of .olean files (seeded, deterministic)"},
    {"bench", cmd_bench, "send pipelined requests to a server; report latency and throughput"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: envpool COMMAND [ARGS...]\n\n"
               "Query a running envpoold, or work offline on Lean .olean files.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'envpool COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    mem_leak_check_at_exit("envpool");
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("envpool %s\n", ENVPOOL_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "envpool: unknown command '%s' (see 'envpool --help')\n", argv[1]);
    return CLI_USAGE;
}
