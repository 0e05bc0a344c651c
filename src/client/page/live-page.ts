// Owns the live ticker page's behaviour: rows per symbol, add/remove, connection state, at most one render per frame.
// Must never talk to the server except through its feed worker (the client library), nor touch the DOM outside requestAnimationFrame.
import { newSymbolState } from '../symbol-state.js'
import type { SymbolState } from '../tickcast-client.js'
import { F_AS, F_ASK, F_BID, F_BS, F_ID, F_LAST, F_N, F_UPDATES, ROW_FIELDS } from './feed-protocol.js'
import type { Batch, Notice, ToWorker } from './feed-protocol.js'
import { GridCanvas } from './grid-canvas.js'
import { PageHandle } from './page-handle.js'
import { RowPainter } from './row-painter.js'
import { RowWindow } from './row-window.js'
import { SymbolChart } from './symbol-chart.js'
import { RowData } from './ticker-row.js'
import type { Row } from './ticker-row.js'

const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AMD', 'AVGO', 'PLTR']
const DEFAULT_COUNT = 10
const RATE_WINDOW_MS = 1000
/**
 * A row's numbers are redrawn at most this often (10 per second: faster than a person reads digits), the rows out of
 * phase, and the chart at most once per its 50 ms bucket: each frame does a share of the work. On a loaded machine a
 * frame's work is preempted many times over (a trace of bench:page at load average 14: 6 ms of main-thread CPU took
 * 190 ms of wall clock), so short frames, not fewer long ones, keep the frame rate.
 */
const ROW_REDRAW_MS = 100, CHART_REDRAW_MS = 50
/**
 * The rows' own cells (transparent text over the canvas, for screen readers and copying) are rewritten at most this
 * often, one row looked at per frame: a frame then re-lays out (and re-layerizes) one row now and then rather than all
 * of them at once (a trace of bench:page: 12 ms of main-thread CPU for ~25 rows, 1 ms for one).
 */
const ROW_TEXT_MS = 2000, TEXT_ROWS_PER_FRAME = 1
/** NaN in a batch is an absent value (null in SymbolState) */
const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v)

/*
 * Where the time goes at 20,000 updates/s: the socket's messages, their decoding and the client's per-event work run
 * in the feed worker (feed-worker.ts); the page gets one batch per frame (typed arrays: the latest numbers of each
 * changed symbol), only the rows in view exist (row-window.ts), and their numbers are drawn on a canvas behind them
 * (grid-canvas.ts), so a frame costs a fillText per changed cell and no style, layout or text shaping of the table.
 */
class LivePage {
  private readonly worker: Worker
  /** the latest state of each subscribed symbol, as the worker last sent it */
  private readonly states = new Map<string, SymbolState>()
  /** every symbol the worker named, by its id (kept after removal: the worker keeps the id and what it last sent) */
  private readonly byId: SymbolState[] = []
  private readonly data = new Map<string, RowData>()
  private readonly handle = new PageHandle(this.states)
  /** the worker owes us a batch (one `pull` per frame, never two in flight) */
  private pullInFlight = false
  /** the node serving the page (shown in the header: which node of a deployment this is, behind a load balancer) */
  private node = ''
  /** symbols changed since their row was last drawn (only those with a row: the others are drawn when shown) */
  private readonly dirty = new Set<string>()
  private readonly tbody = document.getElementById('rows') as HTMLTableSectionElement
  private readonly window: RowWindow
  private readonly grid = new GridCanvas(this.tbody, document.querySelector('thead tr') as HTMLTableRowElement)
  private readonly painter = new RowPainter(this.grid)
  private readonly message = document.getElementById('message') as HTMLElement
  private frameRequested = false
  private readonly chart = new SymbolChart(document.getElementById('chart') as HTMLCanvasElement, document.getElementById('chart-symbol') as HTMLElement)
  private selected: string | null = null
  private totalUpdates = 0
  private totalAtWindow = 0
  /** the next row (of the window) whose cells' text is looked at */
  private textCursor = 0
  /** frame time the chart was last drawn (CHART_REDRAW_MS) */
  private chartAt = -Infinity

