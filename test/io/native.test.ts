// Error paths of the native addon (native/tunkit.c). Checks with no side
// effects run here; those that need devices or routes run in a fresh netns
// (fixtures/native-errors). As root only: not root → FAIL with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNative, NATIVE_MAX_BATCH } from '../../src/io/native.js';
import { icmpDropMask } from '../../src/io/raw.js';
import { createNetns, deleteNetns, requireRoot, runSuiteInNetns } from './fixtures/netns.js';

test('tunOpen with an invalid name throws a system error with a code', () => {
  requireRoot('test/io/native.test');
  const n = loadNative();
  // dev_valid_name rejects '/' (net/core/dev.c): TUNSETIFF fails before creating anything.
  assert.throws(() => n.tunOpen('tk/bad', false), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'EINVAL');
    assert.equal(err.errno, -22);
    assert.equal(err.syscall, 'TUNSETIFF');
    assert.match(err.message, /^TUNSETIFF tk\/bad: EINVAL/);
    return true;
  });
  assert.throws(() => n.tunOpen('tk-name-too-long0', false), { code: 'ENAMETOOLONG', message: /^TUNSETIFF tk-name-too-long0: ENAMETOOLONG/ });
});

test('bad arguments are programmer errors thrown before any syscall', () => {
  requireRoot('test/io/native.test');
  const n = loadNative();
  const sizes = new Int32Array(4);
  // fd -1 would fail with EBADF if a syscall ran; the argument check fires first.
  assert.throws(() => n.readBatch(-1, new Uint8Array(100), 0, 64, 4, sizes), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => n.readBatch(-1, new Uint8Array(4096), 64, 64, 4, sizes), { code: 'ERR_OUT_OF_RANGE' }, 'offset must be < stride');
  assert.throws(() => n.readBatch(-1, new Uint8Array(4096), 0, 64, NATIVE_MAX_BATCH + 1, sizes), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => n.readBatch(-1, new Uint8Array(4096), 0, 64, 8, sizes), { code: 'ERR_OUT_OF_RANGE' }, 'sizes too short');
  assert.throws(() => n.writeBatch(-1, new Uint8Array(100), Int32Array.of(90), Int32Array.of(20), 1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => n.sendBatch(-1, new Uint8Array(100), Int32Array.of(0), Int32Array.of(20), new Uint32Array(0), 1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => n.recvBatch(-1, new Uint8Array(256), 0, 64, 4, sizes, new Int32Array(4), new Int32Array(4) as unknown as Uint32Array),
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => n.writeBatch(-1, new Uint8Array(100), new Uint32Array(1) as unknown as Int32Array, sizes, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => n.rawOpen(256), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => n.ifSetHwAddr('lo', new Uint8Array(5)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => n.pollStart(-1, 42 as unknown as () => void), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a batch call on a bad fd throws EBADF with the call named', () => {
  requireRoot('test/io/native.test');
  const n = loadNative();
  assert.throws(() => n.readBatch(-1, new Uint8Array(64), 0, 64, 1, new Int32Array(1)), { code: 'EBADF', message: /^read fd=-1: EBADF/ });
  assert.throws(() => n.recvBatch(-1, new Uint8Array(64), 0, 64, 1, new Int32Array(1), new Int32Array(1), new Uint32Array(1)),
    { code: 'EBADF', syscall: 'recvmmsg' });
  assert.throws(() => n.sendBatch(-1, new Uint8Array(64), Int32Array.of(0), Int32Array.of(20), Uint32Array.of(0xc0000201), 1),
    { code: 'EBADF', syscall: 'sendmmsg' });
});

test('native error paths against real devices, in a network namespace', async (t) => {
  requireRoot('test/io/native.test');
  const ns = createNetns('native');
  try {
    await runSuiteInNetns(t, ns, 'native-errors');
  } finally {
    deleteNetns(ns);
  }
});

test('icmpDropMask keeps exactly the listed types; out-of-range types are refused', () => {
  assert.equal(icmpDropMask([3, 5, 11]) >>> 0, (~((1 << 3) | (1 << 5) | (1 << 11))) >>> 0);
  assert.equal(icmpDropMask([]) >>> 0, 0xffffffff, 'no type kept: every type 0..31 dropped');
  assert.throws(() => icmpDropMask([32]), { name: 'RangeError', message: /0\.\.31, got 32/ });
  assert.throws(() => icmpDropMask([-1]), RangeError);
});

test('rawIcmpFilter on a socket that is not raw ICMP fails with the kernel error', () => {
  requireRoot('test/io/native.test');
  const n = loadNative();
  const fd = n.rawOpen(47);
  try {
    assert.throws(() => n.rawIcmpFilter(fd, 0), { syscall: 'ICMP_FILTER', code: 'EOPNOTSUPP' });
  } finally {
    n.closeFd(fd);
  }
});
