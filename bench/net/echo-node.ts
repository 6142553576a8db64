// bench/net/echo-node.ts — the wake-up floor of a Node.js data path: a UDP
// echo on tunkit's own native I/O (uv_poll readiness on Node's loop, then one
// recvmmsg and one sendmmsg batch, io/native.ts), with no tunnel code. Its
// idle round trip against udpecho.c's C server (same client, same run) is what
// one wake-up of the JS thread costs before tunkit does any work; an idle ping
// through a tunnel crosses three (a: out; b: in and the reply out; a: in).
//
//   node dist/bench/net/echo-node.js PORT

import { loadNative } from '../../src/io/native.js';

const BATCH = 64;
const STRIDE = 2048;

function main(argv: readonly string[]): number {
  const port = Number(argv[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: node dist/bench/net/echo-node.js PORT\n');
    return 2;
  }
  const n = loadNative();
  const fd = n.udpOpen(0, port);
  const slab = new Uint8Array(BATCH * STRIDE);
  const sizes = new Int32Array(BATCH);
  const ifindex = new Int32Array(BATCH);
  const src = new Uint32Array(BATCH);
  const srcPort = new Uint16Array(BATCH);
  const offsets = Int32Array.from({ length: BATCH }, (_, i) => i * STRIDE);
  const handle = n.pollStart(fd, () => {
    const got = n.recvBatch(fd, slab, 0, STRIDE, BATCH, sizes, ifindex, src, srcPort);
    for (let i = 0; i < got; i++) if (sizes[i]! < 0) sizes[i] = 0; // truncated: echo nothing
    if (got > 0) n.sendBatch(fd, slab, offsets, sizes, src, got, srcPort);
  });
  const stop = (): void => { n.pollStop(handle); n.closeFd(fd); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return 0;
}

process.exitCode = main(process.argv);
