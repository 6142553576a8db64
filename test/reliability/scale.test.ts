// Scale (issue 13, "Faults and load"), bounded so it runs with the suite:
//   - per-packet cost of tunnel 1 and of IPsec site 1 with 2,000 of each
//     beside it stays within 2x of the cost with 64 (the lookups are hashed
//     or indexed, not linear scans: src/tunnel/lookup.ts, src/xfrm/spd-index.ts,
//     sad.ts); measured through the sans-I/O cores;
//   - 2,000 tunnels and 2,000 SA pairs with their policies go into a real
//     tunkitd through `tunkit -batch -` and all of them are listed back;
//     the daemon's RSS grows by under TUNNEL_KIB per tunnel (device reads
//     share one read arena, src/datapath/arena.ts: measured ~25-45 KiB per
//     tunnel; read slabs per device, as before, cost ~155 KiB).
// bench/scale-cli.bench.ts prints the same figures (times, RSS) without
// asserting. The netns part needs root and FAILS (never skips) without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withPair } from '../netns/pair.js';
import { cliScale, ipsecCost, tunnelCost } from './scale-core.js';

const N = 2000;
/** RSS per tunnel (TUN offload on), KiB: ~2x what the shared read arena measures, under read slabs per device. */
const TUNNEL_KIB = 90;

// Linear lookups would make 2,000 objects cost ~30x what 64 cost; the bound
// is 2x. 64 rather than 1 as the base: up to FLAT_MAX (32) inexact policies
// the SPD scans a short list instead of walking its tries (spd-index.ts), a
// constant step that is not growth. The cost with 1 is reported beside it.
const BASE = 64;

test(`per-packet cost of tunnel 1 and site 1 with ${N} beside them is under 2x the cost with ${BASE} (not linear)`, (t) => {
  for (const [what, cost] of [['gre tunnel receive+xmit', tunnelCost], ['esp output+input', ipsecCost]] as const) {
    cost(1, 2000); // JIT warm-up outside the measured pair
    const one = cost(1, 20_000);
    // The least of 3 alternating measurements each: a GC or a busy neighbour
    // in one of them (seen in CI under c8: 2630 vs 1304 ns once) is not growth.
    let base = Infinity;
    let many = Infinity;
    for (let k = 0; k < 3; k++) {
      base = Math.min(base, cost(BASE, 20_000));
      many = Math.min(many, cost(N, 20_000));
    }
    t.diagnostic(`${what}: ${one.toFixed(0)} ns with 1, ${base.toFixed(0)} ns with ${BASE}, ${many.toFixed(0)} ns with ${N} (x${(many / base).toFixed(2)} of ${BASE})`);
    assert.ok(many < 2 * base, `${what}: ${many.toFixed(0)} ns with ${N} vs ${base.toFixed(0)} ns with ${BASE}`);
  }
});

test(`${N} tunnels and ${N} SA pairs with policies through tunkit -batch -: all added, all listed`, {
  timeout: 600_000,
}, async (t) => {
  await withPair('tksc', async (p) => {
    const r = await cliScale(p, N, (m) => t.diagnostic(m));
    t.diagnostic(JSON.stringify(r));
    assert.equal(r.links, N);
    assert.equal(r.states, 2 * N);
    assert.equal(r.policies, 2 * N);
    const perTunnel = ((r.rssTunnelsMiB - r.rssIdleMiB) * 1024) / N;
    assert.ok(perTunnel < TUNNEL_KIB, `RSS ${perTunnel.toFixed(1)} KiB per tunnel (bound ${TUNNEL_KIB})`);
    assert.ok(p.isAlive('left'));
  });
});
