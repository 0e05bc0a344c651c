// Owns the live ticker page's behaviour: rows per symbol, add/remove, connection state, at most one render per frame.
// Must never talk to the server except through its feed worker (the client library), nor touch the DOM outside requestAnimationFrame.
import type { SymbolState } from '../tickcast-client.js'
import type { Batch, Notice, ToWorker } from './feed-protocol.js'
import { SymbolChart } from './symbol-chart.js'
import { COLUMNS, COL_BID, COL_ASK, COL_BS, COL_AS, COL_LAST, COL_CHG, COL_RATE, COL_ST, FLASH_COLUMNS, Row, STATUS_NAMES, formatPrice, formatSize } from './ticker-row.js'

const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AMD', 'AVGO', 'PLTR']
const DEFAULT_COUNT = 10
const RATE_WINDOW_MS = 1000
const FLASH_MS = 400
/**
 * Rows out of view are drawn only this many per frame (oldest change first): at 20,000 updates/s over 500 symbols,
 * touching every changed row each frame costs more style and layout than a frame has; the rows a person sees are
 * drawn every frame, the rest catch up within a few frames and are exact once they come into view.
 */
const OFFSCREEN_ROWS_PER_FRAME = 8

/** What the page offers the console (and tests) as `tickcast`: notices as events, totals, the latest state per symbol. */
class PageHandle {
  readonly stats = { eventsIn: 0, updates: 0, batches: 0 }
  private readonly handlers = new Map<string, Set<(v: unknown) => void>>()
  constructor(private readonly states: Map<string, SymbolState>) {}
  get(symbol: string): SymbolState | undefined { return this.states.get(symbol) }
  on(type: Notice['k'], h: (v: unknown) => void): () => void {
    let set = this.handlers.get(type)
    if (set === undefined) this.handlers.set(type, set = new Set())
    set.add(h)
    return () => { set.delete(h) }
  }
  emit(n: Notice): void {
    const set = this.handlers.get(n.k)
    if (set !== undefined) for (const h of set) h(n.k === 'state' ? n.state : n.k === 'latency' ? n.ms : n)
  }
}

class LivePage {
  /** the connection runs in a worker (feed-worker.ts); the page asks it for one coalesced batch per frame */
  private readonly worker: Worker
  /** the latest state of each subscribed symbol, as the worker last sent it */
  private readonly states = new Map<string, SymbolState>()
  private readonly handle = new PageHandle(this.states)
  /** the worker owes us a batch (one `pull` per frame, never two in flight) */
  private pullInFlight = false
  private readonly rows = new Map<string, Row>()
  /** symbols changed since their row was last drawn, oldest first (a Set keeps first-insertion order) */
  private readonly dirty = new Set<string>()
  private readonly byTr = new Map<Element, Row>()
  private readonly observer: IntersectionObserver
  private readonly tbody = document.getElementById('rows') as HTMLTableSectionElement
  private readonly message = document.getElementById('message') as HTMLElement
  private frameRequested = false
  private readonly chart = new SymbolChart(document.getElementById('chart') as HTMLCanvasElement, document.getElementById('chart-symbol') as HTMLElement)
  private selectedRow: Row | null = null
  /** flashed cells (row, column) and when to clear them, in flash order, hence expiry order; a FIFO */
  private readonly flashRows: Row[] = []
  private readonly flashCols: number[] = []
  private readonly flashUntil: number[] = []
  private flashHead = 0
  private frameNow = 0
  private totalUpdates = 0
  private totalAtWindow = 0

