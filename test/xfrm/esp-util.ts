// Shared fixtures for the xfrm core tests: one-SA stacks, packets through
// output/input with headroom, and hand-built ESP packets (for what our own
// output never produces: Next Header 59, truncated ciphertext).
import assert from 'node:assert/strict';
import { put16, put32 } from '../../src/wire/bytes.js';
import { checksum16 } from '../../src/wire/checksum.js';
import { emitEspTrailer, espPlen, ESP_HDR_LEN } from '../../src/wire/esp.js';
import { makeSaConfig } from '../../src/xfrm/config.js';
import { makeEspCrypto } from '../../src/xfrm/esp-crypto.js';
import type { EspCrypto } from '../../src/xfrm/esp-crypto.js';
import { XfrmResult, XVerdict } from '../../src/xfrm/result.js';
import type { PolicySpec, StateSpec } from '../../src/xfrm/spec.js';
import type { XfrmState } from '../../src/xfrm/state.js';
import { XfrmStack } from '../../src/xfrm/xfrm.js';

export const NOW = 1_700_000_000_000;
export const HOST = '198.51.100.1';
export const GUEST = '198.51.100.2';
export const GCM: Partial<StateSpec> = { aead: { name: 'rfc4106(gcm(aes))', keyHex: '00112233445566778899aabbccddeeff01020304', bits: 128 } };

export function addState(x: XfrmStack, s: StateSpec, nowMs = NOW): XfrmState {
  return x.sad.add(makeSaConfig(s, () => null), s, nowMs);
}
export function addPolicy(x: XfrmStack, p: PolicySpec): void {
  x.spd.insert(x.spd.make(p, () => null, NOW, 0), false);
}

export const sa = (src: string, dst: string, spi: number, extra: Partial<StateSpec> = {}): StateSpec =>
  ({ src, dst, proto: 'esp', spi, mode: 'tunnel', reqid: 1, replayWindow: 32, ...GCM, ...extra });

/**
 * A sender (HOST, out SA 0x1001 and out policies for every IPv4 and IPv6
 * packet) and a receiver (GUEST, the same SA inbound and in policies for
 * every packet), both with `extra` on the SA, the receiver's with rxExtra too.
 */
export function oneWay(extra: Partial<StateSpec> = {}, rxExtra: Partial<StateSpec> = {}): { tx: XfrmStack; rx: XfrmStack; txSa: XfrmState; rxSa: XfrmState } {
  const tx = new XfrmStack();
  const rx = new XfrmStack();
  const spec = sa(HOST, GUEST, 0x1001, extra);
  const txSa = addState(tx, spec);
  const rxSa = addState(rx, { ...spec, ...rxExtra });
  const mode = spec.mode;
  const tmpl = mode === 'tunnel' ? { src: HOST, dst: GUEST, proto: 'esp', mode, reqid: 1 } as const : { proto: 'esp', mode, reqid: 1 } as const;
  for (const any of ['0.0.0.0/0', '::/0']) {
    addPolicy(tx, { sel: { src: any, dst: any }, dir: 'out', tmpls: [tmpl] });
    addPolicy(rx, { sel: { src: any, dst: any }, dir: 'in', tmpls: [tmpl] });
  }
  return { tx, rx, txSa, rxSa };
}

/** output() of pkt; asserts Xmit; returns a copy of the outer packet. */
export function send(x: XfrmStack, pkt: Uint8Array, r = new XfrmResult(), nowMs = NOW, isLocalTunnel = false): Uint8Array {
  const buf = new Uint8Array(4096);
  buf.set(pkt, 512);
  const v = x.output(buf, 512, pkt.length, 0, isLocalTunnel, nowMs, r);
  assert.equal(v, XVerdict.Xmit, `output: verdict ${v} mib ${r.mib} drop ${r.drop}`);
  return buf.slice(r.off, r.off + r.len);
}

export interface Got { v: XVerdict; r: XfrmResult; buf: Uint8Array; inner: Uint8Array }

/** input() of an outer packet (copied behind 64 bytes of headroom); inner = the delivered bytes. */
export function recv(x: XfrmStack, wire: Uint8Array, nowMs = NOW, r = new XfrmResult()): Got {
  const buf = new Uint8Array(wire.length + 128);
  buf.set(wire, 64);
  const v = x.input(buf, 64, wire.length, 0, nowMs, r);
  return { v, r, buf, inner: buf.slice(r.off, r.off + r.len) };
}