  constructor(format: 'json' | 'msgpack', token: string | undefined, maxHz: number | undefined) {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/stream'
    this.worker = new Worker(new URL('./feed-worker.js', import.meta.url), { type: 'module' })
    this.worker.onmessage = (ev: MessageEvent<Batch>) => { this.onBatch(ev.data) }
    this.worker.onerror = (ev) => { this.say('the feed worker failed: ' + ev.message) }
    this.post({ op: 'init', url, format, token, maxHz })
    this.render = this.render.bind(this)
    this.window = new RowWindow(this.tbody, (symbol) => { this.removeSymbol(symbol) })
    // which rows are in view changes with scrolling and resizing: the next frame re-places them
    addEventListener('scroll', () => { this.frame() }, { passive: true })
    addEventListener('resize', () => { this.frame() })
    // a throttled page says so: its rows and chart show coalesced values, not every update
    ;(document.getElementById('format') as HTMLElement).textContent = format + (maxHz !== undefined ? ' · ≤ ' + maxHz + '/s per symbol' : '')
    ;(document.getElementById('add') as HTMLFormElement).addEventListener('submit', (ev) => {
      ev.preventDefault()
      const input = document.getElementById('symbol-input') as HTMLInputElement
      this.addSymbols(input.value.toUpperCase().split(/[\s,;]+/).filter((s) => s.length > 0))
      input.value = ''
    })
    // a click on a row (not its remove button) charts that symbol
    this.tbody.addEventListener('click', (ev) => {
      const target = ev.target as Element
      if (target.closest('button') !== null) return
      const tr = target.closest('tr'), row = tr === null ? undefined : this.window.byTr.get(tr)
      if (row !== undefined && row.symbol !== '') this.select(row.symbol)
    })
    setInterval(() => { this.tickRates() }, RATE_WINDOW_MS)
    ;(globalThis as { tickcast?: PageHandle }).tickcast = this.handle // for the console (and tests)
  }

  private post(m: ToWorker): void { this.worker.postMessage(m) }

  /** Redraw every row in view (the canvas was cleared) and rewrite their cells' text. */
  private repaintAll(): void { for (const row of this.window.shown) { row.repaint(); row.textAt = -Infinity; this.dirty.add(row.symbol) } }

  private frame(): void { if (!this.frameRequested) { this.frameRequested = true; requestAnimationFrame(this.render) } }

  start(symbols: readonly string[]): void {
    this.addSymbols(symbols)
    this.pull()
  }

  private pull(): void {
    if (this.pullInFlight) return
    this.pullInFlight = true
    this.post({ op: 'pull' })
  }

  /** One frame's worth of changes: rows marked for the next frame, chart samples recorded, notices shown. */
  private onBatch(b: Batch): void {
    this.pullInFlight = false
    const stats = this.handle.stats
    stats.eventsIn = b.eventsIn; stats.updates = this.totalUpdates = b.updates; stats.batches++
    for (let i = 0; i < b.names.length; i++) {
      this.byId[b.firstId + i] = newSymbolState(b.names[i])
    }
    const r = b.rows
    for (let o = 0; o < r.length; o += ROW_FIELDS) {
      const s = this.byId[r[o + F_ID]]
      if (!this.data.has(s.symbol)) continue // removed meanwhile
      s.n = r[o + F_N]; s.bid = orNull(r[o + F_BID]); s.ask = orNull(r[o + F_ASK]); s.bidSize = orNull(r[o + F_BS])
      s.askSize = orNull(r[o + F_AS]); s.last = orNull(r[o + F_LAST]); s.updates = r[o + F_UPDATES]
      if (!this.states.has(s.symbol)) this.states.set(s.symbol, s)
      if (this.window.bySymbol.has(s.symbol)) this.dirty.add(s.symbol)
    }
    for (const t of b.texts) {
      const s = this.byId[t.id]
      s.status = t.status; s.stale = t.stale; s.book = t.book; s.bookReason = t.bookReason; s.feed = t.feed
      if (this.window.bySymbol.has(s.symbol)) this.dirty.add(s.symbol)
    }
    const chart = this.chart
    if (b.chartSymbol !== null && b.chartSymbol === chart.symbol) {
      const shift = b.timeOrigin - performance.timeOrigin // the worker's clock → the page's
      const q = b.chartQuotes, t = b.chartTrades
      for (let i = 0; i < q.length; i += 3) chart.quote(q[i + 1], q[i + 2], q[i] + shift)
      for (let i = 0; i < t.length; i += 3) chart.trade(t[i + 1], t[i + 2], t[i] + shift)
    }
    for (const n of b.notices) this.notice(n)
    if (b.node !== this.node) { this.node = b.node; (document.getElementById('node') as HTMLElement).textContent = b.node || '–' }
    this.frame() // the next pull goes with it: one batch per frame, however fast the feed
  }

