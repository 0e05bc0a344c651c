// Owns who is subscribed to what: per-connection explicit symbols and patterns, per-symbol per-format counts and members.
// Must never send data or read the ring: it resolves subscriptions to per-symbol topics, counts them and says who joins.
import { ERR_BAD_SYMBOL, ERR_NOT_ENTITLED, ERR_TOO_MANY_SUBSCRIPTIONS, ERR_UNKNOWN_SYMBOL } from '../errors.js'
import type { WireFormat } from '../codec/tick-codec.js'
import { NO_SYMBOL, SYMBOL_PATTERN } from '../model/symbols.js'
import type { SymbolTable } from '../model/symbols.js'
import type { WsStats } from '../fanout/ws-stats.js'
import { MAX_ERRORS_PER_REQUEST, PATTERN_RE, isPattern } from './protocol.js'

/** The part of a uWS WebSocket a subscriber holds (tests pass a fake); the registry only asks whether it is open. */
export interface TopicSocket {
  subscribe(topic: Uint8Array): boolean
  unsubscribe(topic: Uint8Array): boolean
}

/**
 * Who receives a topic's frames (the hub's per-topic members): told when a subscriber's topic starts or stops
 * receiving the dispatcher's frames. `key` = id << 1 | format.
 */
export interface TopicMembership {
  join(s: Subscriber, key: number): void
  leave(s: Subscriber, key: number): void
}

/** Which symbols a connection may hold (src/auth/entitlements.ts): asked at subscribe and expansion, never per tick. */
export interface SymbolGate { allows(symbol: string): boolean }

/** A subscriber's collections, each made on first use. */
class SubscriberSets {
  explicit: Set<number> | null = null
  /** null while the connection has no pattern: its topics are then exactly its explicit symbols, one Set for both */
  topics: Set<number> | null = null
  detached: Set<number> | null = null
  prefixes: string[] | null = null
  patterns: string[] | null = null
  gate: SymbolGate | null = null
  maxTopics = 0
}

/** One connection's subscriptions. Topics are per symbol, so patterns expand here. */
export class Subscriber {
  /** null before open and after close (uWS throws on a closed socket): a subscriber without one joins no topic */
  ws: TopicSocket | null = null
  /** the principal's entitlements; null = every symbol (kept with the collections: most principals see everything) */
  get gate(): SymbolGate | null { return this.sets?.gate ?? null }
  set gate(g: SymbolGate | null) { if (g !== null || this.sets !== null) (this.sets ??= new SubscriberSets()).gate = g }
  /** symbols this connection may hold at once, explicit and through patterns (the principal's cap); 0 = no cap */
  get maxTopics(): number { return this.sets?.maxTopics ?? 0 }
  set maxTopics(n: number) { if (n !== 0 || this.sets !== null) (this.sets ??= new SubscriberSets()).maxTopics = n }
  /** pattern prefixes without the `*` ('' = every symbol), and the patterns as the client wrote them */
  get prefixes(): string[] { const c = this.sets ??= new SubscriberSets(); return c.prefixes ??= [] }
  get patterns(): string[] { const c = this.sets ??= new SubscriberSets(); return c.patterns ??= [] }
  // The collections (and the rarely set gate and cap) are made on first use, behind one pointer: three empty Sets are
  // ~470 bytes, and seven fields 56, of what an idle connection costs (issue 12: idle memory ≤ 1.5× bare uWS).
  private sets: SubscriberSets | null = null
  constructor(readonly format: WireFormat) {}
  get explicit(): Set<number> { const c = this.sets ??= new SubscriberSets(); return c.explicit ??= new Set() }
  /**
   * symbol ids this connection is subscribed to: explicit ∪ pattern matches. Without a pattern that is the
   * explicit Set itself: a second Set of the same 50 ids cost 1,320 bytes per subscribed connection (heap snapshot,
   * issue 12); the registry splits them at the first pattern (splitTopics) and joins them when the last one goes.
   */
  get topics(): Set<number> { const c = this.sets ??= new SubscriberSets(); return c.topics ?? (c.explicit ??= new Set()) }
  /** registry only: a pattern is about to add topics that are not explicit */
  splitTopics(): void { const c = this.sets ??= new SubscriberSets(); c.topics ??= new Set(c.explicit) }
  /** registry only: no pattern is left, so the topics are the explicit symbols again */
  joinTopics(): void { if (this.sets !== null) this.sets.topics = null }
  /**
   * topics held outside the dispatcher's frames (conflating, throttled, or waiting for an owed snapshot): not a member
   * and not in `counts`, so the dispatcher neither encodes nor publishes for them; the connection sends their latest values
   */
  get detached(): Set<number> { const c = this.sets ??= new SubscriberSets(); return c.detached ??= new Set() }
  /** A pattern of this connection just covered symbol `id`, learned from the ring (the connection may throttle it). */
  topicLearned(_id: number): void {}
}

