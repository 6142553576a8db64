// `tunkit ike …`: the IKE daemon's commands, after swanctl(8):
//
//   tunkit [-j [-p]] ike list-sas              swanctl --list-sas
//   tunkit [-j [-p]] ike list-conns            swanctl --list-conns (the loaded connections)
//   tunkit [-j] ike monitor                    swanctl --log's events: one line per IKE/Child SA up, down, rekey, failure
//   tunkit ike initiate CHILD                   swanctl --initiate --child CHILD (waits for the result)
//   tunkit ike terminate NAME                   swanctl --terminate --ike NAME
//   tunkit ike load FILE                        swanctl --load-all --file FILE (the swanctl.conf subset)
//   tunkit ike rekey --child NAME | --ike NAME  swanctl --rekey --child NAME | --ike NAME (starts it; returns at once)
//
// The text of list-sas follows swanctl's layout, so a strongSwan user reads
// it as before; -j prints the records (control/ike.ts) as JSON (ike-show.ts
// formats list-conns and the monitor's events).

import { resolve } from 'node:path';
import type { ChildSaRecord, IkeConnRecord, IkeRekeyArgs, IkeRekeyReply, IkeSaRecord } from '../control/ike.js';
import { monitor, request } from '../daemon/client.js';
import { formatConns, formatIkeEvent, isIkeEvent } from './ike-show.js';
import type { Control } from '../daemon/client.js';
import type { GlobalOptions } from './args.js';
import { UsageError } from './args.js';
import { wordTable } from '../wire/table.js';

export const IKE_USAGE = [
  'Usage: tunkit ike list-sas',
  '       tunkit ike list-conns',
  '       tunkit ike monitor',
  '       tunkit ike initiate CHILD',
  '       tunkit ike terminate NAME',
  '       tunkit ike load FILE',
  '       tunkit ike rekey { --child NAME | --ike NAME }',
].join('\n');

const ago = (unixS: number, nowS: number): string => `${Math.max(0, nowS - unixS)}s ago`;
/** swanctl's timer phrases: ", rekeying in 3224s" and ", expires in 3956s" (nothing when the time is 0: none). */
const timer = (what: string, unixS: number, nowS: number): string => (unixS === 0 ? '' : `, ${what} in ${Math.max(0, unixS - nowS)}s`);

function child(c: ChildSaRecord, nowS: number): string[] {
  const n = (v: number | undefined): string => (v === undefined ? '?' : String(v));
  return [
    `  ${c.name}: #${c.uniqueId}, reqid ${c.reqid}, ${c.state}, ${c.mode}${c.encap ? '-in-UDP' : ''}, ${c.protocol}:${c.algorithms}`,
    `    installed ${ago(c.installTime, nowS)}${timer('rekeying', c.rekeyTime, nowS)}${timer('expires', c.lifeTime, nowS)}`,
    `    in  ${c.spiIn}, ${n(c.bytesIn).padStart(6)} bytes, ${n(c.packetsIn).padStart(5)} packets`,
    `    out ${c.spiOut}, ${n(c.bytesOut).padStart(6)} bytes, ${n(c.packetsOut).padStart(5)} packets`,
    `    local  ${c.localTs.join(' ')}`,
    `    remote ${c.remoteTs.join(' ')}`,
  ];
}

/** swanctl --list-sas text for the records. */
export function formatSas(sas: readonly IkeSaRecord[], nowS: number): string {
  const out: string[] = [];
  for (const s of sas) {
    out.push(`${s.name}: #${s.uniqueId}, ${s.state}, IKEv${s.version}, ${s.spiI}_i${s.isInitiator ? '*' : ''} ${s.spiR}_r${s.isInitiator ? '' : '*'}`);
    out.push(`  local  '${s.localId}' @ ${s.localAddr}[${s.localPort}]`);
    out.push(`  remote '${s.remoteId}' @ ${s.remoteAddr}[${s.remotePort}]`);
    if (s.algorithms !== '') out.push(`  ${s.algorithms}`);
    if (s.establishTime !== 0) out.push(`  established ${ago(s.establishTime, nowS)}${timer('rekeying', s.rekeyTime, nowS)}`);
    for (const c of s.children) out.push(...child(c, nowS));
  }
  return out.join('\n');
}

