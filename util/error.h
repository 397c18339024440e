/*
 * util/error.h — the one registry of envpool's error codes, and the
 * invariant check.
 *
 * A function that can fail returns 0 or a negative code (STYLE.md): a
 * negated errno, or one of the codes below, which lie outside errno's range
 * (Linux's errno values stop at 133; these start at 1001). Each layer has its
 * range:
 *
 *   -1001 … -1099   region/   a file's bytes (REGION_E*)
 *   -1101 … -1199   lean/     the Lean object layer (LN_E*)
 *   -1201 … -1299   pool/     modules and environments (POOL_E*)
 *   -32899 … -32000 protocol/ error codes of replies on the wire (RPC_*): JSON-RPC's
 *                             -32768 … -32000, and LSP's -32800 for a cancelled request
 *
 * The table is ENVPOOL_ERRORS: the enum, envpool_strerror and
 * envpool_error_name are all generated from it, so a code is written once.
 * A new code goes into its layer's list here, and nowhere else.
 */
#ifndef ENVPOOL_UTIL_ERROR_H
#define ENVPOOL_UTIL_ERROR_H

/* X(NAME, CODE, MESSAGE) */
#define ENVPOOL_REGION_ERRORS(X)                                                              \
    X(REGION_ECORRUPT,     -1001, "corrupt region")           /* the bytes break a rule of the format */ \
    X(REGION_EUNSUPPORTED, -1002, "unsupported format")       /* well-formed, a format we do not read */ \
    X(REGION_ESTALE,       -1003, "file changed or vanished") /* the file changed while we looked at it */

#define ENVPOOL_LEAN_ERRORS(X)                                                                \
    X(LN_ETOOBIG, -1101, "output limit reached")  /* text cut, "…" appended */                \
    X(LN_EINVAL,  -1102, "malformed input")       /* malformed name text or module text, index out of range */

#define ENVPOOL_POOL_ERRORS(X)                                                                \
    X(POOL_ENOTFOUND,  -1201, "module not found")                /* under any root: module, imported_by */ \
    X(POOL_EBADNAME,   -1202, "bad module name")                 /* empty component, '/', NUL, '.', '..' */ \
    X(POOL_EOUTSIDE,   -1203, "file outside the search roots")   /* its real path lies outside every root */ \
    X(POOL_ECANCELLED, -1204, "cancelled")                       /* every waiter of the import cancelled */ \
    X(POOL_ENOCONST,   -1205, "declaration not found")           /* no constant of that name */ \
    X(POOL_ECYCLE,     -1206, "import cycle")                    /* a module imports itself */ \
    X(POOL_ELIMIT,     -1207, "too many modules or constants")   /* more than an index can number */ \
    X(POOL_EINVAL,     -1208, "invalid argument")                /* empty import list, limit, bad cursor */ \
    X(POOL_EAGAIN,     -1209, "declaration info not built yet")  /* pool_env_declinfo_build first */

/* JSON-RPC 2.0's own codes, then envpool's (docs/protocol.md). */
#define ENVPOOL_RPC_ERRORS(X)                                                                 \
    X(RPC_PARSE_ERROR,      -32700, "parse error")                                            \
    X(RPC_INVALID_REQUEST,  -32600, "invalid request")                                        \
    X(RPC_METHOD_NOT_FOUND, -32601, "method not found")                                       \
    X(RPC_INVALID_PARAMS,   -32602, "invalid params")                                         \
    X(RPC_INTERNAL_ERROR,   -32603, "internal error")                                         \
    X(RPC_CANCELLED,        -32800, "request cancelled")                                      \
    X(RPC_MODULE_NOT_FOUND, -32001, "module not found")                                       \
    X(RPC_CORRUPT_REGION,   -32002, "corrupt region")                                         \
    X(RPC_UNSUPPORTED,      -32003, "unsupported format")                                     \
    X(RPC_DECL_NOT_FOUND,   -32004, "declaration not found")                                  \
    X(RPC_UNKNOWN_ENV,      -32005, "unknown environment")                                    \
    X(RPC_BUSY,             -32006, "busy")                                                   \
    X(RPC_STALE,            -32007, "file changed or vanished")

#define ENVPOOL_ERRORS(X) \
    ENVPOOL_REGION_ERRORS(X) ENVPOOL_LEAN_ERRORS(X) ENVPOOL_POOL_ERRORS(X) ENVPOOL_RPC_ERRORS(X)

#define ENVPOOL__ERROR_ENUM(name, code, msg) name = code,
enum envpool_error { ENVPOOL_ERRORS(ENVPOOL__ERROR_ENUM) };
#undef ENVPOOL__ERROR_ENUM

/*
 * What a code means, for a person: "ok" for 0, the registry's message for
 * a project code, strerror's text for a negated errno, "unknown error"
 * otherwise. Never NULL; a static string; thread-safe.
 */
const char *envpool_strerror(int code);
/* The code's symbol ("POOL_ENOTFOUND", "ENOENT"), or NULL when it has none. */
const char *envpool_error_name(int code);

/*
 * ENVPOOL_INVARIANT(cond, fmt, ...): an internal invariant of the code (a
 * caller breaking a contract, a count that must be 0 at teardown), never a
 * property of bytes from a file or a peer — those get an error code. When
 * cond is false the program prints where (file, line, function), the
 * condition and the message to stderr, and aborts. Always compiled in.
 */
#define ENVPOOL_INVARIANT(cond, ...) \
    ((cond) ? (void)0 : envpool__invariant_failed(__FILE__, __LINE__, __func__, #cond, __VA_ARGS__))

_Noreturn void envpool__invariant_failed(const char *file, int line, const char *func, const char *cond,
                                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
