// Owns which feed a symbol belongs to: the feed that defined it first, or the feed whose configured `symbols=` pattern
// names it; and each feed's symbol quota. Must never let one feed publish under another feed's symbol, nor fill the table.
import type { SharedSymbols } from '../model/shared-symbols.js'
import { NO_SYMBOL, SYMBOL_PATTERN } from '../model/shared-symbols.js'
import { REFUSED_CAPACITY, REFUSED_OWNER, REFUSED_PATTERN, REFUSED_QUOTA } from '../feed/feed-stats.js'

/** One feed's claim: its index (1-based, as stored in SharedSymbols.owner) and its `symbols=` pattern, if any. */
export interface FeedClaim { index: number; pattern: RegExp | null }

export interface OwnershipOptions {
  /** this feed's index (1..255); 0 = no ownership checks (single-feed tools, tests) */
  index: number
  /** every configured feed's claim, this one included */
  claims: readonly FeedClaim[]
  /** most symbols this feed may define (default: the whole table) */
  quota?: number
  /** where refusals are counted, by REFUSAL_REASONS */
  refusals: Float64Array
}

/** `symbols=AAPL,MSFT,Z*` → an anchored RegExp (`*` = any run of symbol characters). */
export function symbolGlob(list: string): RegExp {
  const alts = list.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => s.replace(/[.+^$=()[\]{}|\\-]/g, '\\$&').replace(/\*/g, '.*'))
  return new RegExp('^(?:' + alts.join('|') + ')$')
}

export class SymbolOwnership {
  private count = 0
  private readonly quota: number

  constructor(private readonly symbols: SharedSymbols, private readonly opts: OwnershipOptions) {
    this.quota = opts.quota ?? symbols.capacity
  }

  /**
   * The id of `name` for this feed (adding it if new), or NO_SYMBOL when refused (counted by reason): owned by another
   * feed, claimed by another feed's pattern (or outside this feed's), over this feed's quota, or the table is full.
   */
  admit(name: string, priceExponent: number, sizeExponent: number): number {
    const me = this.opts.index, owner = this.symbols.owner
    let id = this.symbols.idOf(name)
    if (me === 0) return id !== NO_SYMBOL ? id : this.symbols.add(name, priceExponent, sizeExponent)
    if (id !== NO_SYMBOL && owner[id] !== 0) return owner[id] === me ? id : this.refuse(REFUSED_OWNER)
    if (!this.mayClaim(name)) return this.refuse(REFUSED_PATTERN)
    if (this.count >= this.quota) return this.refuse(REFUSED_QUOTA)
    if (id === NO_SYMBOL) {
      id = this.symbols.add(name, priceExponent, sizeExponent)
      if (id === NO_SYMBOL) return SYMBOL_PATTERN.test(name) ? this.refuse(REFUSED_CAPACITY) : NO_SYMBOL
    }
    owner[id] = me; this.count++
    return id
  }

  /** Mine by pattern, or no pattern of mine and no other feed's pattern names it. */
  private mayClaim(name: string): boolean {
    let mine: RegExp | null = null, other = false
    for (const c of this.opts.claims) {
      if (c.index === this.opts.index) mine = c.pattern
      else if (c.pattern !== null && c.pattern.test(name)) other = true
    }
    return mine !== null ? mine.test(name) : !other
  }

  private refuse(reason: number): number { this.opts.refusals[reason]++; return NO_SYMBOL }
}
