// makeSaConfig: the refusals of net/xfrm/xfrm_user.c (verify_newsa_info,
// verify_replay, copy_from_user_state) and __xfrm_init_state /
// xfrm_init_replay, each a ConfigError naming the field, and the values
// they derive (replay mode and the legacy clamp, flags, encap, limits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/wire/errors.js';
import {
  makeLimits, makeSaConfig, UDP_ENCAP_ESPINUDP, UDP_ENCAP_ESPINUDP_NON_IKE, XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL,
  XFRM_SA_XFLAG_DONT_ENCAP_DSCP, XFRM_STATE_DECAP_DSCP, XFRM_STATE_ESN, XFRM_STATE_NOECN,
} from '../../src/xfrm/config.js';
import { ReplayMode } from '../../src/xfrm/replay.js';
import type { LimitsSpec, StateSpec } from '../../src/xfrm/spec.js';

const GCM = { name: 'rfc4106(gcm(aes))', keyHex: '00'.repeat(20), bits: 128 };
const base: StateSpec = { src: '198.51.100.1', dst: '198.51.100.2', proto: 'esp', spi: 0x1001, mode: 'tunnel', aead: GCM };
const make = (over: Record<string, unknown>): ReturnType<typeof makeSaConfig> =>
  makeSaConfig({ ...base, ...over } as unknown as StateSpec, (d) => (d === 'eth0' ? 2 : null));

function refuses(over: Record<string, unknown>, field: string, text?: RegExp): void {
  assert.throws(() => make(over), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.field, field, `${JSON.stringify(over)}: ${e.message}`);
    assert.equal(e.code, 'EINVAL');
    if (text !== undefined) assert.match(e.message, text);
    return true;
  });
}

test('verify_newsa_info: algorithms — aead with enc or auth; neither aead nor enc (auth alone names enc)', () => {
  refuses({ enc: { name: 'cbc(aes)', keyHex: '00'.repeat(16) } }, 'aead', /cannot be combined/);
  refuses({ auth: { name: 'hmac(sha256)', keyHex: '00'.repeat(32) } }, 'aead');
  refuses({ aead: undefined }, 'aead', /needs an aead or an enc/);
  refuses({ aead: undefined, auth: { name: 'hmac(sha256)', keyHex: '00'.repeat(32) } }, 'enc');
  refuses({ aead: { name: 'x' } }, 'aead', /name and a hex key/);
  refuses({ aead: { ...GCM, keyHex: 'zz' } }, 'aead', /not hex/);
  refuses({ aead: { ...GCM, bits: -8 } }, 'aead', /bits/);
  refuses({ aead: undefined, enc: { name: 'cbc(aes)', keyHex: '00'.repeat(16) }, auth: { name: 'hmac(sha1)' } }, 'auth');
  assert.equal(make({ aead: { ...GCM, keyHex: '0x' + '00'.repeat(20) } }).crypto.aead?.key.length, 20, 'a 0x prefix is allowed');
  const cbc = make({ aead: undefined, enc: { name: 'cbc(aes)', keyHex: '00'.repeat(16) }, auth: { name: 'hmac(sha256)', keyHex: '11'.repeat(32), bits: 128 } });
  assert.equal(cbc.crypto.enc?.name, 'cbc(aes)');
  assert.equal(cbc.crypto.auth?.bits, 128);
});

test('verify_newsa_info: addresses, proto, mode, spi', () => {
  refuses({ src: undefined }, 'src');
  refuses({ dst: 'nope' }, 'dst');
  refuses({ dst: '2001:db8::2' }, 'dst', /one family/);
  refuses({ proto: 'ah' }, 'proto');
  refuses({ mode: 'beet' }, 'mode');
  refuses({ spi: -1 }, 'spi');
  refuses({ spi: 2 ** 32 }, 'spi');
  refuses({ spi: 1.5 }, 'spi');
  assert.equal(make({ spi: 1 }).spi, 1, 'SPIs 1..255 are accepted, as the kernel does');
  assert.throws(() => makeSaConfig(null as unknown as StateSpec, () => null), (e: unknown) => e instanceof ConfigError && e.field === 'state');
});

test('verify_newsa_info: TFC padding only in tunnel mode', () => {
  refuses({ mode: 'transport', tfcpad: 100 }, 'tfcpad', /tunnel/);
  refuses({ tfcpad: -1 }, 'tfcpad');
  assert.equal(make({ mode: 'transport', tfcpad: 0 }).tfcpad, 0);
  assert.equal(make({ tfcpad: 1200 }).tfcpad, 1200);
});

test('verify_replay / xfrm_init_replay: ESN needs a window; windows above 4096 refused; legacy is ≤ 32, larger becomes bmp', () => {
  refuses({ flags: ['esn'], replayWindow: 0 }, 'replay-window', /ESN state needs/);
  refuses({ flags: ['esn'] }, 'replay-window');
  refuses({ flags: ['esn'], replayWindow: 4097 }, 'replay-window', /must be <= 128/);
  refuses({ replayWindow: 4097 }, 'replay-window', /must be <= 128/);
  refuses({ replayWindow: -1 }, 'replay-window');
  const rows: [Record<string, unknown>, ReplayMode, number][] = [
    [{}, ReplayMode.Legacy, 0],
    [{ replayWindow: 32 }, ReplayMode.Legacy, 32],
    [{ replayWindow: 33 }, ReplayMode.Bmp, 33],
    [{ replayWindow: 4096 }, ReplayMode.Bmp, 4096],
    [{ flags: ['esn'], replayWindow: 1 }, ReplayMode.Esn, 1],
    [{ flags: ['esn'], replayWindow: 4096 }, ReplayMode.Esn, 4096],
  ];
  for (const [over, mode, window] of rows) {
    const c = make(over);
    assert.deepEqual([c.replayMode, c.replayWindow], [mode, window], JSON.stringify(over));
    assert.equal(c.crypto.esn, mode === ReplayMode.Esn);
  }
});

