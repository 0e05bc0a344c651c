// Owns the server-wide budget of control work per event-loop turn: subscribe/unsubscribe symbol changes and snapshots.
// Must never reorder one connection's messages nor split one: over the budget, whole messages wait for a later turn.
//
// Why: uWS runs every ready socket's messages in one poll callback. 50 clients toggling `*` (500 uWS topic changes
// and 500 snapshots each) held the loop 750 ms in one stretch (CPU profile, bench:hostile churn), and every data frame
// to every client waited behind it. Spread over turns, the dispatcher drains between them.

/** Symbol changes + snapshots one turn may start (a `*` of 500 symbols with its snapshot is ~1,000). */
export const CONTROL_WORK_PER_TURN = 1_000

/** A connection whose control messages may wait (connection.ts). */
export interface PacedConnection {
  /** Runs its oldest waiting message; true while more wait. */
  runPending(nowMs: number): boolean
}

export class ControlPacer {
  private work = 0
  private resetScheduled = false
  private readonly waiting: PacedConnection[] = []
  private head = 0

  constructor(private readonly budget = CONTROL_WORK_PER_TURN) {
    this.turn = this.turn.bind(this)
  }

  /** May a message start now? False while the turn's budget is spent or others already wait (their turn first). */
  mayRun(): boolean { return this.work < this.budget && this.head === this.waiting.length }

  /** `n` symbol changes or snapshots were just done. */
  spend(n: number): void {
    this.work += n
    this.schedule()
  }

  /** `c` has a message waiting (it keeps its own queue, in order); it runs on a later turn. */
  defer(c: PacedConnection): void {
    this.waiting.push(c)
    this.schedule()
  }

  /** Connections with messages waiting (tests, diagnostics). */
  get backlog(): number { return this.waiting.length - this.head }

  private schedule(): void {
    if (!this.resetScheduled) { this.resetScheduled = true; setImmediate(this.turn) }
  }

  /** A new turn: the budget refills; waiting connections run one message each, in order, while it lasts. */
  private turn(): void {
    this.resetScheduled = false
    this.work = 0
    const now = performance.now()
    while (this.head < this.waiting.length && this.work < this.budget) {
      const c = this.waiting[this.head++]
      if (c.runPending(now)) this.waiting.push(c) // fairness: one message, then the back of the line
    }
    if (this.head === this.waiting.length) { this.waiting.length = 0; this.head = 0 }
    else if (this.head > 1024) { this.waiting.splice(0, this.head); this.head = 0 }
    if (this.waiting.length > 0) this.schedule()
  }
}
