// Owns when the dispatcher drains next: at the next turn after a wake-up, or paced to at most one drain per interval.
// Must never drain or read the ring itself: the dispatcher tells it the backlog and gives it the drain to run.

/** A paced drain goes at once past this backlog (a quarter of the dispatcher's bounded drain): bursts never wait. */
export const PACER_BACKLOG_EVENTS = 8192

export class DrainPacer {
  private scheduled = false
  private stopped = false
  private intervalMs = 0
  private lastDrainMs = Number.NEGATIVE_INFINITY
  private timer: NodeJS.Timeout | null = null
  private readonly runBound: () => void

  /** `now`: the clock the interval is measured on (injected: tests pass their own) */
  constructor(run: () => void, private readonly now: () => number = () => performance.now()) { this.runBound = run }

  /**
   * At most one drain per `intervalMs` (0: one per wake-up, the default). Each drain costs every subscriber one frame
   * per symbol that changed and one send; fewer, fuller drains cut the fan-out's CPU per delivered update, for up to
   * `intervalMs` of added latency (README, Performance: fanout-cost --interval-ms). Timer-driven, so a quiet feed's
   * first event after a pause goes at once.
   */
  pace(intervalMs: number): void { this.intervalMs = Math.max(0, intervalMs) }

  /** New events are in the ring, `backlog` of them unread. */
  wake(backlog: number): void {
    if (this.stopped) return
    const paced = this.intervalMs > 0 && backlog < PACER_BACKLOG_EVENTS
    if (this.scheduled) { if (!paced && this.timer !== null) this.soon(); return }
    this.scheduled = true
    if (paced) {
      const waitMs = this.lastDrainMs + this.intervalMs - this.now()
      if (waitMs >= 1) { this.timer = setTimeout(this.runBound, waitMs); return }
    }
    setImmediate(this.runBound)
  }

  /** The drain starts (whoever called it: the timer, the immediate, a test). */
  started(): void {
    this.scheduled = false
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.intervalMs > 0) this.lastDrainMs = this.now()
  }

  /** The drain was bounded and left events: they are late already, so the next one runs at the next turn. */
  soon(): void {
    if (this.stopped) return
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.scheduled = true
    setImmediate(this.runBound)
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
  }
}
