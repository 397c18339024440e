/*
 * daemon/main.c — envpoold: parse the flags, log the configuration, run the loop.
 *
 * Exit status: 0 after a clean drain (SIGTERM/SIGINT) or --help/--version,
 * 1 when the daemon could not start or stopped on an error, 2 on a usage error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/daemon.h"
#include "region/guard.h"
#include "util/mem.h"

int main(int argc, char **argv)
{
    mem_leak_check_at_exit("envpoold");
    /* A peer that goes away must cost us an EPIPE on one write, not the process. */
    signal(SIGPIPE, SIG_IGN);
    rpc_global_init();
    daemon_config cfg;
    int rc = config_parse(&cfg, argc, argv);
    if (rc != CONFIG_RUN) {
        config_free(&cfg);
        return rc == CONFIG_EXIT_OK ? 0 : 2;
    }
    log_set_level(cfg.log_level);
    /* libuv sizes its thread pool from the environment at first use. */
    char threads[16];
    snprintf(threads, sizeof threads, "%u", cfg.threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    config_log_summary(&cfg);
    if (region_guard_install() < 0) {
        log_msg(LOG_ERROR, "cannot install the SIGBUS guard");
        config_free(&cfg);
        return 1;
    }
    envs *e;
    if (envs_new(&cfg, &e) < 0) {
        config_free(&cfg);
        return 1;
    }
    rc = server_run(&cfg, e);
    envs_free(e);
    config_free(&cfg);
    return rc;
}
