// `tunkit xfrm …`: runs a parsed xfrm command against tunkitd and prints the
// answer as `ip xfrm` would (or the records as JSON with -j, -p pretty).
//
//   parseXfrmArgs (xfrm-args.ts) → ctl.request('xfrm.…', args) → xfrm-show*.ts → stdout
//
// A malformed command line throws UsageError before anything is sent.
// `list`/`deleteall` filters are applied here, over the daemon's full list,
// as ip's xfrm_*_filter_match does over the kernel's dump; `deleteall` then
// deletes what matched one by one, as ip's delete-all rounds do.

import { readFileSync, statSync } from 'node:fs';
import { monitor } from '../daemon/client.js';
import type { Control } from '../daemon/client.js';
import type { MonitorEvent } from '../daemon/protocol.js';
import { formatXfrmStat } from '../xfrm/mib.js';
import type { PolicyDefaults, PolicyRecord, StateRecord, XfrmEvent } from '../xfrm/spec.js';
import { RemoteError, strerror, withoutStrerror } from '../wire/errors.js';
import { StatusError } from './args.js';
import { snakeKeys } from './format.js';
import type { GlobalOptions } from './args.js';
import { parseXfrmArgs } from './xfrm-args.js';
import type { MonitorGroup } from './xfrm-args.js';
import { matchPolicy } from './xfrm-policy-args.js';
import type { PolicyCommand } from './xfrm-policy-args.js';
import { eventGroup, formatDefaults, formatSadCount, formatSpdCount, formatXfrmEvent } from './xfrm-show-events.js';
import { formatPolicy, formatState } from './xfrm-show.js';
import type { XfrmShowOptions } from './xfrm-show.js';
import { matchState } from './xfrm-state-args.js';
import type { KeyInput } from './xfrm-keymat-args.js';
import type { StateCommand } from './xfrm-state-args.js';

/** Where output goes (stdout in the CLI; a collector in tests). */
export type Writer = (s: string) => void;

/** -j: tunkit's own JSON (iproute2 6.1 has none for xfrm), keys in iproute2's snake_case (format.ts snakeKeys). */
const json = (v: unknown, o: GlobalOptions): string => `${JSON.stringify(snakeKeys(v), null, o.isPretty ? 2 : undefined)}\n`;
/** `xfrm stat` keys are /proc/net/xfrm_stat's field names (XfrmInError, …), kept as the kernel spells them. */
const statJson = (v: unknown, o: GlobalOptions): string => `${JSON.stringify(v, null, o.isPretty ? 2 : undefined)}\n`;
const showOpts = (o: GlobalOptions, isKeysShown: boolean): XfrmShowOptions => ({ statsLevel: o.statsLevel, isKeysShown });

/**
 * One delete-all round of ip's xfrm_state_list_or_deleteall /
 * xfrm_policy_list_or_deleteall: every DEL is sent in one buffer without
 * NLM_F_ACK, so the kernel runs them all and answers only the failures;
 * rtnl_send_check then sees the first error and ip does
 * perror("Failed to send delete-all request\n") and exit(1). The kernel
 * refuses, for one, to delete an SPI-0 state by id (it is not in the byspi
 * hash: xfrm_user_state_lookup answers ESRCH); the others are gone.
 */
export async function deleteAll(dels: readonly (() => Promise<unknown>)[]): Promise<void> {
  let first: RemoteError | undefined;
  let failed = 0;
  for (const del of dels) {
    try {
      await del();
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      first ??= e;
      failed++;
    }
  }
  if (first === undefined) return;
  const text = strerror(first.code) ?? first.code;
  const why = withoutStrerror(first.code, first.message);
  throw new StatusError(`Failed to send delete-all request: ${text} (tunkit: ${failed} of ${dels.length} not deleted: ${why})`, 'deleteall', 1);
}

async function runState(c: StateCommand, ctl: Control, o: GlobalOptions, w: Writer): Promise<void> {
  switch (c.cmd) {
    case 'add': case 'update':
      await ctl.request(c.cmd === 'add' ? 'xfrm.state.add' : 'xfrm.state.update', { state: c.state });
      return;
    case 'del':
      await ctl.request('xfrm.state.del', { id: c.id });
      return;
    case 'get': {
      const r = (await ctl.request('xfrm.state.get', { id: c.id, keys: c.isKeysShown })) as StateRecord;
      w(o.isJson ? json(r, o) : formatState(r, showOpts(o, c.isKeysShown)));
      return;
    }
    case 'list': case 'deleteall': {
      const all = (await ctl.request('xfrm.state.list', { keys: c.cmd === 'list' && c.isKeysShown })) as StateRecord[];
      const recs = all.filter((r) => matchState(r, c.filter));
      if (c.cmd === 'deleteall') {
        await deleteAll(recs.map((r) => () => ctl.request('xfrm.state.del', { id: { src: r.src, dst: r.dst, proto: r.proto, spi: r.spi } })));
      } else {
        w(o.isJson ? json(recs, o) : recs.map((r) => formatState(r, showOpts(o, c.isKeysShown))).join(''));
      }
      return;
    }
    case 'flush':
      await ctl.request('xfrm.state.flush');
      return;
    case 'count': {
      const r = (await ctl.request('xfrm.state.count')) as { count: number };
      w(o.isJson ? json(r, o) : formatSadCount(r.count));
      return;
    }
    case 'help': return;
  }
}