const one = (args: readonly string[], what: string): string => {
  if (args.length !== 2 || args[1] === undefined || args[1] === '') throw new UsageError(`Error: ike ${args[0] ?? ''} takes one ${what}.\n${IKE_USAGE}`, what);
  return args[1];
};

/** `tunkit ike` command words (swanctl's, and their short forms) → the command (cli/grammar.ts reads them too). */
export const IKE_COMMANDS: Readonly<Record<string, 'list-sas' | 'list-conns' | 'monitor' | 'initiate' | 'terminate' | 'load' | 'rekey' | 'help'>> = wordTable({
  'list-sas': 'list-sas', list: 'list-sas', 'list-conns': 'list-conns', monitor: 'monitor', initiate: 'initiate', up: 'initiate',
  terminate: 'terminate', down: 'terminate', load: 'load', rekey: 'rekey', help: 'help',
});

/** `rekey --child NAME` / `rekey --ike NAME` (swanctl's options) → the request's args. */
function rekeyArgs(args: readonly string[]): IkeRekeyArgs {
  const [, opt, name] = args;
  if (args.length !== 3 || (opt !== '--child' && opt !== '--ike') || name === undefined || name === '' || name.startsWith('-')) {
    throw new UsageError(`Error: ike rekey takes --child NAME or --ike NAME.\n${IKE_USAGE}`, opt ?? 'rekey');
  }
  return opt === '--child' ? { child: name } : { ike: name };
}

export async function runIke(args: readonly string[], c: Control, o: GlobalOptions, out: (s: string) => void): Promise<number> {
  const cmd = args[0];
  const json = (v: unknown): void => out(JSON.stringify(v, null, o.isPretty ? 2 : undefined));
  switch (cmd === undefined ? 'help' : Object.hasOwn(IKE_COMMANDS, cmd) ? IKE_COMMANDS[cmd] : undefined) {
    case 'list-sas': {
      if (args.length > 1) throw new UsageError(`Error: ike list-sas takes no arguments.\n${IKE_USAGE}`, 'list-sas');
      const sas = (await c.request('ike.list-sas')) as IkeSaRecord[];
      if (o.isJson) json(sas);
      else out(formatSas(sas, Math.floor(Date.now() / 1000)));
      return 0;
    }
    case 'list-conns': {
      if (args.length > 1) throw new UsageError(`Error: ike list-conns takes no arguments.\n${IKE_USAGE}`, 'list-conns');
      const conns = (await c.request('ike.list-conns')) as IkeConnRecord[];
      out(o.isJson ? JSON.stringify(conns, null, o.isPretty ? 2 : undefined) : formatConns(conns));
      return 0;
    }
    case 'monitor':
      if (args.length > 1) throw new UsageError(`Error: ike monitor takes no arguments.\n${IKE_USAGE}`, 'monitor');
      await monitor(c.path, false, (e) => { if (isIkeEvent(e)) out(o.isJson ? JSON.stringify(e) : formatIkeEvent(e)); });
      return 0;
    case 'initiate': {
      // Its own connection: initiate may wait up to 90 s for the exchanges.
      const sa = (await request(c.path, 'ike.initiate', { child: one(args, 'CHILD') }, 90_000)) as IkeSaRecord;
      if (o.isJson) json(sa);
      else out(`initiate completed successfully\n${formatSas([sa], Math.floor(Date.now() / 1000))}`);
      return 0;
    }
    case 'terminate': {
      const r = (await c.request('ike.terminate', { ike: one(args, 'NAME') })) as { deleted: number };
      out(o.isJson ? JSON.stringify(r) : `terminate completed successfully (${r.deleted} IKE_SA)`);
      return 0;
    }
    case 'load': {
      const r = (await c.request('ike.load', { file: resolve(one(args, 'FILE')) })) as { connections: number };
      out(o.isJson ? JSON.stringify(r) : `loaded ${r.connections} connection(s)`);
      return 0;
    }
    case 'rekey': {
      const r = (await c.request('ike.rekey', rekeyArgs(args))) as IkeRekeyReply;
      out(o.isJson ? JSON.stringify(r) : `rekey completed successfully (${r.rekeyed} SA${r.rekeyed === 1 ? '' : 's'} rekeying)`);
      return 0;
    }
    case 'help':
      out(IKE_USAGE);
      return 0;
    default:
      throw new UsageError(`Error: "${cmd ?? ''}" is unknown, try "tunkit ike help".`, cmd);
  }
}
