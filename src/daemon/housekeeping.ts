// The daemon's once-a-second pass over its tunnels (main.ts): IFF_UP set
// with plain `ip link` mirrored into the lookups (TunkitNode.syncUp), the
// underlay route facts re-read (applyRoute: route present, PMTU floor,
// loops), and `tunkit monitor drops` tracing switched on or off.
//
// Bounded work per tick: each device costs an ioctl (IFF_UP) and each
// remote an RTM_GETROUTE, and the pass runs on the data path's event loop,
// so one tick handles at most SLICE tunnels, round robin (a Map iterator
// kept across ticks: tunnels added meanwhile are visited, deleted ones
// skipped), and looks each remote up once. Up to SLICE tunnels, every
// tunnel is visited every tick, as before; with 10,000, each is visited
// every 20 s instead of the pass taking ~3 s of every second (measured:
// 10,000 × (socket + ioctl + close + sendto + recvfrom) ≈ 3.5 s).
// Tracing is set on every tunnel every tick (a property write each, the
// same closure for all).

import type { TraceHook } from '../tunnel/trace.js';
import type { UnderlayRoute } from './devices.js';
import type { Entry, TunkitNode } from './node.js';

/** The hooks `tunkit monitor drops` needs: one for every tunnel, one for the stack (packets no tunnel took). */
export interface DropTracers {
  readonly tunnel: TraceHook;
  readonly stack: TraceHook;
}

/** Tunnels one tick re-reads, at most. */
export const HOUSEKEEPING_SLICE = 512;

export class Housekeeping {
  private it: Iterator<Entry>;
  /** Route lookups of the tick being run, by remote (host-order IPv4). */
  private readonly routes = new Map<number, UnderlayRoute>();

  constructor(private readonly node: TunkitNode, private readonly slice = HOUSEKEEPING_SLICE) {
    this.it = node.all.values();
  }

  /** One tick; tracers: set while drops are traced, else null (tracing off). */
  tick(tracers: DropTracers | null): void {
    const node = this.node;
    node.fallbacks.sync();
    this.routes.clear();
    for (let k = 0; k < this.slice; k++) {
      const r = this.it.next();
      if (r.done === true) { // a full round: the next tick starts a new one
        this.it = node.all.values();
        break;
      }
      node.syncUp(r.value);
      node.applyRoute(r.value.tunnel, this.routes);
    }
    const trace = tracers?.tunnel ?? null;
    for (const e of node.all.values()) e.tunnel.trace = trace;
    node.stack.trace = tracers?.stack ?? null;
  }
}
