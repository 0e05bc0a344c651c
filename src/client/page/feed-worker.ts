// Owns the live page's connection, run in a dedicated Worker: the client library, and coalescing its updates into one batch per frame.
// Must never send the page more than one batch per `pull` (the page pulls once per frame), nor drop an update's effect on a row.
import { TickcastClient } from '../tickcast-client.js'
import type { SymbolState } from '../tickcast-client.js'
import type { Batch, Notice, ToWorker } from './feed-protocol.js'

/*
 * Why a worker: at 20,000 updates/s the browser's cost per WebSocket message (the event, JSON or msgpack decoding,
 * the client's per-event work) is most of a frame on its own. Here it runs beside the page's main thread, which
 * receives one structured-clone message per frame instead of thousands of socket messages per second.
 */

interface WorkerScope {
  postMessage(m: Batch): void
  onmessage: ((ev: { data: ToWorker }) => void) | null
}
const scope = globalThis as unknown as WorkerScope

let client: TickcastClient | null = null
/** symbols changed since the last batch (a Set: each row goes once per batch however often it changed) */
const dirty = new Set<string>()
let notices: Notice[] = []
let chartSymbol: string | null = null
let chartQuotes: number[] = []
let chartTrades: number[] = []
let updates = 0
/**
 * Bounds for what waits for a pull: a page in a background tab gets no animation frames, so it pulls nothing for as
 * long as it stays hidden; the oldest samples and notices go first (the chart re-fills within its 30 s window).
 */
const MAX_SAMPLES = 3 * 4096, MAX_NOTICES = 256
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

function sample(into: number[], a: number, b: number): void {
  if (into.length >= MAX_SAMPLES) into.splice(0, MAX_SAMPLES / 2)
  into.push(performance.now(), a, b)
}

/** Sends once the current task (one socket message, with all its events) is done, if the page is waiting. */
function queueFlush(): void {
  if (!pulled || flushQueued) return
  flushQueued = true
  queueMicrotask(flush)
}

function flush(): void {
  flushQueued = false
  if (!pulled || client === null || (dirty.size === 0 && notices.length === 0 && chartQuotes.length === 0 && chartTrades.length === 0)) return
  pulled = false
  const rows: SymbolState[] = []
  for (const s of dirty) { const st = client.get(s); if (st !== undefined) rows.push(st) }
  dirty.clear()
  scope.postMessage({ rows, notices, chartSymbol, chartQuotes, chartTrades, eventsIn: client.stats.eventsIn, updates, timeOrigin: performance.timeOrigin, node: client.node })
  // fresh arrays rather than truncating: postMessage has cloned these, and a batch per frame is cheap garbage
  notices = []; chartQuotes = []; chartTrades = []
}

function start(url: string, format: 'json' | 'msgpack', token: string | undefined, maxHz: number | undefined): void {
  const c = client = new TickcastClient({ url, format, token, maxHz, reconnect: { minMs: 250, maxMs: 5000 }, pingIntervalMs: 2000 })
  c.on('quote', (u) => {
    if (u.symbol === chartSymbol) sample(chartQuotes, u.bid, u.ask)
    changed(u.symbol)
  })
  c.on('trade', (u) => {
    if (u.symbol === chartSymbol) sample(chartTrades, u.price, u.size)
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
    case 'subscribe': client?.subscribe(m.symbols); break
    case 'unsubscribe': client?.unsubscribe(m.symbols); for (const s of m.symbols) dirty.delete(s); break
    case 'chart': chartSymbol = m.symbol; chartQuotes = []; chartTrades = []; break
    case 'pull': pulled = true; flush(); break
  }
}
