// The C helper (fixtures/vnet-tun.c) that opens TUN devices for the kernel
// tests, and its framed stdin/stdout protocol. Test-only.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Netns } from '../../src/demo/netns.js';
import { REPO_ROOT } from '../util/paths.js';

/** Why the kernel tests cannot run here, or null. */
export function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (netns, TUN)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (spawnSync('cc', ['--version']).status !== 0) return 'no C compiler (cc)';
  return null;
}

/** Compiles the helper into a fresh temp dir (the caller removes `dir`). */
export function buildHelper(): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-vnet-'));
  const bin = join(dir, 'vnet-tun');
  const cc = spawnSync('cc', ['-O2', '-o', bin, join(REPO_ROOT, 'test', 'offload', 'fixtures', 'vnet-tun.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  return { dir, bin };
}

/** Starts the helper in `ns` on a new TUN `ifname` (vnet header + offloads unless plain) and waits until it is ready. */
export async function startHelper(ns: Netns, bin: string, ifname: string, plain: boolean): Promise<Helper> {
  const proc = spawn('ip', ['netns', 'exec', ns.name, bin, ifname, ...(plain ? ['plain'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const h = new Helper(proc);
  assert.equal((await h.next()).type, 'O');
  return h;
}

/** Frames from the helper's stdout. */
export class Helper {
  private pending = Buffer.alloc(0);
  private readonly frames: { type: string; data: Buffer }[] = [];
  private wake: (() => void) | null = null;
  private writes = 0;
  /** Results of write() by its index, filled as 'W' frames arrive (next() records them). */
  readonly results = new Map<number, number>();
  private resultsSeen = 0;
  constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => {
      this.pending = Buffer.concat([this.pending, d]);
      while (this.pending.length >= 5) {
        const n = this.pending.readUInt32LE(0);
        if (this.pending.length < 5 + n) break;
        this.frames.push({ type: String.fromCharCode(this.pending[4]!), data: this.pending.subarray(5, 5 + n) });
        this.pending = this.pending.subarray(5 + n);
      }
      this.wake?.();
    });
  }
  async next(): Promise<{ type: string; data: Buffer }> {
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) {
        if (f.type === 'W') this.results.set(this.resultsSeen++, f.data.readInt32LE(0));
        return f;
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = null;
    }
  }
  /** Sends one packet to write(); returns its index in `results`. */
  write(b: Uint8Array): number {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(b.length);
    this.proc.stdin!.write(Buffer.concat([h, b]));
    return this.writes++;
  }
}

