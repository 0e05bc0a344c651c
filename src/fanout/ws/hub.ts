// Owns who wants which symbol as the dispatcher sees it: per-symbol per-format uWS topics and their counts, the
// symbols held outside topics, one uWS publish per frame (the dispatcher's FrameSink).
// Must never know a connection beyond its topics: it sends no control message and decides nothing about slow readers.
import { FORMAT_MSGPACK } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import type { SymbolTable } from '../../model/symbols.js'
import { tradesSkippedReply } from '../../subscriptions/protocol.js'
import { SubscriptionRegistry } from '../../subscriptions/registry.js'
import type { RegistryLimits, RequestResult, Subscriber } from '../../subscriptions/registry.js'
import type { FrameSink } from '../dispatcher.js'
import type { WsStats } from '../ws-stats.js'
import { DetachedIndex } from './detached-symbols.js'
import type { DetachedHolder } from './detached-symbols.js'

/** The part of a uWS app the hub uses (unit tests pass an in-memory one). */
export interface TopicPublisher {
  publish(topic: Uint8Array, message: Uint8Array, isBinary: boolean, compress: boolean): boolean
}

export type HubMember = Subscriber & DetachedHolder

export class Hub implements FrameSink {
  readonly registry: SubscriptionRegistry
  private readonly detached: DetachedIndex
  private readonly counts: Uint32Array
  /** the registry's array (it grows as symbols are learned): read here without a call */
  private readonly topics: Buffer[]

  constructor(private readonly app: TopicPublisher, private readonly symbols: SymbolTable, limits: RegistryLimits, stats: WsStats,
    /** the clock stamped on detached updates (injected: tests pass their own) */
    private readonly now: () => number = () => performance.now()) {
    this.registry = new SubscriptionRegistry(symbols, limits, stats)
    this.detached = new DetachedIndex(symbols.capacity)
    this.counts = this.registry.counts
    this.topics = this.registry.topics
  }

  /** Hot path: is anyone subscribed to symbol `id` in `format`? One typed-array read. */
  wants(id: number, format: WireFormat): boolean { return this.counts[(id << 1) | format] !== 0 }

  /** Hot path: one uWS publish of a whole data frame to the symbol's topic in that format (topic bytes prebuilt). */
  publish(id: number, format: WireFormat, frame: Uint8Array, _trades = 0): void {
    this.app.publish(this.topics[(id << 1) | format], frame, format === FORMAT_MSGPACK, false)
  }

  /** A lapped reader conflated `id` (rare): its topic is told how many trades were skipped, before the snap frame. */
  tradesSkipped(id: number, format: WireFormat, count: number): void {
    this.app.publish(this.topics[(id << 1) | format], Buffer.from(tradesSkippedReply(this.symbols.name[id], count)), false, false)
  }

  /** Hot path: does any connection hold symbol `id` outside uWS? One typed-array read. */
  detachedWants(id: number): boolean { return this.detached.count[id] !== 0 }

  /** Symbol `id` changed in this batch with `trades` trades: its holders mark it (one clock read per symbol). */
  markDetached(id: number, trades: number): void { this.detached.mark(id, trades, this.now()) }

  /** The dispatcher learned symbol `id` from the ring: patterns that cover it subscribe it. */
  symbolAdded(id: number): void { this.registry.symbolAdded(id) }

  subscribe(m: Subscriber, entries: readonly string[], out: RequestResult): void { this.registry.subscribe(m, entries, out) }

  unsubscribe(m: Subscriber, entries: readonly string[], out: RequestResult): void { this.registry.unsubscribe(m, entries, out) }

  /** `m`'s entitlements shrank: what it may no longer hold leaves (ids in out.added). */
  restrict(m: Subscriber, out: RequestResult): void { this.registry.restrict(m, out) }

  /** Takes topic `id` out of uWS for `m`, which is told of its updates from now on; false when not held in uWS. */
  detach(m: HubMember, id: number): boolean {
    if (!this.registry.detach(m, id)) return false
    this.detached.add(m, id)
    return true
  }

  /** Puts a detached topic back into uWS (the caller has just sent its latest value). */
  attach(m: HubMember, id: number): void {
    this.detached.remove(m, id)
    this.registry.attach(m, id)
  }

  /** A throttle group (throttle-groups.ts) is told of `id`'s updates, for all its members at once. */
  watch(h: DetachedHolder, id: number): void { this.detached.add(h, id) }

  /** The group no longer throttles `id`. */
  unwatch(h: DetachedHolder, id: number): void { this.detached.remove(h, id) }

  /** `m` no longer holds `id` (unsubscribed, closed): stop telling it of updates. */
  forget(m: HubMember, id: number): void { this.detached.remove(m, id) }

  /** The connection closed (the caller forgot its detached symbols): uWS already dropped its topics. */
  release(m: Subscriber): void { this.registry.release(m) }
}
