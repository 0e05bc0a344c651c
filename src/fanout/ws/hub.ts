// Owns who wants which symbol as the dispatcher sees it: per-symbol per-format topics, their members and counts, the
// symbols held outside topics, and each drain's frames merged per connection (the dispatcher's FrameSink).
// Must never know a connection beyond its topics: it sends no control message and decides nothing about slow readers.
import { FORMAT_MSGPACK } from '../../codec/tick-codec.js'
import type { WireFormat } from '../../codec/tick-codec.js'
import type { SymbolTable } from '../../model/symbols.js'
import { tradesSkippedReply } from '../../subscriptions/protocol.js'
import { SubscriptionRegistry } from '../../subscriptions/registry.js'
import type { RegistryLimits, RequestResult, Subscriber, TopicMembership } from '../../subscriptions/registry.js'
import type { FrameSink } from '../dispatcher.js'
import type { WsStats } from '../ws-stats.js'
import { DetachedIndex } from './detached-symbols.js'
import type { DetachedHolder } from './detached-symbols.js'
import { BATCH_JSON, BATCH_MSGPACK, BATCH_TEXT, FrameBatch } from './frame-batch.js'
import type { BatchMember } from './frame-batch.js'

/** The part of a uWS app the hub's neighbours publish through (throttle groups; unit tests pass an in-memory one). */
export interface TopicPublisher {
  publish(topic: Uint8Array, message: Uint8Array, isBinary: boolean, compress: boolean): boolean
}

export type HubMember = Subscriber & DetachedHolder & BatchMember

export class Hub implements FrameSink, TopicMembership {
  readonly registry: SubscriptionRegistry
  /** this drain's frames, merged per connection at its end */
  readonly batch: FrameBatch
  private readonly detached: DetachedIndex
  private readonly counts: Uint32Array
  /** per (id << 1 | format): the connections that get the dispatcher's frames of that symbol in that format */
  private readonly members: Array<Set<HubMember> | undefined> = []
  /**
   * The same members as an array, made again at the first publish after a join or leave (null: to be made). Why: a
   * publish visits every member of its topic, ~2 M visits a second at 2 M updates/s; the batch's loop over an array
   * took 44 instructions a delivery against 57 over the Set's iterator (callgrind, fanout-cost), and a rebuild is at
   * most once per publish and no longer than the publish's own loop.
   */
  private readonly lists: Array<HubMember[] | null | undefined> = []
  /** writes the frames that fall due between drains (a quiet feed: no drain ends to write them) */
  private timer: NodeJS.Timeout | null = null
  private timerAtMs = Number.POSITIVE_INFINITY
  private readonly dueBound = (): void => { this.timer = null; this.timerAtMs = Number.POSITIVE_INFINITY; this.batch.scan(); this.arm() }

  constructor(private readonly symbols: SymbolTable, limits: RegistryLimits, stats: WsStats,
    /** a merged frame stops growing here (frame-batch.ts) */
    maxFrameBytes: number,
    /** each connection gets at most one merged data frame per this many ms (frame-batch.ts; 0: one per drain) */
    frameIntervalMs = 0,
    /** the clock stamped on detached updates and of the frame interval (injected: tests pass their own) */
    private readonly now: () => number = () => performance.now()) {
    this.batch = new FrameBatch(maxFrameBytes, frameIntervalMs, now)
    this.registry = new SubscriptionRegistry(symbols, limits, stats, this)
    this.detached = new DetachedIndex(symbols.capacity)
    this.counts = this.registry.counts
  }

  /** Hot path: is anyone subscribed to symbol `id` in `format`? One typed-array read. */
  wants(id: number, format: WireFormat): boolean { return this.counts[(id << 1) | format] !== 0 }

  /** Hot path: a whole data frame of symbol `id` for every member of its topic in that format; sent at endBatch. */
  publish(id: number, format: WireFormat, frame: Uint8Array, _trades = 0): void {
    const to = this.listOf((id << 1) | format)
    if (to !== null) this.batch.add(frame, format === FORMAT_MSGPACK ? BATCH_MSGPACK : BATCH_JSON, to)
  }

