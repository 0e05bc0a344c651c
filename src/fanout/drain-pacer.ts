// Owns when the dispatcher drains next: at the next turn after a wake-up, or paced to at most one drain per interval.
// Must never drain or read the ring itself: the dispatcher tells it the backlog and gives it the drain to run.

/** A paced drain goes at once past this backlog (a quarter of the dispatcher's bounded drain): bursts never wait. */
export const PACER_BACKLOG_EVENTS = 8192
/** A busy share never spaces drains further apart than this (a stalled turn must not stall the next drains). */
const MAX_SPACING_MS = 100

export class DrainPacer {
  private scheduled = false
  private stopped = false
  private intervalMs = 0
  /** drains may keep the thread busy this share of the time (1 = no bound) */
  private busyShare = 1
  private lastDrainMs = Number.NEGATIVE_INFINITY
  /** the last drain's own duration, and the spacing it asks of the next one */
  private lastDurationMs = 0
  private spacingMs = 0
  private timer: NodeJS.Timeout | null = null
  /** when the paced drain waiting on `timer` may run */
  private dueMs = 0
  private readonly runBound: () => void
  private readonly dueBound = (): void => this.due()

  /** `now`: the clock the interval is measured on (injected: tests pass their own) */
  constructor(run: () => void, private readonly now: () => number = () => performance.now()) { this.runBound = run }

  /**
   * At most one drain per `intervalMs` (0: one per wake-up, the default), and drains busy at most `busyShare` of the
   * time (1: no bound): after a drain of d ms the next starts no sooner than d / busyShare after it began. Each drain
   * costs every subscriber with a change one frame and one send, ~13 µs a send on the test machine's loopback; with
   * 1,000 subscribers a drain is 10–20 ms, and drains back to back keep the thread busy at any feed rate. Fewer,
   * fuller drains cut the CPU per delivered update, for up to the spacing of added latency (README, Benchmarks). A
   * quiet feed's first event after a pause goes at once.
   */
  pace(intervalMs: number, busyShare = 1): void {
    this.intervalMs = Math.max(0, intervalMs)
    this.busyShare = busyShare > 0 && busyShare < 1 ? busyShare : 1
    this.spacingMs = this.intervalMs
  }

  private get paced(): boolean { return this.intervalMs > 0 || this.busyShare < 1 }

  /** New events are in the ring, `backlog` of them unread. */
  wake(backlog: number): void {
    if (this.stopped) return
    const paced = this.paced && backlog < PACER_BACKLOG_EVENTS
    if (this.scheduled) { if (!paced && this.timer !== null) this.soon(); return }
    this.scheduled = true
    if (paced) {
      const waitMs = this.lastDrainMs + this.spacingMs - this.now()
      if (waitMs >= 1) { this.dueMs = this.lastDrainMs + this.spacingMs; this.timer = setTimeout(this.dueBound, waitMs); return }
    }
    setImmediate(this.runBound)
  }

  /**
   * Node starts a timer from the event loop's cached time, which is stale after a long turn (a drain's sends), so it
   * can fire early: before the next writer batch it was meant to wait for (fanout-cost: 0.65 drains per turn at 20 ms
   * instead of 0.5). Early by more than a quarter millisecond, it waits out the rest.
   */
  private due(): void {
    const restMs = this.dueMs - this.now()
    if (restMs > 0.25) { this.timer = setTimeout(this.dueBound, restMs); return }
    this.runBound()
  }

  /** The drain starts (whoever called it: the timer, the immediate, a test). */
  started(): void {
    this.scheduled = false
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.paced) this.lastDrainMs = this.now()
  }

  /** The drain is over: with a busy share, the next one starts no sooner than its duration / share after it began. */
  finished(): void {
    if (this.busyShare >= 1) return
    this.lastDurationMs = this.now() - this.lastDrainMs
    this.spacingMs = Math.max(this.intervalMs, Math.min(MAX_SPACING_MS, this.lastDurationMs / this.busyShare))
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
