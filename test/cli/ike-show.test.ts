// tunkit ike list-conns and ike monitor: the text against strongSwan 5.9's
// `swanctl --list-conns` for the same swanctl.conf (captured from charon in
// a namespace), the JSON records, the ike.list-conns control op as the IKE
// shell answers it, and one line per monitor event.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/args.js';
import { runIke } from '../../src/cli/ike.js';
import { formatConns, formatIkeEvent } from '../../src/cli/ike-show.js';
import { formatEvent, MONITOR_WORDS } from '../../src/cli/link.js';
import type { IkeConnRecord, IkeEvent, IkeSaRef } from '../../src/control/ike.js';
import type { Control } from '../../src/daemon/client.js';
import { IkeShell } from '../../src/daemon/ike-shell.js';
import { Log } from '../../src/daemon/log.js';
import { listConns } from '../../src/ike/conns.js';
import { parseSwanctl } from '../../src/ike/swanctl.js';

const CONF = `connections {
  gw {
    version = 2
    local_addrs = 198.51.100.1
    remote_addrs = 198.51.100.2
    proposals = aes128gcm16-prfsha256-x25519
    rekey_time = 2h
    dpd_delay = 30s
    local {
      auth = psk
      id = t.example
    }
    remote {
      auth = psk
      id = s.example
    }
    children {
      net-t {
        local_ts = 203.0.113.1/32
        remote_ts = 203.0.113.2/32,192.0.2.0/24
        esp_proposals = aes128gcm16
        rekey_time = 600s
        start_action = trap
        dpd_action = restart
        close_action = start
      }
      two {
        local_ts = dynamic
        remote_ts = dynamic
      }
    }
  }
  def {
    version = 2
    remote_addrs = 203.0.113.9
    local {
      auth = pubkey
      certs = me.pem
      id = me.example
    }
    remote {
      auth = pubkey
      id = %any
    }
    children {
      c {
        rekey_time = 0
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = t.example
    secret = "documentation only"
  }
}
`;

/** `swanctl --list-conns` of strongSwan 5.9.x (charon + swanctl) after `swanctl --load-all` of CONF (def without version printed IKEv1/2 there; its certs = me.pem is not loaded here: parseSwanctl reads no files, so no `certs:` line). */
const STRONGSWAN = `gw: IKEv2, no reauthentication, rekeying every 7200s, dpd delay 30s
  local:  198.51.100.1
  remote: 198.51.100.2
  local pre-shared key authentication:
    id: t.example
  remote pre-shared key authentication:
    id: s.example
  net-t: TUNNEL, rekeying every 600s, dpd action is start
    local:  203.0.113.1/32
    remote: 203.0.113.2/32 192.0.2.0/24
  two: TUNNEL, rekeying every 3600s, dpd action is none
    local:  dynamic
    remote: dynamic
def: IKEv2, no reauthentication, rekeying every 14400s
  local:  %any
  remote: 203.0.113.9
  local public key authentication:
    id: me.example
  remote public key authentication:
    id: %any
  c: TUNNEL, no rekeying
    local:  dynamic
    remote: dynamic`;

const O = { statsLevel: 0, hasDetails: false, isJson: false, isPretty: false };

test('list-conns text is swanctl --list-conns\'s for the same swanctl.conf', () => {
  assert.equal(formatConns(listConns(parseSwanctl(CONF, 'test.conf'))), STRONGSWAN);
});

test('list-conns records: lifetimes, dpd, actions and proposals (JSON only), no secret', () => {
  const [gw, def] = listConns(parseSwanctl(CONF, 'test.conf'));
  assert.ok(gw !== undefined && def !== undefined);
  assert.deepEqual([gw.rekeyTime, gw.dpdDelay, gw.reauthTime, gw.remotePort, gw.proposals], [7200, 30, 0, 500, ['AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519']]);
  assert.deepEqual(gw.local, { auth: 'psk', class: 'pre-shared key', id: 't.example', certs: [], cacerts: [] });
  const [t] = gw.children;
  assert.deepEqual([t?.startAction, t?.dpdAction, t?.closeAction, t?.espProposals, t?.rekeyTime], ['trap', 'start', 'start', ['AES_GCM_16-128'], 600]);
  assert.equal(def.children[0]?.rekeyTime, 0);
  assert.doesNotMatch(JSON.stringify([gw, def]), /documentation only/);
});

