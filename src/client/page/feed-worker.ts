// Owns the live page's connection, run in a dedicated Worker: the client library, and coalescing its updates into one batch per frame.
// Must never send the page more than one batch per `pull` (the page pulls once per frame), nor drop an update's effect on a row.
import { TickcastClient } from '../tickcast-client.js'
import type { SymbolState } from '../tickcast-client.js'
import { F_AS, F_ASK, F_BID, F_BS, F_ID, F_LAST, F_N, F_UPDATES, ROW_FIELDS } from './feed-protocol.js'
import type { Batch, Notice, RowText, ToWorker } from './feed-protocol.js'

/*
 * Why a worker: at 20,000 updates/s the browser's cost per WebSocket message (the event, JSON or msgpack decoding,
 * the client's per-event work) is most of a frame on its own. Here it runs beside the page's main thread, which
 * receives one message per frame instead of thousands of socket messages per second, and that message is typed
 * arrays handed over (transferred), not ~300 symbol objects the main thread would have to deserialize (bench:page).
 */

interface WorkerScope {
  postMessage(m: Batch, transfer: Transferable[]): void
  onmessage: ((ev: { data: ToWorker }) => void) | null
}
const scope = globalThis as unknown as WorkerScope

let client: TickcastClient | null = null
/** symbols changed since the last batch (a Set: each row goes once per batch however often it changed) */
const dirty = new Set<string>()
/** symbol → id: the index of its name in the list the page learns through batches' `names` */
const ids = new Map<string, number>()
let namesSent = 0
const names: string[] = []
/** per id, the text fields as last sent (a batch carries them only when one changed) */
const sentText: RowText[] = []
let notices: Notice[] = []
let chartSymbol: string | null = null
/**
 * Bounds for what waits for a pull: a page in a background tab gets no animation frames, so it pulls nothing for as
 * long as it stays hidden; the oldest samples and notices go first (the chart re-fills within its 30 s window).
 */
const MAX_SAMPLES = 3 * 4096, MAX_NOTICES = 256
/** chart samples since the last batch: (time, a, b) triples, preallocated (recording allocates nothing) */
const chartQuotes = new Float64Array(MAX_SAMPLES), chartTrades = new Float64Array(MAX_SAMPLES)
let quotesLen = 0, tradesLen = 0
let updates = 0
/** the page asked for a batch and has not had it: the next change is sent at the end of its task */
let pulled = false
let flushQueued = false

function changed(symbol: string): void {
  dirty.add(symbol); updates++
  queueFlush()
}

function notice(n: Notice): void {
  if (notices.length >= MAX_NOTICES) notices.splice(0, MAX_NOTICES / 2)
  notices.push(n); queueFlush()
}

/** Appends a triple at `len`; when full, the older half goes. Returns the new length. */
function sample(into: Float64Array, len: number, a: number, b: number): number {
  if (len + 3 > into.length) { into.copyWithin(0, MAX_SAMPLES / 2, len); len -= MAX_SAMPLES / 2 }
  into[len] = performance.now(); into[len + 1] = a; into[len + 2] = b
  return len + 3
}

/** Sends once the current task (one socket message, with all its events) is done, if the page is waiting. */
function queueFlush(): void {
  if (!pulled || flushQueued) return
  flushQueued = true
  queueMicrotask(flush)
}

const num = (v: number | null): number => (v === null ? NaN : v)

function idOf(symbol: string): number {
  let id = ids.get(symbol)
  if (id === undefined) { ids.set(symbol, id = names.length); names.push(symbol); sentText.push({ id, status: null, stale: null, book: null, bookReason: null, feed: null }) }
  return id
}

function flush(): void {
  flushQueued = false
  if (!pulled || client === null || (dirty.size === 0 && notices.length === 0 && quotesLen === 0 && tradesLen === 0)) return
  pulled = false
  const rows = new Float64Array(dirty.size * ROW_FIELDS), texts: RowText[] = []
  let o = 0
  for (const sym of dirty) {
    const s: SymbolState | undefined = client.get(sym)
    if (s === undefined) continue
    const id = idOf(sym), t = sentText[id]
    rows[o + F_ID] = id; rows[o + F_N] = s.n; rows[o + F_BID] = num(s.bid); rows[o + F_ASK] = num(s.ask)
    rows[o + F_BS] = num(s.bidSize); rows[o + F_AS] = num(s.askSize); rows[o + F_LAST] = num(s.last); rows[o + F_UPDATES] = s.updates
    o += ROW_FIELDS
    if (t.status !== s.status || t.stale !== s.stale || t.book !== s.book || t.bookReason !== s.bookReason || t.feed !== s.feed) {
      t.status = s.status; t.stale = s.stale; t.book = s.book; t.bookReason = s.bookReason; t.feed = s.feed
      texts.push({ ...t })
    }
  }
  dirty.clear()
  // copies of the filled parts: these are transferred (moved, not cloned) to the page, the recording arrays stay here
  const q = chartQuotes.slice(0, quotesLen), tr = chartTrades.slice(0, tradesLen)
  const rowsOut = o === rows.length ? rows : rows.slice(0, o)
  scope.postMessage({ rows: rowsOut, names: names.slice(namesSent), firstId: namesSent, texts, notices, chartSymbol, chartQuotes: q, chartTrades: tr,
    eventsIn: client.stats.eventsIn, updates, timeOrigin: performance.timeOrigin, node: client.node }, [rowsOut.buffer, q.buffer, tr.buffer])
  namesSent = names.length
  notices = []; quotesLen = 0; tradesLen = 0
}

function start(url: string, format: 'json' | 'msgpack', token: string | undefined, maxHz: number | undefined): void {
  const c = client = new TickcastClient({ url, format, token, maxHz, reconnect: { minMs: 250, maxMs: 5000 }, pingIntervalMs: 2000 })
  c.on('quote', (u) => {
    if (u.symbol === chartSymbol) quotesLen = sample(chartQuotes, quotesLen, u.bid, u.ask)
    changed(u.symbol)
  })
  c.on('trade', (u) => {
    if (u.symbol === chartSymbol) tradesLen = sample(chartTrades, tradesLen, u.price, u.size)
    changed(u.symbol)
  })
  c.on('status', (u) => { changed(u.symbol) })
  c.on('snapshot', (s) => { changed(s.symbol) })
  c.on('state', (state) => { notice({ k: 'state', state }) })
  c.on('latency', (ms) => { notice({ k: 'latency', ms }) })
  c.on('error', (e) => { notice({ k: 'error', code: e.code, message: e.message, symbol: e.symbol }) })
  c.on('gap', (g) => { notice({ k: 'gap', symbol: g.symbol }) })
  c.on('book', (b) => { dirty.add(b.symbol); notice({ k: 'book', symbol: b.symbol, state: b.state, reason: b.reason }) })
  c.on('stale', (st) => { dirty.add(st.symbol); notice({ k: 'stale', symbol: st.symbol, reason: st.reason }) })
  c.connect()
}

scope.onmessage = (ev) => {
  const m = ev.data
  switch (m.op) {
    case 'init': if (client === null) start(m.url, m.format, m.token, m.maxHz); break
    // ids in subscription order, so the page learns each name once, with its first batch
    case 'subscribe': for (const s of m.symbols) idOf(s); client?.subscribe(m.symbols); break
    case 'unsubscribe': client?.unsubscribe(m.symbols); for (const s of m.symbols) dirty.delete(s); break
    case 'chart': chartSymbol = m.symbol; quotesLen = 0; tradesLen = 0; break
    case 'pull': pulled = true; flush(); break
  }
}