  private notice(n: Notice): void {
    switch (n.k) {
      case 'state': {
        const el = document.getElementById('state') as HTMLElement
        el.textContent = n.state; el.className = 'pill ' + n.state
        if (n.state === 'open') this.say('')
        break
      }
      case 'latency': (document.getElementById('latency') as HTMLElement).textContent = n.ms.toFixed(1) + ' ms'; break
      case 'error':
        if (n.symbol !== null && (n.code === 'UNKNOWN_SYMBOL' || n.code === 'BAD_SYMBOL')) this.dropRow(n.symbol)
        this.say(n.symbol ? n.code + ': ' + n.symbol : n.message)
        break
      case 'gap': this.say('gap on ' + n.symbol + ': resynchronising'); break
      case 'book': this.say(n.state === 'synced' ? n.symbol + ' order book is complete again' : n.symbol + ' order book is partial (' + (n.reason ?? '?') + '): quotes may miss orders'); break
      case 'stale': this.say(n.reason === null ? n.symbol + ' is complete again' : n.symbol + ' may be missing updates (' + n.reason + ')'); break
    }
    this.handle.emit(n)
  }

  addSymbols(symbols: readonly string[]): void {
    const fresh = symbols.filter((s) => !this.data.has(s))
    const now = performance.now()
    for (const s of fresh) { this.data.set(s, new RowData(s, now)); this.window.add(s) }
    if (fresh.length > 0) this.post({ op: 'subscribe', symbols: fresh })
    this.updateCount()
    if (this.selected === null && this.window.size > 0) this.select(this.window.symbolAt(0) as string)
    this.frame()
  }

  private select(symbol: string): void {
    if (this.selected === symbol) return
    this.window.bySymbol.get(this.selected ?? '')?.tr.removeAttribute('aria-current')
    this.window.bySymbol.get(symbol)?.tr.setAttribute('aria-current', 'true') // the charted row
    this.selected = symbol
    const s = this.states.get(symbol)
    this.post({ op: 'chart', symbol })
    this.chart.select(symbol, s?.bid ?? null, s?.ask ?? null, performance.now())
    this.frame()
  }

  removeSymbol(symbol: string): void {
    this.post({ op: 'unsubscribe', symbols: [symbol] })
    this.dropRow(symbol)
  }

  private dropRow(symbol: string): void {
    if (!this.data.delete(symbol)) return
    this.window.remove(symbol)
    this.dirty.delete(symbol); this.states.delete(symbol)
    if (this.selected === symbol) { // chart the first remaining symbol instead
      this.selected = null; this.chart.clear(); this.post({ op: 'chart', symbol: null })
      const next = this.window.symbolAt(0)
      if (next !== undefined) this.select(next)
    }
    this.updateCount()
    this.frame()
  }

  private updateCount(): void { (document.getElementById('count') as HTMLElement).textContent = String(this.window.size) }

  private say(text: string): void { this.message.textContent = text }