function entitled(s: Subscriber, name: string): boolean { return s.gate === null || s.gate.allows(name) }
function full(s: Subscriber): boolean { return s.maxTopics > 0 && s.topics.size >= s.maxTopics }

/** What one subscribe/unsubscribe did; reused per request by the server (the connection snapshots `added` ∪ `listed`). */
export class RequestResult {
  symbols: string[] = []
  patterns: string[] = []
  /** ids this request newly subscribed (explicit or through a pattern), in order */
  added: number[] = []
  /** ids of the explicit symbols this request lists and the connection now holds, new or already held, in order */
  listed: number[] = []
  errorCodes: string[] = []
  errorSymbols: string[] = []
  errorMessages: string[] = []
  reset(): void { this.symbols = []; this.patterns = []; this.added = []; this.listed = []; this.errorCodes = []; this.errorSymbols = []; this.errorMessages = [] }
  error(code: string, symbol: string, message: string): void {
    if (this.errorCodes.length >= MAX_ERRORS_PER_REQUEST) return
    this.errorCodes.push(code); this.errorSymbols.push(symbol); this.errorMessages.push(message)
  }
}

export interface RegistryLimits {
  maxSymbolsPerConnection: number
  maxPatternsPerConnection: number
}

export class SubscriptionRegistry {
  /** subscribers per (id << 1 | format): the dispatcher's wants() is one typed-array read */
  readonly counts: Uint32Array
  private readonly patternSubscribers = new Set<Subscriber>()

  constructor(private readonly symbols: SymbolTable, private readonly limits: RegistryLimits, private readonly stats: WsStats,
    private readonly members: TopicMembership) {
    this.counts = new Uint32Array(symbols.capacity * 2)
  }

  wants(id: number, format: WireFormat): boolean { return this.counts[(id << 1) | format] !== 0 }

  subscribe(s: Subscriber, entries: readonly string[], out: RequestResult): void {
    const { maxSymbolsPerConnection, maxPatternsPerConnection } = this.limits
    for (const entry of entries) {
      if (isPattern(entry)) {
        if (!PATTERN_RE.test(entry)) { out.error(ERR_BAD_SYMBOL, entry, 'a pattern is * or a symbol prefix followed by *'); continue }
        if (!s.patterns.includes(entry)) {
          if (s.patterns.length >= maxPatternsPerConnection) {
            out.error(ERR_TOO_MANY_SUBSCRIPTIONS, entry, `at most ${maxPatternsPerConnection} patterns per connection`); continue
          }
          const prefix = entry.slice(0, -1)
          s.splitTopics()
          s.patterns.push(entry); s.prefixes.push(prefix); this.patternSubscribers.add(s); this.stats.patterns++
          const names = this.symbols.name
          for (let id = 0; id < names.length; id++) {
            if (!names[id].startsWith(prefix) || !entitled(s, names[id]) || s.topics.has(id)) continue
            if (full(s)) { out.error(ERR_TOO_MANY_SUBSCRIPTIONS, entry, `at most ${s.maxTopics} symbols for this principal`); break }
            if (this.addTopic(s, id)) out.added.push(id)
          }
        }
        if (!out.patterns.includes(entry)) out.patterns.push(entry)
        continue
      }
      if (!SYMBOL_PATTERN.test(entry)) { out.error(ERR_BAD_SYMBOL, entry, `symbols match ${SYMBOL_PATTERN.source}`); continue }
      const id = this.symbols.idOf(entry)
      if (id === NO_SYMBOL) { out.error(ERR_UNKNOWN_SYMBOL, entry, 'no such symbol'); continue }
      if (!entitled(s, entry)) { out.error(ERR_NOT_ENTITLED, entry, 'not entitled to this symbol'); continue }
      if (!s.explicit.has(id)) {
        if (s.explicit.size >= maxSymbolsPerConnection || (full(s) && !s.topics.has(id))) {
          out.error(ERR_TOO_MANY_SUBSCRIPTIONS, entry, `at most ${full(s) ? s.maxTopics : maxSymbolsPerConnection} symbols per connection`); continue
        }
        // topic first: without a pattern `topics` is the explicit Set, where adding the id first would hide it from addTopic
        const added = this.addTopic(s, id)
        s.explicit.add(id); this.stats.subscriptions++
        if (added) out.added.push(id)
      }
      if (!out.symbols.includes(entry)) { out.symbols.push(entry); out.listed.push(id) }
    }
  }

