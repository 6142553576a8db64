// A stand-in for the native addon's socket calls (io/native.ts), so RawConn
// runs over a scripted socket: each recvBatch takes the next step of the
// script — a datagram batch, EAGAIN (0), or a thrown errno Error shaped as
// the addon's (code, errno, syscall, "recvmmsg fd=N: CODE") — and the poll
// is driven by the test (fire()), as uv_poll would call it while the fd is
// readable. Only what RawConn and UdpConn call is implemented (sends succeed
// whole, UDP ones recorded); the rest throws.

import type { NativeAddon, PollHandle } from '../../src/io/native.js';

/** One recvBatch result: datagrams to deliver, 0 (EAGAIN), or an errno name to throw. */
export type RecvStep = Uint8Array[] | 0 | string;

/** An Error as the addon throws it for a failed syscall. */
export function errnoError(code: string, syscall: string, fd: number): Error {
  return Object.assign(new Error(`${syscall} fd=${fd}: ${code}`), { code, syscall, errno: -1 });
}

interface FakePoll extends PollHandle { fd: number; cb: () => void; isStopped: boolean }

export class FakeSocketAddon {
  /** recvBatch results, first first; empty = EAGAIN. */
  readonly script: RecvStep[] = [];
  /** fds recvBatch was called with, in order. */
  readonly recvFds: number[] = [];
  readonly closed: number[] = [];
  readonly polls: FakePoll[] = [];
  /** errno names the next pollStart calls throw (uv_poll_init / uv_poll_start refusing the fd). */
  readonly pollFails: string[] = [];
  /** sendUdpBatch calls: the fd and sockState as passed in (before the call changed it). */
  readonly udpSends: { fd: number; state: number[] }[] = [];
  /** fds udpSendDefaults was called with. */
  readonly defaultsFds: number[] = [];
  /** ifindex and source every delivered datagram reports. */
  ifindex = 2;
  src = 0xc6336402;

  /** The live poll handles (started, not stopped). */
  get active(): FakePoll[] { return this.polls.filter((p) => !p.isStopped); }

  /** Runs the callback of each live poll once (one loop iteration with the fd readable); returns how many ran. */
  fire(): number {
    const live = this.active;
    for (const p of live) p.cb();
    return live.length;
  }

  /** The addon surface RawConn uses. */
  asAddon(): NativeAddon {
    const impl: Partial<NativeAddon> = {
      recvBatch: (fd, slab, offset, stride, max, sizes, ifindex, src) => this.recv(fd, slab, offset, stride, max, sizes, ifindex, src),
      pollStart: (fd, cb) => {
        const fail = this.pollFails.shift();
        if (fail !== undefined) throw errnoError(fail, 'uv_poll_init', fd);
        const p: FakePoll = { fd, cb, isStopped: false };
        this.polls.push(p);
        return p;
      },
      pollPause: () => undefined,
      pollStop: (h) => { (h as FakePoll).isStopped = true; },
      closeFd: (fd) => { this.closed.push(fd); },
      // as native/udp_send.c: every datagram sent; DF runs set IP_MTU_DISCOVER, SO_NO_CHECK set, the default kept
      sendUdpBatch: (fd, _slab, _offs, _sizes, _dst, _port, _src, _tos, _ttl, df, count, state) => {
        this.udpSends.push({ fd, state: [...state] });
        state[2] = state[2] === -1 ? 0 : state[2]!;
        state[0] = df[count - 1] === 1 ? 3 : 0;
        state[1] = 1;
        return count;
      },
      udpSendDefaults: (fd, state) => { this.defaultsFds.push(fd); state[0] = -1; state[1] = -1; },
      sendBatch: (_fd, _slab, _offs, _sizes, _dst, count) => count,
      lastBatchErrors: () => 0,
    };
    return new Proxy(impl, {
      get: (t, k: string) => (k in t ? t[k as keyof NativeAddon] : () => { throw new Error(`fake addon: ${k} not implemented`); }),
    }) as NativeAddon;
  }

  private recv(fd: number, slab: Uint8Array, offset: number, stride: number, max: number, sizes: Int32Array, ifindex: Int32Array, src: Uint32Array): number {
    this.recvFds.push(fd);
    const step = this.script.shift() ?? 0;
    if (typeof step === 'string') throw errnoError(step, 'recvmmsg', fd);
    if (step === 0) return 0;
    const n = Math.min(max, step.length);
    for (let i = 0; i < n; i++) {
      slab.set(step[i]!, i * stride + offset);
      sizes[i] = step[i]!.length;
      ifindex[i] = this.ifindex;
      src[i] = this.src;
    }
    return n;
  }
}
