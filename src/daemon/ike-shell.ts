// The IKE daemon's shell: owns the IKE socket (UDP charon.port, 500 by
// default), sends and receives IKE on the data path's NAT-T socket (UDP
// charon.port_nat_t, 4500 by default; RFC 3948 non-ESP marker: the data
// path's `ike` hook hands us those), runs the core's timer, reads the
// swanctl.conf and answers the `ike.*` control ops. Every SA and policy goes
// in through `control` — the daemon's XfrmControl.handle, the path `tunkit
// xfrm` takes.
//
//   UDP port ──► (marker off) ──► IkeCore.receive ──► host.send ──► UDP port / port_nat_t (+ marker)
//   UDP port_nat_t (datapath ike hook) ─┘              host.control ──► XfrmControl
//   setTimeout(core.nextDeadline()) ──► IkeCore.tick
//   core events (ike/events.ts) ──► publish ──► the monitor stream (`tunkit ike monitor`)
//   xfrm acquire / mapping events (as `xfrm monitor` sees them) ──► core.traps / core.live
//   NAT keepalives (0xFF) ──► the NAT-T socket, without the non-ESP marker
//   xfrm expire events (the control API's monitor events) ──► IkeCore.expire
//
// The marker is strongSwan's rule (core.ts hasNonEspMarker): on any message
// between two ports neither of which is 500, whichever socket it uses.

import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { ChildSaRecord, IkeEvent, IkeOp, IkeRekeyArgs, IkeRekeyReply, IkeSaRecord } from '../control/ike.js';
import type { StateRecord, XfrmEvent, XfrmOp } from '../control/xfrm.js';
import { CHARON_DEFAULTS } from '../ike/charon.js';
import type { CharonSettings } from '../ike/charon.js';
import type { IkeConfig } from '../ike/config.js';
import { wipeConfig } from '../ike/config.js';
import { listConns } from '../ike/conns.js';
import { hasNonEspMarker, IkeCore } from '../ike/core.js';
import type { Endpoint } from '../ike/core.js';
import { loadCredentials } from '../ike/creds.js';
import type { CredIo } from '../ike/creds.js';
import { GatherBatch } from '../io/pool.js';
import type { RawConn } from '../io/raw.js';
import type { PacketBatch, RecvMeta } from '../io/types.js';
import { ConfigError, VpnError } from '../wire/errors.js';
import { readSwanctlFile } from './swanctl-files.js';
import { NON_ESP_MARKER_LEN } from '../wire/ike/consts.js';
import type { Log } from './log.js';

