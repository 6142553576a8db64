// The service manager notification protocol (sd_notify(3), systemd.service(5)
// Type=notify): what tunkitd tells systemd, one datagram per call to the
// AF_UNIX socket named in $NOTIFY_SOCKET (a path, or '@name' for an abstract
// socket), sent by the native addon (native/notify.c). Without NOTIFY_SOCKET
// (not started by systemd) every call does nothing.
//
//   ready()       READY=1       startup finished: the control socket listens,
//                               the devices are up. After a reload, again.
//   reloading()   RELOADING=1 + MONOTONIC_USEC=<CLOCK_MONOTONIC µs>: a reload
//                               starts (SIGHUP); call ready() when it is done.
//   status(text)  STATUS=text   one line for `systemctl status`; rate-limited
//                               (STATUS_MIN_INTERVAL_MS) and sent only on change.
//   stopping()    STOPPING=1    shutdown starts (SIGTERM).
//   watchdog()    WATCHDOG=1    the keep-alive ping (WatchdogSec=); the packet
//                               loop sends it (datapath/watchdog.ts) at
//                               watchdogIntervalMs().
//
// A failed send (systemd went away, a full queue) never throws: it is handed
// to onError (the daemon logs it, rate-limited).

import { loadNative } from '../io/native.js';

/** STATUS= is sent at most once per this many ms; a newer text waits for the next call. */
export const STATUS_MIN_INTERVAL_MS = 1000;

/** How a notification leaves: the addon's sdNotify in the daemon, a recorder in tests. */
export type NotifySend = (path: string, state: string) => void;

/**
 * The watchdog ping period in ms, half of WATCHDOG_USEC as sd_watchdog_enabled(3)
 * advises; null when the watchdog is off (no or an invalid WATCHDOG_USEC, or
 * WATCHDOG_PID naming another process: the setting is then not ours).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | null {
  const usec = env['WATCHDOG_USEC'];
  if (usec === undefined || !/^[1-9][0-9]{0,15}$/.test(usec)) return null;
  const owner = env['WATCHDOG_PID'];
  if (owner !== undefined && owner !== String(pid)) return null;
  return Math.max(1, Math.floor(Number(usec) / 2000));
}

/** CLOCK_MONOTONIC in µs: process.hrtime reads uv_hrtime, CLOCK_MONOTONIC on Linux. */
export const monotonicUsec = (): bigint => process.hrtime.bigint() / 1000n;

export class Notifier {
  /** Called with the error of a failed send; never throws out of a call. */
  onError: (e: unknown) => void = () => undefined;
  private lastStatus: string | null = null;
  private lastStatusMs = -Infinity;

  /** path: $NOTIFY_SOCKET, or null/'' to send nothing. */
  constructor(
    private readonly path: string | null,
    private readonly send: NotifySend = (p, s) => loadNative().sdNotify(p, s),
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** True when a service manager listens (NOTIFY_SOCKET was set). */
  get isEnabled(): boolean { return this.path !== null && this.path !== ''; }

  ready(): void { this.notify('READY=1'); }
  reloading(): void { this.notify(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}`); }
  stopping(): void { this.notify('STOPPING=1'); }
  watchdog(): void { this.notify('WATCHDOG=1'); }

  /**
   * STATUS=text (newlines become spaces): sent when it differs from the last
   * text sent and STATUS_MIN_INTERVAL_MS have passed since; otherwise
   * dropped, so a caller that repeats it (the daemon does, once a second)
   * gets it through on a later call. Returns whether it was sent.
   */
  status(text: string): boolean {
    const line = text.replace(/[\r\n]+/g, ' ');
    if (line === this.lastStatus || !this.isEnabled) return false;
    const now = this.nowMs();
    if (now - this.lastStatusMs < STATUS_MIN_INTERVAL_MS) return false;
    this.lastStatusMs = now;
    this.lastStatus = line;
    this.notify(`STATUS=${line}`);
    return true;
  }

  /** Sends `state` as is; false if nothing listens or the send failed. */
  notify(state: string): boolean {
    if (this.path === null || this.path === '') return false;
    try {
      this.send(this.path, state);
      return true;
    } catch (e) {
      this.onError(e);
      return false;
    }
  }
}

/** The daemon's notifier, on $NOTIFY_SOCKET as it was at startup. */
export const notifier = new Notifier(process.env['NOTIFY_SOCKET'] ?? null);

export const ready = (): void => notifier.ready();
export const reloading = (): void => notifier.reloading();
export const status = (text: string): boolean => notifier.status(text);
export const stopping = (): void => notifier.stopping();
export const watchdog = (): void => notifier.watchdog();
