// Owns the symbol universe: name ↔ integer id, per-id price/size exponents and precomputed names.
// Must never be written on the hot path after a symbol is added: readers index plain arrays by id.

/**
 * Symbols become JSON strings, WebSocket subscription entries and MQTT topic levels. The alphabet carries the
 * exchanges' suffix notation (Nasdaq/IEX: `.` class, `-` preferred, `+` warrant, `=` unit, `^` right) and
 * refuses what would be ambiguous or unsafe: `*` (called; it is the subscription pattern character),
 * `#` (when-issued; an MQTT wildcard), `/`, `$`, quotes, spaces, non-ASCII. MQTT topics percent-encode `+`.
 */
export const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+=^-]{0,15}$/
export const NO_SYMBOL = -1

export class SymbolTable {
  readonly name: string[] = []
  /** `"AAPL"` with quotes, as UTF-8 bytes: the JSON encoder copies these instead of escaping per tick. */
  readonly jsonName: Buffer[] = []
  /** the name as a msgpack fixstr (header byte + ASCII), copied by the msgpack encoder */
  readonly msgpackName: Buffer[] = []
  readonly priceExponent: Int8Array
  readonly sizeExponent: Int8Array
  private readonly byName = new Map<string, number>()
  /** control-plane listeners (pattern subscriptions); called once per new symbol, never per tick */
  private readonly addedListeners: Array<(id: number) => void> = []

  constructor(readonly capacity: number) {
    this.priceExponent = new Int8Array(capacity)
    this.sizeExponent = new Int8Array(capacity)
  }

  get size(): number { return this.name.length }

  onAdded(listener: (id: number) => void): void { this.addedListeners.push(listener) }

  idOf(name: string): number { return this.byName.get(name) ?? NO_SYMBOL }

  /**
   * Adds `name` (or returns its existing id). Returns NO_SYMBOL when the name is not a valid symbol
   * or the table is full; callers count that as a decode error, never throw.
   */
  add(name: string, priceExponent: number, sizeExponent = 0): number {
    const existing = this.byName.get(name)
    if (existing !== undefined) return existing
    if (!SYMBOL_PATTERN.test(name) || this.name.length >= this.capacity) return NO_SYMBOL
    const id = this.name.length
    this.name.push(name)
    this.jsonName.push(Buffer.from(JSON.stringify(name), 'latin1'))
    const mp = Buffer.alloc(name.length + 1); mp[0] = 0xa0 | name.length; mp.write(name, 1, 'latin1')
    this.msgpackName.push(mp)
    this.priceExponent[id] = priceExponent
    this.sizeExponent[id] = sizeExponent
    this.byName.set(name, id)
    for (const l of this.addedListeners) l(id)
    return id
  }
}
