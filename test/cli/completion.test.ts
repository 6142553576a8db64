// Shell completion (src/cli/completion.ts) generated from the CLI grammar
// (src/cli/grammar.ts): run in a real bash with `complete -p` / COMP_WORDS,
// and every word it offers is one the parsers accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveObject, UsageError } from '../../src/cli/args.js';
import { bashCompletion, bashDaemonCompletion, zshCompletion, zshDaemonCompletion } from '../../src/cli/completion.js';
import { tunkitGrammar } from '../../src/cli/grammar.js';
import { parseLinkArgs } from '../../src/cli/link-args.js';
import { parseTunnelCommand } from '../../src/cli/tunnel-args.js';
import { parseXfrmArgs } from '../../src/cli/xfrm-args.js';

/** What bash's completion offers for each command line (the last word is the one being completed). */
function complete(lines: readonly (readonly string[])[], text = bashCompletion(), fn = '_tunkit', cmd = 'tunkit'): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-compl-'));
  try {
    const script = join(dir, `${cmd}.bash`);
    writeFileSync(script, text);
    const calls = lines.map((l) => `t ${l.map((w) => `'${w}'`).join(' ')}`).join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source '${script}' || exit 9
complete -p ${cmd}
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); ${fn}; echo "\${COMPREPLY[*]}"; }
${calls}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.split('\n').slice(0, lines.length + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter((w) => w !== '');

test('bash completion: registered for tunkit, objects, xfrm objects, commands, kinds, values and options', () => {
  const [reg, top, xfrm, state, pol, kind, gre, show, mode, opt, afterOpt, obj] = complete([
    ['tunkit', ''], ['tunkit', 'xfrm', ''], ['tunkit', 'xfrm', 'state', ''], ['tunkit', 'xfrm', 'po'],
    ['tunkit', 'link', 'add', 't0', 'type', ''], ['tunkit', 'link', 'add', 't0', 'type', 'gre', 'remote', '192.0.2.1', 'ik'],
    ['tunkit', 'link', 'show', 'type', 'g'], ['tunkit', 'tunnel', 'add', 'tun0', 'mode', ''],
    ['tunkit', '-j'], ['tunkit', '--socket', '/run/x.sock', '-s', 'x'], ['tunkit', 'x'],
  ]);
  assert.equal(reg, 'complete -F _tunkit tunkit');
  for (const w of ['link', 'xfrm', 'tunnel', 'monitor', 'ike', 'stats', 'save', 'reload']) assert.ok(words(top).includes(w), `${w} in ${top}`);
  assert.ok(!words(top).includes('route'), 'objects tunkit refuses are not offered');
  for (const w of ['state', 'policy', 'monitor', 'stat']) assert.ok(words(xfrm).includes(w), `${w} in ${xfrm}`);
  for (const w of ['add', 'update', 'delete', 'deleteall', 'list', 'get', 'flush', 'count']) assert.ok(words(state).includes(w), `${w} in ${state}`);
  assert.ok(!words(state).includes('allocspi'), 'refused commands are not offered');
  assert.equal(pol, 'policy');
  assert.deepEqual(words(kind), ['ipip', 'gre', 'gretap', 'sit', 'xfrm']);
  assert.deepEqual(words(gre), ['ikey']);
  assert.deepEqual(words(show), ['gre', 'gretap']);
  assert.ok(words(mode).includes('ipip') && words(mode).includes('gre') && !words(mode).includes('isatap'), mode);
  assert.deepEqual(words(opt), ['-json']);
  assert.equal(afterOpt, 'xfrm');
  assert.equal(obj, 'xfrm');
});

test('every word the grammar offers is one the parsers accept (no second grammar to drift)', () => {
  const g = tunkitGrammar();
  const refused = (fn: () => unknown): boolean => {
    try { fn(); return false; } catch (e) { return e instanceof UsageError && /unknown|not supported/.test(e.message); }
  };
  const children = (path: readonly string[]): string[] => {
    let n = g;
    for (const w of path) {
      const c = n.children[w];
      assert.ok(c !== undefined, `grammar has ${path.join(' ')}`);
      n = c;
    }
    return Object.keys(n.children);
  };
  const top = children([]);
  assert.ok(top.length >= 8);
  for (const o of top) assert.equal(resolveObject(o), o);
  for (const w of children(['xfrm'])) assert.ok(!refused(() => parseXfrmArgs(w === 'stat' || w === 'stats' ? [w] : [w, 'help'])), `xfrm ${w}`);
  for (const w of children(['xfrm', 'state'])) assert.ok(!refused(() => parseXfrmArgs(['state', w])), `xfrm state ${w}`);
  for (const w of children(['xfrm', 'policy'])) assert.ok(!refused(() => parseXfrmArgs(['policy', w])), `xfrm policy ${w}`);
  for (const w of children(['link'])) assert.ok(!refused(() => parseLinkArgs([w])), `link ${w}`);
  for (const w of children(['tunnel'])) assert.ok(!refused(() => parseTunnelCommand([w])), `tunnel ${w}`);
  // The check itself can fail: a word the parsers do not know is caught.
  assert.ok(refused(() => parseXfrmArgs(['state', 'allocspi'])));
  assert.ok(refused(() => parseLinkArgs(['frobnicate'])));
});

test('zsh completion carries the same tables as a #compdef function', () => {
  const z = zshCompletion();
  assert.match(z, /^#compdef tunkit\n/);
  assert.match(z, /^ {2}'tunkit xfrm' '[^']*\bstate\b[^']*\bpolicy\b/m);
  assert.match(z, /^ {2}'tunkit tunnel add\|mode' '[^']*\bgre\b/m);
  assert.match(z, /^_tunkit "\$@"$/m);
});

test('tunkitd completion: its options from daemon/options.ts, --log-level values, files after --config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-compl-conf-'));
  try {
    writeFileSync(join(dir, 'tunkit.toml'), '');
    const [reg, opts, lvl, file, none] = complete([
      ['tunkitd', '--'], ['tunkitd', '--log-level', 'd'], ['tunkitd', '--config', join(dir, 'tunkit.t')], ['tunkitd', '--metrics-listen', ''],
    ], bashDaemonCompletion(), '_tunkitd', 'tunkitd');
    assert.equal(reg, 'complete -F _tunkitd tunkitd');
    assert.deepEqual(words(opts), ['--socket', '--config', '--swanctl', '--strongswan-conf', '--log-level', '--metrics-listen', '--user', '--control-group', '--teardown', '--help', '--version']);
    assert.equal(lvl, 'debug');
    assert.equal(file, join(dir, 'tunkit.toml'));
    assert.equal(none, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(zshDaemonCompletion(), /^ {4}\(--log-level\) compadd -- 'error' 'warn' 'info' 'debug'; return ;;$/m);
});
