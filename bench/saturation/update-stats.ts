// Owns what the saturation benchmark learns from each delivered event: per-update latency, per-symbol sequence
// continuity (gaps, duplicates), conflation signs, and the updates each connection should have had.
// Must never JSON.parse or allocate per event: events are walked as bytes in the fixed layout tickcast writes.
import * as hdr from 'hdr-histogram-js'

const Q = 34, LBRACE = 123, RBRACE = 125
const T_KEY = Buffer.from(',"t":', 'latin1')

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
  find(buf: Buffer, start: number, end: number): number {
    const mask = this.table.length - 1
    for (let h = hash(buf, start, end) & mask; ; h = (h + 1) & mask) {
      const id = this.table[h]
      if (id < 0) return -1
      const n = this.names[id]
      if (n.length === end - start && n.compare(buf, start, end) === 0) return id
    }
  }
}

function hash(b: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 16777619)
  return h >>> 0
}

function digits(buf: Buffer, o: number, end: number): number {
  let v = 0
  for (; o < end; o++) { const c = buf[o] - 48; if (c < 0 || c > 9) break; v = v * 10 + c }
  return v
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
  readonly latencyUs = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
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
    this.latencyUs.reset()
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
   * Every event `{"e":…,"s":…,"n":…,…,"t":…}` in buf[start, end): a tickcast frame `[ev,ev]`, a naive server's one
   * object, or a NATS payload (one event, or a batched array). No event holds a nested object or a brace in a string.
   */
  events(buf: Buffer, start: number, end: number, nowUs: number): void {
    let o = start
    for (;;) {
      const s = buf.indexOf(LBRACE, o)
      if (s < 0 || s >= end) return
      const e = buf.indexOf(RBRACE, s)
      if (e < 0 || e >= end) return
      this.event(buf, s, e, nowUs)
      o = e + 1
    }
  }

  private event(buf: Buffer, s: number, e: number, nowUs: number): void {
    const st = this.stats
    const type = s + 6 // {"e":"X
    const typeEnd = buf.indexOf(Q, type)
    const c0 = buf[type], len = typeEnd - type
    if (c0 === 115 && len === 5) { st.stale++; return } // stale (a marker takes no sequence)
    if (c0 === 115 && len === 4) { st.snaps++; return } // snap mid-stream: conflation catch-up
    if (c0 === 102 || c0 === 98) return // fresh, book: no sequence of their own
    const symStart = typeEnd + 7, symEnd = buf.indexOf(Q, symStart) // ","s":"SYM"
    const id = st.index.find(buf, symStart, symEnd)
    if (id < 0) return
    const n = digits(buf, symEnd + 6, e) // ,"n":N
    st.updates++
    const last = this.last[id]
    if (last > 0) {
      if (n > last + 1) { st.gaps++; st.missing += n - last - 1 } else if (n <= last) st.dups++
    }
    if (n > last) this.last[id] = n
    if (n > st.maxN[id]) st.maxN[id] = n
    if (st.firstN[id] === 0) st.firstN[id] = n
    const t = buf.indexOf(T_KEY, symEnd)
    if (t >= 0 && t < e) {
      const age = nowUs - digits(buf, t + T_KEY.length, e)
      st.latencyUs.recordValue(age < 1 ? 1 : age > 59_000_000 ? 59_000_000 : age)
    }
  }
}
