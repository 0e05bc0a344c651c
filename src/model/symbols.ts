// Owns one consumer's view of the symbol universe: the ids it has learned from the ring, with precomputed wire names.
// Must never learn a symbol ahead of the ring: a symbol exists for clients once its KIND_SYMBOL event has passed.
import { NO_SYMBOL } from './shared-symbols.js'
import type { SharedSymbols } from './shared-symbols.js'

export { NO_SYMBOL, SYMBOL_PATTERN } from './shared-symbols.js'

/**
 * Read by the codecs, the subscription registry, MQTT topics and REST on the consumer's thread. Ids are dense: the
 * table knows ids 0..size-1. Exponents are the shared store's own arrays (immutable once a symbol is added).
 */
export class SymbolTable {
  readonly name: string[] = []
  /** `"AAPL"` with quotes, as UTF-8 bytes: the JSON encoder copies these instead of escaping per tick. */
  readonly jsonName: Buffer[] = []
  /** the name as a msgpack fixstr (header byte + ASCII), copied by the msgpack encoder */
  readonly msgpackName: Buffer[] = []
  /** the configured name of the feed the symbol belongs to (SharedSymbols.owner), null when none (a bus edge, a tool) */
  readonly feed: Array<string | null> = []
  /** `"nq"` with quotes, or `null`, as JSON bytes; and the same as a msgpack fixstr or nil (shared per feed) */
  readonly feedJson: Buffer[] = []
  readonly feedMsgpack: Buffer[] = []
  private readonly feedBytes = new Map<string | null, { json: Buffer; msgpack: Buffer }>()
  readonly priceExponent: Int8Array
  readonly sizeExponent: Int8Array
  readonly capacity: number
  private readonly byName = new Map<string, number>()

  constructor(readonly shared: SharedSymbols) {
    this.capacity = shared.capacity
    this.priceExponent = shared.priceExponent
    this.sizeExponent = shared.sizeExponent
  }

  /** Symbols learned so far: ids 0..size-1. */
  get size(): number { return this.name.length }

  idOf(name: string): number { return this.byName.get(name) ?? NO_SYMBOL }

  /**
   * Learns every id up to `id` not learned yet (a KIND_SYMBOL event, or an event of a symbol whose KIND_SYMBOL a
   * lapped reader never saw); returns the first newly learned id, or -1 when `id` was known already.
   */
  learnUpTo(id: number): number {
    const first = this.name.length
    if (id < first) return -1
    for (let k = first; k <= id; k++) {
      const name = this.shared.nameOf(k)
      this.name.push(name)
      this.jsonName.push(Buffer.from(JSON.stringify(name), 'latin1'))
      const mp = msgpackStr(name)
      this.msgpackName.push(mp)
      const feed = this.shared.feedOf(k)
      let fb = this.feedBytes.get(feed)
      if (fb === undefined) { fb = { json: Buffer.from(JSON.stringify(feed), 'latin1'), msgpack: msgpackStr(feed) }; this.feedBytes.set(feed, fb) }
      this.feed.push(feed); this.feedJson.push(fb.json); this.feedMsgpack.push(fb.msgpack)
      this.byName.set(name, k)
    }
    return first
  }
}

/** A short ASCII string as a msgpack fixstr (≤ 31 chars) or str8 (a 32-character feed name); null as nil. */
function msgpackStr(s: string | null): Buffer {
  if (s === null) return Buffer.from([0xc0])
  const head = s.length < 32 ? 1 : 2, b = Buffer.alloc(s.length + head)
  if (head === 1) b[0] = 0xa0 | s.length; else { b[0] = 0xd9; b[1] = s.length }
  b.write(s, head, 'latin1')
  return b
}
