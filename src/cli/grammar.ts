// The `tunkit` command-line grammar as a tree of words, built from the very
// tables the parsers dispatch on (args.ts OPTIONS/IP_OBJECTS, link-args.ts,
// tunnel-args.ts, xfrm-*-args.ts, ike.ts, link.ts MONITOR_WORDS), so shell
// completion (completion.ts) cannot drift from what the parsers accept.
// Only words tunkit implements are offered: a table row the parser refuses
// as "not supported by tunkit" is left out.
//
// A node's `words` are offered where it is the deepest node reached; a word
// naming a child moves completion into the child; `values` are offered right
// after their keyword (e.g. `type` → the link kinds).

import { IP_OBJECTS, OPTIONS, SUPPORTED } from './args.js';
import { IKE_COMMANDS } from './ike.js';
import { COMMANDS as LINK_COMMANDS, GENERIC } from './link-args.js';
import { MONITOR_WORDS } from './link.js';
import { KEYWORDS as TUNNEL_KEYWORDS, MODES as TUNNEL_MODES, TUNNEL_COMMANDS } from './tunnel-args.js';
import { GRE_WORDS, IPTNL_WORDS, KINDS } from './tunnel-link-args.js';
import { MONITOR_GROUPS, XFRM_OBJECTS } from './xfrm-args.js';
import { POLICY_COMMANDS } from './xfrm-policy-args.js';
import { STATE_COMMANDS } from './xfrm-state-args.js';

export interface GrammarNode {
  /** Words offered at this point (children's names are offered too). */
  readonly words: readonly string[];
  /** Words that lead into a sub-grammar. */
  readonly children: Readonly<Record<string, GrammarNode>>;
  /** Keyword → the values offered right after it. */
  readonly values: Readonly<Record<string, readonly string[]>>;
}

/** The CLI's global options: one word each, with the ones that take a value. */
export interface OptionGrammar {
  readonly words: readonly string[];
  readonly takesValue: readonly string[];
}

const node = (words: readonly string[], children: Record<string, GrammarNode> = {}, values: Record<string, readonly string[]> = {}): GrammarNode =>
  ({ words, children, values });
const leaf: GrammarNode = node([]);

/** The words of a [word, handler-or-null, …] table whose handler is not null (null = refused). */
const offered = (table: readonly (readonly [string, unknown, ...unknown[]])[]): string[] =>
  table.filter((row) => row[1] !== null).map(([w]) => w);

function linkGrammar(): GrammarNode {
  const generic = GENERIC.filter(([, , action]) => action !== 'unsupported').map(([w]) => w);
  const kinds: Record<string, GrammarNode> = {};
  for (const k of KINDS) kinds[k] = node(k === 'gre' || k === 'gretap' ? GRE_WORDS : IPTNL_WORDS);
  kinds.xfrm = leaf;
  const add = node(generic.filter((w) => w !== 'type'), { type: node([], kinds) });
  const show = node(['dev', 'up', 'down', 'type'], {}, { type: Object.keys(kinds) });
  const children: Record<string, GrammarNode> = {};
  for (const w of offered(LINK_COMMANDS)) children[w] = leaf;
  return node([], { ...children, add, set: node(['dev', 'up', 'down', 'mtu']), change: node(['dev', 'up', 'down', 'mtu']), show, list: show, lst: show });
}

function tunnelGrammar(): GrammarNode {
  const modes = Object.entries(TUNNEL_MODES).filter(([, m]) => typeof m === 'number').map(([w]) => w);
  const args = node(['name', ...TUNNEL_KEYWORDS, 'dsfield'], {}, { mode: modes });
  const children: Record<string, GrammarNode> = {};
  for (const w of offered(TUNNEL_COMMANDS)) children[w] = w === 'help' ? leaf : args;
  return node([], children);
}

function xfrmGrammar(): GrammarNode {
  const sub = (table: readonly (readonly [string, unknown])[]): GrammarNode => {
    const c: Record<string, GrammarNode> = {};
    for (const w of offered(table)) c[w] = leaf;
    return node([], c);
  };
  const children: Record<string, GrammarNode> = {};
  for (const [w] of XFRM_OBJECTS) children[w] = leaf;
  return node([], {
    ...children,
    state: sub(STATE_COMMANDS), sa: sub(STATE_COMMANDS), policy: sub(POLICY_COMMANDS),
    monitor: node(['all', 'nokeys', ...MONITOR_GROUPS.map(([w]) => w), 'help']),
  });
}

/** The whole grammar after the global options: the objects tunkit implements and what follows them. */
export function tunkitGrammar(): GrammarNode {
  const objects = IP_OBJECTS.filter((o) => SUPPORTED.has(o));
  const children: Record<string, GrammarNode> = {};
  for (const o of objects) children[o] = leaf;
  return node([], {
    ...children,
    link: linkGrammar(),
    tunnel: tunnelGrammar(),
    xfrm: xfrmGrammar(),
    monitor: node(MONITOR_WORDS),
    ike: node([], Object.fromEntries(Object.keys(IKE_COMMANDS).map((w) => [w, leaf]))),
    reload: leaf,
  });
}

/** args.ts OPTIONS tunkit implements, by their full names (`-socket` as `--socket`), plus `--version`. */
export function optionGrammar(): OptionGrammar {
  const words = OPTIONS.filter(([, kind]) => kind !== 'unsupported').map(([name, kind]) => (kind === 'socket' ? `-${name}` : name));
  const takesValue = OPTIONS.filter(([, kind]) => kind === 'socket' || kind === 'batch').map(([name, kind]) => (kind === 'socket' ? `-${name}` : name));
  return { words: [...words, '--version'], takesValue };
}
