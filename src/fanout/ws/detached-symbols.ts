// Owns, per symbol, which connections hold it detached from its topic (throttled by maxHz/maxAgeMs, conflated as
// slow, or waiting for an owed snapshot) and how many. Must never send bytes or keep a connection's per-symbol state.

/** A connection holding symbols detached; it keeps its own per-symbol state (writer.ts HeldSymbol). */
export interface DetachedHolder {
  /** the dispatcher published detached symbol `id` with `trades` trades in this batch */
  detachedUpdate(id: number, trades: number, nowMs: number): void
}

/**
 * The dispatcher reads `count[id]` once per symbol per batch (a typed-array read) and calls mark() only when it is
 * non-zero, so the full-rate path pays nothing else.
 */
export class DetachedIndex {
  readonly count: Uint32Array
  private readonly bySymbol: Array<Set<DetachedHolder> | undefined> = []

  constructor(capacity: number) { this.count = new Uint32Array(capacity) }

  add(h: DetachedHolder, id: number): void {
    let set = this.bySymbol[id]
    if (set === undefined) set = this.bySymbol[id] = new Set()
    if (set.has(h)) return
    set.add(h)
    this.count[id]++
  }

  remove(h: DetachedHolder, id: number): void {
    if (this.bySymbol[id]?.delete(h) === true) this.count[id]--
  }

  /** The dispatcher saw `trades` trades (and maybe quotes, statuses, markers) of symbol `id` in this batch. */
  mark(id: number, trades: number, nowMs: number): void {
    const set = this.bySymbol[id]
    if (set === undefined) return
    for (const h of set) h.detachedUpdate(id, trades, nowMs)
  }
}
