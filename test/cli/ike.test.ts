// src/cli/ike.ts: swanctl --list-sas text with the rekey and expiry timers,
// and `tunkit ike rekey --child NAME | --ike NAME` (request args, usage errors).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/args.js';
import { formatSas, runIke } from '../../src/cli/ike.js';
import type { IkeSaRecord } from '../../src/control/ike.js';
import type { Control } from '../../src/daemon/client.js';
import type { Op } from '../../src/daemon/protocol.js';

const NOW = 1_800_000_000;
const SA: IkeSaRecord = {
  name: 'gw', uniqueId: 3, state: 'ESTABLISHED', version: 2, isInitiator: true, spiI: '0123456789abcdef', spiR: 'fedcba9876543210',
  localAddr: '198.51.100.1', localPort: 500, localId: 'a.example', remoteAddr: '198.51.100.2', remotePort: 500, remoteId: 'b.example',
  algorithms: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', isNatDetected: false, establishTime: NOW - 5, rekeyTime: NOW + 13_000,
  children: [{
    name: 'net', uniqueId: 7, reqid: 1, state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', encap: false, spiIn: 'c1234567', spiOut: 'c7654321',
    algorithms: 'AES_GCM_16-128', localTs: ['203.0.113.0/28'], remoteTs: ['203.0.113.16/28'], installTime: NOW - 5, rekeyTime: NOW + 3224, lifeTime: NOW + 3955,
    bytesIn: 84, packetsIn: 1, bytesOut: 84, packetsOut: 1,
  }],
};

test('list-sas prints swanctl\'s "rekeying in" and "expires in"; a zero time prints nothing', () => {
  const text = formatSas([SA], NOW);
  assert.match(text, /\n {2}established 5s ago, rekeying in 13000s\n/);
  assert.match(text, /\n {4}installed 5s ago, rekeying in 3224s, expires in 3955s\n/);
  const none = formatSas([{ ...SA, rekeyTime: 0, children: [{ ...SA.children[0]!, rekeyTime: 0, lifeTime: 0, state: 'REKEYED' }] }], NOW);
  assert.match(none, /\n {2}established 5s ago\n/);
  assert.match(none, /\n {2}net: #7, reqid 1, REKEYED, TUNNEL, ESP:AES_GCM_16-128\n {4}installed 5s ago\n/);
});

test('ike rekey --child / --ike send ike.rekey with that name; anything else is a usage error', async () => {
  const seen: [Op, unknown][] = [];
  const ctl: Control = { path: '/nonexistent', request: (op: Op, args?: object): Promise<unknown> => { seen.push([op, args]); return Promise.resolve({ rekeyed: 2 }); } };
  const o = { statsLevel: 0, hasDetails: false, isJson: false, isPretty: false };
  let out = '';
  assert.equal(await runIke(['rekey', '--child', 'net'], ctl, o, (s) => { out += s; }), 0);
  assert.equal(await runIke(['rekey', '--ike', 'gw'], ctl, { ...o, isJson: true }, (s) => { out += `|${s}`; }), 0);
  assert.deepEqual(seen, [['ike.rekey', { child: 'net' }], ['ike.rekey', { ike: 'gw' }]]);
  assert.equal(out, 'rekey completed successfully (2 SAs rekeying)|{"rekeyed":2}');
  for (const bad of [['rekey'], ['rekey', 'net'], ['rekey', '--child'], ['rekey', '--sa', 'x'], ['rekey', '--child', 'a', 'b']]) {
    await assert.rejects(runIke(bad, ctl, o, () => undefined), (e: unknown) => e instanceof UsageError && /ike rekey takes --child NAME or --ike NAME/.test(e.message), bad.join(' '));
  }
  assert.equal(seen.length, 2, 'nothing sent for a bad command line');
});
