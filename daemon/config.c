/*
 * daemon/config.c — envpoold's command line: flags, defaults, validation.
 *
 * Every limit of DESIGN.md §5 has a flag and a default here; sizes accept
 * K/M/G suffixes (binary), durations are seconds (decimals allowed). The
 * search path comes from --search-path, else ENVPOOL_PATH, else LEAN_PATH;
 * the source path (where decl.get's "source" is looked for first) from
 * --source-path, else ENVPOOL_SOURCE_PATH.
 * The socket defaults to $XDG_RUNTIME_DIR/envpool.sock, or
 * /run/envpool/envpool.sock for root. The HTTP listener is off unless
 * --http-listen (alias --metrics-listen) or $ENVPOOL_HTTP_LISTEN names an
 * address (--default-imports / $ENVPOOL_DEFAULT_IMPORTS: the environment of
 * its GET /json); hosts are IP literals (or "localhost"), never looked up, so
 * startup cannot hang on a resolver.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/pool.h"
#include "util/mem.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: envpoold [OPTIONS]\n"
        "\n"
        "Keep Lean 4 module environments warm and answer JSON-RPC over a Unix socket.\n"
        "\n"
        "Socket and access:\n"
        "  --socket PATH          socket to listen on (default $XDG_RUNTIME_DIR/envpool.sock,\n"
        "                         /run/envpool/envpool.sock as root); systemd socket\n"
        "                         activation (LISTEN_FDS) takes precedence\n"
        "  --socket-group GROUP   make the socket 0660 and owned by GROUP (default 0600); any\n"
        "                         uid that can open the socket is then accepted\n"
        "  --allow-uid UID        also accept clients with this uid (repeatable; the daemon's\n"
        "                         own uid and root are always accepted)\n"
        "Pool:\n"
        "  --search-path DIRS     colon-separated module roots (default $ENVPOOL_PATH, else $LEAN_PATH)\n"
        "  --source-path DIRS     colon-separated directories where module A.B's source A/B.lean\n"
        "                         is looked for first (decl.get's \"source\"); else it is derived\n"
        "                         from Lake's layout (default $ENVPOOL_SOURCE_PATH)\n"
        "  --capacity N           idle environments kept (default 8)\n"
        "  --max-bytes SIZE       bound on mapped bytes, 0 = none (default 0)\n"
        "  --threads N            worker threads for imports (default 4)\n"
        "  --reply-cache SIZE     memory for rendered decl.get answers, 0 = none (default 64M)\n"
        "  --validate MODE        lazy: check what is read, as it is read (default); eager:\n"
        "                         check every object of a module file when it is loaded\n"
        "  --max-watches N        module directories watched with inotify at most; past it (or\n"
        "                         past the kernel's limit) a directory is left to the 1 s scan;\n"
        "                         0 = no watching (default 65536)\n"
        "Limits (each has a counter in pool.stats):\n"
        "  --max-connections N    concurrent connections (default 1024)\n"
        "  --max-frame SIZE       largest request frame (default 1M)\n"
        "  --max-inflight N       requests in flight per connection before reading pauses (default 64)\n"
        "  --idle-timeout SECS    close connections idle this long, 0 = never (default 600)\n"
        "  --output-high SIZE     stop reading a client with this much unsent output (default 1M)\n"
        "  --output-low SIZE      resume reading below this (default 256K)\n"
        "  --output-hard SIZE     close a client with this much unsent output (default 16M)\n"
        "HTTP (off by default; use a loopback address):\n"
        "  --http-listen HOST:PORT  serve GET /metrics (Prometheus), /healthz and Loogle's /json over HTTP on HOST\n"
        "                         (an IPv4 literal, [IPv6], or localhost); PORT 0 picks a free one\n"
        "                         (logged); default $ENVPOOL_HTTP_LISTEN; --metrics-listen is an alias\n"
        "  --http-timeout SECS    time an HTTP client has to send its request, and again to read\n"
        "                         the answer (default 10)\n"
        "  --default-imports A,B  the environment of GET /json?q=QUERY when the request has no\n"
        "                         imports=A,B (default $ENVPOOL_DEFAULT_IMPORTS; none: such a\n"
        "                         request is refused with 400)\n"
        "Operation:\n"
        "  --grace SECS           on SIGTERM, time allowed for in-flight requests (default 10)\n"
        "  --log-level LEVEL      error, warn, info or debug (default info)\n"
        "  --help, --version\n"
        "\n"
        "Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP drops idle environments.\n");
}

/* "123", "64K", "1M", "2G" (binary multiples). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL; /* strtoull would take " -5" as a huge number */
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    uint64_t mult = 1;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mult = 1024ull; break;
        case 'm': case 'M': mult = 1024ull * 1024; break;
        case 'g': case 'G': mult = 1024ull * 1024 * 1024; break;
        default: return -EINVAL;
        }
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
        if (*end)
            return -EINVAL;
    }
    if (v > UINT64_MAX / mult)
        return -EINVAL;
    *out = (uint64_t)v * mult;
    return 0;
}

