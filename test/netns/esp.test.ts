// IPsec ESP, tunkit ↔ tunkit (pair.ts + esp-fixture.ts), driven through the
// `tunkit xfrm` CLI (ip xfrm syntax):
//   tunnel mode, every algorithm (AES-GCM 128/192/256 × ICV 64/96/128,
//     ChaCha20-Poly1305, AES-CBC 128/256 with HMAC-SHA1/256/384/512 at their
//     RFC truncations, plain `auth hmac(sha256)` = 96 bits), ESN,
//     ESP-in-UDP (4500) and TFC padding: pings both ways, verified 10 MB
//     TCP transfers on several, a capture of the veth (every packet ESP, or
//     UDP 4500, of exactly the length RFC 4303 padding gives), per-SA
//     packet counts equal on both ends, no xfrm_stat error counter moved;
//   GRE over ESP transport mode (proto gre selectors): no clear GRE on the wire;
//   lifetimes (packet-soft 5, packet-hard 10): `tunkit xfrm monitor` prints a
//     soft then a hard expire, traffic stops (XfrmOutStateExpired/NoStates).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import {
  assertXfrmDelta, Capture, describe, flushXfrm, INNER, installSas, key, OUTER, sa, settleStates, states, xfrmStat, xfrmStats,
} from './esp-fixture.js';
import type { SaSpec, Seen } from './esp-fixture.js';
import { MB10, sleep, step, TUNKIT, withPair } from './pair.js';
import type { Pair } from './pair.js';

/** How the transform shapes the wire: IV bytes, padding block, ICV bytes. */
interface Shape { readonly iv: number; readonly blk: number; readonly icv: number }
interface Algo extends Shape { readonly label: string; readonly args: () => readonly string[] }

const gcm = (bits: 128 | 192 | 256, icv: 64 | 96 | 128): Algo => ({
  label: `AES-GCM-${bits} ICV ${icv}`, iv: 8, blk: 4, icv: icv / 8,
  args: () => ['aead', 'rfc4106(gcm(aes))', key(bits / 8 + 4), String(icv)],
});
const CHACHA: Algo = {
  label: 'ChaCha20-Poly1305', iv: 8, blk: 4, icv: 16,
  args: () => ['aead', 'rfc7539esp(chacha20,poly1305)', key(36), '128'],
};
const cbc = (bits: 128 | 256, hash: 'sha1' | 'sha256' | 'sha384' | 'sha512', trunc: number | null): Algo => {
  const hashKey = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }[hash];
  return {
    label: `AES-CBC-${bits} ${trunc === null ? `auth hmac(${hash}) (default truncation)` : `auth-trunc hmac(${hash}) ${trunc}`}`,
    iv: 16, blk: 16, icv: (trunc ?? 96) / 8,
    args: () => ['enc', 'cbc(aes)', key(bits / 8), ...(trunc === null ? ['auth', `hmac(${hash})`, key(hashKey)] : ['auth-trunc', `hmac(${hash})`, key(hashKey), String(trunc)])],
  };
};

interface Case {
  readonly name: string;
  readonly algo: Algo;
  readonly extra?: readonly string[];
  readonly xfer?: boolean;
  /** Checks on the capture of the pings beyond "every packet is ESP of the expected length". */
  readonly wire?: 'udp' | 'tfc';
  /** Checks on the SA records. */
  readonly check?: (p: Pair, spi: number) => void;
}

const G128 = gcm(128, 128);
const CASES: readonly Case[] = [
  { name: 'gcm128', algo: G128, xfer: true },
  { name: 'gcm192-icv96', algo: gcm(192, 96) },
  { name: 'gcm256-icv64', algo: gcm(256, 64) },
  { name: 'chacha20-poly1305', algo: CHACHA, xfer: true },
  { name: 'cbc128-sha256', algo: cbc(128, 'sha256', 128), xfer: true },
  { name: 'cbc256-sha384', algo: cbc(256, 'sha384', 192) },
  { name: 'cbc256-sha512', algo: cbc(256, 'sha512', 256) },
  { name: 'cbc128-sha1', algo: cbc(128, 'sha1', 96) },
  {
    name: 'cbc256-sha256-default', algo: cbc(256, 'sha256', null),
    check: (p, spi) => assert.match(p.tunkitOk('left', `xfrm state get src ${OUTER[0]} dst ${OUTER[1]} proto esp spi 0x${spi.toString(16)}`),
      /auth-trunc hmac\(sha256\) <<Keys hidden>> 96\n/, 'plain `auth hmac(sha256)` is the kernel\'s 96-bit truncation'),
  },
  {
    name: 'gcm128-esn', algo: G128, extra: ['flag', 'esn', 'replay-window', '128'],
    check: (p, spi) => {
      for (const s of ['left', 'right'] as const) {
        const x = sa(states(p, s), spi, s);
        assert.ok(x.replay.isEsn, `[${s}] ESN replay state`);
        assert.equal(x.replay.bitmap.length, 4, `[${s}] a 128-bit ESN window is 4 words`);
        assert.ok(x.flags?.includes('esn'), `[${s}] flag esn`);
      }
    },
  },
  { name: 'gcm128-espinudp', algo: G128, extra: ['encap', 'espinudp', '4500', '4500', '0.0.0.0'], wire: 'udp', xfer: true },
  { name: 'gcm128-tfcpad', algo: G128, extra: ['tfcpad', '1000'], wire: 'tfc' },
];

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
/** RFC 4303 / esp_output: outer IPv4 + ESP header + IV + payload padded with Pad Length and Next Header to the block + ICV. */
const espTotal = (s: Shape, payload: number, udp = 0, outerIp = 20): number => outerIp + udp + 8 + s.iv + align(payload + 2, s.blk) + s.icv;

