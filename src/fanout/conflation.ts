// Owns the bookkeeping of symbols held outside uWS topics per connection (slow-consumer conflation, maxHz/maxAgeMs
// throttling): per-symbol lists of such connections, dirty flags, skipped-trade counts. Must never send bytes.

/** One (connection, symbol) held outside uWS; created once when detached, reused until attached again. */
export class PendingSymbol {
  dirty = false
  /** trades of this symbol not delivered as trade events since the last value sent (signalled as trades_skipped) */
  trades = 0
  firstDirtyMs = 0
  lastSentMs = Number.NEGATIVE_INFINITY
  /** 0 = not throttled (conflation only) */
  minIntervalMs = 0
  maxAgeMs = 0
  constructor(readonly id: number, readonly throttled: boolean) {}
}

/** A connection's side of it; the fan-out's Session implements this. */
export interface PendingOwner {
  readonly pending: Map<number, PendingSymbol>
  /** ids whose PendingSymbol is dirty, in the order they became dirty */
  readonly dirtyList: number[]
}

/** Marks a pending symbol dirty (once) and adds `trades`. */
export function markPending(o: PendingOwner, p: PendingSymbol, trades: number, nowMs: number): void {
  if (!p.dirty) { p.dirty = true; p.firstDirtyMs = nowMs; o.dirtyList.push(p.id) }
  p.trades += trades
}

/**
 * Per symbol, the connections holding it detached. The dispatcher reads `count[id]` once per symbol per batch
 * (a typed-array read) and calls mark() only when it is non-zero, so the full-rate path pays nothing else.
 */
export class DetachedIndex {
  readonly count: Uint32Array
  private readonly bySymbol: Array<Set<PendingOwner> | undefined> = []

  constructor(capacity: number) { this.count = new Uint32Array(capacity) }

  add(o: PendingOwner, id: number, throttled: boolean): PendingSymbol {
    let p = o.pending.get(id)
    if (p !== undefined) return p
    p = new PendingSymbol(id, throttled)
    o.pending.set(id, p)
    let set = this.bySymbol[id]
    if (set === undefined) set = this.bySymbol[id] = new Set()
    set.add(o)
    this.count[id]++
    return p
  }

  remove(o: PendingOwner, id: number): void {
    if (!o.pending.delete(id)) return
    this.bySymbol[id]!.delete(o)
    this.count[id]--
  }

  removeAll(o: PendingOwner): void {
    for (const id of o.pending.keys()) { this.bySymbol[id]!.delete(o); this.count[id]-- }
    o.pending.clear(); o.dirtyList.length = 0
  }

  /** The dispatcher saw `trades` trades (and maybe quotes/statuses) of symbol `id` in this batch. */
  mark(id: number, trades: number, nowMs: number): void {
    const set = this.bySymbol[id]
    if (set === undefined) return
    for (const o of set) markPending(o, o.pending.get(id)!, trades, nowMs)
  }
}

