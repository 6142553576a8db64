# tunkit's native I/O addon (native/*.c, Node-API + libuv, C only; one file per
# concern, module init in native/tunkit.c).
# Built by scripts/build-native.mjs (`npm run build:native`) against the
# installed Node headers; output: build/Release/tunkit_native.node.
{
  "targets": [
    {
      "target_name": "tunkit_native",
      "sources": [
        "native/tunkit.c",
        "native/common.c",
        "native/ifctl.c",
        "native/batch.c",
        "native/udp_send.c",
        "native/poll.c",
        "native/netlink.c",
        "native/notify.c",
        "native/privs.c",
        "native/peercred.c",
        "native/clock.c",
        "native/csum.c",
        "native/crypto.c",
        "native/crypto_napi.c",
        "native/crypto_sa.c",
        "native/crypto_hmac.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-std=gnu11"],
      "configurations": {
        "Release": {
          "cflags!": ["-O3"],
          "cflags": ["-O2"]
        }
      }
    }
  ]
}
