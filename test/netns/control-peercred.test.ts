// The control socket checks the peer's SO_PEERCRED (src/daemon/peer-auth.ts,
// native/peercred.c), not only the file mode: with the socket and its
// directory opened to everyone for the test, a process running as nobody
// (setpriv --reuid=65534) is still refused; with the read-only group set to
// its gid it may run read-only requests only, and never gets keys. Needs root
// (to chmod and to setpriv); creates only a temp directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ControlServer } from '../../src/daemon/server.js';
import type { Request } from '../../src/daemon/protocol.js';
import { requireRoot } from './pair.js';

const NOBODY = 65534;

/** Sends `lines` as uid/gid 65534 (setpriv) and returns what came back, one parsed reply per line. */
function asNobody(path: string, lines: readonly string[], groups = '--clear-groups'): Promise<{ ok: boolean; data?: unknown; error?: { code: string; field?: string } }[]> {
  const script = `const s=require('net').connect(${JSON.stringify(path)});let t='';s.setEncoding('utf8');
s.on('data',d=>t+=d);s.on('close',()=>process.stdout.write(t));s.on('error',e=>{process.stdout.write(t);process.stderr.write(e.message)});
s.write(${JSON.stringify(lines.map((l) => `${l}\n`).join(''))});setTimeout(()=>s.end(),300);`;
  return new Promise((resolve, reject) => {
    // asynchronous: the server answers on this process's event loop
    execFile('setpriv', [`--reuid=${String(NOBODY)}`, `--regid=${String(NOBODY)}`, groups, process.execPath, '-e', script], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err !== null) { reject(new Error(`child failed: ${err.message} ${stderr}`)); return; }
      resolve(stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { ok: boolean; data?: unknown; error?: { code: string; field?: string } }));
    });
  });
}

async function withOpenServer(readGroup: number | null, fn: (path: string, seen: Request[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-cred-'));
  const path = join(dir, 'ctl.sock');
  const seen: Request[] = [];
  const srv = new ControlServer(path, (req) => { seen.push(req); return req.args; }, () => {}, { readGroup });
  await srv.listen();
  try {
    chmodSync(dirname(path), 0o755); // the file mode no longer keeps nobody out: only SO_PEERCRED does
    chmodSync(path, 0o666);
    await fn(path, seen);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('SO_PEERCRED: a peer that is neither root nor tunkitd\'s uid is refused even when the mode lets it connect', async () => {
  requireRoot();
  await withOpenServer(null, async (path, seen) => {
    const got = await asNobody(path, ['{"id":1,"op":"ping"}', '{"id":2,"op":"link.show"}']);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.error?.code, 'EACCES');
    assert.deepEqual(seen, [], 'nothing it sent was run');
  });
});

test('SO_PEERCRED: the read-only group runs read-only requests, never gets keys, and cannot change state', async () => {
  requireRoot();
  await withOpenServer(NOBODY, async (path, seen) => {
    const got = await asNobody(path, [
      '{"id":1,"op":"link.show","args":{}}',
      '{"id":2,"op":"xfrm.state.list","args":{"keys":true}}',
      '{"id":3,"op":"link.add","args":{"name":"gre9"}}',
      '{"id":4,"op":"config.save","args":{}}',
    ]);
    assert.equal(got.length, 4);
    assert.equal(got[0]?.ok, true);
    assert.deepEqual(got[1]?.data, { keys: false });
    assert.equal(got[2]?.error?.code, 'EACCES');
    assert.equal(got[2]?.error?.field, 'op');
    assert.equal(got[3]?.error?.code, 'EACCES');
    assert.deepEqual(seen.map((r) => r.op), ['link.show', 'xfrm.state.list']);
    assert.equal(seen[1]?.args['keys'], false);
  });
});

test('SO_PEERGROUPS: a supplementary group counts as the read-only group', async () => {
  requireRoot();
  const gid = 4242; // any gid: setpriv --groups needs no /etc/group entry
  await withOpenServer(gid, async (path, seen) => {
    const got = await asNobody(path, ['{"id":1,"op":"link.show"}', '{"id":2,"op":"link.del","args":{"name":"gre9"}}'], `--groups=${String(gid)}`);
    assert.equal(got[0]?.ok, true);
    assert.equal(got[1]?.error?.code, 'EACCES');
    assert.deepEqual(seen.map((r) => r.op), ['link.show']);
  });
  await withOpenServer(gid, async (path) => {
    const got = await asNobody(path, ['{"id":1,"op":"link.show"}']);
    assert.equal(got[0]?.error?.code, 'EACCES', 'without the group: refused');
  });
});