/** The capture of a 56-byte ping (84-byte inner packet) in tunnel mode. */
function checkWire(t: TestContext, c: Case, seen: readonly Seen[]): void {
  t.diagnostic(`${c.name} on the wire: ${describe(seen)}`);
  assert.ok(seen.length >= 12, `${c.name}: captured ${seen.length} packets, expected ≥ 12 (3 pings each way)`);
  if (c.wire === 'udp') {
    assert.ok(seen.every((x) => x.proto === 17 && x.sport === 4500 && x.dport === 4500), `${c.name}: every packet is UDP 4500 → 4500: ${describe(seen)}`);
  } else {
    assert.ok(seen.every((x) => x.proto === 50), `${c.name}: every packet is ESP: ${describe(seen)}`);
  }
  if (c.wire === 'tfc') {
    assert.ok(seen.every((x) => x.totalLen >= 1000), `${c.name}: tfcpad 1000 pads every ESP packet to ≥ 1000 bytes: ${describe(seen)}`);
    return;
  }
  const want = espTotal(c.algo, 84, c.wire === 'udp' ? 8 : 0);
  assert.ok(seen.every((x) => x.totalLen === want), `${c.name}: every packet is ${want} bytes (IV ${c.algo.iv}, block ${c.algo.blk}, ICV ${c.algo.icv}): ${describe(seen)}`);
}

/** Out SA packets on one end == in SA packets on the other, both directions; sequence numbers agree; no per-SA errors. */
async function checkSas(t: TestContext, p: Pair, spi: number, minPackets: number): Promise<void> {
  const st = await settleStates(p);
  for (const [from, to, id] of [['left', 'right', spi], ['right', 'left', spi + 1]] as const) {
    const out = sa(st[from], id, from);
    const inn = sa(st[to], id, to);
    t.diagnostic(`spi 0x${id.toString(16)} ${from}→${to}: ${from} out ${out.curlft.packets} pkts (oseq ${out.replay.oseq}), ${to} in ${inn.curlft.packets} pkts (seq ${inn.replay.seq})`);
    assert.equal(inn.curlft.packets, out.curlft.packets, `spi 0x${id.toString(16)}: ${to} in-SA packets must equal ${from} out-SA packets`);
    assert.ok(out.curlft.packets >= minPackets, `spi 0x${id.toString(16)}: only ${out.curlft.packets} packets ${from}→${to}, expected ≥ ${minPackets}`);
    assert.equal(out.replay.oseq, out.curlft.packets, `${from} out-SA oseq counts its packets`);
    assert.equal(inn.replay.seq, out.replay.oseq, `${to} in-SA highest seq is ${from}'s last oseq`);
    for (const x of [out, inn]) {
      assert.deepEqual(x.stats, { replayWindow: 0, replay: 0, integrityFailed: 0 }, `spi 0x${id.toString(16)} per-SA stats`);
      assert.equal(x.state, 'valid');
    }
  }
}

async function pingBoth(t: TestContext, p: Pair, targets: readonly [string, string], src: readonly [string, string] | null): Promise<void> {
  const [a, b] = await Promise.all([
    p.pingOk('left', targets[1], src !== null ? { iface: src[0] } : {}),
    p.pingOk('right', targets[0], src !== null ? { iface: src[1] } : {}),
  ]);
  t.diagnostic(`ping left→${targets[1]} ${a.received}/${a.transmitted}, right→${targets[0]} ${b.received}/${b.transmitted}`);
}

/**
 * The policy TUN's routes carry esp4_get_mtu of the state (as the kernel's
 * xfrm bundle route does from the start, xfrm_init_pmtu), so even a TCP
 * transfer never meets xfrm4_tunnel_check_size: no counter may rise.
 */
