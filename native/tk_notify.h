/*
 * tk_notify.h: the service manager notification protocol (sd_notify(3)),
 * without libsystemd: one datagram to the AF_UNIX socket systemd names in
 * $NOTIFY_SOCKET. Node has no AF_UNIX datagram sockets, hence this file.
 *
 *   sdNotify(path, state)
 *       socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC) + one sendto(2) of `state`
 *       (newline-separated VAR=VALUE assignments, e.g. "READY=1\nSTATUS=…")
 *       to `path`, then close. A path starting with '@' names an abstract
 *       socket (unix(7): sun_path[0] = '\0', the rest of the name follows,
 *       the address length counts only the name's bytes, no terminator), as
 *       sd_notify does. MSG_NOSIGNAL; non-blocking, so a full receive queue
 *       fails with EAGAIN rather than stalling the caller.
 *       Throws the errno (ENOENT, ECONNREFUSED, EAGAIN, …) as every other
 *       call of the addon; an empty path, one that does not fit sun_path
 *       (108 bytes, with the terminator for a filesystem path) or an empty
 *       state is a RangeError before any syscall.
 *       Credentials: the kernel attaches our pid/uid/gid (SCM_CREDENTIALS is
 *       implied on AF_UNIX when the receiver sets SO_PASSCRED, as systemd
 *       does), which is how systemd checks NotifyAccess=main.
 */
#ifndef TK_NOTIFY_H
#define TK_NOTIFY_H

#include <node_api.h>

/* Defines the function above on `exports`. */
napi_status tk_notify_init(napi_env env, napi_value exports);

#endif
