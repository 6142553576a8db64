// `tunkit stats`: the daemon's flat `stats` answer (drop names plus the
// NAT-T names) printed as lines, and with -j split into unmatched_drops and
// nat_t.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args.js';
import { runStats } from '../../src/cli/link.js';
import type { Control } from '../../src/daemon/client.js';

const daemon = (answer: Record<string, number>): Control => ({ path: '/nonexistent', request: () => Promise.resolve(answer) });

async function stats(argv: string[], answer: Record<string, number>): Promise<string> {
  let out = '';
  assert.equal(await runStats(parseArgs(argv), daemon(answer), (s) => { out += s; }), 0);
  return out;
}

test('tunkit stats: drops and NAT-T counts as "Name count" lines; nothing at all says so', async () => {
  assert.equal(await stats(['stats'], { NoTunnel: 3, NatTKeepalive: 2, NatTIke: 1 }), 'NoTunnel 3\nNatTKeepalive 2\nNatTIke 1');
  assert.equal(await stats(['stats'], {}), 'no unmatched drops');
});

test('tunkit -j stats: drops under unmatched_drops, keepalives and IKE messages under nat_t (zeros included)', async () => {
  assert.deepEqual(JSON.parse(await stats(['-j', 'stats'], { NoTunnel: 3, GreChecksum: 1, NatTIke: 4 })), {
    unmatched_drops: { NoTunnel: 3, GreChecksum: 1 }, nat_t: { keepalives: 0, ike: 4 },
  });
  assert.deepEqual(JSON.parse(await stats(['-j', 'stats'], {})), { unmatched_drops: {}, nat_t: { keepalives: 0, ike: 0 } });
});
