// Owns the synthetic market: a seeded, deterministic stream of native-protocol messages for a universe.
// Must never allocate per message, read a clock or call Math.random: the same seed gives the same bytes.
import {
  EVENT_END_OF_MESSAGES, EVENT_START_OF_MESSAGES, QUOTE_FLAG_SNAPSHOT, QUOTE_LEN, SIDE_BUY, SIDE_SELL, STATUS_HALTED, STATUS_TRADING,
} from '../../src/feed/decoders/native.js'
import {
  writeQuote, writeSymbolDirectory, writeSystemEvent, writeTrade, writeTradingStatus,
} from '../native-encoder.js'
import type { UniverseRow } from './universe.js'

export interface GeneratorOptions {
  universe: readonly UniverseRow[]
  /** use the first N rows (the busiest); default all */
  symbols?: number
  seed: number
  /** exchange clock at the start, µs since epoch; the caller advances it with setTimeUs() */
  startTimeUs: number
  /** activity weight of row i is 1 / (i + 1)^zipfExponent; default 1.1 (top 5 % ≈ 60-70 % of quotes) */
  zipfExponent?: number
  /** share of stream events that are trades; default 0.08 */
  tradeRatio?: number
  /** share of stream events that halt a symbol; default 0.00002 */
  haltRatio?: number
}

export type MessageCallback = (buf: Buffer, off: number, len: number) => void

export const PRICE_EXPONENT = -4 // US equities: 4 decimals covers the $0.0001 sub-dollar tick
export const SIZE_EXPONENT = 0
export const ROUND_LOT = 100
/** the largest message the generator writes: a destination needs this much room per call */
export const MAX_MESSAGE_BYTES = QUOTE_LEN
const RESUME_RATIO = 0.02 // a halted symbol, when picked, resumes with this probability (~50 picks)
const MAX_LOTS = 50

/**
 * During a directory repeat one message in this many is an entry: the stream goes on at 3/4 of its rate. The repeat
 * used to be one block (500 entries, ~250 ms without a quote at 2,000 msg/s every 10 s): every subscriber saw a stall
 * that was the simulator's, and bench:hostile's bystander measured it instead of the server (issue 10).
 */
export const DIRECTORY_INTERLEAVE = 4

export class FeedGenerator {
  /** scratch for next(): one message at offset 0 */
  readonly buf = Buffer.alloc(64)
  readonly symbolCount: number
  readonly names: readonly string[]
  /** per locate (index = locate): how many quotes and trades were generated, for tests and stats */
  readonly quoteCount: Float64Array
  readonly tradeCount: Float64Array
  messages = 0

  private seed: number
  private us: number
  private ns = 0
  private step = 0
  private tradeId = 0
  /** next locate of a directory repeat in progress (0 = none) */
  private resend = 0
  /** stream messages still to go before the repeat's next entry */
  private resendSkip = 0
  private readonly preambleLen: number
  private readonly cdf: Float64Array
  // Per locate: tick size (price mantissa units), best bid in ticks, spread in ticks, sizes in lots, status.
  private readonly tick: Int32Array
  private readonly bidTicks: Float64Array
  private readonly spread: Int32Array
  private readonly baseSpread: Int32Array
  private readonly volTicks: Int32Array
  private readonly bidLots: Int32Array
  private readonly askLots: Int32Array
  /** 1 while the symbol's last published status is halted: published state, as the stream told it */
  private readonly halted: Uint8Array
  /** the last published quote per symbol (what a client that read the stream from sequence 1 holds), if quoteCount > 0 */
  private readonly pub: { bid: Float64Array; bidSize: Float64Array; ask: Float64Array; askSize: Float64Array; us: Float64Array; ns: Int32Array }
  private readonly tradeRatio: number
  private readonly haltRatio: number