  /** The members of topic `key` as an array (made again after a join or leave); null when it has none. */
  private listOf(key: number): readonly HubMember[] | null {
    const list = this.lists[key]
    if (list != null) return list.length !== 0 ? list : null
    const set = this.members[key]
    if (set === undefined) return null
    const made = this.lists[key] = [...set]
    return made.length !== 0 ? made : null
  }

  /** The drain is over: every connection that is due gets its share of the frames, merged; the others at their phase. */
  endBatch(): void {
    if (!this.batch.pending) return
    this.batch.endDrain()
    this.arm()
  }

  /** Frames still wait: a timer writes them when due, unless a drain ends first (an earlier due moves it forward). */
  private arm(): void {
    if (!this.batch.pending) return
    const at = this.batch.nextDueMs
    if (at === Number.POSITIVE_INFINITY) return // only members written early are listed: the next scan drops them
    if (this.timer !== null) { if (at >= this.timerAtMs - 0.5) return; clearTimeout(this.timer) }
    this.timerAtMs = at
    this.timer = setTimeout(this.dueBound, Math.max(1, at - this.now()))
    this.timer.unref()
  }

  /** The server closes: what waits for its phase is written now, before the sockets end, and no timer outlives it. */
  stop(): void {
    if (this.batch.pending) this.batch.flush()
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
  }

  /** A lapped reader conflated `id` (rare): its topic is told how many trades were skipped, before the snap frame. */
  tradesSkipped(id: number, format: WireFormat, count: number): void {
    const to = this.listOf((id << 1) | format)
    if (to !== null) this.batch.add(Buffer.from(tradesSkippedReply(this.symbols.name[id], count)), BATCH_TEXT, to)
  }

  /** TopicMembership (the registry): `s` gets the frames of topic `key` from the next publish on. */
  join(s: Subscriber, key: number): void { (this.members[key] ??= new Set()).add(s as HubMember); this.lists[key] = null }

  /** TopicMembership: `s` gets no more frames of topic `key` (what this drain already queued for it still goes). */
  leave(s: Subscriber, key: number): void { if (this.members[key]?.delete(s as HubMember) === true) this.lists[key] = null }

  /** How many topics `m` is a member of (tests and diagnostics: a scan of every topic). */
  topicsOf(m: Subscriber): number {
    let n = 0
    for (const set of this.members) if (set?.has(m as HubMember) === true) n++
    return n
  }

  /** Hot path: does any connection hold symbol `id` outside its topics? One typed-array read. */
  detachedWants(id: number): boolean { return this.detached.count[id] !== 0 }

  /** Symbol `id` changed in this batch with `trades` trades: its holders mark it (one clock read per symbol). */
  markDetached(id: number, trades: number): void { this.detached.mark(id, trades, this.now()) }

  /** The dispatcher learned symbol `id` from the ring: patterns that cover it subscribe it. */
  symbolAdded(id: number): void { this.registry.symbolAdded(id) }

  subscribe(m: Subscriber, entries: readonly string[], out: RequestResult): void { this.registry.subscribe(m, entries, out) }

  unsubscribe(m: Subscriber, entries: readonly string[], out: RequestResult): void { this.registry.unsubscribe(m, entries, out) }

  /** `m`'s entitlements shrank: what it may no longer hold leaves (ids in out.added). */
  restrict(m: Subscriber, out: RequestResult): void { this.registry.restrict(m, out) }

  /** Takes topic `id` out of the frames for `m`, which is told of its updates from now on; false when not held there. */
  detach(m: HubMember, id: number): boolean {
    if (!this.registry.detach(m, id)) return false
    this.detached.add(m, id)
    return true
  }

  /** Puts a detached topic back into the frames (the caller has just sent its latest value). */
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

  /** The connection closed (the caller forgot its detached symbols): it leaves its topics. */
  release(m: Subscriber): void { this.registry.release(m) }
}
