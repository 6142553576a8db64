// An in-memory DeviceFactory for daemon tests. Each device's packets go
// through a memTunPair: `tun` is the daemon's end, `host` the host stack's
// (what an application behind the TUN would write and read).
import type { VpnError } from '../../src/wire/errors.js';
import type { Device, DeviceFactory, UnderlayRoute } from '../../src/daemon/devices.js';
import { memTunPair } from '../../src/io/mem.js';
import type { MemTun } from '../../src/io/mem.js';

export class FakeDevice implements Device {
  up = false;
  closed = false;
  readonly tun: MemTun;
  readonly host: MemTun;
  constructor(readonly name: string, readonly ifindex: number, readonly mac: string | null, public mtu: number, offload = false) {
    [this.tun, this.host] = memTunPair({ mtu, tap: mac !== null, batchSize: 32, offload, queueLen: offload ? 64 : 500 });
  }
  setMtu(mtu: number): void { this.mtu = mtu; }
  setUp(up: boolean): void { this.up = up; }
  isUp(): boolean { return this.up && !this.closed; }
  close(): void {
    this.closed = true;
    void this.tun.close();
    void this.host.close();
  }
  /** Deleted on purpose (`link del`); close() stands for the daemon letting go of a persistent device. */
  removed = false;
  remove(): void {
    this.removed = true;
    this.close();
  }
}

export class FakeDevices implements DeviceFactory {
  readonly made = new Map<string, FakeDevice>();
  readonly existing = new Map<string, number>([['lo', 1], ['eth0', 2]]);
  routeAnswer: UnderlayRoute = { ok: true, mtu: 1500, dev: 'eth0' };
  failNext: VpnError | null = null;
  /** Tunnel TUNs (not TAPs) get vnet headers + TSO/GRO offload, as LinuxDevices with offload on. */
  offload = false;
  private next = 10;

  create(name: string, tap: boolean, mtu: number, _noIpv6 = false, offload = false): Device {
    if (this.failNext !== null) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    const d = new FakeDevice(name, this.next++, tap ? '02:00:00:00:00:01' : null, mtu, offload && !tap && this.offload);
    this.made.set(name, d);
    return d;
  }
  ifindex(name: string): number | null {
    const d = this.made.get(name);
    if (d !== undefined && !d.closed) return d.ifindex;
    return this.existing.get(name) ?? null;
  }
  route(_remote: number): UnderlayRoute { return this.routeAnswer; }
  /** Names of devices "left by an earlier tunkitd", which create() adopts. */
  readonly adoptable = new Set<string>();
  isAdoptable(name: string): boolean { return this.adoptable.has(name); }
}