  constructor(opts: GeneratorOptions) {
    const n = Math.min(opts.symbols ?? opts.universe.length, opts.universe.length)
    if (!(n >= 1)) throw new RangeError('generator needs at least one symbol')
    this.symbolCount = n
    this.names = opts.universe.slice(0, n).map((r) => r.symbol)
    this.seed = opts.seed | 0
    this.us = opts.startTimeUs
    this.tradeRatio = opts.tradeRatio ?? 0.08
    this.haltRatio = opts.haltRatio ?? 0.00002
    this.preambleLen = 1 + 3 * n
    this.quoteCount = new Float64Array(n + 1); this.tradeCount = new Float64Array(n + 1)
    this.tick = new Int32Array(n + 1); this.bidTicks = new Float64Array(n + 1); this.spread = new Int32Array(n + 1)
    this.baseSpread = new Int32Array(n + 1); this.volTicks = new Int32Array(n + 1)
    this.bidLots = new Int32Array(n + 1); this.askLots = new Int32Array(n + 1); this.halted = new Uint8Array(n + 1)
    this.cdf = new Float64Array(n)
    this.pub = { bid: new Float64Array(n + 1), bidSize: new Float64Array(n + 1), ask: new Float64Array(n + 1), askSize: new Float64Array(n + 1), us: new Float64Array(n + 1), ns: new Int32Array(n + 1) }
    const s = opts.zipfExponent ?? 1.1
    let total = 0
    for (let i = 0; i < n; i++) { total += 1 / Math.pow(i + 1, s); this.cdf[i] = total }
    for (let i = 0; i < n; i++) this.cdf[i] /= total
    this.cdf[n - 1] = 1
    for (let loc = 1; loc <= n; loc++) {
      const px = opts.universe[loc - 1].price
      // Reg NMS: $0.01 ticks at or above $1, $0.0001 below; mantissa units at exponent -4.
      const tick = px >= 1 ? 100 : 1
      this.tick[loc] = tick
      this.bidTicks[loc] = Math.max(1, Math.round((px * 10000) / tick))
      // Wider books on pricier names: about 1 bp of price, at least one tick.
      this.baseSpread[loc] = Math.max(1, Math.round((px * 10000 * 0.0001) / tick))
      this.spread[loc] = this.baseSpread[loc]
      // One step of the walk moves up to ~2 bp of price.
      this.volTicks[loc] = Math.max(1, Math.round((px * 10000 * 0.0002) / tick))
      this.bidLots[loc] = 1 + this.lots(); this.askLots[loc] = 1 + this.lots()
    }
  }

  /** Advances the exchange clock (never backwards); messages within one µs get increasing ns. */
  setTimeUs(us: number): void {
    if (us > this.us) { this.us = us; this.ns = 0 }
  }

  /** Writes the next message at buf[0] and returns its length. */
  next(): number { return this.nextInto(this.buf, 0) }

  /** Writes the next message at b[o] (room: MAX_MESSAGE_BYTES) and returns its length. */
  nextInto(b: Buffer, o: number): number {
    if (++this.ns === 1000) { this.ns = 0; this.us++ }
    this.messages++
    if (this.step < this.preambleLen) return this.preamble(b, o, this.step++)
    if (this.resend > 0 && this.resendSkip-- === 0) {
      this.resendSkip = DIRECTORY_INTERLEAVE - 1
      const loc = this.resend
      this.resend = loc === this.symbolCount ? 0 : loc + 1
      return this.directoryEntry(b, o, loc)
    }
    let loc = this.pick()
    // A halted symbol stays silent until it resumes: pick again a few times (bounded), else resume it.
    for (let tries = 0; this.halted[loc] === 1; tries++) {
      if (tries === 4 || this.rnd() < RESUME_RATIO) {
        this.halted[loc] = 0
        return writeTradingStatus(b, o, loc, this.us, this.ns, STATUS_TRADING)
      }
      loc = this.pick()
    }
    const u = this.rnd()
    if (u < this.haltRatio) {
      this.halted[loc] = 1
      return writeTradingStatus(b, o, loc, this.us, this.ns, STATUS_HALTED)
    }
    if (u < this.tradeRatio) return this.trade(b, o, loc)
    return this.quote(b, o, loc)
  }

  /** Calls `cb` for the next `count` messages (all from the same scratch buffer). */
  emit(count: number, cb: MessageCallback): void {
    for (let i = 0; i < count; i++) cb(this.buf, 0, this.nextInto(this.buf, 0))
  }

  /**
   * Schedules a repeat of the directory: from the next message on, one message in DIRECTORY_INTERLEAVE is its next
   * entry, the others the stream's, until every symbol's entry went out. Lets a client that joins live, or whose
   * session start left the server's recovery buffer, resolve every locate. No effect while a repeat or the preamble
   * is still in progress.
   */
  scheduleDirectory(): void {
    if (this.resend === 0 && this.step >= this.preambleLen) { this.resend = 1; this.resendSkip = 0 }
  }

  /** System Event 'C': the last message of a session. */
  endOfMessages(b: Buffer = this.buf, o = 0): number {
    return writeSystemEvent(b, o, EVENT_END_OF_MESSAGES, this.us, this.ns)
  }

  /** System Event 'O', a directory entry per symbol, status 'T' per symbol, one opening quote per symbol. */
  private preamble(b: Buffer, o: number, i: number): number {
    const n = this.symbolCount
    if (i === 0) return writeSystemEvent(b, o, EVENT_START_OF_MESSAGES, this.us, this.ns)
    if (i <= n) return this.directoryEntry(b, o, i)
    if (i <= 2 * n) return writeTradingStatus(b, o, i - n, this.us, this.ns, STATUS_TRADING)
    return this.writeBook(b, o, i - 2 * n)
  }

