// Owns what the saturation benchmark learns from each delivered event: per-update latency, per-symbol sequence
// continuity (gaps, duplicates), conflation signs, and the updates each connection should have had.
// Must never JSON.parse or allocate per event: events are walked as bytes in the fixed layout tickcast writes.
import { turnStartUs } from '../lib/lean-ws.js'
import { LatencyCounts } from './latency-counts.js'

const Q = 34, LBRACE = 123, RBRACE = 125, COLON = 58
const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 16777619

/** Symbol bytes → dense id, open addressing on an FNV-1a hash; built once per process from the names in play. */
export class SymbolIndex {
  private readonly table: Int32Array
  private readonly names: Buffer[]
  readonly size: number
  constructor(names: readonly string[]) {
    this.names = names.map((n) => Buffer.from(n, 'latin1'))
    this.size = names.length
    let cap = 1024
    while (cap < names.length * 4) cap *= 2
    this.table = new Int32Array(cap).fill(-1)
    this.names.forEach((b, id) => {
      let h = hash(b, 0, b.length) & (cap - 1)
      while (this.table[h] >= 0) h = (h + 1) & (cap - 1)
      this.table[h] = id
    })
  }
  /** the id of buf[start, end), or -1 */
  find(buf: Buffer, start: number, end: number): number { return this.findHashed(buf, start, end, hash(buf, start, end)) }

  /** the same, with the FNV-1a hash of the bytes already computed (the event walk hashes as it scans) */
  findHashed(buf: Buffer, start: number, end: number, h32: number): number {
    const mask = this.table.length - 1, len = end - start
    for (let h = h32 & mask; ; h = (h + 1) & mask) {
      const id = this.table[h]
      if (id < 0) return -1
      const n = this.names[id]
      if (n.length !== len) continue
      let k = 0
      while (k < len && n[k] === buf[start + k]) k++
      if (k === len) return id
    }
  }
}

function hash(b: Buffer, start: number, end: number): number {
  let h = FNV_OFFSET
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], FNV_PRIME)
  return h >>> 0
}

/** One per load process: every connection adds to it; reset at each step. */
export class UpdateStats {
  updates = 0
  frames = 0
  bytes = 0
  /** data messages: WebSocket data frames for tickcast and the naive server, NATS MSGs for nats-server */
  messages = 0
  /** per-symbol sequence jumps (n > last + 1) and the updates they skipped */
  gaps = 0
  missing = 0
  /** n ≤ last: repeated or out of order */
  dups = 0
  /** tickcast's in-band loss and conflation signs: stale markers, mid-stream snapshots, control messages by type */
  stale = 0
  snaps = 0
  readonly controls: Record<string, number> = {}
  /** exchange timestamp → receive wall clock, µs, one sample per update (each event's own age) */
  readonly latency = new LatencyCounts()
  /** the same ages from the clock of the read's event-loop turn (its first read), where turns are tracked */
  readonly latencyAtTurnStart = new LatencyCounts()
  /** the load process's event-loop turns that read data, by length (µs): the bound on a per-turn clock's error */
  readonly turns = new LatencyCounts()
  /** highest n seen per symbol by any connection of this process, now and at the last reset */
  readonly maxN: Int32Array
  readonly maxNAtReset: Int32Array
  /** first n seen per symbol since the last reset (0: none), for symbols never seen before it */
  readonly firstN: Int32Array
  constructor(readonly index: SymbolIndex) {
    this.maxN = new Int32Array(index.size); this.maxNAtReset = new Int32Array(index.size); this.firstN = new Int32Array(index.size)
  }
  reset(): void {
    this.updates = 0; this.frames = 0; this.bytes = 0; this.messages = 0; this.gaps = 0; this.missing = 0; this.dups = 0; this.stale = 0; this.snaps = 0
    for (const k of Object.keys(this.controls)) delete this.controls[k]
    this.latency.reset(); this.latencyAtTurnStart.reset(); this.turns.reset()
    this.maxNAtReset.set(this.maxN); this.firstN.fill(0)
  }
  control(type: string): void { this.controls[type] = (this.controls[type] ?? 0) + 1 }
  /** updates the symbol's feed produced since the reset, as the fastest connection of this process saw them */
  producedSinceReset(id: number): number {
    const base = this.maxNAtReset[id] > 0 ? this.maxNAtReset[id] : this.firstN[id] > 0 ? this.firstN[id] - 1 : this.maxN[id]
    return this.maxN[id] - base
  }
}

/** One connection's view: the last n per symbol id (0 = none yet) and the ids it subscribed to. */
export class ConnSeq {
  readonly last: Int32Array
  constructor(readonly stats: UpdateStats, readonly ids: Int32Array) { this.last = new Int32Array(stats.index.size) }

  /**
   * Every event `{"e":"X","s":"SYM","n":N,…,"t":T}` in buf[start, end): a tickcast frame `[ev,ev]`, a naive server's
   * one object, or a NATS payload (one event, or a batched array). No event holds a nested object or a brace in a
   * string, and `t` is every event's last field. One forward pass in JS: a native indexOf per field costs more
   * than the bytes it skips at this size (~100 bytes an event).
   */
  events(buf: Buffer, start: number, end: number, nowUs: number): void {
    let i = start
    for (;;) {
      while (i < end && buf[i] !== LBRACE) i++
      if (i + 8 >= end) return
      const type = i + 6, c0 = buf[type] // {"e":"X
      let j = type
      while (j < end && buf[j] !== Q) j++
      const typeLen = j - type
      const symStart = j + 7 // ","s":"SYM"
      let k = symStart, h = FNV_OFFSET
      while (k < end && buf[k] !== Q) { h = Math.imul(h ^ buf[k], FNV_PRIME); k++ }
      const symEnd = k
      let n = 0
      for (k = symEnd + 6; k < end; k++) { const d = buf[k] - 48; if (d < 0 || d > 9) break; n = n * 10 + d } // ,"n":N
      while (k < end && buf[k] !== RBRACE) k++
      if (k >= end) return
      this.event(c0, typeLen, buf, symStart, symEnd, h >>> 0, n, k, nowUs)
      i = k + 1
    }
  }

  /** close = the event's `}`; `t` is the run of digits just before it, after `"t":` */
  private event(c0: number, typeLen: number, buf: Buffer, symStart: number, symEnd: number, h: number, n: number, close: number, nowUs: number): void {
    const st = this.stats
    if (c0 === 115 && typeLen === 5) { st.stale++; return } // stale (a marker takes no sequence)
    if (c0 === 115 && typeLen === 4) { st.snaps++; return } // snap mid-stream: conflation catch-up
    if (c0 === 102 || c0 === 98) return // fresh, book: no sequence of their own
    const id = st.index.findHashed(buf, symStart, symEnd, h)
    if (id < 0) return
    st.updates++
    const last = this.last[id]
    if (last > 0) {
      if (n > last + 1) { st.gaps++; st.missing += n - last - 1 } else if (n <= last) st.dups++
    }
    if (n > last) this.last[id] = n
    if (n > st.maxN[id]) st.maxN[id] = n
    if (st.firstN[id] === 0) st.firstN[id] = n
    let p = close - 1, t = 0, mul = 1
    for (; p > symEnd; p--) { const d = buf[p] - 48; if (d < 0 || d > 9) break; t += d * mul; mul *= 10 }
    if (buf[p] === COLON && t > 0) {
      st.latency.record(nowUs - t)
      if (turnStartUs > 0) st.latencyAtTurnStart.record(turnStartUs - t)
    }
  }
}
