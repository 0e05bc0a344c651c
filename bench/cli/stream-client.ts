// Owns one measuring tickcast WebSocket client for the bench CLI: auth, subscribe, per-symbol sequence check, data age.
// Must never JSON.parse JSON data frames (events are scanned in place) nor let one bad frame stop the run.
import { unpack } from 'msgpackr'
import { LeanWsClient, OP_BINARY, OP_TEXT, wallClockUs } from '../lib/lean-ws.js'
import type { Meter, Target } from './scenario.js'

/** Counters shared by every client of a process. */
export class StreamStats {
  updates = 0; frames = 0; bytes = 0; snapshots = 0; markers = 0
  /** updates whose n jumped past last + 1 (frames lost between server and client), and how many n were skipped */
  gaps = 0; missing = 0
  /** updates with n ≤ last */
  duplicates = 0
  slowNotices = 0; tradesSkipped = 0
  pongs = 0
  readonly errorsByCode: Record<string, number> = {}
  readonly closeCodes: Record<string, number> = {}
  /** a frozen copy, to count from (warmup excluded) */
  copy(): StreamStats {
    const c = new StreamStats()
    const { errorsByCode, closeCodes, ...plain } = this
    Object.assign(c, plain); Object.assign(c.errorsByCode, errorsByCode); Object.assign(c.closeCodes, closeCodes)
    return c
  }
}

export interface StreamClientOptions {
  format: 'json' | 'msgpack'
  /** subscribe with snapshots (the sequence check then starts at each snapshot's n) */
  snapshot: boolean
  /** called once with ms from connect start to the first snapshot event */
  onFirstSnapshot?: (ms: number) => void
  /** called on each pong with the round trip in µs */
  onPong?: (us: number) => void
  /**
   * true: the data age of every update goes into the histogram; false (default): one per frame, its first update
   * (the oldest: frames are written in order). Per update costs the generator ~4× the CPU per event (measured:
   * 0.25 M vs 1 M events/s in one process), which at fan-out rates measures the generator, not the server.
   */
  everyUpdate?: boolean
}

const E_KEY = Buffer.from('{"e":"', 'latin1'), S_KEY = Buffer.from('"s":"', 'latin1')
const N_KEY = Buffer.from('"n":', 'latin1'), T_KEY = Buffer.from(',"t":', 'latin1')

function digits(buf: Buffer, o: number, end: number): number {
  let v = 0
  for (; o < end; o++) { const c = buf[o] - 48; if (c < 0 || c > 9) break; v = v * 10 + c }
  return v
}

/** FNV-1a over the symbol's bytes, salted with its length: a Map key without building a string per event. */
function symKey(buf: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193)
  return (h >>> 0) * 32 + (end - start)
}

const UPDATE = 1, SNAP = 2, STALE = 3, OTHER = 4

export class StreamClient {
  readonly ws: LeanWsClient
  /** per-symbol last n (FNV key → n) */
  private readonly last = new Map<number, number>()
  private startMs = 0
  /** ms from connect() to the upgrade (and auth reply) */
  connectMs = 0
  private firstSnap = true
  private authWaiter: ((ok: boolean) => void) | null = null
  private readonly pingSent = new Map<number, number>()
  private pingId = 0
  /** the current frame has had its latency sample (everyUpdate false) */
  private sampled = false

  constructor(private readonly stats: StreamStats, private readonly meter: Meter, private readonly opts: StreamClientOptions) {
    this.ws = new LeanWsClient({ onFrame: (buf, start, end, op, nowUs) => this.onFrame(buf, start, end, op, nowUs) })
  }