  private tickRates(): void {
    const now = performance.now()
    for (const d of this.data.values()) {
      // SymbolState.updates counts every update the worker applied, coalesced or not
      const total = this.states.get(d.symbol)?.updates ?? 0, updates = Math.max(0, total - d.updatesAtWindow)
      const rate = Math.round((updates * 1000) / Math.max(1, now - d.windowStart))
      if ((rate !== d.rate || updates > 0) && this.window.bySymbol.has(d.symbol)) this.dirty.add(d.symbol)
      d.rate = rate; d.updatesAtWindow = total; d.windowStart = now
    }
    ;(document.getElementById('rate') as HTMLElement).textContent = String(this.totalUpdates - this.totalAtWindow)
    this.totalAtWindow = this.totalUpdates
    this.chart.scroll()
    if (this.dirty.size > 0 || this.chart.wantsFrame) this.frame()
  }

  private render(now: number): void {
    this.frameRequested = false
    this.grid.measure() // reads layout (after a resize only): before this frame's first write
    // rows that now show another symbol (scrolled, resized, added, removed) are drawn in full
    this.window.update((row) => { this.placed(row) })
    if (this.grid.place(this.window.pad, this.window.count)) this.repaintAll()
    this.painter.clearFlashes(now)
    // (deleting the entry being visited is safe in a Set's iteration)
    for (const sym of this.dirty) {
      const row = this.window.bySymbol.get(sym), s = this.states.get(sym), d = this.data.get(sym)
      if (row === undefined || s === undefined || d === undefined) { this.dirty.delete(sym); continue }
      if (now - row.drawnAt < ROW_REDRAW_MS && row.cls !== 'wait') continue // drawn lately: a later frame has it
      this.painter.draw(row, d, s, row.textAt === -Infinity)
      // spread the rows' redraws over the frames of a ROW_REDRAW_MS (by slot) rather than all in one
      row.drawnAt = row.drawnAt === -Infinity ? now - (row.slot % 6) * (ROW_REDRAW_MS / 6) : now
      this.dirty.delete(sym)
    }
    // the cells' own text, round the rows in view (also after the feed went quiet: what is drawn ends up there)
    const shown = this.window.shown
    for (let k = 0; k < TEXT_ROWS_PER_FRAME && k < shown.length; k++) {
      const row = shown[this.textCursor++ % shown.length]
      if (now - row.textAt >= ROW_TEXT_MS) this.painter.writeText(row)
    }
    if (this.chart.wantsFrame && now - this.chartAt >= CHART_REDRAW_MS) { this.chartAt = now; this.chart.draw(now) }
    this.pull()
    if (this.painter.flashing || this.chart.wantsFrame || this.dirty.size > 0) this.frame()
  }

  private placed(row: Row): void {
    if (row.symbol === this.selected) row.tr.setAttribute('aria-current', 'true')
    else row.tr.removeAttribute('aria-current')
    this.dirty.add(row.symbol)
  }
}

function boot(): void {
  const q = new URLSearchParams(location.search)
  const format = q.get('format') === 'msgpack' ? 'msgpack' : 'json'
  // a credential rides in the fragment (#token=...): browsers never send it to a server, so it reaches no log
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined
  // ?maxHz=N: the server sends each symbol at most N times a second (coalesced: a view, not a feed checker)
  const maxHz = Number(q.get('maxHz') ?? NaN)
  const page = new LivePage(format, token, maxHz > 0 ? maxHz : undefined)
  const listed = q.get('symbols')
  if (listed !== null) { page.start(listed.split(',').filter((s) => s.length > 0)); return }
  // default: the first symbols the server knows (busiest first with the simulator), else a fixed list
  fetch('/v1/symbols', token ? { headers: { authorization: 'Bearer ' + token } } : {}).then((r) => r.json() as Promise<string[]>).then(
    (names) => page.start(names.length > 0 ? names.slice(0, DEFAULT_COUNT) : DEFAULT_SYMBOLS),
    () => page.start(DEFAULT_SYMBOLS),
  )
}

if (typeof document !== 'undefined') boot()