async function runPolicy(c: PolicyCommand, ctl: Control, o: GlobalOptions, w: Writer): Promise<void> {
  const so = showOpts(o, false);
  switch (c.cmd) {
    case 'add': case 'update':
      await ctl.request(c.cmd === 'add' ? 'xfrm.policy.add' : 'xfrm.policy.update', { policy: c.policy });
      return;
    case 'del':
      await ctl.request('xfrm.policy.del', { id: c.id });
      return;
    case 'get': {
      const r = (await ctl.request('xfrm.policy.get', { id: c.id })) as PolicyRecord;
      w(o.isJson ? json(r, o) : formatPolicy(r, so));
      return;
    }
    case 'list': case 'deleteall': {
      const recs = ((await ctl.request('xfrm.policy.list')) as PolicyRecord[]).filter((r) => matchPolicy(r, c.filter));
      if (c.cmd === 'deleteall') {
        await deleteAll(recs.map((r) => () => ctl.request('xfrm.policy.del', { id: { dir: r.dir, index: r.index } })));
      } else {
        w(o.isJson ? json(recs, o) : recs.map((r) => formatPolicy(r, so)).join(''));
      }
      return;
    }
    case 'count': {
      const recs = (await ctl.request('xfrm.policy.list')) as PolicyRecord[];
      w(formatSpdCount(recs, so));
      return;
    }
    case 'flush':
      await ctl.request('xfrm.policy.flush');
      return;
    case 'setdefault':
      await ctl.request('xfrm.policy.setdefault', { defaults: c.defaults });
      return;
    case 'getdefault': {
      const d = (await ctl.request('xfrm.policy.getdefault')) as PolicyDefaults;
      w(o.isJson ? json(d, o) : formatDefaults(d));
      return;
    }
    case 'help': return;
  }
}

const isXfrmEvent = (e: MonitorEvent): e is XfrmEvent => e.type.startsWith('xfrm.');

/** `xfrm monitor`: xfrm events of the chosen groups (all when none), until the daemon goes away. */
async function runMonitor(groups: ReadonlySet<MonitorGroup>, ctl: Control, o: GlobalOptions, w: Writer): Promise<void> {
  const so = showOpts(o, false);
  await monitor(ctl.path, false, (e) => {
    if (!isXfrmEvent(e) || (groups.size > 0 && !groups.has(eventGroup(e)))) return;
    w(o.isJson ? JSON.stringify(snakeKeys(e)) + '\n' : formatXfrmEvent(e, so));
  });
}

/**
 * Keys as the CLI reads them: `@FILE` from a file only its owner may read
 * (refused otherwise, as tunkitd refuses its key files); a key written on
 * the command line gets one warning on `warn` (stderr), and `hide` (when
 * given) rewrites the process's argv so /proc/PID/cmdline stops showing it.
 */
export function cliKeys(warn: (s: string) => void, hide?: () => void): KeyInput {
  let hasWarned = false;
  return {
    readFile: (path) => {
      const st = statSync(path);
      if ((st.mode & 0o077) !== 0) throw new Error(`is readable by group or others (mode 0${(st.mode & 0o777).toString(8)}): chmod 600 it`);
      return readFileSync(path, 'utf8');
    },
    onLiteral: () => {
      hide?.();
      if (hasWarned) return;
      hasWarned = true;
      warn('tunkit: warning: a key on the command line is visible to other users (ps, /proc/PID/cmdline) and in shell history; give it as @FILE (a mode 0600 file holding the hex key)');
    },
  };
}

/** Runs `tunkit xfrm ARGS…`; resolves 0, or throws (UsageError → 255, daemon errors → 2, as main maps them). */
export async function runXfrm(args: readonly string[], ctl: Control, o: GlobalOptions, w: Writer, keys?: KeyInput): Promise<number> {
  const c = parseXfrmArgs(args, keys);
  switch (c.obj) {
    case 'help': w(`${c.usage}\n`); return 0;
    case 'state': await runState(c.state, ctl, o, w); return 0;
    case 'policy': await runPolicy(c.policy, ctl, o, w); return 0;
    case 'monitor': await runMonitor(c.groups, ctl, o, w); return 0;
    case 'stat': {
      const v = (await ctl.request('xfrm.stat')) as Record<string, number>;
      w(o.isJson ? statJson(v, o) : formatXfrmStat(v));
      return 0;
    }
  }
}