static int parse_seconds(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e9)
        return -EINVAL;
    *ms = (uint64_t)llround(v * 1000.0);
    return 0;
}

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -EINVAL; /* no sign, no leading space: strtoull would wrap " -5" */
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* "127.0.0.1:9464", "[::1]:9464", "localhost:9464" into cfg->http_addr. 0 or -EINVAL. */
static int parse_listen(const char *spec, daemon_config *cfg)
{
    size_t n = strlen(spec);
    if (n == 0 || n >= sizeof cfg->http_listen)
        return -EINVAL;
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1])
        return -EINVAL;
    uint64_t port;
    if (parse_count(colon + 1, 0, 65535, &port) < 0)
        return -EINVAL;
    char host[64];
    size_t hl = (size_t)(colon - spec);
    bool v6 = spec[0] == '[';
    if (v6) {
        if (hl < 3 || spec[hl - 1] != ']')
            return -EINVAL;
        spec++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return -EINVAL;
    memcpy(host, spec, hl);
    host[hl] = 0;
    memset(&cfg->http_addr, 0, sizeof cfg->http_addr);
    if (v6)
        return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&cfg->http_addr) ? -EINVAL : 0;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&cfg->http_addr) ? -EINVAL : 0;
}

static int default_socket(daemon_config *cfg)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    int n;
    if (geteuid() == 0)
        n = snprintf(cfg->socket_path, sizeof cfg->socket_path, "/run/envpool/envpool.sock");
    else if (dir && *dir)
        n = snprintf(cfg->socket_path, sizeof cfg->socket_path, "%s/envpool.sock", dir);
    else {
        fprintf(stderr, "envpoold: XDG_RUNTIME_DIR is not set; give --socket PATH\n");
        return -EINVAL;
    }
    if (n < 0 || (size_t)n >= sizeof cfg->socket_path) {
        fprintf(stderr, "envpoold: default socket path is too long; give --socket PATH\n");
        return -EINVAL;
    }
    return 0;
}

/* Splits spec at ':' (empty entries skipped) into *buf (owned) and list (NULL-terminated). */
static int set_dirs(const char *flag, char **buf, const char **list, const char *spec)
{
    mem_free(*buf);
    *buf = mem_strdup(spec);
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(*buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        if (n == CONFIG_MAX_SEARCH) {
            fprintf(stderr, "envpoold: --%s: more than %d directories\n", flag, CONFIG_MAX_SEARCH);
            return -EINVAL;
        }
        list[n++] = tok;
    }
    list[n] = NULL;
    return 0;
}

enum {
    OPT_SOCKET = 256, OPT_SEARCH, OPT_CAPACITY, OPT_MAX_BYTES, OPT_THREADS, OPT_MAX_CONN,
    OPT_MAX_FRAME, OPT_MAX_INFLIGHT, OPT_IDLE, OPT_OUT_HIGH, OPT_OUT_LOW, OPT_OUT_HARD,
    OPT_GROUP, OPT_ALLOW_UID, OPT_LOG_LEVEL, OPT_GRACE, OPT_HELP, OPT_VERSION, OPT_REPLY_CACHE,
    OPT_VALIDATE, OPT_MAX_WATCHES, OPT_HTTP_LISTEN, OPT_HTTP_TIMEOUT, OPT_SOURCE, OPT_DEFAULT_IMPORTS,
};

