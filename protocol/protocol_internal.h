/*
 * protocol/protocol_internal.h — shared between rpc.c and methods.c only.
 */
#ifndef ENVPOOL_PROTOCOL_INTERNAL_H
#define ENVPOOL_PROTOCOL_INTERNAL_H

#include "protocol/protocol.h"

/* The host information given to rpc_server_new (borrowed). */
const rpc_server_info *rpc__server_info(const rpc_server *srv);
/* Monotonic microseconds when the server was created. */
uint64_t rpc__server_started_us(const rpc_server *srv);
/* Monotonic clock in microseconds. */
uint64_t rpc__now_us(void);
/* Names of the registered methods, in registration order (borrowed). */
size_t rpc__method_names(const rpc_server *srv, const char **names, size_t max);
/* Registers server.info and pool.stats (methods.c). */
void rpc__add_builtin_methods(rpc_server *srv);

#endif
