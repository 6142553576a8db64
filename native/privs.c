/* privs.c: see tk_privs.h for the exported function and its contract. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "tk_common.h"
#include "tk_privs.h"

/* The capabilities tunkitd keeps: TUNSETIFF/rtnetlink (NET_ADMIN), raw sockets (NET_RAW). */
#define TK_KEEP_CAPS ((1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW))
/* Longest user or group name we take (useradd's limit is 32). */
#define TK_NAME_MAX 256

static bool tk_name_arg(napi_env env, napi_value v, const char *what, char *buf, size_t cap) {
  size_t len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    tk_throw_type(env, what);
    return false;
  }
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok || len >= cap - 1) {
    tk_throw_range(env, "%s is too long", what);
    return false;
  }
  return true;
}

/* getpwnam_r/getgrnam_r into a heap buffer; false with the lookup's errno (0 = no such name). */
static bool tk_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, int *err, bool *is_user) {
  long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t cap = sz > 0 ? (size_t)sz : 16384;
  long gsz = sysconf(_SC_GETGR_R_SIZE_MAX);
  if (gsz > 0 && (size_t)gsz > cap) cap = (size_t)gsz;
  if (cap < 65536) cap = 65536; /* big groups */
  char *buf = malloc(cap);
  if (buf == NULL) { *err = ENOMEM; *is_user = true; return false; }
  struct passwd pw, *pwr = NULL;
  *is_user = true;
  *err = getpwnam_r(user, &pw, buf, cap, &pwr);
  bool ok = *err == 0 && pwr != NULL;
  if (ok) { *uid = pw.pw_uid; *gid = pw.pw_gid; }
  if (ok && group[0] != '\0') {
    struct group gr, *grr = NULL;
    *is_user = false;
    *err = getgrnam_r(group, &gr, buf, cap, &grr);
    ok = *err == 0 && grr != NULL;
    if (ok) *gid = gr.gr_gid;
  }
  free(buf);
  return ok;
}

/* Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap), CAP_LAST_CAP if unreadable. */
static int tk_cap_last(void) {
  int last = CAP_LAST_CAP;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f != NULL) {
    if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(f);
  }
  return last;
}

/* Steps 1-5 of tk_privs.h; returns 0 or sets *call and returns the errno. */
static int tk_drop(uid_t uid, gid_t gid, const char **call) {
  int last = tk_cap_last();
  for (int c = 0; c <= last; c++) {
    if (c == CAP_NET_ADMIN || c == CAP_NET_RAW || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1) continue; /* kept, or not there */
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) { *call = "PR_CAPBSET_DROP"; return errno; }
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) { *call = "PR_SET_KEEPCAPS"; return errno; }
  if (setgroups(0, NULL) != 0) { *call = "setgroups"; return errno; }
  if (setresgid(gid, gid, gid) != 0) { *call = "setresgid"; return errno; }
  if (setresuid(uid, uid, uid) != 0) { *call = "setresuid"; return errno; }
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].permitted = data[0].effective = TK_KEEP_CAPS; /* both caps are below 32 */
  if (syscall(SYS_capset, &hdr, data) != 0) { *call = "capset"; return errno; }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) { *call = "PR_CAP_AMBIENT"; return errno; }
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) { *call = "PR_SET_KEEPCAPS"; return errno; }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { *call = "PR_SET_NO_NEW_PRIVS"; return errno; }
  return 0;
}

static napi_value tk_lookup_user(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char user[TK_NAME_MAX], group[TK_NAME_MAX];
  if (!tk_args(env, info, 2, argv) || !tk_name_arg(env, argv[0], "user must be a string", user, sizeof user) ||
      !tk_name_arg(env, argv[1], "group must be a string", group, sizeof group)) return NULL;
  if (user[0] == '\0') return tk_throw_range(env, "user: empty name");
  uid_t uid = 0;
  gid_t gid = 0;
  int err = 0;
  bool is_user = true;
  if (!tk_lookup(user, group, &uid, &gid, &err, &is_user)) {
    if (err != 0) return tk_throw_errno(env, err, is_user ? "getpwnam" : "getgrnam", is_user ? user : group);
    return is_user ? tk_throw_range(env, "unknown user \"%s\"", user) : tk_throw_range(env, "unknown group \"%s\"", group);
  }
  napi_value out, v;
  TK_NAPI(env, napi_create_object(env, &out));
  TK_NAPI(env, napi_create_uint32(env, uid, &v));
  tk_set_prop(env, out, "uid", v);
  TK_NAPI(env, napi_create_uint32(env, gid, &v));
  tk_set_prop(env, out, "gid", v);
  return out;
}

static napi_value tk_lookup_group(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char group[TK_NAME_MAX];
  if (!tk_args(env, info, 1, argv) || !tk_name_arg(env, argv[0], "group must be a string", group, sizeof group)) return NULL;
  if (group[0] == '\0') return tk_throw_range(env, "group: empty name");
  long sz = sysconf(_SC_GETGR_R_SIZE_MAX);
  size_t cap = sz > 65536 ? (size_t)sz : 65536; /* big groups */
  char *buf = malloc(cap);
  if (buf == NULL) return tk_throw_errno(env, ENOMEM, "getgrnam", group);
  struct group gr, *grr = NULL;
  int err = getgrnam_r(group, &gr, buf, cap, &grr);
  gid_t gid = grr != NULL ? gr.gr_gid : 0;
  free(buf);
  if (err != 0) return tk_throw_errno(env, err, "getgrnam", group);
  if (grr == NULL) return tk_throw_range(env, "unknown group \"%s\"", group);
  napi_value v;
  TK_NAPI(env, napi_create_uint32(env, gid, &v));
  return v;
}

static napi_value tk_drop_privileges(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t uid = 0, gid = 0;
  if (!tk_args(env, info, 2, argv)) return NULL;
  if (napi_get_value_uint32(env, argv[0], &uid) != napi_ok) return tk_throw_type(env, "uid must be a number");
  if (napi_get_value_uint32(env, argv[1], &gid) != napi_ok) return tk_throw_type(env, "gid must be a number");
  if (uid == 0) return tk_throw_range(env, "uid 0: dropping to root drops nothing");
  const char *call = "";
  int err = tk_drop((uid_t)uid, (gid_t)gid, &call);
  if (err != 0) {
    char subject[32];
    snprintf(subject, sizeof subject, "uid %u", uid);
    return tk_throw_errno(env, err, call, subject);
  }
  return NULL;
}

napi_status tk_privs_init(napi_env env, napi_value exports) {
  static const tk_fn fns[] = {
    { "lookupUser", tk_lookup_user },
    { "lookupGroup", tk_lookup_group },
    { "dropPrivileges", tk_drop_privileges },
  };
  return tk_define(env, exports, fns, sizeof fns / sizeof fns[0]);
}
