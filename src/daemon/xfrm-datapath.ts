// The IPsec packet pumps (what kernel-libipsec does in strongSwan, with the
// kernel's xfrm rules from src/xfrm/):
//
//   policy TUN (POLICY_DEV) readable → XfrmStack.output (if_id 0) → one
//       sendmmsg of the ESP packets on the raw ESP socket (IP_HDRINCL, so
//       ESP-in-UDP goes out the same way with our own UDP header)
//   raw 50 / raw UDP readable → XfrmStack.input → tunnel-mode payloads are
//       written into the policy TUN (the kernel then routes or delivers
//       them), transport-mode payloads (GRE/IPIP/SIT of tunkit's own
//       tunnels) go to the tunnel stack through `deliverTransport`
//   UDP 4500 socket: holds the NAT-T port (no ICMP port unreachable) and is
//       drained; its datagrams are seen through the raw UDP socket, which
//       also gives their IP header. TODO(#5): hand IKE messages to the IKE
//       daemon when it exists.
// Out policies that need the TUN get routes to their selector's destination
// through it (policy-routes.ts: rtnetlink, as `ip route replace PREFIX dev
// POLICY_DEV [mtu N]`, with a fail-closed blackhole behind each), except a
// prefix that would also swallow the template's own peer address.

import { native } from '../io/native.js';
import type { PollHandle } from '../io/native.js';
import { IPPROTO_ESP, IPPROTO_UDP } from '../wire/ipproto.js';
import { XFRM_MODE_TUNNEL } from '../xfrm/config.js';
import { XfrmResult, XVerdict } from '../xfrm/result.js';
import { ESP_BATCH, ESP_HEADROOM, ESP_STRIDE, EspSendBatch, espSlab, OneWriter } from './esp-batch.js';
import { espPayloadMtu } from '../xfrm/esp-out.js';
import { Flow, formatPrefix, prefixMatch } from '../xfrm/selector.js';
import type { XfrmPolicy } from '../xfrm/spd.js';
import { XFRM_POLICY_OUT } from '../xfrm/spd.js';
import { NAT_T_PORT } from '../xfrm/xfrm.js';
import type { XfrmStack } from '../xfrm/xfrm.js';
import { PolicyRoutes, routeKey } from './policy-routes.js';
import type { WantedRoute } from './policy-routes.js';

export const POLICY_DEV = 'ipsec0';
const HEADROOM = ESP_HEADROOM;
const BATCH = ESP_BATCH;
const STRIDE = ESP_STRIDE;

interface Pump { readonly fd: number; readonly handle: PollHandle; readonly slab: Uint8Array; scheduled: boolean }

export interface XfrmDatapathEvents {
  error(where: string, e: unknown): void;
  warn(msg: string): void;
  /** A transport-mode SA delivered the host's own packet b[off, off+len) (e.g. an outer GRE packet). */
  deliverTransport(b: Uint8Array, off: number, len: number, ifindex: number): void;
  /** A state with if_id ≠ 0 decrypted b[off, off+len): deliver it on the xfrm interface with that if_id. */
  deliverIfId(ifId: number, b: Uint8Array, off: number, len: number): void;
  /** Core events may be queued: publish them. */
  eventsPending(): void;
}

export class XfrmDatapath {
  private readonly res = new XfrmResult();
  private readonly sizes = new Int32Array(BATCH);
  private readonly ifx = new Int32Array(BATCH);
  private readonly srcs = new Uint32Array(BATCH);
  private readonly out = new EspSendBatch();
  private readonly writer = new OneWriter();
  private readonly pumps: Pump[] = [];
  private espFd = -1;
  private tunFd = -1;
  private udpFd = -1;
  private readonly routes = new PolicyRoutes(POLICY_DEV, (m) => this.ev.warn(m));

  constructor(private readonly xfrm: XfrmStack, private readonly ev: XfrmDatapathEvents, private readonly now: () => number) {}

  /** Opens the sockets and the policy TUN (up, no addresses: routes point into it). */
  start(): void {
    const n = native();
    this.espFd = n.rawOpen(IPPROTO_ESP);
    this.pump(this.espFd, () => this.drainRaw(this.pumps[0]!));
    const udpRaw = n.rawOpen(IPPROTO_UDP);
    this.pump(udpRaw, () => this.drainRaw(this.pumps[1]!));
    try {
      this.udpFd = n.udpOpen(0, NAT_T_PORT);
      this.pump(this.udpFd, () => this.drainUdp(this.pumps[2]!));
    } catch (e) {
      this.ev.warn(`UDP ${NAT_T_PORT} is taken (${e instanceof Error ? e.message : String(e)}): ESP-in-UDP still works, the port is not held`);
    }
    const tun = n.tunOpen(POLICY_DEV, false);
    this.tunFd = tun.fd;
    n.ifSetUp(POLICY_DEV, true);
    this.routes.watch();
    this.pump(this.tunFd, () => this.drainTun(this.pumps[this.pumps.length - 1]!));
  }

  stop(): void {
    const n = native();
    this.routes.stop();
    for (const p of this.pumps) {
      n.pollStop(p.handle);
      n.closeFd(p.fd);
    }
    this.pumps.length = 0;
  }

  /** The raw ESP socket also sends tunkit tunnels' ESP-transformed outer packets. */
  get sendFd(): number { return this.espFd; }