  /** Connects (and authenticates with a `message` credential); rejects with the refusal as the error message. */
  async connect(target: Target, timeoutMs = 15_000): Promise<void> {
    const u = new URL(target.ws)
    this.startMs = performance.now()
    const path = u.pathname + (this.opts.format === 'msgpack' ? (u.search ? `${u.search}&` : '?') + 'format=msgpack' : u.search)
    const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80))
    if (u.protocol === 'wss:') throw new Error('wss:// is not supported by the load generator: point --url at the plain ws:// listener behind the TLS proxy')
    await this.ws.connect(u.hostname, port, path, timeoutMs, target.credential !== null && target.authMode === 'header' ? target.credential : '')
    if (target.credential !== null && target.authMode === 'message') {
      const ok = await new Promise<boolean>((resolve) => {
        this.authWaiter = resolve
        this.ws.sendText(JSON.stringify({ op: 'auth', token: target.credential, id: 'a' }))
        setTimeout(() => resolve(false), timeoutMs).unref()
      })
      if (!ok) throw new Error('auth refused')
    }
    this.connectMs = performance.now() - this.startMs
  }

  subscribe(symbols: string[]): void {
    this.ws.sendText(JSON.stringify({ op: 'subscribe', symbols, snapshot: this.opts.snapshot }))
  }

  ping(): void {
    const id = ++this.pingId
    this.pingSent.set(id, wallClockUs())
    this.ws.sendText(`{"op":"ping","id":${id}}`)
  }

  close(): void {
    const c = this.ws.closeCode
    if (c !== 0) this.stats.closeCodes[c] = (this.stats.closeCodes[c] ?? 0) + 1
    this.ws.destroy()
  }

  private onFrame(buf: Buffer, start: number, end: number, op: number, nowUs: number): void {
    const st = this.stats
    st.frames++; st.bytes += end - start
    if (op === OP_TEXT && buf[start] === 123) { this.control(buf.toString('utf8', start, end), nowUs); return }
    this.sampled = false
    if (op === OP_TEXT) this.jsonEvents(buf, start, end, nowUs)
    else if (op === OP_BINARY) this.msgpackEvents(buf.subarray(start, end), nowUs)
  }

  private jsonEvents(buf: Buffer, start: number, end: number, nowUs: number): void {
    let o = buf.indexOf(E_KEY, start)
    while (o >= 0 && o < end) {
      const ts = o + E_KEY.length
      const c0 = buf[ts], c1 = buf[ts + 1]
      // "q" "t" "st" are updates; "snap"; "stale"; "fresh" / "book" take no sequence
      const kind = (c0 === 113 || c0 === 116) && c1 === 34 ? UPDATE : c0 === 115 && c1 === 116 && buf[ts + 2] === 34 ? UPDATE
        : c0 === 115 && c1 === 110 ? SNAP : c0 === 115 && c1 === 116 && buf[ts + 2] === 97 ? STALE : OTHER
      const next = buf.indexOf(E_KEY, ts)
      const evEnd = next < 0 || next > end ? end : next
      const s = buf.indexOf(S_KEY, ts) + S_KEY.length
      const sEnd = buf.indexOf(34, s)
      const n = digits(buf, buf.indexOf(N_KEY, sEnd) + N_KEY.length, evEnd)
      let t = 0
      if (kind === UPDATE) { const k = buf.indexOf(T_KEY, sEnd); if (k >= 0 && k < evEnd) t = digits(buf, k + T_KEY.length, evEnd) }
      this.event(kind, symKey(buf, s, sEnd), n, t, nowUs)
      o = next
    }
  }

  private msgpackEvents(payload: Buffer, nowUs: number): void {
    let events: Array<{ e: string; s: string; n: number; t?: number }>
    try { events = unpack(payload) as typeof events } catch { this.stats.errorsByCode.BAD_FRAME = (this.stats.errorsByCode.BAD_FRAME ?? 0) + 1; return }
    for (const ev of events) {
      const kind = ev.e === 'q' || ev.e === 't' || ev.e === 'st' ? UPDATE : ev.e === 'snap' ? SNAP : ev.e === 'stale' ? STALE : OTHER
      const b = Buffer.from(ev.s, 'latin1')
      this.event(kind, symKey(b, 0, b.length), ev.n, kind === UPDATE ? ev.t ?? 0 : 0, nowUs)
    }
  }

  /** The protocol's client reaction (PROTOCOL.md): counts what a real client would repair instead of repairing it. */
  private event(kind: number, key: number, n: number, t: number, nowUs: number): void {
    const st = this.stats
    const last = this.last.get(key)
    if (kind === UPDATE) {
      st.updates++; this.meter.updates++
      if (t > 0 && !this.sampled) { this.meter.record(nowUs - t); this.sampled = this.opts.everyUpdate !== true }
      if (last !== undefined) {
        if (n <= last) { st.duplicates++; return }
        if (n > last + 1) { st.gaps++; st.missing += n - last - 1 }
      }
      this.last.set(key, n)
    } else if (kind === SNAP) {
      st.snapshots++
      this.last.set(key, n)
      if (this.firstSnap) { this.firstSnap = false; this.opts.onFirstSnapshot?.(performance.now() - this.startMs) }
    } else {
      st.markers++
      if (kind === STALE && (last === undefined || n > last)) this.last.set(key, n)
    }
  }

  private control(text: string, nowUs: number): void {
    let m: { type?: string; code?: string; count?: number; id?: unknown; state?: string }
    try { m = JSON.parse(text) as typeof m } catch { return }
    const st = this.stats
    switch (m.type) {
      case 'authenticated': this.authWaiter?.(true); this.authWaiter = null; break
      case 'error':
        st.errorsByCode[m.code ?? 'UNKNOWN'] = (st.errorsByCode[m.code ?? 'UNKNOWN'] ?? 0) + 1
        this.meter.errors++
        if (this.authWaiter) { this.authWaiter(false); this.authWaiter = null }
        break
      case 'slow': if (m.state === 'conflating') st.slowNotices++; break
      case 'trades_skipped': st.tradesSkipped += m.count ?? 0; break
      case 'pong': {
        st.pongs++
        const sent = typeof m.id === 'number' ? this.pingSent.get(m.id) : undefined
        if (sent !== undefined) { this.pingSent.delete(m.id as number); this.opts.onPong?.(nowUs - sent) }
        break
      }
    }
  }
}

/** Counts since `base` (a copy taken when measuring began): the metric names users threshold on. */
export function streamCounts(st: StreamStats, base?: StreamStats): Record<string, number> {
  const now = countsOf(st)
  if (!base) return now
  const before = countsOf(base)
  for (const k of Object.keys(now)) now[k] -= before[k] ?? 0
  return now
}

function countsOf(st: StreamStats): Record<string, number> {
  const c: Record<string, number> = {
    gaps: st.gaps, missing: st.missing, duplicates: st.duplicates, slow_notices: st.slowNotices, trades_skipped: st.tradesSkipped,
    snapshots: st.snapshots, errors: Object.values(st.errorsByCode).reduce((a, b) => a + b, 0),
  }
  for (const [k, v] of Object.entries(st.errorsByCode)) c[`error_${k}`] = v
  for (const [k, v] of Object.entries(st.closeCodes)) c[`close_${k}`] = v
  return c
}