const PMTU_LEARNING = {};

async function tunnelCase(t: TestContext, p: Pair, c: Case, spi: number): Promise<void> {
  flushXfrm(p);
  const spec: SaSpec = { algo: c.algo.args, mode: 'tunnel', ...(c.extra !== undefined ? { extra: c.extra } : {}) };
  installSas(p, spi, spec);
  const s0 = xfrmStats(p);
  const cap = await Capture.start(p, 'right');
  try {
    await pingBoth(t, p, INNER, INNER);
  } finally {
    checkWire(t, c, await cap.stop());
  }
  let minPackets = 6; // 3 requests one way + 3 replies to the other side's pings
  assertXfrmDelta(p, s0);
  if (c.xfer === true) {
    const x1 = await p.transfer('left', 'right', INNER[1]);
    const x2 = await p.transfer('right', 'left', INNER[0]);
    t.diagnostic(`TCP left→right ${x1.received} (${(MB10 * 8 / x1.ms / 1000).toFixed(0)} Mbit/s); right→left (${(MB10 * 8 / x2.ms / 1000).toFixed(0)} Mbit/s)`);
    minPackets = Math.floor(MB10 / 1500);
  }
  await checkSas(t, p, spi, minPackets);
  c.check?.(p, spi);
  t.diagnostic(`${c.name} xfrm stat rises: ${assertXfrmDelta(p, s0, c.xfer === true ? PMTU_LEARNING : {})}`);
}

async function greTransport(t: TestContext, p: Pair): Promise<void> {
  flushXfrm(p);
  const spi = 0x2000;
  installSas(p, spi, { algo: G128.args, mode: 'transport', upspec: ['proto', 'gre'] });
  const s0 = xfrmStats(p);
  p.tunnel('gre1', 'type gre', OUTER, ['192.0.2.1/30', '192.0.2.2/30']);
  const cap = await Capture.start(p, 'left');
  try {
    await pingBoth(t, p, ['192.0.2.1', '192.0.2.2'], null);
  } finally {
    const seen = await cap.stop();
    t.diagnostic(`GRE over ESP transport on the wire: ${describe(seen)}`);
    const gre = seen.filter((x) => x.proto === 47).length;
    const esp = seen.filter((x) => x.proto === 50);
    assert.equal(gre, 0, `no clear GRE may cross the veth: ${describe(seen)}`);
    assert.ok(esp.length >= 12, `the GRE packets cross as ESP: ${describe(seen)}`);
    // Transport mode keeps the outer IPv4 header: 20 + ESP(GRE 4 + inner 84).
    const want = espTotal(G128, 4 + 84);
    assert.ok(esp.some((x) => x.totalLen === want), `ESP transport of a GRE ping is ${want} bytes: ${describe(seen)}`);
  }
  await checkSas(t, p, spi, 6);
  assertXfrmDelta(p, s0);
  const gre1 = p.stats('left', 'gre1');
  assert.ok(gre1.rx['packets']! >= 6 && gre1.tx['errors'] === 0 && gre1.rx['errors'] === 0, `left gre1 counters ${JSON.stringify(gre1)}`);
  p.tunkitOk('left', 'link del gre1');
  p.tunkitOk('right', 'link del gre1');
}

/** Polls `cond` every 100 ms; fails with `msg()` after `ms`. */
async function until(cond: () => boolean, ms: number, msg: () => string): Promise<void> {
  for (const t0 = performance.now(); !cond(); await sleep(100)) {
    if (performance.now() - t0 > ms) assert.fail(msg());
  }
}

/** `tunkit xfrm monitor` text split into messages (each starts at column 0). */
const messages = (text: string): string[] => text.split(/\n(?=\S)/);
/** The index of the "Expired" message for spi with `hard N`, or -1. */
const expiredAt = (text: string, spi: number, hard: 0 | 1): number => messages(text).findIndex((m) =>
  m.startsWith(`Expired src ${OUTER[0]} dst ${OUTER[1]}\n\tproto esp spi 0x${spi.toString(16).padStart(8, '0')} `) && m.includes(`\thard ${hard}`));

/** The expire events' (hard, curlft.packets) pairs as `tunkit -j xfrm monitor expire` printed them. */
type Expires = (readonly [boolean, number])[];