static const struct option options[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"search-path", required_argument, NULL, OPT_SEARCH},
    {"source-path", required_argument, NULL, OPT_SOURCE},
    {"capacity", required_argument, NULL, OPT_CAPACITY},
    {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"reply-cache", required_argument, NULL, OPT_REPLY_CACHE},
    {"validate", required_argument, NULL, OPT_VALIDATE},
    {"max-watches", required_argument, NULL, OPT_MAX_WATCHES},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-connections", required_argument, NULL, OPT_MAX_CONN},
    {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"output-high", required_argument, NULL, OPT_OUT_HIGH},
    {"output-low", required_argument, NULL, OPT_OUT_LOW},
    {"output-hard", required_argument, NULL, OPT_OUT_HARD},
    {"socket-group", required_argument, NULL, OPT_GROUP},
    {"allow-uid", required_argument, NULL, OPT_ALLOW_UID},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"http-listen", required_argument, NULL, OPT_HTTP_LISTEN},
    {"metrics-listen", required_argument, NULL, OPT_HTTP_LISTEN},
    {"http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT},
    {"default-imports", required_argument, NULL, OPT_DEFAULT_IMPORTS},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int bad(const char *flag, const char *value, const char *why)
{
    fprintf(stderr, "envpoold: --%s '%s': %s\n", flag, value, why);
    return -EINVAL;
}

static int resolve_group(daemon_config *cfg)
{
    char *end;
    unsigned long g = strtoul(cfg->socket_group, &end, 10);
    if (*cfg->socket_group && !*end) {
        cfg->group = (gid_t)g;
        return 0;
    }
    struct group *gr = getgrnam(cfg->socket_group);
    if (!gr)
        return bad("socket-group", cfg->socket_group, "no such group");
    cfg->group = gr->gr_gid;
    return 0;
}

int config_parse(daemon_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->capacity = 8;
    cfg->reply_cache = 64u << 20;
    cfg->max_watches = 65536;
    cfg->threads = 4;
    cfg->max_connections = 1024;
    cfg->max_frame = FRAME_DEFAULT_MAX;
    cfg->max_inflight = 64;
    cfg->idle_timeout_ms = 600 * 1000;
    cfg->output_high = 1024 * 1024;
    cfg->output_low = 256 * 1024;
    cfg->output_hard = 16 * 1024 * 1024;
    cfg->log_level = LOG_INFO;
    cfg->grace_ms = 10 * 1000;
    cfg->http_timeout_ms = 10 * 1000;
    const char *socket = NULL, *search = NULL, *source = NULL, *http = NULL, *defimp = NULL;
    uint64_t v;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (opt) {
        case OPT_SOCKET: socket = optarg; break;
        case OPT_SEARCH: search = optarg; break;
        case OPT_SOURCE: source = optarg; break;
        case OPT_CAPACITY:
            if (parse_count(optarg, 0, 1000000, &cfg->capacity))
                return bad("capacity", optarg, "expected a count 0..1000000");
            break;
        case OPT_MAX_BYTES:
            if (parse_size(optarg, &cfg->max_bytes))
                return bad("max-bytes", optarg, "expected a size like 512M");
            break;
        case OPT_REPLY_CACHE:
            if (parse_size(optarg, &cfg->reply_cache))
                return bad("reply-cache", optarg, "expected a size like 64M");
            break;
        case OPT_VALIDATE:
            if (strcmp(optarg, "lazy") != 0 && strcmp(optarg, "eager") != 0)
                return bad("validate", optarg, "expected lazy or eager");
            cfg->validate_eager = optarg[0] == 'e';
            break;
        case OPT_MAX_WATCHES:
            if (parse_count(optarg, 0, 1000000, &cfg->max_watches))
                return bad("max-watches", optarg, "expected a count 0..1000000");
            break;
        case OPT_THREADS:
            if (parse_count(optarg, 1, 128, &v))
                return bad("threads", optarg, "expected 1..128");
            cfg->threads = (unsigned)v;
            break;
        case OPT_MAX_CONN:
            if (parse_count(optarg, 1, 1000000, &cfg->max_connections))
                return bad("max-connections", optarg, "expected 1..1000000");
            break;
        case OPT_MAX_FRAME:
            if (parse_size(optarg, &cfg->max_frame) || cfg->max_frame < 64 || cfg->max_frame > (1ull << 30))
                return bad("max-frame", optarg, "expected a size between 64 and 1G");
            break;
        case OPT_MAX_INFLIGHT:
            if (parse_count(optarg, 1, 100000, &cfg->max_inflight))
                return bad("max-inflight", optarg, "expected 1..100000");
            break;
        case OPT_IDLE:
            if (parse_seconds(optarg, &cfg->idle_timeout_ms))
                return bad("idle-timeout", optarg, "expected seconds (0 = never)");
            break;
        case OPT_OUT_HIGH:
            if (parse_size(optarg, &cfg->output_high) || !cfg->output_high)
                return bad("output-high", optarg, "expected a size like 1M");
            break;
        case OPT_OUT_LOW:
            if (parse_size(optarg, &cfg->output_low))
                return bad("output-low", optarg, "expected a size like 256K");
            break;
        case OPT_OUT_HARD:
            if (parse_size(optarg, &cfg->output_hard) || !cfg->output_hard)
                return bad("output-hard", optarg, "expected a size like 16M");
            break;
        case OPT_GROUP: cfg->socket_group = optarg; break;
        case OPT_ALLOW_UID:
            if (parse_count(optarg, 0, UINT32_MAX - 1, &v))
                return bad("allow-uid", optarg, "expected a numeric uid");
            if (cfg->nallow == CONFIG_MAX_ALLOW_UIDS)
                return bad("allow-uid", optarg, "too many (at most 16)");
            cfg->allow_uids[cfg->nallow++] = (uid_t)v;
            break;
        case OPT_LOG_LEVEL:
            if (log_parse_level(optarg, &cfg->log_level))
                return bad("log-level", optarg, "expected error, warn, info or debug");
            break;
        case OPT_GRACE:
            if (parse_seconds(optarg, &cfg->grace_ms))
                return bad("grace", optarg, "expected seconds");
            break;
        case OPT_HTTP_LISTEN: http = optarg; break;
        case OPT_DEFAULT_IMPORTS: defimp = optarg; break;
        case OPT_HTTP_TIMEOUT:
            if (parse_seconds(optarg, &cfg->http_timeout_ms) || cfg->http_timeout_ms < 10)
                return bad("http-timeout", optarg, "expected seconds (at least 0.01)");
            break;
        case OPT_HELP:
            usage(stdout);
            return CONFIG_EXIT_OK;
        case OPT_VERSION: {
#ifdef HAVE_SYSTEMD
            const char *sd = "systemd yes";
#else
            const char *sd = "systemd no";
#endif
            printf("envpoold %s (protocol %s, libuv %s, jansson %s, %s)\n", ENVPOOL_VERSION,
                   RPC_PROTOCOL_VERSION, uv_version_string(), JANSSON_VERSION, sd);
            return CONFIG_EXIT_OK;
        }
        case ':':
            fprintf(stderr, "envpoold: %s needs a value (see --help)\n", argv[optind - 1]);
            return -EINVAL;
        default:
            fprintf(stderr, "envpoold: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "envpoold: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -EINVAL;
    }
    if (cfg->output_low >= cfg->output_high) {
        fprintf(stderr, "envpoold: --output-low (%" PRIu64 ") must be below --output-high (%" PRIu64 ")\n",
                cfg->output_low, cfg->output_high);
        return -EINVAL;
    }
    if (cfg->output_hard < cfg->output_high) {
        fprintf(stderr, "envpoold: --output-hard (%" PRIu64 ") must be at least --output-high (%" PRIu64 ")\n",
                cfg->output_hard, cfg->output_high);
        return -EINVAL;
    }
    if (socket) {
        if (!*socket) {
            fprintf(stderr, "envpoold: --socket: empty path\n");
            return -EINVAL;
        }
        if (strlen(socket) >= sizeof cfg->socket_path) {
            fprintf(stderr, "envpoold: --socket: path longer than %zu bytes\n", sizeof cfg->socket_path - 1);
            return -EINVAL;
        }
        strcpy(cfg->socket_path, socket);
    } else if (default_socket(cfg) < 0) {
        return -EINVAL;
    }
    if (cfg->socket_group && resolve_group(cfg) < 0)
        return -EINVAL;
    const char *http_from = http ? "--http-listen" : "ENVPOOL_HTTP_LISTEN";
    if (!http)
        http = getenv("ENVPOOL_HTTP_LISTEN");
    if (http && *http) {
        if (parse_listen(http, cfg) < 0) {
            fprintf(stderr, "envpoold: %s '%s': expected HOST:PORT with HOST an IPv4 address, [IPv6] "
                    "or localhost\n", http_from, http);
            return -EINVAL;
        }
        strcpy(cfg->http_listen, http);
    }
    const char *defimp_from = defimp ? "--default-imports" : "ENVPOOL_DEFAULT_IMPORTS";
    if (!defimp)
        defimp = getenv("ENVPOOL_DEFAULT_IMPORTS");
    if (defimp && *defimp) {
        /* module names separated by commas: each non-empty, no spaces or control bytes inside */
        bool ok = strlen(defimp) < sizeof cfg->default_imports;
        for (const char *p = defimp, *start = defimp; ok; p++) {
            if (*p == ',' || !*p) {
                ok = p > start;
                if (!*p)
                    break;
                start = p + 1;
            } else {
                ok = (unsigned char)*p > ' ' && *p != 0x7f;
            }
        }
        if (!ok) {
            fprintf(stderr, "envpoold: %s '%.200s': expected module names separated by commas (A,B), at most "
                    "%zu bytes\n", defimp_from, defimp, sizeof cfg->default_imports - 1);
            return -EINVAL;
        }
        strcpy(cfg->default_imports, defimp);
    }
    search = pool_search_list(search); /* the policy is pool's: an empty flag falls back too */
    if (set_dirs("search-path", &cfg->search_buf, cfg->search, search ? search : "") < 0)
        return -EINVAL;
    if (!source)
        source = getenv("ENVPOOL_SOURCE_PATH");
    if (set_dirs("source-path", &cfg->source_buf, cfg->source, source ? source : "") < 0)
        return -EINVAL;
    return CONFIG_RUN;
}

void config_free(daemon_config *cfg)
{
    mem_free(cfg->search_buf);
    cfg->search_buf = NULL;
    mem_free(cfg->source_buf);
    cfg->source_buf = NULL;
}

/* list joined with ':' into buf (cut at its size). */
static void join_dirs(char *buf, size_t size, const char *const *list)
{
    buf[0] = '\0';
    size_t l = 0;
    for (size_t i = 0; list[i] && l < size; i++) {
        int n = snprintf(buf + l, size - l, "%s%s", i ? ":" : "", list[i]);
        if (n < 0)
            break;
        l += (size_t)n;
    }
}

void config_log_summary(const daemon_config *cfg)
{
    char roots[512], sources[512];
    join_dirs(roots, sizeof roots, cfg->search);
    join_dirs(sources, sizeof sources, cfg->source);
    log_msg(LOG_INFO,
            "envpoold %s: socket=%s search-path=%s source-path=%s capacity=%" PRIu64 " max-bytes=%" PRIu64 " reply-cache=%" PRIu64
            " max-watches=%" PRIu64 " threads=%u max-connections=%" PRIu64 " max-frame=%" PRIu64 " max-inflight=%" PRIu64
            " idle-timeout=%.3fs output=%" PRIu64 "/%" PRIu64 "/%" PRIu64 " grace=%.3fs socket-group=%s"
            " allow-uids=%zu log-level=%s http-listen=%s http-timeout=%.3fs default-imports=%.200s validate=%s",
            ENVPOOL_VERSION, cfg->socket_path, roots[0] ? roots : "(none)", sources[0] ? sources : "-", cfg->capacity, cfg->max_bytes, cfg->reply_cache,
            cfg->max_watches, cfg->threads, cfg->max_connections, cfg->max_frame, cfg->max_inflight,
            (double)cfg->idle_timeout_ms / 1000.0, cfg->output_low, cfg->output_high, cfg->output_hard,
            (double)cfg->grace_ms / 1000.0, cfg->socket_group ? cfg->socket_group : "-", cfg->nallow,
            log_level_name(cfg->log_level), cfg->http_listen[0] ? cfg->http_listen : "off",
            (double)cfg->http_timeout_ms / 1000.0, cfg->default_imports[0] ? cfg->default_imports : "-",
            cfg->validate_eager ? "eager" : "lazy");
}
