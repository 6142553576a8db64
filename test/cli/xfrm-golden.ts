// Shared by the xfrm CLI tests: test/vectors/xfrm-cli.json (commands run on a
// real Linux 6.1 kernel with iproute2 6.1, and what `ip` printed), a small
// shell word splitter for those commands, and the records tunkitd would
// answer for them (the parsed Spec plus live state, as src/xfrm/records.ts
// builds them).
import assert from 'node:assert/strict';
import { parseXfrmArgs } from '../../src/cli/xfrm-args.js';
import type { PolicyRecord, PolicySpec, ReplayRecord, StateRecord, StateSpec } from '../../src/xfrm/spec.js';
import { loadJson } from '../util/paths.js';

export interface Shown { readonly cmd: string; readonly out: string; readonly rc: number }
export interface GoldenCase { readonly name: string; readonly addTime: number; readonly setup: readonly string[]; readonly show: readonly Shown[] }
export interface Golden {
  readonly cases: readonly GoldenCase[];
  readonly errors: readonly Shown[];
  readonly monitor: { readonly script: string; readonly out: string };
}

export const GOLDEN = loadJson<Golden>('xfrm-cli.json');

export function goldenCase(name: string): GoldenCase {
  const c = GOLDEN.cases.find((x) => x.name === name);
  assert.ok(c !== undefined, `no golden case ${name}`);
  return c;
}

/** What ip printed for `cmd` in case `name`. */
export function shown(name: string, cmd: string): string {
  const s = goldenCase(name).show.find((x) => x.cmd === cmd);
  assert.ok(s !== undefined, `no "${cmd}" in ${name}`);
  assert.equal(s.rc, 0);
  return s.out;
}

/** Splits a POSIX shell command line: blanks separate words, '…' quotes literally. */
export function shellSplit(cmd: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (ch === "'") {
      const j = cmd.indexOf("'", i + 1);
      cur = (cur ?? '') + cmd.substring(i + 1, j);
      i = j;
    } else if (ch === ' ' || ch === '\t') {
      if (cur !== null) words.push(cur);
      cur = null;
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (cur !== null) words.push(cur);
  return words;
}

/** The arguments after `ip xfrm` (or `ip -s xfrm`). */
export function xfrmArgs(cmd: string): string[] {
  const w = shellSplit(cmd);
  const at = w.indexOf('xfrm');
  assert.ok(w[0] === 'ip' && at > 0, cmd);
  return w.filter((_, i) => i > at);
}

export function parsedState(cmd: string): StateSpec {
  const c = parseXfrmArgs(xfrmArgs(cmd));
  assert.ok(c.obj === 'state' && (c.state.cmd === 'add' || c.state.cmd === 'update'), cmd);
  return c.state.state;
}

export function parsedPolicy(cmd: string): PolicySpec {
  const c = parseXfrmArgs(xfrmArgs(cmd));
  assert.ok(c.obj === 'policy' && (c.policy.cmd === 'add' || c.policy.cmd === 'update'), cmd);
  return c.policy.policy;
}

/** Live state of an SA the way the kernel reports a fresh one (ESN form when esn or a window over 32). */
export interface StateLive {
  readonly addTime: number;
  readonly useTime?: number;
  readonly bytes?: number;
  readonly packets?: number;
  readonly oseq?: number;
}

export function stateRecord(s: StateSpec, live: StateLive, isMasked = false): StateRecord {
  const w = s.replayWindow ?? 0;
  const isEsn = (s.flags ?? []).includes('esn') || w > 32;
  const replay: ReplayRecord = {
    seq: 0, seqHi: 0, oseq: live.oseq ?? 0, oseqHi: 0, isEsn,
    bitmap: new Array<number>(isEsn ? Math.ceil(w / 32) : 1).fill(0),
  };
  const mask = <T extends { keyHex: string }>(a: T | undefined): T | undefined => (a === undefined || !isMasked ? a : { ...a, keyHex: '' });
  const aead = mask(s.aead);
  const enc = mask(s.enc);
  const auth = mask(s.auth);
  return {
    ...s, ...(aead ? { aead } : {}), ...(enc ? { enc } : {}), ...(auth ? { auth } : {}),
    stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    curlft: { bytes: live.bytes ?? 0, packets: live.packets ?? 0, addTime: live.addTime, useTime: live.useTime ?? 0 },
    replay, state: 'valid',
  };
}

export function policyRecord(p: PolicySpec, index: number, addTime: number, useTime = 0): PolicyRecord {
  return {
    ...p, index, priority: p.priority ?? 0, action: p.action ?? 'allow',
    curlft: { bytes: 0, packets: 0, addTime, useTime },
  };
}