  unsubscribe(s: Subscriber, entries: readonly string[], out: RequestResult): void {
    for (const entry of entries) {
      if (isPattern(entry)) {
        if (!PATTERN_RE.test(entry)) { out.error(ERR_BAD_SYMBOL, entry, 'a pattern is * or a symbol prefix followed by *'); continue }
        const k = s.patterns.indexOf(entry)
        if (k < 0) continue
        s.patterns.splice(k, 1); s.prefixes.splice(k, 1); this.stats.patterns--
        if (s.patterns.length === 0) this.patternSubscribers.delete(s)
        for (const id of s.topics) if (!this.covers(s, id)) this.removeTopic(s, id) // deleting during for-of of a Set is safe
        if (s.patterns.length === 0) s.joinTopics() // what is left is exactly the explicit symbols
        out.patterns.push(entry)
        continue
      }
      if (!SYMBOL_PATTERN.test(entry)) { out.error(ERR_BAD_SYMBOL, entry, `symbols match ${SYMBOL_PATTERN.source}`); continue }
      const id = this.symbols.idOf(entry)
      if (id === NO_SYMBOL || !s.explicit.delete(id)) continue
      this.stats.subscriptions--
      if (!this.covers(s, id)) this.removeTopic(s, id)
      out.symbols.push(entry)
    }
  }

  /**
   * The connection's entitlements shrank (a reload, a refreshed token): every symbol it may no longer hold leaves, explicit
   * or through a pattern (patterns stay, now expanding only to what is entitled). Removed ids land in out.added.
   */
  restrict(s: Subscriber, out: RequestResult): void {
    const names = this.symbols.name
    for (const id of s.topics) {
      if (entitled(s, names[id])) continue
      if (s.explicit.delete(id)) this.stats.subscriptions--
      this.removeTopic(s, id) // deleting during for-of of a Set is safe
      out.added.push(id)
    }
  }

  /** Takes topic `id` out of the dispatcher's frames for this connection (conflation, throttling, an owed snapshot); false when not held or already out. */
  detach(s: Subscriber, id: number): boolean {
    if (!s.topics.has(id) || s.detached.has(id)) return false
    s.detached.add(id)
    this.counts[(id << 1) | s.format]--
    this.members.leave(s, (id << 1) | s.format)
    return true
  }

  /** Puts a detached topic back (the caller has just sent its latest value). */
  attach(s: Subscriber, id: number): boolean {
    if (!s.detached.delete(id) || !s.topics.has(id)) return false
    this.join(s, (id << 1) | s.format)
    return true
  }

  /** The connection closed: it leaves every topic it was a member of. */
  release(s: Subscriber): void {
    for (const id of s.topics) {
      if (s.detached.has(id)) continue
      this.counts[(id << 1) | s.format]--
      this.members.leave(s, (id << 1) | s.format)
    }
    s.detached.clear()
    this.stats.subscriptions -= s.explicit.size
    this.stats.patterns -= s.patterns.length
    s.topics.clear(); s.explicit.clear(); s.joinTopics(); s.patterns.length = 0; s.prefixes.length = 0
    this.patternSubscribers.delete(s)
    s.ws = null
  }

  private covers(s: Subscriber, id: number): boolean {
    if (s.explicit.has(id)) return true
    const name = this.symbols.name[id]
    for (const p of s.prefixes) if (name.startsWith(p)) return true
    return false
  }

  private addTopic(s: Subscriber, id: number): boolean {
    if (s.topics.has(id)) return false
    s.topics.add(id)
    this.join(s, (id << 1) | s.format)
    return true
  }

  /** Counted as wanted, and a member, unless it has no socket (not open yet, or subscribing outside the frames). */
  private join(s: Subscriber, key: number): void {
    this.counts[key]++
    if (s.ws !== null) this.members.join(s, key)
  }

  private removeTopic(s: Subscriber, id: number): void {
    s.topics.delete(id)
    if (s.detached.delete(id)) return // already out of the members and the counts
    this.counts[(id << 1) | s.format]--
    this.members.leave(s, (id << 1) | s.format)
  }

  /**
   * The consumer learned a symbol from the ring (once per symbol, never per tick): matching patterns subscribe it.
   * Called by the dispatcher in ring order, so the symbol's first events reach pattern subscribers.
   */
  symbolAdded(id: number): void {
    const name = this.symbols.name[id]
    for (const s of this.patternSubscribers) {
      if (!entitled(s, name) || full(s)) continue
      for (const p of s.prefixes) if (name.startsWith(p)) { if (this.addTopic(s, id)) s.topicLearned(id); break }
    }
  }
}