/** Files for creds.ts: regular files only; a missing directory lists as empty. */
const FS_IO: CredIo = {
  read: (path) => new Uint8Array(readFileSync(path)),
  list: (dir) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ConfigError('file', `cannot list ${dir}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return names.filter((n) => statSync(join(dir, n)).isFile()).sort();
  },
};

/**
 * Reads and parses a swanctl.conf with its includes, then the certificates
 * and keys it names (x509/, x509ca/, private/ … beside it, as swanctl
 * --load-all); throws (naming file, line and key) before anything changes.
 */
export function readSwanctl(file: string): IkeConfig {
  const cfg = readSwanctlFile(file);
  try {
    return loadCredentials(cfg, file, dirname(file), FS_IO);
  } catch (e) {
    wipeConfig(cfg);
    throw e;
  }
}

const ip4 = (v: number): string => `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
const u32 = (s: string): number => s.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);

/** RFC 3948 §2.3: a NAT-keepalive packet is the single octet 0xFF. */
const KEEPALIVE = Uint8Array.of(0xff);

/** How long `tunkit ike initiate` may wait: the whole retransmission schedule of two exchanges. */
export const INITIATE_TIMEOUT_MS = 60_000;

export interface IkeShellDeps {
  /** One xfrm control request (XfrmControl.handle); throws VpnError when refused. */
  control(op: XfrmOp, args: Record<string, unknown>): unknown;
  readonly log: Log;
  /**
   * The IKE socket on charon.port (null: IKE is not received there) and the
   * data path's NAT-T socket on charon.port_nat_t (null: none).
   */
  readonly ikeConn: RawConn | null;
  readonly natTConn: RawConn | null;
  /** charon.* settings (tunkitd --strongswan-conf); strongSwan's defaults when absent. */
  readonly charon?: CharonSettings;
  /** IKE monitor events (SAs up/down, rekeys, failures) to `tunkit ike monitor`; absent: not published. */
  publish?(e: IkeEvent): void;
  /**
   * IkeHost.sourceFor: the routed source toward a peer, for initiating
   * with local_addrs = %any (route-source.ts RouteSource; closed with the
   * shell). Absent: such a connection cannot initiate.
   */
  readonly source?: { sourceFor(remote: string): string | null; close(): void };
}

export class IkeShell {
  readonly core: IkeCore;
  private timer: NodeJS.Timeout | null = null;
  private readonly one = new GatherBatch(1);
  private readonly dst = new Uint32Array(1);
  private isIkeSocketFailing = false;
  /** The ports and the rest of charon.* (strongSwan's defaults without --strongswan-conf). */
  private readonly charon: CharonSettings;

  constructor(private readonly d: IkeShellDeps) {
    const log = d.log;
    const charon = d.charon ?? CHARON_DEFAULTS;
    this.charon = charon;
    this.core = new IkeCore({ connections: [], secrets: [] }, {
      send: (to, fromPort, data) => this.send(to, fromPort, data),
      control: (r) => { d.control(r.op, r.args as unknown as Record<string, unknown>); },
      log: (level, msg) => log[level](`ike: ${msg}`),
      event: (e) => d.publish?.(e),
      random: (n) => new Uint8Array(randomBytes(n)),
      keepalive: (to) => this.sendRaw(to, KEEPALIVE),
      getState: (id, keys) => {
        try {
          return d.control('xfrm.state.get', { id, keys }) as StateRecord;
        } catch {
          return null; // deleted meanwhile
        }
      },
      ...(d.source !== undefined ? { sourceFor: (remote: string) => d.source!.sourceFor(remote) } : {}),
    }, charon.retransmit);
    this.core.charon = charon;
    d.ikeConn?.onReceive((b, _ifx, src, meta) => this.onIkeSocket(b, src, meta));
    d.ikeConn?.onReceiveFault((what, err) => this.onIkeSocketFault(what, err));
  }

  /** The IKE socket's receive failing (the conn retries it, raw.ts): one line when it starts, one when it works again. */
  private onIkeSocketFault(what: string, err: Error | null): void {
    if (err !== null && !this.isIkeSocketFailing) this.d.log.error('ike_receive', { socket: what, err: err.message, effect: 'retried every 100 ms' });
    else if (err === null && this.isIkeSocketFailing) this.d.log.info('ike_receive_recovered', { socket: what });
    this.isIkeSocketFailing = err !== null;
  }

  /** Loads a swanctl.conf (replacing the configuration; running SAs keep theirs) and starts `start_action = start` children. */
  load(file: string): number {
    return this.apply(readSwanctl(file), file);
  }

  /** Applies a parsed configuration (readSwanctl). */
  apply(cfg: IkeConfig, file: string): number {
    const old = this.core.cfg;
    this.core.cfg = cfg;
    wipeConfig(old);
    const certs = cfg.connections.filter((c) => c.local.cert != null).length;
    this.d.log.info(`ike: loaded ${cfg.connections.length} connection(s), ${cfg.secrets.length} secret(s) and ${certs} certificate(s) with keys from ${file}`);
    this.core.traps.sync(cfg); // start_action = trap
    this.arm();
    for (const c of cfg.connections) {
      for (const ch of c.children) {
        if (ch.startAction === 'start') this.initiate(ch.name).catch((e: unknown) => this.d.log.warn(`ike: start ${ch.name}: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    return cfg.connections.length;
  }

  /** An IKE message on the NAT-T socket (the data path's `ike` hook; the marker already removed). */
  receiveNatT(b: Uint8Array, off: number, len: number, src: number, srcPort: number, dst: number): void {
    this.deliver(b, off, len, { addr: ip4(src), port: srcPort }, { addr: dst !== 0 ? ip4(dst) : '', port: this.charon.portNatT });
  }

  /**
   * Datagrams on the IKE socket. Between ports neither of which is 500 an IKE
   * message starts with the non-ESP marker, which is removed; anything else
   * there (ESP-in-UDP, a keepalive) is dropped, as charon's receiver drops
   * what it has no ESP handler for (the kernel decapsulates on the NAT-T
   * socket only: socket-default sets UDP_ENCAP there).
   */
  private onIkeSocket(b: PacketBatch, src: Uint32Array, meta: RecvMeta): void {
    const port = this.charon.port;
    for (let i = 0; i < b.count; i++) {
      let len = b.sizes[i]!;
      if (len <= 0) continue;
      let off = b.offset;
      const buf = b.bufs[i]!;
      const sport = meta.srcPort[i]!;
      if (hasNonEspMarker(port, sport)) {
        if (len <= NON_ESP_MARKER_LEN || buf[off] !== 0 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) {
          if (this.d.log.debugOn) this.d.log.debug(`ike: ${len} bytes from ${ip4(src[i]!)}[${sport}] on UDP ${port} without the non-ESP marker: not IKE, dropped (ESP-in-UDP goes to UDP ${this.charon.portNatT})`);
          continue;
        }
        off += NON_ESP_MARKER_LEN;
        len -= NON_ESP_MARKER_LEN;
      }
      const dst = meta.dst[i]!;
      this.deliver(buf, off, len, { addr: ip4(src[i]!), port: sport }, { addr: dst !== 0 ? ip4(dst) : '', port });
    }
  }

  private deliver(b: Uint8Array, off: number, len: number, from: Endpoint, local: Endpoint): void {
    // The batch is the socket's own and is overwritten by the next receive: the core keeps what it reads.
    const data = b.slice(off, off + len); // eslint-disable-line no-restricted-syntax -- control plane copy
    try {
      this.core.receive(data, from, local, Date.now());
    } catch (e) {
      this.d.log.error(`ike: handling a message from ${from.addr}[${from.port}]: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
    this.arm();
  }

  /** From the socket of fromPort (charon.port or port_nat_t), with the marker when neither port is 500. */
  private send(to: Endpoint, fromPort: number, data: Uint8Array): void {
    const conn = fromPort === this.charon.portNatT ? this.d.natTConn : fromPort === this.charon.port ? this.d.ikeConn : null;
    if (!hasNonEspMarker(fromPort, to.port)) { this.sendOn(conn, fromPort, to, data); return; }
    const buf = new Uint8Array(NON_ESP_MARKER_LEN + data.length); // RFC 3948 §2.2: four zero bytes, then the IKE message
    buf.set(data, NON_ESP_MARKER_LEN);
    this.sendOn(conn, fromPort, to, buf);
  }

  /** Bytes as they are from the NAT-T socket (a NAT keepalive: no marker). */
  private sendRaw(to: Endpoint, data: Uint8Array): void { this.sendOn(this.d.natTConn, this.charon.portNatT, to, data); }

  private sendOn(conn: RawConn | null, fromPort: number, to: Endpoint, buf: Uint8Array): void {
    if (conn === null || conn.dstPort === undefined) { this.d.log.warn(`ike: no socket for UDP ${fromPort}: message to ${to.addr} dropped`); return; }
    this.one.clear();
    this.one.add(buf, 0, buf.length);
    this.dst[0] = u32(to.addr);
    conn.dstPort[0] = to.port;
    if (conn.send(this.one, this.dst) !== 1) this.d.log.warn(`ike: sending to ${to.addr}[${to.port}] failed`);
    this.one.clear();
  }

  /** Re-arms the one timer for the core's next deadline. */
  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const t = this.core.nextDeadline();
    if (t === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.core.tick(Date.now());
      this.arm();
    }, Math.max(0, t - Date.now()));
  }

  initiate(child: string): Promise<IkeSaRecord> {
    return new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new VpnError('ETIMEDOUT', `child ${child}: no answer within ${INITIATE_TIMEOUT_MS / 1000} s`)), INITIATE_TIMEOUT_MS);
      try {
        this.core.initiate(child, Date.now(), (err, rec) => {
          clearTimeout(guard);
          if (err !== null || rec === null) reject(new VpnError('EIKE', `child ${child}: ${err ?? 'failed'}`));
          else resolve(this.withCounters(rec));
        });
      } catch (e) {
        clearTimeout(guard);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
      this.arm();
    });
  }

  /** One `ike.*` control op. */
  handle(op: IkeOp, args: Record<string, unknown>): unknown {
    const name = (k: string): string => {
      const v = args[k];
      if (typeof v !== 'string' || v === '') throw new ConfigError(k, 'must be a non-empty string');
      return v;
    };
    switch (op) {
      case 'ike.list-sas': return this.core.list().map((r) => this.withCounters(r));
      case 'ike.list-conns': return listConns(this.core.cfg);
      case 'ike.initiate': return this.initiate(name('child'));
      case 'ike.terminate': {
        const n = this.core.terminate(name('ike'), Date.now());
        this.arm();
        if (n === 0) throw new VpnError('ENOENT', `no IKE SA of connection "${name('ike')}"`, 'ike');
        return { deleted: n };
      }
      case 'ike.load': return { connections: this.load(name('file')) };
      case 'ike.rekey': {
        const which: IkeRekeyArgs = args['ike'] !== undefined ? { ike: name('ike') } : { child: name('child') };
        const reply: IkeRekeyReply = { rekeyed: this.core.rekey(which, Date.now()) };
        this.arm();
        return reply;
      }
    }
  }

  /** One xfrm monitor event (published to us as to `tunkit xfrm monitor`): acquires start trapped children, mappings move NATed peers, expires drive rekeys. */
  xfrmEvent(e: XfrmEvent): void {
    try {
      if (e.type === 'xfrm.acquire') this.core.traps.acquire(e.policy, Date.now());
      else if (e.type === 'xfrm.mapping') this.core.live.mapping(e.dst, e.spi, { addr: e.newSrc, port: e.newSport });
      else if (e.type === 'xfrm.expire') this.core.expire(e.state.dst, e.state.spi, e.hard, Date.now());
      else return;
    } catch (err) {
      this.d.log.error(`ike: handling ${e.type}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
    this.arm();
  }

  /** Adds bytes/packets from the installed xfrm states (as swanctl --list-sas shows them). */
  private withCounters(r: IkeSaRecord): IkeSaRecord {
    const get = (dst: string, spi: string): StateRecord | null => {
      try {
        return this.d.control('xfrm.state.get', { id: { dst, proto: 'esp', spi: parseInt(spi, 16) } }) as StateRecord;
      } catch {
        return null; // deleted meanwhile
      }
    };
    const children = r.children.map((c): ChildSaRecord => {
      const i = get(r.localAddr, c.spiIn);
      const o = get(r.remoteAddr, c.spiOut);
      return {
        ...c,
        ...(i !== null ? { bytesIn: i.curlft.bytes, packetsIn: i.curlft.packets } : {}),
        ...(o !== null ? { bytesOut: o.curlft.bytes, packetsOut: o.curlft.packets } : {}),
      };
    });
    return { ...r, children };
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const sa of [...this.core.sas.values()]) sa.wipe();
    this.core.cookies.wipe();
    wipeConfig(this.core.cfg);
    this.d.ikeConn?.close();
    this.d.source?.close();
  }
}