test('the IKE shell answers ike.list-conns from the loaded configuration', () => {
  const shell = new IkeShell({ control: () => null, log: new Log({ out: () => undefined, journal: true }), ikeConn: null, natTConn: null });
  try {
    assert.deepEqual(shell.handle('ike.list-conns', {}), []);
    shell.apply(parseSwanctl(CONF, 'test.conf'), 'test.conf');
    const got = shell.handle('ike.list-conns', {}) as IkeConnRecord[];
    assert.deepEqual(got.map((c) => [c.name, c.children.map((ch) => ch.name)]), [['gw', ['net-t', 'two']], ['def', ['c']]]);
  } finally {
    shell.close();
  }
});

test('tunkit ike list-conns: ike.list-conns, text or -j; extra words are a usage error', async () => {
  const recs = listConns(parseSwanctl(CONF, 'test.conf'));
  const ops: string[] = [];
  const ctl: Control = { path: '/nonexistent', request: (op) => { ops.push(op); return Promise.resolve(recs); } };
  let out = '';
  assert.equal(await runIke(['list-conns'], ctl, O, (s) => { out += s; }), 0);
  assert.equal(out, STRONGSWAN);
  out = '';
  assert.equal(await runIke(['list-conns'], ctl, { ...O, isJson: true }, (s) => { out += s; }), 0);
  assert.deepEqual(JSON.parse(out), recs);
  await assert.rejects(runIke(['list-conns', 'gw'], ctl, O, () => undefined), UsageError);
  await assert.rejects(runIke(['monitor', 'x'], ctl, O, () => undefined), UsageError);
  assert.deepEqual(ops, ['ike.list-conns', 'ike.list-conns']);
});

const SA1: IkeSaRef = {
  name: 'gw', uniqueId: 1, localAddr: '198.51.100.1', localPort: 500, remoteAddr: '198.51.100.2', remotePort: 500,
  spiI: '0123456789abcdef', spiR: 'fedcba9876543210', isInitiator: true,
};
const SA2: IkeSaRef = { ...SA1, uniqueId: 2, spiI: '1111111111111111', spiR: '2222222222222222', isInitiator: false };
const CH1 = { name: 'net-t', uniqueId: 1, reqid: 1, spiIn: 'c1234567', spiOut: 'c7654321', localTs: ['203.0.113.1/32'], remoteTs: ['203.0.113.2/32'] };
const CH2 = { ...CH1, uniqueId: 2, spiIn: 'c2222222', spiOut: 'c3333333' };

test('ike monitor: one line per event', () => {
  const lines: [IkeEvent, string][] = [
    [{ type: 'ike.ike-updown', up: true, ike: SA1, localId: 't.example', remoteId: 's.example' },
      "ike-updown: up gw #1 198.51.100.1[500] 't.example' <=> 198.51.100.2[500] 's.example' SPIs 0123456789abcdef_i* fedcba9876543210_r"],
    [{ type: 'ike.ike-updown', up: false, ike: SA2, localId: 't.example', remoteId: 's.example', reason: 'deleted by the peer' },
      "ike-updown: down gw #2 198.51.100.1[500] 't.example' <=> 198.51.100.2[500] 's.example' SPIs 1111111111111111_i 2222222222222222_r* (deleted by the peer)"],
    [{ type: 'ike.child-updown', up: true, ike: SA1, child: CH1 },
      'child-updown: up gw #1 net-t{1} reqid 1 SPIs c1234567_i c7654321_o 203.0.113.1/32 === 203.0.113.2/32'],
    [{ type: 'ike.ike-rekey', old: SA1, new: SA2 },
      'ike-rekey: gw #1 -> #2 SPIs 0123456789abcdef_i* fedcba9876543210_r -> 1111111111111111_i 2222222222222222_r*'],
    [{ type: 'ike.child-rekey', ike: SA1, old: CH1, new: CH2 },
      'child-rekey: gw #1 net-t{1} -> {2} reqid 1 SPIs c1234567_i c7654321_o -> c2222222_i c3333333_o'],
    [{ type: 'ike.failure', kind: 'auth', name: 'gw', uniqueId: 3, remoteAddr: '198.51.100.2', remotePort: 500, reason: 'wrong PSK' },
      'ike-failure: auth gw #3 198.51.100.2[500]: wrong PSK'],
    [{ type: 'ike.failure', kind: 'negotiation', name: '', uniqueId: 0, remoteAddr: '192.0.2.7', remotePort: 500, reason: 'no connection' },
      'ike-failure: negotiation - 192.0.2.7[500]: no connection'],
  ];
  for (const [e, want] of lines) {
    assert.equal(formatIkeEvent(e), want);
    assert.equal(formatEvent(e), want, 'tunkit monitor prints them the same');
  }
  assert.ok(MONITOR_WORDS.includes('ike'));
});
