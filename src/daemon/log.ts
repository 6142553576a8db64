// tunkitd's log: one line per event on stderr, stable key=value fields
// (logfmt) after a fixed head:
//
//   2026-11-25T04:55:00.123Z tunkitd[1234] level=warn event=route_install dev=ipsec0 err="RTM_NEWROUTE: ENETDOWN"
//
// Under journald (JOURNAL_STREAM names our stderr, systemd.exec(5)) the head
// is a syslog priority prefix instead, which journald turns into the entry's
// PRIORITY= and strips; it adds the timestamp and pid itself:
//
//   <4>level=warn event=route_install dev=ipsec0 err="RTM_NEWROUTE: ENETDOWN"
//
// Fields: `event` is a snake_case name that does not change between
// releases; other keys are snake_case too; a value is bare when it is only
// [A-Za-z0-9_.:/@+,-] and double-quoted with \" \\ \n \r \t \xNN escapes
// otherwise. Keys never reach a log line: callers log names and reasons,
// never key material or payloads, and as a second line of defence a field
// whose name says key/secret/psk/password is printed as [redacted], as is
// any run of 32 or more hex digits inside a value.
//
// Rate limit (per condition = level + event + dev; all but action() lines,
// the operator's own requests): at most LOG_BURST lines
// per LOG_INTERVAL_MS; what is held back is counted and reported in one
// `event=log_suppressed what=EVENT suppressed=K` line when the condition
// logs again after its window, or at the next flush() (the daemon calls it
// once a second).

import { fstatSync } from 'node:fs';
import { RateLimiter } from './rate-limit.js';

export type Level = 'error' | 'warn' | 'info' | 'debug';
export const LEVELS: readonly Level[] = ['error', 'warn', 'info', 'debug'];
const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };
/** syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (sd-daemon(3) prefixes). */
const SYSLOG: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/** A line's fields; undefined ones are left out. */
export type Fields = Readonly<Record<string, string | number | boolean | bigint | null | undefined>>;
/** What shells that log take: an event name and its fields. */
export type LogFn = (event: string, fields?: Fields) => void;

/** Lines per condition per window, and the window. */
export const LOG_BURST = 10;
export const LOG_INTERVAL_MS = 10_000;

const BARE = /^[A-Za-z0-9_.:/@+,-]+$/;
const SECRET_KEY = /key|secret|psk|passw/i;
const HEX_RUN = /(?:0x)?[0-9a-fA-F]{32,}/g;

/** One value as logfmt: bare, or quoted with escapes. Long hex runs are redacted. */
export function formatValue(v: string | number | boolean | bigint | null): string {
  if (v === null) return 'null';
  const s = typeof v === 'string' ? v.replace(HEX_RUN, '[redacted]') : String(v);
  if (BARE.test(s)) return s;
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A field name as logfmt wants it: [a-z0-9_] only. */
const formatKey = (k: string): string => k.toLowerCase().replace(/[^a-z0-9_]/g, '_') || '_';

/** `level=L event=E k=v …` (no head); `level` and `event` fields in `fields` are ignored. */
export function formatFields(level: Level, event: string, fields: Fields = {}): string {
  let out = `level=${level} event=${formatValue(event)}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || k === 'level' || k === 'event') continue;
    out += ` ${formatKey(k)}=${SECRET_KEY.test(k) ? '[redacted]' : formatValue(v)}`;
  }
  return out;
}

/** The whole line with its head and newline; `journal`: syslog prefix, no time (journald adds it). */
export function formatLine(level: Level, event: string, fields: Fields, journal: boolean, now: Date, pid: number): string {
  const body = formatFields(level, event, fields);
  return journal ? `<${SYSLOG[level]}>${body}\n` : `${now.toISOString()} tunkitd[${pid}] ${body}\n`;
}

/** The message of an error (or anything thrown), for an `err=` field. */
export const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * True when fd (stderr) is the stream journald gave us: JOURNAL_STREAM is
 * "DEV:INODE" of it (systemd.exec(5)), checked so that a child whose stderr
 * was redirected elsewhere does not think it is in the journal.
 */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env['JOURNAL_STREAM'] ?? '');
  if (m === null) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false; // fd closed (EBADF): certainly not the journal's stream
  }
}

interface Condition { readonly level: Level; readonly event: string; readonly dev: string | undefined }

export interface LogOptions {
  readonly level?: Level;
  readonly out?: (line: string) => void;
  /** Syslog prefixes and no timestamps; default: isJournalStream(). */
  readonly journal?: boolean;
  /** Monotonic ms for the rate limit. */
  readonly nowMs?: () => number;
  readonly burst?: number;
  readonly intervalMs?: number;
}

export class Log {
  private level: Level;
  private readonly out: (line: string) => void;
  readonly journal: boolean;
  private readonly nowMs: () => number;
  private readonly limiter: RateLimiter<Condition>;

  constructor(o: LogOptions = {}) {
    this.level = o.level ?? 'info';
    this.out = o.out ?? ((l) => process.stderr.write(l));
    this.journal = o.journal ?? isJournalStream();
    this.nowMs = o.nowMs ?? (() => performance.now());
    this.limiter = new RateLimiter(o.burst ?? LOG_BURST, o.intervalMs ?? LOG_INTERVAL_MS);
  }

  get debugOn(): boolean { return RANK[this.level] >= RANK.debug; }
  setLevel(l: Level): void { this.level = l; }
  isOn(l: Level): boolean { return RANK[l] <= RANK[this.level]; }

  error(event: string, fields?: Fields): void { this.emit('error', event, fields); }
  warn(event: string, fields?: Fields): void { this.emit('warn', event, fields); }
  info(event: string, fields?: Fields): void { this.emit('info', event, fields); }
  debug(event: string, fields?: Fields): void { this.emit('debug', event, fields); }
  /**
   * An operator's request carried out (link add, xfrm state add …): level
   * info, never rate-limited, since requests are paced by whoever sends
   * them and the record of what was changed must be whole.
   */
  action(event: string, fields?: Fields): void {
    if (this.isOn('info')) this.write('info', event, fields ?? {});
  }

  /** Reports conditions whose window ended with lines held back; forgets idle ones. */
  flush(): void {
    for (const [c, n] of this.limiter.drain(this.nowMs())) this.suppressed(c, n);
  }

  private emit(level: Level, event: string, fields: Fields = {}): void {
    if (!this.isOn(level)) return;
    const dev = fields['dev'];
    const c: Condition = { level, event, dev: dev === undefined || dev === null ? undefined : String(dev) };
    const held = this.limiter.admit(`${level} ${event} ${c.dev ?? ''}`, c, this.nowMs());
    if (held < 0) return;
    if (held > 0) this.suppressed(c, held);
    this.write(level, event, fields);
  }

  private suppressed(c: Condition, n: number): void {
    this.write(c.level, 'log_suppressed', { what: c.event, dev: c.dev, suppressed: n, interval_ms: this.limiter.intervalMs });
  }

  private write(level: Level, event: string, fields: Fields): void {
    this.out(formatLine(level, event, fields, this.journal, new Date(), process.pid));
  }
}