  private directoryEntry(b: Buffer, o: number, loc: number): number {
    return writeSymbolDirectory(b, o, loc, this.us, this.ns, this.names[loc - 1], PRICE_EXPONENT, SIZE_EXPONENT, ROUND_LOT, this.tick[loc])
  }

  private quote(b: Buffer, o: number, loc: number): number {
    const r = this.rnd()
    if (r < 0.6) { // move the book: a walk step of 1..vol ticks either way
      const move = 1 + Math.floor(this.rnd() * this.volTicks[loc])
      const next = this.bidTicks[loc] + (r < 0.3 ? move : -move)
      if (next >= 1) this.bidTicks[loc] = next
    }
    // Mostly the base spread, sometimes a few ticks wider (squared uniform skews towards narrow).
    const w = this.rnd()
    this.spread[loc] = this.baseSpread[loc] + Math.floor(w * w * 3 * this.baseSpread[loc])
    if (this.rnd() < 0.5) this.bidLots[loc] = 1 + this.lots(); else this.askLots[loc] = 1 + this.lots()
    return this.writeBook(b, o, loc)
  }

  private writeBook(b: Buffer, o: number, loc: number): number {
    this.quoteCount[loc]++
    const t = this.tick[loc], bid = this.bidTicks[loc] * t, p = this.pub
    p.bid[loc] = bid; p.bidSize[loc] = this.bidLots[loc] * ROUND_LOT; p.ask[loc] = bid + this.spread[loc] * t
    p.askSize[loc] = this.askLots[loc] * ROUND_LOT; p.us[loc] = this.us; p.ns[loc] = this.ns
    return writeQuote(b, o, loc, this.us, this.ns, 0, p.bid[loc], p.bidSize[loc], p.ask[loc], p.askSize[loc])
  }

  /**
   * The market as the stream has published it so far, as native messages for a snapshot session (feeds/sim/snapshot.ts):
   * Start of Messages, then per symbol its directory entry, trading status and last quote (flagged snapshot). A client
   * that applies them holds what one that read every message so far holds. Rare (one per snapshot login): allocates.
   */
  snapshotMessages(): Buffer[] {
    const out: Buffer[] = [], p = this.pub
    const msg = (write: (b: Buffer) => number): void => { const b = Buffer.alloc(MAX_MESSAGE_BYTES); out.push(b.subarray(0, write(b))) }
    msg((b) => writeSystemEvent(b, 0, EVENT_START_OF_MESSAGES, this.us, this.ns))
    const listed = Math.min(this.symbolCount, this.step - 1) // within the preamble: the directory entries sent so far
    for (let loc = 1; loc <= listed; loc++) {
      msg((b) => this.directoryEntry(b, 0, loc))
      if (this.step > this.symbolCount + loc) msg((b) => writeTradingStatus(b, 0, loc, this.us, this.ns, this.halted[loc] === 1 ? STATUS_HALTED : STATUS_TRADING))
      if (this.quoteCount[loc] > 0) msg((b) => writeQuote(b, 0, loc, p.us[loc], p.ns[loc], QUOTE_FLAG_SNAPSHOT, p.bid[loc], p.bidSize[loc], p.ask[loc], p.askSize[loc]))
    }
    return out
  }

  /** A marketable order takes part (or all but one lot) of one side: at the ask ('B') or the bid ('S'). */
  private trade(b: Buffer, o: number, loc: number): number {
    this.tradeCount[loc]++
    const buy = this.rnd() < 0.5, t = this.tick[loc]
    const shown = buy ? this.askLots[loc] : this.bidLots[loc]
    const lots = 1 + Math.floor(this.rnd() * shown)
    if (buy) this.askLots[loc] = Math.max(1, shown - lots); else this.bidLots[loc] = Math.max(1, shown - lots)
    const px = buy ? (this.bidTicks[loc] + this.spread[loc]) * t : this.bidTicks[loc] * t
    return writeTrade(b, o, loc, this.us, this.ns, buy ? SIDE_BUY : SIDE_SELL, px, lots * ROUND_LOT, ++this.tradeId)
  }

  /** Zipf-weighted locate: binary search of a uniform draw in the cumulative weights. */
  private pick(): number {
    const u = this.rnd(), cdf = this.cdf
    let lo = 0, hi = cdf.length - 1
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (cdf[mid] < u) lo = mid + 1; else hi = mid }
    return lo + 1
  }

  /** 0..MAX_LOTS-1 lots, geometric-ish: small sizes common, large ones rare. */
  private lots(): number {
    return Math.min(MAX_LOTS - 1, Math.floor(-Math.log(1 - this.rnd()) * 3))
  }

  /** mulberry32: a 32-bit state PRNG, uniform in [0, 1). */
  private rnd(): number {
    let t = (this.seed = (this.seed + 0x6d2b79f5) | 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