/** Recomputes the IPv4 header checksum of the header at p[off]. */
export function fixIp4(p: Uint8Array, off = 0): Uint8Array {
  const hl = (p[off]! & 0xf) << 2;
  put16(p, off + 10, 0);
  put16(p, off + 10, checksum16(p, off, hl));
  return p;
}

/**
 * An outer IPv4 packet src → dst carrying a hand-built ESP packet of SA x:
 * SPI, seq, the payload, TFC zeros, padding and Next Header `nh`, sealed with
 * x's own crypto (so it authenticates). proto 50, or UDP sport → 4500 when
 * udpSport is given.
 */
/** The peer's outbound context for SA x: its own context on x's keys, made on first use (x.crypto dies with x). */
const peers = new WeakMap<XfrmState, EspCrypto>();
function peerCrypto(x: XfrmState): EspCrypto {
  let c = peers.get(x);
  if (c === undefined) {
    c = makeEspCrypto(x.cfg.crypto);
    peers.set(x, c);
  }
  return c;
}

export function espPacket(x: XfrmState, seq: number, payload: Uint8Array, nh: number, o: { src?: string; dst?: string; tfc?: number; udpSport?: number; tos?: number } = {}): Uint8Array {
  const cr = peerCrypto(x);
  const tfc = o.tfc ?? 0;
  const plen = espPlen(payload.length, tfc, cr.blockAlign);
  const ptLen = payload.length + tfc + plen;
  const udp = o.udpSport !== undefined ? 8 : 0;
  const espLen = ESP_HDR_LEN + cr.ivLen + ptLen + cr.icvLen;
  const b = new Uint8Array(20 + udp + espLen);
  const e = 20 + udp;
  put32(b, e, x.cfg.spi);
  put32(b, e + 4, seq);
  b.set(payload, e + ESP_HDR_LEN + cr.ivLen);
  emitEspTrailer(b, e + ESP_HDR_LEN + cr.ivLen + payload.length, tfc, plen - 2, nh);
  cr.seal(b, e, ptLen, 0);
  writeIp4(b, o.src ?? HOST, o.dst ?? GUEST, udp !== 0 ? 17 : 50, o.tos ?? 0);
  if (o.udpSport !== undefined) {
    put16(b, 20, o.udpSport);
    put16(b, 22, 4500);
    put16(b, 24, 8 + espLen);
  }
  return b;
}

/** Writes a 20-byte IPv4 header (TTL 64, no DF) over b[0..20) for the whole of b. */
export function writeIp4(b: Uint8Array, src: string, dst: string, proto: number, tos = 0): Uint8Array {
  b[0] = 0x45; b[1] = tos;
  put16(b, 2, b.length);
  put16(b, 4, 0x77); put16(b, 6, 0);
  b[8] = 64; b[9] = proto;
  const s = src.split('.').map(Number);
  const d = dst.split('.').map(Number);
  for (let i = 0; i < 4; i++) { b[12 + i] = s[i]!; b[16 + i] = d[i]!; }
  return fixIp4(b);
}

/** A UDP datagram src:sport → dst:dport (checksum 0) with the given payload, as a whole IPv4 packet. */
export function udp4(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(28 + payload.length);
  put16(b, 20, sport);
  put16(b, 22, dport);
  put16(b, 24, 8 + payload.length);
  b.set(payload, 28);
  return writeIp4(b, src, dst, 17);
}

/**
 * An outer IPv4 packet HOST → GUEST carrying ESP for SA x whose plaintext
 * (Payload .. Pad Length, Next Header) is exactly `plain`, sealed with x's
 * keys: for trailers our own output never writes (a Pad Length that leaves
 * no payload, pad bytes that are not 1, 2, 3, …). plain.length must suit
 * the cipher's block alignment.
 */
export function espSealed(x: XfrmState, seq: number, plain: Uint8Array): Uint8Array {
  const cr = peerCrypto(x);
  const espLen = ESP_HDR_LEN + cr.ivLen + plain.length + cr.icvLen;
  const b = new Uint8Array(20 + espLen);
  put32(b, 20, x.cfg.spi);
  put32(b, 24, seq);
  b.set(plain, 20 + ESP_HDR_LEN + cr.ivLen);
  cr.seal(b, 20, plain.length, 0);
  return writeIp4(b, HOST, GUEST, 50);
}
