// The service manager's watchdog (systemd.service(5) WatchdogSec=,
// sd_watchdog_enabled(3)) fed by the packet loop itself: every intervalMs
// the loop's own timer checks that the loop is alive and, if so, pings.
//
// The loop runs on the one JS thread, so a packet loop that is stuck (a
// batch that never ends, a promise chain that never yields to the event
// loop) also stops this timer: no ping, and systemd restarts the daemon
// after WATCHDOG_USEC. A loop that ended without being stopped (a device's
// read chain that no longer re-arms) fails isAlive: no ping either.
// Nothing here runs per packet.

export class LoopWatchdog {
  private timer: NodeJS.Timeout | null = null;
  /** Pings sent (tests). */
  pings = 0;
  private readonly tickBound = (): void => this.tick();

  /**
   * intervalMs: the ping period (half of WATCHDOG_USEC); ping: sends
   * WATCHDOG=1; isAlive: whether the loop still reads every open device.
   */
  constructor(private readonly intervalMs: number, private readonly ping: () => void, private readonly isAlive: () => boolean) {
    if (!(intervalMs >= 1)) throw new RangeError(`watchdog interval ${intervalMs} ms`);
  }

  /** Pings once now (startup counts as alive), then every intervalMs. Idempotent. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(this.tickBound, this.intervalMs);
    this.timer.unref(); // never what keeps the daemon running
    this.tick();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (!this.isAlive()) return;
    this.pings++;
    this.ping();
  }
}
