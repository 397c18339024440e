/*
 * tests/support/rpcsink.h — a JSON-RPC session's output, collected for tests of
 * protocol/: every reply parsed into a json_t, in order.
 */
#ifndef ENVPOOL_TESTS_RPCSINK_H
#define ENVPOOL_TESTS_RPCSINK_H

#include <jansson.h>
#include <stddef.h>

#include "protocol/protocol.h"

typedef struct sink {
    json_t *msgs;      /* parsed replies, in order (a json array) */
    char    raw[4096]; /* the last raw buffer, if it fit */
    size_t  rawlen;
    int     done;      /* call_done callbacks */
} sink;

/* Session callbacks that fill the sink given as the session's ctx. */
extern const rpc_session_ops sink_ops;

/* Hands text to the session as one frame. */
void    sink_feed(rpc_session *s, const char *text);
/* The last reply (borrowed); fails the test if there is none. */
json_t *sink_last(const sink *k);
/* The error code / message of a reply (0 / NULL if it is not an error). */
int         sink_err_code(const json_t *m);
const char *sink_err_msg(const json_t *m);

#endif
