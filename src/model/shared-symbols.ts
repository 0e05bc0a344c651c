// Owns the symbol universe as ingest defines it: name ↔ id and exponents, in shared memory any thread can map.
// Must never be read for fan-out decisions: consumers learn a symbol only when its KIND_SYMBOL event passes the ring.

/**
 * Symbols become JSON strings, WebSocket subscription entries and MQTT topic levels. The alphabet carries the
 * exchanges' suffix notation (Nasdaq/IEX: `.` class, `-` preferred, `+` warrant, `=` unit, `^` right) and
 * refuses what would be ambiguous or unsafe: `*` (called; it is the subscription pattern character),
 * `#` (when-issued; an MQTT wildcard), `/`, `$`, quotes, spaces, non-ASCII. MQTT topics percent-encode `+`.
 */
export const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+=^-]{0,15}$/
export const SYMBOL_MAX_CHARS = 16
export const NO_SYMBOL = -1

/** What another thread needs to map the same store: postMessage-able (SharedArrayBuffers are shared, not copied). */
export interface SharedSymbolsHandle { capacity: number; names: SharedArrayBuffer; exponents: SharedArrayBuffer; feeds: SharedArrayBuffer }

/** Feed indexes are 1..MAX_FEEDS (0 = none); a feed name is at most FEED_NAME_MAX_CHARS ASCII (feed-config.ts FEED_NAME). */
export const MAX_FEEDS = 255
const FEED_NAME_MAX_CHARS = 32, FEED_SLOT = FEED_NAME_MAX_CHARS + 1

/**
 * Written by ingest only (one thread). A symbol's name and exponents are written before the normalizer publishes its
 * KIND_SYMBOL event, so a reader that has seen that event (through the ring's commit) reads complete bytes.
 * Never changed once written: ids are dense, assigned in order, and never reused.
 */
export class SharedSymbols {
  /** per id: length byte, then up to SYMBOL_MAX_CHARS ASCII bytes */
  readonly nameBytes: Uint8Array
  readonly priceExponent: Int8Array
  readonly sizeExponent: Int8Array
  /**
   * per id: index (1-based) of the feed that owns the symbol, 0 = none (no ownership: tools, bus edges). Written by
   * normalize/symbol-ownership.ts before the symbol's KIND_SYMBOL event, so readers see it with the name: the symbol's
   * source costs a byte per symbol, never a field per event.
   */
  readonly owner: Uint8Array
  /** per feed index: length byte, then the feed's configured name (ASCII), written once at startup */
  private readonly feedNames: Uint8Array
  private readonly byName = new Map<string, number>()
  private count = 0
  private readonly buffers: { names: SharedArrayBuffer; exponents: SharedArrayBuffer; feeds: SharedArrayBuffer }

  /** `handle`: map another thread's store (a reader copy: never add() on it). */
  constructor(readonly capacity: number, handle: SharedSymbolsHandle | null = null) {
    const names = handle?.names ?? new SharedArrayBuffer(capacity * (SYMBOL_MAX_CHARS + 1))
    const exponents = handle?.exponents ?? new SharedArrayBuffer(capacity * 2)
    const feeds = handle?.feeds ?? new SharedArrayBuffer(capacity + (MAX_FEEDS + 1) * FEED_SLOT)
    this.buffers = { names, exponents, feeds }
    this.nameBytes = new Uint8Array(names)
    this.priceExponent = new Int8Array(exponents, 0, capacity)
    this.sizeExponent = new Int8Array(exponents, capacity, capacity)
    this.owner = new Uint8Array(feeds, 0, capacity)
    this.feedNames = new Uint8Array(feeds, capacity, (MAX_FEEDS + 1) * FEED_SLOT)
  }

  /** Names feed `index` (1..MAX_FEEDS) for readers (writer side, before the feed starts). */
  setFeedName(index: number, name: string): void {
    if (!Number.isInteger(index) || index < 1 || index > MAX_FEEDS || name.length > FEED_NAME_MAX_CHARS || !/^[\x21-\x7e]*$/.test(name) || /["\\]/.test(name)) {
      throw new RangeError(`feed ${index} "${name}": index 1..${MAX_FEEDS}, name ≤ ${FEED_NAME_MAX_CHARS} printable ASCII without quotes`)
    }
    const o = index * FEED_SLOT
    this.feedNames[o] = name.length
    for (let k = 0; k < name.length; k++) this.feedNames[o + 1 + k] = name.charCodeAt(k)
  }

  /** The name of the feed that owns `id` (readers: only after its KIND_SYMBOL event), or null when none. */
  feedOf(id: number): string | null {
    const index = this.owner[id], o = index * FEED_SLOT, len = this.feedNames[o]
    return index === 0 || len === 0 ? null : String.fromCharCode(...this.feedNames.subarray(o + 1, o + 1 + len))
  }

  handle(): SharedSymbolsHandle { return { capacity: this.capacity, ...this.buffers } }

  /** Symbols added so far (writer side). */
  get size(): number { return this.count }

  idOf(name: string): number { return this.byName.get(name) ?? NO_SYMBOL }

  /**
   * Adds `name` (or returns its existing id). Returns NO_SYMBOL when the name is not a valid symbol or the store is
   * full; callers count that as a decode error, never throw. The caller publishes KIND_SYMBOL for a new id.
   */
  add(name: string, priceExponent: number, sizeExponent = 0): number {
    const existing = this.byName.get(name)
    if (existing !== undefined) return existing
    if (!SYMBOL_PATTERN.test(name) || this.count >= this.capacity) return NO_SYMBOL
    const id = this.count++
    const o = id * (SYMBOL_MAX_CHARS + 1)
    this.nameBytes[o] = name.length
    for (let k = 0; k < name.length; k++) this.nameBytes[o + 1 + k] = name.charCodeAt(k)
    this.priceExponent[id] = priceExponent
    this.sizeExponent[id] = sizeExponent
    this.byName.set(name, id)
    return id
  }

  /** The name stored for `id` (readers: only after its KIND_SYMBOL event). */
  nameOf(id: number): string {
    const o = id * (SYMBOL_MAX_CHARS + 1), len = this.nameBytes[o]
    return String.fromCharCode(...this.nameBytes.subarray(o + 1, o + 1 + len))
  }
}
