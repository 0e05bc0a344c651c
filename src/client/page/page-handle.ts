// Owns what the live page offers the console (and tests) as `globalThis.tickcast`: its notices as events, totals, states.
// Must never reach the connection (it lives in the feed worker): it reports what the page was sent, nothing more.
import type { SymbolState } from '../tickcast-client.js'
import type { Notice } from './feed-protocol.js'

export class PageHandle {
  /** wire events the worker's client received, updates it applied, batches the page took (one per frame at most) */
  readonly stats = { eventsIn: 0, updates: 0, batches: 0 }
  private readonly handlers = new Map<string, Set<(v: unknown) => void>>()

  constructor(private readonly states: ReadonlyMap<string, SymbolState>) {}

  /** The latest state of `symbol` the page holds. */
  get(symbol: string): SymbolState | undefined { return this.states.get(symbol) }

  /** `state` handlers get the connection state, `latency` the ms, the others the notice itself. */
  on(type: Notice['k'], h: (v: unknown) => void): () => void {
    let set = this.handlers.get(type)
    if (set === undefined) this.handlers.set(type, set = new Set())
    set.add(h)
    return () => { set.delete(h) }
  }

  emit(n: Notice): void {
    const set = this.handlers.get(n.k)
    if (set === undefined) return
    const v = n.k === 'state' ? n.state : n.k === 'latency' ? n.ms : n
    for (const h of set) h(v)
  }
}