  /**
   * Routes for the out policies that capture through the policy TUN (tunnel
   * templates, if_id 0), with the SA's payload MTU once a state exists.
   * PolicyRoutes replaces a route whose MTU changed in place (never absent),
   * deletes only prefixes no longer wanted, and retries failures next time.
   */
  syncRoutes(): void {
    const want = new Map<string, WantedRoute>();
    for (const p of this.xfrm.spd.list()) {
      if (p.dir !== XFRM_POLICY_OUT || p.ifId !== 0 || p.isBlock) continue;
      const t = p.tmpls.find((x) => x.mode === XFRM_MODE_TUNNEL);
      if (t === undefined) continue;
      if (t.dst !== null && t.dst.family === p.sel.dst.family && prefixMatch(p.sel.dst, t.dst.bytes, 0)) {
        this.ev.warn(`policy ${formatPrefix(p.sel.dst)}: covers its own peer ${formatPrefix({ ...t.dst, plen: 32 })}; no route installed`);
        continue;
      }
      // The kernel's bundle route carries xfrm_state_mtu from the start (xfrm_init_pmtu), so TCP
      // never sends a segment the SA cannot carry; the TUN route gets the same MTU when a state exists.
      const x = this.xfrm.sad.findOut(t, this.probe(p), 0);
      want.set(routeKey(p.sel.dst), { prefix: p.sel.dst, mtu: x !== null ? espPayloadMtu(x, x.routeMtu) : null });
    }
    this.routes.sync(want);
  }

  /** A flow inside a policy's selector (its addresses with host bits zero), for finding the state a template would use. */
  private probe(p: XfrmPolicy): Flow {
    const n = p.sel.family === 6 ? 16 : 4;
    const b = new Uint8Array(2 * n);
    b.set(p.sel.src.bytes.subarray(0, n), 0);
    b.set(p.sel.dst.bytes.subarray(0, n), n);
    const f = new Flow();
    f.family = p.sel.family === 6 ? 6 : 4;
    f.buf = b;
    f.srcOff = 0;
    f.dstOff = n;
    f.proto = p.sel.proto;
    return f;
  }

  private pump(fd: number, cb: () => void): void {
    this.pumps.push({ fd, slab: espSlab(), scheduled: false, handle: native().pollStart(fd, cb) });
  }

  /** Packets the kernel routed into the policy TUN: encrypt and send. */
  private drainTun(p: Pump): void {
    p.scheduled = false;
    let count: number;
    try {
      // The 4th argument is the slot stride (packet i at i*STRIDE + HEADROOM); an IP packet is
      // at most 65535 bytes, so every slot keeps TAILROOM free after it.
      count = native().readBatch(p.fd, p.slab, HEADROOM, STRIDE, BATCH, this.sizes);
    } catch (e) {
      this.ev.error(`read ${POLICY_DEV}`, e);
      return;
    }
    const r = this.res;
    const now = this.now();
    for (let i = 0; i < count; i++) {
      const len = this.sizes[i]!;
      if (len <= 0) continue;
      if (this.xfrm.output(p.slab, i * STRIDE + HEADROOM, len, 0, false, now, r) !== XVerdict.Xmit) {
        if (r.icmpLen > 0) this.write(r.icmp, 0, r.icmpLen); // PMTU error back to the inner sender
        continue;
      }
      this.out.add(r);
    }
    this.out.flush(this.espFd, p.slab);
    if (this.xfrm.events.length > 0) this.ev.eventsPending();
    if (count === BATCH) this.reschedule(p, () => this.drainTun(p));
  }

  /** ESP (raw 50) or UDP (raw 17) packets: decrypt, check policy, deliver. */
  private drainRaw(p: Pump): void {
    p.scheduled = false;
    let count: number;
    try {
      count = native().recvBatch(p.fd, p.slab, HEADROOM, STRIDE, BATCH, this.sizes, this.ifx, this.srcs); // stride: as drainTun
    } catch (e) {
      this.ev.error('recv esp', e);
      return;
    }
    const r = this.res;
    const now = this.now();
    for (let i = 0; i < count; i++) {
      const len = this.sizes[i]!;
      if (len <= 0) continue;
      if (this.xfrm.input(p.slab, i * STRIDE + HEADROOM, len, this.ifx[i]!, now, r) !== XVerdict.Deliver) continue;
      if (r.isTransport) this.ev.deliverTransport(p.slab, r.off, r.len, this.ifx[i]!);
      else if (r.ifId === 0) this.write(p.slab, r.off, r.len);
      else this.ev.deliverIfId(r.ifId, p.slab, r.off, r.len); // an xfrm interface (route-based IPsec)
    }
    if (this.xfrm.events.length > 0) this.ev.eventsPending();
    if (count === BATCH) this.reschedule(p, () => this.drainRaw(p));
  }

  /** The NAT-T socket's own copies: discarded (the raw UDP socket saw them with their IP header). */
  private drainUdp(p: Pump): void {
    try {
      while (native().recvBatch(p.fd, p.slab, 0, STRIDE, BATCH, this.sizes, this.ifx, this.srcs) === BATCH);
    } catch (e) {
      this.ev.error(`recv udp ${NAT_T_PORT}`, e);
    }
  }

  private write(b: Uint8Array, off: number, len: number): void {
    this.writer.write(this.tunFd, b, off, len);
  }

  private reschedule(p: Pump, fn: () => void): void {
    if (p.scheduled) return;
    p.scheduled = true;
    setImmediate(fn);
  }
}
