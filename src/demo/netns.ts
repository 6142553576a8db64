// Network namespaces for the live demo and the system tests: unique names
// (two runs never collide), every command logged on failure, and a cleanup
// that runs even when the caller fails (call `Netns.cleanupAll()` in a
// finally; it is also hooked to process exit and SIGINT/SIGTERM).
// Only documentation addresses are used by callers.

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const live = new Set<Netns>();
const children = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => Netns.cleanupAll());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      Netns.cleanupAll();
      process.exit(130);
    });
  }
}

/** Runs a command, returning stdout; throws with stderr included on failure. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input, timeout: 120_000 });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? '').trim() || err.message}`, { cause: e });
  }
}

export class Netns {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates `<prefix>-<pid>-<random>` (≤ 15 chars is not required for netns names). */
  static create(prefix: string): Netns {
    hookExit();
    const ns = new Netns(`${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`);
    run('ip', ['netns', 'add', ns.name]);
    live.add(ns);
    ns.exec('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside the namespace and returns its stdout. */
  exec(cmd: string, args: readonly string[], input?: string): string {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], input);
  }

  /** Starts a long-running command inside the namespace (killed by cleanup). */
  spawn(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.add(c);
    c.on('exit', () => children.delete(c));
    return c;
  }

  delete(): void {
    try {
      run('ip', ['netns', 'delete', this.name]);
    } catch {
      // already gone
    }
    live.delete(this);
  }

  /** Kills every spawned child and deletes every namespace this process made. */
  static cleanupAll(): void {
    for (const c of children) c.kill('SIGTERM');
    children.clear();
    for (const ns of [...live]) ns.delete();
  }
}

/** A veth pair between two namespaces, each end addressed (CIDR) and up. */
export function vethPair(a: Netns, aAddr: string, b: Netns, bAddr: string): { aDev: string; bDev: string } {
  const id = randomBytes(3).toString('hex');
  const aDev = `tka${id}`;
  const bDev = `tkb${id}`;
  run('ip', ['link', 'add', aDev, 'netns', a.name, 'type', 'veth', 'peer', 'name', bDev, 'netns', b.name]);
  a.exec('ip', ['addr', 'add', aAddr, 'dev', aDev]);
  b.exec('ip', ['addr', 'add', bAddr, 'dev', bDev]);
  a.exec('ip', ['link', 'set', aDev, 'up']);
  b.exec('ip', ['link', 'set', bDev, 'up']);
  return { aDev, bDev };
}

/** Addresses (CIDR) of a NAT router's two links: inside ↔ mid and mid ↔ outside. */
export interface NatAddrs {
  readonly inside: string;
  readonly midIn: string;
  readonly midOut: string;
  readonly outside: string;
}

/**
 * Makes `mid` a masquerading router: veth inside ↔ mid and mid ↔ outside,
 * inside's default route via mid, and what mid forwards out toward outside
 * leaves with mid's address. `udpPorts` ("40000-40099"): UDP source ports
 * are remapped into that range (without it the kernel keeps a port when it
 * is free, so a NAT would keep 500 and 4500). Returns the four devices.
 */
export function natRouter(inside: Netns, mid: Netns, outside: Netns, a: NatAddrs, udpPorts?: string): { inside: string; midIn: string; midOut: string; outside: string } {
  const i = vethPair(inside, a.inside, mid, a.midIn);
  const o = vethPair(mid, a.midOut, outside, a.outside);
  inside.exec('ip', ['route', 'add', 'default', 'via', a.midIn.replace(/\/\d+$/, '')]);
  mid.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  mid.exec('nft', ['add', 'table', 'ip', 'nat']);
  mid.exec('nft', ['add', 'chain', 'ip', 'nat', 'post', '{ type nat hook postrouting priority 100 ; }']);
  if (udpPorts !== undefined) mid.exec('nft', ['add', 'rule', 'ip', 'nat', 'post', 'oifname', o.aDev, 'meta', 'l4proto', 'udp', 'masquerade', 'to', `:${udpPorts}`]);
  mid.exec('nft', ['add', 'rule', 'ip', 'nat', 'post', 'oifname', o.aDev, 'masquerade']);
  return { inside: i.aDev, midIn: i.bDev, midOut: o.aDev, outside: o.bDev };
}
