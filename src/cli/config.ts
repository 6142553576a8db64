// `tunkit save` and `tunkit reload [FILE]`: tunkitd's config file
// (daemon/config-file.ts) from the command line.

import { resolve } from 'node:path';
import type { Control } from '../daemon/client.js';
import type { ReloadResult } from '../daemon/protocol.js';
import { UsageError } from './args.js';
import type { CommandLine } from './args.js';

type Writer = (s: string) => void;

/** `tunkit save`: the config file tunkitd would need to come back as it is now (keys included). */
export async function runSave(cl: CommandLine, c: Control, out: Writer): Promise<number> {
  if (cl.args.length > 0) throw new UsageError(`Error: argument "${cl.args[0] ?? ''}" is wrong: save takes no arguments`, 'save');
  const r = (await c.request('config.save')) as { text: string };
  out(r.text);
  return 0;
}

/** `tunkit reload [FILE]`: one line saying what changed, then one per changed object (the daemon's answer as JSON with -j). */
export async function runReload(cl: CommandLine, c: Control, out: Writer): Promise<number> {
  if (cl.args.length > 1) throw new UsageError(`Error: argument "${cl.args[1] ?? ''}" is wrong: reload takes one FILE at most`, 'reload');
  const file = cl.args[0];
  const r = (await c.request('config.reload', file !== undefined ? { file: resolve(file) } : {})) as ReloadResult;
  if (cl.options.isJson) {
    out(JSON.stringify(r, null, cl.options.isPretty ? 2 : undefined));
    return 0;
  }
  const what = (verb: string, l: readonly string[]): string[] => l.map((x) => `  ${verb} ${x}`);
  out([`reload ${r.file}: ${r.added.length} added, ${r.removed.length} removed, ${r.replaced.length} replaced, ${r.updated.length} updated, ${r.unchanged} unchanged`,
    ...what('added', r.added), ...what('removed', r.removed), ...what('replaced', r.replaced), ...what('updated', r.updated)].join('\n'));
  return 0;
}