test('flags and extra-flags by name (XFRM_STATE_*, XFRM_SA_XFLAG_*); an unknown name is refused, listing the known ones', () => {
  const c = make({ flags: ['noecn', 'decap-dscp', 'esn'], replayWindow: 64, extraFlags: ['dont-encap-dscp'] });
  assert.equal(c.flags, XFRM_STATE_NOECN | XFRM_STATE_DECAP_DSCP | XFRM_STATE_ESN);
  assert.equal(c.xflags, XFRM_SA_XFLAG_DONT_ENCAP_DSCP);
  refuses({ flags: ['fast'] }, 'flag', /unknown flag "fast" \(noecn, decap-dscp/);
  refuses({ flags: 'noecn' }, 'flag', /list/);
  refuses({ flags: [7] }, 'flag');
  refuses({ extraFlags: ['noecn'] }, 'extra-flag', /dont-encap-dscp, oseq-may-wrap/);
});

test('encap: espinudp / espinudp-nonike on IPv4 only, ports 1..65535, oa an address', () => {
  const e = make({ encap: { type: 'espinudp', sport: 4500, dport: 4501, oa: '203.0.113.9' } }).encap!;
  assert.deepEqual([e.type, e.sport, e.dport, e.oa.family], [UDP_ENCAP_ESPINUDP, 4500, 4501, 4]);
  assert.equal(make({ encap: { type: 'espinudp-nonike', sport: 1, dport: 65535 } }).encap?.type, UDP_ENCAP_ESPINUDP_NON_IKE, 'oa defaults to 0.0.0.0');
  refuses({ src: '2001:db8::1', dst: '2001:db8::2', encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '::' } }, 'encap', /IPv4/);
  refuses({ encap: { type: 'espintcp', sport: 4500, dport: 4500 } }, 'encap', /espinudp/);
  refuses({ encap: 'yes' }, 'encap');
  refuses({ encap: { type: 'espinudp', sport: 0, dport: 4500 } }, 'encap sport');
  refuses({ encap: { type: 'espinudp', sport: 4500, dport: 65536 } }, 'encap dport');
  refuses({ encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: 'x' } }, 'encap oa');
});

test('__xfrm_init_state: a transport-mode state selects its own family only; tunnel mode may carry the other; af-unspec → family 0', () => {
  refuses({ mode: 'transport', sel: { src: '::/0', dst: '::/0' } }, 'sel', /own family/);
  assert.equal(make({ sel: { src: '::/0', dst: '::/0' } }).sel.family, 6);
  assert.equal(make({ mode: 'transport' }).mode, XFRM_MODE_TRANSPORT);
  assert.equal(make({}).mode, XFRM_MODE_TUNNEL);
  assert.equal(make({}).sel.family, 4, 'no sel: the state family, all-matching');
  assert.equal(make({ flags: ['af-unspec'] }).sel.family, 0);
  assert.equal(make({ mode: 'transport', flags: ['af-unspec'] }).sel.family, 0, 'AF_UNSPEC transport selectors pass');
  assert.equal(make({ sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0', dev: 'eth0' } }).sel.ifindex, 2);
  refuses({ sel: { src: '192.0.2.0/24', dst: '0.0.0.0/0', dev: 'eth9' } }, 'sel.dev');
});

test('marks, if_id, reqid: u32; limits: non-negative integers, absent = XFRM_INF', () => {
  const c = make({ mark: { value: 5 }, outputMark: { value: 1, mask: 0xff }, ifId: 7, reqid: 9 });
  assert.deepEqual([c.mark, c.outputMark, c.ifId, c.reqid], [{ value: 5, mask: 0xffffffff }, { value: 1, mask: 0xff }, 7, 9]);
  assert.deepEqual(make({}).mark, { value: 0, mask: 0 });
  refuses({ mark: 5 }, 'mark');
  refuses({ mark: { value: -1 } }, 'mark value');
  refuses({ outputMark: { value: 1, mask: 2 ** 32 } }, 'output-mark mask');
  refuses({ ifId: 'x' }, 'if_id');
  refuses({ reqid: -2 }, 'reqid');
  const inf = makeLimits(undefined);
  assert.ok(Object.values(inf).every((v) => v === Infinity));
  const l = make({ limits: { byteSoft: 1, packetHard: 0, timeUseHard: 30 } }).limits;
  assert.deepEqual([l.byteSoft, l.packetHard, l.timeUseHard, l.timeHard], [1, 0, 30, Infinity]);
  for (const [k, name] of [['timeSoft', 'time-soft'], ['timeHard', 'time-hard'], ['timeUseSoft', 'time-use-soft'], ['byteHard', 'byte-hard'], ['packetSoft', 'packet-soft']] as const) {
    refuses({ limits: { [k]: -1 } as LimitsSpec }, `limit ${name}`);
    refuses({ limits: { [k]: 1.5 } as LimitsSpec }, `limit ${name}`);
  }
  refuses({ limits: { byteSoft: 2 ** 53 } }, 'limit byte-soft');
});
