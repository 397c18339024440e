/*
 * daemon/log.c — envpoold's log: one line per event on stderr, with a level.
 *
 * Lines look like "envpoold[1234]: info: listening on /run/envpool/envpool.sock".
 * No timestamp: under systemd the journal adds one, and by hand `ts` or the
 * terminal does. Each line is formatted into a bounded buffer and written with
 * one write(2), so concurrent writers never interleave within a line. Messages
 * carry only our own words, numbers and names from our own tables, never bytes
 * a client sent (a control character or a fake line could forge log entries).
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level current = LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
    current = level;
}

const char *log_level_name(enum log_level level)
{
    return (unsigned)level <= LOG_DEBUG ? names[level] : "?";
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++) {
        if (!strcmp(s, names[i])) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (!strcmp(s, "warning")) {
        *out = LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current)
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "envpoold[%ld]: %s: ", (long)getpid(), log_level_name(level));
    if (n < 0)
        return;
    size_t len = (size_t)n;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    len += (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: still one line */
    /* Our own messages never contain newlines, but keep the one-line promise anyway. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    const char *p = line;
    while (len > 0) {
        ssize_t w = write(STDERR_FILENO, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}