  constructor(format: 'json' | 'msgpack', token: string | undefined) {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/stream'
    this.worker = new Worker(new URL('./feed-worker.js', import.meta.url), { type: 'module' })
    this.worker.onmessage = (ev: MessageEvent<Batch>) => { this.onBatch(ev.data) }
    this.worker.onerror = (ev) => { this.say('the feed worker failed: ' + ev.message) }
    this.post({ op: 'init', url, format, token })
    this.render = this.render.bind(this)
    this.removeSymbol = this.removeSymbol.bind(this)
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const row = this.byTr.get(e.target)
        if (row === undefined) continue
        row.visible = e.isIntersecting
        // coming into view: draw it now, whatever it missed while out of view
        if (row.visible) this.markDirty(row.symbol)
      }
    })
    ;(document.getElementById('format') as HTMLElement).textContent = format
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
      const tr = target.closest('tr'), row = tr === null ? undefined : this.byTr.get(tr)
      if (row !== undefined) this.select(row)
    })
    setInterval(() => { this.tickRates() }, RATE_WINDOW_MS)
    ;(globalThis as { tickcast?: PageHandle }).tickcast = this.handle // for the console (and tests)
  }

  private post(m: ToWorker): void { this.worker.postMessage(m) }

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
    for (const s of b.rows) {
      if (!this.rows.has(s.symbol)) continue // removed meanwhile
      this.states.set(s.symbol, s)
      this.dirty.add(s.symbol)
    }
    const chart = this.chart
    if (b.chartSymbol !== null && b.chartSymbol === chart.symbol) {
      const shift = b.timeOrigin - performance.timeOrigin // the worker's clock → the page's
      const q = b.chartQuotes, t = b.chartTrades
      for (let i = 0; i < q.length; i += 3) chart.quote(q[i + 1], q[i + 2], q[i] + shift)
      for (let i = 0; i < t.length; i += 3) chart.trade(t[i + 1], t[i + 2], t[i] + shift)
    }
    for (const n of b.notices) this.notice(n)
    // the next pull goes with the next frame: one batch per frame, however fast the feed
    if (!this.frameRequested) { this.frameRequested = true; requestAnimationFrame(this.render) }
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
    const fresh = symbols.filter((s) => !this.rows.has(s))
    for (const s of fresh) {
      const row = new Row(s, this.removeSymbol)
      row.windowStart = performance.now()
      this.rows.set(s, row)
      this.byTr.set(row.tr, row)
      this.tbody.appendChild(row.tr)
      this.observer.observe(row.tr)
    }
    if (fresh.length > 0) this.post({ op: 'subscribe', symbols: fresh })
    this.updateCount()
    if (this.selectedRow === null && this.rows.size > 0) this.select(this.rows.values().next().value as Row)
  }

  private select(row: Row): void {
    if (this.selectedRow === row) return
    this.selectedRow?.tr.removeAttribute('aria-current')
    row.tr.setAttribute('aria-current', 'true') // the charted row
    this.selectedRow = row
    const s = this.states.get(row.symbol)
    this.post({ op: 'chart', symbol: row.symbol })
    this.chart.select(row.symbol, s?.bid ?? null, s?.ask ?? null, performance.now())
    if (!this.frameRequested) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  removeSymbol(symbol: string): void {
    this.post({ op: 'unsubscribe', symbols: [symbol] })
    this.dropRow(symbol)
  }

  private dropRow(symbol: string): void {
    const row = this.rows.get(symbol)
    if (!row) return
    this.observer.unobserve(row.tr)
    row.tr.remove()
    this.byTr.delete(row.tr)
    this.rows.delete(symbol); this.dirty.delete(symbol); this.states.delete(symbol)
    if (this.selectedRow === row) { // chart the first remaining symbol instead
      this.selectedRow = null; this.chart.clear(); this.post({ op: 'chart', symbol: null })
      const next = this.rows.values().next()
      if (next.done !== true) this.select(next.value)
    }
    this.updateCount()
  }

  private updateCount(): void { (document.getElementById('count') as HTMLElement).textContent = String(this.rows.size) }

  private say(text: string): void { this.message.textContent = text }

  private markDirty(symbol: string): void {
    this.dirty.add(symbol)
    if (!this.frameRequested) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  private tickRates(): void {
    const now = performance.now()
    for (const row of this.rows.values()) {
      // SymbolState.updates counts every update the worker applied, coalesced or not
      const total = this.states.get(row.symbol)?.updates ?? 0, updates = Math.max(0, total - row.updatesAtWindow)
      const rate = Math.round((updates * 1000) / Math.max(1, now - row.windowStart))
      if (rate !== row.rate || updates > 0) { row.rate = rate; this.dirty.add(row.symbol) }
      row.updatesAtWindow = total; row.windowStart = now
    }
    ;(document.getElementById('rate') as HTMLElement).textContent = String(this.totalUpdates - this.totalAtWindow)
    this.totalAtWindow = this.totalUpdates
    this.chart.scroll()
    if (!this.frameRequested && (this.dirty.size > 0 || this.chart.wantsFrame)) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  private render(now: number): void {
    this.frameRequested = false
    this.frameNow = now
    this.clearFlashes(now)
    // visible rows every frame; out-of-view ones a few per frame, oldest change first (deleting the entry being
    // visited is safe in a Set's iteration)
    let offscreen = OFFSCREEN_ROWS_PER_FRAME
    for (const sym of this.dirty) {
      const row = this.rows.get(sym)
      if (row === undefined) { this.dirty.delete(sym); continue }
      if (!row.visible) { if (offscreen === 0) continue; offscreen-- }
      this.dirty.delete(sym)
      const s = this.states.get(sym)
      if (s) this.drawRow(row, s)
    }
    if (this.chart.wantsFrame) this.chart.draw(now)
    this.pull()
    if (this.flashHead < this.flashRows.length || this.dirty.size > 0 || this.chart.wantsFrame) { this.frameRequested = true; requestAnimationFrame(this.render) }
  }

  private clearFlashes(now: number): void {
    let i = this.flashHead
    const rows = this.flashRows, cols = this.flashCols, until = this.flashUntil
    while (i < rows.length && until[i] <= now) {
      // a cell flashed again later has a later entry: only its latest entry clears it
      const row = rows[i], col = cols[i]
      if (row.flashUntil[col] === until[i]) row.cells[col].className = COLUMNS[col]
      i++
    }
    if (i === rows.length) { rows.length = 0; cols.length = 0; until.length = 0; i = 0 }
    else if (i > 4096) { rows.splice(0, i); cols.splice(0, i); until.splice(0, i); i = 0 } // bounded under constant updates
    this.flashHead = i
  }

  private drawRow(row: Row, s: SymbolState): void {
    const mid = s.bid !== null && s.ask !== null ? (s.bid + s.ask) / 2 : null
    const ref = s.last ?? mid
    if (Number.isNaN(row.first) && ref !== null && ref > 0) row.first = ref
    const chg = ref !== null && row.first > 0 ? ((ref - row.first) / row.first) * 100 : NaN
    // stale: the values may be out of date; partial: the venue's book may hold orders ours lacks (the quote is ours)
    const cls = s.n < 0 ? 'wait' : s.stale !== null ? 'stale' : s.book === 'partial' ? 'partial' : ''
    if (cls !== row.cls) { row.cls = cls; row.tr.className = cls }
    // the tooltip says where the row comes from (the server's feed) and how far to trust a partial book's quotes;
    // rebuilt only when one of its inputs changed, so a steady row allocates no string per frame
    if (s.feed !== row.tipFeed || s.book !== row.tipBook || s.bookReason !== row.tipReason) {
      row.tipFeed = s.feed; row.tipBook = s.book; row.tipReason = s.bookReason
      const tip = (s.feed !== null ? 'feed ' + s.feed : '') + (s.book === 'partial' ? (s.feed !== null ? ': ' : '') + 'order book partial (' + (s.bookReason ?? 'snapshot') + ')' : '')
      if (tip !== row.tip) { row.tip = tip; row.tr.title = tip }
    }
    this.cell(row, COL_BID, formatPrice(s.bid))
    this.cell(row, COL_ASK, formatPrice(s.ask))
    this.cell(row, COL_BS, formatSize(s.bidSize))
    this.cell(row, COL_AS, formatSize(s.askSize))
    this.cell(row, COL_LAST, formatPrice(s.last))
    const chgText = Number.isFinite(chg) ? (chg > 0 ? '+' : '') + chg.toFixed(2) + '%' : '–'
    if (this.cell(row, COL_CHG, chgText)) row.cells[COL_CHG].className = 'c-chg' + (chg > 0 ? ' pos' : chg < 0 ? ' neg' : '')
    this.cell(row, COL_RATE, String(row.rate))
    const st = s.status === null ? '–' : STATUS_NAMES[s.status] ?? s.status
    if (this.cell(row, COL_ST, st)) row.cells[COL_ST].className = 'c-st' + (s.status === 'H' ? ' halted' : '')
  }

  /** Writes a cell when its text changed; price cells flash green/red by direction. Returns whether it changed. */
  private cell(row: Row, col: number, text: string): boolean {
    const prev = row.drawn[col]
    if (prev === text) return false
    row.drawn[col] = text
    const td = row.cells[col]
    td.textContent = text
    if (prev !== '' && prev !== '–' && FLASH_COLUMNS.includes(col)) {
      const up = Number(text) >= Number(prev), until = this.frameNow + FLASH_MS
      td.className = COLUMNS[col] + (up ? ' up' : ' dn')
      row.flashUntil[col] = until
      this.flashRows.push(row); this.flashCols.push(col); this.flashUntil.push(until)
    }
    return true
  }
}

function boot(): void {
  const q = new URLSearchParams(location.search)
  const format = q.get('format') === 'msgpack' ? 'msgpack' : 'json'
  // a credential rides in the fragment (#token=...): browsers never send it to a server, so it reaches no log
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined
  const page = new LivePage(format, token)
  const listed = q.get('symbols')
  if (listed !== null) { page.start(listed.split(',').filter((s) => s.length > 0)); return }
  // default: the first symbols the server knows (busiest first with the simulator), else a fixed list
  fetch('/v1/symbols', token ? { headers: { authorization: 'Bearer ' + token } } : {}).then((r) => r.json() as Promise<string[]>).then(
    (names) => page.start(names.length > 0 ? names.slice(0, DEFAULT_COUNT) : DEFAULT_SYMBOLS),
    () => page.start(DEFAULT_SYMBOLS),
  )
}

if (typeof document !== 'undefined') boot()
