/*
 * tk_peercred.h: who is on the other end of a unix stream socket.
 *
 *   peerCred(fd) → { pid, uid, gid, groups }
 *       getsockopt(fd, SOL_SOCKET, SO_PEERCRED) (unix(7)): the credentials
 *       the peer had when it called connect(2) (its effective uid and gid),
 *       and SO_PEERGROUPS' supplementary gids ([] where the kernel, < 4.13,
 *       lacks it). fd must be a connected AF_UNIX socket; throws the errno
 *       otherwise (ENOTSOCK, EBADF, …).
 */
#ifndef TK_PEERCRED_H
#define TK_PEERCRED_H

#include <node_api.h>

/* Defines the function above on `exports`. */
napi_status tk_peercred_init(napi_env env, napi_value exports);

#endif