async function lifetimes(t: TestContext, p: Pair, events: Expires): Promise<void> {
  flushXfrm(p);
  const spi = 0x3000;
  installSas(p, spi, { algo: G128.args, mode: 'tunnel', extraLR: ['limit', 'packet-soft', '5', 'limit', 'packet-hard', '10'] });
  const sd = p.left;
  const text = sd.ns.spawn(process.execPath, [TUNKIT, '--socket', sd.sock, 'xfrm', 'monitor']);
  const json = sd.ns.spawn(process.execPath, [TUNKIT, '--socket', sd.sock, '-j', 'xfrm', 'monitor', 'expire']);
  let textOut = '';
  let jsonOut = '';
  text.stdout?.on('data', (d: Buffer) => { textOut += d.toString(); });
  json.stdout?.on('data', (d: Buffer) => { jsonOut += d.toString(); });
  try {
    await sleep(700); // both monitors subscribed
    const s0 = xfrmStat(p, 'left');
    await p.pingOk('left', INNER[1], { iface: INNER[0], count: 5 });
    await sleep(1500);
    assert.doesNotMatch(textOut, /Expired/, `no expire after 5 packets (the soft limit is reached, not crossed):\n${textOut}`);
    await p.pingOk('left', INNER[1], { iface: INNER[0], count: 1 });
    await until(() => expiredAt(textOut, spi, 0) >= 0, 5000, () => `xfrm monitor printed no soft expire:\n${textOut}`);
    await p.pingOk('left', INNER[1], { iface: INNER[0], count: 4 });
    assert.doesNotMatch(textOut, /hard 1/, `10 packets pass packet-hard 10:\n${textOut}`);
    const dead = await p.ping('left', INNER[1], { iface: INNER[0], count: 3, waitS: 1 });
    assert.equal(dead.received, 0, `after packet-hard 10 no packet may pass:\n${dead.stdout}`);
    await until(() => expiredAt(textOut, spi, 1) >= 0 && jsonOut.includes('"hard":true'), 5000, () => `xfrm monitor printed no hard expire:\n${textOut}`);
    t.diagnostic(`xfrm monitor:\n${textOut}`);
    assert.ok(expiredAt(textOut, spi, 0) < expiredAt(textOut, spi, 1), 'the soft expire comes first');
    const ev = jsonOut.trim().split('\n').map((l) => JSON.parse(l) as { type: string; hard: boolean; state: { spi: number; curlft: { packets: number } } });
    events.push(...ev.filter((e) => e.type === 'xfrm.expire' && e.state.spi === spi).map((e) => [e.hard, e.state.curlft.packets] as const));
    assert.deepEqual(events.map(([hard]) => hard), [false, true], `one soft, then one hard expire event: ${jsonOut}`);
    assert.deepEqual(events[1], [true, 10], 'the hard expire carries the 10 packets that passed');
    const s1 = xfrmStat(p, 'left');
    const d = (k: string): number => s1[k]! - s0[k]!;
    t.diagnostic(`left XfrmOutStateExpired +${d('XfrmOutStateExpired')}, XfrmOutNoStates +${d('XfrmOutNoStates')}`);
    assert.ok(d('XfrmOutStateExpired') >= 1, 'the first packet past the hard limit is XfrmOutStateExpired');
    assert.equal(d('XfrmOutStateExpired') + d('XfrmOutNoStates'), 3, 'each refused ping counts once (expired, then no state once it is deleted)');
    assert.equal(states(p, 'left').find((x) => x.spi === spi), undefined, 'the hard-expired SA is deleted');
  } finally {
    text.kill('SIGTERM');
    json.kill('SIGTERM');
  }
}

test('ESP tunkit ↔ tunkit: every algorithm, ESN, ESP-in-UDP, TFC, GRE over transport mode, lifetimes', async (t) => {
  await withPair('tkes', async (p) => {
    p.shOk('left', `ip addr add ${INNER[0]}/32 dev lo`);
    p.shOk('right', `ip addr add ${INNER[1]}/32 dev lo`);
    for (const [i, c] of CASES.entries()) {
      await step(t, p, `tunnel ${c.name}: ${c.algo.label}${c.extra !== undefined ? ` ${c.extra.join(' ')}` : ''}`, () => tunnelCase(t, p, c, 0x1000 + 0x10 * i));
    }
    await step(t, p, 'GRE over ESP transport mode (proto gre selectors): pings, no clear GRE on the veth', () => greTransport(t, p));
    const events: Expires = [];
    await step(t, p, 'lifetimes: packet-soft 5 / packet-hard 10 → soft then hard expire, traffic stops', () => lifetimes(t, p, events));
    // xfrm_state_check_expire calls km_state_expired(x, 0) synchronously, before the 6th packet is
    // counted, so XFRM_MSG_EXPIRE carries curlft.packets 5.
    await step(t, p, 'the soft expire event carries curlft.packets 5 (the count when the limit was reached)', async () => {
      assert.deepEqual(events[0], [false, 5], `soft expire event ${JSON.stringify(events[0])}`);
    });
  });
});
