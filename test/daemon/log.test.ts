// tunkitd's log (daemon/log.ts, daemon/rate-limit.ts): the key=value
// formatter, the journald head, redaction, and the per-condition rate limit.

import assert from 'node:assert/strict';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatFields, formatLine, formatValue, isJournalStream, Log } from '../../src/daemon/log.js';
import { RateLimiter } from '../../src/daemon/rate-limit.js';

test('values: bare when plain, quoted with escapes otherwise', () => {
  const cases: [string | number | boolean | null, string][] = [
    ['ipsec0', 'ipsec0'], ['198.51.100.1', '198.51.100.1'], ['2001:db8::1/64', '2001:db8::1/64'], [1476, '1476'], [true, 'true'],
    [null, 'null'], ['', '""'], ['two words', '"two words"'], ['a"b', '"a\\"b"'], ['back\\slash', '"back\\\\slash"'],
    ['l1\nl2\r\t', '"l1\\nl2\\r\\t"'], ['a=b', '"a=b"'], ['\x01\x7f', '"\\x01\\x7f"'], ['ünï', '"ünï"'],
  ];
  for (const [v, want] of cases) assert.equal(formatValue(v), want, JSON.stringify(v));
});

test('fields: level and event first, in the given order; undefined left out; keys made snake_case', () => {
  assert.equal(formatFields('warn', 'route_install', { dev: 'ipsec0', op: 'route replace 203.0.113.2/32', err: 'RTM_NEWROUTE: ENETDOWN', skip: undefined, 'If-Id': 7 }),
    'level=warn event=route_install dev=ipsec0 op="route replace 203.0.113.2/32" err="RTM_NEWROUTE: ENETDOWN" if_id=7');
  assert.equal(formatFields('info', 'x', { level: 'forged', event: 'forged' }), 'level=info event=x', 'level/event cannot be overridden');
});

test('keys never logged: key-named fields and long hex runs are redacted', () => {
  const line = formatFields('info', 'xfrm_state_add', { enc_key: '0x0123456789abcdef0123456789abcdef', psk: 'hunter2', okey: 5, err: 'bad key 0x00112233445566778899aabbccddeeff00112233 for spi 0x1000' });
  assert.doesNotMatch(line, /0123456789abcdef|hunter2|00112233445566778899/);
  assert.match(line, /enc_key=\[redacted\] psk=\[redacted\] okey=\[redacted\] err="bad key \[redacted\] for spi 0x1000"/);
});

test('heads: timestamp and pid on a terminal or file; a syslog priority prefix and no time under journald', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  assert.equal(formatLine('warn', 'e', { dev: 'g1' }, false, at, 99), '2026-01-02T03:04:05.678Z tunkitd[99] level=warn event=e dev=g1\n');
  assert.equal(formatLine('error', 'e', {}, true, at, 99), '<3>level=error event=e\n');
  assert.equal(formatLine('warn', 'e', {}, true, at, 99), '<4>level=warn event=e\n');
  assert.equal(formatLine('info', 'e', {}, true, at, 99), '<6>level=info event=e\n');
  assert.equal(formatLine('debug', 'e', {}, true, at, 99), '<7>level=debug event=e\n');
});

test('isJournalStream: only when JOURNAL_STREAM names the fd', () => {
  assert.equal(isJournalStream({}, 2), false);
  assert.equal(isJournalStream({ JOURNAL_STREAM: 'garbage' }, 2), false);
  assert.equal(isJournalStream({ JOURNAL_STREAM: '1:1' }, 2), false);
  assert.equal(isJournalStream({ JOURNAL_STREAM: '1:1' }, 987654), false, 'a closed fd');
  const dir = mkdtempSync(join(tmpdir(), 'tk-log-'));
  const fd = openSync(join(dir, 'stream'), 'w');
  try {
    const st = fstatSync(fd);
    assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), true, 'the stream journald gave us');
    assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, fd), false);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('levels: lines above the level are not written', () => {
  const out: string[] = [];
  const log = new Log({ level: 'warn', out: (l) => out.push(l), journal: true });
  log.debug('d');
  log.info('i');
  log.action('a');
  log.warn('w');
  log.error('e');
  assert.deepEqual(out, ['<4>level=warn event=w\n', '<3>level=error event=e\n']);
  log.setLevel('debug');
  assert.equal(log.debugOn, true);
  log.debug('d');
  assert.equal(out[2], '<7>level=debug event=d\n');
});

test('RateLimiter: burst per window, the held-back count reported once, idle conditions forgotten', () => {
  const r = new RateLimiter<string>(3, 1000);
  const got = [0, 1, 2, 3, 4].map(() => r.admit('k', 'k', 0));
  assert.deepEqual(got, [0, 0, 0, -1, -1]);
  assert.equal(r.admit('other', 'other', 10), 0, 'conditions are independent');
  assert.equal(r.admit('k', 'k', 999), -1);
  assert.equal(r.admit('k', 'k', 1000), 3, 'the next window reports the 3 held back');
  assert.equal(r.admit('k', 'k', 1001), 0);
  assert.deepEqual(r.drain(1500), [], 'other ended with nothing held back; k still in its window');
  assert.equal(r.size, 1);
  r.admit('k', 'k', 1002);
  r.admit('k', 'k', 1003);
  assert.deepEqual(r.drain(2000), [['k', 1]]);
  assert.equal(r.size, 0);
  assert.throws(() => new RateLimiter(0, 1000), RangeError);
});

test('Log: a flapping condition gives LOG_BURST lines, then one suppressed line; others and actions pass', () => {
  const out: string[] = [];
  let now = 0;
  const log = new Log({ out: (l) => out.push(l), journal: true, nowMs: () => now, burst: 2, intervalMs: 10_000 });
  for (let i = 0; i < 5; i++) log.warn('route_install', { dev: 'ipsec0', err: `e${i}` });
  log.warn('route_install', { dev: 'gre1', err: 'x' });
  for (let i = 0; i < 4; i++) log.action('link_add', { dev: 'g1' });
  assert.deepEqual(out, [
    '<4>level=warn event=route_install dev=ipsec0 err=e0\n',
    '<4>level=warn event=route_install dev=ipsec0 err=e1\n',
    '<4>level=warn event=route_install dev=gre1 err=x\n',
    ...Array<string>(4).fill('<6>level=info event=link_add dev=g1\n'),
  ]);
  out.length = 0;
  log.flush();
  assert.deepEqual(out, [], 'window not over');
  now = 10_000;
  log.flush();
  assert.deepEqual(out, ['<4>level=warn event=log_suppressed what=route_install dev=ipsec0 suppressed=3 interval_ms=10000\n']);
  out.length = 0;
  log.warn('route_install', { dev: 'ipsec0', err: 'again' });
  assert.deepEqual(out, ['<4>level=warn event=route_install dev=ipsec0 err=again\n'], 'reported once: nothing pending');
  out.length = 0;
  for (let i = 0; i < 3; i++) log.warn('route_install', { dev: 'ipsec0', err: 'x' });
  now = 20_000;
  log.warn('route_install', { dev: 'ipsec0', err: 'y' });
  assert.deepEqual(out, [
    '<4>level=warn event=route_install dev=ipsec0 err=x\n',
    '<4>level=warn event=log_suppressed what=route_install dev=ipsec0 suppressed=2 interval_ms=10000\n',
    '<4>level=warn event=route_install dev=ipsec0 err=y\n',
  ], 'held-back lines reported before the next line of the condition');
});
