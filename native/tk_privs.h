/*
 * tk_privs.h: dropping root for tunkitd --user (least privilege).
 *
 *   lookupUser(user, group) → { uid, gid }
 *       getpwnam_r(user); gid is getgrnam_r(group)'s when group is not '',
 *       else the user's primary group. Throws a RangeError (unknown user
 *       or unknown group, naming it), or the lookup's errno.
 *
 *   lookupGroup(group) → gid
 *       getgrnam_r(group). Throws a RangeError (unknown group, naming it),
 *       or the lookup's errno.
 *
 *   dropPrivileges(uid, gid)
 *       On the calling thread's credentials (uid 0 is a RangeError):
 *         1. PR_CAPBSET_DROP of every capability but CAP_NET_ADMIN and
 *            CAP_NET_RAW still in the bounding set (needs CAP_SETPCAP, so
 *            before the uid changes; none to drop needs none);
 *         2. prctl(PR_SET_KEEPCAPS, 1), so setuid keeps the permitted set;
 *         3. setgroups(0, NULL), setresgid(g,g,g), setresuid(u,u,u)
 *            (glibc applies these to every thread of the process);
 *         4. capset(2) v3: permitted = effective = {NET_ADMIN, NET_RAW},
 *            inheritable = 0; PR_CAP_AMBIENT_CLEAR_ALL;
 *         5. prctl(PR_SET_KEEPCAPS, 0), prctl(PR_SET_NO_NEW_PRIVS, 1).
 *       capset and the bounding set are per thread (capabilities(7)): only
 *       the calling (JS) thread keeps the two capabilities; Node's other
 *       threads lose every capability at step 3 (no KEEPCAPS there), which
 *       is what we want — every privileged syscall runs on the JS thread.
 *       Throws the errno of the failing call (process state is then partly
 *       changed: the caller must exit).
 */
#ifndef TK_PRIVS_H
#define TK_PRIVS_H

#include <node_api.h>

/* Defines the function above on `exports`. */
napi_status tk_privs_init(napi_env env, napi_value exports);

#endif
