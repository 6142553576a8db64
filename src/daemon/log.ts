// tunkitd's log: one readable line per event on stderr,
//   2026-11-25T04:55:00.123Z tunkitd[1234] info: link add gre1 type gre
// Levels: error, warn, info, debug. Keys never reach a log line: callers
// log names and reasons, never key material or packet payloads.

export type Level = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Log {
  constructor(private level: Level = 'info', private readonly out: (line: string) => void = (l) => process.stderr.write(l)) {}
  get debugOn(): boolean { return RANK[this.level] >= RANK.debug; }
  setLevel(l: Level): void { this.level = l; }
  private emit(l: Level, msg: string): void {
    if (RANK[l] <= RANK[this.level]) this.out(`${new Date().toISOString()} tunkitd[${process.pid}] ${l}: ${msg}\n`);
  }
  error(m: string): void { this.emit('error', m); }
  warn(m: string): void { this.emit('warn', m); }
  info(m: string): void { this.emit('info', m); }
  debug(m: string): void { this.emit('debug', m); }
}
